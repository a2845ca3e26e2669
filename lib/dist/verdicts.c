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
#include <time.h>

enum { OP_CODES = 2, OP_DECIDE = 3, OP_DONE = 4 };

/* 2^13 pairs a round: at most 2^13 records of about 600 bytes fetched
 * (4.8 MB) and as many served. 2^16 took 20 to 34 MB more peak RSS per
 * rank on 199 MB (docs/BENCHMARKS.md, "MPI ranks"); the rounds' collectives
 * cost little next to the records (about 1.7 pairs per record). */
#define ROUND_PAIRS ((size_t)1 << 13)

static size_t stride(const struct wn_dist_verifier *v)
{
    return (size_t)v->sk->rec_bytes + sizeof(uint32_t);
}

int wn__dist_verifier_init(struct wn_dist_verifier *v,
                           const struct wn_sketcher *sk, int rank, int size,
                           size_t nunits, const int *owner,
                           const uint64_t *unit_docs, int fd,
                           const struct wn_docs *docs,
                           struct wn_dist_traffic *t, volatile int *cancel)
{
    assert(v && sk && owner && unit_docs && t && !sk->need_sets);
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
    uint64_t *seen = wn__calloc((size_t)size, sizeof(*seen));
    int rc = v->ustart && v->ulocal && seen ? WN_OK : WN_ENOMEM;
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
        return wn__pread_full(v->fd, out, k * sb, l * sb);
    /* Rank 0: the job's spill holds the records of the documents it read
     * (wn_pass1.remote), in their order; the shingle counts are the
     * job's, by document number. Read whole, then spread from the end. */
    int rc = wn__pread_full(v->fd, out, k * rb, l * rb);
    for (size_t i = k; !rc && i-- > 0;) {
        memmove(out + i * sb, out + i * rb, rb);
        uint32_t nsh = wn__doc_nsh(v->docs, (size_t)(d + i));
        memcpy(out + i * sb + rb, &nsh, sizeof(uint32_t));
    }
    return rc;
}

/* Document d's record (this rank's own) with its shingle count after it. */
static int read_record(const struct wn_dist_verifier *v, uint64_t d,
                       uint8_t *out)
{
    return wn__dist_records_read(v, d, 1, out);
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
    const struct timespec ms = {0, 1000000};
    int done = 0;
    while (!done && !rc) {
        if (MPI_Test(&rq, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            rc = WN_EIO;
        else if (!done && v->rank != 0)
            nanosleep(&ms, NULL);
    }
    /* A request that completed is MPI_REQUEST_NULL: this returns at once. */
    if (MPI_Wait(&rq, MPI_STATUS_IGNORE) != MPI_SUCCESS)
        rc = WN_EIO;
    return rc;
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
 * (each one's first document its own) into out, verdict_bytes(op) each.
 */
static int verify_mine(struct wn_dist_verifier *v, const wn_docpair *mine,
                       size_t m, uint64_t op, uint8_t *out)
{
    size_t P = (size_t)v->size, sb = stride(v), vb = verdict_bytes(op);
    uint64_t *need = wn__reallocarray(NULL, m ? m : 1, sizeof(*need));
    uint64_t *req = wn__reallocarray(NULL, m ? m : 1, sizeof(*req));
    size_t *at = wn__reallocarray(NULL, m ? m : 1, sizeof(*at));
    int *ask_n = wn__calloc(P, sizeof(int)),
        *ask_at = wn__calloc(P, sizeof(int));
    int *srv_n = wn__calloc(P, sizeof(int)),
        *srv_at = wn__calloc(P, sizeof(int));
    int *out_n = wn__calloc(P, sizeof(int)),
        *out_at = wn__calloc(P, sizeof(int));
    int *in_n = wn__calloc(P, sizeof(int)), *in_at = wn__calloc(P, sizeof(int));
    uint64_t *srv = NULL;
    uint8_t *reply = NULL, *recs = NULL, *ra = wn__malloc(sb);
    int rc = need && req && at && ask_n && ask_at && srv_n && srv_at && out_n &&
                     out_at && in_n && in_at && ra
                 ? WN_OK
                 : WN_ENOMEM;
    if (!v->died) {
        v->died = true;
        wn__dist_test_die("WINNOW_TEST_MPI_DIE_VERIFY", v->rank);
    }
    /* The distinct second documents, grouped by owner in req. */
    size_t nn = 0;
    for (size_t i = 0; !rc && i < m; i++)
        need[i] = wn__pair_b(mine[i]);
    if (!rc && m) {
        qsort(need, m, sizeof(*need), cmp_u64);
        nn = 1;
        for (size_t i = 1; i < m; i++)
            if (need[i] != need[nn - 1])
                need[nn++] = need[i];
    }
    for (size_t i = 0; !rc && i < nn; i++)
        ask_n[owner_of(v, need[i])]++;
    for (size_t k = 1; !rc && k < P; k++)
        ask_at[k] = ask_at[k - 1] + ask_n[k - 1];
    if (!rc) {
        memset(in_n, 0, P * sizeof(int));
        for (size_t i = 0; i < nn; i++) {
            int k = owner_of(v, need[i]);
            at[i] = (size_t)ask_at[k] + (size_t)in_n[k]++;
            req[at[i]] = need[i];
        }
    }
    if (!rc && MPI_Alltoall(ask_n, 1, MPI_INT, srv_n, 1, MPI_INT,
                            MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = WN_EIO;
    size_t nsrv = 0;
    for (size_t k = 0; !rc && k < P; k++) {
        srv_at[k] = (int)nsrv;
        nsrv += (size_t)srv_n[k];
    }
    if (!rc && nsrv * sb > INT_MAX)
        rc = WN_ELIMIT;
    if (!rc) {
        srv = wn__reallocarray(NULL, nsrv ? nsrv : 1, sizeof(*srv));
        reply = wn__malloc(nsrv ? nsrv * sb : 1);
        recs = wn__malloc(nn ? nn * sb : 1);
        rc = srv && reply && recs ? WN_OK : WN_ENOMEM;
    }
    if (!rc &&
        MPI_Alltoallv(req, ask_n, ask_at, MPI_UINT64_T, srv, srv_n, srv_at,
                      MPI_UINT64_T, MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = WN_EIO;
    /* Serve: the records asked for, in the order asked. */
    for (size_t i = 0; !rc && i < nsrv; i++)
        rc = read_record(v, srv[i], reply + i * sb);
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
    /* Decide, each first document's record read once per run of it. */
    const struct wn_sketcher *sk = v->sk;
    const struct wn_words *wt = sk->lead_bytes && v->wt.cms ? &v->wt : NULL;
    uint64_t last = UINT64_MAX;
    for (size_t i = 0; !rc && i < m; i++) {
        uint64_t a = wn__pair_a(mine[i]), b = wn__pair_b(mine[i]);
        if (a != last) {
            rc = read_record(v, a, ra);
            last = a;
            if (rc)
                break;
        }
        const uint64_t *hit = bsearch(&b, need, nn, sizeof(*need), cmp_u64);
        assert(hit);
        const uint8_t *rb = recs + at[hit - need] * sb;
        uint32_t na, nb;
        memcpy(&na, ra + sk->rec_bytes, sizeof(na));
        memcpy(&nb, rb + sk->rec_bytes, sizeof(nb));
        struct wn_pair_decision d;
        wn__verify_records(sk, wt, ra, rb, na, nb, &d);
        if (op == OP_CODES)
            out[i] = d.same ? (uint8_t)(1 + wn__edge_flag(&d)) : 0;
        else
            memcpy(out + i * vb, &d, vb);
    }
    wn__free(need);
    wn__free(req);
    wn__free(at);
    wn__free(ask_n);
    wn__free(ask_at);
    wn__free(srv_n);
    wn__free(srv_at);
    wn__free(out_n);
    wn__free(out_at);
    wn__free(in_n);
    wn__free(in_at);
    wn__free(srv);
    wn__free(reply);
    wn__free(recs);
    wn__free(ra);
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
    size_t P = (size_t)v->size, vb = verdict_bytes(op);
    MPI_Datatype pt = wn__dist_pair_type();
    int *cnt = wn__calloc(P, sizeof(int)), *dis = wn__calloc(P, sizeof(int));
    int *vcnt = wn__calloc(P, sizeof(int)), *vdis = wn__calloc(P, sizeof(int));
    size_t *cur = wn__calloc(P, sizeof(size_t));
    wn_docpair *grouped = NULL, *mine = NULL;
    uint8_t *got = NULL, *res = NULL;
    int rc = cnt && dis && vcnt && vdis && cur ? WN_OK : WN_ENOMEM;
    if (!rc && pt == MPI_DATATYPE_NULL)
        rc = WN_EIO;
    if (!rc && v->rank == 0) {
        grouped = wn__reallocarray(NULL, m ? m : 1, sizeof(*grouped));
        got = wn__malloc(m ? m * vb : 1);
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
        mine = wn__reallocarray(NULL, mm ? (size_t)mm : 1, sizeof(*mine));
        res = wn__malloc(mm ? (size_t)mm * vb : 1);
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
    wn__free(cnt);
    wn__free(dis);
    wn__free(vcnt);
    wn__free(vdis);
    wn__free(cur);
    wn__free(grouped);
    wn__free(mine);
    wn__free(got);
    wn__free(res);
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
