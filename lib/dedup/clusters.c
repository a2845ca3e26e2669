/*
 * clusters.c - from union-find or edges to clusters, over the records in
 * play only: those of an exact group of two or more or on a verified edge
 * (classic: in a union-find component of two or more), a sorted array of
 * their numbers (c->doc) and every other array indexed by place in it.
 * Every other record is alone: its own representative, in no cluster, and
 * costs nothing here. The root of a component is its first member (lib/
 * cluster's union-find keeps the smallest); the representative is chosen
 * by the keep rule (first; longest text; largest keep value; ties to the
 * first); cluster numbers go to components of two or more in the order of
 * their first members. O(m log m) for m records in play, 16 bytes each
 * (the star clustering 45).
 */
#include "dedup/dedup.h"

#include <assert.h>
#include "io/outfile.h"

#include <stdlib.h>

/*
 * The keep rule's value of every record in play (val[k] for c->doc[k]):
 * its text length (longest) or --keep-max value (max), read from pass 1's
 * spill a block at a time in document order; 0 for first, where no record
 * is better than another. A larger value is better, ties to the first.
 */
static int load_ranks(const struct wn_docs *d, int keep,
                      const struct wn_clustering *c, double **out)
{
    double *val = wn__calloc(c->m ? c->m : 1, sizeof(double));
    if (!val)
        return WN_ENOMEM;
    *out = val;
    if (keep != WN_KEEP_LONGEST && keep != WN_KEEP_MAX)
        return WN_OK;
    enum { BLOCK = 4096 };
    bool longest = keep == WN_KEEP_LONGEST;
    size_t width = longest ? sizeof(uint32_t) : sizeof(double);
    int fd = longest ? d->tlen_fd : d->keyval_fd;
    unsigned char *blk = wn__malloc(BLOCK * sizeof(double));
    if (!blk)
        return WN_ENOMEM;
    size_t base = 0, len = 0;
    int rc = WN_OK;
    for (size_t k = 0; k < c->m && !rc; k++) {
        size_t i = c->doc[k];
        if (i < base || i >= base + len) {
            base = i;
            len = WN_MIN((size_t)BLOCK, d->n - i);
            rc = wn__pread_full(fd, blk, len * width, (uint64_t)i * width);
            if (rc)
                break;
        }
        if (longest) {
            uint32_t t;
            memcpy(&t, blk + (i - base) * width, sizeof(t));
            val[k] = (double)t;
        } else {
            memcpy(&val[k], blk + (i - base) * width, sizeof(double));
        }
    }
    wn__free(blk);
    return rc;
}

size_t wn__clustering_index(const struct wn_clustering *c, wn_docno d)
{
    size_t lo = 0, hi = c->m;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->doc[mid] < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->m && c->doc[lo] == d ? lo : SIZE_MAX;
}

/* The arrays of m records in play (doc already set). */
static int alloc_arrays(struct wn_clustering *c, size_t m)
{
    size_t k = m ? m : 1;
    c->m = m;
    c->root = wn__reallocarray(NULL, k, sizeof(wn_docno));
    c->rep = wn__reallocarray(NULL, k, sizeof(wn_docno));
    c->cid = wn__calloc(k, sizeof(wn_docno));
    c->size = wn__calloc(k, sizeof(wn_docno));
    return c->root && c->rep && c->cid && c->size ? WN_OK : WN_ENOMEM;
}

/* Cluster numbers for the roots of two or more, in the order of their
 * first members. */
static void number_clusters(struct wn_clustering *c)
{
    wn_docno next = 0;
    for (size_t k = 0; k < c->m; k++) {
        wn_docno r = c->root[k];
        if (c->size[r] >= 2 && c->cid[r] == 0)
            c->cid[r] = ++next;
    }
    c->nclusters = next;
}

int wn__clustering_build(const struct wn_docs *d, int keep, struct wn_uf *uf,
                         struct wn_clustering *c)
{
    memset(c, 0, sizeof(*c));
    /* In play: members of a component of two or more. A root is the
     * smallest member, so it comes before the others; a bitmap says which
     * roots have members. */
    uint8_t *has = wn__calloc(d->n / 8 + 1, 1);
    if (!has)
        return WN_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < d->n; i++) {
        wn_docno r = wn__uf_find(uf, (wn_docno)i);
        if (r != i) {
            if (!wn__bit_get(has, r))
                m++;
            wn__bit_set(has, r);
            m++;
        }
    }
    c->doc = wn__reallocarray(NULL, m ? m : 1, sizeof(wn_docno));
    int rc = c->doc ? alloc_arrays(c, m) : WN_ENOMEM;
    if (rc) {
        wn__free(has);
        return rc;
    }
    size_t k = 0;
    for (size_t i = 0; i < d->n; i++)
        if (wn__bit_get(has, i) || wn__uf_find(uf, (wn_docno)i) != i)
            c->doc[k++] = (wn_docno)i;
    wn__free(has);
    double *val = NULL;
    rc = load_ranks(d, keep, c, &val);
    if (rc) {
        wn__free(val);
        return rc;
    }
    /* rep[] holds indices in play until the end. */
    for (k = 0; k < m; k++) {
        wn_docno i = c->doc[k];
        /* The root is earlier in doc: its index was met. */
        size_t r = wn__clustering_index(c, wn__uf_find(uf, i));
        c->root[k] = (wn_docno)r;
        /* The first member seen is the root itself (roots are first
         * members); later ones replace it only by the keep rule. */
        if (c->size[r]++ == 0 || val[k] > val[c->rep[r]])
            c->rep[r] = (wn_docno)k;
    }
    for (k = 0; k < m; k++)
        if (c->root[k] == k)
            c->rep[k] = c->doc[c->rep[k]];
    wn__free(val);
    number_clusters(c);
    return WN_OK;
}

void wn__clustering_release(struct wn_clustering *c)
{
    wn__free(c->doc);
    wn__free(c->root);
    wn__free(c->rep);
    wn__free(c->cid);
    wn__free(c->size);
    wn__free(c->id_off);
    wn__free(c->id_bytes);
    memset(c, 0, sizeof(*c));
}

int wn__clustering_load_ids(const struct wn_docs *d, struct wn_clustering *c,
                            uint64_t budget)
{
    assert(c->id_off == NULL && c->id_bytes == NULL);
    if (c->m == 0 || (uint64_t)(c->m + 1) * 8 > budget)
        return WN_OK;
    uint64_t *off = wn__reallocarray(NULL, c->m + 1, sizeof(*off));
    struct wn_buf b = {0};
    struct wn_id_cursor ids;
    int rc = off ? wn__id_cursor_init(&ids, d) : WN_ENOMEM;
    if (rc) {
        wn__free(off);
        return rc;
    }
    bool fits = true;
    for (size_t k = 0; k < c->m && !rc && fits; k++) {
        const char *id;
        size_t len;
        off[k] = b.len;
        rc = wn__id_cursor_get(&ids, c->doc[k], &id, &len);
        fits = (uint64_t)(c->m + 1) * 8 + b.len + len <= budget;
        if (!rc && fits)
            rc = wn__buf_append(&b, id, len);
    }
    off[c->m] = b.len;
    wn__id_cursor_release(&ids);
    if (rc || !fits) {
        wn__free(off);
        wn__buf_release(&b);
        return rc;
    }
    c->id_off = off;
    c->id_bytes = b.data ? b.data : wn__malloc(1);
    if (!c->id_bytes) {
        wn__free(off);
        c->id_off = NULL;
        return WN_ENOMEM;
    }
    return WN_OK;
}

/* A center candidate: demoted ones after the others, then the keep rule. */
struct star_key {
    uint32_t demoted;
    wn_docno doc; /* index in play */
    double rank;  /* larger first */
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

static int cmp_docno(const void *x, const void *y)
{
    wn_docno a = *(const wn_docno *)x, b = *(const wn_docno *)y;
    return a < b ? -1 : a > b;
}

/* The records in play of the star clustering: exact copies, the firsts of
 * their groups, the ends of every edge; sorted, each once. */
static int star_docs(const struct wn_egroups *eg, const struct wn_edges *e,
                     struct wn_clustering *c)
{
    size_t cap = 2 * eg->n + 2 * e->n;
    wn_docno *v = wn__reallocarray(NULL, cap ? cap : 1, sizeof(wn_docno));
    if (!v)
        return WN_ENOMEM;
    size_t n = 0;
    for (size_t k = 0; k < eg->n; k++) {
        v[n++] = eg->doc[k];
        v[n++] = eg->first[k];
    }
    for (size_t k = 0; k < e->n; k++) {
        v[n++] = wn__pair_a(e->pair[k]);
        v[n++] = wn__pair_b(e->pair[k]);
    }
    qsort(v, n, sizeof(*v), cmp_docno);
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (m == 0 || v[m - 1] != v[k])
            v[m++] = v[k];
    c->doc = v;
    return alloc_arrays(c, m);
}

int wn__clustering_star(const struct wn_docs *d, int keep,
                        const struct wn_egroups *eg, const struct wn_edges *e,
                        struct wn_clustering *c)
{
    memset(c, 0, sizeof(*c));
    int rc = star_docs(eg, e, c);
    if (rc)
        return rc;
    size_t m = c->m, n = m ? m : 1;
    rc = WN_ENOMEM;
    /* Adjacency in CSR form over indices in play: both directions of every
     * edge; the low bit of an entry says the neighbour contains this one. */
    uint64_t *off = wn__calloc(n + 1, sizeof(uint64_t));
    uint64_t *adj = wn__reallocarray(NULL, 2 * e->n + 1, sizeof(uint64_t));
    wn_docno *ea = wn__reallocarray(NULL, e->n + 1, 2 * sizeof(wn_docno));
    uint8_t *demoted = wn__calloc(n, 1);
    struct star_key *order = wn__reallocarray(NULL, n, sizeof(*order));
    wn_docno *best = wn__reallocarray(NULL, n, sizeof(wn_docno));
    wn_docno *grp = wn__reallocarray(NULL, n, sizeof(wn_docno));
    double *val = NULL;
    if (!off || !adj || !ea || !demoted || !order || !best || !grp)
        goto out;
    rc = load_ranks(d, keep, c, &val);
    if (rc)
        goto out;
    /* The index of each one's exact group's first (its own when none);
     * the member of each group the keep rule prefers: the group stands
     * for it among the centers, and it is the one kept. Firsts come
     * before their copies. */
    for (size_t k = 0; k < m; k++) {
        wn_docno i = c->doc[k], g = wn__egroup_of(eg, i);
        grp[k] = g == i ? (wn_docno)k : (wn_docno)wn__clustering_index(c, g);
        /* best[]: an index in play. */
        if (g == i)
            best[k] = (wn_docno)k;
        else if (val[k] > val[best[grp[k]]])
            best[grp[k]] = (wn_docno)k;
    }
    for (size_t k = 0; k < e->n; k++) {
        wn_docno a = (wn_docno)wn__clustering_index(c, wn__pair_a(e->pair[k]));
        wn_docno b = (wn_docno)wn__clustering_index(c, wn__pair_b(e->pair[k]));
        ea[2 * k] = a;
        ea[2 * k + 1] = b;
        off[a + 1]++;
        off[b + 1]++;
        if (e->flag[k] == 1)
            demoted[a] = 1;
        else if (e->flag[k] == 2)
            demoted[b] = 1;
    }
    for (size_t k = 0; k < m; k++)
        off[k + 1] += off[k];
    for (size_t k = 0; k < e->n; k++) {
        wn_docno a = ea[2 * k], b = ea[2 * k + 1];
        adj[off[a]++] = (uint64_t)b << 1 | (e->flag[k] == 1);
        adj[off[b]++] = (uint64_t)a << 1 | (e->flag[k] == 2);
    }
    for (size_t k = m; k > 0; k--)
        off[k] = off[k - 1];
    off[0] = 0;
    /* root[] is the center of each one; WN_DOCNO_NONE: not assigned. */
    size_t no = 0;
    for (size_t k = 0; k < m; k++) {
        c->root[k] = WN_DOCNO_NONE;
        if (grp[k] != k)
            continue; /* an exact copy follows its group's first */
        order[no].demoted = demoted[k];
        order[no].doc = (wn_docno)k;
        order[no].rank = val[best[k]];
        no++;
    }
    qsort(order, no, sizeof(*order), star_cmp);
    for (size_t q = 0; q < no; q++) {
        wn_docno x = order[q].doc;
        if (c->root[x] != WN_DOCNO_NONE)
            continue;
        c->root[x] = x;
        for (uint64_t a = off[x]; a < off[x + 1]; a++) {
            wn_docno y = (wn_docno)(adj[a] >> 1);
            /* Never absorb a record that contains the center. */
            if (c->root[y] == WN_DOCNO_NONE && !(adj[a] & 1))
                c->root[y] = x;
        }
    }
    for (size_t k = 0; k < m; k++) {
        if (grp[k] != k)
            c->root[k] = c->root[grp[k]];
        c->rep[k] = grp[k] == k ? c->doc[best[k]] : c->doc[k];
        c->size[c->root[k]]++;
    }
    number_clusters(c);
    rc = WN_OK;
out:
    wn__free(off);
    wn__free(adj);
    wn__free(ea);
    wn__free(demoted);
    wn__free(order);
    wn__free(best);
    wn__free(grp);
    wn__free(val);
    return rc;
}
