/*
 * fuzz_util.h - small helpers shared by the fuzz targets: turning the fuzz
 * input into files that the library can open by path, taking configuration
 * bytes off the front of an input, and a check that aborts with a message
 * (a finding for libFuzzer, a failure for the replay driver).
 *
 * Everything is static: a target is one translation unit whose only
 * external symbol is LLVMFuzzerTestOneInput.
 */
#ifndef WN_FUZZ_UTIL_H
#define WN_FUZZ_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the code under test does not hold: report and abort. */
#define FZ_CHECK(cond)                                                         \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* The front of the input, consumed a byte or a field at a time. */
struct fz_input {
    const uint8_t *p;
    size_t n;
};

/* The next byte, or 0 once the input is used up. */
static inline uint8_t fz_byte(struct fz_input *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

/*
 * Everything up to the next occurrence of sep (which is consumed), or the
 * rest of the input when sep does not occur.
 */
static inline struct fz_input fz_split(struct fz_input *in, const char *sep)
{
    size_t k = strlen(sep);
    struct fz_input part = *in;
    for (size_t i = 0; k && i + k <= in->n; i++) {
        if (memcmp(in->p + i, sep, k) == 0) {
            part.n = i;
            in->p += i + k;
            in->n -= i + k;
            return part;
        }
    }
    in->p += in->n;
    in->n = 0;
    return part;
}

/*
 * A file with the given contents that the library can open by name. A
 * memfd when the kernel has them (no disk traffic, nothing to clean up if
 * the process dies), else an unlinked-on-close file under $TMPDIR.
 */
struct fz_file {
    int fd;
    char path[4096];
    bool unlink_on_close;
};

static inline void fz_file_open(struct fz_file *f, const void *p, size_t n)
{
    memset(f, 0, sizeof(*f));
    f->fd = memfd_create("winnow-fuzz", MFD_CLOEXEC);
    if (f->fd >= 0) {
        snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
    } else {
        const char *dir = getenv("TMPDIR");
        snprintf(f->path, sizeof(f->path), "%s/winnow-fuzz-XXXXXX",
                 dir && *dir ? dir : "/tmp");
        f->fd = mkstemp(f->path);
        FZ_CHECK(f->fd >= 0);
        f->unlink_on_close = true;
    }
    const char *c = p;
    while (n) {
        ssize_t k = write(f->fd, c, n);
        FZ_CHECK(k > 0);
        c += k;
        n -= (size_t)k;
    }
}

static inline void fz_file_close(struct fz_file *f)
{
    close(f->fd);
    if (f->unlink_on_close)
        unlink(f->path);
    f->fd = -1;
}

/* A copy of n bytes with a NUL after them, for byte-exact comparisons. */
static inline char *fz_dup(const void *p, size_t n)
{
    char *d = malloc(n + 1);
    FZ_CHECK(d != NULL);
    if (n)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

#endif /* WN_FUZZ_UTIL_H */
