/*
 * align.c - maximal shared runs of two token lists, located with winnowing
 * (Schleimer, Wilkerson, Aiken 2003, "Winnowing: local algorithms for
 * document fingerprinting").
 *
 * Fingerprints: the 64-bit hash of every kgram consecutive normalized tokens
 * (wn__shingles, so the same hashes as dedup's shingles when kgram equals
 * ngram), and of every window of `window` consecutive hashes the minimum,
 * the rightmost on ties, kept with its token position when it differs from
 * the previous window's choice. Any run of at least window + kgram - 1
 * equal tokens contains a whole window, hence a fingerprint at the same
 * place in both texts.
 *
 * Seeds: B's fingerprints sorted by hash; each fingerprint of A, in the
 * order of A, meets its equal hashes in B (the first SEEDS_PER_HASH of them,
 * which bounds the work on texts that repeat themselves). A seed is
 * extended left and right while the normalized tokens are equal, giving a
 * maximal run; a seed inside a run already found on the same diagonal
 * (a - b) is skipped, which keeps the work linear in the output for long
 * copies. Hash collisions only cost an extension that finds nothing.
 *
 * Choice: runs are taken longest first (ties: earlier in A, then in B); a
 * run overlapping those already taken on either side is cut into the
 * stretches still free on both sides, and those of min_run tokens or more
 * are put back. So every token belongs to at most one reported run on each
 * side, a passage one text holds twice is matched once, and no common run
 * of window + kgram - 1 free tokens is left out (tests/test_explain.c
 * checks it against a quadratic search). O(R log R + tokens of the runs).
 */
#include "explain/explain.h"
#include "sketch/sketch.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define SEEDS_PER_HASH 64

struct fp {
    uint64_t h;
    size_t pos;
};

static int cmp_fp(const void *x, const void *y)
{
    const struct fp *a = x, *b = y;
    if (a->h != b->h)
        return a->h < b->h ? -1 : 1;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* Winnowed fingerprints of t into *out (*n of them). */
static int winnow(const struct wn_tokens *t, unsigned kgram, unsigned window,
                  uint64_t seed, struct fp **out, size_t *n)
{
    uint64_t *h = NULL;
    size_t nh = 0, cap = 0;
    *out = NULL;
    *n = 0;
    if (t->n < kgram)
        return WN_OK; /* too short to hold one k-gram */
    int rc = wn__shingles(t, kgram, seed, &h, &nh, &cap);
    if (rc) {
        wn__free(h);
        return rc;
    }
    struct fp *f = wn__malloc((nh ? nh : 1) * sizeof(*f));
    if (!f) {
        wn__free(h);
        return WN_ENOMEM;
    }
    size_t w = WN_MIN((size_t)window, nh), k = 0, last = SIZE_MAX;
    for (size_t s = 0; s + w <= nh; s++) {
        size_t best = s;
        for (size_t i = s + 1; i < s + w; i++)
            if (h[i] <= h[best])
                best = i;
        if (best != last) {
            f[k].h = h[best];
            f[k].pos = best;
            k++;
            last = best;
        }
    }
    wn__free(h);
    *out = f;
    *n = k;
    return WN_OK;
}

static bool tok_eq(const struct wn_tokens *ta, size_t i,
                   const struct wn_tokens *tb, size_t j)
{
    const struct wn_token *x = &ta->tok[i], *y = &tb->tok[j];
    return x->norm_len == y->norm_len &&
           !memcmp(ta->norm + x->norm_off, tb->norm + y->norm_off, x->norm_len);
}

/* Diagonal -> end in A of the last run found on it (open addressing). */
struct diag_map {
    int64_t *key;
    size_t *end;
    bool *used;
    size_t cap, n;
};

static size_t diag_slot(const struct diag_map *m, int64_t d)
{
    size_t i = (size_t)wn__mix64((uint64_t)d) & (m->cap - 1);
    while (m->used[i] && m->key[i] != d)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int diag_init(struct diag_map *m, size_t cap)
{
    memset(m, 0, sizeof(*m));
    m->cap = cap;
    m->key = wn__malloc(cap * sizeof(*m->key));
    m->end = wn__malloc(cap * sizeof(*m->end));
    m->used = wn__calloc(cap, sizeof(*m->used));
    return m->key && m->end && m->used ? WN_OK : WN_ENOMEM;
}

static void diag_release(struct diag_map *m)
{
    wn__free(m->key);
    wn__free(m->end);
    wn__free(m->used);
}

static int diag_put(struct diag_map *m, int64_t d, size_t end)
{
    if (2 * (m->n + 1) > m->cap) {
        struct diag_map g;
        if (diag_init(&g, 2 * m->cap)) {
            diag_release(&g);
            return WN_ENOMEM;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->used[i]) {
                size_t s = diag_slot(&g, m->key[i]);
                g.used[s] = true;
                g.key[s] = m->key[i];
                g.end[s] = m->end[i];
            }
        g.n = m->n;
        diag_release(m);
        *m = g;
    }
    size_t s = diag_slot(m, d);
    if (!m->used[s]) {
        m->used[s] = true;
        m->key[s] = d;
        m->n++;
    }
    m->end[s] = end;
    return WN_OK;
}

/* A max-heap of candidate runs: longer first, then earlier in A, in B. */
static bool run_before(const struct wn__align_run *x,
                       const struct wn__align_run *y)
{
    if (x->len != y->len)
        return x->len > y->len;
    if (x->a != y->a)
        return x->a < y->a;
    return x->b < y->b;
}

static void heap_up(struct wn__align_run *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!run_before(&h[i], &h[p]))
            break;
        struct wn__align_run t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

static void heap_down(struct wn__align_run *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && run_before(&h[l], &h[m]))
            m = l;
        if (r < n && run_before(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        struct wn__align_run t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static int cmp_run_a(const void *x, const void *y)
{
    const struct wn__align_run *a = x, *b = y;
    return a->a < b->a ? -1 : a->a > b->a;
}

/* Longest first; a run partly taken is cut into its stretches still free
 * on both sides, which compete again at their new lengths. */
static int choose(struct wn__align_run **heapp, size_t *heapcap, size_t nheap,
                  size_t na, size_t nb, unsigned min_run,
                  struct wn__align_run **out, size_t *nout)
{
    uint8_t *ca = wn__calloc(na ? na : 1, 1), *cb = wn__calloc(nb ? nb : 1, 1);
    struct wn__align_run *res = NULL;
    size_t nres = 0, rescap = 0;
    int rc = ca && cb ? WN_OK : WN_ENOMEM;
    for (size_t i = nheap / 2; i-- > 0;)
        heap_down(*heapp, nheap, i);
    while (!rc && nheap) {
        struct wn__align_run *heap = *heapp;
        struct wn__align_run r = heap[0];
        heap[0] = heap[--nheap];
        heap_down(heap, nheap, 0);
        bool whole = true;
        for (size_t k = 0; k < r.len && whole; k++)
            whole = !ca[r.a + k] && !cb[r.b + k];
        if (!whole) {
            for (size_t k = 0; k < r.len && !rc;) {
                if (ca[r.a + k] || cb[r.b + k]) {
                    k++;
                    continue;
                }
                size_t s = k;
                while (k < r.len && !ca[r.a + k] && !cb[r.b + k])
                    k++;
                if (k - s < min_run)
                    continue;
                if (WN_GROW(*heapp, *heapcap, nheap + 1)) {
                    rc = WN_ENOMEM;
                    break;
                }
                (*heapp)[nheap] =
                    (struct wn__align_run){r.a + s, r.b + s, k - s};
                heap_up(*heapp, nheap++);
            }
            continue;
        }
        if (WN_GROW(res, rescap, nres + 1)) {
            rc = WN_ENOMEM;
            break;
        }
        res[nres++] = r;
        memset(ca + r.a, 1, r.len);
        memset(cb + r.b, 1, r.len);
    }
    wn__free(ca);
    wn__free(cb);
    if (rc) {
        wn__free(res);
        return rc;
    }
    if (nres)
        qsort(res, nres, sizeof(*res), cmp_run_a);
    *out = res;
    *nout = nres;
    return WN_OK;
}

int wn__explain_align(const struct wn_tokens *ta, const struct wn_tokens *tb,
                      unsigned kgram, unsigned window, unsigned min_run,
                      uint64_t seed, struct wn__align_run **runs, size_t *n)
{
    assert(kgram >= 1 && window >= 1 && min_run >= 1);
    struct fp *fa = NULL, *fb = NULL;
    size_t nfa = 0, nfb = 0;
    struct wn__align_run *cand = NULL;
    size_t ncand = 0, candcap = 0;
    struct diag_map dm;
    int rc = diag_init(&dm, 1024);
    if (!rc)
        rc = winnow(ta, kgram, window, seed, &fa, &nfa);
    if (!rc)
        rc = winnow(tb, kgram, window, seed, &fb, &nfb);
    if (!rc && nfb)
        qsort(fb, nfb, sizeof(*fb), cmp_fp);
    for (size_t i = 0; !rc && i < nfa; i++) {
        /* The first fingerprint of B with this hash. */
        size_t lo = 0, hi = nfb;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (fb[mid].h < fa[i].h)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t j = lo;
             !rc && j < nfb && j < lo + SEEDS_PER_HASH && fb[j].h == fa[i].h;
             j++) {
            size_t pa = fa[i].pos, pb = fb[j].pos;
            int64_t d = (int64_t)pa - (int64_t)pb;
            size_t s = diag_slot(&dm, d);
            if (dm.used[s] && pa < dm.end[s])
                continue; /* inside a run already found */
            if (!tok_eq(ta, pa, tb, pb))
                continue; /* a hash collision */
            size_t a0 = pa, b0 = pb, a1 = pa + 1, b1 = pb + 1;
            while (a0 > 0 && b0 > 0 && tok_eq(ta, a0 - 1, tb, b0 - 1)) {
                a0--;
                b0--;
            }
            while (a1 < ta->n && b1 < tb->n && tok_eq(ta, a1, tb, b1)) {
                a1++;
                b1++;
            }
            rc = diag_put(&dm, d, a1);
            if (rc || a1 - a0 < min_run)
                continue;
            if (WN_GROW(cand, candcap, ncand + 1)) {
                rc = WN_ENOMEM;
                break;
            }
            cand[ncand++] = (struct wn__align_run){a0, b0, a1 - a0};
        }
    }
    struct wn__align_run *res = NULL;
    size_t nres = 0;
    if (!rc)
        rc = choose(&cand, &candcap, ncand, ta->n, tb->n, min_run, &res, &nres);
    wn__free(cand);
    wn__free(fa);
    wn__free(fb);
    diag_release(&dm);
    if (!rc) {
        *runs = res;
        *n = nres;
    }
    return rc;
}
