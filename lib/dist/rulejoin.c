/*
 * rulejoin.c - the rule's anchor and flash joins across MPI ranks (see
 * rulejoin.h). Three steps, every rank taking part in each:
 *
 * 1. Word counts. Each rank counted the lead words of the documents it
 *    read (a count-min sketch of saturating 16-bit counters, plain
 *    update: cms.h); MPI_Allreduce with a saturating sum gives every rank
 *    the table one process builds, which the flash join and the flash
 *    test of the verification read.
 *
 * 2. The anchor join. An anchor is a key like a band key: every rank sends
 *    each (anchor, document) entry of its documents, with the document's
 *    number of anchors in the pad, to the owner of the anchor's key range
 *    (the top 32 bits cut into P ranges, each cut again into G groups so
 *    that a rank holds one group's entries at a time: 32 bytes an entry
 *    within the join's budget), in rounds of ROUND_ENTRIES. The owner
 *    groups them by key and takes its buckets with candidates.c's rule
 *    (wn__anchor_buckets: buckets over the cap are boilerplate). A pair
 *    is a candidate when it shares wn__anchor_want anchors; those shared
 *    anchors may lie in several ranks' ranges, so each owner counts what
 *    it saw (at most the want), keeps the pairs that reach it, and sends
 *    the others with their count to the owner of the pair's first
 *    document, which adds the counts up. A pair that reaches its want on
 *    one rank, or over all of them, is the one process's candidate.
 *
 * 3. The flash join. Its blocks of WN_FLASH_BLOCK documents (by number)
 *    are owned by the rank that read each block's first document. Every
 *    rank marks the blocks where it has a short document (a probe): an
 *    MPI_Allreduce (bitwise or) gives every rank the blocks to join. A
 *    block's owner needs the lead words of blocks b - 1 to b + 1; every
 *    rank pushes the lead words and shingle counts of its documents that
 *    another rank's joined block needs (MPI_Alltoallv, in rounds of
 *    ROUND_DOCS of its documents), which only happens where the documents
 *    of one block were read by several ranks (at the units' edges). The
 *    owner keeps what it receives in an unnamed spill file and runs
 *    candidates.c's flash join over its blocks (wn__flash_join with a
 *    reader over its own records and the received ones).
 *
 * The pairs of both joins go to rank 0 (wn__dist_gather_pairs), where the
 * job adds them to the band pairs, or (keep_pairs: the pair rule) stay
 * on the rank that found them, for the owners of their first documents
 * (verdicts.h, wn__dist_pairs_to_owners). Memory per rank: one group's entries
 * and their pairs, the pairs counted, a round's buffers, the blocks of
 * the flash join (3 x 2,048 records), one byte per anchor count of rank
 * 0's documents on rank 0, and the index of the records received (16
 * bytes each).
 */
#include "dist/rulejoin.h"
#include "dist/exchange.h"

#include "io/outfile.h"
#include "io/spill.h"

#include <assert.h>
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>

#define ROUND_ENTRIES ((size_t)1 << 16) /* 1 MiB of entries sent per round */
#define ROUND_DOCS    ((size_t)1 << 11) /* documents pushed per round */
/* Pairs counted before the list is first merged (1 MiB; twice that with
 * the merge's radix scratch): more cost peak RSS for little speed. */
#define COUNT_COMPACT_MIN ((size_t)1 << 16)
#define ANCHOR_CHUNK      8192u

/* ------------------------------------------------------------------------ */
/* This rank's documents                                                     */
/* ------------------------------------------------------------------------ */

/* The units this rank read that hold documents, in order. */
struct own {
    size_t *u;
    size_t n;
};

static int own_make(struct own *o, const struct wn_dist_verifier *v)
{
    memset(o, 0, sizeof(*o));
    o->u = wn__calloc(v->nunits ? v->nunits : 1, sizeof(*o->u));
    if (!o->u)
        return WN_ENOMEM;
    for (size_t u = 0; u < v->nunits; u++)
        if (v->owner[u] == v->rank && v->ustart[u + 1] > v->ustart[u])
            o->u[o->n++] = u;
    return WN_OK;
}

static uint64_t own_docs(const struct own *o, const struct wn_dist_verifier *v)
{
    uint64_t n = 0;
    for (size_t k = 0; k < o->n; k++)
        n += v->ustart[o->u[k] + 1] - v->ustart[o->u[k]];
    return n;
}

/* This rank's local number of its document d. */
static uint64_t local_of(const struct wn_dist_verifier *v, uint64_t d)
{
    size_t u = wn__dist_unit_of(v, d);
    return v->ulocal[u] + (d - v->ustart[u]);
}

/* Whether document d of this rank's unit u is short (its local number
 * from the unit, without local_of's search). */
static bool is_short(const struct wn_dist_rule *r, size_t u, uint64_t d)
{
    const struct wn_dist_verifier *v = r->v;
    assert(v->ustart[u] <= d && d < v->ustart[u + 1]);
    if (v->docs)
        return wn__doc_nsh(v->docs, (size_t)d) <= r->sk->qp.short_tokens;
    uint64_t l = v->ulocal[u] + (d - v->ustart[u]);
    return r->shortb[l >> 3] >> (l & 7) & 1;
}

/* ------------------------------------------------------------------------ */
/* 1. Word counts                                                            */
/* ------------------------------------------------------------------------ */

static void sat_add_u16(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const uint16_t *a = in;
    uint16_t *b = inout;
    for (int i = 0; i < *len; i++) {
        uint32_t s = (uint32_t)a[i] + b[i];
        b[i] = s > UINT16_MAX ? UINT16_MAX : (uint16_t)s;
    }
}

static int words_share(const struct wn_dist_rule *r)
{
    struct wn_cms *w = r->words;
    if (!w)
        return WN_OK;
    size_t cells = (size_t)w->depth << w->log2_width;
    if (cells > INT_MAX)
        return WN_ELIMIT;
    MPI_Op op;
    if (MPI_Op_create(sat_add_u16, 1, &op) != MPI_SUCCESS)
        return WN_EIO;
    uint64_t adds = w->adds;
    int rc = MPI_Allreduce(MPI_IN_PLACE, w->c, (int)cells, MPI_UINT16_T, op,
                           MPI_COMM_WORLD) == MPI_SUCCESS &&
                     MPI_Allreduce(&adds, &w->adds, 1, MPI_UINT64_T, MPI_SUM,
                                   MPI_COMM_WORLD) == MPI_SUCCESS
                 ? WN_OK
                 : WN_EIO;
    MPI_Op_free(&op);
    /* A reduction sends about the table once per rank. */
    if (r->v->size > 1)
        r->t->rule += cells * sizeof(uint16_t);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* 2. The anchor join                                                        */
/* ------------------------------------------------------------------------ */

/* The document of an entry of the job's anchor spill (WN_ANCHOR_ENTRY
 * bytes: le64 key, then a le32 or, in a wide build, le64 document). */
static wn_docno job_doc(const uint8_t *p)
{
#ifdef WN_WIDE_DOCS
    return wn__get_le64(p + 8);
#else
    return wn__get_le32(p + 8);
#endif
}

/* Where a reading of this rank's anchors is, and which of them it takes:
 * those whose key falls in a slot of group g (key_slot over slots). */
struct acur {
    uint32_t f;  /* file */
    uint64_t at; /* entry in it */
    size_t k;    /* own unit of the last local number (other ranks) */
    uint64_t ranks, slots, groups, g;
    uint8_t *buf; /* ANCHOR_CHUNK entries */
    size_t nbuf, pos;
};

/* The key range of rank and group of an anchor: the top 32 bits cut into
 * size * groups equal ranges. */
static uint64_t key_slot(uint64_t key, uint64_t slots)
{
    return ((key >> 32) * slots) >> 32;
}

/* The next anchor entry of this rank in the cursor's group, as (key,
 * document, its anchors) and the slot of its key: 1, or 0 at the end, or
 * an I/O status. Every group reads the whole of this rank's anchors, so an
 * entry of another group is passed over on its key alone, before its
 * document is decoded. */
static int anchor_next(const struct wn_dist_rule *r, const struct own *o,
                       const uint8_t *na0, struct acur *c, struct wn_keydoc *e,
                       uint64_t *slot)
{
    const struct wn_dist_verifier *v = r->v;
    size_t es = r->job_format ? WN_ANCHOR_ENTRY : sizeof(struct wn_keydoc);
    const uint8_t *p = NULL;
    uint64_t key = 0, s = 0;
    for (;;) {
        while (c->pos == c->nbuf) {
            if (c->f >= r->nfiles)
                return 0;
            uint64_t left = r->nanch[c->f] - c->at;
            if (left == 0) {
                c->f++;
                c->at = 0;
                continue;
            }
            size_t want = (size_t)WN_MIN((uint64_t)ANCHOR_CHUNK, left);
            int rc = wn__pread_full(fileno(r->anch_f[c->f]), c->buf, want * es,
                                    c->at * es);
            if (rc)
                return rc;
            c->at += want;
            c->nbuf = want;
            c->pos = 0;
        }
        p = c->buf + c->pos++ * es;
        if (r->job_format)
            key = wn__get_le64(p);
        else
            memcpy(&key, p, sizeof(key)); /* wn_keydoc's first member */
        /* The slot's group without a division: the slot divided by the
         * groups is the key's rank range, floor(k * P / 2^32). */
        s = key_slot(key, c->slots);
        assert(s / c->groups == key_slot(key, c->ranks));
        if (s - key_slot(key, c->ranks) * c->groups == c->g)
            break;
    }
    *slot = s;
    if (r->job_format) {
        e->key = key;
        e->doc = job_doc(p);
        if (e->doc >= r->ndocs)
            return WN_EIO;
        e->pad = na0[local_of(v, e->doc)];
        return 1;
    }
    memcpy(e, p, sizeof(*e));
    /* Local numbers come in order: walk the own units along. */
    uint64_t l = e->doc;
    while (c->k < o->n) {
        size_t u = o->u[c->k];
        uint64_t cnt = v->ustart[u + 1] - v->ustart[u];
        if (l < v->ulocal[u] + cnt)
            break;
        c->k++;
    }
    if (c->k == o->n || l < v->ulocal[o->u[c->k]])
        return WN_EIO; /* not a document of this rank */
    size_t u = o->u[c->k];
    e->doc = (wn_docno)(v->ustart[u] + (l - v->ulocal[u]));
    return 1;
}

/* Rank 0: the anchors of each of its documents (by local number), which
 * the job's spills do not keep. */
static int count_na0(const struct wn_dist_rule *r, uint64_t nown, uint8_t **na0)
{
    *na0 = wn__calloc(nown ? (size_t)nown : 1, 1);
    uint8_t *buf = wn__malloc((size_t)ANCHOR_CHUNK * WN_ANCHOR_ENTRY);
    int rc = *na0 && buf ? WN_OK : WN_ENOMEM;
    for (uint32_t f = 0; !rc && f < r->nfiles; f++) {
        for (uint64_t at = 0; !rc && at < r->nanch[f];) {
            size_t want =
                (size_t)WN_MIN((uint64_t)ANCHOR_CHUNK, r->nanch[f] - at);
            rc = wn__pread_full(fileno(r->anch_f[f]), buf,
                                want * WN_ANCHOR_ENTRY, at * WN_ANCHOR_ENTRY);
            for (size_t i = 0; !rc && i < want; i++) {
                wn_docno d = job_doc(buf + i * WN_ANCHOR_ENTRY);
                uint64_t l = d < r->ndocs ? local_of(r->v, d) : nown;
                if (l >= nown)
                    rc = WN_EIO;
                else if ((*na0)[l] < UINT8_MAX)
                    (*na0)[l]++;
            }
            at += want;
        }
    }
    wn__free(buf);
    return rc;
}

/*
 * The pairs an owner counts, as one process does (candidates.c): a raw
 * pair once per shared anchor, at most hits copies of each kept (a
 * wn_docpair a copy, sorted in place); a pair whose want is below hits (a
 * document with fewer anchors) in low instead, {key: pair, doc: its want,
 * pad: the anchors seen}, merged by pair. With 32-bit document numbers
 * such an entry is a wn_keydoc (the pair is its 64-bit key), grouped by
 * wn__keydoc_group; in a wide build the pair takes 128 bits and the
 * entries are grouped by qsort.
 */
#ifdef WN_WIDE_DOCS
struct cpair {
    wn_docpair key;
    uint32_t doc, pad;
};

static int cpair_cmp(const void *x, const void *y)
{
    const struct cpair *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->doc > b->doc) - (a->doc < b->doc);
}

static int cpair_group(struct cpair *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof(*v), cpair_cmp);
    return WN_OK;
}
#else
#define cpair wn_keydoc
static int cpair_group(struct cpair *v, size_t n)
{
    return wn__keydoc_group(v, n);
}
#endif

struct counted {
    wn_docpair *raw;
    size_t n, cap, compact_at;
    struct cpair *low;
    size_t nlow, lowcap, low_at;
    uint32_t hits;
};

static void counted_compact(struct counted *c)
{
    c->n = wn__anchor_raw_compact(c->raw, c->n, WN_MAX(c->hits, 1u));
    c->compact_at = WN_MAX(COUNT_COMPACT_MIN, 2 * c->n);
}

static int low_compact(struct counted *c)
{
    int rc = cpair_group(c->low, c->nlow);
    if (rc)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < c->nlow;) {
        size_t e = i + 1;
        uint64_t sum = c->low[i].pad;
        while (e < c->nlow && c->low[e].key == c->low[i].key)
            sum += c->low[e++].pad;
        c->low[k] = c->low[i];
        c->low[k].pad = (uint32_t)WN_MIN(sum, (uint64_t)c->low[i].doc);
        k++;
        i = e;
    }
    c->nlow = k;
    c->low_at = WN_MAX((size_t)1024, 2 * k);
    return WN_OK;
}

/* wn__anchor_buckets' pairs: one shared anchor each. */
static int counted_emit(void *ud, const struct wn_keydoc *a,
                        const struct wn_keydoc *b)
{
    struct counted *c = ud;
    wn_docno lo = WN_MIN(a->doc, b->doc), hi = WN_MAX(a->doc, b->doc);
    wn_docpair pair = wn__pair(lo, hi);
    uint32_t want = wn__anchor_want(c->hits, a->pad, b->pad);
    if (want < WN_MAX(c->hits, 1u)) {
        if (c->nlow == c->lowcap && WN_GROW(c->low, c->lowcap, c->nlow + 1))
            return WN_ENOMEM;
        struct cpair e = {pair, want, 1};
        c->low[c->nlow++] = e;
        return c->nlow > c->low_at ? low_compact(c) : WN_OK;
    }
    if (c->n == c->cap && WN_GROW(c->raw, c->cap, c->n + 1))
        return WN_ENOMEM;
    c->raw[c->n++] = pair;
    if (c->n > c->compact_at)
        counted_compact(c);
    return WN_OK;
}

static int push(wn_docpair **p, size_t *n, size_t *cap, wn_docpair v)
{
    if (*n == *cap && WN_GROW(*p, *cap, *n + 1))
        return WN_ENOMEM;
    (*p)[(*n)++] = v;
    return WN_OK;
}

/* Whether any rank has more to send (collective). */
static int any_more(bool mine, bool *any)
{
    int m = mine, all = 0;
    if (MPI_Allreduce(&m, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) !=
        MPI_SUCCESS)
        return WN_EIO;
    *any = all != 0;
    return WN_OK;
}

/* The pairs that did not reach their want on one owner go, with their
 * counts, to the owner of their first document, which adds them up: the
 * pairs that reach their want there join *mine. */
static int anchor_settle(const struct wn_dist_rule *r, struct counted *c,
                         struct wn_dist_round *x, wn_docpair **mine,
                         size_t *nmine, size_t *mcap,
                         struct wn_rule_join_stats *st)
{
    const struct wn_dist_verifier *v = r->v;
    uint32_t need = WN_MAX(c->hits, 1u);
    struct cpair *half = NULL, *got = NULL;
    size_t nhalf = 0, halfcap = 0, ngot = 0, gotcap = 0;
    int *dest = wn__reallocarray(NULL, ROUND_ENTRIES, sizeof(*dest));
    int rc = dest ? low_compact(c) : WN_ENOMEM;
    if (!rc)
        counted_compact(c);
    /* Pairs of the raw list (copies: anchors seen) and of the low one. */
    for (size_t i = 0; !rc && i < c->n + c->nlow;) {
        struct cpair e;
        size_t next;
        if (i < c->n) {
            size_t j = i + 1;
            while (j < c->n && c->raw[j] == c->raw[i])
                j++;
            e.key = c->raw[i];
            e.doc = need;
            e.pad = (uint32_t)(j - i);
            next = j;
        } else {
            e = c->low[i - c->n];
            next = i + 1;
        }
        i = next;
        if (e.pad >= e.doc) {
            rc = push(mine, nmine, mcap, e.key);
            st->anchor_pairs++;
        } else if (nhalf == halfcap && WN_GROW(half, halfcap, nhalf + 1)) {
            rc = WN_ENOMEM;
        } else {
            half[nhalf++] = e;
        }
    }
    wn__free(c->raw);
    wn__free(c->low);
    c->raw = NULL;
    c->low = NULL;
    c->n = c->nlow = c->cap = c->lowcap = 0;
    bool any = true;
    for (size_t at = 0; !rc && any;) {
        size_t n = WN_MIN(ROUND_ENTRIES, nhalf - at);
        for (size_t i = 0; i < n; i++)
            dest[i] =
                v->owner[wn__dist_unit_of(v, wn__pair_a(half[at + i].key))];
        void *g = got;
        rc = wn__dist_round(x, half ? half + at : NULL, dest, n, sizeof(*half),
                            v->rank, v->size, &g, &ngot, &gotcap, &r->t->rule);
        got = g;
        at += n;
        if (!rc)
            rc = any_more(at < nhalf, &any);
    }
    if (!rc)
        rc = cpair_group(got, ngot);
    for (size_t i = 0; !rc && i < ngot;) {
        size_t e = i + 1;
        uint64_t sum = got[i].pad;
        while (e < ngot && got[e].key == got[i].key)
            sum += got[e++].pad;
        if (sum >= got[i].doc) {
            rc = push(mine, nmine, mcap, got[i].key);
            st->anchor_pairs++;
        }
        i = e;
    }
    wn__free(half);
    wn__free(got);
    wn__free(dest);
    return rc;
}

static int anchor_join(const struct wn_dist_rule *r, const struct own *o,
                       wn_docpair **mine, size_t *nmine, size_t *mcap,
                       struct wn_rule_join_stats *st)
{
    const struct wn_dist_verifier *v = r->v;
    uint64_t nown = own_docs(o, v), local = 0, total = 0;
    for (uint32_t f = 0; f < r->nfiles; f++)
        local += r->nanch[f];
    uint8_t *na0 = NULL;
    int rc = r->job_format ? count_na0(r, nown, &na0) : WN_OK;
    if (!rc && MPI_Allreduce(&local, &total, 1, MPI_UINT64_T, MPI_SUM,
                             MPI_COMM_WORLD) != MPI_SUCCESS)
        rc = WN_EIO;
    /* Groups: a rank's entries of one group and their radix scratch (32
     * bytes an entry) within the join's budget, as in one process. */
    uint64_t budget = WN_MAX(wn__join_budget(r->memory, r->ndocs),
                             (uint64_t)32 * WN_JOIN_BLOCK);
    uint64_t P = (uint64_t)v->size;
    uint64_t groups = (total * 32 / P + budget - 1) / budget;
    groups = WN_MAX((uint64_t)1, WN_MIN(groups, (uint64_t)UINT32_MAX / P));
    struct wn_keydoc *ent = wn__reallocarray(NULL, ROUND_ENTRIES, sizeof(*ent));
    int *dest = wn__reallocarray(NULL, ROUND_ENTRIES, sizeof(*dest));
    struct acur cur = {0};
    cur.buf = wn__malloc((size_t)ANCHOR_CHUNK * sizeof(struct wn_keydoc));
    struct wn_dist_round x = {0};
    struct wn_keydoc *got = NULL, *tmp = NULL;
    size_t ngot = 0, gotcap = 0, tmpcap = 0;
    struct counted c = {0};
    c.hits = r->anchor_hits;
    c.compact_at = COUNT_COMPACT_MIN;
    c.low_at = 1024;
    if (!rc && (!ent || !dest || !cur.buf))
        rc = WN_ENOMEM;
    /* WINNOW_TEST_MPI_DIE_RULE=k: rank k dies as the anchor exchange
     * starts, the others in or on their way to its first collective. */
    wn__dist_test_die("WINNOW_TEST_MPI_DIE_RULE", v->rank);
    for (uint64_t g = 0; !rc && g < groups; g++) {
        memset(&cur, 0, offsetof(struct acur, buf));
        cur.ranks = P;
        cur.slots = P * groups;
        cur.groups = groups;
        cur.g = g;
        cur.nbuf = cur.pos = 0;
        ngot = 0;
        bool more = true, any = true;
        while (!rc && any) {
            size_t n = 0;
            struct wn_keydoc e = {
                0}; /* anchor_next fills it when it returns 1 */
            uint64_t s = 0;
            while (n < ROUND_ENTRIES &&
                   (rc = anchor_next(r, o, na0, &cur, &e, &s)) == 1) {
                if (wn__bit_get(r->skip, e.doc))
                    continue;
                dest[n] = (int)(s / groups);
                ent[n++] = e;
            }
            if (rc < 0)
                break;
            more = rc == 1;
            void *gp = got;
            rc = wn__dist_round(&x, ent, dest, n, sizeof(*ent), v->rank,
                                v->size, &gp, &ngot, &gotcap, &r->t->keys);
            got = gp;
            if (!rc)
                rc = any_more(more, &any);
        }
        /* The radix scratch is kept across groups (fresh pages fault). */
        if (!rc && ngot > tmpcap) {
            wn__free(tmp);
            tmpcap = WN_MAX(ngot, gotcap);
            tmp = wn__reallocarray(NULL, tmpcap, sizeof(*tmp));
            if (!tmp)
                rc = WN_ENOMEM;
        }
        if (!rc)
            rc = wn__keydoc_group_with(got, ngot, tmp);
        if (!rc)
            rc = wn__anchor_buckets(got, ngot, r->anchor_bucket_max,
                                    counted_emit, &c, st);
        if (!rc && r->cancel && *r->cancel)
            rc = WN_EINTR;
    }
    wn__free(got);
    wn__free(tmp);
    if (!rc)
        rc = anchor_settle(r, &c, &x, mine, nmine, mcap, st);
    wn__dist_round_release(&x);
    wn__free(c.raw);
    wn__free(c.low);
    wn__free(cur.buf);
    wn__free(ent);
    wn__free(dest);
    wn__free(na0);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* 3. The flash join                                                         */
/* ------------------------------------------------------------------------ */

/* A document's lead words pushed to a block's owner: its number and
 * shingle count, then lead_bytes. */
struct pushed {
    uint64_t doc;
    uint32_t nsh, pad;
};

/* A record received: its document and its place in the spill file. */
struct placed {
    uint64_t doc, at;
};

struct flash {
    const struct wn_dist_rule *r;
    const struct own *o;
    uint8_t *active; /* blocks with a short document, one bit each */
    uint64_t nblocks;
    FILE *got_f; /* records received, struct pushed + lead_bytes each */
    struct placed *idx;
    size_t nidx, idxcap;
    uint8_t *tmp; /* WN_FLASH_BLOCK records of this rank */
    uint8_t *one; /* one received record */
};

static size_t pushed_bytes(const struct wn_sketcher *sk)
{
    return sizeof(struct pushed) + sk->lead_bytes;
}

static int block_owner(const struct flash *fl, uint64_t b)
{
    const struct wn_dist_verifier *v = fl->r->v;
    return v->owner[wn__dist_unit_of(v, b * WN_FLASH_BLOCK)];
}

static bool block_active(const struct flash *fl, uint64_t b)
{
    return fl->active[b >> 3] >> (b & 7) & 1;
}

static bool flash_mine(void *ud, uint64_t b)
{
    const struct flash *fl = ud;
    return block_active(fl, b) && block_owner(fl, b) == fl->r->v->rank;
}

static int cmp_placed(const void *x, const void *y)
{
    const struct placed *a = x, *b = y;
    return (a->doc > b->doc) - (a->doc < b->doc);
}

/* Documents [lo, hi): this rank's from its records, the others' from what
 * they pushed; skipped documents were not pushed (left zero). */
static int flash_read(void *ud, size_t lo, size_t hi, uint8_t *rec,
                      uint32_t *nsh)
{
    struct flash *fl = ud;
    const struct wn_dist_rule *r = fl->r;
    const struct wn_dist_verifier *v = r->v;
    const struct wn_sketcher *sk = r->sk;
    size_t rb = sk->rec_bytes, sb = rb + sizeof(uint32_t);
    size_t lead_at = sk->sig_bytes + sk->fig_bytes;
    memset(rec, 0, (hi - lo) * rb);
    memset(nsh, 0, (hi - lo) * sizeof(*nsh));
    int rc = WN_OK;
    for (size_t u = wn__dist_unit_of(v, lo);
         !rc && u < v->nunits && v->ustart[u] < hi; u++) {
        if (v->owner[u] != v->rank)
            continue;
        uint64_t a = WN_MAX((uint64_t)lo, v->ustart[u]);
        uint64_t b = WN_MIN((uint64_t)hi, v->ustart[u + 1]);
        if (a >= b)
            continue;
        rc = wn__dist_records_read(v, a, (size_t)(b - a), fl->tmp);
        for (uint64_t d = a; !rc && d < b; d++) {
            const uint8_t *q = fl->tmp + (d - a) * sb;
            memcpy(rec + (d - lo) * rb + lead_at, q + lead_at, sk->lead_bytes);
            memcpy(&nsh[d - lo], q + rb, sizeof(uint32_t));
        }
    }
    /* The first received record at or past lo. */
    size_t l = 0, h = fl->nidx;
    while (l < h) {
        size_t mid = l + (h - l) / 2;
        if (fl->idx[mid].doc < lo)
            l = mid + 1;
        else
            h = mid;
    }
    size_t pb = pushed_bytes(sk);
    for (size_t i = l; !rc && i < fl->nidx && fl->idx[i].doc < hi; i++) {
        rc = wn__pread_full(fileno(fl->got_f), fl->one, pb, fl->idx[i].at * pb);
        struct pushed w;
        memcpy(&w, fl->one, sizeof(w));
        if (!rc && w.doc != fl->idx[i].doc)
            rc = WN_EIO;
        if (!rc) {
            size_t d = (size_t)w.doc;
            memcpy(rec + (d - lo) * rb + lead_at, fl->one + sizeof(w),
                   sk->lead_bytes);
            nsh[d - lo] = w.nsh;
        }
    }
    return rc;
}

/* The blocks with a short document, from every rank. */
static int flash_active(struct flash *fl)
{
    const struct wn_dist_rule *r = fl->r;
    const struct wn_dist_verifier *v = r->v;
    size_t bytes = (size_t)(fl->nblocks / 8 + 1);
    if (bytes > INT_MAX)
        return WN_ELIMIT;
    fl->active = wn__calloc(bytes, 1);
    if (!fl->active)
        return WN_ENOMEM;
    for (size_t k = 0; k < fl->o->n; k++) {
        size_t u = fl->o->u[k];
        for (uint64_t d = v->ustart[u]; d < v->ustart[u + 1]; d++)
            if (!wn__bit_get(r->skip, d) && is_short(r, u, d))
                wn__bit_set(fl->active, (size_t)(d / WN_FLASH_BLOCK));
    }
    if (MPI_Allreduce(MPI_IN_PLACE, fl->active, (int)bytes, MPI_BYTE, MPI_BOR,
                      MPI_COMM_WORLD) != MPI_SUCCESS)
        return WN_EIO;
    if (v->size > 1)
        r->t->rule += bytes;
    return WN_OK;
}

/* The other ranks whose joined blocks need document d (at most 3). */
static size_t push_targets(const struct flash *fl, uint64_t d, int *to)
{
    uint64_t c = d / WN_FLASH_BLOCK;
    size_t n = 0;
    for (uint64_t x = c ? c - 1 : 0; x <= c + 1 && x < fl->nblocks; x++) {
        if (!block_active(fl, x))
            continue;
        int k = block_owner(fl, x);
        bool seen = k == fl->r->v->rank;
        for (size_t i = 0; i < n && !seen; i++)
            seen = to[i] == k;
        if (!seen)
            to[n++] = k;
    }
    return n;
}

/* Every rank pushes the lead words other ranks' joined blocks need; what
 * this rank receives goes to its spill file, indexed by document. */
static int flash_push(struct flash *fl)
{
    const struct wn_dist_rule *r = fl->r;
    const struct wn_dist_verifier *v = r->v;
    const struct wn_sketcher *sk = r->sk;
    size_t pb = pushed_bytes(sk), rb = sk->rec_bytes;
    size_t sb = rb + sizeof(uint32_t);
    uint64_t mine = own_docs(fl->o, v), most = 0;
    if (MPI_Allreduce(&mine, &most, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD) !=
        MPI_SUCCESS)
        return WN_EIO;
    uint64_t rounds = (most + ROUND_DOCS - 1) / ROUND_DOCS;
    uint8_t *out = wn__malloc(3 * ROUND_DOCS * pb);
    int *dest = wn__reallocarray(NULL, 3 * ROUND_DOCS, sizeof(*dest));
    uint8_t *one = wn__malloc(sb);
    struct wn_dist_round x = {0};
    void *got = NULL;
    size_t ngot = 0, gotcap = 0;
    int rc = out && dest && one ? WN_OK : WN_ENOMEM;
    size_t k = 0;                                       /* own unit */
    uint64_t d = fl->o->n ? v->ustart[fl->o->u[0]] : 0; /* next own doc */
    for (uint64_t q = 0; !rc && q < rounds; q++) {
        size_t n = 0;
        for (size_t i = 0; !rc && i < ROUND_DOCS && k < fl->o->n; i++) {
            int to[3];
            size_t nt = wn__bit_get(r->skip, d) ? 0 : push_targets(fl, d, to);
            if (nt)
                rc = wn__dist_records_read(v, d, 1, one);
            for (size_t t = 0; !rc && t < nt; t++) {
                struct pushed w = {d, 0, 0};
                memcpy(&w.nsh, one + rb, sizeof(w.nsh));
                uint8_t *e = out + n * pb;
                memcpy(e, &w, sizeof(w));
                memcpy(e + sizeof(w), one + sk->sig_bytes + sk->fig_bytes,
                       sk->lead_bytes);
                dest[n++] = to[t];
            }
            if (++d == v->ustart[fl->o->u[k] + 1] && ++k < fl->o->n)
                d = v->ustart[fl->o->u[k]];
        }
        ngot = 0;
        if (!rc)
            rc = wn__dist_round(&x, out, dest, n, pb, v->rank, v->size, &got,
                                &ngot, &gotcap, &r->t->rule);
        for (size_t i = 0; !rc && i < ngot; i++) {
            struct pushed w;
            memcpy(&w, (uint8_t *)got + i * pb, sizeof(w));
            if (fl->nidx == fl->idxcap &&
                WN_GROW(fl->idx, fl->idxcap, fl->nidx + 1)) {
                rc = WN_ENOMEM;
                break;
            }
            fl->idx[fl->nidx].doc = w.doc;
            fl->idx[fl->nidx].at = fl->nidx;
            fl->nidx++;
        }
        if (!rc && ngot && fwrite(got, pb, ngot, fl->got_f) != ngot)
            rc = WN_EIO;
    }
    if (!rc && fflush(fl->got_f) != 0)
        rc = WN_EIO;
    if (!rc && fl->nidx)
        qsort(fl->idx, fl->nidx, sizeof(*fl->idx), cmp_placed);
    wn__dist_round_release(&x);
    wn__free(got);
    wn__free(out);
    wn__free(dest);
    wn__free(one);
    return rc;
}

static int flash_join(const struct wn_dist_rule *r, const struct own *o,
                      wn_docpair **mine, size_t *nmine, size_t *mcap,
                      struct wn_rule_join_stats *st)
{
    const struct wn_sketcher *sk = r->sk;
    struct flash fl = {.r = r, .o = o};
    fl.nblocks = (r->ndocs + WN_FLASH_BLOCK - 1) / WN_FLASH_BLOCK;
    fl.got_f = wn__spill_create(r->tmp_dir, "flash", (size_t)1 << 16, NULL);
    fl.tmp = wn__reallocarray(NULL, WN_FLASH_BLOCK,
                              sk->rec_bytes + sizeof(uint32_t));
    fl.one = wn__malloc(pushed_bytes(sk));
    int rc = !fl.got_f ? WN_EOPEN : fl.tmp && fl.one ? WN_OK : WN_ENOMEM;
    if (!rc)
        rc = flash_active(&fl);
    if (!rc)
        rc = flash_push(&fl);
    if (!rc) {
        struct wn_flash_reader fr = {flash_read, flash_mine, &fl};
        struct wn_rule_join_in in = {
            .sk = sk,
            .n = r->ndocs,
            .skip = r->skip,
            .sig_fd = -1,
            .wt = &r->v->wt,
            .cancel = r->cancel,
            .flash = &fr,
        };
        rc = wn__flash_join(&in, mine, nmine, mcap, st);
    }
    if (fl.got_f)
        fclose(fl.got_f);
    wn__free(fl.active);
    wn__free(fl.idx);
    wn__free(fl.tmp);
    wn__free(fl.one);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The entry point                                                           */
/* ------------------------------------------------------------------------ */

int wn__dist_rule_join(const struct wn_dist_rule *r, wn_docpair **pairs,
                       size_t *npairs, size_t *cap,
                       struct wn_rule_join_stats *st)
{
    struct wn_dist_verifier *v = r->v;
    assert(r->sk->lead_bytes &&
           (r->keep_pairs ? pairs != NULL : (v->rank == 0) == (pairs != NULL)));
    struct own o;
    wn_docpair *mine = NULL;
    size_t nmine = 0, mcap = 0;
    int rc = own_make(&o, v);
    if (!rc)
        rc = words_share(r);
    if (!rc && r->words) {
        v->wt.cms = r->words;
        v->wt.n = r->ndocs;
    }
    if (!rc)
        rc = anchor_join(r, &o, &mine, &nmine, &mcap, st);
    if (!rc && r->words)
        rc = flash_join(r, &o, &mine, &nmine, &mcap, st);
    if (!rc && !r->keep_pairs)
        rc = wn__dist_gather_pairs(&mine, &nmine, &mcap, v->rank, v->size,
                                   &r->t->pairs);
    if (!rc && (v->rank == 0 || r->keep_pairs) && nmine) {
        if (*npairs + nmine > *cap && WN_GROW(*pairs, *cap, *npairs + nmine))
            rc = WN_ENOMEM;
        if (!rc) {
            memcpy(*pairs + *npairs, mine, nmine * sizeof(*mine));
            *npairs += nmine;
        }
    }
    wn__free(mine);
    wn__free(o.u);
    return rc;
}
