/*
 * clusters.c - from union-find to clusters: the root of every document
 * (the first member in input order, as lib/cluster's union-find keeps the
 * smallest), the representative of every component by the keep rule
 * (first; longest text; largest keep value; ties to the first), and
 * cluster numbers for components of two or more, in the order of their
 * first members. O(n) after the union-find, 16 bytes per document.
 */
#include "dedup/dedup.h"

#include <stdlib.h>

static bool better_rep(const struct wn_docs *d, int keep, uint32_t cand,
                       uint32_t cur)
{
    switch (keep) {
    case WN_KEEP_LONGEST:
        return d->tlen[cand] > d->tlen[cur];
    case WN_KEEP_MAX:
        return d->keyval[cand] > d->keyval[cur];
    default:
        return false;
    }
}

int wn__clustering_build(const struct wn_docs *d, int keep, struct wn_uf *uf,
                         struct wn_clustering *c)
{
    memset(c, 0, sizeof(*c));
    size_t n = d->n ? d->n : 1;
    c->root = wn__reallocarray(NULL, n, sizeof(uint32_t));
    c->rep = wn__reallocarray(NULL, n, sizeof(uint32_t));
    c->cid = wn__calloc(n, sizeof(uint32_t));
    c->size = wn__calloc(n, sizeof(uint32_t));
    if (!c->root || !c->rep || !c->cid || !c->size)
        return WN_ENOMEM;
    for (size_t i = 0; i < d->n; i++) {
        uint32_t r = wn__uf_find(uf, (uint32_t)i);
        c->root[i] = r;
        /* The first member seen is the root itself (roots are first
         * members); later ones replace it only by the keep rule. */
        if (c->size[r]++ == 0 || better_rep(d, keep, (uint32_t)i, c->rep[r]))
            c->rep[r] = (uint32_t)i;
    }
    uint32_t next = 0;
    for (size_t i = 0; i < d->n; i++)
        if (c->root[i] == i && c->size[i] >= 2)
            c->cid[i] = ++next;
    c->nclusters = next;
    return WN_OK;
}

void wn__clustering_release(struct wn_clustering *c)
{
    wn__free(c->root);
    wn__free(c->rep);
    wn__free(c->cid);
    wn__free(c->size);
    memset(c, 0, sizeof(*c));
}

/* A center candidate: demoted ones after the others, then the keep rule. */
struct star_key {
    uint32_t demoted;
    uint32_t doc;
    double rank; /* larger first */
};

static int star_cmp(const void *x, const void *y)
{
    const struct star_key *a = x, *b = y;
    if (a->demoted != b->demoted)
        return a->demoted < b->demoted ? -1 : 1;
    if (a->rank != b->rank)
        return a->rank > b->rank ? -1 : 1;
    return a->doc < b->doc ? -1 : a->doc > b->doc;
}

int wn__clustering_star(const struct wn_docs *d, int keep,
                        const struct wn_edges *e, struct wn_clustering *c)
{
    memset(c, 0, sizeof(*c));
    size_t n = d->n ? d->n : 1;
    int rc = WN_ENOMEM;
    c->root = wn__reallocarray(NULL, n, sizeof(uint32_t));
    c->rep = wn__reallocarray(NULL, n, sizeof(uint32_t));
    c->cid = wn__calloc(n, sizeof(uint32_t));
    c->size = wn__calloc(n, sizeof(uint32_t));
    /* Adjacency in CSR form: both directions of every edge; the low bit of
     * an entry says the neighbour contains this document. */
    uint64_t *off = wn__calloc(n + 1, sizeof(uint64_t));
    uint64_t *adj = wn__reallocarray(NULL, 2 * e->n + 1, sizeof(uint64_t));
    uint8_t *demoted = wn__calloc(n, 1);
    struct star_key *order = wn__reallocarray(NULL, n, sizeof(*order));
    uint32_t *best = wn__reallocarray(NULL, n, sizeof(uint32_t));
    if (!c->root || !c->rep || !c->cid || !c->size || !off || !adj ||
        !demoted || !order || !best)
        goto out;
    /* The member of each exact group the keep rule prefers: the group
     * stands for it among the centers, and it is the one kept. */
    for (size_t i = 0; i < d->n; i++) {
        uint32_t g = d->egroup[i];
        if (g == i)
            best[i] = (uint32_t)i;
        else if (better_rep(d, keep, (uint32_t)i, best[g]))
            best[g] = (uint32_t)i;
    }
    for (size_t k = 0; k < e->n; k++) {
        off[(e->pair[k] >> 32) + 1]++;
        off[(uint32_t)e->pair[k] + 1]++;
        if (e->flag[k] == 1)
            demoted[e->pair[k] >> 32] = 1;
        else if (e->flag[k] == 2)
            demoted[(uint32_t)e->pair[k]] = 1;
    }
    for (size_t i = 0; i < d->n; i++)
        off[i + 1] += off[i];
    for (size_t k = 0; k < e->n; k++) {
        uint32_t a = (uint32_t)(e->pair[k] >> 32), b = (uint32_t)e->pair[k];
        adj[off[a]++] = (uint64_t)b << 1 | (e->flag[k] == 1);
        adj[off[b]++] = (uint64_t)a << 1 | (e->flag[k] == 2);
    }
    for (size_t i = d->n; i > 0; i--)
        off[i] = off[i - 1];
    off[0] = 0;
    /* root[] is the center of each document; UINT32_MAX: not assigned. */
    size_t m = 0;
    for (size_t i = 0; i < d->n; i++) {
        c->root[i] = UINT32_MAX;
        if (d->egroup[i] != i)
            continue; /* an exact copy follows its group's first */
        order[m].demoted = demoted[i];
        order[m].doc = (uint32_t)i;
        order[m].rank = keep == WN_KEEP_LONGEST ? (double)d->tlen[best[i]]
                        : keep == WN_KEEP_MAX   ? d->keyval[best[i]]
                                                : 0.0;
        m++;
    }
    qsort(order, m, sizeof(*order), star_cmp);
    for (size_t k = 0; k < m; k++) {
        uint32_t x = order[k].doc;
        if (c->root[x] != UINT32_MAX)
            continue;
        c->root[x] = x;
        for (uint64_t q = off[x]; q < off[x + 1]; q++) {
            uint32_t y = (uint32_t)(adj[q] >> 1);
            /* Never absorb a record that contains the center. */
            if (c->root[y] == UINT32_MAX && !(adj[q] & 1))
                c->root[y] = x;
        }
    }
    for (size_t i = 0; i < d->n; i++) {
        if (d->egroup[i] != i)
            c->root[i] = c->root[d->egroup[i]];
        c->rep[i] = d->egroup[i] == i ? best[i] : (uint32_t)i;
        c->size[c->root[i]]++;
    }
    uint32_t next = 0;
    for (size_t i = 0; i < d->n; i++) {
        uint32_t r = c->root[i];
        if (c->size[r] >= 2 && c->cid[r] == 0)
            c->cid[r] = ++next;
    }
    c->nclusters = next;
    rc = WN_OK;
out:
    wn__free(off);
    wn__free(adj);
    wn__free(demoted);
    wn__free(order);
    wn__free(best);
    return rc;
}
