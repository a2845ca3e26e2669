/*
 * outputs.c - the text of dedup's output files: the removed.jsonl line of
 * a fate, clusters.jsonl (members grouped by cluster with a counting sort,
 * in input order; clusters in the order of their first members) and
 * stats.json. The files themselves are the run frame's (io/runframe.h).
 */
#include "dedup/dedup.h"
#include "io/json.h"

#include <assert.h>

int wn__removed_line(const struct wn_sketcher *sk, const struct wn_fate *f,
                     struct wn_buf *b)
{
    int rc = WN_BUF_LIT(b, "{\"id\":");
    if (!rc)
        rc = wn__json_escape(f->id, f->id_len, b);
    if (!rc)
        rc = WN_BUF_LIT(b, ",\"duplicate_of\":");
    if (!rc)
        rc = wn__json_escape(f->duplicate_of, f->duplicate_of_len, b);
    /* Members joined through others may pass neither the threshold nor
     * the containment with the representative: they are "near". */
    if (!rc)
        rc = wn__buf_printf(b, ",\"cluster\":%u,\"similarity\":%.4f",
                            (unsigned)f->cluster, f->similarity);
    if (!rc && sk->o.containment > 0)
        rc = wn__buf_printf(b, ",\"containment\":%.4f", f->containment);
    if (!rc)
        rc = wn__buf_printf(b, ",\"reason\":\"%s\"", wn_reason_name(f->reason));
    if (!rc && sk->rule)
        rc = wn__buf_printf(b, ",\"figures\":\"%s\"",
                            wn_figures_name(f->figures));
    if (!rc)
        rc = WN_BUF_LIT(b, "}\n");
    return rc;
}

/* Members come in input order within a cluster: the cursor reads their
 * ids (spilled, dedupjob.c) a block at a time when they are close. */
static int append_id(struct wn_id_cursor *ids, const struct wn_clustering *c,
                     size_t k, struct wn_buf *b)
{
    size_t len;
    const char *id;
    if (c->id_off) {
        id = wn__clustering_id(c, k, &len);
        return wn__json_escape(id, len, b);
    }
    int rc = wn__id_cursor_get(ids, c->doc[k], &id, &len);
    return rc ? rc : wn__json_escape(id, len, b);
}

int wn__write_clusters(const struct wn_docs *d, const struct wn_clustering *c,
                       struct wn_outfile *o)
{
    uint64_t nc = c->nclusters;
    uint64_t *start = wn__calloc(nc + 2, sizeof(uint64_t));
    if (!start)
        return WN_ENOMEM;
    /* Only records in play (c->doc) can be in a cluster. */
    size_t total = 0;
    for (size_t k = 0; k < c->m; k++) {
        wn_docno id = c->cid[c->root[k]];
        if (id) {
            start[id + 1]++;
            total++;
        }
    }
    for (uint64_t k = 1; k <= nc + 1; k++)
        start[k] += start[k - 1];
    wn_docno *mem = wn__reallocarray(NULL, total ? total : 1, sizeof(wn_docno));
    if (!mem) {
        wn__free(start);
        return WN_ENOMEM;
    }
    for (size_t k = 0; k < c->m; k++) {
        wn_docno id = c->cid[c->root[k]];
        if (id)
            mem[start[id]++] = (wn_docno)k;
    }
    /* start[id] now ends cluster id; cluster id begins at start[id-1]. */
    struct wn_buf b = {0};
    struct wn_id_cursor ids;
    int rc = wn__id_cursor_init(&ids, d);
    uint64_t from = 0;
    for (uint64_t id = 1; id <= nc && !rc; id++) {
        uint64_t to = start[id];
        wn_docno rep = c->rep[c->root[mem[from]]];
        size_t rk = wn__clustering_index(c, rep);
        assert(rk != SIZE_MAX); /* a representative is in play */
        b.len = 0;
        rc = wn__buf_printf(&b, "{\"cluster\":%llu,\"representative\":",
                            (unsigned long long)id - 1);
        if (!rc)
            rc = append_id(&ids, c, rk, &b);
        if (!rc)
            rc = wn__buf_printf(&b, ",\"size\":%llu,\"members\":[",
                                (unsigned long long)(to - from));
        for (uint64_t k = from; k < to && !rc; k++) {
            if (k > from)
                rc = wn__buf_putc(&b, ',');
            if (!rc)
                rc = append_id(&ids, c, mem[k], &b);
        }
        if (!rc)
            rc = WN_BUF_LIT(&b, "]}\n");
        if (!rc)
            rc = wn__outfile_write(o, b.data, b.len);
        from = to;
    }
    wn__id_cursor_release(&ids);
    wn__buf_release(&b);
    wn__free(mem);
    wn__free(start);
    return rc;
}

int wn__write_dedup_stats(const struct wn_dedup_job *j,
                          const struct wn_frame *f, unsigned threads,
                          struct wn_outfile *out)
{
    const struct wn_dedup_options *o = &j->o;
    const struct wn_dedup_report *p = &j->rep;
    struct wn_buf b = {0};
    int rc = wn__buf_printf(
        &b,
        "{\n  \"read\": %llu,\n  \"kept\": %llu,\n  \"removed\": %llu,\n"
        "  \"rejected\": %llu,\n  \"removed_exact\": %llu,\n"
        "  \"removed_near\": %llu,\n  \"clusters\": %llu,\n"
        "  \"blank_lines\": %llu,\n  \"bytes\": %llu,\n"
        "  \"empty_docs\": %llu,\n  \"invalid_utf8\": %llu,\n"
        "  \"candidates\": %llu,\n  \"verified\": %llu,\n"
        "  \"edges\": %llu,\n  \"large_buckets\": %llu,\n"
        "  \"max_bucket\": %llu,\n  \"removed_contained\": %llu,\n"
        "  \"duplicate_ids\": %llu,\n  \"keep_missing\": %llu,\n"
        "  \"join_partitions\": %llu,\n",
        (unsigned long long)p->read, (unsigned long long)p->kept,
        (unsigned long long)p->removed, (unsigned long long)p->rejected,
        (unsigned long long)p->removed_exact,
        (unsigned long long)p->removed_near, (unsigned long long)p->clusters,
        (unsigned long long)p->blank_lines, (unsigned long long)p->bytes,
        (unsigned long long)p->empty_docs, (unsigned long long)p->invalid_utf8,
        (unsigned long long)p->candidates, (unsigned long long)p->verified,
        (unsigned long long)p->edges, (unsigned long long)p->large_buckets,
        (unsigned long long)p->max_bucket,
        (unsigned long long)p->removed_contained,
        (unsigned long long)p->duplicate_ids,
        (unsigned long long)p->keep_missing,
        (unsigned long long)p->join_partitions);
    static const char *const method[] = {"minhash", "simhash"};
    static const char *const keep[] = {"first", "longest", "max"};
    if (!rc)
        rc = wn__buf_printf(
            &b,
            "  \"options\": {\"method\": \"%s\", \"exact_only\": %s, "
            "\"tokens\": \"%s\", \"ngram\": %u, \"num_perm\": %u, "
            "\"threshold\": %g, \"bands\": %u, \"rows\": %u, "
            "\"verify\": \"%s\", \"containment\": %g, \"hamming\": %u, "
            "\"keep\": \"%s\", \"seed\": %llu, \"sketch\": \"%s\", "
            "\"fn_weight\": %g, \"threads\": %u, \"profile\": \"%s\"},\n",
            method[o->method], o->exact_only ? "true" : "false",
            o->token_mode == WN_TOKENS_CHAR ? "char" : "word", o->ngram,
            o->num_perm, o->threshold, j->sk.bands, j->sk.rows,
            o->verify == WN_VERIFY_EXACT ? "exact" : "estimate", o->containment,
            o->hamming, keep[o->keep], (unsigned long long)o->seed,
            o->sketch == WN_SKETCH_K_PERMUTATIONS ? "kperm" : "oph",
            o->weight_fn, threads,
            o->profile == WN_PROFILE_CLASSIC ? "classic"
            : o->profile == WN_PROFILE_WEB   ? "web"
                                             : "news");
    if (!rc)
        rc = wn__frame_stats_inputs(f, &b);
    if (!rc)
        rc = wn__buf_printf(
            &b,
            ",\n  \"seconds\": %.3f,\n  \"stage_seconds\": {\"read_sketch\": "
            "%.3f, \"exact\": %.3f, \"join\": %.3f, \"verify\": %.3f, "
            "\"cluster\": %.3f, \"write\": %.3f},\n  \"peak_rss_bytes\": "
            "%llu\n}\n",
            p->seconds, p->stage_seconds[0], p->stage_seconds[1],
            p->stage_seconds[2], p->stage_seconds[3], p->stage_seconds[4],
            p->stage_seconds[5], (unsigned long long)p->peak_rss_bytes);
    if (!rc)
        rc = wn__outfile_write(out, b.data, b.len);
    wn__buf_release(&b);
    return rc;
}
