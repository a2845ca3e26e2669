/*
 * exchange.c - the band join across MPI ranks (see exchange.h).
 *
 * Key family j (band j, or any other key the sketcher spills per
 * document: the job's band files key_f[j], j < nkeys) is joined on its own:
 * only equal keys of one family make a bucket. For family j every rank
 * reads its documents' keys in rounds of ROUND_DOCS documents (every rank
 * takes part in as many rounds as the rank with the most documents needs),
 * sends each (key, document) entry to the owner of the key's range with
 * MPI_Alltoallv, and appends what it receives to the entries of its range.
 * Once the family is exchanged, the rank sorts its entries and emits pairs
 * from runs of equal keys (wn__keydoc_sort, wn__join_sorted: the rule of
 * lib/dedup/candidates.c). A bucket's documents are all on the key's
 * owner, so the union of every rank's pairs over every family is the pair
 * set of one process's join. The pairs go to rank 0 in messages of at most
 * PAIR_CHUNK pairs and are sorted and made distinct there, or (keep) stay
 * where they were found, for the owners of their first documents
 * (verdicts.h, wn__dist_pairs_to_owners).
 *
 * Memory per rank: the entries of its range of one family (16 bytes per
 * document of the corpus / P, about) plus a round's send and receive
 * buffers (16 * ROUND_DOCS bytes each, receive more when keys are skewed),
 * plus its pairs.
 */
#include "dist/exchange.h"

#include "io/outfile.h"

#include <assert.h>
#include <limits.h>
#include <mpi.h>
#include <signal.h>
#include <stdlib.h>

enum { TAG_PAIRS = 18 };

#define ROUND_DOCS ((size_t)1 << 18) /* 4 MiB of entries sent per round */
#define PAIR_CHUNK ((size_t)1 << 22) /* 32 MiB per message (64 wide) */

static inline bool skipped(const uint8_t *skip, uint64_t d)
{
    return skip[d >> 3] >> (d & 7) & 1;
}

/* Where a round's reading is: run r, document i of it. */
struct cursor {
    size_t r;
    uint64_t i;
};

/* The next round's entries of family j, at most ROUND_DOCS documents read,
 * into out (grouped by owner after pack); the documents skipped are read
 * and dropped. */
static int read_round(const struct wn_dist_keys *k, uint32_t j,
                      struct cursor *c, const uint8_t *skip, uint64_t *kb,
                      struct wn_keydoc *out, size_t *nout)
{
    size_t n = 0, budget = ROUND_DOCS;
    int fd = fileno(k->key_f[j]);
    while (budget > 0 && c->r < k->nruns) {
        uint64_t left = k->count[c->r] - c->i;
        if (left == 0) {
            c->r++;
            c->i = 0;
            continue;
        }
        size_t want = (size_t)WN_MIN((uint64_t)budget, left);
        int rc = wn__pread_full(fd, kb, want * sizeof(*kb),
                                (k->pos[c->r] + c->i) * sizeof(*kb));
        if (rc)
            return rc;
        uint64_t d0 = k->first[c->r] + c->i;
        for (size_t x = 0; x < want; x++) {
            if (skipped(skip, d0 + x))
                continue;
            out[n] =
                (struct wn_keydoc){.key = kb[x], .doc = (wn_docno)(d0 + x)};
            n++;
        }
        c->i += want;
        budget -= want;
    }
    *nout = n;
    return WN_OK;
}

int wn__dist_round(struct wn_dist_round *x, const void *ent, const int *dest,
                   size_t n, size_t esize, int rank, int size, void **v,
                   size_t *nv, size_t *vcap, uint64_t *sent)
{
    size_t P = (size_t)size;
    if (!x->cnt) {
        x->cnt = wn__calloc(4 * P, sizeof(int));
        if (!x->cnt)
            return WN_ENOMEM;
    }
    int *scount = x->cnt, *sdispl = x->cnt + P, *rcount = x->cnt + 2 * P,
        *rdispl = x->cnt + 3 * P;
    if (n * esize > x->sendcap) {
        char *q = wn__realloc(x->sendbuf, n * esize);
        if (!q)
            return WN_ENOMEM;
        x->sendbuf = q;
        x->sendcap = n * esize;
    }
    memset(scount, 0, P * sizeof(*scount));
    for (size_t i = 0; i < n; i++) {
        assert(dest[i] >= 0 && dest[i] < size);
        scount[dest[i]]++;
    }
    int at = 0;
    for (size_t p = 0; p < P; p++) {
        sdispl[p] = at;
        at += scount[p];
    }
    for (size_t i = 0; i < n; i++)
        memcpy(x->sendbuf + (size_t)sdispl[dest[i]]++ * esize,
               (const char *)ent + i * esize, esize);
    for (size_t p = 0; p < P; p++)
        sdispl[p] -= scount[p];
    MPI_Datatype t;
    if (MPI_Type_contiguous((int)esize, MPI_BYTE, &t) != MPI_SUCCESS)
        return WN_EIO;
    if (MPI_Type_commit(&t) != MPI_SUCCESS) {
        MPI_Type_free(&t);
        return WN_EIO;
    }
    int rc = MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT,
                          MPI_COMM_WORLD) == MPI_SUCCESS
                 ? WN_OK
                 : WN_EIO;
    uint64_t total = 0;
    for (size_t p = 0; !rc && p < P; p++) {
        if (total > INT_MAX)
            rc = WN_ELIMIT;
        rdispl[p] = (int)total;
        total += (uint64_t)rcount[p];
    }
    if (!rc && total > INT_MAX)
        rc = WN_ELIMIT;
    if (!rc && *nv + (size_t)total + 1 > *vcap) {
        /* By half again: a rank's entries are most of its memory. */
        size_t cap = WN_MAX(*vcap + *vcap / 2, *nv + (size_t)total + 1);
        void *q = wn__reallocarray(*v, cap, esize);
        if (q) {
            *v = q;
            *vcap = cap;
        } else {
            rc = WN_ENOMEM;
        }
    }
    if (!rc &&
        MPI_Alltoallv(x->sendbuf, scount, sdispl, t, (char *)*v + *nv * esize,
                      rcount, rdispl, t, MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = WN_EIO;
    MPI_Type_free(&t);
    if (rc)
        return rc;
    *nv += (size_t)total;
    for (size_t p = 0; p < P; p++)
        if ((int)p != rank)
            *sent += (uint64_t)scount[p] * esize;
    return WN_OK;
}

void wn__dist_round_release(struct wn_dist_round *x)
{
    wn__free(x->cnt);
    wn__free(x->sendbuf);
    memset(x, 0, sizeof(*x));
}

static int cmp_keydoc_doc(const void *x, const void *y)
{
    wn_docno a = ((const struct wn_keydoc *)x)->doc,
             b = ((const struct wn_keydoc *)y)->doc;
    return (a > b) - (a < b);
}

/*
 * A run of more than all_pairs_max equal keys pairs each document with
 * the run's first and with its predecessor (wn__join_sorted), in the
 * order of the run: one process appends the entries in document order,
 * but here they come in the order of the rounds and, in each, of the
 * ranks that sent them. Those runs are put in document order, so that
 * the pairs are one process's; a shorter run gives all its pairs in any
 * order. v is grouped by key (wn__keydoc_group).
 */
static void long_runs_in_order(struct wn_keydoc *v, size_t n,
                               uint32_t all_pairs_max)
{
    for (size_t i = 0, j; i < n; i = j) {
        bool sorted = true;
        for (j = i + 1; j < n && v[j].key == v[i].key; j++)
            sorted = sorted && v[j - 1].doc < v[j].doc;
        if (!sorted && j - i > all_pairs_max)
            qsort(v + i, j - i, sizeof(*v), cmp_keydoc_doc);
    }
}

/* One round of the band exchange: ent[0, n) to the owners of their keys,
 * what this rank owns appended to *v. */
static int exchange_round(struct wn_dist_round *x, const struct wn_keydoc *ent,
                          size_t n, int *dest, int rank, int size,
                          struct wn_keydoc **v, size_t *nv, size_t *vcap,
                          uint64_t *sent)
{
    for (size_t i = 0; i < n; i++)
        dest[i] = wn__dist_key_owner(ent[i].key, size);
    void *vv = *v;
    int rc = wn__dist_round(x, ent, dest, n, sizeof(*ent), rank, size, &vv, nv,
                            vcap, sent);
    *v = vv;
    return rc;
}

MPI_Datatype wn__dist_pair_type(void)
{
#ifdef WN_WIDE_DOCS
    static MPI_Datatype t = MPI_DATATYPE_NULL;
    if (t == MPI_DATATYPE_NULL) {
        MPI_Datatype x;
        if (MPI_Type_contiguous(2, MPI_UINT64_T, &x) == MPI_SUCCESS &&
            MPI_Type_commit(&x) == MPI_SUCCESS)
            t = x;
    }
    return t;
#else
    return MPI_UINT64_T;
#endif
}

/* Every rank's pairs to rank 0 (sorted, distinct there). */
int wn__dist_gather_pairs(wn_docpair **pairs, size_t *npairs, size_t *cap,
                          int rank, int size, uint64_t *sent)
{
    MPI_Datatype pt = wn__dist_pair_type();
    if (pt == MPI_DATATYPE_NULL)
        return WN_EIO;
    if (rank != 0) {
        uint64_t n = *npairs;
        if (MPI_Send(&n, 1, MPI_UINT64_T, 0, TAG_PAIRS, MPI_COMM_WORLD) !=
            MPI_SUCCESS)
            return WN_EIO;
        for (size_t at = 0; at < *npairs; at += PAIR_CHUNK) {
            size_t m = WN_MIN(PAIR_CHUNK, *npairs - at);
            if (MPI_Send(*pairs + at, (int)m, pt, 0, TAG_PAIRS,
                         MPI_COMM_WORLD) != MPI_SUCCESS)
                return WN_EIO;
            *sent += m * sizeof(wn_docpair);
        }
        return WN_OK;
    }
    for (int p = 1; p < size; p++) {
        uint64_t n = 0;
        if (MPI_Recv(&n, 1, MPI_UINT64_T, p, TAG_PAIRS, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return WN_EIO;
        if (n > SIZE_MAX - *npairs - 1 ||
            WN_GROW(*pairs, *cap, *npairs + n + 1))
            return WN_ENOMEM;
        for (uint64_t at = 0; at < n; at += PAIR_CHUNK) {
            size_t m = (size_t)WN_MIN((uint64_t)PAIR_CHUNK, n - at);
            if (MPI_Recv(*pairs + *npairs, (int)m, pt, p, TAG_PAIRS,
                         MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS)
                return WN_EIO;
            *npairs += m;
        }
    }
    *npairs = wn__pairs_sort_unique(*pairs, *npairs);
    return WN_OK;
}

void wn__dist_test_die(const char *var, int rank)
{
#ifdef WN_TEST_HOOKS
    const char *e = getenv(var);
    char *end = NULL;
    long k = e && *e ? strtol(e, &end, 10) : -1;
    if (end && *end == '\0' && k == rank)
        raise(SIGKILL);
#else
    (void)var;
    (void)rank;
#endif
}

int wn__dist_join(const struct wn_dist_keys *k, size_t ndocs,
                  const uint8_t *skip, uint32_t all_pairs_max, bool keep,
                  int rank, int size, wn_docpair **pairs_out,
                  size_t *npairs_out, struct wn_join_stats *st_out,
                  struct wn_dist_traffic *t)
{
    uint64_t mine = 0, most = 0;
    for (size_t r = 0; r < k->nruns; r++) {
        if (k->first[r] > ndocs || k->count[r] > ndocs - k->first[r])
            return WN_EINVAL; /* not a document of the run */
        mine += k->count[r];
    }
    if (MPI_Allreduce(&mine, &most, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD) !=
        MPI_SUCCESS)
        return WN_EIO;
    uint64_t rounds = (most + ROUND_DOCS - 1) / ROUND_DOCS;

    uint64_t *kb = wn__reallocarray(NULL, ROUND_DOCS, sizeof(*kb));
    struct wn_keydoc *ent = wn__reallocarray(NULL, ROUND_DOCS, sizeof(*ent));
    int *dest = wn__reallocarray(NULL, ROUND_DOCS, sizeof(*dest));
    struct wn_dist_round x = {0};
    struct wn_keydoc *v = NULL, *tmp = NULL;
    size_t nv = 0, vcap = 0, tmpcap = 0;
    wn_docpair *pairs = NULL;
    size_t npairs = 0, paircap = 0;
    struct wn_join_stats st = {0};
    int rc = kb && ent && dest ? WN_OK : WN_ENOMEM;
    /* WINNOW_TEST_MPI_DIE_JOIN=k: rank k dies as the key exchange starts,
     * the others being in or on their way to its first collective. */
    wn__dist_test_die("WINNOW_TEST_MPI_DIE_JOIN", rank);
    /* A rank that fails returns at once: its caller aborts the whole run
     * (MPI_Abort), so no rank is left waiting in a collective. */
    for (uint32_t j = 0; !rc && j < k->nkeys; j++) {
        struct cursor c = {0, 0};
        nv = 0;
        for (uint64_t q = 0; !rc && q < rounds; q++) {
            size_t n = 0;
            rc = read_round(k, j, &c, skip, kb, ent, &n);
            if (!rc)
                rc = exchange_round(&x, ent, n, dest, rank, size, &v, &nv,
                                    &vcap, &t->keys);
        }
        /* The radix scratch is kept across families: a new one each time
         * would fault in fresh pages (allocations past 1 MiB are mapped
         * and unmapped: cli/main.c). */
        if (!rc && nv > tmpcap) {
            wn__free(tmp);
            tmpcap = WN_MAX(nv, vcap);
            tmp = wn__reallocarray(NULL, tmpcap, sizeof(*tmp));
            if (!tmp)
                rc = WN_ENOMEM;
        }
        if (!rc)
            rc = wn__keydoc_group_with(v, nv, tmp);
        if (!rc)
            long_runs_in_order(v, nv, all_pairs_max);
        if (!rc)
            rc = wn__join_sorted(v, nv, all_pairs_max, NULL, &pairs, &npairs,
                                 &paircap, &st);
        if (!rc && npairs > ((size_t)1 << 22))
            npairs = wn__pairs_sort_unique(pairs, npairs);
    }
    if (rc)
        goto out;
    npairs = wn__pairs_sort_unique(pairs, npairs);
    uint64_t mine_st[3] = {st.buckets, st.large_buckets, st.pairs}, sum[3];
    uint64_t maxb = st.max_bucket, allmax = 0;
    if (MPI_Reduce(mine_st, sum, 3, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD) !=
            MPI_SUCCESS ||
        MPI_Reduce(&maxb, &allmax, 1, MPI_UINT64_T, MPI_MAX, 0,
                   MPI_COMM_WORLD) != MPI_SUCCESS) {
        rc = WN_EIO;
        goto out;
    }
    if (!keep)
        rc = wn__dist_gather_pairs(&pairs, &npairs, &paircap, rank, size,
                                   &t->pairs);
    if (!rc && rank == 0) {
        memset(st_out, 0, sizeof(*st_out));
        st_out->buckets = sum[0];
        st_out->large_buckets = sum[1];
        st_out->pairs = sum[2];
        st_out->max_bucket = allmax;
        st_out->partitions = (uint64_t)size; /* key ranges of each band */
    }
    if (!rc && (keep || rank == 0)) {
        *pairs_out = pairs;
        *npairs_out = npairs;
        pairs = NULL;
    } else if (!rc) {
        *pairs_out = NULL;
        *npairs_out = 0;
    }
out:
    wn__dist_round_release(&x);
    wn__free(kb);
    wn__free(ent);
    wn__free(dest);
    wn__free(v);
    wn__free(tmp);
    wn__free(pairs);
    return rc;
}
