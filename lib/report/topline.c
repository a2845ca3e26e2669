/*
 * topline.c - the most frequent lines across records in bounded memory, for
 * the report's boilerplate table: a Misra-Gries summary (Misra and Gries
 * 1982, "Finding repeated elements") over (record, distinct line) pairs.
 *
 * Counters live in an open-addressing table of 2 * cap slots (linear
 * probing, half full at most). A line already counted adds one; a new line
 * takes a free counter; when all cap are taken, every counter loses one and
 * the empty ones are dropped (the table is rebuilt), the new line included:
 * each round removes cap units from a total that grows by one per pair, so
 * there are at most pairs / cap rounds and the work is O(pairs) amortized.
 * A count is then short of the truth by at most `rounds`.
 */
#include "report/report.h"
#include "sketch/sketch.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define TOPLINE_SEED 0x746F706C696E6531ULL

int wn__topline_init(struct wn__topline *t, size_t cap)
{
    memset(t, 0, sizeof(*t));
    size_t slots = 16;
    while (slots < 2 * cap)
        slots *= 2;
    t->cap = slots / 2;
    t->slot = wn__calloc(slots, sizeof(*t->slot));
    t->pool = wn__malloc(t->cap * sizeof(*t->pool));
    t->pool_len = wn__malloc(t->cap * sizeof(*t->pool_len));
    t->pool_free = wn__malloc(t->cap * sizeof(*t->pool_free));
    if (!t->slot || !t->pool || !t->pool_len || !t->pool_free) {
        wn__topline_release(t);
        return WN_ENOMEM;
    }
    for (size_t i = 0; i < t->cap; i++)
        t->pool_free[i] = (uint32_t)(t->cap - 1 - i);
    t->nfree = t->cap;
    return WN_OK;
}

void wn__topline_release(struct wn__topline *t)
{
    wn__free(t->slot);
    wn__free(t->pool);
    wn__free(t->pool_len);
    wn__free(t->pool_free);
    wn__free(t->scratch);
    wn__buf_release(&t->norm);
    memset(t, 0, sizeof(*t));
}

static size_t find(const struct wn__topline *t, uint64_t h)
{
    size_t mask = 2 * t->cap - 1, i = (size_t)h & mask;
    while (t->slot[i].count && t->slot[i].h != h)
        i = (i + 1) & mask;
    return i;
}

/* Every counter loses one; the table is rebuilt with the survivors (slots
 * are small: the texts stay where they are in the pool). */
static int decrement(struct wn__topline *t)
{
    size_t slots = 2 * t->cap;
    struct wn__topline_slot *old = t->slot;
    struct wn__topline_slot *nw = wn__calloc(slots, sizeof(*nw));
    if (!nw)
        return WN_ENOMEM;
    t->slot = nw;
    t->n = 0;
    for (size_t i = 0; i < slots; i++) {
        if (!old[i].count)
            continue;
        if (old[i].count == 1) {
            t->pool_free[t->nfree++] = old[i].text;
            continue;
        }
        size_t j = find(t, old[i].h);
        t->slot[j] = old[i];
        t->slot[j].count--;
        t->n++;
    }
    wn__free(old);
    t->rounds++;
    return WN_OK;
}

static int count_line(struct wn__topline *t, uint64_t h, const char *line,
                      size_t len)
{
    size_t i = find(t, h);
    if (t->slot[i].count) {
        t->slot[i].count++;
        return WN_OK;
    }
    if (t->n >= t->cap)
        return decrement(t); /* the new line's one unit goes too */
    assert(t->nfree > 0);
    struct wn__topline_slot *e = &t->slot[i];
    e->h = h;
    e->count = 1;
    e->text = t->pool_free[--t->nfree];
    size_t n = WN_MIN(len, (size_t)WN__TOPLINE_TEXT);
    /* Cut at a character boundary. */
    while (n < len && n > 0 && ((unsigned char)line[n] & 0xC0) == 0x80)
        n--;
    memcpy(t->pool[e->text], line, n);
    t->pool_len[e->text] = (uint32_t)n;
    t->n++;
    return WN_OK;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Code points outside ASCII that separate words like ASCII punctuation:
 * Latin-1 punctuation and symbols, general punctuation, arrows, technical
 * and geometric symbols, dingbats, CJK and full-width punctuation, and the
 * emoji planes. Bullets and dashes thus do not make a line different. */
static bool is_symbol(uint32_t c)
{
    return (c >= 0x80 && c <= 0xBF) || c == 0xD7 || c == 0xF7 ||
           (c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) ||
           (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF01 && c <= 0xFF0F) ||
           (c >= 0xFF1A && c <= 0xFF20) || c == 0xFEFF || c >= 0x1F000;
}

/* The code point of the UTF-8 sequence at s (n bytes left) and its length;
 * an ill-formed byte is one unit of its own, taken as it is. */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (len > n)
        len = 1;
    uint32_t v = len == 1 ? c : c & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD0000u | c; /* not a symbol: kept */
            return 1;
        }
        v = v << 6 | (s[i] & 0x3F);
    }
    *cp = v;
    return len;
}

/* The line's identity text in t->norm; false when it has no letter or
 * digit. ASCII goes without branches (this loop is most of the report's
 * time on a large corpus). */
static bool normalize(struct wn__topline *t, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    char *o = t->norm.data;
    size_t k = 0;
    unsigned word = 0, pending = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        if (c < 0x80) {
            unsigned alpha = (unsigned)((c | 0x20) - 'a') < 26u;
            unsigned digit = (unsigned)(c - '0') < 10u;
            unsigned keep = alpha | digit;
            o[k] = ' ';
            k += pending & keep;
            o[k] = (char)(c | (alpha << 5)); /* lowercase */
            k += keep;
            pending = (keep ^ 1u) & (pending | word);
            word |= keep;
            i++;
            continue;
        }
        uint32_t cp;
        size_t len = decode(u + i, n - i, &cp);
        if (is_symbol(cp)) {
            pending |= word;
        } else {
            o[k] = ' ';
            k += pending;
            memcpy(o + k, u + i, len);
            k += len;
            pending = 0;
            word = 1;
        }
        i += len;
    }
    t->norm.len = k;
    return k > 0;
}

static int cmp_triple(const void *x, const void *y)
{
    const uint64_t *a = x, *b = y;
    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1];
}

int wn__topline_add(struct wn__topline *t, const char *text, size_t len)
{
    size_t k = 0;
    int rc = WN_OK;
    t->records++;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t s = at, e = end;
        while (s < e && is_space(text[s]))
            s++;
        while (e > s && is_space(text[e - 1]))
            e--;
        at = end + 1;
        if (e == s)
            continue;
        if (wn__buf_reserve(&t->norm, 2 * (e - s) + 1) ||
            WN_GROW(t->scratch, t->scratch_cap, 3 * (k + 1)))
            return WN_ENOMEM;
        if (!normalize(t, text + s, e - s))
            continue;
        t->scratch[3 * k] = wn__hash64(t->norm.data, t->norm.len, TOPLINE_SEED);
        t->scratch[3 * k + 1] = s;
        t->scratch[3 * k + 2] = e - s;
        k++;
    }
    /* Each distinct line once per record, at its first occurrence. */
    if (k > 1)
        qsort(t->scratch, k, 3 * sizeof(uint64_t), cmp_triple);
    for (size_t i = 0; i < k && !rc; i++) {
        if (i > 0 && t->scratch[3 * i] == t->scratch[3 * (i - 1)])
            continue;
        rc = count_line(t, t->scratch[3 * i], text + t->scratch[3 * i + 1],
                        (size_t)t->scratch[3 * i + 2]);
    }
    return rc;
}

static int cmp_entry(const void *x, const void *y)
{
    const struct wn__topline_entry *a = x, *b = y;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return a->h < b->h ? -1 : a->h > b->h;
}

size_t wn__topline_top(const struct wn__topline *t,
                       struct wn__topline_entry *out, size_t k)
{
    /* A partial selection: keep the best k seen so far, sorted. */
    size_t n = 0;
    for (size_t i = 0; i < 2 * t->cap && k; i++) {
        const struct wn__topline_slot *s = &t->slot[i];
        if (!s->count)
            continue;
        struct wn__topline_entry e;
        e.h = s->h;
        e.count = s->count;
        e.len = t->pool_len[s->text];
        memcpy(e.text, t->pool[s->text], e.len);
        if (n < k)
            out[n++] = e;
        else if (cmp_entry(&e, &out[k - 1]) < 0)
            out[k - 1] = e;
        else
            continue;
        for (size_t j = n - 1; j > 0 && cmp_entry(&out[j], &out[j - 1]) < 0;
             j--) {
            struct wn__topline_entry tmp = out[j];
            out[j] = out[j - 1];
            out[j - 1] = tmp;
        }
    }
    return n;
}
