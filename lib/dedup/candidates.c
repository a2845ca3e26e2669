/*
 * candidates.c - the LSH band join: for every band, sort (key, document)
 * and emit candidate pairs from runs of equal keys (lib/cluster). The
 * budget splits a band into partitions by key so that memory stays
 * bounded; (band, partition) tasks are taken in turn by one worker per
 * pool thread, each into its own pair list; the lists are concatenated and
 * sorted at the end, so the result does not depend on which thread ran
 * which task. Memory: 32 bytes per document per running worker (entries
 * and radix scratch of one partition), plus the pairs.
 */
#include "dedup/dedup.h"
#include "dedup/runs.h"
#include "io/outfile.h"

#include <pthread.h>
#include <stdlib.h>

/* Pairs a join worker lists before it first compacts its list (8 MiB),
 * and the anchor join its raw pairs. */
#define JOIN_COMPACT_MIN ((size_t)1 << 20)

static size_t compact_min(void)
{
#ifdef WN_TEST_HOOKS
    /* -Dtest_hooks=true: WINNOW_TEST_JOIN_COMPACT=N compacts from N pairs
     * on, so that small inputs take the compactions' path
     * (tests/cli/test_news_same.sh compares the outputs). */
    const char *env = getenv("WINNOW_TEST_JOIN_COMPACT");
    if (env && *env)
        return WN_MAX((size_t)1, (size_t)strtoull(env, NULL, 10));
#endif
    return JOIN_COMPACT_MIN;
}

struct join_shared {
    const struct wn_join_in *in;
    uint64_t parts;
    uint64_t ntasks;
    uint64_t next; /* next task, taken under mu */
    pthread_mutex_t mu;
    int rc;
};

struct join_worker {
    struct join_shared *sh;
    wn_docpair *pairs;
    size_t npairs, cap;
    size_t compact_at; /* compact the list when it grows past this */
    struct wn_join_stats st;
    int rc;
};

uint64_t wn__join_budget(uint64_t memory, size_t n)
{
    if (memory)
        return memory;
    /* The default: the join's entries stay within 16 bytes per record
     * (what a record holds anyway is about 80), at least 8 MiB, at most
     * 1 GiB. A band is then read 2 or 3 times on one thread, each read
     * taking one key range: reading is cheap, the entries are not. */
    uint64_t b = (uint64_t)16 * n;
    return WN_MIN((uint64_t)1 << 30, WN_MAX((uint64_t)8 << 20, b));
}

/* A worker's pair list, sorted and distinct, as one run of the shared
 * pair runs. */
static int spill_pairs(struct join_worker *w)
{
    struct join_shared *sh = w->sh;
    w->npairs = wn__pairs_sort_unique(w->pairs, w->npairs);
    wn__pairs_to_words(w->pairs, w->npairs);
    pthread_mutex_lock(&sh->mu);
    int rc = wn__runs_add_run(sh->in->pair_runs, w->pairs, w->npairs);
    pthread_mutex_unlock(&sh->mu);
    w->npairs = 0;
    w->compact_at = compact_min();
    return rc;
}

static int join_task(struct join_worker *w, uint32_t band, uint64_t part,
                     struct wn_keydoc **v, size_t *vcap, struct wn_keydoc **tmp,
                     size_t *tmpcap, uint64_t *keys)
{
    const struct join_shared *sh = w->sh;
    const struct wn_join_in *in = sh->in;
    int fd = fileno(in->key_f[band]);
    size_t m = 0;
    for (size_t d = 0; d < in->n;) {
        size_t want = WN_MIN((size_t)65536, in->n - d);
        int rc = wn__pread_full(fd, keys, want * sizeof(*keys),
                                (uint64_t)d * sizeof(*keys));
        if (rc)
            return rc;
        for (size_t i = 0; i < want; i++, d++) {
            if (wn__bit_get(in->skip, d))
                continue;
            if (sh->parts > 1 && wn__key_partition(keys[i], sh->parts) != part)
                continue;
            if (m == *vcap && WN_GROW(*v, *vcap, m + 1))
                return WN_ENOMEM;
            (*v)[m].key = keys[i];
            (*v)[m] = (struct wn_keydoc){.key = keys[i], .doc = (wn_docno)d};
            m++;
        }
    }
    int rc = m > *tmpcap ? WN_GROW(*tmp, *tmpcap, m) : WN_OK;
    if (!rc)
        rc = wn__keydoc_group_with(*v, m, *tmp);
    if (!rc)
        rc = wn__join_sorted(*v, m, in->bucket_all_pairs, NULL, &w->pairs,
                             &w->npairs, &w->cap, &w->st);
    /* Keep the pair list small as bands accumulate: compact it when it
     * has grown by a quarter since the last compaction (a pair found in
     * several bands is listed once per band until then). The radix sort
     * makes the repeated compactions cheap: about 5x the final list's
     * sort in all. */
    if (!rc && w->npairs > w->compact_at) {
        w->npairs = wn__pairs_sort_unique(w->pairs, w->npairs);
        w->compact_at = WN_MAX(compact_min(), w->npairs + w->npairs / 4);
    }
    /* Under a budget the list goes to disk as a sorted run instead. */
    if (!rc && in->pair_runs && w->npairs > in->pair_cap)
        rc = spill_pairs(w);
    return rc;
}

/* One worker: take tasks until none is left or one failed. */
static void join_main(void *arg, unsigned slot)
{
    (void)slot;
    struct join_worker *w = arg;
    struct join_shared *sh = w->sh;
    struct wn_keydoc *v = NULL, *tmp = NULL;
    size_t vcap = 0, tmpcap = 0;
    uint64_t *keys = wn__reallocarray(NULL, 65536, sizeof(*keys));
    w->rc = keys ? WN_OK : WN_ENOMEM;
    while (!w->rc) {
        pthread_mutex_lock(&sh->mu);
        uint64_t t = sh->rc ? sh->ntasks : sh->next++;
        pthread_mutex_unlock(&sh->mu);
        if (t >= sh->ntasks)
            break;
        w->rc = join_task(w, (uint32_t)(t / sh->parts), t % sh->parts, &v,
                          &vcap, &tmp, &tmpcap, keys);
        if (!w->rc && sh->in->cancel && *sh->in->cancel)
            w->rc = WN_EINTR;
        if (w->rc) {
            pthread_mutex_lock(&sh->mu);
            sh->rc = w->rc;
            pthread_mutex_unlock(&sh->mu);
        }
    }
    wn__free(v);
    wn__free(tmp);
    wn__free(keys);
}

int wn__stage_candidates(const struct wn_join_in *in, struct wn_pool *pool,
                         wn_docpair **pairs_out, size_t *npairs_out,
                         struct wn_join_stats *st_out)
{
    uint64_t budget = wn__join_budget(in->memory, in->n);
    unsigned nthreads = wn__pool_threads(pool);
    /* Entries and radix scratch: 32 bytes per document, per partition and
     * thread, with the budget raised to a floor (lib/cluster/join.c). */
    uint64_t parts = wn__join_partitions(in->n, nthreads, budget);
    struct join_shared sh;
    memset(&sh, 0, sizeof(sh));
    sh.in = in;
    sh.parts = parts;
    sh.ntasks = (uint64_t)in->nkeys * parts;
    pthread_mutex_init(&sh.mu, NULL);
    struct join_worker *w = wn__calloc(nthreads, sizeof(*w));
    struct wn_pool_task *task = wn__calloc(nthreads, sizeof(*task));
    int rc = w && task ? WN_OK : WN_ENOMEM;
    for (unsigned i = 0; i < nthreads && !rc; i++) {
        w[i].sh = &sh;
        w[i].compact_at = compact_min();
        wn__pool_submit(pool, &task[i], join_main, &w[i]);
    }
    wn__pool_wait(pool);

    /* Lists went to disk: the rest follow them there. */
    for (unsigned i = 0; i < nthreads && w && !rc && in->pair_runs &&
                         wn__runs_spilled(in->pair_runs);
         i++)
        rc = w[i].rc ? w[i].rc : spill_pairs(&w[i]);
    pthread_mutex_destroy(&sh.mu);

    wn_docpair *pairs = NULL;
    size_t npairs = 0, paircap = 0;
    struct wn_join_stats st = {0};
    st.partitions = parts;
    for (unsigned i = 0; i < nthreads && w && !rc; i++) {
        rc = rc ? rc : w[i].rc;
        if (!rc && !pairs) {
            /* The first list is taken as it is: no copy of it. */
            pairs = w[i].pairs;
            npairs = w[i].npairs;
            paircap = w[i].cap;
            w[i].pairs = NULL;
        } else if (!rc && w[i].npairs &&
                   (rc = WN_GROW(pairs, paircap, npairs + w[i].npairs)) ==
                       WN_OK) {
            memcpy(pairs + npairs, w[i].pairs, w[i].npairs * sizeof(*pairs));
            npairs += w[i].npairs;
        }
        st.large_buckets += w[i].st.large_buckets;
        st.max_bucket = WN_MAX(st.max_bucket, w[i].st.max_bucket);
    }
    for (unsigned i = 0; i < nthreads && w; i++)
        wn__free(w[i].pairs);
    wn__free(w);
    wn__free(task);
    if (!rc)
        npairs = wn__pairs_sort_unique(pairs, npairs);
    if (rc) {
        wn__free(pairs);
        return rc;
    }
    /* Give back what de-duplication freed: the rule's candidates and
     * verification come next. */
    if (pairs && npairs < paircap / 2)
        pairs = wn__shrink(pairs, npairs * sizeof(*pairs));
    *pairs_out = pairs;
    *npairs_out = npairs;
    *st_out = st;
    return WN_OK;
}

/* ------------------------------------------------------------------------ */
/* The rule's candidates: anchors and flashes                                */
/* ------------------------------------------------------------------------ */

static int push_pair(wn_docpair **pairs, size_t *n, size_t *cap, wn_docno a,
                     wn_docno b)
{
    if (*n == *cap && WN_GROW(*pairs, *cap, *n + 1))
        return WN_ENOMEM;
    wn_docno lo = WN_MIN(a, b), hi = WN_MAX(a, b);
    (*pairs)[(*n)++] = wn__pair(lo, hi);
    return WN_OK;
}

/*
 * The anchor join: every pair of documents in a bucket of at most
 * anchor_bucket_max equal anchors. A bigger bucket is a passage that very
 * many records hold (a sign-off, a site header, a stock phrase): it is
 * skipped, which is the boilerplate rule of the candidates. The entries are
 * read in partitions by key so that at most the budget is held.
 */
static int keydoc_push(struct wn_keydoc **v, size_t *n, size_t *cap,
                       uint64_t key, wn_docno doc)
{
    if (*n == *cap && WN_GROW(*v, *cap, *n + 1))
        return WN_ENOMEM;
    (*v)[*n] = (struct wn_keydoc){.key = key, .doc = doc};
    (*n)++;
    return WN_OK;
}

/* Scratch of the anchor join. */
struct anchor_scratch {
    unsigned char *buf;        /* ANCHOR_CHUNK entries as read */
    uint8_t *na;               /* anchors per document, saturating */
    struct wn_keydoc *v, *tmp; /* entries and their radix scratch */
    size_t vcap, tmpcap;
    wn_docpair *raw; /* pairs, once per shared anchor (see raw_compact) */
    size_t nraw, rawcap;
    size_t compact_at;
    uint32_t keep; /* copies of a pair worth keeping: anchor_hits */
};

/* Sort the raw pairs and keep at most x->keep copies of each: a pair
 * needs min(anchor_hits, ...) shared anchors, so more copies than that
 * decide nothing. This bounds the list by keep x the distinct pairs. */
size_t wn__anchor_raw_compact(wn_docpair *raw, size_t n, uint32_t keep)
{
    wn__pairs_radix_sort(raw, n);
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t e = i + 1;
        while (e < n && raw[e] == raw[i])
            e++;
        for (size_t c = 0; c < WN_MIN(e - i, (size_t)keep); c++)
            raw[k++] = raw[i];
        i = e;
    }
    return k;
}

static void raw_compact(struct anchor_scratch *x)
{
    x->nraw = wn__anchor_raw_compact(x->raw, x->nraw, x->keep);
    x->compact_at = WN_MAX(compact_min(), 2 * x->nraw);
}

/* A raw pair of the one-process anchor join (wn__anchor_buckets). */
static int raw_push(void *ud, const struct wn_keydoc *a,
                    const struct wn_keydoc *b)
{
    struct anchor_scratch *x = ud;
    return push_pair(&x->raw, &x->nraw, &x->rawcap, a->doc, b->doc);
}

int wn__anchor_buckets(const struct wn_keydoc *v, size_t m, uint32_t bucket_max,
                       int (*emit)(void *ud, const struct wn_keydoc *a,
                                   const struct wn_keydoc *b),
                       void *ud, struct wn_rule_join_stats *st)
{
    int rc = WN_OK;
    for (size_t i = 0; i < m && !rc;) {
        size_t e = i + 1;
        while (e < m && v[e].key == v[i].key)
            e++;
        if (e - i > bucket_max) {
            st->anchor_skipped++;
        } else {
            for (size_t a = i; a < e && !rc; a++)
                for (size_t b = a + 1; b < e && !rc; b++)
                    if (v[a].doc != v[b].doc)
                        rc = emit(ud, &v[a], &v[b]);
        }
        i = e;
    }
    return rc;
}

#define ANCHOR_CHUNK 8192u

/* One partition of one anchor spill: its buckets' pairs into x->raw. */
static int anchor_part(const struct wn_rule_join_in *in, uint32_t f,
                       uint64_t part, uint64_t parts, struct anchor_scratch *x,
                       struct wn_rule_join_stats *st)
{
    uint64_t cnt = in->nanch[f];
    int fd = fileno(in->anch_f[f]);
    size_t m = 0;
    int rc = WN_OK;
    for (uint64_t at = 0; at < cnt && !rc;) {
        size_t want = (size_t)WN_MIN((uint64_t)ANCHOR_CHUNK, cnt - at);
        rc = wn__pread_full(fd, x->buf, want * WN_ANCHOR_ENTRY,
                            at * WN_ANCHOR_ENTRY);
        for (size_t i = 0; i < want && !rc; i++) {
            const unsigned char *q = x->buf + WN_ANCHOR_ENTRY * i;
            uint64_t key = wn__get_le64(q);
#ifdef WN_WIDE_DOCS
            wn_docno doc = wn__get_le64(q + 8);
#else
            wn_docno doc = wn__get_le32(q + 8);
#endif
            if (part == 0 && x->na[doc] < UINT8_MAX)
                x->na[doc]++;
            if (wn__bit_get(in->skip, doc) ||
                (parts > 1 && wn__key_partition(key, parts) != part))
                continue;
            rc = keydoc_push(&x->v, &m, &x->vcap, key, doc);
        }
        at += want;
    }
    if (!rc)
        rc = m > x->tmpcap ? WN_GROW(x->tmp, x->tmpcap, m) : WN_OK;
    if (!rc)
        rc = wn__keydoc_group_with(x->v, m, x->tmp);
    if (!rc)
        rc =
            wn__anchor_buckets(x->v, m, in->anchor_bucket_max, raw_push, x, st);
    if (!rc && x->nraw > x->compact_at)
        raw_compact(x);
    return rc;
}

/*
 * The anchor join: documents in a bucket of at most anchor_bucket_max equal
 * anchors meet. A bigger bucket is a passage that very many records hold (a
 * sign-off, a site header, a stock phrase): it is skipped, which is the
 * boilerplate rule of the candidates. A pair is a candidate when it met in
 * min(anchor_hits, anchors of either) anchors: one shared passage is seldom
 * one anchor long, a common phrase often is. The spill files are joined one
 * at a time, each in partitions by key when it exceeds the budget (16 bytes
 * an entry and as much radix scratch).
 */
static int anchor_join(const struct wn_rule_join_in *in, wn_docpair **pairs,
                       size_t *npairs, size_t *cap,
                       struct wn_rule_join_stats *st)
{
    if (!in->anch_f || !in->nanch)
        return WN_OK;
    size_t n = in->n;
    /* Raised to the band join's floor of a block: below it each partition
     * re-reads its whole file for a handful of entries (--memory 1 made
     * the anchor join quadratic). */
    uint64_t budget =
        WN_MAX(wn__join_budget(in->memory, n), (uint64_t)32 * WN_JOIN_BLOCK);
    struct anchor_scratch x;
    memset(&x, 0, sizeof(x));
    x.buf = wn__malloc((size_t)ANCHOR_CHUNK * WN_ANCHOR_ENTRY);
    x.na = wn__calloc(n ? n : 1, 1);
    int rc = x.buf && x.na ? WN_OK : WN_ENOMEM;
    uint32_t need = in->anchor_hits ? in->anchor_hits : 1;
    x.keep = need;
    x.compact_at = compact_min();
    for (uint32_t f = 0; f < WN_ANCHOR_FILES && !rc; f++) {
        uint64_t parts = (in->nanch[f] * 32 + budget - 1) / budget;
        parts = parts ? parts : 1;
        for (uint64_t part = 0; part < parts && !rc; part++)
            rc = anchor_part(in, f, part, parts, &x, st);
        if (!rc && in->cancel && *in->cancel)
            rc = WN_EINTR;
    }
    if (!rc)
        raw_compact(&x);
    for (size_t i = 0; i < x.nraw && !rc;) {
        size_t e = i + 1;
        while (e < x.nraw && x.raw[e] == x.raw[i])
            e++;
        wn_docno a = wn__pair_a(x.raw[i]), b = wn__pair_b(x.raw[i]);
        uint32_t want = wn__anchor_want(need, x.na[a], x.na[b]);
        if (e - i >= want) {
            rc = push_pair(pairs, npairs, cap, a, b);
            st->anchor_pairs++;
        }
        i = e;
    }
    wn__free(x.raw);
    wn__free(x.na);
    wn__free(x.buf);
    wn__free(x.v);
    wn__free(x.tmp);
    return rc;
}

/* Probes of a short record and offers of every record (contain.h). */
#define FLASH_PROBES     4u
#define FLASH_OFFERS     32u
#define FLASH_BUCKET_MAX 256u /* offers of one word in a window, at most */
#define FLASH_MIN_COUNT  20u  /* an offered word is in at most */
#define FLASH_MAX_SHARE  20u  /* max(FLASH_MIN_COUNT, n / this) records */

/* One block's offers (word, document), sorted, and its probes. */
struct flash_block {
    int64_t b; /* block number, -1: empty */
    struct wn_keydoc *off, *probe;
    size_t noff, nprobe, offcap, probecap;
    uint32_t nsh[WN_FLASH_BLOCK]; /* shingle counts, from the reader */
};

static bool short_nsh(const struct wn_rule_join_in *in, size_t d, uint32_t nsh)
{
    /* Empty texts are in skip (dedupjob.c). */
    return !wn__bit_get(in->skip, d) && nsh <= in->sk->qp.short_tokens;
}

static bool short_doc(const struct wn_rule_join_in *in, size_t d)
{
    return !wn__bit_get(in->skip, d) &&
           short_nsh(in, d, wn__doc_nsh(in->docs, d));
}

/* Read block b's lead words and make its offers and probes. */
static int flash_load(const struct wn_rule_join_in *in, int64_t b, uint8_t *rec,
                      struct flash_block *fb, struct wn_rule_join_stats *st)
{
    const struct wn_sketcher *sk = in->sk;
    const struct wn_flash_reader *fr = in->flash;
    size_t n = in->n;
    size_t lo = (size_t)b * WN_FLASH_BLOCK;
    size_t hi = WN_MIN(n, lo + WN_FLASH_BLOCK);
    fb->b = b;
    fb->noff = fb->nprobe = 0;
    int rc;
    if (fr) {
        rc = fr->read(fr->ud, lo, hi, rec, fb->nsh);
    } else {
        rc = wn__pread_full(in->sig_fd, rec, (hi - lo) * sk->rec_bytes,
                            (uint64_t)lo * sk->rec_bytes);
        for (size_t d = lo; d < hi && !rc; d++)
            fb->nsh[d - lo] = wn__doc_nsh(in->docs, d);
    }
    /* Each block's probes counted once: by the one process, or by the
     * block's owner (lib/dist: a neighbour's owner reads it too). */
    bool count = !fr || fr->mine(fr->ud, (uint64_t)b);
    uint64_t maxc64 =
        WN_MAX((uint64_t)FLASH_MIN_COUNT, in->wt->n / FLASH_MAX_SHARE);
    uint32_t maxc = (uint32_t)WN_MIN(maxc64, (uint64_t)UINT32_MAX);
    for (size_t d = lo; d < hi && !rc; d++) {
        if (wn__bit_get(in->skip, d)) /* empty texts are there too */
            continue;
        uint32_t w[WN_LEAD_TOKENS], c[WN_LEAD_TOKENS];
        uint64_t w64[WN_LEAD_TOKENS], sel[FLASH_OFFERS];
        const uint8_t *r = rec + (d - lo) * sk->rec_bytes;
        size_t nw = wn__lead_unpack(r + sk->sig_bytes + sk->fig_bytes, w);
        /* A word no other record holds meets nothing: keys are chosen
         * among the words counted at least twice. */
        size_t kept = 0;
        for (size_t k = 0; k < nw; k++) {
            uint32_t cnt = wn__cms_count(in->wt->cms, wn__lead_key(w[k]));
            if (cnt < 2)
                continue;
            w64[kept] = w[k];
            c[kept++] = cnt;
        }
        nw = kept;
        size_t no = wn__contain_offers(w64, c, nw, maxc, FLASH_OFFERS, sel);
        for (size_t k = 0; k < no && !rc; k++)
            rc = keydoc_push(&fb->off, &fb->noff, &fb->offcap, sel[k],
                             (wn_docno)d);
        if (!rc && short_nsh(in, d, fb->nsh[d - lo])) {
            size_t np = wn__contain_probes(w64, c, nw, FLASH_PROBES, sel);
            st->probes += count && np > 0;
            for (size_t k = 0; k < np && !rc; k++)
                rc = keydoc_push(&fb->probe, &fb->nprobe, &fb->probecap, sel[k],
                                 (wn_docno)d);
        }
    }
    if (!rc)
        rc = wn__keydoc_sort(fb->off, fb->noff);
    if (!rc)
        rc = wn__keydoc_sort(fb->probe, fb->nprobe);
    return rc;
}

/*
 * The flash join. A flash and the story that follows it are close in a
 * feed: a short record's probes (its FLASH_PROBES rarest lead words by the
 * corpus word counts) meet the offers (the FLASH_OFFERS rarest lead words of
 * at most max(20, n / 20) records) of the records of its block and the two
 * beside it; a pair whose probes meet in >= min(2, probes) words is a
 * candidate. Counts are of the whole corpus (two-phase: known after pass
 * 1), so the keys do not depend on thread count or order of work. Only
 * blocks with a short record, and their neighbours, are read.
 */
int wn__flash_join(const struct wn_rule_join_in *in, wn_docpair **pairs,
                   size_t *npairs, size_t *cap, struct wn_rule_join_stats *st)
{
    const struct wn_flash_reader *fr = in->flash;
    if (!in->wt || !in->wt->cms || (!fr && in->sig_fd < 0) || in->n == 0)
        return WN_OK;
    int64_t nblocks = (int64_t)((in->n + WN_FLASH_BLOCK - 1) / WN_FLASH_BLOCK);
    struct flash_block *fb = wn__calloc(3, sizeof(*fb));
    if (!fb)
        return WN_ENOMEM;
    for (int i = 0; i < 3; i++)
        fb[i].b = -1;
    uint8_t *rec = wn__reallocarray(NULL, WN_FLASH_BLOCK, in->sk->rec_bytes);
    wn_docpair *hits = NULL;
    size_t nhits = 0, hitcap = 0;
    int rc = rec ? WN_OK : WN_ENOMEM;
    for (int64_t b = 0; b < nblocks && !rc; b++) {
        size_t lo = (size_t)b * WN_FLASH_BLOCK;
        size_t hi = WN_MIN(in->n, lo + WN_FLASH_BLOCK);
        bool any = false;
        if (fr)
            any = fr->mine(fr->ud, (uint64_t)b);
        for (size_t d = lo; !fr && d < hi && !any; d++)
            any = short_doc(in, d);
        if (!any)
            continue;
        /* Blocks b - 1, b, b + 1 in slots (b + 2) % 3 etc. */
        for (int64_t x = b - 1; x <= b + 1 && !rc; x++) {
            if (x < 0 || x >= nblocks)
                continue;
            struct flash_block *f = &fb[x % 3];
            if (f->b != x)
                rc = flash_load(in, x, rec, f, st);
        }
        const struct flash_block *pb = &fb[b % 3];
        uint8_t np[WN_FLASH_BLOCK];
        memset(np, 0, sizeof(np));
        for (size_t k = 0; k < pb->nprobe; k++)
            np[pb->probe[k].doc - lo]++;
        nhits = 0;
        for (size_t i = 0; i < pb->nprobe && !rc; i++) {
            uint64_t word = pb->probe[i].key;
            wn_docno pd = pb->probe[i].doc;
            for (int64_t x = b - 1; x <= b + 1 && !rc; x++) {
                if (x < 0 || x >= nblocks)
                    continue;
                const struct flash_block *f = &fb[x % 3];
                /* The run of this word among the block's offers. */
                size_t l = 0, r = f->noff;
                while (l < r) {
                    size_t mid = l + (r - l) / 2;
                    if (f->off[mid].key < word)
                        l = mid + 1;
                    else
                        r = mid;
                }
                size_t e = l;
                while (e < f->noff && f->off[e].key == word)
                    e++;
                if (e - l > FLASH_BUCKET_MAX)
                    continue;
                for (size_t k = l; k < e && !rc; k++) {
                    if (f->off[k].doc == pd)
                        continue;
                    if (nhits == hitcap && WN_GROW(hits, hitcap, nhits + 1)) {
                        rc = WN_ENOMEM;
                        break;
                    }
                    hits[nhits++] = wn__pair(pd, f->off[k].doc);
                }
            }
        }
        if (!rc && nhits)
            wn__pairs_radix_sort(hits, nhits);
        /* Probes per short record, for the min(2, probes) rule. */
        for (size_t i = 0; i < nhits && !rc;) {
            size_t e = i + 1;
            while (e < nhits && hits[e] == hits[i])
                e++;
            wn_docno pd = wn__pair_a(hits[i]);
            if (e - i >= WN_MIN((size_t)2, (size_t)np[pd - lo])) {
                rc = push_pair(pairs, npairs, cap, pd, wn__pair_b(hits[i]));
                st->flash_pairs++;
            }
            i = e;
        }
        if (!rc && in->cancel && *in->cancel)
            rc = WN_EINTR;
    }
    for (int i = 0; i < 3; i++) {
        wn__free(fb[i].off);
        wn__free(fb[i].probe);
    }
    wn__free(fb);
    wn__free(rec);
    wn__free(hits);
    return rc;
}

int wn__stage_rule_candidates(const struct wn_rule_join_in *in,
                              wn_docpair **pairs, size_t *npairs, size_t *cap,
                              struct wn_rule_join_stats *st)
{
    int rc = anchor_join(in, pairs, npairs, cap, st);
    if (!rc)
        rc = wn__flash_join(in, pairs, npairs, cap, st);
    return rc;
}
