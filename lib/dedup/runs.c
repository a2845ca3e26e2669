/*
 * runs.c - sorted runs on disk and their k-way merge (runs.h). A run is
 * the buffer sorted with qsort and written at the end of one spill file;
 * run i holds entries [run_end[i - 1], run_end[i]). The merge keeps a
 * binary heap of runs by their current entry, ties to the earlier run, so
 * equal entries come out in the order they were added. O(n log n) time,
 * one write and one read of every entry when anything is spilled.
 */
#include "dedup/runs.h"
#include "cluster/cluster.h"
#include "io/outfile.h"
#include "io/runframe.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int cmp_entry(const uint64_t *a, const uint64_t *b, size_t words)
{
    for (size_t k = 0; k < words; k++)
        if (a[k] != b[k])
            return a[k] < b[k] ? -1 : 1;
    return 0;
}

#define CMP_WORDS(name, w)                                                     \
    static int name(const void *x, const void *y)                              \
    {                                                                          \
        return cmp_entry(x, y, w);                                             \
    }
CMP_WORDS(cmp1, 1)
CMP_WORDS(cmp2, 2)
CMP_WORDS(cmp3, 3)
CMP_WORDS(cmp4, 4)
#undef CMP_WORDS

static int (*const cmp_words[])(const void *, const void *) = {cmp1, cmp2, cmp3,
                                                               cmp4};

/* Buckets this small are sorted by insertion. */
#define ENTRY_SMALL 32

static void insertion_entries(uint64_t *a, size_t n, size_t w)
{
    uint64_t x[4];
    for (size_t i = 1; i < n; i++) {
        if (cmp_entry(a + (i - 1) * w, a + i * w, w) <= 0)
            continue;
        memcpy(x, a + i * w, w * sizeof(*x));
        size_t j = i;
        while (j > 0 && cmp_entry(a + (j - 1) * w, x, w) > 0) {
            memcpy(a + j * w, a + (j - 1) * w, w * sizeof(*x));
            j--;
        }
        memcpy(a + j * w, x, w * sizeof(*x));
    }
}

/* In-place MSD radix sort (American flag sort) of n entries of w words by
 * the byte at shift and below of their first word; entries whose first
 * words are equal are then ordered by the whole entry. The first words of
 * the exact stage are hashes: one or two passes split them into buckets
 * of a few entries. */
static void msd_entries(uint64_t *a, size_t n, size_t w, unsigned shift)
{
    for (;;) {
        if (n <= ENTRY_SMALL) {
            insertion_entries(a, n, w);
            return;
        }
        size_t count[256] = {0};
        for (size_t i = 0; i < n; i++)
            count[(a[i * w] >> shift) & 255]++;
        if (count[(a[0] >> shift) & 255] == n) {
            if (shift == 0) {
                /* One first word for all: the rest decides. */
                qsort(a, n, w * sizeof(uint64_t), cmp_words[w - 1]);
                return;
            }
            shift -= 8;
            continue;
        }
        size_t next[256], end[256], sum = 0;
        for (unsigned b = 0; b < 256; b++) {
            next[b] = sum;
            sum += count[b];
            end[b] = sum;
        }
        uint64_t v[4], t[4];
        for (unsigned b = 0; b < 256; b++) {
            while (next[b] < end[b]) {
                memcpy(v, a + next[b] * w, w * sizeof(*v));
                unsigned d = (unsigned)(v[0] >> shift) & 255;
                while (d != b) {
                    uint64_t *slot = a + next[d]++ * w;
                    memcpy(t, slot, w * sizeof(*t));
                    memcpy(slot, v, w * sizeof(*v));
                    memcpy(v, t, w * sizeof(*v));
                    d = (unsigned)(v[0] >> shift) & 255;
                }
                memcpy(a + next[b]++ * w, v, w * sizeof(*v));
            }
        }
        size_t lo = 0;
        for (unsigned b = 0; b < 256; b++) {
            if (count[b] > 1) {
                if (shift == 0)
                    qsort(a + lo * w, count[b], w * sizeof(uint64_t),
                          cmp_words[w - 1]);
                else
                    msd_entries(a + lo * w, count[b], w, shift - 8);
            }
            lo += count[b];
        }
        return;
    }
}

/* Sorts the buffer: a radix sort (qsort through a comparison callback
 * was most of the exact stage's time: 1.2% of a news run's CPU). */
static void sort_buffer(struct wn_runs *r)
{
    if (r->n < 2)
        return;
    if (r->words == 1) {
        wn__u64_radix_sort(r->buf, r->n);
        return;
    }
    msd_entries(r->buf, r->n, r->words, 56);
}

int wn__runs_init(struct wn_runs *r, struct wn_frame *frame, size_t words,
                  uint64_t budget)
{
    assert(r != NULL && words >= 1 && words <= 4);
    memset(r, 0, sizeof(*r));
    r->frame = frame;
    r->words = words;
    budget = WN_MAX(budget, (uint64_t)WN_RUNS_MIN_BYTES);
    uint64_t cap = budget / (words * sizeof(uint64_t));
    r->cap = (size_t)WN_MIN(cap, (uint64_t)SIZE_MAX / 64);
    /* The buffer grows to cap as entries come: a small sort stays small. */
    return WN_OK;
}

static int grow_buffer(struct wn_runs *r)
{
    size_t have = r->buf ? r->n : 0;
    size_t want = have ? have * 2 : 4096;
    want = WN_MIN(want, r->cap);
    uint64_t *b = wn__reallocarray(r->buf, want * r->words, sizeof(uint64_t));
    if (!b)
        return WN_ENOMEM;
    r->buf = b;
    r->bufcap = want;
    return WN_OK;
}

int wn__runs_add_run(struct wn_runs *r, const void *v, size_t n)
{
    assert(!r->finished);
    if (n == 0)
        return WN_OK;
    if (!r->f) {
        r->f =
            r->frame ? wn__frame_spill(r->frame, "runs", 1u << 16) : tmpfile();
        if (!r->f)
            return WN_EOPEN;
    }
    if (WN_GROW(r->run_end, r->runcap, r->nruns + 1))
        return WN_ENOMEM;
    size_t bytes = n * r->words * sizeof(uint64_t);
    if (fwrite(v, 1, bytes, r->f) != bytes)
        return wn__status_from_errno(errno);
    r->spilled_bytes += bytes;
    uint64_t start = r->nruns ? r->run_end[r->nruns - 1] : 0;
    r->run_end[r->nruns++] = start + n;
    r->total += n;
    return WN_OK;
}

/* Sort the buffer and append it to the spill as one run. */
static int spill_run(struct wn_runs *r)
{
    sort_buffer(r);
    r->total -= r->n; /* counted when they were added */
    int rc = wn__runs_add_run(r, r->buf, r->n);
    r->n = 0;
    return rc;
}

int wn__runs_add(struct wn_runs *r, const uint64_t *e)
{
    assert(!r->finished);
    if (r->n == r->bufcap) {
        int rc = r->bufcap < r->cap ? grow_buffer(r) : spill_run(r);
        if (rc)
            return rc;
    }
    memcpy(r->buf + r->n * r->words, e, r->words * sizeof(uint64_t));
    r->n++;
    r->total++;
    return WN_OK;
}

/* Refill run i's window from the spill. */
static int refill(struct wn_runs *r, size_t i)
{
    struct wn_runs_cursor *c = &r->cur[i];
    size_t esz = r->words * sizeof(uint64_t);
    size_t k = (size_t)WN_MIN(c->end - c->next, (uint64_t)c->cap);
    int rc = wn__pread_full(fileno(r->f), c->win, k * esz, c->next * esz);
    if (rc)
        return rc;
    c->next += k;
    c->pos = 0;
    c->len = k;
    return WN_OK;
}

static const uint64_t *head(const struct wn_runs *r, size_t i)
{
    const struct wn_runs_cursor *c = &r->cur[i];
    return c->win + c->pos * r->words;
}

/* Whether run a's entry goes before run b's (ties: the earlier run). */
static bool before(const struct wn_runs *r, size_t a, size_t b)
{
    int c = cmp_entry(head(r, a), head(r, b), r->words);
    return c < 0 || (c == 0 && a < b);
}

static void sift_down(struct wn_runs *r, size_t at)
{
    size_t *h = r->heap, n = r->nheap;
    for (;;) {
        size_t l = 2 * at + 1, m = at;
        if (l < n && before(r, h[l], h[m]))
            m = l;
        if (l + 1 < n && before(r, h[l + 1], h[m]))
            m = l + 1;
        if (m == at)
            return;
        size_t t = h[at];
        h[at] = h[m];
        h[m] = t;
        at = m;
    }
}

int wn__runs_finish(struct wn_runs *r)
{
    assert(!r->finished);
    if (!r->f) {
        r->finished = true;
        sort_buffer(r);
        r->out = 0;
        return WN_OK;
    }
    int rc = r->n ? spill_run(r) : WN_OK;
    r->finished = true;
    if (!rc && fflush(r->f) != 0)
        rc = wn__status_from_errno(errno);
    if (rc)
        return rc;
    /* The buffer's memory becomes the runs' windows. */
    wn__free(r->buf);
    r->buf = NULL;
    r->bufcap = 0;
    size_t k = r->nruns;
    size_t win = WN_MAX(r->cap / k, (size_t)WN_RUNS_MIN_WINDOW);
    r->cur = wn__calloc(k, sizeof(*r->cur));
    r->heap = wn__calloc(k, sizeof(*r->heap));
    if (!r->cur || !r->heap)
        return WN_ENOMEM;
    for (size_t i = 0; i < k; i++) {
        struct wn_runs_cursor *c = &r->cur[i];
        c->next = i ? r->run_end[i - 1] : 0;
        c->end = r->run_end[i];
        c->cap = (size_t)WN_MIN((uint64_t)win, c->end - c->next);
        c->win = wn__reallocarray(NULL, c->cap ? c->cap : 1,
                                  r->words * sizeof(uint64_t));
        if (!c->win)
            return WN_ENOMEM;
        if (c->end > c->next) {
            rc = refill(r, i);
            if (rc)
                return rc;
            r->heap[r->nheap++] = i;
        }
    }
    for (size_t i = r->nheap / 2; i-- > 0;)
        sift_down(r, i);
    r->merging = true;
    return WN_OK;
}

int wn__runs_next(struct wn_runs *r, const uint64_t **e)
{
    assert(r->finished);
    if (!r->merging) {
        if (r->out == r->n)
            return 0;
        *e = r->buf + r->out++ * r->words;
        return 1;
    }
    if (r->nheap == 0)
        return 0;
    /* The entry handed out last is consumed now: its window may be
     * refilled only once the caller is done with it. */
    if (r->pending) {
        r->pending = false;
        size_t i = r->heap[0];
        struct wn_runs_cursor *c = &r->cur[i];
        if (++c->pos == c->len) {
            if (c->next < c->end) {
                int rc = refill(r, i);
                if (rc)
                    return rc;
            } else {
                r->heap[0] = r->heap[--r->nheap];
            }
        }
        if (r->nheap == 0)
            return 0;
        sift_down(r, 0);
    }
    *e = head(r, r->heap[0]);
    r->pending = true;
    return 1;
}

void wn__runs_release(struct wn_runs *r)
{
    wn__free(r->buf);
    wn__free(r->run_end);
    for (size_t i = 0; r->cur && i < r->nruns; i++)
        wn__free(r->cur[i].win);
    wn__free(r->cur);
    wn__free(r->heap);
    if (r->f)
        fclose(r->f);
    memset(r, 0, sizeof(*r));
}
