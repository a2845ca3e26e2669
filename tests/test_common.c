/*
 * test_common.c - allocation wrappers and failure injection, growable
 * buffers, status messages, little-endian helpers, the thread pool.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/common.h"
#include "common/pool.h"

#include <pthread.h>
#include <time.h>

static void test_strerror_covers_every_status(void **state)
{
    (void)state;
#define CHECK_STATUS(name, value, text)                                        \
    assert_string_equal(wn_strerror(value), text);
    WN_STATUS_LIST(CHECK_STATUS)
#undef CHECK_STATUS
    assert_string_equal(wn_strerror(-9999), "unknown status");
    assert_string_equal(wn_strerror(1), "unknown status");
    assert_string_equal(wn_version_string(), WN_VERSION_STRING);
}

static void test_alloc_failure_injection(void **state)
{
    (void)state;
    wn_alloc_fail_after(2);
    void *a = wn__malloc(8), *b = wn__malloc(8), *c = wn__malloc(8);
    void *d = wn__malloc(8);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(c); /* the third one fails, once */
    assert_non_null(d);
    wn__free(a);
    wn__free(b);
    wn__free(d);
    wn_alloc_fail_after(-1);
    assert_null(wn__reallocarray(NULL, SIZE_MAX / 2, 4)); /* overflow */
}

static void test_buf_and_grow(void **state)
{
    (void)state;
    struct wn_buf b = {0};
    for (int i = 0; i < 1000; i++)
        assert_int_equal(wn__buf_printf(&b, "%d,", i), WN_OK);
    assert_int_equal(WN_BUF_LIT(&b, "end"), WN_OK);
    assert_true(b.len > 3000 && b.len <= b.cap);
    assert_memory_equal(b.data, "0,1,2,", 6);
    assert_memory_equal(b.data + b.len - 3, "end", 3);
    /* A failed append leaves the buffer as it was. */
    size_t len = b.len;
    wn_alloc_fail_after(0);
    int rc = wn__buf_reserve(&b, b.cap * 4);
    wn_alloc_fail_after(-1);
    assert_int_equal(rc, WN_ENOMEM);
    assert_int_equal(b.len, len);
    wn__buf_release(&b);
    assert_null(b.data);

    int *v = NULL;
    size_t cap = 0;
    assert_int_equal(WN_GROW(v, cap, 100), WN_OK);
    assert_true(cap >= 100);
    size_t old = cap;
    assert_int_equal(WN_GROW(v, cap, 50), WN_OK);
    assert_int_equal(cap, old);
    wn__free(v);
}

static void test_little_endian(void **state)
{
    (void)state;
    unsigned char p[8];
    wn__put_le64(p, 0x0102030405060708ull);
    assert_int_equal(p[0], 8);
    assert_int_equal(p[7], 1);
    assert_true(wn__get_le64(p) == 0x0102030405060708ull);
    wn__put_le32(p, 0xa1b2c3d4u);
    assert_int_equal(p[0], 0xd4);
    assert_int_equal(wn__get_le32(p), 0xa1b2c3d4u);
}

/* ------------------------------------------------------------------------ */
/* The thread pool                                                           */
/* ------------------------------------------------------------------------ */

#define POOL_TASKS 200

struct count_task {
    unsigned *per_slot; /* tasks run by each slot */
    unsigned threads;
    int *order; /* the order tasks ran in (one-thread pools) */
    int *next;
    int index;
    int runs;
    unsigned slot;
};

static void count_main(void *arg, unsigned slot)
{
    struct count_task *t = arg;
    assert_true(slot < t->threads);
    t->runs++;
    t->slot = slot;
    /* A slot is one thread at a time: no lock needed. */
    t->per_slot[slot]++;
    if (t->order)
        t->order[(*t->next)++] = t->index;
}

static void test_pool_runs_every_task_once(void **state)
{
    (void)state;
    for (unsigned threads = 1; threads <= 4; threads++) {
        struct wn_pool *p = NULL;
        assert_int_equal(wn__pool_create(threads, &p), WN_OK);
        assert_int_equal(wn__pool_threads(p), threads);
        unsigned per_slot[4] = {0};
        int order[POOL_TASKS], next = 0;
        static struct count_task ct[POOL_TASKS];
        static struct wn_pool_task task[POOL_TASKS];
        memset(task, 0, sizeof(task));
        for (int round = 0; round < 2; round++) {
            next = 0;
            for (int i = 0; i < POOL_TASKS; i++) {
                ct[i] = (struct count_task){
                    per_slot, threads, threads == 1 ? order : NULL, &next, i,
                    0,        0};
                wn__pool_submit(p, &task[i], count_main, &ct[i]);
            }
            /* Waiting for one task leaves it done. */
            wn__pool_wait_task(p, &task[POOL_TASKS / 2]);
            assert_true(wn__pool_task_done(p, &task[POOL_TASKS / 2]));
            wn__pool_wait(p);
            unsigned sum = 0;
            for (int i = 0; i < POOL_TASKS; i++) {
                assert_int_equal(ct[i].runs, 1);
                assert_true(wn__pool_task_done(p, &task[i]));
            }
            for (unsigned k = 0; k < threads; k++)
                sum += per_slot[k];
            assert_int_equal(sum, (unsigned)POOL_TASKS * (round + 1));
            /* One thread: everything on the owner, in submission order. */
            if (threads == 1)
                for (int i = 0; i < POOL_TASKS; i++)
                    assert_int_equal(order[i], i);
        }
        wn__pool_free(p);
    }
    wn__pool_free(NULL);
}

/* Two tasks that can only finish together: each waits (up to a minute,
 * a bound for a hang, not a speed test) for the other to have started. */
struct meet {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived;
    int met;
};

static void meet_main(void *arg, unsigned slot)
{
    (void)slot;
    struct meet *m = arg;
    pthread_mutex_lock(&m->mu);
    m->arrived++;
    pthread_cond_broadcast(&m->cv);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    int rc = 0;
    while (m->arrived < 2 && rc == 0)
        rc = pthread_cond_timedwait(&m->cv, &m->mu, &until);
    m->met += m->arrived >= 2;
    pthread_mutex_unlock(&m->mu);
}

static void test_pool_runs_in_parallel(void **state)
{
    (void)state;
    struct wn_pool *p = NULL;
    assert_int_equal(wn__pool_create(2, &p), WN_OK);
    struct meet m = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    struct wn_pool_task t[2];
    memset(t, 0, sizeof(t));
    wn__pool_submit(p, &t[0], meet_main, &m);
    wn__pool_submit(p, &t[1], meet_main, &m);
    wn__pool_wait(p);
    assert_int_equal(m.met, 2); /* the worker and the owner ran at once */
    wn__pool_free(p);
}

static void test_pool_create_fails_cleanly(void **state)
{
    (void)state;
    struct wn_pool *p = (struct wn_pool *)&p; /* must stay untouched */
    assert_int_equal(wn__pool_create(0, &p), WN_EINVAL);
    assert_int_equal(wn__pool_create(257, &p), WN_EINVAL);
    assert_ptr_equal(p, (struct wn_pool *)&p);
    assert_true(wn__pool_default_threads() >= 1);
    for (long k = 0; k < 4; k++) {
        struct wn_pool *q = NULL;
        wn_alloc_fail_after(k);
        int rc = wn__pool_create(3, &q);
        wn_alloc_fail_after(-1);
        if (rc) {
            assert_int_equal(rc, WN_ENOMEM);
            assert_null(q);
        } else {
            wn__pool_free(q);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_covers_every_status),
        cmocka_unit_test(test_alloc_failure_injection),
        cmocka_unit_test(test_buf_and_grow),
        cmocka_unit_test(test_little_endian),
        cmocka_unit_test(test_pool_runs_every_task_once),
        cmocka_unit_test(test_pool_runs_in_parallel),
        cmocka_unit_test(test_pool_create_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
