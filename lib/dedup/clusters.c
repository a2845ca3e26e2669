/*
 * clusters.c - from union-find to clusters: the root of every document
 * (the first member in input order, as lib/cluster's union-find keeps the
 * smallest), the representative of every component by the keep rule
 * (first; longest text; largest keep value; ties to the first), and
 * cluster numbers for components of two or more, in the order of their
 * first members. O(n) after the union-find, 16 bytes per document.
 */
#include "dedup/dedup.h"

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
