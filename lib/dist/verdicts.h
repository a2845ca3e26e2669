/*
 * verdicts.h - verification at the records' owners (lib/dist): each rank
 * keeps the verification records (signature bins, figures, lead words;
 * rec_bytes each) of the documents it read; rank 0, which holds the
 * candidate pairs, sends each pair to the owner of its first document;
 * that rank fetches the second documents' records from their owners (one
 * batched MPI_Alltoallv of requests and one of records per round), decides
 * each pair with lib/dedup's rule (wn__verify_records) and sends rank 0
 * the verdicts, in pair order. Rank 0 then never holds another rank's
 * signature or figures. Not for exact verification (shingle sets), which
 * keeps its path on rank 0. docs/SCALING.md gives the traffic.
 *
 * Rank 0 drives (wn__dist_verdicts_run, wn__dist_verdicts_done); every
 * other rank serves (wn__dist_verdicts_serve) until rank 0 says done.
 */
#ifndef WN_DIST_VERDICTS_H
#define WN_DIST_VERDICTS_H

#include "dedup/dedup.h"
#include "dist/dist.h"

/* What a rank verifies with. */
struct wn_dist_verifier {
    const struct wn_sketcher *sk;
    int rank, size;
    /* The run's units: the rank reading each, the first document of each
     * (n + 1) and, for that rank, its local number of that document. */
    size_t nunits;
    const int *owner;
    uint64_t *ustart, *ulocal;
    /* This rank's records: rank 0 the job's verification spill (rec_bytes
     * per document, by document number) and shingle counts (the job's
     * docs, wn__doc_nsh); another rank its own spill (rec_bytes and a
     * native uint32 shingle count per document, by local number), docs
     * NULL. */
    int fd;
    const struct wn_docs *docs;
    /* The flash test's word counts of the whole corpus (every rank's
     * added up: rulejoin.h), set by the caller before the first round. */
    struct wn_words wt;
    bool died;
    struct wn_dist_traffic *t;
    volatile int *cancel;
    /* The run's --memory (0: the default budget): whether this rank's
     * records are mapped for reading (verdicts.c). Set by the caller
     * before the first read. */
    uint64_t memory;
    /* The rounds' buffers, kept from one round to the next (verdicts.c). */
    struct wn_dist_scratch *scr;
};

/* A rank's verifier over the plan's units (owner, unit_docs: nunits). */
WN_INTERNAL int
wn__dist_verifier_init(struct wn_dist_verifier *v, const struct wn_sketcher *sk,
                       int rank, int size, size_t nunits, const int *owner,
                       const uint64_t *unit_docs, int fd,
                       const struct wn_docs *docs, struct wn_dist_traffic *t,
                       volatile int *cancel);
WN_INTERNAL void wn__dist_verifier_release(struct wn_dist_verifier *v);

/* The unit of document d (an empty unit shares its first document with
 * the next: the last of them). */
WN_INTERNAL size_t wn__dist_unit_of(const struct wn_dist_verifier *v,
                                    uint64_t d);
/* The records of this rank's documents [d, d + k), all of one unit, each
 * rec_bytes and its shingle count (a native uint32), into out. Rank 0's
 * are in the job's verification spill in the order it read them
 * (wn_pass1.remote: not by document number), the others' in their own. */
WN_INTERNAL int wn__dist_records_read(const struct wn_dist_verifier *v,
                                      uint64_t d, size_t k, uint8_t *out);

/* Rank 0: the verdicts of pairs (wn__pair(a, b), a < b), in their order: with
 * decisions NULL, codes[i] is 0 (no edge) or 1 + the edge flag
 * (wn__edge_flag); else decisions[i] is wn__pair_decide's verdict. */
WN_INTERNAL int wn__dist_verdicts_run(struct wn_dist_verifier *v,
                                      const wn_docpair *pairs, size_t npairs,
                                      uint8_t *codes,
                                      struct wn_pair_decision *decisions);
/* Rank 0: the other ranks stop serving. */
WN_INTERNAL int wn__dist_verdicts_done(struct wn_dist_verifier *v);
/* A rank other than 0: serve rank 0's requests until it is done. */
WN_INTERNAL int wn__dist_verdicts_serve(struct wn_dist_verifier *v);

/*
 * The candidate pairs kept at the owners of their first documents, for the
 * pair rule (the news/web profiles): they never go through rank 0, and
 * only the accepted ones go there. Both are collective.
 *
 * wn__dist_pairs_to_owners: this rank's pairs (*pairs, *npairs of room
 * *cap: those it found) go to the owners of their first documents (one
 * MPI_Alltoallv per round of at most 2^18 pairs) and are replaced with the
 * pairs this rank owns, sorted and distinct; *total gets the run's number
 * of distinct pairs (on every rank: a pair has one owner).
 *
 * wn__dist_verify_owned: every rank verifies its own pairs (sorted,
 * distinct, its first documents) in rounds as wn__dist_verdicts_run's,
 * as many as the rank with the most pairs needs, fetching the second
 * records from their owners; the accepted pairs and their flags go to
 * rank 0, whose e gets them in pair order (e NULL on the other ranks).
 */
WN_INTERNAL int wn__dist_pairs_to_owners(const struct wn_dist_verifier *v,
                                         wn_docpair **pairs, size_t *npairs,
                                         size_t *cap, uint64_t *total);
WN_INTERNAL int wn__dist_verify_owned(struct wn_dist_verifier *v,
                                      const wn_docpair *pairs, size_t npairs,
                                      struct wn_edges *e);

#endif /* WN_DIST_VERDICTS_H */
