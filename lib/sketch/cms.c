/*
 * cms.c - count-min sketch with saturating 16-bit counters (see cms.h).
 * Row i's index of a hash h is the splitmix64 finalizer of h plus i times
 * the golden-ratio increment, masked: independent enough for a sketch whose
 * inputs are already XXH3 hashes. O(depth) per add or count.
 */
#include "sketch/cms.h"

#include <assert.h>

#include "sketch/sketch.h"

static const unsigned char magic[8] = {'W', 'N', 'C', 'M', 'S', 0, 0, 1};
#define HEADER 24U

int wn__cms_init(struct wn_cms *s, unsigned log2_width, unsigned depth)
{
    assert(s != NULL);
    if (depth == 0 || depth > WN_CMS_MAX_DEPTH || log2_width == 0 ||
        log2_width > WN_CMS_MAX_LOG2_WIDTH)
        return WN_EINVAL;
    uint16_t *c = wn__calloc((size_t)depth << log2_width, sizeof(*c));
    if (c == NULL)
        return WN_ENOMEM;
    s->c = c;
    s->log2_width = log2_width;
    s->depth = depth;
    s->adds = 0;
    return WN_OK;
}

void wn__cms_release(struct wn_cms *s)
{
    if (s == NULL)
        return;
    wn__free(s->c);
    s->c = NULL;
}

static size_t cell(const struct wn_cms *s, unsigned row, uint64_t h)
{
    uint64_t mask = ((uint64_t)1 << s->log2_width) - 1;
    uint64_t x = wn__mix64(h + (uint64_t)(row + 1) * 0x9E3779B97F4A7C15ULL);
    return ((size_t)row << s->log2_width) + (size_t)(x & mask);
}

void wn__cms_add(struct wn_cms *s, uint64_t h)
{
    assert(s != NULL && s->c != NULL);
    for (unsigned r = 0; r < s->depth; r++) {
        uint16_t *p = &s->c[cell(s, r, h)];
        if (*p != UINT16_MAX)
            (*p)++;
    }
    s->adds++;
}

/* Cells per round of wn__cms_add_many: their indices are computed and
 * their cache lines prefetched before any is incremented. */
#define ADD_ROUND 64U

void wn__cms_add_many(struct wn_cms *s, const uint64_t *h, size_t n)
{
    assert(s != NULL && s->c != NULL && (h != NULL || n == 0));
    size_t at[ADD_ROUND * WN_CMS_MAX_DEPTH];
    for (size_t i = 0; i < n; i += ADD_ROUND) {
        size_t m = WN_MIN(n - i, (size_t)ADD_ROUND), k = 0;
        for (size_t j = 0; j < m; j++)
            for (unsigned r = 0; r < s->depth; r++) {
                at[k] = cell(s, r, h[i + j]);
                __builtin_prefetch(&s->c[at[k]], 1);
                k++;
            }
        /* Saturating increments commute: the order of the cells does not
         * change the table. */
        for (size_t j = 0; j < k; j++) {
            /* at[0..k) was written above. */
            /* cppcheck-suppress uninitvar */
            uint16_t *p = &s->c[at[j]];
            *p = (uint16_t)(*p + (*p != UINT16_MAX));
        }
        s->adds += m;
    }
}

uint32_t wn__cms_count(const struct wn_cms *s, uint64_t h)
{
    assert(s != NULL && s->c != NULL);
    uint32_t m = UINT16_MAX;
    for (unsigned r = 0; r < s->depth; r++) {
        uint16_t v = s->c[cell(s, r, h)];
        if (v < m)
            m = v;
    }
    return m;
}

int wn__cms_merge(struct wn_cms *dst, const struct wn_cms *src)
{
    assert(dst != NULL && src != NULL);
    if (dst->log2_width != src->log2_width || dst->depth != src->depth)
        return WN_EINVAL;
    size_t n = (size_t)dst->depth << dst->log2_width;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = (uint32_t)dst->c[i] + src->c[i];
        dst->c[i] = v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
    }
    dst->adds += src->adds;
    return WN_OK;
}

size_t wn__cms_saved_size(const struct wn_cms *s)
{
    assert(s != NULL);
    return HEADER + ((size_t)s->depth << s->log2_width) * 2;
}

void wn__cms_save(const struct wn_cms *s, unsigned char *buf)
{
    assert(s != NULL && buf != NULL);
    memcpy(buf, magic, sizeof(magic));
    memset(buf + 8, 0, 8);
    buf[8] = (unsigned char)s->log2_width;
    buf[9] = (unsigned char)s->depth;
    wn__put_le64(buf + 16, s->adds);
    size_t n = (size_t)s->depth << s->log2_width;
    unsigned char *p = buf + HEADER;
    for (size_t i = 0; i < n; i++) {
        p[2 * i] = (unsigned char)(s->c[i] & 0xFF);
        p[2 * i + 1] = (unsigned char)(s->c[i] >> 8);
    }
}

int wn__cms_load(struct wn_cms *s, const unsigned char *buf, size_t len)
{
    assert(s != NULL && (buf != NULL || len == 0));
    if (len < HEADER || memcmp(buf, magic, sizeof(magic)) != 0)
        return WN_EFORMAT;
    for (int i = 10; i < 16; i++)
        if (buf[i] != 0)
            return WN_EFORMAT;
    unsigned lw = buf[8], depth = buf[9];
    if (depth == 0 || depth > WN_CMS_MAX_DEPTH || lw == 0 ||
        lw > WN_CMS_MAX_LOG2_WIDTH)
        return WN_EFORMAT;
    size_t n = (size_t)depth << lw;
    if (len != HEADER + n * 2)
        return WN_EFORMAT;
    struct wn_cms t;
    int rc = wn__cms_init(&t, lw, depth);
    if (rc != WN_OK)
        return rc;
    const unsigned char *p = buf + HEADER;
    for (size_t i = 0; i < n; i++)
        t.c[i] = (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8));
    t.adds = wn__get_le64(buf + 16);
    *s = t;
    return WN_OK;
}
