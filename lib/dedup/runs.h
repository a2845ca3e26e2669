/*
 * runs.h - sorted runs on disk: an external merge sort of fixed-size
 * entries (words 64-bit words each, ordered by the words in turn) within a
 * memory budget. Entries are added in any order; whenever the buffer of
 * budget bytes is full it is sorted and written as one run to a spill
 * file; the entries then come back in order from a k-way merge of the runs
 * (each read through a window of budget / k bytes), or from the buffer
 * alone when nothing was spilled. Used by the exact stage (hash, document)
 * and the count of duplicate ids (id hashes) so that neither holds a
 * per-record array (docs/SCALING.md, "Memory on one machine").
 *
 * Memory: the budget (at least WN_RUNS_MIN_BYTES), plus a window of
 * WN_RUNS_MIN_WINDOW entries per run when there are so many runs that
 * budget / k is smaller. Disk: 8 * words bytes per entry, once.
 */
#ifndef WN_RUNS_H
#define WN_RUNS_H

#include "common/common.h"

#include <stdio.h>

struct wn_frame;

/* The smallest buffer (bytes) and the smallest window of a run (entries). */
#define WN_RUNS_MIN_BYTES  (64u << 10)
#define WN_RUNS_MIN_WINDOW 64u

struct wn_runs_cursor {
    uint64_t next, end;   /* entries of the run not yet in the window */
    uint64_t *win;        /* window of cap entries */
    size_t cap, pos, len; /* entries of the window: room, read, held */
};

struct wn_runs {
    struct wn_frame *frame; /* where the spill is made; NULL: tmpfile() */
    size_t words;
    uint64_t *buf;
    size_t cap, bufcap, n; /* entries: at most, room now, held */
    FILE *f;           /* the runs, one after another; NULL until the first */
    uint64_t *run_end; /* entry offsets where each run ends */
    size_t nruns, runcap;
    uint64_t total; /* entries added */
    uint64_t spilled_bytes;
    /* The merge (after finish): a heap of run numbers by their entry. */
    struct wn_runs_cursor *cur;
    size_t *heap, nheap;
    size_t out; /* the buffer's next entry, when nothing was spilled */
    bool merging, finished;
    bool pending; /* the merge's last entry is still the caller's */
};

/* Make r (caller's storage): entries of words words (1 to 4), a buffer of
 * budget bytes (raised to WN_RUNS_MIN_BYTES). Spills go to frame's spill
 * directory (NULL: tmpfile()). WN_OK or WN_ENOMEM. */
WN_INTERNAL int wn__runs_init(struct wn_runs *r, struct wn_frame *frame,
                              size_t words, uint64_t budget);
/* Add one entry (words words). WN_OK or an I/O status. */
WN_INTERNAL int wn__runs_add(struct wn_runs *r, const uint64_t *e);
/* Add n entries already in order as one run of their own, written at
 * once (the buffer is not used): v holds n * words 64-bit words (a pair
 * list rewritten by wn__pairs_to_words, dedup.h). Not thread-safe: callers
 * lock. */
WN_INTERNAL int wn__runs_add_run(struct wn_runs *r, const void *v, size_t n);
/* Whether anything went to disk so far. */
static inline bool wn__runs_spilled(const struct wn_runs *r)
{
    return r->f != NULL;
}
/* No more entries: sort what is left and start the merge. */
WN_INTERNAL int wn__runs_finish(struct wn_runs *r);
/* The next entry in order (valid until the next call): 1, 0 at the end,
 * or an I/O status. */
WN_INTERNAL int wn__runs_next(struct wn_runs *r, const uint64_t **e);
/* Free everything; the spill file is closed (and so removed). */
WN_INTERNAL void wn__runs_release(struct wn_runs *r);

#endif /* WN_RUNS_H */
