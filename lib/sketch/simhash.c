/*
 * simhash.c - 64-bit SimHash fingerprints and the block-permuted table keys
 * that find fingerprints within a small Hamming distance.
 *
 * SimHash (Charikar 2002, "Similarity estimation techniques from rounding
 * algorithms"): every shingle hash votes +1 or -1 on each of the 64 bits and
 * the fingerprint keeps the sign of each sum, so the Hamming distance of two
 * fingerprints tracks the angle between their shingle vectors. The votes are
 * counted eight bits at a time: a table spreads a byte into eight one-byte
 * counters of a uint64, so a shingle costs eight lookups and adds instead of
 * 64 shifts, and the byte counters are flushed every 255 shingles before
 * they can overflow. O(n) with a small constant, no allocation.
 *
 * Keys (Manku, Jain, Das Sarma 2007, "Detecting near-duplicates for web
 * crawling"): with the fingerprint cut into k + m blocks, a pair within
 * Hamming distance k agrees on at least m whole blocks, so one table per
 * choice of m blocks, keyed by those blocks, finds every such pair.
 * C(k+m, m) keys per fingerprint.
 */
#include "sketch/sketch.h"

#include <assert.h>

/* The eight bits of byte b spread into the low bit of eight bytes. */
#define SPREAD(b)                                                              \
    ((uint64_t)((b)&1) | (uint64_t)((b) >> 1 & 1) << 8 |                       \
     (uint64_t)((b) >> 2 & 1) << 16 | (uint64_t)((b) >> 3 & 1) << 24 |         \
     (uint64_t)((b) >> 4 & 1) << 32 | (uint64_t)((b) >> 5 & 1) << 40 |         \
     (uint64_t)((b) >> 6 & 1) << 48 | (uint64_t)((b) >> 7 & 1) << 56)
#define SPREAD4(b) SPREAD(b), SPREAD((b) + 1), SPREAD((b) + 2), SPREAD((b) + 3)
#define SPREAD16(b)                                                            \
    SPREAD4(b), SPREAD4((b) + 4), SPREAD4((b) + 8), SPREAD4((b) + 12)
#define SPREAD64(b)                                                            \
    SPREAD16(b), SPREAD16((b) + 16), SPREAD16((b) + 32), SPREAD16((b) + 48)

static const uint64_t spread[256] = {SPREAD64(0), SPREAD64(64), SPREAD64(128),
                                     SPREAD64(192)};

/* Shingles per flush: a one-byte counter holds at most 255 votes. */
#define FLUSH_EVERY 255

uint64_t wn__simhash64(const uint64_t *h, size_t n)
{
    uint32_t ones[64] = {0};

    wn__simhash_add(h, n, ones);
    return wn__simhash_fp(ones, n);
}

void wn__simhash_add(const uint64_t *h, size_t n, uint32_t ones[64])
{
    for (size_t i = 0; i < n;) {
        size_t m = WN_MIN(n - i, (size_t)FLUSH_EVERY);
        /* acc[byte] holds, in its byte `bit`, the count of bit
         * 8 * byte + bit among the shingles of this round. */
        uint64_t acc[8] = {0};
        for (size_t j = i; j < i + m; j++) {
            uint64_t x = h[j];
            for (int byte = 0; byte < 8; byte++)
                acc[byte] += spread[(x >> (8 * byte)) & 0xFF];
        }
        for (int byte = 0; byte < 8; byte++) {
            for (int bit = 0; bit < 8; bit++)
                ones[8 * byte + bit] += (acc[byte] >> (8 * bit)) & 0xFF;
        }
        i += m;
    }
}

uint64_t wn__simhash_fp(const uint32_t ones[64], uint64_t n)
{
    uint64_t fp = 0;
    for (int bit = 0; bit < 64; bit++) {
        /* Strict majority of ones: votes for 1 outnumber votes for 0. */
        if (2 * (uint64_t)ones[bit] > n)
            fp |= 1ULL << bit;
    }
    return fp;
}

/* The most keys wn__simhash_keys makes for one fingerprint. */
#define MAX_KEYS (1U << 20)

/* C(n, r), or MAX_KEYS + 1 when it exceeds MAX_KEYS. */
static uint64_t choose(unsigned n, unsigned r)
{
    uint64_t c = 1;

    /* C(n, r) = C(n, n - r); with r <= n / 2 the partial products only
     * grow, so stopping at the cap is safe. */
    if (r > n - r)
        r = n - r;
    for (unsigned i = 0; i < r; i++) {
        /* C(n, i+1) = C(n, i) (n - i) / (i + 1), exact at every step. */
        c = c * (n - i) / (i + 1);
        if (c > MAX_KEYS)
            return MAX_KEYS + 1;
    }
    return c;
}

unsigned wn__simhash_keys(uint64_t fp, unsigned k, unsigned m, uint64_t *keys,
                          unsigned cap)
{
    unsigned nblocks = k + m;

    if (m == 0 || nblocks > 64)
        return 0;
    uint64_t count = choose(nblocks, m);
    if (count > MAX_KEYS)
        return 0;

    /* Block t covers bits [off[t], off[t] + width); widths differ by at most
     * one bit. */
    uint64_t mask[64] = {0};
    unsigned width = 64 / nblocks, extra = 64 % nblocks, off = 0;
    for (unsigned t = 0; t < nblocks; t++) {
        unsigned w = width + (t < extra);
        assert(off < 64 && off + w <= 64); /* the widths sum to 64 */
        mask[t] = (w >= 64 ? ~0ULL : ((1ULL << w) - 1)) << (off & 63);
        off += w;
    }

    /* Enumerate m-subsets of the blocks in lexicographic order. */
    unsigned idx[64] = {0};
    for (unsigned j = 0; j < m; j++)
        idx[j] = j;
    for (unsigned table = 0; table < count; table++) {
        if (table < cap) {
            uint64_t chosen = 0;
            for (unsigned j = 0; j < m; j++)
                chosen |= fp & mask[idx[j]];
            unsigned char le[8];
            wn__put_le64(le, chosen);
            /* Seeding with the table index keeps equal bits in different
             * tables apart. */
            keys[table] = wn__hash64(le, sizeof(le), table);
        }
        /* Next subset: bump the rightmost index that can move. */
        unsigned j = m;
        while (j > 0 && idx[j - 1] == nblocks - m + (j - 1))
            j--;
        if (j == 0)
            break;
        idx[j - 1]++;
        for (unsigned l = j; l < m; l++)
            idx[l] = idx[l - 1] + 1;
    }
    return (unsigned)count;
}
