/*
 * test_common.c - allocation wrappers and failure injection, growable
 * buffers, status messages, little-endian helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/common.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_covers_every_status),
        cmocka_unit_test(test_alloc_failure_injection),
        cmocka_unit_test(test_buf_and_grow),
        cmocka_unit_test(test_little_endian),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
