/*
 * hash128.c - the 128-bit content hash behind exact-duplicate detection:
 * XXH3-128 of the normalized token stream. At 2^-128 per pair, collisions
 * are not a practical concern even at 10^10 documents (birthday bound
 * about 10^-19). The streaming form is XXH3's own (its reset, update and
 * digest give the one-shot value, a property xxHash guarantees and
 * tests/test_sketch.c checks).
 */
#include "sketch/hash128.h"

#include <assert.h>
#include <xxhash.h>

void wn__hash128(const void *p, size_t len, uint64_t seed, uint64_t out[2])
{
    XXH128_hash_t h = XXH3_128bits_withSeed(p, len, seed);
    out[0] = h.low64;
    out[1] = h.high64;
}

/* The library's state, behind a type of ours so that xxhash.h stays in
 * lib/sketch. */
struct wn_hash128_stream {
    XXH3_state_t *st;
};

struct wn_hash128_stream *wn__hash128_begin(uint64_t seed)
{
    struct wn_hash128_stream *s = wn__malloc(sizeof(*s));
    if (!s)
        return NULL;
    s->st = XXH3_createState();
    if (!s->st || XXH3_128bits_reset_withSeed(s->st, seed) != XXH_OK) {
        XXH3_freeState(s->st);
        wn__free(s);
        return NULL;
    }
    return s;
}

void wn__hash128_update(struct wn_hash128_stream *s, const void *p, size_t len)
{
    /* Fails only for a NULL state or input pointer with len > 0. */
    XXH_errorcode e = XXH3_128bits_update(s->st, p, len);
    assert(e == XXH_OK);
    (void)e;
}

void wn__hash128_end(struct wn_hash128_stream *s, uint64_t out[2])
{
    if (!s)
        return;
    if (out) {
        XXH128_hash_t h = XXH3_128bits_digest(s->st);
        out[0] = h.low64;
        out[1] = h.high64;
    }
    XXH3_freeState(s->st);
    wn__free(s);
}
