/*
 * alloc.c - the library's allocation wrappers and growable buffers.
 *
 * A process-wide countdown (wn_alloc_fail_after) lets the fault tests make
 * the Nth allocation fail, as curl's torture tests do, to prove that every
 * failure path returns WN_ENOMEM and frees what it took. The counter is
 * atomic; the hook is meant for tests, not for concurrent production use.
 */
#include "common.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_long fail_countdown = -1;

WN_API void wn_alloc_fail_after(long n)
{
    atomic_store(&fail_countdown, n);
}

/* True when this allocation must fail. */
static bool injected_failure(void)
{
    long v = atomic_load(&fail_countdown);
    while (v >= 0) {
        if (atomic_compare_exchange_weak(&fail_countdown, &v, v - 1))
            return v == 0;
    }
    return false;
}

void *wn__malloc(size_t n)
{
    if (injected_failure())
        return NULL;
    return malloc(n ? n : 1);
}

void *wn__calloc(size_t n, size_t size)
{
    if (injected_failure())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *wn__realloc(void *p, size_t n)
{
    if (injected_failure())
        return NULL;
    return realloc(p, n ? n : 1);
}

void *wn__reallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return wn__realloc(p, n * size);
}

char *wn__strndup(const char *s, size_t n)
{
    char *d = wn__malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *wn__strdup(const char *s)
{
    return wn__strndup(s, strlen(s));
}

void *wn__shrink(void *p, size_t n)
{
    /* Not an injection point: giving memory back is not what a run can
     * fail on, and the block stays valid when realloc declines. */
    void *q = p ? realloc(p, n ? n : 1) : NULL;
    return q ? q : p;
}

void wn__free(void *p)
{
    free(p);
}

int wn__grow(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return WN_OK;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return WN_ENOMEM;
        ncap *= 2;
    }
    void *q = wn__reallocarray(*p, ncap, sz);
    if (!q)
        return WN_ENOMEM;
    *p = q;
    *cap = ncap;
    return WN_OK;
}

int wn__buf_reserve(struct wn_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len)
        return WN_ENOMEM;
    return wn__grow((void **)&b->data, &b->cap, b->len + extra, 1);
}

int wn__buf_append(struct wn_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return WN_OK;
    int rc = wn__buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return WN_OK;
}

int wn__buf_putc(struct wn_buf *b, char c)
{
    return wn__buf_append(b, &c, 1);
}

int wn__buf_printf(struct wn_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return WN_EINVAL;
    int rc = wn__buf_reserve(b, (size_t)n + 1);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return WN_OK;
}

void wn__buf_release(struct wn_buf *b)
{
    wn__free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
