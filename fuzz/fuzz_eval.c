/*
 * fuzz_eval.c - libFuzzer target for the files winnow reads back:
 * clusters.jsonl, ground truth and universe files of `winnow eval`
 * (lib/cluster/eval.c). winnow persists no index or signature file yet; the
 * signature, band-key and shingle-set spill files of lib/dedup/engine.c are
 * written and read back within one run by the same process, never taken
 * from outside, so they have no target of their own.
 *
 * Input: one configuration byte, then up to three files separated by the
 * line "====": the truth, the predicted clusters and, when bit 0 is set,
 * the universe. Bit 1 makes allocation number (byte >> 2) fail. What must
 * hold, beyond no crash, no hang and no leak:
 *  - the result is WN_OK, WN_EPARSE with the file and a line named, or
 *    WN_ENOMEM when an allocation was made to fail;
 *  - on success the counts are consistent: tp, fp and fn are at most the
 *    pairs of the items, precision, recall and F1 lie in [0, 1] and the
 *    adjusted Rand index is at most 1 (NaN only for labelled pairs).
 */
#include "fuzz_util.h"

#include "common/common.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_input in = {data, size};
    uint8_t cfg = fz_byte(&in);
    struct fz_input truth = fz_split(&in, "\n====\n");
    struct fz_input pred = fz_split(&in, "\n====\n");
    struct fz_input uni = in;
    struct fz_file ft, fp, fu;
    fz_file_open(&ft, truth.p, truth.n);
    fz_file_open(&fp, pred.p, pred.n);
    fz_file_open(&fu, uni.p, uni.n);
    const char *upath = cfg & 1 ? fu.path : NULL;
    long fail_at = cfg & 2 ? (long)(cfg >> 2) : -1;

    struct wn_eval_result r;
    memset(&r, 0xa5, sizeof(r));
    uint64_t line = 0;
    char file[4096] = "";
    wn_alloc_fail_after(fail_at);
    int rc =
        wn_eval_files(fp.path, ft.path, upath, &r, &line, file, sizeof(file));
    wn_alloc_fail_after(-1);
    if (rc == WN_OK) {
        double pairs = (double)r.items * ((double)r.items - 1) / 2;
        FZ_CHECK((double)r.tp <= pairs || r.pairs_mode);
        FZ_CHECK(r.pairs_mode ||
                 ((double)r.fp <= pairs && (double)r.fn <= pairs));
        FZ_CHECK(r.precision >= 0 && r.precision <= 1);
        FZ_CHECK(r.recall >= 0 && r.recall <= 1);
        FZ_CHECK(r.f1 >= 0 && r.f1 <= 1);
        if (r.pairs_mode)
            FZ_CHECK(isnan(r.ari));
        else
            FZ_CHECK(isfinite(r.ari) && r.ari <= 1 + 1e-9);
    } else {
        FZ_CHECK(rc == WN_EPARSE || (rc == WN_ENOMEM && fail_at >= 0));
        FZ_CHECK(strcmp(file, fp.path) == 0 || strcmp(file, ft.path) == 0 ||
                 (upath && strcmp(file, upath) == 0));
        if (rc == WN_EPARSE)
            FZ_CHECK(line >= 1);
    }
    fz_file_close(&ft);
    fz_file_close(&fp);
    fz_file_close(&fu);
    return 0;
}
