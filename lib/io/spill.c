/*
 * spill.c - spill files that nothing else can reach (see spill.h).
 *
 * Fixed names in a shared directory let a symbolic link redirect a write,
 * let an existing file be truncated, and let two runs open each other's
 * files. A spill file therefore never has a name anyone could have chosen
 * first: O_TMPFILE makes an anonymous file; without it, the file is
 * created exclusively in a directory that mkdtemp made for it alone, and
 * both are unlinked at once.
 */
/* O_TMPFILE. */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define _GNU_SOURCE
#include "io/spill.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPILL_PREFIX "/.winnow-spill-XXXXXX"

int wn__spill_open_named(const char *dir, const char *name)
{
    char tmp[4096];
    int len = snprintf(tmp, sizeof(tmp), "%s" SPILL_PREFIX, dir);
    if (len < 0 || (size_t)len >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (!mkdtemp(tmp))
        return -1;
    int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int fd = -1, e = errno;
    if (dfd >= 0) {
        fd = openat(dfd, name,
                    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        e = errno;
        if (fd >= 0)
            unlinkat(dfd, name, 0);
        close(dfd);
    }
    rmdir(tmp);
    errno = e;
    return fd;
}

FILE *wn__spill_create(const char *dir, const char *name, size_t buffer,
                       struct wn_io_note *note)
{
    int fd = open(dir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
    /* EISDIR: a kernel without O_TMPFILE; EOPNOTSUPP: a file system. */
    if (fd < 0 && (errno == EISDIR || errno == EOPNOTSUPP || errno == EINVAL))
        fd = wn__spill_open_named(dir, name);
    FILE *f = fd >= 0 ? fdopen(fd, "w+b") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        char path[sizeof(note->path)];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        wn__io_fail(note, path, e, WN_EOPEN);
        errno = e;
        return NULL;
    }
    if (buffer)
        setvbuf(f, NULL, _IOFBF, buffer);
    return f;
}
