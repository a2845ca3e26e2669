/*
 * crosspart.c - repeated windows across the parts of a corpus that does not
 * fit the memory budget in one suffix array.
 *
 * Lee et al. merge the suffix arrays of the parts; that needs random access
 * to the whole text during the merge. Here the parts meet through hashes
 * instead, which needs only sequential files: a partitioned hash join.
 *  1. Every window of k tokens of every part is hashed (XXH3-128 of its
 *     code bytes) into a 16-byte record: a = the low 64 hash bits, b = 24
 *     more hash bits above the 40-bit global token. The top bits of a pick
 *     one of nbuckets spill files, so equal windows meet in one bucket.
 *     Each of the (two) threads that sort parts writes its own set of
 *     bucket files; a bucket is the union of its files.
 *  2. Each bucket is loaded and sorted by (a, b): equal windows are then
 *     one run, ordered by token. A run whose first and last tokens lie in
 *     different parts is a window repeated across parts; its count and
 *     partner (first occurrence, or the second for the first) replace what
 *     the parts' suffix arrays said, for every member. Runs inside one part
 *     are exactly what that part's suffix array already found.
 *  3. The replacements, (token, entry) records, are sorted by token in
 *     chunks and written into the windows file block by block.
 * Two windows are taken as equal when 88 hash bits agree: for N windows
 * the chance of any false match is below N^2 / 2^89 (2e-9 for 10^9).
 *
 * Memory: two threads join buckets, each holding one bucket (32 bytes per
 * window with the sort's scratch) and its rewrites; nbuckets is the
 * smallest power of two that makes two average buckets fit the budget, at
 * most 128 (a bucket then grows past its share only for corpora above 64
 * budgets, or for one window repeated more than budget/64 times). The
 * rewrites are then applied in chunks of budget/32. Disk: 16 bytes per
 * token, read once.
 */
#include "passages/passages.h"
#include "sketch/hash128.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_BUCKETS   128u /* per writer */
#define BUCKET_BUFFER (16u << 10)
#define WINDOW_SEED   UINT64_C(0x77696e6e6f77)
#define BLOCK_ENTRIES 8192u /* windows-file entries patched per pread */
#define JOIN_THREADS  2u
/* Windows per bucket on average at most: a bucket is loaded and sorted
 * between two looks at the cancel flag (4M windows, 64 MB, sort well
 * under a second), and the join stays far below a large budget. */
#define BUCKET_WINDOWS (UINT64_C(4) << 20)

int wn__cross_init(struct wn_cross *c, struct wn_frame *frame, uint64_t budget,
                   uint64_t total_tokens, const uint64_t *part_tok,
                   size_t nparts, volatile int *cancel)
{
    memset(c, 0, sizeof(*c));
    c->budget = budget ? budget : 1;
    c->part_tok = part_tok;
    c->nparts = nparts;
    c->frame = frame;
    c->cancel = cancel;
    /* Two joining threads each hold a bucket and its sort's scratch. */
    uint64_t want = total_tokens * 32 * JOIN_THREADS / c->budget + 1;
    want = WN_MAX(want, total_tokens / BUCKET_WINDOWS + 1);
    unsigned nb = 1, bits = 0;
    while (nb < want && nb < MAX_BUCKETS) {
        nb *= 2;
        bits++;
    }
    c->nbuckets = nb;
    c->shift = 64 - bits;
    c->bucket = wn__calloc((size_t)nb * WN_CROSS_WRITERS, sizeof(FILE *));
    if (!c->bucket)
        return WN_ENOMEM;
    for (unsigned i = 0; i < nb * WN_CROSS_WRITERS; i++) {
        char name[48];
        snprintf(name, sizeof(name), "windows-bucket-%u-%u", i / nb, i % nb);
        c->bucket[i] = wn__frame_spill(frame, name, BUCKET_BUFFER);
        if (!c->bucket[i])
            return WN_EOPEN;
    }
    c->fix = wn__frame_spill(frame, "windows-cross", 1u << 16);
    return c->fix ? WN_OK : WN_EOPEN;
}

void wn__cross_release(struct wn_cross *c)
{
    if (c->bucket) {
        for (unsigned i = 0; i < c->nbuckets * WN_CROSS_WRITERS; i++)
            if (c->bucket[i])
                fclose(c->bucket[i]);
        wn__free(c->bucket);
    }
    if (c->fix)
        fclose(c->fix);
    for (unsigned w = 0; w < WN_CROSS_WRITERS; w++)
        wn__free(c->starts[w]);
    memset(c, 0, sizeof(*c));
}

static int put(FILE *f, const struct wn_pair64 *r)
{
    return fwrite(r, sizeof(*r), 1, f) == 1 ? WN_OK
                                            : wn__status_from_errno(errno);
}

int wn__cross_add(struct wn_cross *c, unsigned writer,
                  const unsigned char *text, size_t n, uint32_t k,
                  uint64_t tok_base)
{
    if (writer >= WN_CROSS_WRITERS)
        return WN_EINVAL;
    FILE **bucket = c->bucket + (size_t)writer * c->nbuckets;
    uint64_t tok = tok_base;
    size_t p = 0;
    while (p < n) {
        /* One document: the offsets of its codes, then its windows. */
        size_t nt = 0;
        while (text[p] != WN_CODE_END) {
            if (WN_GROW(c->starts[writer], c->starts_cap[writer], nt + 1))
                return WN_ENOMEM;
            c->starts[writer][nt++] = p;
            p += wn__code_len(text[p]);
        }
        const uint64_t *starts = c->starts[writer];
        size_t end = p++;
        for (size_t t = 0; t + k <= nt; t++) {
            size_t a = starts[t];
            size_t b = t + k < nt ? starts[t + k] : end;
            uint64_t h[2];
            wn__hash128(text + a, b - a, WINDOW_SEED, h);
            struct wn_pair64 r = {h[0], (h[1] & ~WN_WIN_TOK_MASK) | (tok + t)};
            unsigned i = c->nbuckets > 1 ? (unsigned)(h[0] >> c->shift) : 0;
            int rc = put(bucket[i], &r);
            if (rc)
                return rc;
        }
        tok += nt;
        if (c->cancel && *c->cancel)
            return WN_EINTR;
    }
    return WN_OK;
}

/* The part that holds global token t. */
static size_t part_of(const struct wn_cross *c, uint64_t t)
{
    size_t lo = 0, hi = c->nparts; /* part_tok[lo] <= t < part_tok[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->part_tok[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Load bucket b: the records of every writer, one after the other. The
 * files are emptied as they are read, to give their pages back. */
static int load(struct wn_cross *c, unsigned b, struct wn_pair64 **v, size_t *n)
{
    size_t cnt[WN_CROSS_WRITERS], total = 0;
    for (unsigned w = 0; w < WN_CROSS_WRITERS; w++) {
        FILE *f = c->bucket[(size_t)w * c->nbuckets + b];
        if (fflush(f) != 0)
            return wn__status_from_errno(errno);
        off_t size = ftello(f);
        if (size < 0 || fseeko(f, 0, SEEK_SET) != 0)
            return WN_EIO;
        cnt[w] = (size_t)size / sizeof(struct wn_pair64);
        total += cnt[w];
    }
    struct wn_pair64 *a = wn__reallocarray(NULL, total ? total : 1, sizeof(*a));
    if (!a)
        return WN_ENOMEM;
    size_t at = 0;
    for (unsigned w = 0; w < WN_CROSS_WRITERS; w++) {
        FILE *f = c->bucket[(size_t)w * c->nbuckets + b];
        if (fread(a + at, sizeof(*a), cnt[w], f) != cnt[w] ||
            ftruncate(fileno(f), 0) != 0) {
            wn__free(a);
            return WN_EIO;
        }
        at += cnt[w];
    }
    *v = a;
    *n = total;
    return WN_OK;
}

/* What one joining thread collects. */
struct joiner {
    struct wn_cross *c;
    pthread_mutex_t *mu; /* guards next, the rewrite file and rc */
    unsigned *next;      /* the next bucket to take */
    int *rc;             /* the first error */
    struct wn_buf fix;   /* rewrites of the current bucket */
    uint64_t groups, windows;
};

/* Find the cross-part runs of one bucket; their rewrites go to j->fix. */
static int join_bucket(struct joiner *j, unsigned b)
{
    struct wn_cross *c = j->c;
    struct wn_pair64 *v = NULL;
    size_t n = 0;
    int rc = load(c, b, &v, &n);
    if (!rc)
        rc = wn__sort_pairs(v, n);
    j->fix.len = 0;
    for (size_t i = 0; i < n && !rc;) {
        size_t e = i + 1;
        while (e < n && v[e].a == v[i].a &&
               (v[e].b & ~WN_WIN_TOK_MASK) == (v[i].b & ~WN_WIN_TOK_MASK))
            e++;
        uint64_t first = v[i].b & WN_WIN_TOK_MASK;
        uint64_t last = v[e - 1].b & WN_WIN_TOK_MASK;
        if (e - i >= 2 && part_of(c, first) != part_of(c, last)) {
            uint64_t second = v[i + 1].b & WN_WIN_TOK_MASK;
            j->groups++;
            for (size_t x = i; x < e && !rc; x++) {
                uint64_t t = v[x].b & WN_WIN_TOK_MASK;
                struct wn_pair64 fix = {
                    t, wn__win_pack(e - i, t == first ? second : first)};
                rc = wn__buf_append(&j->fix, &fix, sizeof(fix));
                j->windows++;
            }
        }
        i = e;
    }
    wn__free(v);
    return rc;
}

/* Take buckets until none is left or a thread failed. */
static void join_main(void *arg, unsigned slot)
{
    (void)slot;
    struct joiner *j = arg;
    struct wn_cross *c = j->c;
    for (;;) {
        pthread_mutex_lock(j->mu);
        unsigned b = *j->next;
        bool stop = *j->rc != WN_OK || b >= c->nbuckets;
        if (!stop)
            (*j->next)++;
        pthread_mutex_unlock(j->mu);
        if (stop)
            break;
        int rc = join_bucket(j, b);
        if (!rc && c->cancel && *c->cancel)
            rc = WN_EINTR;
        pthread_mutex_lock(j->mu);
        /* Rewrites are applied in token order later, so the order in which
         * buckets append them does not matter. */
        if (!rc && j->fix.len &&
            fwrite(j->fix.data, 1, j->fix.len, c->fix) != j->fix.len)
            rc = wn__status_from_errno(errno);
        if (rc && *j->rc == WN_OK)
            *j->rc = rc;
        pthread_mutex_unlock(j->mu);
    }
}

/* Write sorted rewrites into the windows file, one block at a time. */
static int apply(int win_fd, const struct wn_pair64 *v, size_t n,
                 uint64_t *block)
{
    for (size_t i = 0; i < n;) {
        uint64_t first = v[i].a / BLOCK_ENTRIES * BLOCK_ENTRIES;
        size_t j = i;
        while (j < n && v[j].a < first + BLOCK_ENTRIES)
            j++;
        uint64_t last = v[j - 1].a;
        size_t cnt = (size_t)(last - first + 1);
        int rc = wn__pread_full(win_fd, block, cnt * 8, first * 8);
        if (rc)
            return rc;
        for (size_t x = i; x < j; x++)
            block[v[x].a - first] = v[x].b;
        rc = wn__pwrite_full(win_fd, block, cnt * 8, first * 8);
        if (rc)
            return rc;
        i = j;
    }
    return WN_OK;
}

int wn__cross_finish(struct wn_cross *c, struct wn_pool *pool, int win_fd)
{
    /* Two tasks join buckets; each holds one bucket at a time. */
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    unsigned next = 0;
    int rc = WN_OK;
    struct joiner j[JOIN_THREADS];
    struct wn_pool_task task[JOIN_THREADS];
    memset(task, 0, sizeof(task));
    for (unsigned i = 0; i < JOIN_THREADS; i++) {
        j[i] = (struct joiner){c, &mu, &next, &rc, {0}, 0, 0};
        wn__pool_submit(pool, &task[i], join_main, &j[i]);
    }
    wn__pool_wait(pool);
    for (unsigned i = 0; i < JOIN_THREADS; i++) {
        c->cross_groups += j[i].groups;
        c->cross_windows += j[i].windows;
        wn__buf_release(&j[i].fix);
    }
    pthread_mutex_destroy(&mu);
    if (rc)
        return rc;
    if (fflush(c->fix) != 0 || fseeko(c->fix, 0, SEEK_SET) != 0)
        return WN_EIO;
    /* Chunks of at most BUCKET_WINDOWS rewrites, the cancel flag seen
     * between them. Each token has one rewrite, so chunks commute. */
    size_t chunk = (size_t)WN_MAX(c->budget / 32, 4096);
    chunk = (size_t)WN_MIN((uint64_t)chunk, BUCKET_WINDOWS);
    chunk = (size_t)WN_MIN((uint64_t)chunk, c->cross_windows + 1);
    struct wn_pair64 *v = wn__reallocarray(NULL, chunk, sizeof(*v));
    uint64_t *block = wn__reallocarray(NULL, BLOCK_ENTRIES, sizeof(*block));
    if (!v || !block)
        rc = WN_ENOMEM;
    while (!rc) {
        if (c->cancel && *c->cancel) {
            rc = WN_EINTR;
            break;
        }
        size_t got = fread(v, sizeof(*v), chunk, c->fix);
        if (got == 0) {
            if (ferror(c->fix))
                rc = WN_EIO;
            break;
        }
        rc = wn__sort_pairs(v, got);
        if (!rc)
            rc = apply(win_fd, v, got, block);
    }
    wn__free(v);
    wn__free(block);
    return rc;
}
