/*
 * eval.c - scoring a clustering against ground truth: pairwise precision,
 * recall and F1 over same-cluster pairs, and the adjusted Rand index
 * (Hubert & Arabie 1985) from the contingency table. Truth may instead be
 * labelled pairs, scored pair by pair and by their "kind".
 *
 * Ids are interned in a string table (open addressing, FNV-1a); the
 * contingency table is a sorted array of (truth, predicted) cluster pairs.
 * O(n log n) in the number of items. Files are read with wn_reader in
 * raw mode (so .gz/.zst work) and each line is checked and taken apart by
 * the JSON scanner of lib/io, not a tree parser: an id must keep the bytes
 * of its token (a number is compared as written, as dedup writes it, never
 * through a double or an int64).
 *
 * An id's key is the JSON-escaped form (without quotes) of the bytes dedup
 * writes for it: the decoded text of a string, the token of a number. The
 * escape is the one dedup's writer uses, so that ill-formed UTF-8 in a
 * truth id becomes the same U+FFFD as in clusters.jsonl, and a key is a C
 * string (a NUL byte is escaped).
 */
#include "common/common.h"
#include "io/json.h"

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

/* A map from packed pairs to their first line, for repeated labelled
 * pairs (open addressing; key 0 is never a pair because a != b there is not
 * required, so the key is stored plus one). */
struct pairset {
    uint64_t *keys; /* pair + 1, or 0 for empty */
    uint64_t *lines;
    size_t cap, n;
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* The first line of pair k, or 0 after adding it with line. */
static int pairset_add(struct pairset *ps, uint64_t k, uint64_t line,
                       uint64_t *first)
{
    if ((ps->n + 1) * 2 > ps->cap) {
        size_t ncap = ps->cap ? ps->cap * 2 : 1024;
        uint64_t *keys = wn__calloc(ncap, sizeof(uint64_t));
        uint64_t *lines = wn__calloc(ncap, sizeof(uint64_t));
        if (!keys || !lines) {
            wn__free(keys);
            wn__free(lines);
            return WN_ENOMEM;
        }
        for (size_t i = 0; i < ps->cap; i++) {
            if (!ps->keys[i])
                continue;
            size_t j = mix64(ps->keys[i]) & (ncap - 1);
            while (keys[j])
                j = (j + 1) & (ncap - 1);
            keys[j] = ps->keys[i];
            lines[j] = ps->lines[i];
        }
        wn__free(ps->keys);
        wn__free(ps->lines);
        ps->keys = keys;
        ps->lines = lines;
        ps->cap = ncap;
    }
    k++;
    size_t j = mix64(k) & (ps->cap - 1);
    while (ps->keys[j]) {
        if (ps->keys[j] == k) {
            *first = ps->lines[j];
            return WN_OK;
        }
        j = (j + 1) & (ps->cap - 1);
    }
    ps->keys[j] = k;
    ps->lines[j] = line;
    ps->n++;
    *first = 0;
    return WN_OK;
}

static void pairset_release(struct pairset *ps)
{
    wn__free(ps->keys);
    wn__free(ps->lines);
    memset(ps, 0, sizeof(*ps));
}

/*
 * The key of an id token tok[0..len) of type WN_JSON_STRING or
 * WN_JSON_NUMBER into key (reset first; NUL-terminated). tmp is scratch.
 * WN_EPARSE for any other type.
 */
static int id_key(const char *tok, size_t len, int type, struct wn_buf *tmp,
                  struct wn_buf *key)
{
    key->len = 0;
    int rc;
    if (type == WN_JSON_NUMBER) {
        rc = wn__buf_append(key, tok, len);
    } else if (type == WN_JSON_STRING) {
        tmp->len = 0;
        size_t n = 0;
        if ((rc = wn__buf_reserve(tmp, len + 1)))
            return rc;
        if (wn__json_unescape(tok, len, tmp->data, &n))
            return WN_EPARSE;
        if ((rc = wn__json_escape(tmp->data, n, key)))
            return rc;
        /* Drop the quotes the escape adds. */
        memmove(key->data, key->data + 1, key->len - 2);
        key->len -= 2;
    } else {
        return WN_EPARSE;
    }
    return rc ? rc : wn__buf_putc(key, '\0');
}

typedef int (*line_fn)(void *ud, const char *raw, size_t len, uint64_t line);

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
        rc = rec.status ? WN_EPARSE : fn(ud, rec.raw, rec.raw_len, rec.line);
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
    struct strtab items;     /* id key -> item index */
    struct strtab tclusters; /* truth cluster key -> index */
    struct strtab kinds;     /* pair kind -> index */
    uint32_t *truth;         /* item -> truth cluster */
    uint32_t *pred;          /* item -> predicted cluster, or UINT32_MAX */
    uint64_t *tline, *pline; /* item -> first truth / clusters line */
    uint8_t *in_truth;       /* item named by the truth file */
    size_t nitems, cap;
    uint32_t npred;
    /* pairs mode */
    uint32_t *pa, *pb, *pkind;
    int8_t *plabel;
    size_t npairs, pcap;
    struct pairset seen;
    bool pairs_mode, decided;
    const struct wn_eval_options *opts;
    const char *file; /* the file being read, for warnings */
    uint64_t truth_conflicts, pred_conflicts;
    struct wn_buf key, tmp;
};

/* "<what> '<id>' is <verb> again (first at line N); the first <used> is
 * used", to the caller's warn callback. */
static void warn(struct eval_ctx *c, uint64_t line, const char *what,
                 const char *id, const char *verb, uint64_t earlier,
                 const char *used)
{
    if (!c->opts || !c->opts->warn)
        return;
    char msg[400];
    snprintf(msg, sizeof(msg),
             "%s '%s' is %s again (first at line %llu); the first %s is "
             "used",
             what, id, verb, (unsigned long long)earlier, used);
    c->opts->warn(c->opts->warn_ud, c->file, line, msg);
}

static int add_item(struct eval_ctx *c, const char *id, uint32_t *idx)
{
    int rc = WN_OK;
    long slot = strtab_find(&c->items, id, false, 0, &rc);
    if (slot >= 0) {
        *idx = c->items.vals[slot];
        return WN_OK;
    }
    size_t cap = c->cap;
    if (WN_GROW(c->truth, c->cap, c->nitems + 1))
        return WN_ENOMEM;
    if (c->cap != cap) {
        uint32_t *p = wn__reallocarray(c->pred, c->cap, sizeof(uint32_t));
        if (p)
            c->pred = p;
        uint64_t *tl =
            p ? wn__reallocarray(c->tline, c->cap, sizeof(uint64_t)) : NULL;
        if (tl)
            c->tline = tl;
        uint64_t *pl =
            tl ? wn__reallocarray(c->pline, c->cap, sizeof(uint64_t)) : NULL;
        if (pl)
            c->pline = pl;
        uint8_t *it = pl ? wn__reallocarray(c->in_truth, c->cap, 1) : NULL;
        if (!it) {
            c->cap = cap; /* the arrays that did grow keep their room */
            return WN_ENOMEM;
        }
        c->in_truth = it;
    }
    uint32_t i = (uint32_t)c->nitems;
    slot = strtab_find(&c->items, id, true, i, &rc);
    if (slot < 0)
        return rc ? rc : WN_ENOMEM;
    c->truth[i] = UINT32_MAX;
    c->pred[i] = UINT32_MAX;
    c->tline[i] = 0;
    c->pline[i] = 0;
    c->in_truth[i] = 0;
    c->nitems++;
    *idx = i;
    return WN_OK;
}

/* The key of field f of raw into c->key, and its item (added if absent). */
static int field_item(struct eval_ctx *c, const char *raw,
                      const struct wn_json_field *f, uint32_t *idx)
{
    int rc = id_key(raw + f->off, f->len, f->type, &c->tmp, &c->key);
    return rc ? rc : add_item(c, c->key.data, idx);
}

static int truth_pair(struct eval_ctx *c, const char *raw,
                      struct wn_json_field *f, uint64_t line)
{
    /* f: id_a, id_b, label, kind */
    const char *l = raw + f[2].off;
    int label;
    if (f[2].type == WN_JSON_NUMBER)
        label = strtod(l, NULL) != 0;
    else if (f[2].type == WN_JSON_OTHER && f[2].len == 4 &&
             !memcmp(l, "true", 4))
        label = 1;
    else if (f[2].type == WN_JSON_OTHER && f[2].len == 5 &&
             !memcmp(l, "false", 5))
        label = 0;
    else
        return WN_EPARSE;
    uint32_t ia, ib, kind = UINT32_MAX;
    int rc;
    if ((rc = field_item(c, raw, &f[0], &ia)))
        return rc;
    if ((rc = field_item(c, raw, &f[1], &ib)))
        return rc;
    c->in_truth[ia] = c->in_truth[ib] = 1;
    if (f[3].type == WN_JSON_STRING) {
        if ((rc =
                 id_key(raw + f[3].off, f[3].len, f[3].type, &c->tmp, &c->key)))
            return rc;
    } else if (f[3].type == WN_JSON_ABSENT || f[3].type == WN_JSON_NULL) {
        c->key.len = 0;
        if ((rc = wn__buf_putc(&c->key, '\0')))
            return rc;
    } else {
        return WN_EPARSE;
    }
    rc = WN_OK;
    long slot =
        strtab_find(&c->kinds, c->key.data, true, (uint32_t)c->kinds.n, &rc);
    if (slot < 0)
        return rc ? rc : WN_ENOMEM;
    kind = c->kinds.vals[slot];
    uint64_t lo = WN_MIN(ia, ib), hi = WN_MAX(ia, ib), first = 0;
    if ((rc = pairset_add(&c->seen, lo << 32 | hi, line, &first)))
        return rc;
    if (first) {
        c->truth_conflicts++;
        /* The pair's first id, for the message. */
        struct wn_buf *k = &c->key;
        if (!id_key(raw + f[0].off, f[0].len, f[0].type, &c->tmp, k))
            warn(c, line, "the pair of", k->data, "labelled", first, "label");
        return WN_OK;
    }
    size_t cap = c->pcap;
    if (WN_GROW(c->pa, c->pcap, c->npairs + 1))
        return WN_ENOMEM;
    if (c->pcap != cap) {
        uint32_t *pb = wn__reallocarray(c->pb, c->pcap, sizeof(*pb));
        if (pb)
            c->pb = pb;
        uint32_t *pk =
            pb ? wn__reallocarray(c->pkind, c->pcap, sizeof(*pk)) : NULL;
        if (pk)
            c->pkind = pk;
        int8_t *pl = pk ? wn__reallocarray(c->plabel, c->pcap, 1) : NULL;
        if (!pl) {
            c->pcap = cap;
            return WN_ENOMEM;
        }
        c->plabel = pl;
    }
    c->pa[c->npairs] = ia;
    c->pb[c->npairs] = ib;
    c->pkind[c->npairs] = kind;
    c->plabel[c->npairs] = (int8_t)label;
    c->npairs++;
    return WN_OK;
}

static int truth_line(void *ud, const char *raw, size_t len, uint64_t line)
{
    struct eval_ctx *c = ud;
    struct wn_json_field f[6] = {
        {.key = "id_a", .key_len = 4},  {.key = "id_b", .key_len = 4},
        {.key = "label", .key_len = 5}, {.key = "kind", .key_len = 4},
        {.key = "id", .key_len = 2},    {.key = "cluster", .key_len = 7},
    };
    size_t off;
    if (wn__json_scan_object(raw, len, f, WN_ARRAY_LEN(f), &off))
        return WN_EPARSE;
    if (!c->decided) {
        c->pairs_mode =
            f[0].type != WN_JSON_ABSENT || (c->opts && c->opts->pairs_only);
        c->decided = true;
    }
    if (c->pairs_mode)
        return truth_pair(c, raw, f, line);
    uint32_t i;
    int rc = field_item(c, raw, &f[4], &i);
    if (rc)
        return rc;
    if (c->in_truth[i]) {
        c->truth_conflicts++;
        warn(c, line, "id", c->key.data, "given", c->tline[i], "cluster");
        return WN_OK;
    }
    if ((rc = id_key(raw + f[5].off, f[5].len, f[5].type, &c->tmp, &c->key)))
        return rc;
    rc = WN_OK;
    long slot = strtab_find(&c->tclusters, c->key.data, true,
                            (uint32_t)c->tclusters.n, &rc);
    if (slot < 0)
        return rc ? rc : WN_ENOMEM;
    c->truth[i] = c->tclusters.vals[slot];
    c->tline[i] = line;
    c->in_truth[i] = 1;
    return WN_OK;
}

static int universe_line(void *ud, const char *raw, size_t len, uint64_t line)
{
    struct eval_ctx *c = ud;
    struct wn_json_field f = {.key = "id", .key_len = 2};
    size_t off;
    (void)line;
    if (wn__json_scan_object(raw, len, &f, 1, &off))
        return WN_EPARSE;
    uint32_t i;
    return field_item(c, raw, &f, &i);
}

static bool json_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static int pred_line(void *ud, const char *raw, size_t len, uint64_t line)
{
    struct eval_ctx *c = ud;
    struct wn_json_field f = {.key = "members", .key_len = 7};
    size_t off;
    if (wn__json_scan_object(raw, len, &f, 1, &off) ||
        f.type != WN_JSON_OTHER || raw[f.off] != '[')
        return WN_EPARSE;
    uint32_t k = c->npred++;
    /* The scanner has checked the array; walk its elements. */
    const char *p = raw + f.off + 1, *end = raw + f.off + f.len - 1;
    for (;;) {
        while (p < end && (json_space(*p) || *p == ','))
            p++;
        if (p >= end)
            break;
        const char *q = p;
        int type;
        if (*p == '"') {
            q++;
            while (*q != '"')
                q += *q == '\\' ? 2 : 1;
            q++;
            type = WN_JSON_STRING;
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            while (q < end && !json_space(*q) && *q != ',')
                q++;
            type = WN_JSON_NUMBER;
        } else {
            return WN_EPARSE;
        }
        int rc = id_key(p, (size_t)(q - p), type, &c->tmp, &c->key);
        if (rc)
            return rc;
        p = q;
        rc = WN_OK;
        long slot = strtab_find(&c->items, c->key.data, false, 0, &rc);
        if (slot < 0)
            continue; /* not an item of the truth */
        uint32_t i = c->items.vals[slot];
        if (c->pred[i] != UINT32_MAX) {
            c->pred_conflicts++;
            warn(c, line, "id", c->key.data, "listed", c->pline[i], "cluster");
            continue;
        }
        c->pred[i] = k;
        c->pline[i] = line;
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

static void ctx_release(struct eval_ctx *c)
{
    strtab_release(&c->items);
    strtab_release(&c->tclusters);
    strtab_release(&c->kinds);
    pairset_release(&c->seen);
    wn__free(c->truth);
    wn__free(c->pred);
    wn__free(c->tline);
    wn__free(c->pline);
    wn__free(c->in_truth);
    wn__free(c->pa);
    wn__free(c->pb);
    wn__free(c->pkind);
    wn__free(c->plabel);
    wn__buf_release(&c->key);
    wn__buf_release(&c->tmp);
}

/* Read the three files and score; *r is the total. On error, *bad_line and
 * *where say which line of which file. */
static int eval_run(struct eval_ctx *c, const char *predicted,
                    const char *truth, struct wn_eval_result *r,
                    uint64_t *bad_line, const char **where)
{
    const char *universe = c->opts ? c->opts->universe : NULL;
    *where = c->file = truth;
    int rc = each_line(truth, truth_line, c, bad_line);
    if (!rc && c->opts && c->opts->pairs_only && !c->pairs_mode)
        rc = WN_EPARSE; /* an empty file: no pair at all is fine */
    if (!rc && universe && !c->pairs_mode) {
        *where = c->file = universe;
        rc = each_line(universe, universe_line, c, bad_line);
    }
    if (!rc) {
        *where = c->file = predicted;
        rc = each_line(predicted, pred_line, c, bad_line);
    }
    if (rc)
        return rc;
    memset(r, 0, sizeof(*r));
    if (c->pairs_mode) {
        r->pairs_mode = 1;
        r->items = c->nitems;
        for (size_t i = 0; i < c->npairs; i++) {
            uint32_t pa = c->pred[c->pa[i]], pb = c->pred[c->pb[i]];
            bool same = c->pa[i] == c->pb[i] || (pa != UINT32_MAX && pa == pb);
            if (same && c->plabel[i])
                r->tp++;
            else if (same)
                r->fp++;
            else if (c->plabel[i])
                r->fn++;
        }
        r->ari = NAN;
    } else if ((rc = score_clusters(c, r))) {
        return rc;
    }
    finish_prf(r);
    return WN_OK;
}

int wn_eval_files(const char *predicted, const char *truth,
                  const char *universe, struct wn_eval_result *res,
                  uint64_t *bad_line, char *bad_file, size_t bad_cap)
{
    struct wn_eval_options o;
    memset(&o, 0, sizeof(o));
    o.universe = universe;
    struct wn_eval_report *rep = NULL;
    int rc = wn_eval_report_create(predicted, truth, &o, &rep, bad_line,
                                   bad_file, bad_cap);
    if (!rc) {
        *res = rep->total;
        wn_eval_report_free(rep);
    }
    return rc;
}

int wn_eval_report_create(const char *predicted, const char *truth,
                          const struct wn_eval_options *opts,
                          struct wn_eval_report **out, uint64_t *bad_line,
                          char *bad_file, size_t bad_cap)
{
    struct eval_ctx c;
    memset(&c, 0, sizeof(c));
    c.opts = opts;
    uint64_t line = 0;
    const char *where = truth;
    struct wn_eval_result r;
    struct wn_eval_report *rep = NULL;
    int rc = eval_run(&c, predicted, truth, &r, &line, &where);
    if (!rc) {
        rep = wn__calloc(1, sizeof(*rep));
        if (!rep)
            rc = WN_ENOMEM;
    }
    if (!rc && c.pairs_mode && c.kinds.n) {
        rep->kinds = wn__calloc(c.kinds.n, sizeof(*rep->kinds));
        rep->nkinds = c.kinds.n;
        for (size_t j = 0; rep->kinds && j < c.kinds.cap; j++) {
            if (!c.kinds.keys[j])
                continue;
            struct wn_eval_kind *k = &rep->kinds[c.kinds.vals[j]];
            k->kind = wn__strdup(c.kinds.keys[j]);
            if (!k->kind)
                rc = WN_ENOMEM;
        }
        if (!rep->kinds)
            rc = WN_ENOMEM;
        for (size_t i = 0; !rc && i < c.npairs; i++) {
            struct wn_eval_kind *k = &rep->kinds[c.pkind[i]];
            uint32_t pa = c.pred[c.pa[i]], pb = c.pred[c.pb[i]];
            bool same = c.pa[i] == c.pb[i] || (pa != UINT32_MAX && pa == pb);
            k->pairs++;
            k->positives += c.plabel[i] != 0;
            if (same && c.plabel[i])
                k->tp++;
            else if (same)
                k->fp++;
            else if (c.plabel[i])
                k->fn++;
            else
                k->tn++;
        }
    }
    if (!rc) {
        rep->total = r;
        rep->truth_conflicts = c.truth_conflicts;
        rep->pred_conflicts = c.pred_conflicts;
        for (size_t i = 0; i < c.nitems; i++)
            rep->missing_ids += c.in_truth[i] && c.pred[i] == UINT32_MAX;
        *out = rep;
    } else {
        wn_eval_report_free(rep);
        if (bad_line)
            *bad_line = line;
        if (bad_file && bad_cap)
            snprintf(bad_file, bad_cap, "%s", where);
    }
    ctx_release(&c);
    return rc;
}

void wn_eval_report_free(struct wn_eval_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->kinds && i < r->nkinds; i++)
        wn__free(r->kinds[i].kind);
    wn__free(r->kinds);
    wn__free(r);
}
