/*
 * bench_index.c - checks per second through the library, on an index that
 * already holds records: the lines of a JSONL corpus checked (or queried)
 * one record per call by T threads, each call its own transaction (a
 * check: sketch, look up, verify, add when new, commit), after
 * wn_index_warm. Prints one line
 * of JSON: threads, records, seconds, per_second, p50/p99 latency (ms).
 *
 * Usage: bench_index INDEX CORPUS THREADS check|query [--no-sync|--wal]
 *   --wal  adds through the write-ahead log: each check is answered after
 *          an fdatasync of the log, checkpoints as the library does them
 */
#include "winnow.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct doc {
    char *id, *text;
    size_t id_len, text_len;
};

struct worker {
    struct wn_index *ix;
    struct doc *d;
    size_t first, step, n;
    int add;
    double *lat;
    size_t done;
    int rc;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    struct wn_index_result r;
    wn_index_result_init(&r);
    for (size_t i = w->first; i < w->n && !w->rc; i += w->step) {
        struct wn_index_doc d = {
            w->d[i].id, w->d[i].id_len, w->d[i].text, w->d[i].text_len, 0, 0};
        double t0 = now();
        w->rc = w->add ? wn_index_check(w->ix, &d, &r)
                       : wn_index_query(w->ix, &d, 1, &r);
        w->lat[w->done++] = (now() - t0) * 1e3;
    }
    wn_index_result_release(&r);
    return NULL;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench_index INDEX CORPUS THREADS "
                        "check|query [--no-sync|--wal]\n");
        return 2;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    struct doc *docs = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, f) > 0) {
        json_error_t e;
        json_t *o = json_loads(line, 0, &e);
        json_t *id = json_object_get(o, "id"), *t = json_object_get(o, "text");
        if (json_is_string(id) && json_is_string(t)) {
            if (n == cap) {
                cap = cap ? cap * 2 : 1024;
                docs = realloc(docs, cap * sizeof(*docs));
            }
            docs[n].id = strdup(json_string_value(id));
            docs[n].id_len = json_string_length(id);
            docs[n].text = strdup(json_string_value(t));
            docs[n].text_len = json_string_length(t);
            n++;
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    struct wn_index_options o;
    wn_index_options_init(&o);
    o.no_sync = argc > 5 && !strcmp(argv[5], "--no-sync");
    o.wal = argc > 5 && !strcmp(argv[5], "--wal");
    struct wn_index *ix = NULL;
    char msg[256];
    if (wn_index_open(argv[1], &o, &ix, msg, sizeof(msg))) {
        fprintf(stderr, "bench_index: %s\n", msg);
        return 1;
    }
    /* Steady state, as a server is: every page mapped, pending loaded. */
    if (wn_index_warm(ix)) {
        fprintf(stderr, "bench_index: cannot read the index\n");
        return 1;
    }
    int threads = atoi(argv[3]);
    int add = !strcmp(argv[4], "check");
    struct worker *w = calloc((size_t)threads, sizeof(*w));
    pthread_t *th = calloc((size_t)threads, sizeof(*th));
    double t0 = now();
    for (int i = 0; i < threads; i++) {
        w[i] = (struct worker){ix,
                               docs,
                               (size_t)i,
                               (size_t)threads,
                               n,
                               add,
                               malloc((n / threads + 2) * sizeof(double)),
                               0,
                               0};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    size_t done = 0;
    int rc = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        done += w[i].done;
        rc |= w[i].rc;
    }
    double secs = now() - t0;
    double *all = malloc((done + 1) * sizeof(double));
    size_t k = 0;
    for (int i = 0; i < threads; i++)
        for (size_t j = 0; j < w[i].done; j++)
            all[k++] = w[i].lat[j];
    qsort(all, done, sizeof(double), cmp_d);
    printf("{\"mode\":\"%s\",\"wal\":%s,\"sync\":%s,\"threads\":%d,\"records\":"
           "%zu,"
           "\"seconds\":%.3f,\"per_second\":%.0f,\"p50_ms\":%.3f,"
           "\"p99_ms\":%.3f}\n",
           argv[4], o.wal ? "true" : "false", o.no_sync ? "false" : "true",
           threads, done, secs, done / secs, done ? all[done / 2] : 0.0,
           done ? all[(size_t)((done - 1) * 0.99)] : 0.0);
    wn_index_free(ix);
    return rc ? 1 : 0;
}
