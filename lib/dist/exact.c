/*
 * exact.c - the exact stage across MPI ranks (see exact.h).
 *
 * Every rank reads its documents' hashes in rounds of ROUND_DOCS (all
 * ranks run as many rounds as the rank with the most documents needs) and
 * sends each (hash, document) entry to the owner of the hash's range (the
 * top 32 bits of its first word cut into P equal ranges: exchange.h's
 * wn__dist_key_owner). Equal hashes all meet at their owner, which sorts
 * its entries by hash and document: a run of equal hashes is a group, its
 * first entry the group's first document. Each owner's (copy, first)
 * pairs go to rank 0 in rounds of at most GATHER_PAIRS per rank, and rank
 * 0 sorts them by document. Memory per rank: its hash range's entries (24
 * bytes per document of the corpus / P, about), a round's buffers, its
 * pairs; on rank 0 also every pair (8 bytes per exact copy of the corpus,
 * what wn__stage_exact keeps too).
 */
#include "dist/exact.h"
#include "dist/exchange.h"

#include "io/outfile.h"

#include <assert.h>
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>

#define ROUND_DOCS   ((size_t)1 << 17) /* 3 MiB of entries sent per round */
#define GATHER_PAIRS ((size_t)1 << 20) /* pairs per rank and gather */

struct hent {
    uint64_t h0, h1, doc;
};

static int hent_cmp(const void *x, const void *y)
{
    const struct hent *a = x, *b = y;
    if (a->h0 != b->h0)
        return a->h0 < b->h0 ? -1 : 1;
    if (a->h1 != b->h1)
        return a->h1 < b->h1 ? -1 : 1;
    return (a->doc > b->doc) - (a->doc < b->doc);
}

static int pair_cmp(const void *x, const void *y)
{
    wn_docpair a = *(const wn_docpair *)x, b = *(const wn_docpair *)y;
    return (a > b) - (a < b);
}

/* Where a round's reading is: run r, document i of it. */
struct cursor {
    size_t r;
    uint64_t i;
};

/* The next round's entries, at most ROUND_DOCS documents, into out. */
static int read_round(const struct wn_dist_hashes *h, struct cursor *c,
                      uint64_t *blk, struct hent *out, size_t *nout)
{
    size_t n = 0;
    while (n < ROUND_DOCS && c->r < h->nruns) {
        uint64_t left = h->count[c->r] - c->i;
        if (left == 0) {
            c->r++;
            c->i = 0;
            continue;
        }
        size_t want = (size_t)WN_MIN((uint64_t)(ROUND_DOCS - n), left);
        int rc =
            wn__pread_full(h->fd, blk, want * 16, (h->pos[c->r] + c->i) * 16);
        if (rc)
            return rc;
        for (size_t x = 0; x < want; x++)
            out[n + x] = (struct hent){blk[2 * x], blk[2 * x + 1],
                                       h->first[c->r] + c->i + x};
        n += want;
        c->i += want;
    }
    *nout = n;
    return WN_OK;
}

/* This owner's (copy, first) pairs, wn__pair(copy, first), from its
 * entries sorted by hash and document. */
static int groups(const struct hent *v, size_t n, wn_docpair **out,
                  size_t *nout)
{
    size_t k = 0, cap = 0;
    wn_docpair *p = NULL;
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && v[j].h0 == v[i].h0 && v[j].h1 == v[i].h1;
             j++) {
            if (WN_GROW(p, cap, k + 1)) {
                wn__free(p);
                return WN_ENOMEM;
            }
            p[k++] = wn__pair((wn_docno)v[j].doc, (wn_docno)v[i].doc);
        }
    }
    *out = p;
    *nout = k;
    return WN_OK;
}

/* Every rank's pairs to rank 0 (collective), appended to *all. */
static int gather(const wn_docpair *p, size_t n, int rank, int size,
                  wn_docpair **all, size_t *nall, size_t *cap, uint64_t *sent)
{
    MPI_Datatype pt = wn__dist_pair_type();
    if (pt == MPI_DATATYPE_NULL)
        return WN_EIO;
    /* A round's pairs from every rank stay under INT_MAX in all. */
    size_t chunk = WN_MIN(GATHER_PAIRS, (size_t)INT_MAX / (size_t)size);
    uint64_t mine = (n + chunk - 1) / chunk, rounds = 0;
    if (MPI_Allreduce(&mine, &rounds, 1, MPI_UINT64_T, MPI_MAX,
                      MPI_COMM_WORLD) != MPI_SUCCESS)
        return WN_EIO;
    size_t P = (size_t)size;
    int *cnt = wn__calloc(2 * P, sizeof(int)), *dis = cnt ? cnt + P : NULL;
    int rc = cnt ? WN_OK : WN_ENOMEM;
    for (uint64_t q = 0; !rc && q < rounds; q++) {
        size_t at = (size_t)WN_MIN((uint64_t)n, q * chunk);
        int m = (int)WN_MIN(chunk, n - at);
        if (MPI_Gather(&m, 1, MPI_INT, cnt, 1, MPI_INT, 0, MPI_COMM_WORLD) !=
            MPI_SUCCESS) {
            rc = WN_EIO;
            break;
        }
        size_t total = 0;
        for (size_t k = 0; rank == 0 && k < P; k++) {
            dis[k] = (int)total;
            total += (size_t)cnt[k];
        }
        assert(total <= INT_MAX);
        if (rank == 0 && WN_GROW(*all, *cap, *nall + total + 1))
            rc = WN_ENOMEM;
        if (!rc && MPI_Gatherv(m ? p + at : NULL, m, pt,
                               rank == 0 ? *all + *nall : NULL, cnt, dis, pt, 0,
                               MPI_COMM_WORLD) != MPI_SUCCESS)
            rc = WN_EIO;
        if (!rc && rank == 0)
            *nall += total;
        if (!rc && rank != 0)
            *sent += (uint64_t)m * sizeof(wn_docpair);
    }
    wn__free(cnt);
    return rc;
}

int wn__dist_exact(const struct wn_dist_hashes *h, size_t ndocs, int rank,
                   int size, struct wn_egroups *eg, uint8_t *skip,
                   struct wn_dist_traffic *t, volatile int *cancel)
{
    assert((rank == 0) == (eg != NULL) && (eg != NULL) == (skip != NULL));
    uint64_t mine = 0, most = 0;
    for (size_t r = 0; r < h->nruns; r++) {
        if (h->first[r] > ndocs || h->count[r] > ndocs - h->first[r])
            return WN_EINVAL; /* not a document of the run */
        mine += h->count[r];
    }
    if (MPI_Allreduce(&mine, &most, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD) !=
        MPI_SUCCESS)
        return WN_EIO;
    uint64_t rounds = (most + ROUND_DOCS - 1) / ROUND_DOCS;
    uint64_t *blk = wn__reallocarray(NULL, 2 * ROUND_DOCS, sizeof(*blk));
    struct hent *ent = wn__reallocarray(NULL, ROUND_DOCS, sizeof(*ent));
    int *dest = wn__reallocarray(NULL, ROUND_DOCS, sizeof(*dest));
    struct wn_dist_round x = {0};
    void *v = NULL;
    size_t nv = 0, vcap = 0;
    wn_docpair *pairs = NULL, *all = NULL;
    size_t npairs = 0, nall = 0, allcap = 0;
    int rc = blk && ent && dest ? WN_OK : WN_ENOMEM;
    struct cursor c = {0, 0};
    for (uint64_t q = 0; !rc && q < rounds; q++) {
        size_t n = 0;
        rc = read_round(h, &c, blk, ent, &n);
        for (size_t i = 0; !rc && i < n; i++)
            dest[i] = wn__dist_key_owner(ent[i].h0, size);
        if (!rc)
            rc = wn__dist_round(&x, ent, dest, n, sizeof(*ent), rank, size, &v,
                                &nv, &vcap, &t->keys);
        if (!rc && cancel && *cancel)
            rc = WN_EINTR;
    }
    wn__dist_round_release(&x);
    wn__free(blk);
    wn__free(ent);
    wn__free(dest);
    if (!rc && nv)
        qsort(v, nv, sizeof(struct hent), hent_cmp);
    if (!rc)
        rc = groups(v, nv, &pairs, &npairs);
    wn__free(v);
    if (!rc)
        rc = gather(pairs, npairs, rank, size, &all, &nall, &allcap, &t->pairs);
    wn__free(pairs);
    /* By document, as wn__stage_exact's second sort gives them. */
    if (!rc && rank == 0 && nall)
        qsort(all, nall, sizeof(*all), pair_cmp);
    for (size_t i = 0; !rc && rank == 0 && i < nall; i++) {
        wn_docno d = wn__pair_a(all[i]), f = wn__pair_b(all[i]);
        if (d >= ndocs || f >= d) {
            rc = WN_EIO; /* not what an owner sends */
            break;
        }
        wn__bit_set(skip, d);
        rc = wn__egroups_add(eg, d, f);
    }
    wn__free(all);
    return rc;
}
