/*
 * kept.h - kept.jsonl written by the ranks that read the records (lib/dist,
 * docs/SCALING.md). No rank sends an accepted record's bytes to rank 0:
 * while it reads its units the first time, a rank notes the length of
 * each accepted record's kept line (a spill file, 8 bytes a record) and
 * the fingerprint of each unit (reader.h). Once rank 0 has decided, it
 * sends every rank one bit per document of that rank (kept or not). Then,
 * all ranks together (wn__dist_kept_write, collective): each sums the kept
 * bytes of its units, one MPI_Allreduce gives every rank every unit's size
 * and so every unit's offset in kept.jsonl (units in input order), and
 * each rank reads its units again, checks them against the first reading,
 * and pwrites its kept lines at those offsets into rank 0's temporary
 * kept.jsonl, which it opens by name: the output directory must be on a
 * file system every rank sees.
 */
#ifndef WN_DIST_KEPT_H
#define WN_DIST_KEPT_H

#include "common/common.h"
#include "io/reader.h"

#include <stdio.h>

/* What one rank notes of its own units in its first reading. */
struct wn_dist_kept {
    size_t units;             /* of the plan */
    struct wn_prints *prints; /* per unit: the fingerprint of its reading */
    uint64_t *docs;           /* per unit: this rank's documents from it */
    FILE *lens;     /* per document, in reading order: its kept line's bytes */
    uint64_t ndocs; /* documents noted */
    struct wn_buf line;
};

/* The run's units, in input order, and how a rank opens one of its own. */
struct wn_dist_units {
    size_t n;
    const int *owner;      /* rank reading unit u */
    const uint32_t *input; /* unit u is (part of) inputs[input[u]] */
    const char *const *inputs;
    int (*open)(void *ud, size_t u, struct wn_reader **r);
    void *ud;
};

/* Start with lens, a spill file this takes (closed by release, also on
 * failure). WN_OK or WN_ENOMEM. */
WN_INTERNAL int wn__dist_kept_init(struct wn_dist_kept *k, size_t units,
                                   FILE *lens);
WN_INTERNAL void wn__dist_kept_release(struct wn_dist_kept *k);
/* Fingerprint the first reading of unit u by r (before its first record). */
WN_INTERNAL int wn__dist_kept_watch(struct wn_dist_kept *k, size_t u,
                                    struct wn_reader *r);
/* An accepted record of unit u, in reading order. */
WN_INTERNAL int wn__dist_kept_note(struct wn_dist_kept *k, size_t u,
                                   const struct wn_record *rec);

/* Where a failure happened, for the report. */
struct wn_dist_fail {
    char *path;
    size_t path_len;
    int sys_errno; /* or 0 */
    bool unseen;   /* the output could not be opened by name */
};

/*
 * Collective: every rank writes its kept lines into the output at path,
 * bit d of kept (this rank's documents in reading order) saying whether
 * document d is kept. fd is the output, open for writing (rank 0), or -1:
 * it is opened by path, without creating it (WN_EOPEN, f->unseen when that
 * fails). Fsynced when sync. On rank 0 *total gets the size of kept.jsonl,
 * checked against what every rank says it wrote (the last collective: a
 * rank that failed before it ends the run with wn_dist_abort). WN_ECHANGED
 * when a unit no longer gives the records of its first reading.
 */
WN_INTERNAL int wn__dist_kept_write(struct wn_dist_kept *k,
                                    const struct wn_dist_units *un,
                                    const uint8_t *kept, const char *path,
                                    int fd, bool sync, int rank,
                                    uint64_t *total, struct wn_dist_fail *f);

#endif /* WN_DIST_KEPT_H */
