/*
 * replay.c - the main() of the replay drivers: runs a fuzz target's
 * LLVMFuzzerTestOneInput over saved inputs, so that the corpus found by
 * fuzzing (and every past finding, kept as a regression input) is checked
 * by the ordinary test suite, with or without sanitizers and without
 * libFuzzer.
 *
 * usage: replay_<target> PATH...
 * A PATH is an input file or a directory of them (not recursive; names are
 * taken in bytewise order so that runs are reproducible). Prints one line
 * per input to stdout and a count at the end; a failed check aborts, which
 * names the input on stderr first. Exit status 0, or 1 when a path cannot
 * be read.
 */
#include "fuzz_util.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

static unsigned long replayed;

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read a whole file into a malloc'ed buffer. */
static int slurp(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            return -1;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        uint8_t *nb = realloc(buf, cap);
        if (!nb)
            free(buf);
        buf = nb;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return -1;
    }
    *data = buf;
    *size = n;
    return 0;
}

static int replay_file(const char *path)
{
    uint8_t *data;
    size_t size;
    if (slurp(path, &data, &size) != 0) {
        fprintf(stderr, "replay: cannot read '%s': %s\n", path,
                strerror(errno));
        return -1;
    }
    /* Named before the run: a failed check aborts inside it. */
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
    /* libFuzzer hands the target a buffer of exactly size bytes; so do we,
     * so that ASan catches a read past the end. */
    uint8_t *exact = malloc(size ? size : 1);
    if (!exact) {
        free(data);
        return -1;
    }
    if (size)
        memcpy(exact, data, size);
    free(data);
    LLVMFuzzerTestOneInput(exact, size);
    free(exact);
    replayed++;
    printf("replayed %s\n", path);
    return 0;
}

static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof(*names));
            if (!nn) {
                rc = -1;
                break;
            }
            names = nn;
        }
        names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (!names[n]) {
            rc = -1;
            break;
        }
        sprintf(names[n], "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_name);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            rc = replay_file(names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int status = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        int rc = stat(argv[i], &st);
        if (rc == 0)
            rc = S_ISDIR(st.st_mode) ? replay_dir(argv[i])
                                     : replay_file(argv[i]);
        if (rc != 0) {
            fprintf(stderr, "replay: cannot read '%s'\n", argv[i]);
            status = 1;
        }
    }
    printf("%lu inputs replayed\n", replayed);
    return status;
}
