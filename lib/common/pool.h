/*
 * pool.h - one small fixed thread pool per run, shared by its stages.
 *
 * A pool of t threads is the calling thread plus t - 1 workers started at
 * creation. Work is a task in the caller's storage (no allocation per
 * task): a function, its argument and a state. Tasks run in the order they
 * were submitted (FIFO); each runs on one thread, which passes its slot to
 * the function: 0 for the owner thread, 1 .. t - 1 for the workers, so a
 * stage can keep per-thread scratch in an array of t entries without
 * locks. The owner never sleeps while a task it waits for is still queued:
 * it runs queued tasks itself (so a pool of one thread runs everything
 * inline, inside the waits, in submission order).
 *
 * One thread owns a pool at a time (submits and waits); the workers only
 * run tasks. Results that must not depend on the thread count are merged
 * by the stages in a fixed order, never in completion order.
 */
#ifndef WN_POOL_H
#define WN_POOL_H

#include "common/common.h"

struct wn_pool;

enum { WN_TASK_IDLE = 0, WN_TASK_QUEUED, WN_TASK_RUNNING, WN_TASK_DONE };

struct wn_pool_task {
    void (*fn)(void *arg, unsigned slot);
    void *arg;
    struct wn_pool_task *next; /* private: the queue */
    int state;                 /* WN_TASK_*, read under the pool's lock */
};

/* The thread count that threads = 0 ("all cores") means: the online
 * processors, at least 1. Thread-safe. */
WN_INTERNAL unsigned wn__pool_default_threads(void);

/*
 * A pool of threads threads in all (1 <= threads <= 256; the owner is
 * one of them). WN_OK and *out; WN_ENOMEM when memory or a thread could
 * not be had (*out untouched, nothing left running).
 */
WN_INTERNAL int wn__pool_create(unsigned threads, struct wn_pool **out);

/* Threads of the pool, the owner included. */
WN_INTERNAL unsigned wn__pool_threads(const struct wn_pool *p);

/*
 * Queue t to run fn(arg, slot). t must not be queued or running already;
 * it belongs to the pool until it is done. Never fails.
 */
WN_INTERNAL void wn__pool_submit(struct wn_pool *p, struct wn_pool_task *t,
                                 void (*fn)(void *arg, unsigned slot),
                                 void *arg);

/* Wait until t (submitted) is done, running queued tasks meanwhile. */
WN_INTERNAL void wn__pool_wait_task(struct wn_pool *p, struct wn_pool_task *t);

/* Whether t is done, without waiting. */
WN_INTERNAL bool wn__pool_task_done(struct wn_pool *p,
                                    const struct wn_pool_task *t);

/* Wait until every submitted task is done, running queued ones meanwhile. */
WN_INTERNAL void wn__pool_wait(struct wn_pool *p);

/* Stop the workers and free the pool; no task may be queued or running.
 * NULL does nothing. */
WN_INTERNAL void wn__pool_free(struct wn_pool *p);

#endif /* WN_POOL_H */
