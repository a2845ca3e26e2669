/*
 * exchange.h - the band join across MPI ranks (lib/dist): every rank sends
 * each band key of its documents to the rank that owns the key's range
 * (MPI_Alltoallv, in rounds of bounded size), each rank joins the keys of
 * its range band by band (lib/cluster: the same sort and bucket rule as
 * lib/dedup/candidates.c), and the candidate pairs go to rank 0. Called by
 * every rank at once (collective); docs/SCALING.md gives the traffic.
 */
#ifndef WN_DIST_EXCHANGE_H
#define WN_DIST_EXCHANGE_H

#include "cluster/cluster.h"
#include "common/common.h"
#include "dist/dist.h"

#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

/*
 * This rank's documents and where their keys are: runs of consecutive
 * document numbers (first[r], count[r]); run r's keys of family j are
 * count[r] native uint64 values at element pos[r] of key_f[j].
 */
struct wn_dist_keys {
    uint32_t nkeys;
    FILE *const *key_f; /* nkeys, flushed; read with pread */
    const uint64_t *first, *count, *pos;
    size_t nruns;
};

/* The owner of a key: key ranges of equal width over the top 32 bits. */
static inline int wn__dist_key_owner(uint64_t key, int size)
{
    return (int)(((key >> 32) * (uint64_t)size) >> 32);
}

/*
 * The band join of ndocs documents over every rank (collective: every rank
 * calls it with the same ndocs, skip, nkeys, all_pairs_max and keep).
 * Documents whose bit is set in skip (ndocs / 8 + 1 bytes) are left out.
 * On rank 0, *pairs and *npairs get every candidate pair (wn__pair(a, b),
 * a < b, sorted, distinct) and *st the join's figures summed over ranks;
 * on the other ranks *pairs is NULL. With keep, every rank's *pairs get
 * the pairs it found instead (sorted, distinct; another rank may find some
 * of them too), and none go to rank 0. t->keys and t->pairs count what
 * this rank sent.
 */
WN_INTERNAL int wn__dist_join(const struct wn_dist_keys *k, size_t ndocs,
                              const uint8_t *skip, uint32_t all_pairs_max,
                              bool keep, int rank, int size, wn_docpair **pairs,
                              size_t *npairs, struct wn_join_stats *st,
                              struct wn_dist_traffic *t);

/* The MPI datatype of a wn_docpair: MPI_UINT64_T, or with 64-bit document
 * numbers (-Dwide_docs=true) two of them, made and committed on the first
 * call (from one thread; kept until MPI_Finalize). Pairs and document
 * numbers travel in the layout of the host (the ranks run one build). */
WN_INTERNAL MPI_Datatype wn__dist_pair_type(void);

/*
 * One round of an all-to-all (collective): n entries of esize bytes at
 * ent, entry i to rank dest[i]; what this rank receives (from every rank,
 * in rank order) is appended to *v (*nv entries of esize, room for *vcap,
 * grown as needed). *sent counts the bytes sent to other ranks. x is the
 * caller's scratch, kept across rounds (zeroed at first; released with
 * wn__dist_round_release).
 */
struct wn_dist_round {
    int *cnt; /* counts and displacements, 4 per rank */
    char *sendbuf;
    size_t sendcap;
};
WN_INTERNAL int wn__dist_round(struct wn_dist_round *x, const void *ent,
                               const int *dest, size_t n, size_t esize,
                               int rank, int size, void **v, size_t *nv,
                               size_t *vcap, uint64_t *sent);
WN_INTERNAL void wn__dist_round_release(struct wn_dist_round *x);

/* Every rank's pairs (*pairs, *npairs of room *cap) to rank 0, where they
 * are sorted and made distinct (collective); the other ranks keep theirs.
 * *sent counts the bytes sent. */
WN_INTERNAL int wn__dist_gather_pairs(wn_docpair **pairs, size_t *npairs,
                                      size_t *cap, int rank, int size,
                                      uint64_t *sent);

/*
 * Complete a non-blocking collective (*rq, started with its MPI_I...
 * call; rc that call's status, WN_OK or WN_EIO), testing it and between
 * tests sleeping 1 ms (nap: for waits that may be long) or yielding the
 * processor (sched_yield): Open MPI's blocking calls spin, and on a
 * machine with fewer cores than ranks a spinning rank takes a core from
 * one that works. Returns rc or WN_EIO.
 */
static inline int wn__dist_wait(MPI_Request *rq, int rc, bool nap)
{
    const struct timespec ms = {0, 1000000};
    int done = 0;
    while (!done && !rc) {
        if (MPI_Test(rq, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            rc = WN_EIO;
        else if (!done && nap)
            nanosleep(&ms, NULL);
        else if (!done)
            sched_yield();
    }
    /* A request that completed is MPI_REQUEST_NULL: this returns at once. */
    if (MPI_Wait(rq, MPI_STATUS_IGNORE) != MPI_SUCCESS)
        rc = WN_EIO;
    return rc;
}

/* Test hooks (tests/cli/test_mpi.sh; only in a -Dtest_hooks=true build,
 * a no-op otherwise): when the variable var holds this rank's number, the
 * rank kills itself with SIGKILL, as a crashed node would. */
WN_INTERNAL void wn__dist_test_die(const char *var, int rank);

#endif /* WN_DIST_EXCHANGE_H */
