/*
 * wire.c - the compact header of a record's entry (see wire.h).
 */
#include "dist/wire.h"

#include <assert.h>
#include <limits.h>

/* Presence bits. */
enum {
    P_KIND = 1u << 0,
    P_STATUS = 1u << 1,
    P_ERRNO = 1u << 2,
    P_ERROR_OFFSET = 1u << 3,
    P_OFFSET_AHEAD = 1u << 4, /* offset = next_offset + varint */
    P_OFFSET_ABS = 1u << 5,   /* offset = varint */
    P_LINE_AHEAD = 1u << 6,   /* line = next_line + varint */
    P_LINE_ABS = 1u << 7,     /* line = varint */
    P_RAW_LEN = 1u << 8,
    P_RAW_SENT = 1u << 9,
    P_ID_LEN = 1u << 10,
    P_TEXT_LEN = 1u << 11,
    P_SOURCE_LEN = 1u << 12,
    P_BLOB_LEN = 1u << 13,
    P_VALUE = 1u << 14,
    P_SAME_SOURCE = 1u << 15,
    P_ALL = (1u << 16) - 1,
};

size_t wn__varint_put(uint8_t *q, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        q[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    q[n++] = (uint8_t)v;
    return n;
}

static void put_varint(uint8_t **q, uint64_t v)
{
    *q += wn__varint_put(*q, v);
}

int wn__varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (*p == end)
            return WN_EFORMAT;
        uint8_t c = *(*p)++;
        /* The tenth byte holds bit 63 only. */
        if (shift == 63 && c > 1)
            return WN_EFORMAT;
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return WN_OK;
        }
    }
    return WN_EFORMAT;
}

/* A signed field (a status is a negative wn_status) as an unsigned one:
 * 0, -1, 1, -2, ... to 0, 1, 2, 3, ... */
static uint64_t zigzag(int32_t v)
{
    return v < 0 ? 2 * (uint64_t)(-(int64_t)v) - 1 : 2 * (uint64_t)v;
}

/* The offset of the line after w: past its bytes and one terminator. */
static void advance(struct wn_wire_ctx *ctx, const struct wn_wire_record *w)
{
    ctx->next_offset = w->offset + w->raw_len + 1;
    ctx->next_line = w->line + 1;
}

int wn__wire_put(struct wn_buf *b, const struct wn_wire_record *w,
                 struct wn_wire_ctx *ctx)
{
    assert(b && w && ctx);
    if (w->flags & ~(WN_WIRE_VALUE | WN_WIRE_SAME_SOURCE))
        return WN_EINVAL;
    uint32_t bits = 0;
    bits |= w->kind ? P_KIND : 0;
    bits |= w->status ? P_STATUS : 0;
    bits |= w->sys_errno ? P_ERRNO : 0;
    bits |= w->error_offset ? P_ERROR_OFFSET : 0;
    if (w->offset > ctx->next_offset)
        bits |= P_OFFSET_AHEAD;
    else if (w->offset < ctx->next_offset)
        bits |= P_OFFSET_ABS;
    if (w->line > ctx->next_line)
        bits |= P_LINE_AHEAD;
    else if (w->line < ctx->next_line)
        bits |= P_LINE_ABS;
    bits |= w->raw_len ? P_RAW_LEN : 0;
    bits |= w->raw_sent ? P_RAW_SENT : 0;
    bits |= w->id_len ? P_ID_LEN : 0;
    bits |= w->text_len ? P_TEXT_LEN : 0;
    bits |= w->source_len ? P_SOURCE_LEN : 0;
    bits |= w->blob_len ? P_BLOB_LEN : 0;
    bits |= w->flags & WN_WIRE_VALUE ? P_VALUE : 0;
    bits |= w->flags & WN_WIRE_SAME_SOURCE ? P_SAME_SOURCE : 0;
    /* 3 bytes of bits and 13 varints of at most 10. */
    uint8_t tmp[3 + 13 * 10], *q = tmp;
    put_varint(&q, bits);
    if (bits & P_KIND)
        put_varint(&q, zigzag(w->kind));
    if (bits & P_STATUS)
        put_varint(&q, zigzag(w->status));
    if (bits & P_ERRNO)
        put_varint(&q, zigzag(w->sys_errno));
    if (bits & P_ERROR_OFFSET)
        put_varint(&q, w->error_offset);
    if (bits & P_OFFSET_AHEAD)
        put_varint(&q, w->offset - ctx->next_offset);
    else if (bits & P_OFFSET_ABS)
        put_varint(&q, w->offset);
    if (bits & P_LINE_AHEAD)
        put_varint(&q, w->line - ctx->next_line);
    else if (bits & P_LINE_ABS)
        put_varint(&q, w->line);
    if (bits & P_RAW_LEN)
        put_varint(&q, w->raw_len);
    if (bits & P_RAW_SENT)
        put_varint(&q, w->raw_sent);
    if (bits & P_ID_LEN)
        put_varint(&q, w->id_len);
    if (bits & P_TEXT_LEN)
        put_varint(&q, w->text_len);
    if (bits & P_SOURCE_LEN)
        put_varint(&q, w->source_len);
    if (bits & P_BLOB_LEN)
        put_varint(&q, w->blob_len);
    assert((size_t)(q - tmp) <= WN_WIRE_HEAD_MAX);
    advance(ctx, w);
    return wn__buf_append(b, tmp, (size_t)(q - tmp));
}

/* A zigzag varint into an int32. */
static int get_int(const uint8_t **p, const uint8_t *end, int32_t *v)
{
    uint64_t x;
    int rc = wn__varint_get(p, end, &x);
    if (!rc && x > UINT32_MAX)
        rc = WN_EFORMAT;
    if (!rc)
        *v = x & 1 ? (int32_t)(-(int64_t)((x + 1) / 2)) : (int32_t)(x / 2);
    return rc;
}

int wn__wire_get(const uint8_t *p, size_t n, struct wn_wire_record *w,
                 struct wn_wire_ctx *ctx, size_t *used)
{
    assert(p || n == 0);
    assert(w && ctx && used);
    const uint8_t *q = p, *end = p + n;
    uint64_t bits;
    memset(w, 0, sizeof(*w));
    int rc = wn__varint_get(&q, end, &bits);
    if (!rc && ((bits & ~(uint64_t)P_ALL) ||
                ((bits & P_OFFSET_AHEAD) && (bits & P_OFFSET_ABS)) ||
                ((bits & P_LINE_AHEAD) && (bits & P_LINE_ABS))))
        rc = WN_EFORMAT;
    if (!rc && (bits & P_KIND))
        rc = get_int(&q, end, &w->kind);
    if (!rc && (bits & P_STATUS))
        rc = get_int(&q, end, &w->status);
    if (!rc && (bits & P_ERRNO))
        rc = get_int(&q, end, &w->sys_errno);
    if (!rc && (bits & P_ERROR_OFFSET))
        rc = wn__varint_get(&q, end, &w->error_offset);
    w->offset = ctx->next_offset;
    uint64_t d = 0;
    if (!rc && (bits & (P_OFFSET_AHEAD | P_OFFSET_ABS)))
        rc = wn__varint_get(&q, end, &d);
    if (!rc && (bits & P_OFFSET_AHEAD)) {
        if (d > UINT64_MAX - ctx->next_offset)
            rc = WN_EFORMAT;
        w->offset += d;
    } else if (!rc && (bits & P_OFFSET_ABS)) {
        w->offset = d;
    }
    w->line = ctx->next_line;
    d = 0;
    if (!rc && (bits & (P_LINE_AHEAD | P_LINE_ABS)))
        rc = wn__varint_get(&q, end, &d);
    if (!rc && (bits & P_LINE_AHEAD)) {
        if (d > UINT64_MAX - ctx->next_line)
            rc = WN_EFORMAT;
        w->line += d;
    } else if (!rc && (bits & P_LINE_ABS)) {
        w->line = d;
    }
    if (!rc && (bits & P_RAW_LEN))
        rc = wn__varint_get(&q, end, &w->raw_len);
    if (!rc && (bits & P_RAW_SENT))
        rc = wn__varint_get(&q, end, &w->raw_sent);
    if (!rc && (bits & P_ID_LEN))
        rc = wn__varint_get(&q, end, &w->id_len);
    if (!rc && (bits & P_TEXT_LEN))
        rc = wn__varint_get(&q, end, &w->text_len);
    if (!rc && (bits & P_SOURCE_LEN))
        rc = wn__varint_get(&q, end, &w->source_len);
    if (!rc && (bits & P_BLOB_LEN))
        rc = wn__varint_get(&q, end, &w->blob_len);
    if (rc)
        return rc;
    w->flags = (bits & P_VALUE ? WN_WIRE_VALUE : 0) |
               (bits & P_SAME_SOURCE ? WN_WIRE_SAME_SOURCE : 0);
    advance(ctx, w);
    *used = (size_t)(q - p);
    return WN_OK;
}
