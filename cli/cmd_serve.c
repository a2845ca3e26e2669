/*
 * cmd_serve.c - `winnow serve --index PATH --listen ADDR:PORT`: the index
 * behind HTTP/JSON (libmicrohttpd).
 *
 *   POST /check   {"id", "text", "time"?}  -> {id, new, duplicate_of,
 *                 similarity, reason}; a new record is added, and the answer
 *                 is sent only after the transaction that added it is durable
 *   POST /query   the same, adding nothing; "matches": N lists N matches
 *   POST /batch   NDJSON, one object a line -> NDJSON answers in order;
 *                 ?mode=query to add nothing
 *   GET  /stats   counts of the index and of the service
 *   GET  /health  {"ok": true}, or 503 while draining
 *
 * Request threads (--threads, the cores by default; libmicrohttpd's epoll
 * loops) read bodies, parse them (flat objects in place, anything else
 * with jansson) and sketch; a check then queues its prepared records for
 * the one writer thread and suspends its connection, so that the thread
 * goes on with other connections. Group commit, pipelined: the writer
 * takes everything queued, checks it and appends the new records to the
 * index's write-ahead log (or, with --no-wal, commits it to LMDB, syncing
 * the pages it wrote: MDB_NOMETASYNC); the syncer then syncs the log (or
 * the rest: wn_index_sync) while the writer checks the next group, and
 * only then resumes the group's connections, which answer. A group sees
 * every group before it, and its records see each other in order. The
 * merger thread checkpoints the log into LMDB and merges the pending tier.
 * Queries run read-only transactions on the request threads.
 *
 * Bad requests (malformed JSON, no text, no id for a check, a body over
 * --max-body) get a 4xx with {"error": "..."} and change nothing; in a
 * batch, one bad line rejects the whole body. SIGTERM or SIGINT: stop
 * accepting, finish the requests in flight (at most --drain-seconds),
 * close the index, exit 0.
 */
/* The feature macro of open_memstream and friends, not a name of ours: */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define _GNU_SOURCE
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WRITER_BATCH_MAX 4096u /* records per group commit, at most */
#define POOL_MAX         512u  /* request objects kept for reuse */
/* Records of one /batch at most (413 beyond): the per-record arrays are
 * about 170 bytes a record, so a body of short lines cannot make them
 * many times its size. */
#define BATCH_MAX_RECORDS 100000u
/* A request object's arrays are not kept for reuse above this. */
#define POOL_ROOM_MAX 4096u
#define JOB_STOPPED   1 /* a job's rc: the writer had stopped */

/* A group of prepared records waiting for the writer: one request's. */
struct job {
    struct wn_index_item **items;
    struct wn_index_result *res;
    size_t n;
    int rc;
    bool done;
    struct MHD_Connection *conn; /* suspended until the job is done */
    struct job *next;
};

struct request;

struct server {
    struct wn_index *ix;
    size_t max_body;
    const char *time_field;
    bool sync_later; /* commits sync their pages; the syncer the rest */

    pthread_mutex_t mu;
    pthread_cond_t queued, committed;
    pthread_cond_t stopping;   /* the merge thread's sleep */
    struct job *head, *tail;   /* waiting for the writer */
    struct job *uhead, *utail; /* committed, waiting for the syncer */
    bool stop, writer_done;
    pthread_t writer, syncer, merger;
    int merge_rc;

    /* Gathered by the writer: its own result array, swapped with the
     * jobs' ones after each transaction. */
    struct wn_index_item **witems;
    struct wn_index_result *wres;
    size_t wcap;

    /* Request objects (their buffers) for reuse, a stack. */
    pthread_mutex_t pool_mu;
    struct request *pool[POOL_MAX];
    size_t npool;

    atomic_bool draining;
    atomic_long inflight;
    atomic_ullong requests, checks, added, queries, bad, failed, commits,
        batched, syncs;
    /* Where the time goes, in nanoseconds: parsing and sketching on the
     * request threads, the writer's transactions (look up, add, commit
     * with its sync of the pages), the syncer's syncs. */
    atomic_ullong prepare_ns, apply_ns, sync_ns;
    /* The merger thread's time in checkpoints and in merges. */
    atomic_ullong checkpoint_ns, merge_ns;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------------ */
/* The writer and the syncer: group commit                                  */
/* ------------------------------------------------------------------------ */

static int writer_grow(struct server *s, size_t n)
{
    if (n <= s->wcap)
        return 0;
    size_t cap = s->wcap ? s->wcap : 64;
    while (cap < n)
        cap *= 2;
    struct wn_index_item **it =
        realloc(s->witems, cap * sizeof(struct wn_index_item *));
    if (!it)
        return -1;
    s->witems = it;
    struct wn_index_result *r = realloc(s->wres, cap * sizeof(*r));
    if (!r)
        return -1;
    for (size_t i = s->wcap; i < cap; i++)
        wn_index_result_init(&r[i]);
    s->wres = r;
    s->wcap = cap;
    return 0;
}

/* Mark the jobs of a list done with rc (unless one failed already) and
 * resume their connections. s->mu held on entry, released on return: a
 * resumed request may free its job at once, so the list is read first. */
static void finish_jobs(struct server *s, struct job *first, int rc)
{
    struct MHD_Connection *batch[64];
    size_t nb = 0;
    for (struct job *j = first; j; j = j->next) {
        if (!j->rc)
            j->rc = rc;
    }
    /* Resume outside the lock (MHD takes its own), in slices: a job is
     * marked done only just before its connection is resumed, and the
     * list's links are read before that. */
    struct job *j = first;
    while (j) {
        nb = 0;
        while (j && nb < sizeof(batch) / sizeof(batch[0])) {
            struct job *nx = j->next;
            batch[nb++] = j->conn;
            j->done = true;
            j = nx;
        }
        pthread_mutex_unlock(&s->mu);
        for (size_t i = 0; i < nb; i++)
            MHD_resume_connection(batch[i]);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
}

/* Takes everything queued (up to WRITER_BATCH_MAX records, never splitting
 * a /batch body), checks it in one write transaction and commits. With
 * sync_later the commit syncs its pages only, and the group goes to the
 * syncer, which makes it durable while the writer checks the next group;
 * the records of a group see every committed group before them. */
static void *writer_main(void *arg)
{
    struct server *s = arg;
    pthread_setname_np(pthread_self(), "wn-writer");
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stop)
            pthread_cond_wait(&s->queued, &s->mu);
        if (!s->head && s->stop)
            break;
        struct job *first = s->head, *last = first;
        size_t total = first->n;
        while (last->next && total + last->next->n <= WRITER_BATCH_MAX) {
            last = last->next;
            total += last->n;
        }
        s->head = last->next;
        if (!s->head)
            s->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&s->mu);

        int rc = writer_grow(s, total) ? WN_ENOMEM : WN_OK;
        if (!rc) {
            size_t k = 0;
            for (struct job *j = first; j; j = j->next)
                for (size_t i = 0; i < j->n; i++)
                    s->witems[k++] = j->items[i];
            uint64_t t0 = now_ns();
            rc = wn_index_apply(s->ix, s->witems, total, 1, 1, s->wres);
            atomic_fetch_add(&s->apply_ns, now_ns() - t0);
        }
        if (!rc) {
            atomic_fetch_add(&s->commits, 1);
            atomic_fetch_add(&s->batched, total);
            size_t k = 0;
            for (struct job *j = first; j; j = j->next)
                for (size_t i = 0; i < j->n; i++, k++) {
                    struct wn_index_result t = j->res[i];
                    j->res[i] = s->wres[k];
                    s->wres[k] = t;
                }
        }
        pthread_mutex_lock(&s->mu);
        if (rc || !s->sync_later) {
            finish_jobs(s, first, rc);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        if (s->utail)
            s->utail->next = first;
        else
            s->uhead = first;
        s->utail = last;
        pthread_cond_signal(&s->committed);
    }
    s->writer_done = true;
    pthread_cond_signal(&s->committed);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Syncs what the writer committed (every group committed before the sync
 * began), then answers those groups. */
static void *syncer_main(void *arg)
{
    struct server *s = arg;
    pthread_setname_np(pthread_self(), "wn-syncer");
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->uhead && !s->writer_done)
            pthread_cond_wait(&s->committed, &s->mu);
        if (!s->uhead)
            break;
        struct job *first = s->uhead;
        s->uhead = s->utail = NULL;
        pthread_mutex_unlock(&s->mu);
        uint64_t t0 = now_ns();
        int rc = wn_index_sync(s->ix);
        atomic_fetch_add(&s->sync_ns, now_ns() - t0);
        atomic_fetch_add(&s->syncs, 1);
        pthread_mutex_lock(&s->mu);
        finish_jobs(s, first, rc);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Checkpoints the write-ahead log when enough waits and merges the index's
 * pending tier when it is full, in transactions of their own, beside the
 * writer's, at idle priority (the index's background option): checks are
 * not held up for either, nor do they share the cores with them. */
static void *merger_main(void *arg)
{
    struct server *s = arg;
    pthread_setname_np(pthread_self(), "wn-merger");
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->stopping, &s->mu, &ts);
        if (s->stop)
            break;
        pthread_mutex_unlock(&s->mu);
        uint64_t t0 = now_ns();
        int rc = wn_index_checkpoint(s->ix, 0);
        uint64_t t1 = now_ns();
        if (!rc)
            rc = wn_index_merge(s->ix, 0);
        atomic_fetch_add(&s->checkpoint_ns, t1 - t0);
        atomic_fetch_add(&s->merge_ns, now_ns() - t1);
        pthread_mutex_lock(&s->mu);
        if (rc)
            s->merge_rc = rc;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Queue a job; its connection (suspended by the caller) is resumed when
 * the job is done. */
static void submit(struct server *s, struct job *j)
{
    j->done = false;
    j->rc = 0;
    j->next = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->writer_done) { /* stopped: answered 503 */
        j->rc = JOB_STOPPED;
        j->done = true;
        pthread_mutex_unlock(&s->mu);
        MHD_resume_connection(j->conn);
        return;
    }
    if (s->tail)
        s->tail->next = j;
    else
        s->head = j;
    s->tail = j;
    pthread_cond_signal(&s->queued);
    pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

struct reply {
    unsigned status;
    char *body;
    size_t len;
    const char *type;
};

/* One parsed record of a request. */
struct doc {
    struct wn_index_doc d;
    char idbuf[32]; /* a numeric id as text */
    size_t matches;
};

/* A request and its buffers, kept for reuse after it is answered. */
struct request {
    char *body;
    size_t len, cap;
    bool too_big;
    bool late;    /* arrived while draining: refused */
    bool waiting; /* its job is with the writer; the connection suspended */
    bool add, batch;
    /* The records of a POST: n of them, arrays of room. */
    json_t **objs;
    struct doc *docs;
    struct wn_index_item **items;
    struct wn_index_result *res;
    size_t n, room;
    struct job job;
};

static int request_room(struct request *q, size_t n)
{
    if (n <= q->room)
        return 0;
    json_t **o = realloc(q->objs, n * sizeof(json_t *));
    if (o)
        q->objs = o;
    struct doc *d = o ? realloc(q->docs, n * sizeof(*d)) : NULL;
    if (d)
        q->docs = d;
    struct wn_index_item **it =
        d ? realloc(q->items, n * sizeof(struct wn_index_item *)) : NULL;
    if (it)
        q->items = it;
    struct wn_index_result *r = it ? realloc(q->res, n * sizeof(*r)) : NULL;
    if (!r)
        return -1;
    q->res = r;
    for (size_t i = q->room; i < n; i++) {
        q->objs[i] = NULL;
        q->items[i] = NULL;
        wn_index_result_init(&q->res[i]);
    }
    q->room = n;
    return 0;
}

/* Drop what the last POST held (parsed objects, items), keeping buffers. */
static void request_clear(struct request *q)
{
    for (size_t i = 0; i < q->room; i++) {
        if (q->objs[i])
            json_decref(q->objs[i]);
        q->objs[i] = NULL;
        wn_index_item_free(q->items[i]);
        q->items[i] = NULL;
    }
    q->n = 0;
    q->len = 0;
    q->too_big = q->late = q->waiting = false;
}

/* Free the per-record arrays (after request_clear). */
static void request_drop_arrays(struct request *q)
{
    for (size_t i = 0; i < q->room; i++)
        wn_index_result_release(&q->res[i]);
    free(q->objs);
    free(q->docs);
    free(q->items);
    free(q->res);
    q->objs = NULL;
    q->docs = NULL;
    q->items = NULL;
    q->res = NULL;
    q->room = 0;
}

static void request_free(struct request *q)
{
    if (!q)
        return;
    request_clear(q);
    request_drop_arrays(q);
    free(q->body);
    free(q);
}

static struct request *request_get(struct server *s)
{
    struct request *q = NULL;
    pthread_mutex_lock(&s->pool_mu);
    if (s->npool)
        q = s->pool[--s->npool];
    pthread_mutex_unlock(&s->pool_mu);
    return q ? q : calloc(1, sizeof(*q));
}

static void request_put(struct server *s, struct request *q)
{
    request_clear(q);
    /* A large body's buffer is not kept, nor a large batch's arrays. */
    if (q->cap > 1u << 20) {
        free(q->body);
        q->body = NULL;
        q->cap = 0;
    }
    if (q->room > POOL_ROOM_MAX)
        request_drop_arrays(q);
    pthread_mutex_lock(&s->pool_mu);
    if (s->npool < POOL_MAX) {
        s->pool[s->npool++] = q;
        q = NULL;
    }
    pthread_mutex_unlock(&s->pool_mu);
    request_free(q);
}

static void reply_error(struct reply *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_error(struct reply *r, unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    FILE *f = open_memstream(&r->body, &r->len);
    if (f) {
        fputs("{\"error\":", f);
        cli_json_string(f, msg, strlen(msg));
        fputs("}\n", f);
        fclose(f);
    }
    r->status = status;
    r->type = "application/json";
}

/*
 * A request's fields, whichever parser read them: absent, a string (NUL
 * terminated, len bytes), an integer, null, or something else.
 */
enum { JV_ABSENT, JV_STRING, JV_INT, JV_NULL, JV_OTHER };

struct jv {
    int type;
    const char *s;
    size_t len;
    long long i;
};

struct fields {
    bool object;
    struct jv text, id, time, matches;
};

static struct jv jv_of(json_t *v)
{
    struct jv r = {JV_ABSENT, NULL, 0, 0};
    if (!v)
        return r;
    if (json_is_string(v)) {
        r.type = JV_STRING;
        r.s = json_string_value(v);
        r.len = json_string_length(v);
    } else if (json_is_integer(v)) {
        r.type = JV_INT;
        r.i = (long long)json_integer_value(v);
    } else {
        r.type = json_is_null(v) ? JV_NULL : JV_OTHER;
    }
    return r;
}

static void fields_of_json(struct server *s, json_t *o, struct fields *f)
{
    f->object = json_is_object(o);
    f->text = jv_of(json_object_get(o, "text"));
    f->id = jv_of(json_object_get(o, "id"));
    f->time = jv_of(json_object_get(o, s->time_field ? s->time_field : "time"));
    f->matches = jv_of(json_object_get(o, "matches"));
}

/* ------------------------------------------------------------------------ */
/* The fast path: a flat object read in place                               */
/* ------------------------------------------------------------------------ */

/*
 * A check's body is a flat object of strings and integers, most of it the
 * text. The fast path reads such an object in the request's own buffer:
 * a first pass checks the whole line as JSON (strings, escapes, UTF-8,
 * integers, literals) and notes where the wanted values are; a second one
 * decodes those strings in place (a decoded string is never longer). It
 * gives up, touching nothing, on anything else (nested values, numbers
 * with a fraction or an exponent, long integers, escaped keys, \u0000,
 * anything malformed), and then jansson reads the line as before, so the
 * answers and the error messages are jansson's in every case but speed.
 */
static size_t skip_ws(const char *p, size_t i, size_t n)
{
    while (i < n &&
           (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

static int hex4(const char *p, unsigned *v)
{
    unsigned x = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        x <<= 4;
        if (c >= '0' && c <= '9')
            x |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            x |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            x |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *v = x;
    return 0;
}

/* A well-formed UTF-8 sequence at p[0, n): its length, or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    unsigned v = c & (0x7Fu >> len);
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (p[k] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    return len;
}

/* Check the string whose opening quote is at p[i]; the index past its
 * closing quote, or 0. *esc: it holds escapes. */
static size_t scan_string(const char *p, size_t i, size_t n, bool *esc)
{
    const unsigned char *u = (const unsigned char *)p;
    *esc = false;
    i++;
    while (i < n) {
        unsigned char c = u[i];
        if (c == '"')
            return i + 1;
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            *esc = true;
            if (i + 1 >= n)
                return 0;
            char e = p[i + 1];
            if (e == 'u') {
                unsigned v, w;
                if (i + 6 > n || hex4(p + i + 2, &v) || v == 0 ||
                    (v >= 0xDC00 && v <= 0xDFFF))
                    return 0;
                i += 6;
                if (v >= 0xD800 && v <= 0xDBFF) {
                    if (i + 6 > n || p[i] != '\\' || p[i + 1] != 'u' ||
                        hex4(p + i + 2, &w) || w < 0xDC00 || w > 0xDFFF)
                        return 0;
                    i += 6;
                }
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == '\0')
                return 0;
            i += 2;
            continue;
        }
        size_t l = c < 0x80 ? 1 : utf8_len(u + i, n - i);
        if (!l)
            return 0;
        i += l;
    }
    return 0;
}

static size_t put_utf8(char *o, unsigned v)
{
    if (v < 0x80) {
        o[0] = (char)v;
        return 1;
    }
    if (v < 0x800) {
        o[0] = (char)(0xC0 | v >> 6);
        o[1] = (char)(0x80 | (v & 0x3F));
        return 2;
    }
    if (v < 0x10000) {
        o[0] = (char)(0xE0 | v >> 12);
        o[1] = (char)(0x80 | (v >> 6 & 0x3F));
        o[2] = (char)(0x80 | (v & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | v >> 18);
    o[1] = (char)(0x80 | (v >> 12 & 0x3F));
    o[2] = (char)(0x80 | (v >> 6 & 0x3F));
    o[3] = (char)(0x80 | (v & 0x3F));
    return 4;
}

/* Decode the checked string p[from, to) (quotes excluded) in place; NUL
 * terminate it; its length. */
static size_t decode_string(char *p, size_t from, size_t to)
{
    size_t o = from;
    for (size_t i = from; i < to;) {
        if (p[i] != '\\') {
            p[o++] = p[i++];
            continue;
        }
        char e = p[i + 1];
        if (e == 'u') {
            unsigned v = 0, w = 0xDC00;
            hex4(p + i + 2, &v);
            i += 6;
            if (v >= 0xD800 && v <= 0xDBFF) {
                hex4(p + i + 2, &w);
                i += 6;
                v = 0x10000 + ((v - 0xD800) << 10) + (w - 0xDC00);
            }
            o += put_utf8(p + o, v);
            continue;
        }
        static const char from_c[] = "\"\\/bfnrt", to_c[] = "\"\\/\b\f\n\r\t";
        p[o++] = to_c[strchr(from_c, e) - from_c];
        i += 2;
    }
    p[o] = '\0';
    return o - from;
}

/* Read the flat object in p[0, n) into f, decoding its wanted strings in
 * place: 0, or -1 (nothing changed) when jansson must read it. */
static int fast_fields(struct server *s, char *p, size_t n, struct fields *f)
{
    const char *tname = s->time_field ? s->time_field : "time";
    size_t tlen = strlen(tname);
    struct {
        struct jv *v;
        size_t from, to; /* a string's bytes, quotes excluded */
        bool esc;
    } want[4];
    size_t nwant = 0;
    memset(f, 0, sizeof(*f));
    f->object = true;
    size_t i = skip_ws(p, 0, n);
    if (i == n || p[i] != '{')
        return -1;
    i = skip_ws(p, i + 1, n);
    bool first = true;
    while (i < n && p[i] != '}') {
        if (!first) {
            if (p[i] != ',')
                return -1;
            i = skip_ws(p, i + 1, n);
        }
        first = false;
        bool esc;
        if (i == n || p[i] != '"')
            return -1;
        size_t kend = scan_string(p, i, n, &esc);
        if (!kend || esc)
            return -1;
        const char *key = p + i + 1;
        size_t klen = kend - i - 2;
        i = skip_ws(p, kend, n);
        if (i == n || p[i] != ':')
            return -1;
        i = skip_ws(p, i + 1, n);
        if (i == n)
            return -1;
        struct jv *slot = NULL;
        if (klen == 4 && !memcmp(key, "text", 4))
            slot = &f->text;
        else if (klen == 2 && !memcmp(key, "id", 2))
            slot = &f->id;
        else if (klen == tlen && !memcmp(key, tname, tlen))
            slot = &f->time;
        else if (klen == 7 && !memcmp(key, "matches", 7))
            slot = &f->matches;
        struct jv v = {JV_OTHER, NULL, 0, 0};
        char c = p[i];
        if (c == '"') {
            size_t end = scan_string(p, i, n, &esc);
            if (!end)
                return -1;
            v.type = JV_STRING;
            if (slot) {
                /* The last of repeated keys counts, as with jansson. */
                size_t k = 0;
                while (k < nwant && want[k].v != slot)
                    k++;
                want[k].v = slot;
                want[k].from = i + 1;
                want[k].to = end - 1;
                want[k].esc = esc;
                if (k == nwant)
                    nwant++;
            }
            i = end;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t j = i + (c == '-');
            size_t d0 = j;
            while (j < n && p[j] >= '0' && p[j] <= '9')
                j++;
            size_t nd = j - d0;
            if (nd == 0 || nd > 18 || (nd > 1 && p[d0] == '0') ||
                (j < n && (p[j] == '.' || p[j] == 'e' || p[j] == 'E')))
                return -1;
            long long x = 0;
            for (size_t k = d0; k < j; k++)
                x = x * 10 + (p[k] - '0');
            v.type = JV_INT;
            v.i = c == '-' ? -x : x;
            i = j;
        } else if (n - i >= 4 && !memcmp(p + i, "null", 4)) {
            v.type = JV_NULL;
            i += 4;
        } else if (n - i >= 4 && !memcmp(p + i, "true", 4)) {
            i += 4;
        } else if (n - i >= 5 && !memcmp(p + i, "false", 5)) {
            i += 5;
        } else {
            return -1; /* nested, or malformed */
        }
        if (slot) {
            /* A later non-string value replaces an earlier string one. */
            for (size_t k = 0; v.type != JV_STRING && k < nwant; k++)
                if (want[k].v == slot)
                    want[k] = want[--nwant];
            *slot = v;
        }
        i = skip_ws(p, i, n);
    }
    if (i == n || skip_ws(p, i + 1, n) != n)
        return -1;
    /* Valid: decode the wanted strings in place. */
    for (size_t k = 0; k < nwant; k++) {
        struct jv *v = want[k].v;
        v->type = JV_STRING;
        v->s = p + want[k].from;
        v->len = want[k].esc ? decode_string(p, want[k].from, want[k].to)
                             : want[k].to - want[k].from;
        p[want[k].from + v->len] = '\0';
    }
    return 0;
}

/* Check one request's fields; 0, or -1 with the reason in why. */
static int parse_doc(const struct fields *f, bool need_id, struct doc *out,
                     char *why, size_t cap)
{
    memset(out, 0, sizeof(*out));
    out->matches = 1;
    if (!f->object) {
        snprintf(why, cap, "a JSON object is expected");
        return -1;
    }
    if (f->text.type != JV_STRING) {
        snprintf(why, cap, "\"text\" is missing or not a string");
        return -1;
    }
    out->d.text = f->text.s;
    out->d.text_len = f->text.len;
    if (f->id.type == JV_STRING) {
        out->d.id = f->id.s;
        out->d.id_len = f->id.len;
    } else if (f->id.type == JV_INT) {
        snprintf(out->idbuf, sizeof(out->idbuf), "%lld", f->id.i);
        out->d.id = out->idbuf;
        out->d.id_len = strlen(out->idbuf);
    } else if (f->id.type == JV_OTHER) {
        snprintf(why, cap, "\"id\" must be a string or an integer");
        return -1;
    }
    if (need_id && out->d.id_len == 0) {
        snprintf(why, cap, "\"id\" is required to add a record");
        return -1;
    }
    if (out->d.id_len > 4096) {
        snprintf(why, cap, "\"id\" is longer than 4 KiB");
        return -1;
    }
    if (f->time.type == JV_INT) {
        out->d.has_time = 1;
        out->d.time = (int64_t)f->time.i;
    } else if (f->time.type == JV_STRING) {
        if (cli_parse_time(f->time.s, &out->d.time)) {
            snprintf(why, cap, "cannot read the time \"%s\"", f->time.s);
            return -1;
        }
        out->d.has_time = 1;
    } else if (f->time.type == JV_OTHER) {
        snprintf(why, cap, "the time must be a number or a string");
        return -1;
    }
    if (f->matches.type == JV_INT && f->matches.i >= 1 && f->matches.i <= 64)
        out->matches = (size_t)f->matches.i;
    else if (f->matches.type != JV_ABSENT) {
        snprintf(why, cap, "\"matches\" must be an integer from 1 to 64");
        return -1;
    }
    return 0;
}

static const char *status_text(int rc)
{
    return wn_strerror(rc);
}

/* The answers of a POST whose records were looked up (rc 0) or not. */
static void post_reply(struct server *s, struct request *q, int rc,
                       struct reply *r)
{
    if (rc == JOB_STOPPED) {
        reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down");
        return;
    }
    if (rc) {
        atomic_fetch_add(&s->failed, 1);
        reply_error(r,
                    rc == WN_ENOSPC ? MHD_HTTP_INSUFFICIENT_STORAGE
                                    : MHD_HTTP_INTERNAL_SERVER_ERROR,
                    "the index failed: %s; no record of this request is "
                    "acknowledged, though some may have been added: a "
                    "retry is safe (a record added is answered \"reason\": "
                    "\"id\")",
                    status_text(rc));
        return;
    }
    FILE *f = open_memstream(&r->body, &r->len);
    if (!f) {
        reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    for (size_t i = 0; i < q->n; i++) {
        const struct doc *d = &q->docs[i];
        if (q->res[i].added)
            atomic_fetch_add(&s->added, 1);
        cli_index_json(f, d->d.id ? d->d.id : "", d->d.id_len, &q->res[i],
                       q->add ? 1 : d->matches);
    }
    fclose(f);
    r->status = MHD_HTTP_OK;
    r->type = q->batch ? "application/x-ndjson" : "application/json";
}

/* POST /check, /query and /batch: parse and sketch every record (a bad
 * line changes nothing), then answer a query at once; a check is queued
 * for the writer and its connection suspended (returns true), answered by
 * post_reply when the writer and syncer are done with it. */
static bool handle_post(struct server *s, struct MHD_Connection *c,
                        const char *url, const char *mode, struct request *q,
                        struct reply *r)
{
    q->batch = !strcmp(url, "/batch");
    q->add =
        q->batch ? !(mode && !strcmp(mode, "query")) : !strcmp(url, "/check");
    q->n = 0;
    if (!q->batch && strcmp(url, "/check") != 0 && strcmp(url, "/query") != 0) {
        reply_error(r, MHD_HTTP_NOT_FOUND, "no such endpoint: POST %s", url);
        return false;
    }
    if (q->batch && mode && strcmp(mode, "query") != 0 &&
        strcmp(mode, "check") != 0) {
        reply_error(r, MHD_HTTP_BAD_REQUEST,
                    "mode must be check or query, not \"%s\"", mode);
        return false;
    }
    uint64_t t0 = now_ns();
    /* Room for the lines that hold a record: blank ones take none. */
    size_t cap = 1;
    bool blank = true;
    for (size_t i = 0; q->batch && i < q->len; i++) {
        char ch = q->body[i];
        if (ch == '\n') {
            cap += !blank;
            blank = true;
        } else if (ch != ' ' && ch != '\t' && ch != '\r') {
            blank = false;
        }
    }
    if (cap > BATCH_MAX_RECORDS) {
        reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
                    "a batch holds at most %u records", BATCH_MAX_RECORDS);
        return false;
    }
    if (request_room(q, cap)) {
        reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return false;
    }
    char why[300];
    size_t pos = 0, line = 0, n = 0;
    while (pos < q->len || (!q->batch && n == 0)) {
        size_t end = q->batch ? pos : q->len;
        while (q->batch && end < q->len && q->body[end] != '\n')
            end++;
        line++;
        const char *p = q->body ? q->body + pos : "";
        size_t len = end - pos;
        pos = end + 1;
        if (q->batch) {
            size_t k = 0;
            while (k < len && strchr(" \t\r", p[k]))
                k++;
            if (k == len)
                continue; /* a blank line */
        }
        struct fields f;
        if (!q->body || fast_fields(s, q->body + (p - q->body), len, &f)) {
            json_error_t err;
            json_t *o = json_loadb(p, len, 0, &err);
            if (!o) {
                atomic_fetch_add(&s->bad, 1);
                if (q->batch)
                    reply_error(r, MHD_HTTP_BAD_REQUEST,
                                "line %zu: malformed JSON: %s", line, err.text);
                else
                    reply_error(r, MHD_HTTP_BAD_REQUEST, "malformed JSON: %s",
                                err.text);
                return false;
            }
            q->objs[n] = o;
            fields_of_json(s, o, &f);
        }
        if (parse_doc(&f, q->add, &q->docs[n], why, sizeof(why))) {
            atomic_fetch_add(&s->bad, 1);
            if (q->batch)
                reply_error(r, MHD_HTTP_BAD_REQUEST, "line %zu: %s", line, why);
            else
                reply_error(r, MHD_HTTP_BAD_REQUEST, "%s", why);
            return false;
        }
        n++;
    }
    size_t matches = 1;
    for (size_t i = 0; i < n; i++) {
        if (!q->add && q->docs[i].matches > matches)
            matches = q->docs[i].matches;
        int rc =
            wn_index_item_create(s->ix, &q->docs[i].d, q->add, &q->items[i]);
        if (rc) {
            reply_error(r,
                        rc == WN_ENOMEM ? MHD_HTTP_INTERNAL_SERVER_ERROR
                                        : MHD_HTTP_BAD_REQUEST,
                        "record %zu: %s", i + 1, status_text(rc));
            return false;
        }
    }
    q->n = n;
    atomic_fetch_add(&s->prepare_ns, now_ns() - t0);
    if (n && q->add) {
        atomic_fetch_add(&s->checks, n);
        q->job.items = q->items;
        q->job.res = q->res;
        q->job.n = n;
        q->job.conn = c;
        q->waiting = true;
        /* Suspended before it is queued: the writer may resume it at once. */
        MHD_suspend_connection(c);
        submit(s, &q->job);
        return true;
    }
    int rc = WN_OK;
    if (n) {
        rc = wn_index_apply(s->ix, q->items, n, 0, matches, q->res);
        atomic_fetch_add(&s->queries, n);
    }
    post_reply(s, q, rc, r);
    return false;
}

static void handle_stats(struct server *s, struct reply *r)
{
    struct wn_index_stats st;
    int rc = wn_index_stats(s->ix, &st);
    if (rc) {
        reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", wn_strerror(rc));
        return;
    }
    FILE *f = open_memstream(&r->body, &r->len);
    if (!f) {
        reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    fprintf(
        f,
        "{\"records\":%llu,\"key_values\":%llu,\"pending\":%llu,"
        "\"oldest\":%lld,"
        "\"newest\":%lld,\"map_size\":%llu,\"used_bytes\":%llu,"
        "\"file_bytes\":%llu,\"log_records\":%llu,\"log_bytes\":%llu,"
        "\"log_peak_bytes\":%llu,\"bands\":%u,\"rows\":%u,"
        "\"service\":{"
        "\"requests\":%llu,\"checks\":%llu,\"added\":%llu,"
        "\"queries\":%llu,\"bad_requests\":%llu,\"failed\":%llu,"
        "\"commits\":%llu,\"records_per_commit\":%.2f,"
        "\"syncs\":%llu,\"in_flight\":%ld,\"prepare_ms\":%.1f,"
        "\"commit_ms\":%.1f,\"sync_ms\":%.1f,\"checkpoint_ms\":%.1f,"
        "\"merge_ms\":%.1f}}\n",
        (unsigned long long)st.records, (unsigned long long)st.key_values,
        (unsigned long long)st.pending, (long long)st.oldest,
        (long long)st.newest, (unsigned long long)st.map_size,
        (unsigned long long)st.used_bytes, (unsigned long long)st.file_bytes,
        (unsigned long long)st.log_records, (unsigned long long)st.log_bytes,
        (unsigned long long)st.log_peak_bytes, st.bands, st.rows,
        (unsigned long long)atomic_load(&s->requests),
        (unsigned long long)atomic_load(&s->checks),
        (unsigned long long)atomic_load(&s->added),
        (unsigned long long)atomic_load(&s->queries),
        (unsigned long long)atomic_load(&s->bad),
        (unsigned long long)atomic_load(&s->failed),
        (unsigned long long)atomic_load(&s->commits),
        atomic_load(&s->commits)
            ? (double)atomic_load(&s->batched) / atomic_load(&s->commits)
            : 0.0,
        (unsigned long long)atomic_load(&s->syncs), atomic_load(&s->inflight),
        atomic_load(&s->prepare_ns) / 1e6, atomic_load(&s->apply_ns) / 1e6,
        atomic_load(&s->sync_ns) / 1e6, atomic_load(&s->checkpoint_ns) / 1e6,
        atomic_load(&s->merge_ns) / 1e6);
    fclose(f);
    r->status = MHD_HTTP_OK;
    r->type = "application/json";
}

static enum MHD_Result send_reply(struct MHD_Connection *c, struct reply *r,
                                  bool close_after)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(r->body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->type ? r->type : "application/json");
    if (close_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    struct server *s = cls;
    struct request *q = *con_cls;
    (void)version;
    if (!q) {
        q = request_get(s);
        if (!q)
            return MHD_NO;
        *con_cls = q;
        q->late = atomic_load(&s->draining);
        atomic_fetch_add(&s->inflight, 1);
        atomic_fetch_add(&s->requests, 1);
        return MHD_YES;
    }
    if (*data_size) {
        if (!q->too_big && q->len + *data_size > s->max_body)
            q->too_big = true;
        if (!q->too_big) {
            if (q->len + *data_size > q->cap) {
                size_t cap = q->cap ? q->cap : 4096;
                while (cap < q->len + *data_size)
                    cap *= 2;
                char *b = realloc(q->body, cap);
                if (!b)
                    return MHD_NO;
                q->body = b;
                q->cap = cap;
            }
            memcpy(q->body + q->len, data, *data_size);
            q->len += *data_size;
        }
        *data_size = 0;
        return MHD_YES;
    }
    struct reply r = {0, NULL, 0, NULL};
    bool draining = atomic_load(&s->draining);
    if (q->waiting) {
        /* Resumed: the writer (and the syncer) are done with the job. */
        pthread_mutex_lock(&s->mu);
        int rc = q->job.rc;
        bool done = q->job.done;
        pthread_mutex_unlock(&s->mu);
        q->waiting = false;
        post_reply(s, q, done ? rc : WN_EIO, &r);
    } else if (q->late) {
        reply_error(&r, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down");
    } else if (!strcmp(method, "GET")) {
        if (!strcmp(url, "/health")) {
            r.body = strdup("{\"ok\":true}\n");
            r.len = r.body ? strlen(r.body) : 0;
            r.status = MHD_HTTP_OK;
        } else if (!strcmp(url, "/stats")) {
            handle_stats(s, &r);
        } else {
            reply_error(&r, MHD_HTTP_NOT_FOUND, "no such endpoint: GET %s",
                        url);
        }
    } else if (!strcmp(method, "POST")) {
        if (q->too_big) {
            atomic_fetch_add(&s->bad, 1);
            reply_error(&r, MHD_HTTP_CONTENT_TOO_LARGE,
                        "the body is larger than %zu bytes (--max-body)",
                        s->max_body);
        } else {
            const char *mode =
                MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "mode");
            if (handle_post(s, c, url, mode, q, &r))
                return MHD_YES; /* suspended until its commit is durable */
        }
    } else {
        reply_error(&r, MHD_HTTP_METHOD_NOT_ALLOWED, "method %s is not allowed",
                    method);
    }
    if (!r.body) {
        r.body = strdup("");
        r.len = 0;
        if (!r.status)
            r.status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_reply(c, &r, draining || q->too_big);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *s = cls;
    struct request *q = *con_cls;
    (void)c;
    (void)toe;
    if (!q)
        return;
    request_put(s, q);
    *con_cls = NULL;
    atomic_fetch_sub(&s->inflight, 1);
}

/* ------------------------------------------------------------------------ */
/* The command                                                              */
/* ------------------------------------------------------------------------ */

static int parse_listen(const char *s, struct sockaddr_in *sa)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return -1;
    char host[64];
    size_t hl = (size_t)(colon - s);
    if (hl >= sizeof(host))
        return -1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || colon[1] == '\0' || port < 0 || port > 65535)
        return -1;
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Stop the writer, syncer and merger (those of them started), once. */
static void stop_threads(struct server *s, int started)
{
    pthread_mutex_lock(&s->mu);
    bool was = s->stop;
    s->stop = true;
    pthread_cond_broadcast(&s->queued);
    pthread_cond_broadcast(&s->stopping);
    pthread_mutex_unlock(&s->mu);
    if (was)
        return;
    if (started >= 1)
        pthread_join(s->writer, NULL);
    if (started < 2) { /* no syncer: say the writer is done ourselves */
        pthread_mutex_lock(&s->mu);
        s->writer_done = true;
        pthread_mutex_unlock(&s->mu);
    }
    if (started >= 2)
        pthread_join(s->syncer, NULL);
    if (started >= 3)
        pthread_join(s->merger, NULL);
}

int cmd_serve(int argc, char **argv)
{
    const char *path = NULL, *listen_at = "127.0.0.1:8080";
    const char *time_field = NULL;
    uint64_t max_body = 8ull << 20;
    unsigned max_conn = 256, drain = 30, timeout = 60;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (unsigned)ncpu;
    bool no_sync = false, create = false, no_wal = false;
    const struct opt opts[] = {
        {"index", 0, OPT_STRING, &path, "PATH", "the index (required)"},
        {"listen", 0, OPT_STRING, &listen_at, "ADDR:PORT",
         "address to listen on (default 127.0.0.1:8080; port 0: any free "
         "one)"},
        {"create", 0, OPT_FLAG, &create, NULL,
         "create the index with the default rule when missing"},
        {"max-body", 0, OPT_SIZE, &max_body, "SIZE",
         "largest request body (default 8M)"},
        {"max-connections", 0, OPT_UINT, &max_conn, "N",
         "connections at once (default 256)"},
        {"threads", 0, OPT_UINT, &threads, "N",
         "request threads, each serving many connections (default: the "
         "number of cores)"},
        {"time-field", 0, OPT_STRING, &time_field, "NAME",
         "request field of the record's time (default time)"},
        {"drain-seconds", 0, OPT_UINT, &drain, "N",
         "on SIGTERM, wait this long for requests in flight (default 30)"},
        {"idle-timeout", 0, OPT_UINT, &timeout, "N",
         "close idle connections after N seconds (default 60)"},
        {"no-sync", 0, OPT_FLAG, &no_sync, NULL,
         "do not sync at commit (fast; a machine crash may lose adds)"},
        {"no-wal", 0, OPT_FLAG, &no_wal, NULL,
         "make each group durable by an LMDB commit, not by the "
         "write-ahead log (slower)"},
        {NULL, 0, OPT_END, NULL, NULL, NULL},
    };
    const char *usage = "--index PATH [--listen ADDR:PORT]";
    const char *summary =
        "Serve an index over HTTP/JSON: POST /check, /query, /batch (NDJSON),\n"
        "GET /stats, /health (docs/INDEX.md). No TLS and no authentication:\n"
        "it listens on loopback unless told otherwise.";
    char **pos = calloc((size_t)argc + 1, sizeof(char *));
    int npos = 0;
    if (!pos)
        return EXIT_FAIL;
    int prc = cli_parse("serve", usage, summary, opts, argc, argv, pos, &npos);
    free(pos);
    if (prc)
        return prc < 0 ? EXIT_OK : prc;
    struct sockaddr_in sa;
    if (!path || npos || parse_listen(listen_at, &sa) || max_body == 0 ||
        max_conn == 0 || threads == 0 || threads > 256) {
        cli_error("serve: %s",
                  !path  ? "--index PATH is required"
                  : npos ? "unexpected argument"
                  : max_body == 0 || max_conn == 0
                      ? "--max-body and --max-connections must be above 0"
                  : threads == 0 || threads > 256
                      ? "--threads must be from 1 to 256"
                      : "--listen wants IPV4-ADDRESS:PORT");
        fprintf(stderr, "usage: winnow serve %s\n", usage);
        return EXIT_USAGE;
    }
    struct wn_index_options io;
    wn_index_options_init(&io);
    io.create = create;
    io.no_sync = no_sync;
    io.sync_later = !no_sync;
    io.wal = !no_sync && !no_wal;
    io.no_auto_merge = 1;
    /* Checkpoints and merges on cores the checks leave free. */
    io.background = 1;
    struct server s;
    memset(&s, 0, sizeof(s));
    s.sync_later = !no_sync;
    s.max_body = (size_t)max_body;
    s.time_field = time_field;
    char msg[512];
    int rc = wn_index_open(path, &io, &s.ix, msg, sizeof(msg));
    if (rc) {
        cli_error("serve: %s", msg[0] ? msg : wn_strerror(rc));
        return EXIT_FAIL;
    }
    /* Map the index and load its pending keys now, not in the first
     * requests. */
    rc = wn_index_warm(s.ix);
    if (rc) {
        cli_error("serve: cannot read the index: %s", wn_strerror(rc));
        wn_index_free(s.ix);
        return EXIT_FAIL;
    }
    /* Signals go to the main thread only, which waits for them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_mutex_init(&s.mu, NULL);
    pthread_mutex_init(&s.pool_mu, NULL);
    pthread_cond_init(&s.queued, NULL);
    pthread_cond_init(&s.committed, NULL);
    pthread_cond_init(&s.stopping, NULL);
    int started = 0;
    if (!pthread_create(&s.writer, NULL, writer_main, &s))
        started++;
    if (started == 1 && !pthread_create(&s.syncer, NULL, syncer_main, &s))
        started++;
    if (started == 2 && !pthread_create(&s.merger, NULL, merger_main, &s))
        started++;
    /* Request threads: an epoll loop each, sharing the listening socket;
     * a check suspends its connection until its group is durable, so a
     * few threads serve many clients. */
    struct MHD_Daemon *d =
        started < 3
            ? NULL
            : MHD_start_daemon(
                  MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                      MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
                  0, NULL, NULL, on_request, &s, MHD_OPTION_SOCK_ADDR, &sa,
                  MHD_OPTION_THREAD_POOL_SIZE, threads,
                  MHD_OPTION_CONNECTION_LIMIT, max_conn,
                  MHD_OPTION_CONNECTION_TIMEOUT, timeout,
                  MHD_OPTION_NOTIFY_COMPLETED, on_completed, &s,
                  MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
    int status = EXIT_OK;
    if (started < 3) {
        cli_error("serve: cannot start a thread");
        status = EXIT_FAIL;
    } else if (!d) {
        cli_error("serve: cannot listen on %s: %s", listen_at, strerror(errno));
        status = EXIT_FAIL;
    } else {
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
        struct sockaddr_in bound;
        memset(&bound, 0, sizeof(bound));
        socklen_t bl = sizeof(bound);
        unsigned port = ntohs(sa.sin_port);
        if (info &&
            getsockname(info->listen_fd, (struct sockaddr *)&bound, &bl) == 0)
            port = ntohs(bound.sin_port);
        char addr[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof(addr));
        fprintf(stderr, "winnow: serving %s on http://%s:%u/\n", path, addr,
                port);
        fflush(stderr);
        int sig = 0;
        do
            sigwait(&set, &sig);
        while (sig == SIGPIPE);
        /* Drain: refuse new connections, answer the requests in flight. */
        atomic_store(&s.draining, true);
        MHD_socket lfd = MHD_quiesce_daemon(d);
        if (lfd != MHD_INVALID_SOCKET)
            close(lfd);
        double until = mono() + drain;
        while (atomic_load(&s.inflight) > 0 && mono() < until) {
            struct timespec ts = {0, 10L * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        long left = atomic_load(&s.inflight);
        /* The writer and the syncer finish every queued check (and resume
         * its connection) before they stop; later ones get 503. Then the
         * resumed requests are answered and the daemon stops. */
        stop_threads(&s, started);
        until = mono() + 2;
        while (atomic_load(&s.inflight) > 0 && mono() < until) {
            struct timespec ts = {0, 10L * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        MHD_stop_daemon(d);
        fprintf(stderr,
                "winnow: %s: stopped (%llu requests, %llu records added%s)\n",
                sig == SIGTERM ? "SIGTERM" : "SIGINT",
                (unsigned long long)atomic_load(&s.requests),
                (unsigned long long)atomic_load(&s.added),
                left > 0 ? "; some requests were cut at the drain limit" : "");
    }
    stop_threads(&s, started);
    if (s.merge_rc) {
        cli_error("serve: merging the pending keys failed: %s",
                  wn_strerror(s.merge_rc));
        status = EXIT_FAIL; /* a supervisor must see it */
    }
    for (size_t i = 0; i < s.wcap; i++)
        wn_index_result_release(&s.wres[i]);
    free(s.wres);
    free(s.witems);
    for (size_t i = 0; i < s.npool; i++)
        request_free(s.pool[i]);
    wn_index_free(s.ix);
    return status;
}
