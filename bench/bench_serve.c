/*
 * bench_serve.c - an HTTP load client for `winnow serve`: C threads, one
 * keep-alive connection each, POSTing the lines of a JSONL corpus (each
 * line is a request body: {"id", "text", ...}) round-robin, and timing
 * every request. Prints one line of JSON: clients, requests, seconds,
 * requests/s, p50/p90/p99/max latency in ms, and the answers counted by
 * "new":true / false and by HTTP status.
 *
 * Usage: bench_serve HOST PORT PATH CORPUS CLIENTS [REQUESTS]
 *   PATH     /check or /query
 *   REQUESTS total requests (default: every line of the corpus once)
 * Lines are split among clients: client c sends lines c, c + C, c + 2C...
 */
/* The feature macro of strcasestr, not a name of ours: */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct corpus {
    char **line;
    size_t *len;
    size_t n;
};

struct client {
    const char *host;
    int port;
    const char *path;
    const struct corpus *c;
    size_t first, step, count;
    double *lat; /* ms, count of them */
    size_t done;
    size_t is_new, not_new, status_other;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int dial(const char *host, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, host, &sa.sin_addr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read one response: status, and whether the body says "new":true. */
static int read_response(int fd, char *buf, size_t cap, int *status,
                         int *is_new)
{
    size_t len = 0;
    char *hdr_end = NULL;
    while (!hdr_end) {
        ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
        if (r <= 0)
            return -1;
        len += (size_t)r;
        buf[len] = '\0';
        hdr_end = strstr(buf, "\r\n\r\n");
        if (!hdr_end && len + 1 >= cap)
            return -1;
    }
    *status = atoi(buf + 9);
    const char *cl = strcasestr(buf, "Content-Length:");
    size_t body = cl ? (size_t)atol(cl + 15) : 0;
    size_t have = len - (size_t)(hdr_end + 4 - buf);
    size_t off = (size_t)(hdr_end + 4 - buf);
    while (have < body) {
        if (len + 1 >= cap)
            return -1;
        ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
        if (r <= 0)
            return -1;
        len += (size_t)r;
        have += (size_t)r;
    }
    buf[len] = '\0';
    *is_new = strstr(buf + off, "\"new\":true") != NULL;
    return 0;
}

static void *client_main(void *arg)
{
    struct client *cl = arg;
    int fd = dial(cl->host, cl->port);
    if (fd < 0)
        return NULL;
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    char head[256];
    for (size_t k = 0; k < cl->count; k++) {
        size_t i = (cl->first + k * cl->step) % cl->c->n;
        int hl = snprintf(head, sizeof(head),
                          "POST %s HTTP/1.1\r\nHost: bench\r\n"
                          "Content-Type: application/json\r\n"
                          "Content-Length: %zu\r\n\r\n",
                          cl->path, cl->c->len[i]);
        double t0 = now();
        int status, is_new;
        if (send_all(fd, head, (size_t)hl) ||
            send_all(fd, cl->c->line[i], cl->c->len[i]) ||
            read_response(fd, buf, cap, &status, &is_new))
            break;
        cl->lat[cl->done++] = (now() - t0) * 1e3;
        if (status != 200)
            cl->status_other++;
        else if (is_new)
            cl->is_new++;
        else
            cl->not_new++;
    }
    free(buf);
    close(fd);
    return NULL;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: bench_serve HOST PORT PATH CORPUS CLIENTS "
                        "[REQUESTS]\n");
        return 2;
    }
    struct corpus c = {0};
    FILE *f = fopen(argv[4], "r");
    if (!f) {
        perror(argv[4]);
        return 1;
    }
    size_t cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    while ((n = getline(&line, &lcap, f)) > 0) {
        if (line[n - 1] == '\n')
            n--;
        if (c.n == cap) {
            cap = cap ? cap * 2 : 1024;
            c.line = realloc(c.line, cap * sizeof(*c.line));
            c.len = realloc(c.len, cap * sizeof(*c.len));
        }
        c.line[c.n] = malloc((size_t)n);
        memcpy(c.line[c.n], line, (size_t)n);
        c.len[c.n++] = (size_t)n;
    }
    free(line);
    fclose(f);
    int clients = atoi(argv[5]);
    size_t total = argc > 6 ? (size_t)atol(argv[6]) : c.n;
    if (clients < 1 || c.n == 0)
        return 2;
    struct client *cl = calloc((size_t)clients, sizeof(*cl));
    pthread_t *th = calloc((size_t)clients, sizeof(*th));
    for (int i = 0; i < clients; i++) {
        cl[i].host = argv[1];
        cl[i].port = atoi(argv[2]);
        cl[i].path = argv[3];
        cl[i].c = &c;
        cl[i].first = (size_t)i;
        cl[i].step = (size_t)clients;
        cl[i].count =
            total / (size_t)clients + ((size_t)i < total % (size_t)clients);
        cl[i].lat = malloc((cl[i].count + 1) * sizeof(double));
    }
    double t0 = now();
    for (int i = 0; i < clients; i++)
        pthread_create(&th[i], NULL, client_main, &cl[i]);
    for (int i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    double secs = now() - t0;
    size_t done = 0, is_new = 0, not_new = 0, other = 0;
    for (int i = 0; i < clients; i++) {
        done += cl[i].done;
        is_new += cl[i].is_new;
        not_new += cl[i].not_new;
        other += cl[i].status_other;
    }
    double *all = malloc((done + 1) * sizeof(double));
    size_t k = 0;
    for (int i = 0; i < clients; i++)
        for (size_t j = 0; j < cl[i].done; j++)
            all[k++] = cl[i].lat[j];
    qsort(all, done, sizeof(double), cmp_d);
#define PCT(p) (done ? all[(size_t)((done - 1) * (p))] : 0.0)
    printf("{\"clients\":%d,\"requests\":%zu,\"seconds\":%.3f,"
           "\"per_second\":%.0f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
           "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"new\":%zu,\"not_new\":%zu,"
           "\"not_200\":%zu}\n",
           clients, done, secs, done / secs, PCT(0.5), PCT(0.9), PCT(0.99),
           done ? all[done - 1] : 0.0, is_new, not_new, other);
    return done == total ? 0 : 1;
}
