/*
 * outfile.c - atomic output files: temporary name, fsync, rename.
 */
#include "io/outfile.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_BUFFER (1u << 20)

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

static char *join_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = wn__malloc(a + b + 2);
    if (p)
        snprintf(p, a + b + 2, "%s/%s", dir, name);
    return p;
}

static int mkdir_p(const char *path)
{
    char *p = wn__strdup(path);
    if (!p)
        return WN_ENOMEM;
    int rc = WN_OK;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                rc = WN_EOPEN;
                break;
            }
            *s = c;
            if (c == '\0')
                break;
        }
    }
    wn__free(p);
    if (rc == WN_OK) {
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            rc = WN_EOPEN;
    }
    return rc;
}

#define TMP_PREFIX ".winnow-tmp-"

/*
 * Remove the temporary directories of runs that died without cleaning up
 * (kill -9, power loss). The caller holds the output directory's lock, so
 * no live run owns any of them.
 */
static void remove_stale(const char *outdir)
{
    DIR *d = opendir(outdir);
    if (!d)
        return;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (strncmp(ent->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0)
            continue;
        char *dir = join_path(outdir, ent->d_name);
        if (dir)
            wn__tmpdir_remove(dir);
        wn__free(dir);
    }
    closedir(d);
}

int wn__tmpdir_create(const char *outdir, char **tmpdir, int *lock_fd)
{
    int rc = mkdir_p(outdir);
    if (rc)
        return rc;
    /* One run at a time per output directory: an exclusive flock on the
     * directory itself, held until the caller closes *lock_fd. */
    int fd = open(outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return WN_EOPEN;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        close(fd);
        return WN_EBUSY;
    }
    /* Other failures (a file system without flock, ENOLCK) leave the run
     * unlocked rather than failing it. */
    remove_stale(outdir);
    char *t = join_path(outdir, TMP_PREFIX "XXXXXX");
    if (!t) {
        close(fd);
        return WN_ENOMEM;
    }
    if (!mkdtemp(t)) {
        wn__free(t);
        close(fd);
        return WN_EOPEN;
    }
    *tmpdir = t;
    *lock_fd = fd;
    return WN_OK;
}

void wn__tmpdir_remove(const char *tmpdir)
{
    if (!tmpdir)
        return;
    DIR *d = opendir(tmpdir);
    if (d) {
        /* Relative to the directory: cleaning up allocates nothing, so it
         * also works when the run failed for want of memory. */
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            unlinkat(dirfd(d), e->d_name, 0);
        }
        closedir(d);
    }
    rmdir(tmpdir);
}

int wn__outfile_open(struct wn_outfile *o, const char *tmpdir,
                     const char *outdir, const char *name)
{
    memset(o, 0, sizeof(*o));
    o->tmp_path = join_path(tmpdir, name);
    o->final_path = join_path(outdir, name);
    if (!o->tmp_path || !o->final_path) {
        wn__outfile_release(o);
        return WN_ENOMEM;
    }
    o->f = fopen(o->tmp_path, "wb");
    if (!o->f) {
        wn__outfile_release(o);
        return WN_EOPEN;
    }
    setvbuf(o->f, NULL, _IOFBF, OUT_BUFFER);
    return WN_OK;
}

int wn__outfile_write(struct wn_outfile *o, const void *p, size_t n)
{
    if (o->err)
        return o->err;
    if (n && fwrite(p, 1, n, o->f) != n)
        o->err = wn__status_from_errno(errno);
    return o->err;
}

int wn__outfile_finish(struct wn_outfile *o, bool sync)
{
    if (!o->f)
        return o->err ? o->err : WN_EIO;
    if (!o->err && fflush(o->f) != 0)
        o->err = wn__status_from_errno(errno);
    if (sync && !o->err && fsync(fileno(o->f)) != 0 && errno != EINVAL)
        o->err = wn__status_from_errno(errno);
    if (fclose(o->f) != 0 && !o->err)
        o->err = wn__status_from_errno(errno);
    o->f = NULL;
    return o->err;
}

int wn__outfile_commit(struct wn_outfile *o)
{
    if (o->err || o->f)
        return o->err ? o->err : WN_EIO;
    if (rename(o->tmp_path, o->final_path) != 0)
        return wn__status_from_errno(errno);
    return WN_OK;
}

/* Every file any winnow command publishes (dedup, passages, lines,
 * repeats); keep in step with their output lists. */
static const char *const all_outputs[] = {
    "kept.jsonl",  "removed.jsonl", "clusters.jsonl",   "rejected.jsonl",
    "spans.jsonl", "lines.jsonl",   "repetition.jsonl", "stats.json"};

int wn__outfiles_publish(struct wn_outfile *const *outs, size_t n)
{
    if (n == 0)
        return WN_OK;
    const struct wn_outfile *marker = outs[n - 1];
    if (marker->err || marker->f)
        return marker->err ? marker->err : WN_EIO;
    if (unlink(marker->final_path) != 0 && errno != ENOENT)
        return wn__status_from_errno(errno);
    /* Outputs of other winnow commands from earlier runs into the same
     * directory go too: the directory holds one run's set. */
    const char *slash = strrchr(marker->final_path, '/');
    size_t dlen = slash ? (size_t)(slash - marker->final_path) : 0;
    for (size_t k = 0; k < WN_ARRAY_LEN(all_outputs); k++) {
        bool ours = false;
        for (size_t i = 0; i < n && !ours; i++) {
            const char *f = strrchr(outs[i]->final_path, '/');
            ours = strcmp(f ? f + 1 : outs[i]->final_path, all_outputs[k]) == 0;
        }
        if (ours)
            continue;
        char path[4096];
        int len =
            snprintf(path, sizeof(path), "%.*s%s%s", (int)dlen,
                     marker->final_path, slash ? "/" : "", all_outputs[k]);
        if (len > 0 && (size_t)len < sizeof(path) && unlink(path) != 0 &&
            errno != ENOENT)
            return wn__status_from_errno(errno);
    }
    int rc = WN_OK;
    for (size_t i = 0; i < n && !rc; i++)
        rc = wn__outfile_commit(outs[i]);
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
