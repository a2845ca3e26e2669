/*
 * job.c - what wn_passages_run, wn_lines_run and wn_repeats_run share above
 * the run frame (io/runframe.h: inputs, temporary directory, standard-input
 * copies, rejected records, publishing, the thread pool): kept records
 * written as their raw bytes or with only the text value replaced, cutting
 * spans out of a text, and splitting a text into lines or paragraphs.
 */
#include "passages/passages.h"
#include "io/json.h"

int wn__write_record(struct wn_outfile *o, const struct wn_record *rec,
                     const char *text_field, const char *text, size_t len,
                     struct wn_buf *b)
{
    b->len = 0;
    int rc;
    if (rec->kind == WN_RECORD_TEXTFILE) {
        rc = WN_BUF_LIT(b, "{\"id\":");
        if (!rc)
            rc = wn__json_escape(rec->id, rec->id_len, b);
        if (!rc)
            rc = WN_BUF_LIT(b, ",\"text\":");
        if (!rc)
            rc = text ? wn__json_escape(text, len, b)
                      : wn__json_escape(rec->raw, rec->raw_len, b);
        if (!rc)
            rc = WN_BUF_LIT(b, "}\n");
        return rc ? rc : wn__outfile_write(o, b->data, b->len);
    }
    if (!text) {
        rc = wn__outfile_write(o, rec->raw, rec->raw_len);
        return rc ? rc : wn__outfile_write(o, "\n", 1);
    }
    struct wn_json_field f = {.key = text_field ? text_field : "text"};
    f.key_len = strlen(f.key);
    size_t err;
    if (wn__json_scan_object(rec->raw, rec->raw_len, &f, 1, &err) ||
        f.type != WN_JSON_STRING)
        return WN_EPARSE; /* the reader accepted it: cannot happen */
    rc = wn__buf_append(b, rec->raw, f.off);
    if (!rc)
        rc = wn__json_escape(text, len, b);
    if (!rc)
        rc = wn__buf_append(b, rec->raw + f.off + f.len,
                            rec->raw_len - f.off - f.len);
    if (!rc)
        rc = wn__buf_putc(b, '\n');
    return rc ? rc : wn__outfile_write(o, b->data, b->len);
}

int wn__apply_cuts(const char *text, size_t len, const struct wn_cut *cuts,
                   size_t n, struct wn_buf *out)
{
    out->len = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (cuts[i].start < at || cuts[i].end < cuts[i].start ||
            cuts[i].end > len)
            return WN_EINVAL;
        int rc = wn__buf_append(out, text + at, cuts[i].start - at);
        if (rc)
            return rc;
        at = cuts[i].end;
    }
    return wn__buf_append(out, text + at, len - at);
}

static bool blank_line(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' &&
            s[i] != '\v')
            return false;
    return true;
}

long wn__split_units(const char *text, size_t len, int paragraph,
                     struct wn_unit_span **v, size_t *cap)
{
    size_t n = 0;
    size_t p = 0;
    bool open = false; /* a paragraph is being extended */
    while (p < len) {
        const char *nl = memchr(text + p, '\n', len - p);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t next = nl ? end + 1 : len;
        if (blank_line(text + p, end - p)) {
            open = false;
        } else if (paragraph && open) {
            (*v)[n - 1].end = end;
        } else {
            if (WN_GROW(*v, *cap, n + 1))
                return WN_ENOMEM;
            (*v)[n].start = p;
            (*v)[n].end = end;
            n++;
            open = true;
        }
        p = next;
    }
    /* Each unit runs to the start of the next one. */
    for (size_t i = 0; i < n; i++)
        (*v)[i].next = i + 1 < n ? (*v)[i + 1].start : len;
    return (long)n;
}
