/*
 * cmd_serve.c - `winnow serve --index PATH --listen ADDR:PORT`: the index
 * behind HTTP/JSON (libmicrohttpd, one thread per connection).
 *
 *   POST /check   {"id", "text", "time"?}  -> {id, new, duplicate_of,
 *                 similarity, reason}; a new record is added, and the answer
 *                 is sent only after the transaction that added it committed
 *   POST /query   the same, adding nothing; "matches": N lists N matches
 *   POST /batch   NDJSON, one object a line -> NDJSON answers in order;
 *                 ?mode=query to add nothing
 *   GET  /stats   counts of the index and of the service
 *   GET  /health  {"ok": true}, or 503 while draining
 *
 * Group commit: request threads parse and sketch (the CPU work) in
 * parallel, then queue their prepared records for the one writer thread,
 * which takes everything queued, checks it in one write transaction,
 * commits (one fsync) and wakes the requests of that batch. Queries run
 * read-only transactions on the request threads, beside the writer.
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

/* A group of prepared records waiting for the writer. */
struct job {
    struct wn_index_item **items;
    struct wn_index_result *res;
    size_t n;
    int rc;
    bool done;
    struct job *next;
};

struct server {
    struct wn_index *ix;
    size_t max_body;
    const char *time_field;

    pthread_mutex_t mu;
    pthread_cond_t queued, finished;
    pthread_cond_t stopping; /* the merge thread's sleep */
    struct job *head, *tail;
    bool stop;
    pthread_t writer, merger;
    int merge_rc;

    /* Gathered by the writer: its own result array, swapped with the
     * jobs' ones after each transaction. */
    struct wn_index_item **witems;
    struct wn_index_result *wres;
    size_t wcap;

    atomic_bool draining;
    atomic_long inflight;
    atomic_ullong requests, checks, added, queries, bad, failed, commits,
        batched;
};

/* ------------------------------------------------------------------------ */
/* The writer: group commit                                                 */
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

static void *writer_main(void *arg)
{
    struct server *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stop)
            pthread_cond_wait(&s->queued, &s->mu);
        if (!s->head && s->stop)
            break;
        /* Take what is queued, up to the batch bound (a job is never
         * split: a /batch body is one transaction). */
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
            rc = wn_index_apply(s->ix, s->witems, total, 1, 1, s->wres);
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
        for (struct job *j = first; j;) {
            struct job *nx = j->next;
            j->rc = rc;
            j->done = true;
            j = nx;
        }
        pthread_cond_broadcast(&s->finished);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Merges the index's pending tier when it is full, in transactions of its
 * own, between the writer's: checks are not held up for a whole merge. */
static void *merger_main(void *arg)
{
    struct server *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&s->stopping, &s->mu, &ts);
        if (s->stop)
            break;
        pthread_mutex_unlock(&s->mu);
        int rc = wn_index_merge(s->ix, 0);
        pthread_mutex_lock(&s->mu);
        if (rc)
            s->merge_rc = rc;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Queue a job and wait until its transaction has committed (or failed). */
static int submit(struct server *s, struct job *j)
{
    j->done = false;
    j->next = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->tail)
        s->tail->next = j;
    else
        s->head = j;
    s->tail = j;
    pthread_cond_signal(&s->queued);
    while (!j->done)
        pthread_cond_wait(&s->finished, &s->mu);
    pthread_mutex_unlock(&s->mu);
    return j->rc;
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

struct request {
    char *body;
    size_t len, cap;
    bool too_big;
    bool late; /* arrived while draining: refused */
};

struct reply {
    unsigned status;
    char *body;
    size_t len;
    const char *type;
};

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

/* One parsed record of a request. */
struct doc {
    struct wn_index_doc d;
    char idbuf[32]; /* a numeric id as text */
    size_t matches;
};

/* Read one request object; 0, or -1 with the reason in why. */
static int parse_doc(struct server *s, json_t *o, bool need_id, struct doc *out,
                     char *why, size_t cap)
{
    memset(out, 0, sizeof(*out));
    out->matches = 1;
    if (!json_is_object(o)) {
        snprintf(why, cap, "a JSON object is expected");
        return -1;
    }
    json_t *t = json_object_get(o, "text");
    if (!json_is_string(t)) {
        snprintf(why, cap, "\"text\" is missing or not a string");
        return -1;
    }
    out->d.text = json_string_value(t);
    out->d.text_len = json_string_length(t);
    json_t *id = json_object_get(o, "id");
    if (json_is_string(id)) {
        out->d.id = json_string_value(id);
        out->d.id_len = json_string_length(id);
    } else if (json_is_integer(id)) {
        snprintf(out->idbuf, sizeof(out->idbuf), "%lld",
                 (long long)json_integer_value(id));
        out->d.id = out->idbuf;
        out->d.id_len = strlen(out->idbuf);
    } else if (id && !json_is_null(id)) {
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
    json_t *tm = json_object_get(o, s->time_field ? s->time_field : "time");
    if (json_is_integer(tm)) {
        out->d.has_time = 1;
        out->d.time = (int64_t)json_integer_value(tm);
    } else if (json_is_string(tm)) {
        if (cli_parse_time(json_string_value(tm), &out->d.time)) {
            snprintf(why, cap, "cannot read the time \"%s\"",
                     json_string_value(tm));
            return -1;
        }
        out->d.has_time = 1;
    } else if (tm && !json_is_null(tm)) {
        snprintf(why, cap, "the time must be a number or a string");
        return -1;
    }
    json_t *m = json_object_get(o, "matches");
    if (json_is_integer(m) && json_integer_value(m) >= 1 &&
        json_integer_value(m) <= 64)
        out->matches = (size_t)json_integer_value(m);
    else if (m) {
        snprintf(why, cap, "\"matches\" must be an integer from 1 to 64");
        return -1;
    }
    return 0;
}

static const char *status_text(int rc)
{
    return wn_strerror(rc);
}

/* POST /check, /query and /batch. */
static void handle_post(struct server *s, const char *url, const char *mode,
                        const struct request *q, struct reply *r)
{
    bool batch = !strcmp(url, "/batch");
    bool add =
        batch ? !(mode && !strcmp(mode, "query")) : !strcmp(url, "/check");
    if (!batch && strcmp(url, "/check") != 0 && strcmp(url, "/query") != 0) {
        reply_error(r, MHD_HTTP_NOT_FOUND, "no such endpoint: POST %s", url);
        return;
    }
    if (batch && mode && strcmp(mode, "query") != 0 &&
        strcmp(mode, "check") != 0) {
        reply_error(r, MHD_HTTP_BAD_REQUEST,
                    "mode must be check or query, not \"%s\"", mode);
        return;
    }
    /* Parse every line (one object for /check and /query) before anything
     * is looked up or added: a bad line changes nothing. */
    size_t cap = 1;
    for (size_t i = 0; batch && i < q->len; i++)
        cap += q->body[i] == '\n';
    json_t **objs = calloc(cap, sizeof(json_t *));
    struct doc *docs = calloc(cap, sizeof(*docs));
    struct wn_index_item **items = calloc(cap, sizeof(struct wn_index_item *));
    struct wn_index_result *res = calloc(cap, sizeof(*res));
    size_t n = 0;
    char why[300];
    if (!objs || !docs || !items || !res) {
        reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        goto out;
    }
    size_t pos = 0, line = 0;
    while (pos < q->len || (!batch && n == 0)) {
        size_t end = batch ? pos : q->len;
        while (batch && end < q->len && q->body[end] != '\n')
            end++;
        line++;
        const char *p = q->body + pos;
        size_t len = end - pos;
        pos = end + 1;
        if (batch) {
            size_t k = 0;
            while (k < len && strchr(" \t\r", p[k]))
                k++;
            if (k == len)
                continue; /* a blank line */
        }
        json_error_t err;
        json_t *o = json_loadb(p, len, 0, &err);
        if (!o) {
            atomic_fetch_add(&s->bad, 1);
            if (batch)
                reply_error(r, MHD_HTTP_BAD_REQUEST,
                            "line %zu: malformed JSON: %s", line, err.text);
            else
                reply_error(r, MHD_HTTP_BAD_REQUEST, "malformed JSON: %s",
                            err.text);
            goto out;
        }
        objs[n] = o;
        if (parse_doc(s, o, add, &docs[n], why, sizeof(why))) {
            atomic_fetch_add(&s->bad, 1);
            if (batch)
                reply_error(r, MHD_HTTP_BAD_REQUEST, "line %zu: %s", line, why);
            else
                reply_error(r, MHD_HTTP_BAD_REQUEST, "%s", why);
            n++;
            goto out;
        }
        n++;
    }
    size_t matches = 1;
    for (size_t i = 0; i < n; i++) {
        if (!add && docs[i].matches > matches)
            matches = docs[i].matches;
        wn_index_result_init(&res[i]);
        int rc = wn_index_item_create(s->ix, &docs[i].d, add, &items[i]);
        if (rc) {
            reply_error(r,
                        rc == WN_ENOMEM ? MHD_HTTP_INTERNAL_SERVER_ERROR
                                        : MHD_HTTP_BAD_REQUEST,
                        "record %zu: %s", i + 1, status_text(rc));
            goto out;
        }
    }
    int rc = WN_OK;
    if (n && add) {
        struct job j = {items, res, n, 0, false, NULL};
        rc = submit(s, &j);
        atomic_fetch_add(&s->checks, n);
    } else if (n) {
        rc = wn_index_apply(s->ix, items, n, 0, matches, res);
        atomic_fetch_add(&s->queries, n);
    }
    if (rc) {
        atomic_fetch_add(&s->failed, 1);
        reply_error(r,
                    rc == WN_ENOSPC ? MHD_HTTP_INSUFFICIENT_STORAGE
                                    : MHD_HTTP_INTERNAL_SERVER_ERROR,
                    "the index failed: %s; nothing of this request was added",
                    status_text(rc));
        goto out;
    }
    FILE *f = open_memstream(&r->body, &r->len);
    if (!f) {
        reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (res[i].added)
            atomic_fetch_add(&s->added, 1);
        cli_index_json(f, docs[i].d.id ? docs[i].d.id : "", docs[i].d.id_len,
                       &res[i], add ? 1 : docs[i].matches);
    }
    fclose(f);
    r->status = MHD_HTTP_OK;
    r->type = batch ? "application/x-ndjson" : "application/json";
out:
    for (size_t i = 0; i < cap; i++) {
        if (items)
            wn_index_item_free(items[i]);
        if (res)
            wn_index_result_release(&res[i]);
        if (objs && objs[i])
            json_decref(objs[i]);
    }
    free(objs);
    free(docs);
    free(items);
    free(res);
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
    fprintf(f,
            "{\"records\":%llu,\"key_values\":%llu,\"pending\":%llu,"
            "\"oldest\":%lld,"
            "\"newest\":%lld,\"map_size\":%llu,\"used_bytes\":%llu,"
            "\"file_bytes\":%llu,\"bands\":%u,\"rows\":%u,\"service\":{"
            "\"requests\":%llu,\"checks\":%llu,\"added\":%llu,"
            "\"queries\":%llu,\"bad_requests\":%llu,\"failed\":%llu,"
            "\"commits\":%llu,\"records_per_commit\":%.2f,"
            "\"in_flight\":%ld}}\n",
            (unsigned long long)st.records, (unsigned long long)st.key_values,
            (unsigned long long)st.pending, (long long)st.oldest,
            (long long)st.newest, (unsigned long long)st.map_size,
            (unsigned long long)st.used_bytes,
            (unsigned long long)st.file_bytes, st.bands, st.rows,
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
            atomic_load(&s->inflight));
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
    if (!q) {
        q = calloc(1, sizeof(*q));
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
    if (q->late) {
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
            handle_post(s, url, mode, q, &r);
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
    if (!q)
        return;
    free(q->body);
    free(q);
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

int cmd_serve(int argc, char **argv)
{
    const char *path = NULL, *listen_at = "127.0.0.1:8080";
    const char *time_field = NULL;
    uint64_t max_body = 8ull << 20;
    unsigned max_conn = 256, drain = 30, timeout = 60;
    bool no_sync = false, create = false;
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
         "connections at once, one thread each (default 256)"},
        {"time-field", 0, OPT_STRING, &time_field, "NAME",
         "request field of the record's time (default time)"},
        {"drain-seconds", 0, OPT_UINT, &drain, "N",
         "on SIGTERM, wait this long for requests in flight (default 30)"},
        {"idle-timeout", 0, OPT_UINT, &timeout, "N",
         "close idle connections after N seconds (default 60)"},
        {"no-sync", 0, OPT_FLAG, &no_sync, NULL,
         "do not sync at commit (fast; a machine crash may lose adds)"},
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
        max_conn == 0) {
        cli_error("serve: %s",
                  !path  ? "--index PATH is required"
                  : npos ? "unexpected argument"
                  : max_body == 0 || max_conn == 0
                      ? "--max-body and --max-connections must be above 0"
                      : "--listen wants IPV4-ADDRESS:PORT");
        fprintf(stderr, "usage: winnow serve %s\n", usage);
        return EXIT_USAGE;
    }
    struct wn_index_options io;
    wn_index_options_init(&io);
    io.create = create;
    io.no_sync = no_sync;
    io.no_auto_merge = 1;
    struct server s;
    memset(&s, 0, sizeof(s));
    s.max_body = (size_t)max_body;
    s.time_field = time_field;
    char msg[512];
    int rc = wn_index_open(path, &io, &s.ix, msg, sizeof(msg));
    if (rc) {
        cli_error("serve: %s", msg[0] ? msg : wn_strerror(rc));
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
    pthread_cond_init(&s.queued, NULL);
    pthread_cond_init(&s.finished, NULL);
    pthread_cond_init(&s.stopping, NULL);
    if (pthread_create(&s.writer, NULL, writer_main, &s)) {
        cli_error("serve: cannot start the writer thread");
        wn_index_free(s.ix);
        return EXIT_FAIL;
    }
    if (pthread_create(&s.merger, NULL, merger_main, &s)) {
        cli_error("serve: cannot start the merge thread");
        pthread_mutex_lock(&s.mu);
        s.stop = true;
        pthread_cond_broadcast(&s.queued);
        pthread_mutex_unlock(&s.mu);
        pthread_join(s.writer, NULL);
        wn_index_free(s.ix);
        return EXIT_FAIL;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
            MHD_USE_ITC | MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, &s, MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_CONNECTION_LIMIT, max_conn, MHD_OPTION_CONNECTION_TIMEOUT,
        timeout, MHD_OPTION_NOTIFY_COMPLETED, on_completed, &s,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
    int status = EXIT_OK;
    if (!d) {
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
        MHD_stop_daemon(d);
        fprintf(stderr,
                "winnow: %s: stopped (%llu requests, %llu records added%s)\n",
                sig == SIGTERM ? "SIGTERM" : "SIGINT",
                (unsigned long long)atomic_load(&s.requests),
                (unsigned long long)atomic_load(&s.added),
                left > 0 ? "; some requests were cut at the drain limit" : "");
    }
    pthread_mutex_lock(&s.mu);
    s.stop = true;
    pthread_cond_broadcast(&s.queued);
    pthread_cond_broadcast(&s.stopping);
    pthread_mutex_unlock(&s.mu);
    pthread_join(s.writer, NULL);
    pthread_join(s.merger, NULL);
    if (s.merge_rc)
        cli_error("serve: merging the pending keys failed: %s",
                  wn_strerror(s.merge_rc));
    for (size_t i = 0; i < s.wcap; i++)
        wn_index_result_release(&s.wres[i]);
    free(s.wres);
    free(s.witems);
    wn_index_free(s.ix);
    return status;
}
