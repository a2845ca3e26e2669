/*
 * dist.h - winnow dedup across MPI ranks (lib/dist, built only when meson
 * finds MPI; WN_HAVE_MPI is then defined for the CLI). docs/SCALING.md
 * describes what is distributed and what is not yet.
 *
 * An uncompressed JSONL file is cut into P byte ranges at line boundaries,
 * range k read by rank k (lib/io/reader.h); any other input i is read
 * whole by rank i % P. Every rank reads and sketches its own share (rank 0
 * too, on its thread pool) and sends rank 0, in input order, one entry
 * per record: the record's place and status (a compact header: wire.h),
 * its id and its encoded sketch (wn_sketch_encode) without its hash, band
 * keys, verification data, lead words and anchors, which the rank keeps
 * in spill files (not for --verify exact: then only the hash and keys
 * stay), but not its bytes (but for a rejected record's, which
 * rejected.jsonl shows). Rank 0 runs the dedup job on the entries exactly
 * as wn_dedup_run does on what it reads (the same stages, the same
 * document numbers), but for the stages that every rank runs together:
 * the exact stage (exact.h: hashes to the owner of their range, the groups
 * to rank 0), the band join (exchange.h: keys to the owner of their key
 * range, a local join there), the rule's anchor and flash joins
 * (rulejoin.h: anchors by key range, flash blocks at their owners) and
 * the verification (verdicts.h: each pair at the owner of its first
 * record, the other record fetched from its owner; under the pair rule
 * the pairs go there from the joins and only the accepted ones to rank
 * 0). Rank 0 clusters, writes removed.jsonl, clusters.jsonl and
 * rejected.jsonl, and sends every rank the fates of its documents; every
 * rank then writes its units' kept records into rank 0's temporary
 * kept.jsonl at their offsets (kept.h), and rank 0 publishes the outputs
 * once every rank has.
 */
#ifndef WN_DIST_H
#define WN_DIST_H

#include "winnow.h"

/* Bytes a rank sent, by kind (docs/SCALING.md, bench/bench_mpi.sh). */
struct wn_dist_traffic {
    uint64_t raw;      /* raw records, to rank 0 */
    uint64_t sketches; /* sketches in their slim form, to rank 0 */
    uint64_t other;    /* entry headers, sources, ids, input ends */
    uint64_t keys;     /* (key, document) entries, to other ranks */
    uint64_t pairs;    /* candidate pairs, to rank 0 */
    uint64_t fates;    /* rank 0: path and kept bits, to the other ranks */
    uint64_t vpairs;   /* rank 0: pairs to verify and word counts, out */
    uint64_t vrecs;    /* verification records and their requests */
    uint64_t verdicts; /* verdicts, to rank 0 */
    /* The rule's joins (rulejoin.h; their anchor entries count as keys,
     * their pairs to rank 0 as pairs): the word counts' reduction, the
     * anchor pairs counted on several ranks, the lead words pushed to the
     * flash join's block owners. */
    uint64_t rule;
    uint64_t records; /* records this rank read */
    /* This rank could not open rank 0's temporary kept.jsonl by its name:
     * the output directory is not on a file system every rank sees. */
    int output_unseen;
};

/*
 * MPI_Init (once), then this rank's part of `winnow dedup` over inputs:
 * rank 0 runs the job and writes outdir as wn_dedup_run does (rep filled
 * as by wn_dedup_run); another rank sends its inputs' records and writes
 * their kept lines into rank 0's temporary kept.jsonl, which it opens by
 * name (rep gets read, rejected, bytes of its own inputs, error_path and
 * error_errno on failure; t->output_unseen when that file could not be
 * opened: the output directory must be on a file system every rank sees).
 * *rank and *size are set once MPI is up (0 and 1 before); *t gets the
 * bytes this rank sent, by kind, and the records it read. Standard
 * input is refused (WN_EINVAL): ranks cannot share it.
 *
 * Nothing here ends the process; after a failure on any rank the caller
 * must call wn_dist_abort (the other ranks may wait for it forever), after
 * success wn_dist_finalize.
 */
int wn_dist_dedup(const char *const *inputs, size_t ninputs, const char *outdir,
                  const struct wn_dedup_options *opts,
                  struct wn_dedup_report *rep, int *rank, int *size,
                  struct wn_dist_traffic *t);
/* MPI_Abort(MPI_COMM_WORLD, code): every rank of the run ends. */
void wn_dist_abort(int code);
/* MPI_Finalize. */
void wn_dist_finalize(void);

#endif /* WN_DIST_H */
