/*
 * verdicts.c - verification at the records' owners (see verdicts.h).
 *
 * Rank 0 announces each step with a header (MPI_Ibcast, which the serving
 * ranks wait for sleeping 1 ms between tests: Open MPI's blocking calls
 * spin, and a spinning rank takes a core from rank 0 while it clusters):
 *
 *   OP_CODES   a round of at most ROUND_PAIRS pairs, verdict codes back
 *   OP_DECIDE  a round of removals' pairs, whole decisions back
 *   OP_DONE    the serving ranks return
 *
 * A round: rank 0 scatters the pairs to the owners of their first
 * documents (MPI_Scatterv, the pairs of each rank in their order); every
 * rank collects the distinct second documents of its pairs, asks their
 * owners for them (MPI_Alltoallv of 8-byte document numbers), serves what
 * it is asked (MPI_Alltoallv of records: rec_bytes and the shingle count),
 * decides its pairs (wn__verify_records, the rule of lib/dedup/verify.c)
 * and gives rank 0 the verdicts (MPI_Gatherv), which rank 0 puts back in
 * pair order. Memory per rank and round: the round's pairs (8 bytes each)
 * and at most one record per pair fetched.
 */
#include "dist/verdicts.h"
#include "dist/exchange.h"

#include "io/outfile.h"

#include <assert.h>
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

enum { OP_CODES = 2, OP_DECIDE = 3, OP_DONE = 4 };

/* 2^13 pairs a round: at most 2^13 records of about 600 bytes fetched
 * (4.8 MB) and as many served. 2^16 took 20 to 34 MB more peak RSS per
 * rank on 199 MB (docs/BENCHMARKS.md, "MPI ranks"); the rounds' collectives
 * cost little next to the records (about 1.7 pairs per record). */
#define ROUND_PAIRS ((size_t)1 << 13)

/* A rank reads its wanted records with one pread per run of them in one
 * unit whose gaps are at most READ_GAP records, READ_SPAN records at most:
 * a pread of one record (about 600 bytes) cost 3.5 us here (a system call
 * traps to the hypervisor on this kind of machine), the time to copy some
 * 20 KB, so a few unwanted records read between two wanted ones are
 * cheaper than a second call. */
#define READ_GAP  16
#define READ_SPAN 256

/* The rounds' buffers, kept from one round to the next and freed with the
 * verifier: a round's are megabytes, and a page touched for the first
 * time costs a trap here too. */
struct wn_dist_scratch {
    struct wn_buf need, req, at, srv, reply, recs, adoc, arecs, span;
    struct wn_buf grouped, mine, got, res;
    int *ints;   /* 12 arrays of size ints: the counts and displacements */
    size_t *cur; /* size */
    /* This rank's records mapped for reading (mapped()), or NULL. */
    const uint8_t *map;
    size_t map_len;
    bool map_tried;
};

static size_t stride(const struct wn_dist_verifier *v)
{
    return (size_t)v->sk->rec_bytes + sizeof(uint32_t);
}

/* Room for n items of size bytes in b (its contents dropped); NULL when
 * out of memory. */
static void *room(struct wn_buf *b, size_t n, size_t size)
{
    assert(size > 0);
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX / size)
        return NULL;
    b->len = 0;
    return wn__buf_reserve(b, n * size) ? NULL : b->data;
}

static void scratch_free(struct wn_dist_scratch *x)
{
    if (!x)
        return;
    struct wn_buf *bufs[] = {&x->need,  &x->req,     &x->at,   &x->srv,
                             &x->reply, &x->recs,    &x->adoc, &x->arecs,
                             &x->span,  &x->grouped, &x->mine, &x->got,
                             &x->res};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        wn__buf_release(bufs[i]);
    wn__free(x->ints);
    wn__free(x->cur);
    if (x->map)
        munmap((void *)x->map, x->map_len);
    wn__free(x);
}

int wn__dist_verifier_init(struct wn_dist_verifier *v,
                           const struct wn_sketcher *sk, int rank, int size,
                           size_t nunits, const int *owner,
                           const uint64_t *unit_docs, int fd,
                           const struct wn_docs *docs,
                           struct wn_dist_traffic *t, volatile int *cancel)
{
    assert(v && sk && owner && unit_docs && t && !sk->need_sets);
    assert(size > 0 && rank >= 0 && rank < size);
    memset(v, 0, sizeof(*v));
    v->sk = sk;
    v->rank = rank;
    v->size = size;
    v->nunits = nunits;
    v->owner = owner;
    v->fd = fd;
    v->docs = docs;
    v->t = t;
    v->cancel = cancel;
    v->ustart = wn__calloc(nunits + 1, sizeof(*v->ustart));
    v->ulocal = wn__calloc(nunits + 1, sizeof(*v->ulocal));
    v->scr = wn__calloc(1, sizeof(*v->scr));
    if (v->scr) {
        v->scr->ints = wn__calloc(12 * (size_t)size, sizeof(int));
        v->scr->cur = wn__calloc((size_t)size, sizeof(size_t));
    }
    uint64_t *seen = wn__calloc((size_t)size, sizeof(*seen));
    int rc =
        v->ustart && v->ulocal && v->scr && v->scr->ints && v->scr->cur && seen
            ? WN_OK
            : WN_ENOMEM;
    for (size_t u = 0; !rc && u < nunits; u++) {
        v->ustart[u + 1] = v->ustart[u] + unit_docs[u];
        v->ulocal[u] = seen[owner[u]];
        seen[owner[u]] += unit_docs[u];
    }
    wn__free(seen);
    return rc;
}

void wn__dist_verifier_release(struct wn_dist_verifier *v)
{
    wn__free(v->ustart);
    wn__free(v->ulocal);
    scratch_free(v->scr);
    memset(v, 0, sizeof(*v));
}

/* The unit of document d: the last whose first document is at most d
 * (an empty unit shares its first document with the next). */
size_t wn__dist_unit_of(const struct wn_dist_verifier *v, uint64_t d)
{
    size_t lo = 0, hi = v->nunits; /* ustart[lo] <= d < ustart[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->ustart[mid] <= d)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static int owner_of(const struct wn_dist_verifier *v, uint64_t d)
{
    return v->owner[wn__dist_unit_of(v, d)];
}

/*
 * Bytes [off, off + n) of this rank's records where they are mapped, or
 * NULL: read them with pread then. The records are random reads of a few
 * hundred bytes each (a round's second documents are spread over all of
 * a rank's); a pread cost about 2 us here against 0.2 us for a copy from
 * a mapping (600,000 reads of 592 bytes from a 170 MB file in the page
 * cache: 1.18 s against 0.11 s). So the file is mapped once, at the first
 * read (when it is complete), if it fits in half the run's budget
 * (--memory, or a quarter of physical RAM): its pages then count in the
 * rank's RSS, clean page cache the kernel can drop and read again. A
 * larger file, or a smaller budget, keeps pread.
 */
static const uint8_t *mapped(const struct wn_dist_verifier *v, uint64_t off,
                             size_t n)
{
    struct wn_dist_scratch *x = v->scr;
    if (!x->map_tried) {
        x->map_tried = true;
        struct stat st;
        if (fstat(v->fd, &st) == 0 && st.st_size > 0 &&
            (uint64_t)st.st_size <= wn__run_budget(v->memory) / 2 &&
            (uint64_t)st.st_size <= SIZE_MAX) {
            void *m =
                mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, v->fd, 0);
            if (m != MAP_FAILED) {
                x->map = m;
                x->map_len = (size_t)st.st_size;
            }
        }
    }
    if (!x->map || off > x->map_len || n > x->map_len - off)
        return NULL;
    return x->map + off;
}

/* n bytes of this rank's records from off into out. */
static int records_bytes(const struct wn_dist_verifier *v, uint8_t *out,
                         size_t n, uint64_t off)
{
    const uint8_t *m = mapped(v, off, n);
    if (!m)
        return wn__pread_full(v->fd, out, n, off);
    memcpy(out, m, n);
    return WN_OK;
}

int wn__dist_records_read(const struct wn_dist_verifier *v, uint64_t d,
                          size_t k, uint8_t *out)
{
    size_t rb = v->sk->rec_bytes, sb = stride(v);
    if (k == 0)
        return WN_OK;
    size_t u = wn__dist_unit_of(v, d);
    if (v->owner[u] != v->rank || d + k > v->ustart[u + 1])
        return WN_EIO; /* asked for another rank's document */
    uint64_t l = v->ulocal[u] + (d - v->ustart[u]);
    if (!v->docs)
        return records_bytes(v, out, k * sb, l * sb);
    /* Rank 0: the job's spill holds the records of the documents it read
     * (wn_pass1.remote), in their order; the shingle counts are the
     * job's, by document number. Read whole, then spread from the end. */
    int rc = records_bytes(v, out, k * rb, l * rb);
    for (size_t i = k; !rc && i-- > 0;) {
        memmove(out + i * sb, out + i * rb, rb);
        uint32_t nsh = wn__doc_nsh(v->docs, (size_t)(d + i));
        memcpy(out + i * sb + rb, &nsh, sizeof(uint32_t));
    }
    return rc;
}

/* This rank's documents d[0..n): their records, each with its shingle
 * count after it, into out in that order, with one read per run of them
 * that ascends with small gaps (READ_GAP, READ_SPAN): fewest reads when d
 * ascends, one a document where it does not. */
static int read_sorted(const struct wn_dist_verifier *v, const uint64_t *d,
                       size_t n, uint8_t *out)
{
    size_t sb = stride(v);
    uint8_t *span = room(&v->scr->span, READ_SPAN, sb);
    if (!span)
        return WN_ENOMEM;
    int rc = WN_OK;
    for (size_t i = 0, j; !rc && i < n; i = j) {
        uint64_t end = v->ustart[wn__dist_unit_of(v, d[i]) + 1];
        /* Unsigned: a document below the one before ends the run. */
        j = i + 1;
        while (j < n && d[j] < end && d[j] - d[j - 1] <= READ_GAP &&
               d[j] - d[i] < READ_SPAN)
            j++;
        size_t k = (size_t)(d[j - 1] - d[i]) + 1;
        if (k == j - i) { /* no gap: straight into place */
            rc = wn__dist_records_read(v, d[i], k, out + i * sb);
            continue;
        }
        rc = wn__dist_records_read(v, d[i], k, span);
        for (size_t t = i; !rc && t < j; t++)
            memcpy(out + t * sb, span + (size_t)(d[t] - d[i]) * sb, sb);
    }
    return rc;
}

/* Rank 0 announces the next step; the others wait for it sleeping (as
 * kept.c's reduce_sleeping). */
static int header(const struct wn_dist_verifier *v, uint64_t h[2])
{
    MPI_Request rq = MPI_REQUEST_NULL;
    int rc =
        MPI_Ibcast(h, 2, MPI_UINT64_T, 0, MPI_COMM_WORLD, &rq) == MPI_SUCCESS
            ? WN_OK
            : WN_EIO;
    return wn__dist_wait(&rq, rc, v->rank != 0);
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

/* Bytes of one verdict of op. */
static size_t verdict_bytes(uint64_t op)
{
    return op == OP_CODES ? 1 : sizeof(struct wn_pair_decision);
}

/*
 * This rank's share of a round (collective): the verdicts of its m pairs
 * (each one's first document its own; in pair order) into out,
 * verdict_bytes(op) each.
 */
static int verify_mine(struct wn_dist_verifier *v, const wn_docpair *mine,
                       size_t m, uint64_t op, uint8_t *out)
{
    struct wn_dist_scratch *x = v->scr;
    size_t P = (size_t)v->size, sb = stride(v), vb = verdict_bytes(op);
    int *ask_n = x->ints, *ask_at = ask_n + P, *srv_n = ask_at + P,
        *srv_at = srv_n + P, *out_n = srv_at + P, *out_at = out_n + P,
        *in_n = out_at + P, *in_at = in_n + P;
    memset(x->ints, 0, 8 * P * sizeof(int));
    uint64_t *need = room(&x->need, m, sizeof(uint64_t));
    uint64_t *req = room(&x->req, m, sizeof(uint64_t));
    uint64_t *adoc = room(&x->adoc, m, sizeof(uint64_t));
    size_t *at = room(&x->at, m, sizeof(size_t));
    int rc = need && req && adoc && at ? WN_OK : WN_ENOMEM;
    if (!v->died) {
        v->died = true;
        wn__dist_test_die("WINNOW_TEST_MPI_DIE_VERIFY", v->rank);
    }
    /* The first documents, one per run of equal ones (ascending for the
     * pairs of OP_CODES, in pair order; a removal's pairs of OP_DECIDE come
     * in the order of the removed records), and the distinct second ones,
     * these grouped by owner in req. */
    size_t na = 0, nn = 0;
    for (size_t i = 0; !rc && i < m; i++) {
        uint64_t a = wn__pair_a(mine[i]);
        if (na == 0 || a != adoc[na - 1])
            adoc[na++] = a;
        need[i] = wn__pair_b(mine[i]);
    }
    if (!rc)
        nn = wn__u64_sort_unique(need, m);
    for (size_t i = 0; !rc && i < nn; i++)
        ask_n[owner_of(v, need[i])]++;
    for (size_t k = 1; !rc && k < P; k++)
        ask_at[k] = ask_at[k - 1] + ask_n[k - 1];
    for (size_t i = 0; !rc && i < nn; i++) {
        int k = owner_of(v, need[i]);
        at[i] = (size_t)ask_at[k] + (size_t)in_n[k]++;
        req[at[i]] = need[i];
    }
    if (!rc && MPI_Alltoall(ask_n, 1, MPI_INT, srv_n, 1, MPI_INT,
                            MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = WN_EIO;
    size_t nsrv = 0;
    for (size_t k = 0; !rc && k < P; k++) {
        srv_at[k] = (int)nsrv;
        nsrv += (size_t)srv_n[k];
    }
    if (!rc && (nsrv * sb > INT_MAX || nn * sb > INT_MAX))
        rc = WN_ELIMIT;
    uint64_t *srv = rc ? NULL : room(&x->srv, nsrv, sizeof(uint64_t));
    uint8_t *reply = rc ? NULL : room(&x->reply, nsrv, sb);
    uint8_t *recs = rc ? NULL : room(&x->recs, nn, sb);
    uint8_t *arecs = rc ? NULL : room(&x->arecs, na, sb);
    if (!rc && !(srv && reply && recs && arecs))
        rc = WN_ENOMEM;
    if (!rc &&
        MPI_Alltoallv(req, ask_n, ask_at, MPI_UINT64_T, srv, srv_n, srv_at,
                      MPI_UINT64_T, MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = WN_EIO;
    /* Serve: the records each rank asked for, in the order it asked (its
     * documents ascending). */
    for (size_t k = 0; !rc && k < P; k++)
        rc = read_sorted(v, srv + srv_at[k], (size_t)srv_n[k],
                         reply + (size_t)srv_at[k] * sb);
    for (size_t k = 0; !rc && k < P; k++) {
        out_n[k] = srv_n[k] * (int)sb;
        out_at[k] = srv_at[k] * (int)sb;
        in_n[k] = ask_n[k] * (int)sb;
        in_at[k] = ask_at[k] * (int)sb;
        if ((int)k != v->rank)
            v->t->vrecs += (uint64_t)ask_n[k] * 8 + (uint64_t)out_n[k];
    }
    if (!rc && MPI_Alltoallv(reply, out_n, out_at, MPI_BYTE, recs, in_n, in_at,
                             MPI_BYTE, MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = WN_EIO;
    /* The first documents' records, then each pair decided (ai: the run of
     * the pair's first document). */
    if (!rc)
        rc = read_sorted(v, adoc, na, arecs);
    const struct wn_sketcher *sk = v->sk;
    const struct wn_words *wt = sk->lead_bytes && v->wt.cms ? &v->wt : NULL;
    size_t ai = 0;
    for (size_t i = 0; !rc && i < m; i++) {
        uint64_t a = wn__pair_a(mine[i]), b = wn__pair_b(mine[i]);
        if (adoc[ai] != a)
            ai++;
        assert(ai < na && adoc[ai] == a);
        const uint64_t *hit = bsearch(&b, need, nn, sizeof(*need), cmp_u64);
        assert(hit);
        const uint8_t *ra = arecs + ai * sb, *rb = recs + at[hit - need] * sb;
        uint32_t na_sh, nb_sh;
        memcpy(&na_sh, ra + sk->rec_bytes, sizeof(na_sh));
        memcpy(&nb_sh, rb + sk->rec_bytes, sizeof(nb_sh));
        struct wn_pair_decision d;
        wn__verify_records(sk, wt, ra, rb, na_sh, nb_sh, &d);
        if (op == OP_CODES)
            out[i] = d.same ? (uint8_t)(1 + wn__edge_flag(&d)) : 0;
        else
            memcpy(out + i * vb, &d, vb);
    }
    return rc;
}

/*
 * One round (collective): rank 0's pairs[0..m) (NULL elsewhere) go to the
 * owners of their first documents, and their verdicts come back into out
 * (rank 0, pair order).
 */
static int round_run(struct wn_dist_verifier *v, uint64_t op,
                     const wn_docpair *pairs, size_t m, uint8_t *out)
{
    struct wn_dist_scratch *x = v->scr;
    size_t P = (size_t)v->size, vb = verdict_bytes(op);
    MPI_Datatype pt = wn__dist_pair_type();
    /* The last four of the scratch's int arrays (verify_mine has the
     * first eight). */
    int *cnt = x->ints + 8 * P, *dis = cnt + P, *vcnt = dis + P,
        *vdis = vcnt + P;
    size_t *cur = x->cur;
    memset(cnt, 0, 4 * P * sizeof(int));
    memset(cur, 0, P * sizeof(size_t));
    wn_docpair *grouped = NULL, *mine = NULL;
    uint8_t *got = NULL, *res = NULL;
    int rc = pt == MPI_DATATYPE_NULL ? WN_EIO : WN_OK;
    if (!rc && v->rank == 0) {
        grouped = room(&x->grouped, m, sizeof(*grouped));
        got = room(&x->got, m, vb);
        rc = grouped && got ? WN_OK : WN_ENOMEM;
        for (size_t i = 0; !rc && i < m; i++)
            cnt[owner_of(v, wn__pair_a(pairs[i]))]++;
        for (size_t k = 1; !rc && k < P; k++)
            dis[k] = dis[k - 1] + cnt[k - 1];
        for (size_t i = 0; !rc && i < m; i++) {
            int k = owner_of(v, wn__pair_a(pairs[i]));
            grouped[(size_t)dis[k] + cur[k]++] = pairs[i];
        }
        for (size_t k = 1; !rc && k < P; k++)
            v->t->vpairs += (uint64_t)cnt[k] * sizeof(wn_docpair);
    }
    int mm = 0;
    if (!rc && MPI_Scatter(cnt, 1, MPI_INT, &mm, 1, MPI_INT, 0,
                           MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = WN_EIO;
    if (!rc) {
        mine = room(&x->mine, (size_t)mm, sizeof(*mine));
        res = room(&x->res, (size_t)mm, vb);
        rc = mine && res ? WN_OK : WN_ENOMEM;
    }
    if (!rc && MPI_Scatterv(grouped, cnt, dis, pt, mine, mm, pt, 0,
                            MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = WN_EIO;
    if (!rc)
        rc = verify_mine(v, mine, (size_t)mm, op, res);
    for (size_t k = 0; !rc && k < P; k++) {
        vcnt[k] = cnt[k] * (int)vb;
        vdis[k] = dis[k] * (int)vb;
    }
    if (!rc && v->rank != 0)
        v->t->verdicts += (uint64_t)mm * vb;
    if (!rc && MPI_Gatherv(res, mm * (int)vb, MPI_BYTE, got, vcnt, vdis,
                           MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = WN_EIO;
    /* Back in pair order: each owner's verdicts are in its pairs' order. */
    if (!rc && v->rank == 0) {
        memset(cur, 0, P * sizeof(*cur));
        for (size_t i = 0; i < m; i++) {
            int k = owner_of(v, wn__pair_a(pairs[i]));
            memcpy(out + i * vb, got + ((size_t)dis[k] + cur[k]++) * vb, vb);
        }
    }
    return rc;
}

int wn__dist_verdicts_run(struct wn_dist_verifier *v, const wn_docpair *pairs,
                          size_t npairs, uint8_t *codes,
                          struct wn_pair_decision *decisions)
{
    assert(v->rank == 0 && (codes || decisions));
    uint64_t op = decisions ? OP_DECIDE : OP_CODES;
    uint8_t *out = decisions ? (uint8_t *)decisions : codes;
    size_t vb = verdict_bytes(op);
    int rc = WN_OK;
    for (size_t p0 = 0; p0 < npairs && !rc; p0 += ROUND_PAIRS) {
        size_t m = WN_MIN(ROUND_PAIRS, npairs - p0);
        uint64_t h[2] = {op, m};
        rc = header(v, h);
        if (!rc)
            rc = round_run(v, op, pairs + p0, m, out + p0 * vb);
        if (!rc && v->cancel && *v->cancel)
            rc = WN_EINTR;
    }
    return rc;
}

int wn__dist_verdicts_done(struct wn_dist_verifier *v)
{
    assert(v->rank == 0);
    uint64_t h[2] = {OP_DONE, 0};
    return header(v, h);
}

int wn__dist_verdicts_serve(struct wn_dist_verifier *v)
{
    assert(v->rank != 0);
    for (;;) {
        uint64_t h[2] = {0, 0};
        int rc = header(v, h);
        if (rc)
            return rc;
        switch (h[0]) {
        case OP_DONE:
            return WN_OK;
        case OP_CODES:
        case OP_DECIDE:
            rc = round_run(v, h[0], NULL, 0, NULL);
            break;
        default:
            rc = WN_EFORMAT;
        }
        if (rc)
            return rc;
    }
}

/* ------------------------------------------------------------------------ */
/* Pairs kept at their owners                                                */
/* ------------------------------------------------------------------------ */

/* Pairs sent per round of wn__dist_pairs_to_owners: 2 MiB (4 wide). */
#define ROUTE_PAIRS ((size_t)1 << 18)

int wn__dist_pairs_to_owners(const struct wn_dist_verifier *v,
                             wn_docpair **pairs, size_t *npairs, size_t *cap,
                             uint64_t *total)
{
    assert(pairs && npairs && cap && total);
    uint64_t mine = (*npairs + ROUTE_PAIRS - 1) / ROUTE_PAIRS, rounds = 0;
    if (MPI_Allreduce(&mine, &rounds, 1, MPI_UINT64_T, MPI_MAX,
                      MPI_COMM_WORLD) != MPI_SUCCESS)
        return WN_EIO;
    int *dest = wn__reallocarray(NULL, ROUTE_PAIRS, sizeof(int));
    struct wn_dist_round x = {0};
    void *got = NULL;
    size_t ngot = 0, gotcap = 0;
    int rc = dest ? WN_OK : WN_ENOMEM;
    for (uint64_t q = 0; !rc && q < rounds; q++) {
        size_t at = (size_t)WN_MIN((uint64_t)*npairs, q * ROUTE_PAIRS);
        size_t m = WN_MIN(ROUTE_PAIRS, *npairs - at);
        for (size_t i = 0; i < m; i++)
            dest[i] = owner_of(v, wn__pair_a((*pairs)[at + i]));
        rc = wn__dist_round(&x, m ? *pairs + at : NULL, dest, m,
                            sizeof(wn_docpair), v->rank, v->size, &got, &ngot,
                            &gotcap, &v->t->pairs);
    }
    wn__dist_round_release(&x);
    wn__free(dest);
    if (rc) {
        wn__free(got);
        return rc;
    }
    wn__free(*pairs);
    *pairs = got;
    *cap = gotcap;
    *npairs = wn__pairs_sort_unique(got, ngot);
    uint64_t n = *npairs;
    if (MPI_Allreduce(&n, total, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD) !=
        MPI_SUCCESS)
        return WN_EIO;
#ifdef WN_TEST_HOOKS
    /* Rank 0's environment decides (mpirun may not pass it to every node). */
    int on = v->rank == 0 && getenv("WINNOW_TEST_PAIRS_DIGEST") != NULL;
    if (MPI_Bcast(&on, 1, MPI_INT, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
        return WN_EIO;
    if (on) {
        uint64_t d = wn__pairs_digest(got, *npairs), all = 0;
        if (MPI_Reduce(&d, &all, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD) !=
            MPI_SUCCESS)
            return WN_EIO;
        if (v->rank == 0)
            wn__test_pairs_digest(all);
    }
#endif
    return WN_OK;
}

/* An accepted pair and its verdict code, for rank 0's sort. */
struct coded {
    wn_docpair p;
    uint8_t code;
};

static int coded_cmp(const void *x, const void *y)
{
    const struct coded *a = x, *b = y;
    return (a->p > b->p) - (a->p < b->p);
}

/* Rank 0's accepted pairs from every rank, appended round by round. */
struct coded_list {
    struct coded *c;
    size_t n, cap;
};

/* A round's accepted pairs of every rank (at most ROUND_PAIRS each, with
 * their codes: 1 + the edge flag) appended to rank 0's list (collective). */
static int edges_gather(struct wn_dist_verifier *v, const wn_docpair *acc,
                        const uint8_t *codes, size_t n, struct coded_list *l)
{
    assert(n <= ROUND_PAIRS);
    size_t P = (size_t)v->size;
    MPI_Datatype pt = wn__dist_pair_type();
    if (pt == MPI_DATATYPE_NULL)
        return WN_EIO;
    struct wn_dist_scratch *x = v->scr;
    /* The first two of the scratch's int arrays: verify_mine is done. */
    int mine = (int)n, *cnt = x->ints, *dis = cnt + P;
    int rc = MPI_Gather(&mine, 1, MPI_INT, cnt, 1, MPI_INT, 0,
                        MPI_COMM_WORLD) == MPI_SUCCESS
                 ? WN_OK
                 : WN_EIO;
    uint64_t all = 0;
    for (size_t k = 0; !rc && v->rank == 0 && k < P; k++) {
        dis[k] = (int)all;
        all += (uint64_t)cnt[k];
    }
    /* P * ROUND_PAIRS pairs at most: under INT_MAX up to 2^18 ranks. */
    if (!rc && all > INT_MAX)
        rc = WN_ELIMIT;
    wn_docpair *ap = NULL;
    uint8_t *ac = NULL;
    if (!rc && v->rank == 0) {
        ap = room(&x->grouped, (size_t)all, sizeof(*ap));
        ac = room(&x->got, (size_t)all, 1);
        rc = ap && ac ? WN_OK : WN_ENOMEM;
    }
    if (!rc && v->rank != 0)
        v->t->verdicts += (uint64_t)n * (sizeof(wn_docpair) + 1);
    if (!rc && MPI_Gatherv(acc, mine, pt, ap, cnt, dis, pt, 0,
                           MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = WN_EIO;
    if (!rc && MPI_Gatherv(codes, mine, MPI_BYTE, ac, cnt, dis, MPI_BYTE, 0,
                           MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = WN_EIO;
    if (!rc && v->rank == 0 && all && WN_GROW(l->c, l->cap, l->n + all))
        rc = WN_ENOMEM;
    for (uint64_t i = 0; !rc && v->rank == 0 && i < all; i++)
        l->c[l->n++] = (struct coded){ap[i], ac[i]};
    return rc;
}

/* The largest of every rank's *v (collective). A rank that is done with
 * its round waits here for the slowest, yielding the processor between
 * tests (sched_yield: on a machine with fewer cores than ranks the others
 * run meanwhile). Sleeping 1 ms between tests instead, as header() does
 * for the long waits, cost about 0.3 s of the verification of gen-1G on 2
 * ranks (0.73-1.0 s against 0.45-0.62): a round is short. */
static int max_yielding(const uint64_t *v, uint64_t *max)
{
    MPI_Request rq = MPI_REQUEST_NULL;
    int rc = MPI_Iallreduce(v, max, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD,
                            &rq) == MPI_SUCCESS
                 ? WN_OK
                 : WN_EIO;
    return wn__dist_wait(&rq, rc, false);
}

/* Second documents of one owner a rank asks for in a round, at least. */
#define ASK_MIN ((size_t)64)

/*
 * How many of a rank's next pairs p[0, n) make its share of a round: at
 * most ROUND_PAIRS, and at most ask_max second documents (repeats
 * counted) of any one owner, so that no rank serves more than P ask_max
 * records in a round however the pairs fall (the pairs of the rounds of
 * wn__dist_verdicts_run are ROUND_PAIRS in all, not per rank). cnt: P
 * counters.
 */
static size_t round_share(const struct wn_dist_verifier *v, const wn_docpair *p,
                          size_t n, size_t ask_max, size_t *cnt)
{
    memset(cnt, 0, (size_t)v->size * sizeof(*cnt));
    size_t m = 0;
    while (m < n && m < ROUND_PAIRS) {
        size_t *c = &cnt[owner_of(v, wn__pair_b(p[m]))];
        if (*c == ask_max)
            break;
        (*c)++;
        m++;
    }
    return m;
}

int wn__dist_verify_owned(struct wn_dist_verifier *v, const wn_docpair *pairs,
                          size_t npairs, struct wn_edges *e)
{
    assert((v->rank == 0) == (e != NULL));
    size_t P = (size_t)v->size;
    size_t ask_max = WN_MAX(ROUND_PAIRS / P, ASK_MIN);
    uint8_t *codes = wn__malloc(ROUND_PAIRS);
    wn_docpair *acc = wn__reallocarray(NULL, ROUND_PAIRS, sizeof(*acc));
    uint8_t *acode = wn__malloc(ROUND_PAIRS);
    size_t *cnt = wn__calloc(P, sizeof(*cnt));
    struct coded_list l = {0};
    int rc = codes && acc && acode && cnt ? WN_OK : WN_ENOMEM;
    /* Rounds until no rank has pairs left: every rank takes part in each
     * (its share may be empty). A rank that fails returns at once and its
     * caller aborts the run (MPI_Abort), so none waits in a collective. */
    for (size_t at = 0; !rc;) {
        uint64_t left = npairs - at, any = 0;
        rc = max_yielding(&left, &any);
        if (rc || any == 0)
            break;
        size_t m =
            left ? round_share(v, pairs + at, (size_t)left, ask_max, cnt) : 0;
        assert(m == 0 || owner_of(v, wn__pair_a(pairs[at])) == v->rank);
        rc = verify_mine(v, m ? pairs + at : NULL, m, OP_CODES, codes);
        size_t nacc = 0;
        for (size_t i = 0; !rc && i < m; i++) {
            if (codes[i]) {
                acc[nacc] = pairs[at + i];
                acode[nacc++] = codes[i];
            }
        }
        if (!rc)
            rc = edges_gather(v, acc, acode, nacc, &l);
        at += m;
        if (!rc && v->cancel && *v->cancel)
            rc = WN_EINTR;
    }
    /* Each rank's edges came in pair order, the ranks' interleave. */
    if (!rc && e) {
        if (l.n)
            qsort(l.c, l.n, sizeof(*l.c), coded_cmp);
        for (size_t i = 0; !rc && i < l.n; i++)
            rc = wn__edge_push(e, l.c[i].p, (uint8_t)(l.c[i].code - 1), NULL);
    }
    wn__free(l.c);
    wn__free(codes);
    wn__free(acc);
    wn__free(acode);
    wn__free(cnt);
    return rc;
}
