/*
 * test_wire.c - what a rank sends rank 0 (lib/dist), without MPI: the
 * compact header of a record's entry (wire.c): every header read back is
 * the one written, in a unit's order, whatever its fields; an accepted
 * JSONL record's header is small; a header cut short or malformed is
 * refused, never read past its end. A sketch's slim form (slim.c): what
 * rank 0 rebuilds decodes to the sketch's counts and empty flag, with the
 * sections a rank keeps as zeros and those it sends as they were, for
 * every kind of sketcher; a slim form cut short never decodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dist/slim.h"
#include "dist/wire.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A value of any size: zero, small, or up to 64 bits. */
static uint64_t any(void)
{
    switch (rnd() % 4) {
    case 0:
        return 0;
    case 1:
        return rnd() % 300;
    case 2:
        return rnd() >> (rnd() % 64);
    default:
        return rnd() % 2 ? UINT64_MAX - rnd() % 3 : rnd();
    }
}

static void assert_same(const struct wn_wire_record *a,
                        const struct wn_wire_record *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->sys_errno, b->sys_errno);
    assert_int_equal(a->flags, b->flags);
    assert_true(a->error_offset == b->error_offset);
    assert_true(a->offset == b->offset);
    assert_true(a->line == b->line);
    assert_true(a->raw_len == b->raw_len);
    assert_true(a->raw_sent == b->raw_sent);
    assert_true(a->id_len == b->id_len);
    assert_true(a->text_len == b->text_len);
    assert_true(a->source_len == b->source_len);
    assert_true(a->blob_len == b->blob_len);
}

/* Units of random records, written one after another into one buffer and
 * read back with a context of their own. */
static void test_round_trip(void **state)
{
    (void)state;
    enum { N = 20000 };
    struct wn_wire_record *w = calloc(N, sizeof(*w));
    assert_non_null(w);
    struct wn_buf b = {0};
    struct wn_wire_ctx put = {0, 0};
    for (size_t i = 0; i < N; i++) {
        if (i % 1000 == 0)
            put = (struct wn_wire_ctx){0, 0}; /* a new unit */
        w[i] = (struct wn_wire_record){
            .kind = (int32_t)(rnd() % 3),
            .status = rnd() % 4 ? 0 : -(int32_t)(rnd() % 12),
            .sys_errno = rnd() % 8 ? 0 : (int32_t)(rnd() % 200),
            .flags = (uint32_t)(rnd() % 4),
            .error_offset = rnd() % 4 ? 0 : any(),
            .raw_len = any(),
            .raw_sent = any(),
            .id_len = any(),
            .text_len = any(),
            .source_len = any(),
            .blob_len = any(),
        };
        /* Mostly the next line, sometimes further on, sometimes back. */
        switch (rnd() % 4) {
        case 0:
        case 1:
            w[i].offset = put.next_offset;
            w[i].line = put.next_line;
            break;
        case 2:
            w[i].offset = put.next_offset + rnd() % 100;
            w[i].line = put.next_line + rnd() % 3;
            break;
        default:
            w[i].offset = any();
            w[i].line = any();
        }
        size_t before = b.len;
        assert_int_equal(wn__wire_put(&b, &w[i], &put), WN_OK);
        assert_true(b.len - before <= WN_WIRE_HEAD_MAX);
    }
    struct wn_wire_ctx get = {0, 0};
    size_t at = 0;
    for (size_t i = 0; i < N; i++) {
        if (i % 1000 == 0)
            get = (struct wn_wire_ctx){0, 0};
        struct wn_wire_record r;
        size_t used = 0;
        assert_int_equal(wn__wire_get((const uint8_t *)b.data + at, b.len - at,
                                      &r, &get, &used),
                         WN_OK);
        assert_same(&w[i], &r);
        at += used;
    }
    assert_true(at == b.len);
    wn__buf_release(&b);
    free(w);
}

/* An accepted record of a JSONL file, on the line after the one before:
 * its raw, text, id and sketch lengths and the bits. */
static void test_accepted_record_small(void **state)
{
    (void)state;
    struct wn_buf b = {0};
    struct wn_wire_ctx ctx = {0, 0};
    uint64_t off = 0;
    for (uint64_t line = 1; line <= 100; line++) {
        struct wn_wire_record w = {
            .offset = off,
            .line = line,
            .raw_len = 1870,
            .id_len = 12,
            .text_len = 1800,
            .blob_len = 68,
            .flags = line > 1 ? WN_WIRE_SAME_SOURCE : 0,
            .source_len = line > 1 ? 0 : 20,
        };
        if (line == 1)
            ctx.next_line = 1; /* the first record reads as "ahead" */
        size_t before = b.len;
        assert_int_equal(wn__wire_put(&b, &w, &ctx), WN_OK);
        if (line > 1)
            assert_true(b.len - before <= 9);
        off += w.raw_len + 1;
    }
    wn__buf_release(&b);
}

/* Every prefix of a valid header is refused; so are unknown bits, both
 * forms of one field, a varint of 11 bytes and a kind past int32. */
static void test_bad_headers(void **state)
{
    (void)state;
    struct wn_buf b = {0};
    struct wn_wire_ctx ctx = {0, 0};
    struct wn_wire_record w = {
        .kind = 1,
        .status = -3,
        .sys_errno = 2,
        .error_offset = 77,
        .offset = 123456789,
        .line = 5000,
        .raw_len = 99999,
        .raw_sent = 99999,
        .id_len = 3,
        .text_len = 40000,
        .source_len = 9,
        .blob_len = 1000,
        .flags = WN_WIRE_VALUE,
    };
    assert_int_equal(wn__wire_put(&b, &w, &ctx), WN_OK);
    struct wn_wire_record r;
    size_t used;
    for (size_t n = 0; n < b.len; n++) {
        /* A copy of exactly n bytes: ASan sees any read past them. */
        uint8_t *cut = malloc(n ? n : 1);
        assert_non_null(cut);
        memcpy(cut, b.data, n);
        struct wn_wire_ctx c = {0, 0};
        assert_int_equal(wn__wire_get(cut, n, &r, &c, &used), WN_EFORMAT);
        free(cut);
    }
    struct wn_wire_ctx c = {0, 0};
    assert_int_equal(
        wn__wire_get((const uint8_t *)b.data, b.len, &r, &c, &used), WN_OK);
    assert_true(used == b.len);
    assert_same(&w, &r);

    const uint8_t unknown[] = {0x80, 0x80, 0x04};      /* bit 16 */
    const uint8_t both_offsets[] = {0x30, 0x01, 0x01}; /* ahead and abs */
    const uint8_t long_varint[] = {0x01, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    const uint8_t big_kind[] = {0x01, 0x80, 0x80, 0x80, 0x80, 0x10}; /* 2^32 */
    const uint8_t *bad[] = {unknown, both_offsets, long_varint, big_kind};
    const size_t len[] = {sizeof(unknown), sizeof(both_offsets),
                          sizeof(long_varint), sizeof(big_kind)};
    for (size_t i = 0; i < 4; i++) {
        c = (struct wn_wire_ctx){0, 0};
        assert_int_equal(wn__wire_get(bad[i], len[i], &r, &c, &used),
                         WN_EFORMAT);
    }
    /* Extremes of the signed fields; an unknown flag is refused. */
    struct wn_wire_record ext = {
        .kind = INT32_MAX, .status = INT32_MIN, .sys_errno = -1};
    size_t at = b.len;
    struct wn_wire_ctx p2 = {0, 0}, g2 = {0, 0};
    assert_int_equal(wn__wire_put(&b, &ext, &p2), WN_OK);
    assert_int_equal(
        wn__wire_get((const uint8_t *)b.data + at, b.len - at, &r, &g2, &used),
        WN_OK);
    assert_same(&ext, &r);
    struct wn_wire_record odd = {.flags = 4};
    assert_int_equal(wn__wire_put(&b, &odd, &ctx), WN_EINVAL);
    wn__buf_release(&b);
}

static const char *const TEXTS[] = {
    "",
    "The regional transport board announced on Thursday that the blue line "
    "will close for six weeks of repairs starting in May.",
    "Caf\xc3\xa9 prices rose 3.5% in 2025, the bureau said; \xff an invalid "
    "byte is repaired.",
};

/* A sketcher of each kind: news (MinHash OPH, estimated verification at
 * the owners), --verify exact (the sets sent), SimHash, classic. */
static struct wn_sketcher *sketcher(int kind)
{
    struct wn_dedup_options o;
    wn_dedup_options_init(&o);
    if (kind == 1) {
        o.verify = WN_VERIFY_EXACT;
    } else if (kind == 2) {
        o.method = WN_METHOD_SIMHASH;
    } else if (kind == 3) {
        o.profile = WN_PROFILE_CLASSIC;
        o.threshold = 0.7;
    }
    struct wn_sketcher *sk = NULL;
    assert_int_equal(wn_sketcher_create(&o, &sk), WN_OK);
    return sk;
}

/* Encode text's sketch, thin it, thicken it and decode it into back. */
static int slim_round(const struct wn_sketcher *sk, const char *text,
                      struct wn_sketch *s, struct wn_sketch *back,
                      struct wn_buf *slim, size_t *slim_len)
{
    uint8_t head[WN_SLIM_HEAD];
    struct wn_sketch *h = NULL;
    assert_int_equal(wn_sketch_create(sk, &h), WN_OK);
    assert_int_equal(wn__slim_head(sk, h, head), WN_OK);
    wn_sketch_free(h);
    assert_int_equal(wn_sketcher_sketch(sk, text, strlen(text), s), WN_OK);
    size_t need = wn_sketch_encoded_size(s), len = 0;
    uint8_t *enc = malloc(need);
    assert_non_null(enc);
    assert_int_equal(wn_sketch_encode(s, enc, need, &len), WN_OK);
    assert_int_equal(wn__slim_thin(sk, enc, len, slim), WN_OK);
    *slim_len = slim->len;
    struct wn_buf thick = {0};
    int rc = wn__slim_thicken(sk, head, slim->data, slim->len, &thick);
    if (!rc)
        rc = wn_sketch_decode(sk, thick.data, thick.len, back);
    wn__buf_release(&thick);
    free(enc);
    return rc;
}

static void test_slim_round_trip(void **state)
{
    (void)state;
    for (int kind = 0; kind < 4; kind++) {
        struct wn_sketcher *sk = sketcher(kind);
        struct wn_sketch *s = NULL, *back = NULL;
        assert_int_equal(wn_sketch_create(sk, &s), WN_OK);
        assert_int_equal(wn_sketch_create(sk, &back), WN_OK);
        for (size_t t = 0; t < sizeof(TEXTS) / sizeof(TEXTS[0]); t++) {
            struct wn_buf slim = {0};
            size_t n = 0;
            assert_int_equal(slim_round(sk, TEXTS[t], s, back, &slim, &n),
                             WN_OK);
            assert_int_equal(back->empty, s->empty);
            assert_true(back->tokens == s->tokens);
            assert_true(back->invalid == s->invalid);
            assert_int_equal(back->nsh, s->nsh);
            /* The hash and keys stay on the rank: zeros here. */
            assert_true(back->h[0] == 0 && back->h[1] == 0);
            for (uint32_t j = 0; j < sk->nkeys; j++)
                assert_true(back->keys[j] == 0);
            if (sk->need_sets) {
                /* --verify exact: the set travels as it was. */
                assert_true(back->nset == s->nset);
                if (s->nset)
                    assert_memory_equal(back->sh, s->sh,
                                        s->nset * sizeof(uint64_t));
            } else if (wn__dist_verifies_at_owners(sk)) {
                /* The verification record stays on the rank too: a few
                 * bytes cross (flag and three counts). */
                assert_true(n <= 1 + 3 * 10);
                for (uint32_t k = 0; k < sk->rec_bytes; k++)
                    assert_int_equal(back->vdata[k], 0);
            }
            assert_true(s->empty == (t == 0));
            wn__buf_release(&slim);
        }
        wn_sketch_free(s);
        wn_sketch_free(back);
        wn_sketcher_free(sk);
    }
}

/* Every prefix of a slim form fails to thicken or to decode; an encoding
 * cut short, or with a flag past 8 bits, does not thin. */
static void test_slim_cut_short(void **state)
{
    (void)state;
    for (int kind = 0; kind < 4; kind++) {
        struct wn_sketcher *sk = sketcher(kind);
        struct wn_sketch *s = NULL, *back = NULL;
        assert_int_equal(wn_sketch_create(sk, &s), WN_OK);
        assert_int_equal(wn_sketch_create(sk, &back), WN_OK);
        struct wn_buf slim = {0};
        size_t n = 0;
        assert_int_equal(slim_round(sk, TEXTS[1], s, back, &slim, &n), WN_OK);
        uint8_t head[WN_SLIM_HEAD];
        assert_int_equal(wn__slim_head(sk, back, head), WN_OK);
        for (size_t k = 0; k < n; k++) {
            char *cut = malloc(k ? k : 1);
            assert_non_null(cut);
            memcpy(cut, slim.data, k);
            struct wn_buf thick = {0};
            int rc = wn__slim_thicken(sk, head, cut, k, &thick);
            if (!rc)
                rc = wn_sketch_decode(sk, thick.data, thick.len, back);
            assert_int_not_equal(rc, WN_OK);
            wn__buf_release(&thick);
            free(cut);
        }
        /* The encoding cut short, and a flag the slim form cannot hold. */
        size_t need = wn_sketch_encoded_size(s), len = 0;
        uint8_t *enc = malloc(need);
        assert_non_null(enc);
        assert_int_equal(wn_sketch_encode(s, enc, need, &len), WN_OK);
        struct wn_buf out = {0};
        for (size_t k = 0; k < len; k += 7)
            assert_int_equal(wn__slim_thin(sk, enc, k, &out), WN_EFORMAT);
        enc[20 + 1] = 1; /* the le32 flags: bit 8 */
        assert_int_equal(wn__slim_thin(sk, enc, len, &out), WN_EFORMAT);
        wn__buf_release(&out);
        free(enc);
        wn__buf_release(&slim);
        wn_sketch_free(s);
        wn_sketch_free(back);
        wn_sketcher_free(sk);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_accepted_record_small),
        cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_slim_round_trip),
        cmocka_unit_test(test_slim_cut_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
