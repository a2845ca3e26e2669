/*
 * pool.c - a fixed pool of worker threads with one FIFO queue of tasks in
 * the callers' storage (see pool.h). One mutex guards the queue and every
 * task's state; a condition variable wakes workers (work) and another the
 * owner (a task finished). Tasks are coarse (a batch of records, a band
 * partition), so one lock is not a point of contention.
 */
#include "common/pool.h"

#include <assert.h>
#include <pthread.h>
#include <unistd.h>

#define POOL_MAX_THREADS 256u

struct worker_arg {
    struct wn_pool *p;
    unsigned slot;
};

struct wn_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    struct wn_pool_task *head, *tail; /* queued, oldest first */
    size_t running;                   /* tasks taken, not yet done */
    bool stop;
    unsigned nthreads; /* the owner included */
    unsigned started;  /* workers running */
    pthread_t *tid;
    struct worker_arg *args; /* of each worker: slot 1 .. nthreads - 1 */
};

unsigned wn__pool_default_threads(void)
{
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (unsigned)WN_MIN(c, (long)POOL_MAX_THREADS) : 1;
}

/* Take the oldest queued task; the lock is held. */
static struct wn_pool_task *take(struct wn_pool *p)
{
    struct wn_pool_task *t = p->head;
    if (t) {
        p->head = t->next;
        if (!p->head)
            p->tail = NULL;
        t->next = NULL;
        t->state = WN_TASK_RUNNING;
        p->running++;
    }
    return t;
}

/* Run t outside the lock and mark it done; the lock is held on entry and
 * on return. */
static void run(struct wn_pool *p, struct wn_pool_task *t, unsigned slot)
{
    pthread_mutex_unlock(&p->mu);
    t->fn(t->arg, slot);
    pthread_mutex_lock(&p->mu);
    t->state = WN_TASK_DONE;
    p->running--;
    pthread_cond_broadcast(&p->cv_done);
}

static void *worker_main(void *arg)
{
    const struct worker_arg *w = arg;
    struct wn_pool *p = w->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        struct wn_pool_task *t = take(p);
        if (t) {
            run(p, t, w->slot);
            continue;
        }
        if (p->stop)
            break;
        pthread_cond_wait(&p->cv_work, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void pool_destroy(struct wn_pool *p)
{
    pthread_mutex_lock(&p->mu);
    assert(!p->head && p->running == 0);
    p->stop = true;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->tid[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    wn__free(p->tid);
    wn__free(p->args);
    wn__free(p);
}

int wn__pool_create(unsigned threads, struct wn_pool **out)
{
    assert(out);
    if (threads == 0 || threads > POOL_MAX_THREADS)
        return WN_EINVAL;
    struct wn_pool *p = wn__calloc(1, sizeof(*p));
    if (!p)
        return WN_ENOMEM;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    p->nthreads = threads;
    unsigned workers = threads - 1;
    if (workers) {
        p->tid = wn__calloc(workers, sizeof(*p->tid));
        p->args = wn__calloc(workers, sizeof(*p->args));
        if (!p->tid || !p->args) {
            pool_destroy(p);
            return WN_ENOMEM;
        }
    }
    for (unsigned i = 0; i < workers; i++) {
        p->args[i].p = p;
        p->args[i].slot = i + 1;
        if (pthread_create(&p->tid[i], NULL, worker_main, &p->args[i]) != 0) {
            pool_destroy(p);
            return WN_ENOMEM;
        }
        p->started = i + 1;
    }
    *out = p;
    return WN_OK;
}

unsigned wn__pool_threads(const struct wn_pool *p)
{
    return p->nthreads;
}

void wn__pool_submit(struct wn_pool *p, struct wn_pool_task *t,
                     void (*fn)(void *arg, unsigned slot), void *arg)
{
    assert(t && fn && t->state != WN_TASK_QUEUED &&
           t->state != WN_TASK_RUNNING);
    t->fn = fn;
    t->arg = arg;
    t->next = NULL;
    pthread_mutex_lock(&p->mu);
    t->state = WN_TASK_QUEUED;
    if (p->tail)
        p->tail->next = t;
    else
        p->head = t;
    p->tail = t;
    if (p->started)
        pthread_cond_signal(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
}

bool wn__pool_task_done(struct wn_pool *p, const struct wn_pool_task *t)
{
    pthread_mutex_lock(&p->mu);
    bool done = t->state == WN_TASK_DONE;
    pthread_mutex_unlock(&p->mu);
    return done;
}

/* Wait, running queued tasks on the owner's slot 0, until every task is
 * done (t NULL) or t is. */
static void wait_for(struct wn_pool *p, const struct wn_pool_task *t)
{
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (t ? t->state == WN_TASK_DONE : !p->head && p->running == 0)
            break;
        struct wn_pool_task *q = take(p);
        if (q)
            run(p, q, 0);
        else
            pthread_cond_wait(&p->cv_done, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
}

void wn__pool_wait_task(struct wn_pool *p, struct wn_pool_task *t)
{
    assert(t && t->state != WN_TASK_IDLE);
    wait_for(p, t);
}

void wn__pool_wait(struct wn_pool *p)
{
    wait_for(p, NULL);
}

void wn__pool_free(struct wn_pool *p)
{
    if (p)
        pool_destroy(p);
}
