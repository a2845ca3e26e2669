/*
 * exact.h - the exact stage across MPI ranks (lib/dist): every rank sends
 * each of its documents' 128-bit hashes to the rank that owns the hash's
 * range (entries of 24 bytes, MPI_Alltoallv in rounds), each owner sorts
 * its entries and finds the groups of equal hashes (the first: the
 * smallest document), and the (copy, first) pairs go to rank 0, which
 * gets one process's exact groups (lib/dedup/exact.c, wn__stage_exact) and
 * needs no other rank's hash. docs/SCALING.md gives the traffic.
 */
#ifndef WN_DIST_EXACT_H
#define WN_DIST_EXACT_H

#include "dedup/dedup.h"
#include "dist/dist.h"

/* This rank's documents: runs of consecutive document numbers (first[r],
 * count[r]) whose hashes are 16 bytes each (two native uint64) at element
 * pos[r] of the file fd. */
struct wn_dist_hashes {
    int fd;
    const uint64_t *first, *count, *pos;
    size_t nruns;
};

/*
 * The exact groups of ndocs documents over every rank (collective). On
 * rank 0, eg gets every member of a group of two or more but the first,
 * by document, with its group's first (as wn__stage_exact gives them),
 * and those members' bits are set in skip (ndocs / 8 + 1 bytes); the
 * other ranks pass eg and skip NULL. t->keys counts what this rank sent
 * of the hashes, t->pairs of the (copy, first) pairs. WN_EINTR when
 * *cancel (may be NULL) is set between two rounds (the caller aborts the
 * run, as after any failure).
 */
WN_INTERNAL int wn__dist_exact(const struct wn_dist_hashes *h, size_t ndocs,
                               int rank, int size, struct wn_egroups *eg,
                               uint8_t *skip, struct wn_dist_traffic *t,
                               volatile int *cancel);

#endif /* WN_DIST_EXACT_H */
