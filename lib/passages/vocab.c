/*
 * vocab.c - prefix-free byte codes for tokens, so that libdivsufsort, which
 * sorts bytes, sorts token sequences (see the code table in passages.h).
 *
 * Ids are given in order of first occurrence. Frequent words occur early,
 * so they get the 1- and 2-byte codes: on English news and books the coded
 * corpus is 1.7 bytes per token, about 0.3 bytes per input byte, against
 * 0.9 for the normalized text itself. That is what makes suffix sorting
 * fast and small here: its time and memory follow the bytes it sorts.
 *
 * The table is open addressing with linear probing; a slot keeps the high
 * 32 bits of the token's 64-bit hash beside its id, so that a probe
 * compares bytes only when those agree. Load stays at or below 1/2.
 * Invariant: str_off[0, n] are the offsets of the n tokens in str, so the
 * bytes of id i are str[str_off[i], str_off[i + 1]).
 *
 * Memory is capped (max_bytes). When inserting would pass the cap, the
 * vocabulary is frozen: known tokens keep their codes and new ones get a
 * 5-byte code made of about 35 bits of their hash. Exactness then holds
 * only up to hash collisions between distinct new tokens (below 2^-34 per
 * pair), and
 * wn_vocab.hashed says how many occurrences were coded that way.
 */
#include "passages/passages.h"
#include "sketch/sketch.h"

#define INITIAL_SLOTS 4096u
#define DIGIT         UINT64_C(255) /* values of a byte after the first */
#define IDS_1         UINT64_C(128)
#define IDS_2         (64 * DIGIT)
#define IDS_3         (32 * DIGIT * DIGIT)
#define IDS_4         (16 * DIGIT * DIGIT * DIGIT)
#define IDS_MAX       (IDS_1 + IDS_2 + IDS_3 + IDS_4)

void wn__vocab_init(struct wn_vocab *v, size_t max_bytes, uint64_t seed)
{
    memset(v, 0, sizeof(*v));
    v->max_bytes = max_bytes;
    v->seed = seed;
}

void wn__vocab_release(struct wn_vocab *v)
{
    wn__free(v->slot);
    wn__free(v->str_off);
    wn__buf_release(&v->str);
    memset(v, 0, sizeof(*v));
}

size_t wn__vocab_bytes(const struct wn_vocab *v)
{
    size_t slots = v->slot ? v->mask + 1 : 0;
    return (slots + v->off_cap) * sizeof(uint64_t) + v->str.cap;
}

/* Write id as `digits` base-255 digits (0x00-0xFE) after the lead. */
static void put_digits(uint64_t id, unsigned digits, unsigned char *out)
{
    for (unsigned i = digits; i > 0; i--) {
        out[i - 1] = (unsigned char)(id % DIGIT);
        id /= DIGIT;
    }
}

static unsigned put_code(uint64_t id, unsigned char *out)
{
    if (id < IDS_1) {
        out[0] = (unsigned char)id;
        return 1;
    }
    id -= IDS_1;
    if (id < IDS_2) {
        out[0] = (unsigned char)(0x80 | id / DIGIT);
        put_digits(id, 1, out + 1);
        return 2;
    }
    id -= IDS_2;
    if (id < IDS_3) {
        out[0] = (unsigned char)(0xC0 | id / (DIGIT * DIGIT));
        put_digits(id, 2, out + 1);
        return 3;
    }
    id -= IDS_3;
    out[0] = (unsigned char)(0xE0 | id / (DIGIT * DIGIT * DIGIT));
    put_digits(id, 3, out + 1);
    return 4;
}

static unsigned put_hashed(uint64_t h, unsigned char *out)
{
    out[0] = (unsigned char)(0xF0 | (h >> 61));
    put_digits(h & 0xFFFFFFFFu, 4, out + 1); /* 255^4 > 2^31 values */
    return 5;
}

/* Double the table; every entry moves by its stored hash bits. */
static int grow_table(struct wn_vocab *v)
{
    size_t slots = v->slot ? 2 * (v->mask + 1) : INITIAL_SLOTS;
    uint64_t *t = wn__calloc(slots, sizeof(*t));
    if (!t)
        return WN_ENOMEM;
    if (v->slot) {
        /* The slot index came from the low bits of the hash, which the slot
         * does not keep: rehash the token bytes. */
        for (size_t i = 0; i <= v->mask; i++) {
            uint64_t e = v->slot[i];
            if (!e)
                continue;
            uint64_t id = (e & 0xFFFFFFFFu) - 1;
            const char *s = v->str.data + v->str_off[id];
            size_t len = (size_t)(v->str_off[id + 1] - v->str_off[id]);
            uint64_t h = wn__hash64(s, len, v->seed);
            size_t j = (size_t)h & (slots - 1);
            while (t[j])
                j = (j + 1) & (slots - 1);
            t[j] = e;
        }
    }
    wn__free(v->slot);
    v->slot = t;
    v->mask = slots - 1;
    return WN_OK;
}

int wn__vocab_code(struct wn_vocab *v, const char *s, size_t len,
                   unsigned char *out)
{
    uint64_t h = wn__hash64(s, len, v->seed);
    uint64_t tag = h >> 32 << 32;
    if (v->slot) {
        for (size_t j = (size_t)h & v->mask;; j = (j + 1) & v->mask) {
            uint64_t e = v->slot[j];
            if (!e)
                break;
            if ((e & ~UINT64_C(0xFFFFFFFF)) != tag)
                continue;
            uint64_t id = (e & 0xFFFFFFFFu) - 1;
            if (v->str_off[id + 1] - v->str_off[id] == len &&
                memcmp(v->str.data + v->str_off[id], s, len) == 0)
                return (int)put_code(id, out);
        }
    }
    if (!v->full) {
        /* What the vocabulary would hold after this insertion: buffers
         * grow by doubling (wn__grow), to at most twice what they need. */
        size_t slots = v->slot ? v->mask + 1 : 0;
        size_t table = (v->n + 1) * 2 > slots ? 2 * WN_MAX(slots, 2048) : slots;
        size_t offs = v->n + 2 > v->off_cap ? 2 * (v->n + 2) : v->off_cap;
        size_t str =
            v->str.len + len > v->str.cap ? 2 * (v->str.len + len) : v->str.cap;
        size_t need =
            (table + WN_MAX(offs, 16)) * sizeof(uint64_t) + WN_MAX(str, 16);
        if (v->n + 1 >= IDS_MAX || v->n + 1 >= UINT32_MAX - 1 ||
            need > v->max_bytes)
            v->full = true;
    }
    if (v->full) {
        v->hashed++;
        return (int)put_hashed(h, out);
    }
    if ((v->n + 1) * 2 > (v->slot ? v->mask + 1 : 0) && grow_table(v))
        return WN_ENOMEM;
    if (WN_GROW(v->str_off, v->off_cap, v->n + 2))
        return WN_ENOMEM;
    if (v->n == 0)
        v->str_off[0] = 0;
    if (wn__buf_append(&v->str, s, len))
        return WN_ENOMEM;
    uint64_t id = v->n++;
    v->str_off[id + 1] = v->str.len;
    size_t j = (size_t)h & v->mask;
    while (v->slot[j])
        j = (j + 1) & v->mask;
    v->slot[j] = tag | (id + 1);
    return (int)put_code(id, out);
}
