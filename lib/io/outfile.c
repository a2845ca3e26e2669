/*
 * outfile.c - the output directory of a run and its atomic output files:
 * temporary name, fsync, rename, a manifest of what was published, fsync
 * of the directory.
 *
 * Invariants (see outfile.h for the contract):
 *  - Nothing outside the run's private temporary directory is created,
 *    replaced or removed unless the manifest written by an earlier publish
 *    into the same directory names it with the identity it has now, and it
 *    is not an input of the run. Every name is checked before the first
 *    removal, so a refused publish touches nothing.
 *  - While a publish is under way the manifest lists the files of both
 *    sets, so a crash at any point leaves every file at an output name
 *    provably winnow's, and the next run can replace it.
 *  - Temporary directories are removed only when they are winnow's: a
 *    real directory (not a symbolic link) named .winnow-tmp-XXXXXX, owned
 *    by this user, holding the marker file winnow writes into each. Only
 *    regular files are unlinked from it.
 *
 * Cost: a few system calls per output name and per input, twice a run
 * (when the outputs are opened and when they are published).
 */
#include "io/outfile.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_BUFFER (1u << 20)

#define TMP_PREFIX     ".winnow-tmp-"
#define TMP_MARKER     ".winnow-run"
#define TMP_MAGIC      "winnow temporary directory 1\n"
#define MANIFEST_MAGIC "winnow-outputs 1\n"
/* Entries of a manifest: at most two sets (one being published over the
 * other), of up to WN_JOB_MAX_OUT files each, with room to spare. */
#define MANIFEST_MAX 32
#define NAME_MAX_LEN 64
/* Directories walked up from the output directory to look for an input
 * directory above it. */
#define MAX_DEPTH 256

int wn__status_from_errno(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT:
        return WN_ENOSPC;
    case ENOMEM:
        return WN_ENOMEM;
    case EFBIG:
        return WN_EFBIG;
    default:
        return WN_EIO;
    }
}

int wn__pread_full(int fd, void *p, size_t n, uint64_t off)
{
    char *c = p;
    while (n) {
        ssize_t k = pread(fd, c, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return WN_EIO;
        c += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return WN_OK;
}

int wn__pwrite_full(int fd, const void *p, size_t n, uint64_t off)
{
    const char *c = p;
    while (n) {
        ssize_t k = pwrite(fd, c, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? wn__status_from_errno(errno) : WN_EIO;
        c += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return WN_OK;
}

int wn__io_fail(struct wn_io_note *n, const char *path, int err, int status)
{
    if (n && !n->set) {
        n->set = true;
        n->err = err;
        snprintf(n->path, sizeof(n->path), "%s", path ? path : "");
    }
    return status;
}

void wn__io_report(const struct wn_io_note *n, int status, const char *dir,
                   char *path, size_t size, int *err)
{
    assert(path && size > 0 && err);
    if (n && n->set) {
        snprintf(path, size, "%s", n->path);
        *err = n->err;
    } else if (dir && (status == WN_ENOSPC || status == WN_EIO ||
                       status == WN_EFBIG || status == WN_EBUSY)) {
        /* A write to a spill file, which notes nothing: its directory. */
        snprintf(path, size, "%s", dir);
    }
}

static char *join_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = wn__malloc(a + b + 2);
    if (p)
        snprintf(p, a + b + 2, "%s/%s", dir, name);
    return p;
}

/* fsync a directory: 0 or an errno value (EINVAL, a file system that
 * cannot, is not an error). */
static int fsync_dir_fd(int fd)
{
    if (fsync(fd) != 0 && errno != EINVAL)
        return errno;
    return 0;
}

/* fsync the directory that holds path[0, len) (the part before its last
 * component): 0 or an errno value. path is restored before returning. */
static int fsync_parent(char *path, size_t len)
{
    size_t k = len;
    while (k > 0 && path[k - 1] != '/')
        k--;
    /* path[0, k) is the parent and its slash ("a/", "/"), or nothing. */
    size_t cut = k > 1 ? k - 1 : k;
    char save = path[cut];
    path[cut] = '\0';
    int fd = open(k ? path : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd < 0 ? errno : fsync_dir_fd(fd);
    if (fd >= 0)
        close(fd);
    path[cut] = save;
    return rc;
}

/* mkdir -p path; with sync, the parent of every directory made is
 * fsync'ed so that the new entry survives a power loss. */
static int mkdir_p(const char *path, bool sync, struct wn_io_note *note)
{
    if (!path[0])
        return wn__io_fail(note, path, ENOENT, WN_EOPEN);
    char *p = wn__strdup(path);
    if (!p)
        return WN_ENOMEM;
    int rc = WN_OK;
    size_t len = strlen(p);
    for (size_t i = 1; i <= len && !rc; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        if (p[i - 1] == '/')
            continue; /* "a//b", "a/" */
        char c = p[i];
        p[i] = '\0';
        int e;
        if (mkdir(p, 0777) == 0) {
            if (sync && (e = fsync_parent(p, i)) != 0)
                rc = wn__io_fail(note, p, e, wn__status_from_errno(e));
        } else if (errno != EEXIST) {
            rc = wn__io_fail(note, p, errno, WN_EOPEN);
        }
        p[i] = c;
    }
    wn__free(p);
    struct stat st;
    if (!rc && stat(path, &st) != 0)
        rc = wn__io_fail(note, path, errno, WN_EOPEN);
    if (!rc && !S_ISDIR(st.st_mode))
        rc = wn__io_fail(note, path, ENOTDIR, WN_EOPEN);
    return rc;
}

/* Note a failure about name in the output directory. */
static int fail_at(struct wn_outdir *d, const char *name, int err, int status)
{
    char path[sizeof(d->note.path)];
    snprintf(path, sizeof(path), "%s/%s", d->path, name);
    return wn__io_fail(&d->note, path, err, status);
}

/* ------------------------------------------------------------------------ */
/* Temporary directories                                                     */
/* ------------------------------------------------------------------------ */

/* A name mkdtemp(TMP_PREFIX "XXXXXX") can make. */
static bool tmp_name(const char *name)
{
    size_t n = strlen(TMP_PREFIX);
    if (strncmp(name, TMP_PREFIX, n) != 0 || strlen(name) != n + 6)
        return false;
    for (size_t i = n; i < n + 6; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

static bool has_marker(int dfd)
{
    struct stat st;
    if (fstat(dfd, &st) != 0 || st.st_uid != geteuid())
        return false;
    int fd = openat(dfd, TMP_MARKER, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[sizeof(TMP_MAGIC)];
    ssize_t k = read(fd, buf, sizeof(buf));
    close(fd);
    return k == (ssize_t)sizeof(TMP_MAGIC) - 1 &&
           memcmp(buf, TMP_MAGIC, sizeof(TMP_MAGIC) - 1) == 0;
}

/*
 * Whether the directory open at dfd is one a run of ours left before its
 * marker was whole: killed between mkdtemp and the marker's write, it holds
 * nothing, or only the marker file with a prefix of TMP_MAGIC. (A later run
 * could not tell it from a directory of someone else's otherwise, and it
 * would stay for good.)
 */
static bool unmarked_ours(int dfd)
{
    struct stat st;
    if (fstat(dfd, &st) != 0 || st.st_uid != geteuid())
        return false;
    /* A description of its own: a dup would share the offset that the
     * caller's walk of the directory starts from. */
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return false;
    }
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        ok = !strcmp(e->d_name, TMP_MARKER);
    }
    closedir(d);
    if (!ok)
        return false;
    int m = openat(dfd, TMP_MARKER, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (m < 0)
        return errno == ENOENT; /* nothing in it */
    char buf[sizeof(TMP_MAGIC)];
    ssize_t k = read(m, buf, sizeof(buf));
    close(m);
    return k >= 0 && k < (ssize_t)sizeof(TMP_MAGIC) - 1 &&
           memcmp(buf, TMP_MAGIC, (size_t)k) == 0;
}

/*
 * Remove the directory name of parent: its regular files, then itself (a
 * subdirectory or anything else in it makes the rmdir fail, and it stays).
 * A symbolic link is never followed. With check, only a directory that
 * winnow made (has_marker) is touched. Allocates nothing of ours, so that
 * it also works when the run failed for want of memory.
 */
static void remove_tmpdir_at(int parent, const char *name, bool check)
{
    int fd =
        openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    if (check && !has_marker(fd) && !unmarked_ours(fd)) {
        close(fd);
        return;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode))
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
    unlinkat(parent, name, AT_REMOVEDIR);
}

/* Remove the temporary directories of runs that died without cleaning up
 * (kill -9, power loss). The caller holds the output directory's lock, so
 * no live run owns any of them. */
static void remove_stale(int dirfd_)
{
    int fd = dup(dirfd_);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL)
        if (tmp_name(ent->d_name))
            remove_tmpdir_at(dirfd_, ent->d_name, true);
    closedir(d);
}

/* ------------------------------------------------------------------------ */
/* Inputs                                                                    */
/* ------------------------------------------------------------------------ */

static bool is_input_file(const struct wn_outdir *d, const struct stat *st)
{
    for (size_t i = 0; i < d->ninputs; i++) {
        struct stat in;
        if (strcmp(d->inputs[i], "-") != 0 && stat(d->inputs[i], &in) == 0 &&
            in.st_dev == st->st_dev && in.st_ino == st->st_ino)
            return true;
    }
    return false;
}

/* WN_EINPUT when the directory open at fd (a copy is walked up to the
 * root) is a directory among the inputs or inside one: outputs there
 * would become inputs. */
static int check_not_in_inputs(struct wn_outdir *d, int fd, const char *path)
{
    struct {
        dev_t dev;
        ino_t ino;
    } up[MAX_DEPTH];
    size_t n = 0;
    int cur = dup(fd);
    while (cur >= 0 && n < MAX_DEPTH) {
        struct stat st;
        if (fstat(cur, &st) != 0)
            break;
        if (n > 0 && up[n - 1].dev == st.st_dev && up[n - 1].ino == st.st_ino)
            break; /* ".." of the root is the root */
        up[n].dev = st.st_dev;
        up[n].ino = st.st_ino;
        n++;
        int next = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        close(cur);
        cur = next;
    }
    if (cur >= 0)
        close(cur);
    for (size_t i = 0; i < d->ninputs; i++) {
        struct stat in;
        if (strcmp(d->inputs[i], "-") == 0 || stat(d->inputs[i], &in) != 0 ||
            !S_ISDIR(in.st_mode))
            continue;
        for (size_t k = 0; k < n; k++)
            if (up[k].dev == in.st_dev && up[k].ino == in.st_ino)
                return wn__io_fail(&d->note, path, 0, WN_EINPUT);
    }
    return WN_OK;
}

/* The same check before the output directory is made, on the deepest
 * directory of path that exists: the run must not create a directory
 * inside an input either. */
static int check_parent_not_in_inputs(struct wn_outdir *d)
{
    char *p = wn__strdup(d->path);
    if (!p)
        return WN_ENOMEM;
    int rc = WN_OK;
    for (;;) {
        const char *dir = p[0] ? p : ".";
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            rc = check_not_in_inputs(d, fd, d->path);
            close(fd);
            break;
        }
        if (errno != ENOENT)
            break; /* mkdir_p says what is wrong */
        size_t len = strlen(p);
        while (len > 1 && p[len - 1] == '/')
            p[--len] = '\0';
        char *slash = strrchr(p, '/');
        if (!slash)
            p[0] = '\0';
        else if (slash == p)
            p[1] = '\0';
        else
            *slash = '\0';
    }
    wn__free(p);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The output directory                                                      */
/* ------------------------------------------------------------------------ */

static int make_tmpdir(struct wn_outdir *d)
{
    char *t = join_path(d->path, TMP_PREFIX "XXXXXX");
    if (!t)
        return WN_ENOMEM;
    if (!mkdtemp(t)) {
        int e = errno;
        wn__free(t);
        return wn__io_fail(&d->note, d->path, e, wn__status_from_errno(e));
    }
    d->tmpdir = t;
    /* The marker that tells a later run this directory is winnow's. */
    char *m = join_path(t, TMP_MARKER);
    if (!m)
        return WN_ENOMEM;
    int rc = WN_OK;
    int fd =
        open(m, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, TMP_MAGIC, sizeof(TMP_MAGIC) - 1) !=
                      (ssize_t)sizeof(TMP_MAGIC) - 1) {
        int e = errno;
        rc = wn__io_fail(&d->note, d->path, e, wn__status_from_errno(e));
    }
    if (fd >= 0 && close(fd) != 0 && !rc)
        rc =
            wn__io_fail(&d->note, d->path, errno, wn__status_from_errno(errno));
    wn__free(m);
    return rc;
}

int wn__outdir_open(struct wn_outdir *d, const char *path,
                    const char *const *inputs, size_t ninputs, bool sync)
{
    assert(d && path && (inputs || ninputs == 0));
    memset(d, 0, sizeof(*d));
    d->fd = -1;
    d->sync = sync;
    d->inputs = inputs;
    d->ninputs = ninputs;
    d->path = wn__strdup(path);
    if (!d->path)
        return WN_ENOMEM;
    int rc = check_parent_not_in_inputs(d);
    if (!rc)
        rc = mkdir_p(path, sync, &d->note);
    if (rc)
        return rc;
    d->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->fd < 0)
        return wn__io_fail(&d->note, path, errno, WN_EOPEN);
    d->open = true;
    rc = check_not_in_inputs(d, d->fd, path);
    if (rc)
        return rc;
    /* One run at a time per output directory: an exclusive flock on the
     * directory itself, held until wn__outdir_close(). Other failures (a
     * file system without flock, ENOLCK) leave the run unlocked rather
     * than failing it. */
    if (flock(d->fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
        return wn__io_fail(&d->note, path, 0, WN_EBUSY);
    remove_stale(d->fd);
    return make_tmpdir(d);
}

void wn__outdir_close(struct wn_outdir *d)
{
    if (d->tmpdir && d->open) {
        const char *slash = strrchr(d->tmpdir, '/');
        remove_tmpdir_at(d->fd, slash ? slash + 1 : d->tmpdir, false);
    }
    wn__free(d->tmpdir);
    d->tmpdir = NULL;
    if (d->open)
        close(d->fd);
    d->open = false;
    d->fd = -1;
    wn__free(d->path);
    d->path = NULL;
}

/* ------------------------------------------------------------------------ */
/* The manifest                                                              */
/* ------------------------------------------------------------------------ */

struct entry {
    char name[NAME_MAX_LEN];
    uint64_t dev, ino;
    int64_t size, sec, nsec;
};

struct manifest {
    struct entry e[MANIFEST_MAX];
    size_t n;
};

/* A plain name in the directory: no path, nothing a line cannot hold. */
static bool plain_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= NAME_MAX_LEN || !strcmp(s, ".") || !strcmp(s, ".."))
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '/' || (unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return false;
    return true;
}

static void entry_set(struct entry *e, const char *name, const struct stat *st)
{
    snprintf(e->name, sizeof(e->name), "%s", name);
    e->dev = (uint64_t)st->st_dev;
    e->ino = (uint64_t)st->st_ino;
    e->size = (int64_t)st->st_size;
    e->sec = (int64_t)st->st_mtim.tv_sec;
    e->nsec = (int64_t)st->st_mtim.tv_nsec;
}

static bool entry_is(const struct entry *e, const char *name,
                     const struct stat *st)
{
    return S_ISREG(st->st_mode) && strcmp(e->name, name) == 0 &&
           e->dev == (uint64_t)st->st_dev && e->ino == (uint64_t)st->st_ino &&
           e->size == (int64_t)st->st_size &&
           e->sec == (int64_t)st->st_mtim.tv_sec &&
           e->nsec == (int64_t)st->st_mtim.tv_nsec;
}

static bool manifest_proves(const struct manifest *m, const char *name,
                            const struct stat *st)
{
    for (size_t i = 0; i < m->n; i++)
        if (entry_is(&m->e[i], name, st))
            return true;
    return false;
}

/* The next field of a manifest line: decimal digits, then sep. */
static bool parse_u64(const char **s, char sep, uint64_t *v)
{
    const char *p = *s;
    if (*p < '0' || *p > '9')
        return false;
    uint64_t x = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (x > (UINT64_MAX - 9) / 10)
            return false;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    if (*p != sep)
        return false;
    *v = x;
    *s = p + 1;
    return true;
}

static bool parse_i64(const char **s, char sep, int64_t *v)
{
    bool neg = **s == '-';
    *s += neg;
    uint64_t x;
    if (!parse_u64(s, sep, &x) || x > (uint64_t)INT64_MAX)
        return false;
    *v = neg ? -(int64_t)x : (int64_t)x;
    return true;
}

/* "NAME DEV INO SIZE SEC.NSEC\n", as manifest_write writes it. */
static bool parse_entry(const char *line, struct entry *e)
{
    const char *sp = strchr(line, ' ');
    if (!sp || (size_t)(sp - line) >= NAME_MAX_LEN)
        return false;
    memcpy(e->name, line, (size_t)(sp - line));
    e->name[sp - line] = '\0';
    if (!plain_name(e->name))
        return false;
    const char *p = sp + 1;
    return parse_u64(&p, ' ', &e->dev) && parse_u64(&p, ' ', &e->ino) &&
           parse_i64(&p, ' ', &e->size) && parse_i64(&p, '.', &e->sec) &&
           parse_i64(&p, '\n', &e->nsec) && *p == '\0';
}

/* Read the manifest of the directory; a missing, unreadable or foreign
 * one proves nothing (m->n = 0), which refuses rather than deletes. */
static void manifest_load(int dirfd_, struct manifest *m)
{
    m->n = 0;
    int fd =
        openat(dirfd_, WN_MANIFEST_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return;
    }
    char line[256];
    if (!fgets(line, sizeof(line), f) || strcmp(line, MANIFEST_MAGIC) != 0) {
        fclose(f);
        return;
    }
    while (m->n < MANIFEST_MAX && fgets(line, sizeof(line), f)) {
        struct entry e;
        if (parse_entry(line, &e))
            m->e[m->n++] = e;
    }
    fclose(f);
}

/* Write the manifest to tmp (in the run's directory) and rename it to fin.
 * Allocates nothing of ours: it also runs after the renames. */
static int manifest_write(struct wn_outdir *d, const char *tmp, const char *fin,
                          const struct entry *e, size_t n)
{
    int rc = WN_OK;
    FILE *f = fopen(tmp, "wbe");
    if (!f) {
        rc = wn__io_fail(&d->note, fin, errno, wn__status_from_errno(errno));
    } else {
        fputs(MANIFEST_MAGIC, f);
        for (size_t i = 0; i < n; i++)
            fprintf(f,
                    "%s %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64
                    ".%09" PRId64 "\n",
                    e[i].name, e[i].dev, e[i].ino, e[i].size, e[i].sec,
                    e[i].nsec);
        if (fflush(f) != 0 ||
            (d->sync && fsync(fileno(f)) != 0 && errno != EINVAL))
            rc =
                wn__io_fail(&d->note, fin, errno, wn__status_from_errno(errno));
        if (fclose(f) != 0 && !rc)
            rc =
                wn__io_fail(&d->note, fin, errno, wn__status_from_errno(errno));
    }
    if (!rc && rename(tmp, fin) != 0)
        rc = wn__io_fail(&d->note, fin, errno, wn__status_from_errno(errno));
    if (rc)
        unlink(tmp);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Output names                                                              */
/* ------------------------------------------------------------------------ */

enum { NAME_ABSENT, NAME_OURS };

/*
 * May the run put a file at name? NAME_ABSENT or NAME_OURS in *state (the
 * file there is one an earlier publish made, per m, and st holds it), or
 * WN_EINPUT / WN_EEXIST (noted) when what is there must not be touched.
 */
static int check_name(struct wn_outdir *d, const struct manifest *m,
                      const char *name, const char *final_path, int *state,
                      struct stat *st)
{
    if (fstatat(d->fd, name, st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) {
            *state = NAME_ABSENT;
            return WN_OK;
        }
        return wn__io_fail(&d->note, final_path, errno, WN_EIO);
    }
    if (is_input_file(d, st))
        return wn__io_fail(&d->note, final_path, 0, WN_EINPUT);
    if (S_ISDIR(st->st_mode))
        return wn__io_fail(&d->note, final_path, EISDIR, WN_EEXIST);
    if (!manifest_proves(m, name, st))
        return wn__io_fail(&d->note, final_path, 0, WN_EEXIST);
    *state = NAME_OURS;
    return WN_OK;
}

int wn__outfile_open(struct wn_outfile *o, struct wn_outdir *d,
                     const char *name)
{
    assert(o && d && d->open && d->tmpdir && name && plain_name(name));
    memset(o, 0, sizeof(*o));
    o->name = name;
    o->note = &d->note;
    o->tmp_path = join_path(d->tmpdir, name);
    o->final_path = join_path(d->path, name);
    if (!o->tmp_path || !o->final_path) {
        wn__outfile_release(o);
        return WN_ENOMEM;
    }
    struct manifest m;
    manifest_load(d->fd, &m);
    struct stat st;
    int state;
    int rc = check_name(d, &m, name, o->final_path, &state, &st);
    if (rc) {
        wn__outfile_release(o);
        return rc;
    }
    /* The private directory is ours alone: the name cannot exist. */
    int fd = open(o->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0)
        o->f = fdopen(fd, "wb");
    if (!o->f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        rc = wn__io_fail(&d->note, o->final_path, e, wn__status_from_errno(e));
        wn__outfile_release(o);
        return rc;
    }
    setvbuf(o->f, NULL, _IOFBF, OUT_BUFFER);
    return WN_OK;
}

int wn__outfile_fail(struct wn_outfile *o, int e)
{
    o->err = wn__io_fail(o->note, o->final_path, e, wn__status_from_errno(e));
    return o->err;
}

int wn__outfile_write(struct wn_outfile *o, const void *p, size_t n)
{
    if (o->err)
        return o->err;
    if (n && fwrite(p, 1, n, o->f) != n)
        return wn__outfile_fail(o, errno);
    return WN_OK;
}

int wn__outfile_finish(struct wn_outfile *o, bool sync)
{
    if (!o->f)
        return o->err ? o->err : WN_EIO;
    if (!o->err && fflush(o->f) != 0)
        wn__outfile_fail(o, errno);
    if (sync && !o->err && fsync(fileno(o->f)) != 0 && errno != EINVAL)
        wn__outfile_fail(o, errno);
    if (fclose(o->f) != 0 && !o->err)
        wn__outfile_fail(o, errno);
    o->f = NULL;
    return o->err;
}

/*
 * The plan of a publish, made before anything is touched: the manifest to
 * write first (the new files and every old one still in place), the one to
 * leave (the new files and the old ones kept), and the old files of other
 * names to remove.
 */
struct plan {
    struct entry during[MANIFEST_MAX];
    size_t nduring;
    struct entry after[MANIFEST_MAX];
    size_t nafter;
    struct entry remove[MANIFEST_MAX];
    size_t nremove;
    bool marker_there;
};

static bool written(struct wn_outfile *const *outs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(outs[i]->name, name) == 0)
            return true;
    return false;
}

static int plan_publish(struct wn_outdir *d, struct wn_outfile *const *outs,
                        size_t n, struct plan *p)
{
    struct manifest m;
    manifest_load(d->fd, &m);
    memset(p, 0, sizeof(*p));
    /* Every name first: a refused publish touches nothing. */
    struct stat st;
    for (size_t i = 0; i < n; i++) {
        int state;
        int rc =
            check_name(d, &m, outs[i]->name, outs[i]->final_path, &state, &st);
        if (rc)
            return rc;
        if (state == NAME_OURS)
            entry_set(&p->during[p->nduring++], outs[i]->name, &st);
        if (i == n - 1)
            p->marker_there = state == NAME_OURS;
    }
    if (fstatat(d->fd, WN_MANIFEST_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(st.st_mode))
        return fail_at(d, WN_MANIFEST_NAME, EISDIR, WN_EEXIST);
    for (size_t i = 0; i < n; i++) {
        if (stat(outs[i]->tmp_path, &st) != 0)
            return wn__io_fail(&d->note, outs[i]->final_path, errno, WN_EIO);
        entry_set(&p->during[p->nduring++], outs[i]->name, &st);
        entry_set(&p->after[p->nafter++], outs[i]->name, &st);
    }
    /* Files of other names that an earlier publish made: removed, so that
     * the directory holds one run's set, unless an input of this run. */
    for (size_t i = 0; i < m.n && p->nduring < MANIFEST_MAX; i++) {
        const struct entry *e = &m.e[i];
        if (written(outs, n, e->name) ||
            fstatat(d->fd, e->name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !entry_is(e, e->name, &st))
            continue;
        p->during[p->nduring++] = *e;
        if (is_input_file(d, &st))
            p->after[p->nafter++] = *e;
        else
            p->remove[p->nremove++] = *e;
    }
    return WN_OK;
}

int wn__outfiles_publish(struct wn_outdir *d, struct wn_outfile *const *outs,
                         size_t n)
{
    assert(d && d->open && d->tmpdir && n <= MANIFEST_MAX / 2);
    if (n == 0)
        return WN_OK;
    for (size_t i = 0; i < n; i++)
        if (outs[i]->err || outs[i]->f)
            return outs[i]->err ? outs[i]->err : WN_EIO;
    /* Everything allocated first: nothing may fail for want of memory
     * once the first file has moved. */
    struct plan *p = wn__malloc(sizeof(*p));
    char *mtmp = join_path(d->tmpdir, WN_MANIFEST_NAME);
    char *mfin = join_path(d->path, WN_MANIFEST_NAME);
    int rc = p && mtmp && mfin ? WN_OK : WN_ENOMEM;
    if (!rc)
        rc = plan_publish(d, outs, n, p);
    /* The manifest first, so that it proves whatever a crash leaves. */
    if (!rc)
        rc = manifest_write(d, mtmp, mfin, p->during, p->nduring);
    int e;
    if (!rc && d->sync && (e = fsync_dir_fd(d->fd)) != 0)
        rc = wn__io_fail(&d->note, d->path, e, wn__status_from_errno(e));
    const struct wn_outfile *marker = outs[n - 1];
    if (!rc && p->marker_there && unlinkat(d->fd, marker->name, 0) != 0 &&
        errno != ENOENT)
        rc = wn__io_fail(&d->note, marker->final_path, errno,
                         wn__status_from_errno(errno));
    for (size_t i = 0; !rc && i < p->nremove; i++)
        if (unlinkat(d->fd, p->remove[i].name, 0) != 0 && errno != ENOENT)
            rc = fail_at(d, p->remove[i].name, errno,
                         wn__status_from_errno(errno));
    for (size_t i = 0; i < n && !rc; i++)
        if (rename(outs[i]->tmp_path, outs[i]->final_path) != 0)
            rc = wn__io_fail(&d->note, outs[i]->final_path, errno,
                             wn__status_from_errno(errno));
    if (!rc)
        rc = manifest_write(d, mtmp, mfin, p->after, p->nafter);
    if (!rc && d->sync && (e = fsync_dir_fd(d->fd)) != 0)
        rc = wn__io_fail(&d->note, d->path, e, wn__status_from_errno(e));
    wn__free(p);
    wn__free(mtmp);
    wn__free(mfin);
    return rc;
}

int wn__outfile_publish_one(struct wn_outdir *d, struct wn_outfile *o)
{
    assert(d && d->open && d->tmpdir && o);
    if (o->err || o->f)
        return o->err ? o->err : WN_EIO;
    struct manifest *m = wn__malloc(sizeof(*m));
    struct entry *during = wn__malloc(sizeof(struct entry) * MANIFEST_MAX);
    char *mtmp = join_path(d->tmpdir, WN_MANIFEST_NAME);
    char *mfin = join_path(d->path, WN_MANIFEST_NAME);
    int rc = m && during && mtmp && mfin ? WN_OK : WN_ENOMEM;
    struct stat st;
    int state;
    if (!rc) {
        manifest_load(d->fd, m);
        rc = check_name(d, m, o->name, o->final_path, &state, &st);
    }
    if (!rc && stat(o->tmp_path, &st) != 0)
        rc = wn__io_fail(&d->note, o->final_path, errno, WN_EIO);
    /* During the rename the manifest proves the old file and the new one;
     * after it, the entries of other names and the new file. */
    size_t nd = 0, na = 0;
    if (!rc) {
        for (size_t i = 0; i < m->n && nd + 1 < MANIFEST_MAX; i++)
            during[nd++] = m->e[i];
        entry_set(&during[nd++], o->name, &st);
        for (size_t i = 0; i < m->n && na + 1 < MANIFEST_MAX; i++)
            if (strcmp(m->e[i].name, o->name) != 0)
                m->e[na++] = m->e[i];
        entry_set(&m->e[na++], o->name, &st);
        rc = manifest_write(d, mtmp, mfin, during, nd);
    }
    int e;
    if (!rc && d->sync && (e = fsync_dir_fd(d->fd)) != 0)
        rc = wn__io_fail(&d->note, d->path, e, wn__status_from_errno(e));
    if (!rc && rename(o->tmp_path, o->final_path) != 0)
        rc = wn__io_fail(&d->note, o->final_path, errno,
                         wn__status_from_errno(errno));
    if (!rc)
        rc = manifest_write(d, mtmp, mfin, m->e, na);
    if (!rc && d->sync && (e = fsync_dir_fd(d->fd)) != 0)
        rc = wn__io_fail(&d->note, d->path, e, wn__status_from_errno(e));
    wn__free(m);
    wn__free(during);
    wn__free(mtmp);
    wn__free(mfin);
    return rc;
}

void wn__outfile_release(struct wn_outfile *o)
{
    if (o->f)
        fclose(o->f);
    if (o->tmp_path)
        unlink(o->tmp_path);
    wn__free(o->tmp_path);
    wn__free(o->final_path);
    memset(o, 0, sizeof(*o));
}
