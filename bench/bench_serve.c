/*
 * bench_serve.c - an HTTP load client for `winnow serve`: CLIENTS
 * keep-alive connections, each with one request in flight at a time (no
 * pipelining), POSTing the lines of a JSONL corpus (each line is a request
 * body: {"id", "text", ...}) and timing every request. Prints one line of
 * JSON: clients, requests, seconds, requests/s, p50/p90/p99/max latency in
 * ms, and the answers counted by "new":true / false and by HTTP status.
 *
 * Usage: bench_serve HOST PORT PATH CORPUS CLIENTS [REQUESTS [LOOPS]]
 *   PATH     /check or /query
 *   REQUESTS total requests (default: every line of the corpus once)
 *   LOOPS    event-loop threads driving the connections (default 1)
 * Lines are split among clients: client c sends lines c, c + C, c + 2C...
 * BENCH_SERVE_TRACE=FILE writes a line per request: when it was sent
 * (seconds from the start) and its latency (ms), to see whether slow
 * answers come alone or all at once (a stall of the server).
 *
 * The client shares the machine's cores with the server, so it is made
 * cheap: a few epoll loops (not a thread per connection, whose wake-ups
 * and context switches cost as much CPU as a request's parsing), a
 * request's head and body in one sendmsg, its answer read with one recv
 * when it fits. A request's latency runs from its send to the last byte
 * of its answer, as read by its loop.
 */
/* The feature macro of strcasestr, not a name of ours: */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define RBUF (1u << 20) /* the largest answer read */

struct corpus {
    char **line;
    size_t *len;
    size_t n;
};

/* One connection: its share of the corpus and its request in flight. */
struct client {
    int fd;
    size_t first, step, count;
    size_t sent; /* requests begun */
    double *lat; /* ms, count of them */
    double *st;  /* when each was sent, s */
    size_t done;
    size_t is_new, not_new, status_other;
    /* The request being sent: head and body, and how much went. */
    char head[256];
    size_t hl, off, total, line;
    double t0;
    /* The answer being read. */
    char *buf;
    size_t len;
    bool failed;
};

struct loop {
    const char *host;
    int port;
    const char *path;
    const struct corpus *c;
    struct client *cl;
    size_t ncl;
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

/* Send what is left of the request in flight: 1 when all of it went, 0
 * when the socket is full, -1 on an error. */
static int push(const struct corpus *c, struct client *cl)
{
    while (cl->off < cl->total) {
        struct iovec iov[2];
        int n = 0;
        if (cl->off < cl->hl)
            iov[n++] = (struct iovec){cl->head + cl->off, cl->hl - cl->off};
        size_t boff = cl->off > cl->hl ? cl->off - cl->hl : 0;
        iov[n++] =
            (struct iovec){c->line[cl->line] + boff, c->len[cl->line] - boff};
        struct msghdr m = {0};
        m.msg_iov = iov;
        m.msg_iovlen = (size_t)n;
        ssize_t w = sendmsg(cl->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (w <= 0)
            return -1;
        cl->off += (size_t)w;
    }
    return 1;
}

/* Begin the client's next request. */
static int start(const struct loop *lp, struct client *cl)
{
    cl->line = (cl->first + cl->sent * cl->step) % lp->c->n;
    cl->sent++;
    int hl = snprintf(cl->head, sizeof(cl->head),
                      "POST %s HTTP/1.1\r\nHost: bench\r\n"
                      "Content-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      lp->path, lp->c->len[cl->line]);
    cl->hl = (size_t)hl;
    cl->off = 0;
    cl->total = cl->hl + lp->c->len[cl->line];
    cl->len = 0;
    cl->t0 = now();
    return push(lp->c, cl);
}

/* Is the answer in cl->buf complete? 1 yes (counted), 0 not yet, -1 bad. */
static int answered(struct client *cl)
{
    cl->buf[cl->len] = '\0';
    char *hdr_end = strstr(cl->buf, "\r\n\r\n");
    if (!hdr_end)
        return cl->len + 1 >= RBUF ? -1 : 0;
    const char *cl_h = strcasestr(cl->buf, "Content-Length:");
    size_t body = cl_h ? (size_t)atol(cl_h + 15) : 0;
    size_t off = (size_t)(hdr_end + 4 - cl->buf);
    if (cl->len - off < body)
        return off + body + 1 > RBUF ? -1 : 0;
    int status = atoi(cl->buf + 9);
    cl->st[cl->done] = cl->t0;
    cl->lat[cl->done++] = (now() - cl->t0) * 1e3;
    if (status != 200)
        cl->status_other++;
    else if (strstr(cl->buf + off, "\"new\":true"))
        cl->is_new++;
    else
        cl->not_new++;
    return 1;
}

static void drop(int ep, struct client *cl, size_t *live)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, cl->fd, NULL);
    close(cl->fd);
    cl->fd = -1;
    (*live)--;
}

static void *loop_main(void *arg)
{
    struct loop *lp = arg;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    size_t live = 0;
    for (size_t i = 0; ep >= 0 && i < lp->ncl; i++) {
        struct client *cl = &lp->cl[i];
        cl->buf = malloc(RBUF);
        cl->fd = cl->buf && cl->count ? dial(lp->host, lp->port) : -1;
        if (cl->fd < 0)
            continue;
        struct epoll_event ev = {EPOLLIN, {.ptr = cl}};
        epoll_ctl(ep, EPOLL_CTL_ADD, cl->fd, &ev);
        live++;
    }
    for (size_t i = 0; i < lp->ncl; i++) {
        struct client *cl = &lp->cl[i];
        if (cl->fd < 0)
            continue;
        int r = start(lp, cl);
        if (r < 0) {
            drop(ep, cl, &live);
        } else if (r == 0) {
            struct epoll_event ev = {EPOLLIN | EPOLLOUT, {.ptr = cl}};
            epoll_ctl(ep, EPOLL_CTL_MOD, cl->fd, &ev);
        }
    }
    struct epoll_event evs[64];
    while (live) {
        int n = epoll_wait(ep, evs, 64, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        for (int e = 0; e < n; e++) {
            struct client *cl = evs[e].data.ptr;
            if (cl->fd < 0)
                continue;
            if (evs[e].events & EPOLLOUT) {
                int r = push(lp->c, cl);
                if (r < 0) {
                    drop(ep, cl, &live);
                    continue;
                }
                if (r == 1) {
                    struct epoll_event ev = {EPOLLIN, {.ptr = cl}};
                    epoll_ctl(ep, EPOLL_CTL_MOD, cl->fd, &ev);
                }
            }
            if (!(evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                continue;
            ssize_t r = recv(cl->fd, cl->buf + cl->len, RBUF - 1 - cl->len,
                             MSG_DONTWAIT);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r <= 0) {
                drop(ep, cl, &live);
                continue;
            }
            cl->len += (size_t)r;
            int a = answered(cl);
            if (a < 0) {
                drop(ep, cl, &live);
                continue;
            }
            if (a == 0)
                continue;
            if (cl->sent == cl->count) {
                drop(ep, cl, &live);
                continue;
            }
            int s = start(lp, cl);
            if (s < 0) {
                drop(ep, cl, &live);
            } else if (s == 0) {
                struct epoll_event ev = {EPOLLIN | EPOLLOUT, {.ptr = cl}};
                epoll_ctl(ep, EPOLL_CTL_MOD, cl->fd, &ev);
            }
        }
    }
    for (size_t i = 0; i < lp->ncl; i++)
        free(lp->cl[i].buf);
    if (ep >= 0)
        close(ep);
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
                        "[REQUESTS [LOOPS]]\n");
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
    int loops = argc > 7 ? atoi(argv[7]) : 1;
    if (clients < 1 || c.n == 0 || loops < 1)
        return 2;
    if (loops > clients)
        loops = clients;
    struct client *cl = calloc((size_t)clients, sizeof(*cl));
    for (int i = 0; i < clients; i++) {
        cl[i].fd = -1;
        cl[i].first = (size_t)i;
        cl[i].step = (size_t)clients;
        cl[i].count =
            total / (size_t)clients + ((size_t)i < total % (size_t)clients);
        cl[i].lat = malloc((cl[i].count + 1) * sizeof(double));
        cl[i].st = malloc((cl[i].count + 1) * sizeof(double));
    }
    /* Clients split among the loops in contiguous runs. */
    struct loop *lp = calloc((size_t)loops, sizeof(*lp));
    pthread_t *th = calloc((size_t)loops, sizeof(*th));
    size_t from = 0;
    for (int i = 0; i < loops; i++) {
        size_t k = (size_t)clients / (size_t)loops +
                   ((size_t)i < (size_t)clients % (size_t)loops);
        lp[i] =
            (struct loop){argv[1], atoi(argv[2]), argv[3], &c, cl + from, k};
        from += k;
    }
    double t0 = now();
    for (int i = 0; i < loops; i++)
        pthread_create(&th[i], NULL, loop_main, &lp[i]);
    for (int i = 0; i < loops; i++)
        pthread_join(th[i], NULL);
    double secs = now() - t0;
    size_t done = 0, is_new = 0, not_new = 0, other = 0;
    for (int i = 0; i < clients; i++) {
        done += cl[i].done;
        is_new += cl[i].is_new;
        not_new += cl[i].not_new;
        other += cl[i].status_other;
    }
    const char *trace = getenv("BENCH_SERVE_TRACE");
    FILE *tf = trace ? fopen(trace, "w") : NULL;
    for (int i = 0; tf && i < clients; i++)
        for (size_t j = 0; j < cl[i].done; j++)
            fprintf(tf, "%.6f %.3f\n", cl[i].st[j] - t0, cl[i].lat[j]);
    if (tf)
        fclose(tf);
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
