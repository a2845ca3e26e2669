/*
 * candidates.c - the LSH band join: for every band, sort (key, document)
 * and emit candidate pairs from runs of equal keys (lib/cluster). The
 * budget splits a band into partitions by key so that memory stays
 * bounded; (band, partition) tasks are taken in turn by one worker per
 * pool thread, each into its own pair list; the lists are concatenated and
 * sorted at the end, so the result does not depend on which thread ran
 * which task. Memory: 32 bytes per document per running worker (entries
 * and radix scratch of one partition), plus the pairs.
 */
#include "dedup/dedup.h"
#include "io/outfile.h"

#include <pthread.h>

struct join_shared {
    const struct wn_join_in *in;
    uint64_t parts;
    uint64_t ntasks;
    uint64_t next; /* next task, taken under mu */
    pthread_mutex_t mu;
    int rc;
};

struct join_worker {
    struct join_shared *sh;
    uint64_t *pairs;
    size_t npairs, cap;
    struct wn_join_stats st;
    int rc;
};

static int join_task(struct join_worker *w, uint32_t band, uint64_t part,
                     struct wn_keydoc **v, size_t *vcap, uint64_t *keys)
{
    const struct join_shared *sh = w->sh;
    const struct wn_join_in *in = sh->in;
    int fd = fileno(in->key_f[band]);
    size_t m = 0;
    for (size_t d = 0; d < in->n;) {
        size_t want = WN_MIN((size_t)65536, in->n - d);
        int rc = wn__pread_full(fd, keys, want * sizeof(*keys),
                                (uint64_t)d * sizeof(*keys));
        if (rc)
            return rc;
        for (size_t i = 0; i < want; i++, d++) {
            if (wn__bit_get(in->skip, d))
                continue;
            if (sh->parts > 1 && (keys[i] >> 32) % sh->parts != part)
                continue;
            if (m == *vcap && WN_GROW(*v, *vcap, m + 1))
                return WN_ENOMEM;
            (*v)[m].key = keys[i];
            (*v)[m].doc = (uint32_t)d;
            (*v)[m].pad = 0;
            m++;
        }
    }
    int rc = wn__keydoc_sort(*v, m);
    if (!rc)
        rc = wn__join_sorted(*v, m, in->bucket_all_pairs, NULL, &w->pairs,
                             &w->npairs, &w->cap, &w->st);
    /* Keep the pair list small as bands accumulate. */
    if (!rc && w->npairs > (1u << 22))
        w->npairs = wn__pairs_sort_unique(w->pairs, w->npairs);
    return rc;
}

/* One worker: take tasks until none is left or one failed. */
static void join_main(void *arg, unsigned slot)
{
    (void)slot;
    struct join_worker *w = arg;
    struct join_shared *sh = w->sh;
    struct wn_keydoc *v = NULL;
    size_t vcap = 0;
    uint64_t *keys = wn__reallocarray(NULL, 65536, sizeof(*keys));
    w->rc = keys ? WN_OK : WN_ENOMEM;
    while (!w->rc) {
        pthread_mutex_lock(&sh->mu);
        uint64_t t = sh->rc ? sh->ntasks : sh->next++;
        pthread_mutex_unlock(&sh->mu);
        if (t >= sh->ntasks)
            break;
        w->rc = join_task(w, (uint32_t)(t / sh->parts), t % sh->parts, &v,
                          &vcap, keys);
        if (!w->rc && sh->in->cancel && *sh->in->cancel)
            w->rc = WN_EINTR;
        if (w->rc) {
            pthread_mutex_lock(&sh->mu);
            sh->rc = w->rc;
            pthread_mutex_unlock(&sh->mu);
        }
    }
    wn__free(v);
    wn__free(keys);
}

int wn__stage_candidates(const struct wn_join_in *in, struct wn_pool *pool,
                         uint64_t **pairs_out, size_t *npairs_out,
                         struct wn_join_stats *st_out)
{
    uint64_t budget = in->memory ? in->memory : (1ull << 30);
    unsigned nthreads = wn__pool_threads(pool);
    /* Entries and radix scratch: 32 bytes per document, per partition and
     * thread, with the budget raised to a floor (lib/cluster/join.c). */
    uint64_t parts = wn__join_partitions(in->n, nthreads, budget);
    struct join_shared sh;
    memset(&sh, 0, sizeof(sh));
    sh.in = in;
    sh.parts = parts;
    sh.ntasks = (uint64_t)in->nkeys * parts;
    pthread_mutex_init(&sh.mu, NULL);
    struct join_worker *w = wn__calloc(nthreads, sizeof(*w));
    struct wn_pool_task *task = wn__calloc(nthreads, sizeof(*task));
    int rc = w && task ? WN_OK : WN_ENOMEM;
    for (unsigned i = 0; i < nthreads && !rc; i++) {
        w[i].sh = &sh;
        wn__pool_submit(pool, &task[i], join_main, &w[i]);
    }
    wn__pool_wait(pool);
    pthread_mutex_destroy(&sh.mu);

    uint64_t *pairs = NULL;
    size_t npairs = 0, paircap = 0;
    struct wn_join_stats st = {0};
    st.partitions = parts;
    for (unsigned i = 0; i < nthreads && w && !rc; i++) {
        rc = w[i].rc;
        if (!rc && w[i].npairs &&
            (rc = WN_GROW(pairs, paircap, npairs + w[i].npairs)) == WN_OK) {
            memcpy(pairs + npairs, w[i].pairs, w[i].npairs * sizeof(*pairs));
            npairs += w[i].npairs;
        }
        st.large_buckets += w[i].st.large_buckets;
        st.max_bucket = WN_MAX(st.max_bucket, w[i].st.max_bucket);
    }
    for (unsigned i = 0; i < nthreads && w; i++)
        wn__free(w[i].pairs);
    wn__free(w);
    wn__free(task);
    if (!rc)
        npairs = wn__pairs_sort_unique(pairs, npairs);
    if (rc) {
        wn__free(pairs);
        return rc;
    }
    *pairs_out = pairs;
    *npairs_out = npairs;
    *st_out = st;
    return WN_OK;
}
