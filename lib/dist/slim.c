/*
 * slim.c - a sketch's slim form, what a rank sends rank 0 (see slim.h).
 */
#include "dist/slim.h"
#include "dist/wire.h"

#include <assert.h>

_Static_assert(WN_SLIM_HEAD == 16, "magic, format and id");

/*
 * What a sketch sends rank 0: its slim form. sketcher.c's encoding
 * (wn_sketch_encode) is a header of SKETCH_HEAD bytes (magic, format, the
 * sketcher's id, the le32 length at SKETCH_LEN_AT, le32 flags at
 * SKETCH_FLAGS_AT), then sections (a le32 tag, a le32 length, the bytes)
 * that the decoder takes in any order. A rank keeps the band keys
 * (SEC_KEYS: rank 0 gets them only through the join), the core's exact
 * hash (the exact stage runs across the ranks: exact.h) and, when the
 * records are verified at their owners (verifies_at_owners), the
 * signature and the figures (SEC_VERIFY, SEC_FIGS: verdicts.c) and the
 * rule's lead words and anchors (SEC_LEAD, SEC_ANCH: the rule's joins run
 * across the ranks, rulejoin.c). What goes is
 *
 *   1 byte       the header's flags (empty text)
 *   3 varints    the core's token, repair and shingle counts (wire.h)
 *   sections     those not kept (--verify exact: signature, figures, lead
 *                words, anchors, shingle set), as encoded
 *
 * about 6 bytes at the defaults against 52 for the header and core.
 * Rank 0 rebuilds the encoding before decoding (wn__slim_thicken): the header
 * from one of its own (wn__slim_head; every rank runs one sketcher:
 * dist.c's units_share checks), the hash as zeros, the kept
 * sections as zeros (no anchors), so its job's stages work unchanged; its
 * job reads none of these for another rank's document
 * (wn_dedup_source.remote_sketches, .exact, .join).
 */
#define SKETCH_HEAD     24u
#define SKETCH_LEN_AT   16u
#define SKETCH_FLAGS_AT 20u
#define SEC_HEAD        8u
enum {
    SEC_CORE = 1,
    SEC_KEYS = 2,
    SEC_VERIFY = 3,
    SEC_FIGS = 5,
    SEC_LEAD = 6,
    SEC_ANCH = 7
};
/* The core: the 128-bit exact hash, le64 tokens, le64 repairs, le32
 * shingles. */
#define CORE_BYTES 36u
#define CORE_HASH  16u

static bool dropped(const struct wn_sketcher *sk, uint32_t tag)
{
    return tag == SEC_CORE || tag == SEC_KEYS ||
           (wn__dist_verifies_at_owners(sk) &&
            (tag == SEC_VERIFY || tag == SEC_FIGS || tag == SEC_LEAD ||
             tag == SEC_ANCH));
}

int wn__slim_thin(const struct wn_sketcher *sk, const uint8_t *b, size_t len,
                  struct wn_buf *out)
{
    out->len = 0;
    if (len < SKETCH_HEAD)
        return WN_EFORMAT;
    uint8_t head[1 + 3 * 10];
    uint32_t flags = wn__get_le32(b + SKETCH_FLAGS_AT);
    if (flags > 0xff)
        return WN_EFORMAT; /* a flag the slim form has no room for */
    head[0] = (uint8_t)flags;
    size_t nh = 1;
    bool core = false;
    for (size_t at = SKETCH_HEAD; at < len;) {
        if (len - at < SEC_HEAD)
            return WN_EFORMAT;
        uint32_t tag = wn__get_le32(b + at), n = wn__get_le32(b + at + 4);
        if (n > len - at - SEC_HEAD)
            return WN_EFORMAT;
        if (tag == SEC_CORE) {
            const uint8_t *c = b + at + SEC_HEAD;
            if (n != CORE_BYTES || core)
                return WN_EFORMAT;
            core = true;
            nh += wn__varint_put(head + nh, wn__get_le64(c + CORE_HASH));
            nh += wn__varint_put(head + nh, wn__get_le64(c + CORE_HASH + 8));
            nh += wn__varint_put(head + nh, wn__get_le32(c + CORE_HASH + 16));
        }
        at += SEC_HEAD + n;
    }
    if (!core)
        return WN_EFORMAT;
    int rc = wn__buf_append(out, head, nh);
    for (size_t at = SKETCH_HEAD; !rc && at < len;) {
        uint32_t tag = wn__get_le32(b + at), n = wn__get_le32(b + at + 4);
        if (!dropped(sk, tag))
            rc = wn__buf_append(out, b + at, SEC_HEAD + n);
        at += SEC_HEAD + n;
    }
    return rc;
}

static int zero_section(struct wn_buf *out, uint32_t tag, size_t n)
{
    unsigned char h[SEC_HEAD];
    wn__put_le32(h, tag);
    wn__put_le32(h + 4, (uint32_t)n);
    int rc = wn__buf_append(out, h, sizeof(h));
    if (!rc)
        rc = wn__buf_reserve(out, out->len + n);
    if (!rc) {
        memset(out->data + out->len, 0, n);
        out->len += n;
    }
    return rc;
}

int wn__slim_head(const struct wn_sketcher *sk, struct wn_sketch *s,
                  uint8_t head[WN_SLIM_HEAD])
{
    int rc = wn_sketcher_sketch(sk, "", 0, s);
    size_t need = rc ? 0 : wn_sketch_encoded_size(s), len = 0;
    uint8_t *b = rc ? NULL : wn__malloc(need ? need : 1);
    if (!rc && !b)
        rc = WN_ENOMEM;
    if (!rc)
        rc = wn_sketch_encode(s, b, need, &len);
    if (!rc && len < SKETCH_HEAD)
        rc = WN_EFORMAT;
    if (!rc)
        memcpy(head, b, SKETCH_LEN_AT);
    wn__free(b);
    return rc;
}

int wn__slim_thicken(const struct wn_sketcher *sk,
                     const uint8_t head[WN_SLIM_HEAD], const char *b,
                     size_t len, struct wn_buf *out)
{
    const uint8_t *p = (const uint8_t *)b, *end = p + len;
    uint64_t tokens, invalid, nsh;
    if (len < 1)
        return WN_EFORMAT;
    uint8_t flags = *p++;
    if (wn__varint_get(&p, end, &tokens) || wn__varint_get(&p, end, &invalid) ||
        wn__varint_get(&p, end, &nsh) || nsh > UINT32_MAX)
        return WN_EFORMAT;
    out->len = 0;
    uint8_t h[SKETCH_HEAD];
    memcpy(h, head, SKETCH_LEN_AT);
    wn__put_le32(h + SKETCH_FLAGS_AT, flags);
    int rc = wn__buf_append(out, h, sizeof(h));
    if (!rc)
        rc = zero_section(out, SEC_CORE, CORE_BYTES);
    if (!rc) {
        unsigned char *c = (unsigned char *)out->data + out->len - CORE_BYTES;
        wn__put_le64(c + CORE_HASH, tokens);
        wn__put_le64(c + CORE_HASH + 8, invalid);
        wn__put_le32(c + CORE_HASH + 16, (uint32_t)nsh);
    }
    /* The sections sent, as they are (the decoder checks them). */
    if (!rc)
        rc = wn__buf_append(out, p, (size_t)(end - p));
    if (!rc && sk->nkeys)
        rc = zero_section(out, SEC_KEYS, (size_t)sk->nkeys * 8);
    if (!rc && wn__dist_verifies_at_owners(sk) && sk->sig_bytes)
        rc = zero_section(out, SEC_VERIFY, sk->sig_bytes);
    if (!rc && wn__dist_verifies_at_owners(sk) && sk->fig_bytes)
        rc = zero_section(out, SEC_FIGS, sk->fig_bytes);
    if (!rc && wn__dist_rule_at_owners(sk))
        rc = zero_section(out, SEC_LEAD, sk->lead_bytes);
    if (!rc && wn__dist_rule_at_owners(sk))
        rc = zero_section(out, SEC_ANCH, 0);
    if (!rc && out->len > UINT32_MAX)
        rc = WN_ETOOBIG;
    if (!rc)
        wn__put_le32((unsigned char *)out->data + SKETCH_LEN_AT,
                     (uint32_t)out->len);
    return rc;
}
