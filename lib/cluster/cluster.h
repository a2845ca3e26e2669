/*
 * cluster.h - candidate join, union-find and representative choice.
 *
 * The join turns band keys into candidate pairs by sorting (key, document)
 * entries and walking runs of equal keys: no all-pairs comparison. Union-find
 * keeps the smallest document number of a component as its root, so the
 * partition and the roots do not depend on the order edges arrive in.
 */
#ifndef WN_CLUSTER_H
#define WN_CLUSTER_H

#include "common/common.h"

/* A (key, document) entry of one band. */
struct wn_keydoc {
    uint64_t key;
    wn_docno doc;
    /* Zero, or what a join carries along with the entry (lib/dist/
     * rulejoin.c: the document's anchors); keeps the struct 16 bytes
     * without holes (24 in a wide build, with pad2). */
    uint32_t pad;
#ifdef WN_WIDE_DOCS
    uint32_t pad2; /* zero */
#endif
};

/* Sort entries by (key, doc). LSD radix sort: O(n) passes over 8 bytes. */
WN_INTERNAL int wn__keydoc_sort(struct wn_keydoc *v, size_t n);

/* Group entries by key: equal keys end up adjacent, each run in the order
 * the entries came (document order when appended so), runs in no useful
 * order. What a join needs, at 2 radix passes instead of 6 up to 1 M
 * entries (the runs of equal low bits are then sorted by insertion). */
WN_INTERNAL int wn__keydoc_group(struct wn_keydoc *v, size_t n);
/* The same with the caller's scratch of n entries (a join reuses one
 * across its tasks instead of mapping fresh pages for each). */
WN_INTERNAL int wn__keydoc_group_with(struct wn_keydoc *v, size_t n,
                                      struct wn_keydoc *tmp);

/* Sort n 64-bit values in place, ascending, with no scratch: an MSD radix
 * sort from the highest byte any value uses (packed pairs of documents
 * seldom use the top bytes). */
WN_INTERNAL void wn__u64_radix_sort(uint64_t *a, size_t n);
/* The same for n packed pairs (wn_docpair): wn__u64_radix_sort itself
 * with 32-bit document numbers, its 128-bit twin with 64-bit ones. */
#ifdef WN_WIDE_DOCS
WN_INTERNAL void wn__pairs_radix_sort(wn_docpair *a, size_t n);
#else
static inline void wn__pairs_radix_sort(wn_docpair *a, size_t n)
{
    wn__u64_radix_sort(a, n);
}
#endif

/* What a join reports about its buckets. */
struct wn_join_stats {
    uint64_t buckets;       /* runs of 2 or more equal keys */
    uint64_t large_buckets; /* runs longer than the all-pairs limit */
    uint64_t max_bucket;    /* longest run */
    uint64_t pairs;         /* pairs emitted (before de-duplication) */
    uint64_t partitions;    /* partitions of each band (wn__join_partitions) */
};

/*
 * Emit candidate pairs from sorted entries as packed wn__pair(a, b), a < b,
 * appended to *pairs (grown with WN_GROW). A run of m <= all_pairs_max equal
 * keys gives all m(m-1)/2 pairs; a longer run gives each member paired with
 * the run's first member and with its predecessor (2m pairs), so templates
 * and empty texts cannot make the join quadratic. skip, when not NULL, is a
 * bitmap of documents left out of the join.
 */
WN_INTERNAL int wn__join_sorted(const struct wn_keydoc *v, size_t n,
                                uint32_t all_pairs_max, const uint8_t *skip,
                                wn_docpair **pairs, size_t *npairs, size_t *cap,
                                struct wn_join_stats *st);

/*
 * Entries a join task reads its band's keys in at a time, and so the
 * smallest useful partition: each task re-reads all n keys of its band to
 * pick its share, so a partition of fewer entries costs a whole read for
 * less than a block of work.
 */
#define WN_JOIN_BLOCK 65536

/*
 * The number of partitions per band for a join of n documents on nthreads
 * threads within budget bytes (32 bytes per entry and thread: the entries
 * and their radix scratch). At least nthreads, so that the threads share a
 * band; and the budget is raised to a floor of one block per thread
 * (nthreads * 32 * WN_JOIN_BLOCK bytes), since below it the re-reads make
 * the join quadratic in n (a budget of 1 byte gave n * 64 partitions).
 * Reads are then at most n * (n / WN_JOIN_BLOCK + nthreads) per band.
 */
WN_INTERNAL uint64_t wn__join_partitions(uint64_t n, unsigned nthreads,
                                         uint64_t budget);

/* The partition of a join key among parts (at most 2^32): its low 32 bits
 * scaled to [0, parts) by a multiply and a shift (Lemire's range
 * reduction), where a division per key was 40% of the band join's reading
 * loop. The low bits: the anchor spill files are chosen by the top ones. */
static inline uint64_t wn__key_partition(uint64_t key, uint64_t parts)
{
    return ((key & 0xffffffffu) * parts) >> 32;
}

/* Sort and de-duplicate packed pairs; returns the new count. */
WN_INTERNAL size_t wn__pairs_sort_unique(wn_docpair *p, size_t n);

/* Union-find over n documents, in the caller's storage. */
struct wn_uf {
    wn_docno *parent;
    size_t n;
};

WN_INTERNAL int wn__uf_init(struct wn_uf *uf, size_t n);
WN_INTERNAL void wn__uf_release(struct wn_uf *uf);
/* The root (smallest member) of x's component; compresses the path. */
WN_INTERNAL wn_docno wn__uf_find(struct wn_uf *uf, wn_docno x);
/* Merge two components; the smaller root becomes the root. Returns 1 when
 * they were apart. */
WN_INTERNAL int wn__uf_union(struct wn_uf *uf, wn_docno a, wn_docno b);

#endif /* WN_CLUSTER_H */
