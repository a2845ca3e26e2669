/*
 * test_outfile.c - the output directory of a run, its atomic outputs and
 * manifest (lib/io/outfile.c), and spill files (lib/io/spill.c).
 *
 * Every test works in its own directory under a mkdtemp root. The checks
 * are about what a run may touch: a publish replaces or removes only what
 * the manifest proves an earlier publish made, never an input; a refused
 * publish changes nothing; spill files never follow, truncate or remove
 * what is in their directory; stale temporary directories go only when
 * winnow made them; and every failure notes the path and errno.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "io/outfile.h"
#include "io/spill.h"

static char root[64];

static char *path_of(const char *name)
{
    char *p = malloc(strlen(root) + strlen(name) + 2);
    sprintf(p, "%s/%s", root, name);
    return p;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The contents of a small file, or "" when it cannot be read. */
static char *get(const char *path)
{
    static char buf[4096];
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (f) {
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

static bool exists(const char *dir, const char *name)
{
    char p[1024];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return lstat(p, &st) == 0;
}

/* The entries of dir, sorted, with each regular file's contents: a
 * snapshot to compare before and after. */
static char *listing(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && for f in $(ls -A | sort); do printf '%%s:' \"$f\"; "
             "if [ -f \"$f\" ] && [ ! -L \"$f\" ]; then cksum <\"$f\"; "
             "else ls -ld \"$f\" | cut -c1; fi; done",
             dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16;
    char *s = malloc(cap);
    size_t n = fread(s, 1, cap - 1, p);
    s[n] = '\0';
    pclose(p);
    return s;
}

static void remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/winnow-outfile-XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    remove_tree(root);
    return 0;
}

/* One run: open d on dir, write each name with text, publish. Returns the
 * first failing status; out-files are released and d closed. */
static int run_names(const char *dir, const char *const *names, size_t n,
                     const char *text, const char *const *inputs,
                     size_t ninputs, struct wn_io_note *note)
{
    struct wn_outdir d;
    struct wn_outfile o[8];
    struct wn_outfile *outs[8];
    memset(o, 0, sizeof(o));
    assert_true(n <= 8);
    int rc = wn__outdir_open(&d, dir, inputs, ninputs, true);
    size_t opened = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        rc = wn__outfile_open(&o[i], &d, names[i]);
        if (!rc)
            opened = i + 1;
    }
    for (size_t i = 0; i < opened && !rc; i++)
        rc = wn__outfile_write(&o[i], text, strlen(text));
    for (size_t i = 0; i < opened && !rc; i++)
        rc = wn__outfile_finish(&o[i], true);
    for (size_t i = 0; i < n; i++)
        outs[i] = &o[i];
    if (!rc)
        rc = wn__outfiles_publish(&d, outs, n);
    for (size_t i = 0; i < n; i++)
        wn__outfile_release(&o[i]);
    if (note)
        *note = d.note;
    wn__outdir_close(&d);
    return rc;
}

static const char *const set_a[] = {"kept.jsonl", "clusters.jsonl",
                                    "stats.json"};
static const char *const set_b[] = {"kept.jsonl", "spans.jsonl", "stats.json"};

static void test_publish_and_replace(void **state)
{
    (void)state;
    char *dir = path_of("cycle");
    assert_int_equal(run_names(dir, set_a, 3, "one\n", NULL, 0, NULL), WN_OK);
    char *kept = path_of("cycle/kept.jsonl");
    assert_string_equal(get(kept), "one\n");
    assert_true(exists(dir, WN_MANIFEST_NAME));
    /* The manifest names each published file. */
    char *man = path_of("cycle/" WN_MANIFEST_NAME);
    const char *m = get(man);
    assert_non_null(strstr(m, "winnow-outputs 1\n"));
    assert_non_null(strstr(m, "\nclusters.jsonl "));
    assert_non_null(strstr(m, "\nstats.json "));
    /* Another set: the same names replaced, clusters.jsonl (proved by the
     * manifest) removed, a file of the user's left. */
    char *mine = path_of("cycle/notes.txt");
    put(mine, "mine\n");
    assert_int_equal(run_names(dir, set_b, 3, "two\n", NULL, 0, NULL), WN_OK);
    assert_string_equal(get(kept), "two\n");
    assert_false(exists(dir, "clusters.jsonl"));
    assert_true(exists(dir, "spans.jsonl"));
    assert_string_equal(get(mine), "mine\n");
    m = get(man);
    assert_null(strstr(m, "clusters.jsonl"));
    assert_non_null(strstr(m, "\nspans.jsonl "));
    /* No temporary directory is left. */
    DIR *dd = opendir(dir);
    struct dirent *e;
    while ((e = readdir(dd)) != NULL)
        assert_true(strncmp(e->d_name, ".winnow-tmp-", 12) != 0);
    closedir(dd);
    free(mine);
    free(man);
    free(kept);
    free(dir);
}

static void test_foreign_names(void **state)
{
    (void)state;
    char *dir = path_of("foreign");
    assert_int_equal(run_names(dir, set_a, 3, "old\n", NULL, 0, NULL), WN_OK);
    char *before = listing(dir);
    struct wn_io_note note;
    char want[1024];

    /* A regular file the manifest does not prove. */
    char *p = path_of("foreign/spans.jsonl");
    put(p, "user\n");
    free(before);
    before = listing(dir);
    assert_int_equal(run_names(dir, set_b, 3, "new\n", NULL, 0, &note),
                     WN_EEXIST);
    snprintf(want, sizeof(want), "%s/spans.jsonl", dir);
    assert_true(note.set);
    assert_string_equal(note.path, want);
    assert_int_equal(note.err, 0);
    char *after = listing(dir);
    assert_string_equal(before, after);
    free(after);
    unlink(p);

    /* A directory, and a symbolic link, at an output name. */
    assert_int_equal(mkdir(p, 0777), 0);
    assert_int_equal(run_names(dir, set_b, 3, "new\n", NULL, 0, &note),
                     WN_EEXIST);
    assert_int_equal(note.err, EISDIR);
    assert_int_equal(rmdir(p), 0);
    char *victim = path_of("victim");
    put(victim, "victim\n");
    assert_int_equal(symlink(victim, p), 0);
    assert_int_equal(run_names(dir, set_b, 3, "new\n", NULL, 0, &note),
                     WN_EEXIST);
    assert_string_equal(get(victim), "victim\n");
    unlink(p);

    /* An input at an output name, even one an earlier publish made. */
    char *kept = path_of("foreign/kept.jsonl");
    const char *inputs[] = {"-", kept};
    assert_int_equal(run_names(dir, set_a, 3, "new\n", inputs, 2, &note),
                     WN_EINPUT);
    snprintf(want, sizeof(want), "%s/kept.jsonl", dir);
    assert_string_equal(note.path, want);
    assert_string_equal(get(kept), "old\n");

    /* An earlier output that is an input is not removed by a run that
     * does not write its name, and stays proved for a later one. */
    char *clusters = path_of("foreign/clusters.jsonl");
    const char *in2[] = {clusters};
    assert_int_equal(run_names(dir, set_b, 3, "b\n", in2, 1, NULL), WN_OK);
    assert_string_equal(get(clusters), "old\n");
    assert_int_equal(run_names(dir, set_a, 3, "a\n", NULL, 0, NULL), WN_OK);
    assert_string_equal(get(clusters), "a\n");

    /* A file changed since it was published is no longer proved. */
    FILE *f = fopen(kept, "ab");
    fputs("more\n", f);
    fclose(f);
    assert_int_equal(run_names(dir, set_a, 3, "c\n", NULL, 0, NULL), WN_EEXIST);
    assert_string_equal(get(kept), "a\nmore\n");
    free(clusters);
    free(kept);
    free(victim);
    free(p);
    free(before);
    free(dir);
}

/* A name that turns bad between the open and the publish: the publish
 * fails before it removes or renames anything. */
static void test_refused_publish(void **state)
{
    (void)state;
    char *dir = path_of("refused");
    assert_int_equal(run_names(dir, set_a, 3, "old\n", NULL, 0, NULL), WN_OK);
    struct wn_outdir d;
    struct wn_outfile o[3];
    struct wn_outfile *outs[3] = {&o[0], &o[1], &o[2]};
    assert_int_equal(wn__outdir_open(&d, dir, NULL, 0, false), WN_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(wn__outfile_open(&o[i], &d, set_b[i]), WN_OK);
        assert_int_equal(wn__outfile_write(&o[i], "new\n", 4), WN_OK);
        assert_int_equal(wn__outfile_finish(&o[i], false), WN_OK);
    }
    char *sp = path_of("refused/spans.jsonl");
    assert_int_equal(mkdir(sp, 0777), 0);
    char *before = listing(dir);
    assert_int_equal(wn__outfiles_publish(&d, outs, 3), WN_EEXIST);
    char *after = listing(dir);
    assert_string_equal(before, after);
    assert_true(exists(dir, "stats.json") && exists(dir, "clusters.jsonl"));
    for (int i = 0; i < 3; i++)
        wn__outfile_release(&o[i]);
    wn__outdir_close(&d);
    free(before);
    free(after);
    free(sp);
    free(dir);
}

/* A manifest lists the files of both sets while a publish is under way:
 * either identity of a name proves it, and entries that are not plain
 * names are ignored. */
static void test_manifest_entries(void **state)
{
    (void)state;
    char *dir = path_of("manifest");
    assert_int_equal(run_names(dir, set_a, 3, "x\n", NULL, 0, NULL), WN_OK);
    char *man = path_of("manifest/" WN_MANIFEST_NAME);
    char saved[4096];
    snprintf(saved, sizeof(saved), "%s", get(man));
    assert_int_equal(run_names(dir, set_a, 3, "y\n", NULL, 0, NULL), WN_OK);
    /* The union, as a crash in the middle would leave it. */
    FILE *f = fopen(man, "ab");
    fputs(strchr(saved, '\n') + 1, f);
    fputs("../escape 1 2 3 4.000000000\n", f);
    fputs("garbage\n", f);
    fclose(f);
    assert_int_equal(run_names(dir, set_a, 3, "z\n", NULL, 0, NULL), WN_OK);
    /* A manifest of another format proves nothing: the run refuses. */
    put(man, "something else\n");
    assert_int_equal(run_names(dir, set_a, 3, "w\n", NULL, 0, NULL), WN_EEXIST);
    char *kept = path_of("manifest/kept.jsonl");
    assert_string_equal(get(kept), "z\n");
    free(kept);
    free(man);
    free(dir);
}

static void test_outdir_errors(void **state)
{
    (void)state;
    struct wn_outdir d;
    assert_int_equal(wn__outdir_open(&d, "", NULL, 0, true), WN_EOPEN);
    assert_true(d.note.set);
    assert_string_equal(d.note.path, "");
    assert_int_equal(d.note.err, ENOENT);
    wn__outdir_close(&d);

    char *file = path_of("plain");
    put(file, "x");
    char *under = path_of("plain/sub/out");
    assert_int_equal(wn__outdir_open(&d, under, NULL, 0, true), WN_EOPEN);
    char *sub = path_of("plain/sub"); /* the first that cannot be made */
    assert_string_equal(d.note.path, sub);
    free(sub);
    assert_int_equal(d.note.err, ENOTDIR);
    wn__outdir_close(&d);
    assert_int_equal(wn__outdir_open(&d, file, NULL, 0, true), WN_EOPEN);
    assert_int_equal(d.note.err, ENOTDIR);
    wn__outdir_close(&d);

    /* Inside a directory input, or the input itself: refused before the
     * directory is made. */
    char *in = path_of("texts");
    assert_int_equal(mkdir(in, 0777), 0);
    char *out = path_of("texts/a/b/out");
    const char *inputs[] = {file, in};
    assert_int_equal(wn__outdir_open(&d, out, inputs, 2, true), WN_EINPUT);
    assert_string_equal(d.note.path, out);
    wn__outdir_close(&d);
    assert_false(exists(in, "a"));
    char *dot = path_of("texts/.");
    assert_int_equal(wn__outdir_open(&d, dot, inputs, 2, true), WN_EINPUT);
    wn__outdir_close(&d);
    /* A sibling is fine. */
    char *sib = path_of("texts-out");
    assert_int_equal(wn__outdir_open(&d, sib, inputs, 2, true), WN_OK);
    assert_false(d.note.set);
    wn__outdir_close(&d);
    free(sib);
    free(dot);
    free(out);
    free(in);
    free(under);
    free(file);
}

static void test_stale_tmpdirs(void **state)
{
    (void)state;
    char *dir = path_of("stale");
    assert_int_equal(run_names(dir, set_a, 3, "x\n", NULL, 0, NULL), WN_OK);
    /* winnow's: the marker inside. */
    char *ours = path_of("stale/.winnow-tmp-Ab12Cd");
    assert_int_equal(mkdir(ours, 0700), 0);
    char p[1024];
    snprintf(p, sizeof(p), "%s/.winnow-run", ours);
    put(p, "winnow temporary directory 1\n");
    snprintf(p, sizeof(p), "%s/kept.jsonl", ours);
    put(p, "partial\n");
    /* Not winnow's: no marker; a wrong marker; a link to a directory; a
     * name mkdtemp cannot make. */
    char *nomark = path_of("stale/.winnow-tmp-zzzzzz");
    assert_int_equal(mkdir(nomark, 0700), 0);
    snprintf(p, sizeof(p), "%s/kept.jsonl", nomark);
    put(p, "user\n");
    char *badmark = path_of("stale/.winnow-tmp-yyyyyy");
    assert_int_equal(mkdir(badmark, 0700), 0);
    snprintf(p, sizeof(p), "%s/.winnow-run", badmark);
    put(p, "not the marker\n");
    char *target = path_of("target");
    assert_int_equal(mkdir(target, 0700), 0);
    snprintf(p, sizeof(p), "%s/.winnow-run", target);
    put(p, "winnow temporary directory 1\n");
    snprintf(p, sizeof(p), "%s/data", target);
    put(p, "precious\n");
    char *link = path_of("stale/.winnow-tmp-xxxxxx");
    assert_int_equal(symlink(target, link), 0);
    char *odd = path_of("stale/.winnow-tmp-my-notes");
    assert_int_equal(mkdir(odd, 0700), 0);
    snprintf(p, sizeof(p), "%s/.winnow-run", odd);
    put(p, "winnow temporary directory 1\n");

    assert_int_equal(run_names(dir, set_a, 3, "y\n", NULL, 0, NULL), WN_OK);
    assert_false(exists(dir, ".winnow-tmp-Ab12Cd"));
    assert_true(exists(dir, ".winnow-tmp-zzzzzz"));
    assert_true(exists(dir, ".winnow-tmp-yyyyyy"));
    assert_true(exists(dir, ".winnow-tmp-xxxxxx"));
    assert_true(exists(dir, ".winnow-tmp-my-notes"));
    snprintf(p, sizeof(p), "%s/data", target);
    assert_string_equal(get(p), "precious\n");
    free(odd);
    free(link);
    free(target);
    free(badmark);
    free(nomark);
    free(ours);
    free(dir);
}

static void spill_roundtrip(FILE *f)
{
    assert_non_null(f);
    assert_int_equal(fwrite("0123456789", 1, 10, f), 10);
    assert_int_equal(fflush(f), 0);
    char buf[4];
    assert_int_equal(wn__pread_full(fileno(f), buf, 4, 3), WN_OK);
    assert_memory_equal(buf, "3456", 4);
    assert_int_equal(wn__pread_full(fileno(f), buf, 4, 8), WN_EIO);
    fclose(f);
}

static void test_spill(void **state)
{
    (void)state;
    char *dir = path_of("spill");
    assert_int_equal(mkdir(dir, 0777), 0);
    char *victim = path_of("victim-spill");
    put(victim, "victim\n");
    char p[1024];
    snprintf(p, sizeof(p), "%s/signatures", dir);
    assert_int_equal(symlink(victim, p), 0);
    snprintf(p, sizeof(p), "%s/codes", dir);
    put(p, "someone's file\n");
    char *before = listing(dir);

    struct wn_io_note note = {0};
    spill_roundtrip(wn__spill_create(dir, "signatures", 1 << 12, &note));
    spill_roundtrip(wn__spill_create(dir, "codes", 0, &note));
    /* The fallback by itself: a private directory, removed at once. */
    int fd = wn__spill_open_named(dir, "signatures");
    assert_true(fd >= 0);
    spill_roundtrip(fdopen(fd, "w+b"));
    assert_false(note.set);
    char *after = listing(dir);
    assert_string_equal(before, after);
    assert_string_equal(get(victim), "victim\n");

    /* Two spill files of one name are two files. */
    FILE *a = wn__spill_create(dir, "units", 0, NULL);
    FILE *b = wn__spill_create(dir, "units", 0, NULL);
    assert_non_null(a);
    assert_non_null(b);
    fputs("aaaa", a);
    fflush(a);
    struct stat sa, sb;
    assert_int_equal(fstat(fileno(a), &sa), 0);
    assert_int_equal(fstat(fileno(b), &sb), 0);
    assert_true(sa.st_ino != sb.st_ino);
    assert_int_equal(sb.st_size, 0);
    fclose(a);
    fclose(b);

    /* A directory that does not exist: NULL, the path and errno noted. */
    char *none = path_of("no-such-dir");
    assert_null(wn__spill_create(none, "band-3", 0, &note));
    assert_true(note.set);
    snprintf(p, sizeof(p), "%s/band-3", none);
    assert_string_equal(note.path, p);
    assert_int_equal(note.err, ENOENT);
    assert_int_equal(wn__spill_open_named(none, "x"), -1);
    free(none);
    free(after);
    free(before);
    free(victim);
    free(dir);
}

static void test_report(void **state)
{
    (void)state;
    char path[64];
    int err = 0;
    struct wn_io_note n = {0};
    path[0] = '\0';
    wn__io_report(&n, WN_EOPEN, "dir", path, sizeof(path), &err);
    assert_string_equal(path, "");
    wn__io_report(&n, WN_ENOSPC, "dir", path, sizeof(path), &err);
    assert_string_equal(path, "dir");
    assert_int_equal(err, 0);
    assert_int_equal(wn__io_fail(&n, "out/kept.jsonl", EROFS, WN_EIO), WN_EIO);
    assert_int_equal(wn__io_fail(&n, "later", EIO, WN_EIO), WN_EIO);
    wn__io_report(&n, WN_EIO, "dir", path, sizeof(path), &err);
    assert_string_equal(path, "out/kept.jsonl"); /* the first failure */
    assert_int_equal(err, EROFS);
    assert_int_equal(wn__io_fail(NULL, "x", EIO, WN_EIO), WN_EIO);
}

/* Each allocation of a publishing run fails in turn: WN_ENOMEM, the
 * previous set as it was, no temporary directory left. */
static void test_alloc_failures(void **state)
{
    (void)state;
    char *dir = path_of("sweep");
    assert_int_equal(run_names(dir, set_a, 3, "old\n", NULL, 0, NULL), WN_OK);
    char *before = listing(dir);
    long n;
    for (n = 0; n < 10000; n++) {
        wn_alloc_fail_after(n);
        int rc = run_names(dir, set_b, 3, "new\n", NULL, 0, NULL);
        wn_alloc_fail_after(-1);
        if (rc == WN_OK)
            break;
        assert_int_equal(rc, WN_ENOMEM);
        char *now = listing(dir);
        assert_string_equal(before, now);
        free(now);
    }
    assert_true(n > 5 && n < 10000);
    char *kept = path_of("sweep/kept.jsonl");
    assert_string_equal(get(kept), "new\n");
    assert_false(exists(dir, "clusters.jsonl"));
    print_message("# %ld allocations failed in turn\n", n);
    free(kept);
    free(before);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_and_replace),
        cmocka_unit_test(test_foreign_names),
        cmocka_unit_test(test_refused_publish),
        cmocka_unit_test(test_manifest_entries),
        cmocka_unit_test(test_outdir_errors),
        cmocka_unit_test(test_stale_tmpdirs),
        cmocka_unit_test(test_spill),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
