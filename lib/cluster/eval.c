/*
 * eval.c - scoring a clustering against ground truth: pairwise precision,
 * recall and F1 over same-cluster pairs, and the adjusted Rand index
 * (Hubert & Arabie 1985) from the contingency table. Truth may instead be
 * labelled pairs, scored pair by pair.
 *
 * Ids are interned in a string table (open addressing, FNV-1a); the
 * contingency table is a sorted array of (truth, predicted) cluster pairs.
 * O(n log n) in the number of items. Files are read with wn_reader in
 * raw mode (so .gz/.zst work) and each line is parsed with jansson.
 */
#include "common/common.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct strtab {
    char **keys;
    uint32_t *vals;
    size_t cap, n;
};

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int strtab_grow(struct strtab *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 1024;
    char **keys = wn__calloc(ncap, sizeof(char *));
    uint32_t *vals = wn__calloc(ncap, sizeof(uint32_t));
    if (!keys || !vals) {
        wn__free(keys);
        wn__free(vals);
        return WN_ENOMEM;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->keys[i])
            continue;
        size_t j = fnv1a(t->keys[i], strlen(t->keys[i])) & (ncap - 1);
        while (keys[j])
            j = (j + 1) & (ncap - 1);
        keys[j] = t->keys[i];
        vals[j] = t->vals[i];
    }
    wn__free(t->keys);
    wn__free(t->vals);
    t->keys = keys;
    t->vals = vals;
    t->cap = ncap;
    return WN_OK;
}

/* Find s; when absent and insert is set, add it with value val. Returns the
 * slot, or -1 when absent (or out of memory, with *rc set). */
static long strtab_find(struct strtab *t, const char *s, bool insert,
                        uint32_t val, int *rc)
{
    if (insert && (t->n + 1) * 2 > t->cap) {
        *rc = strtab_grow(t);
        if (*rc)
            return -1;
    }
    if (!t->cap)
        return -1;
    size_t j = fnv1a(s, strlen(s)) & (t->cap - 1);
    while (t->keys[j]) {
        if (!strcmp(t->keys[j], s))
            return (long)j;
        j = (j + 1) & (t->cap - 1);
    }
    if (!insert)
        return -1;
    t->keys[j] = wn__strdup(s);
    if (!t->keys[j]) {
        *rc = WN_ENOMEM;
        return -1;
    }
    t->vals[j] = val;
    t->n++;
    return (long)j;
}

static void strtab_release(struct strtab *t)
{
    for (size_t i = 0; i < t->cap; i++)
        wn__free(t->keys[i]);
    wn__free(t->keys);
    wn__free(t->vals);
    memset(t, 0, sizeof(*t));
}

/* The text of a JSON string or number value (numbers print as integers
 * when integral), into buf. */
static const char *value_text(json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, cap, "%.17g", json_real_value(v));
        return buf;
    }
    return NULL;
}

typedef int (*line_fn)(void *ud, json_t *obj);

static int each_line(const char *path, line_fn fn, void *ud, uint64_t *bad_line)
{
    struct wn_reader_options ro;
    memset(&ro, 0, sizeof(ro));
    ro.raw_only = 1;
    struct wn_reader *r = NULL;
    size_t bad = 0;
    int rc = wn_reader_create(&path, 1, &ro, &r, &bad);
    if (rc)
        return rc;
    struct wn_record rec;
    int got;
    while ((got = wn_reader_next(r, &rec)) > 0) {
        json_error_t err;
        json_t *obj =
            rec.status ? NULL : json_loadb(rec.raw, rec.raw_len, 0, &err);
        if (!obj || !json_is_object(obj)) {
            json_decref(obj);
            *bad_line = rec.line;
            rc = WN_EPARSE;
            break;
        }
        rc = fn(ud, obj);
        json_decref(obj);
        if (rc) {
            *bad_line = rec.line;
            break;
        }
    }
    if (!rc && got < 0)
        rc = got;
    wn_reader_free(r);
    return rc;
}

struct eval_ctx {
    struct strtab items;     /* id -> item index */
    struct strtab tclusters; /* truth cluster name -> index */
    uint32_t *truth;         /* item -> truth cluster */
    uint32_t *pred;          /* item -> predicted cluster, or UINT32_MAX */
    size_t nitems, cap;
    uint32_t npred;
    /* pairs mode */
    uint32_t *pa, *pb;
    int8_t *plabel;
    size_t npairs, pcap;
    bool pairs_mode, decided;
};

static int add_item(struct eval_ctx *c, const char *id, uint32_t *idx)
{
    int rc = WN_OK;
    long slot = strtab_find(&c->items, id, false, 0, &rc);
    if (slot >= 0) {
        *idx = c->items.vals[slot];
        return WN_OK;
    }
    if (WN_GROW(c->truth, c->cap, c->nitems + 1))
        return WN_ENOMEM;
    size_t pc = c->cap;
    (void)pc;
    uint32_t *p = wn__reallocarray(c->pred, c->cap, sizeof(uint32_t));
    if (!p)
        return WN_ENOMEM;
    c->pred = p;
    uint32_t i = (uint32_t)c->nitems;
    slot = strtab_find(&c->items, id, true, i, &rc);
    if (slot < 0)
        return rc ? rc : WN_ENOMEM;
    c->truth[i] = UINT32_MAX;
    c->pred[i] = UINT32_MAX;
    c->nitems++;
    *idx = i;
    return WN_OK;
}

static int truth_line(void *ud, json_t *obj)
{
    struct eval_ctx *c = ud;
    char b1[64], b2[64];
    json_t *ida = json_object_get(obj, "id_a");
    if (!c->decided) {
        c->pairs_mode = ida != NULL;
        c->decided = true;
    }
    int rc;
    if (c->pairs_mode) {
        const char *a = value_text(ida, b1, sizeof(b1));
        const char *b =
            value_text(json_object_get(obj, "id_b"), b2, sizeof(b2));
        json_t *l = json_object_get(obj, "label");
        if (!a || !b || !l || !(json_is_integer(l) || json_is_boolean(l)))
            return WN_EPARSE;
        int label =
            json_is_integer(l) ? json_integer_value(l) != 0 : json_is_true(l);
        uint32_t ia, ib;
        if ((rc = add_item(c, a, &ia)) || (rc = add_item(c, b, &ib)))
            return rc;
        size_t cap = c->pcap;
        if (WN_GROW(c->pa, c->pcap, c->npairs + 1))
            return WN_ENOMEM;
        if (c->pcap != cap) {
            uint32_t *pb = wn__reallocarray(c->pb, c->pcap, sizeof(*pb));
            int8_t *pl = pb ? wn__reallocarray(c->plabel, c->pcap, 1) : NULL;
            if (pb)
                c->pb = pb;
            if (!pl)
                return WN_ENOMEM;
            c->plabel = pl;
        }
        c->pa[c->npairs] = ia;
        c->pb[c->npairs] = ib;
        c->plabel[c->npairs] = (int8_t)label;
        c->npairs++;
        return WN_OK;
    }
    const char *id = value_text(json_object_get(obj, "id"), b1, sizeof(b1));
    const char *cl =
        value_text(json_object_get(obj, "cluster"), b2, sizeof(b2));
    if (!id || !cl)
        return WN_EPARSE;
    uint32_t i;
    if ((rc = add_item(c, id, &i)))
        return rc;
    rc = WN_OK;
    long slot =
        strtab_find(&c->tclusters, cl, true, (uint32_t)c->tclusters.n, &rc);
    if (slot < 0)
        return rc ? rc : WN_ENOMEM;
    c->truth[i] = c->tclusters.vals[slot];
    return WN_OK;
}

static int universe_line(void *ud, json_t *obj)
{
    struct eval_ctx *c = ud;
    char b[64];
    const char *id = value_text(json_object_get(obj, "id"), b, sizeof(b));
    if (!id)
        return WN_EPARSE;
    uint32_t i;
    return add_item(c, id, &i);
}

static int pred_line(void *ud, json_t *obj)
{
    struct eval_ctx *c = ud;
    json_t *m = json_object_get(obj, "members");
    if (!json_is_array(m))
        return WN_EPARSE;
    uint32_t k = c->npred++;
    size_t i;
    json_t *v;
    json_array_foreach(m, i, v)
    {
        char b[64];
        const char *id = value_text(v, b, sizeof(b));
        if (!id)
            return WN_EPARSE;
        int rc = WN_OK;
        long slot = strtab_find(&c->items, id, false, 0, &rc);
        if (slot >= 0)
            c->pred[c->items.vals[slot]] = k;
    }
    return WN_OK;
}

static double choose2(double n)
{
    return n * (n - 1) / 2;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Pairwise counts and ARI from the contingency table. */
static int score_clusters(struct eval_ctx *c, struct wn_eval_result *res)
{
    size_t n = c->nitems;
    uint64_t *cell = wn__reallocarray(NULL, n ? n : 1, sizeof(uint64_t));
    uint64_t *prow = wn__reallocarray(NULL, n ? n : 1, sizeof(uint64_t));
    uint64_t *trow = wn__reallocarray(NULL, n ? n : 1, sizeof(uint64_t));
    if (!cell || !prow || !trow) {
        wn__free(cell);
        wn__free(prow);
        wn__free(trow);
        return WN_ENOMEM;
    }
    uint32_t next_t = (uint32_t)c->tclusters.n, next_p = c->npred;
    for (size_t i = 0; i < n; i++) {
        /* Items without a cluster are singletons on that side. */
        uint64_t t = c->truth[i] == UINT32_MAX ? next_t++ : c->truth[i];
        uint64_t p = c->pred[i] == UINT32_MAX ? next_p++ : c->pred[i];
        cell[i] = t << 32 | p;
        prow[i] = p;
        trow[i] = t;
    }
    double sum_cells = 0, sum_p = 0, sum_t = 0;
    uint64_t *arrs[3] = {cell, prow, trow};
    double *sums[3] = {&sum_cells, &sum_p, &sum_t};
    for (int k = 0; k < 3; k++) {
        uint64_t *a = arrs[k];
        qsort(a, n, sizeof(*a), cmp_u64);
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && a[j] == a[i])
                j++;
            *sums[k] += choose2((double)(j - i));
            i = j;
        }
    }
    wn__free(cell);
    wn__free(prow);
    wn__free(trow);
    res->items = n;
    res->tp = (uint64_t)sum_cells;
    res->fp = (uint64_t)(sum_p - sum_cells);
    res->fn = (uint64_t)(sum_t - sum_cells);
    double expected = n > 1 ? sum_p * sum_t / choose2((double)n) : 0;
    double maxidx = 0.5 * (sum_p + sum_t);
    res->ari = maxidx - expected != 0
                   ? (sum_cells - expected) / (maxidx - expected)
                   : 1.0;
    return WN_OK;
}

static void finish_prf(struct wn_eval_result *r)
{
    double tp = (double)r->tp;
    r->precision = r->tp + r->fp ? tp / (double)(r->tp + r->fp) : 1.0;
    r->recall = r->tp + r->fn ? tp / (double)(r->tp + r->fn) : 1.0;
    r->f1 = r->precision + r->recall > 0
                ? 2 * r->precision * r->recall / (r->precision + r->recall)
                : 0.0;
}

int wn_eval_files(const char *predicted, const char *truth,
                  const char *universe, struct wn_eval_result *res,
                  uint64_t *bad_line, char *bad_file, size_t bad_cap)
{
    struct eval_ctx c;
    memset(&c, 0, sizeof(c));
    uint64_t line = 0;
    const char *where = truth;
    int rc = each_line(truth, truth_line, &c, &line);
    if (!rc && universe && !c.pairs_mode) {
        where = universe;
        rc = each_line(universe, universe_line, &c, &line);
    }
    if (!rc) {
        where = predicted;
        rc = each_line(predicted, pred_line, &c, &line);
    }
    struct wn_eval_result r;
    memset(&r, 0, sizeof(r));
    if (!rc && c.pairs_mode) {
        r.pairs_mode = 1;
        r.items = c.nitems;
        for (size_t i = 0; i < c.npairs; i++) {
            uint32_t pa = c.pred[c.pa[i]], pb = c.pred[c.pb[i]];
            bool same = pa != UINT32_MAX && pa == pb;
            if (same && c.plabel[i])
                r.tp++;
            else if (same)
                r.fp++;
            else if (c.plabel[i])
                r.fn++;
        }
        r.ari = NAN;
    } else if (!rc) {
        rc = score_clusters(&c, &r);
    }
    if (!rc) {
        finish_prf(&r);
        *res = r;
    } else {
        if (bad_line)
            *bad_line = line;
        if (bad_file && bad_cap)
            snprintf(bad_file, bad_cap, "%s", where);
    }
    strtab_release(&c.items);
    strtab_release(&c.tclusters);
    wn__free(c.truth);
    wn__free(c.pred);
    wn__free(c.pa);
    wn__free(c.pb);
    wn__free(c.plabel);
    return rc;
}
