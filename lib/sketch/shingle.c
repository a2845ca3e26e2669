/*
 * shingle.c - shingle hashes of a token list, and exact set measures on
 * sorted hash arrays (the ground truth that MinHash estimates).
 *
 * A shingle is a run of n consecutive tokens (Broder 1997, "On the
 * resemblance and containment of documents"). Each token is hashed once
 * with XXH3-64; an n-gram's hash folds its token hashes in order through a
 * multiply-xor chain and one final avalanche, so the whole pass costs one
 * XXH3 call per token plus n multiplies per shingle: O(tokens * n), no
 * allocation beyond the output array. The token hashes are written into the
 * output array first and folded in place: shingle i reads slots i..i+n-1 and
 * writes slot i, which no later shingle reads.
 *
 * Invariant: the hash of a token sequence depends on the sequence and the
 * seed only (not on n or the position), so equal n-grams collide wherever
 * they are and a short text's single shingle equals the n-gram of its tokens.
 * That is also what lets a large text be shingled in pieces
 * (wn__shingles_piece): the last n - 1 token hashes of a piece are carried
 * into the next, and the windows come out as from one pass.
 */
#include "sketch/sketch.h"
#include "sketch/scan_impl.h"

#include <assert.h>

#define XXH_INLINE_ALL
/* Inlined so that the per-token calls specialize on short lengths. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#define FOLD_MUL WN_FOLD_MUL

uint64_t wn__hash64(const void *p, size_t len, uint64_t seed)
{
    return XXH3_64bits_withSeed(p, len, seed);
}

/* Values per chunk of wn__hash_u32s: 256 bytes, one stack buffer. */
#define U32_CHUNK 64

uint64_t wn__hash_u32s(const uint32_t *v, size_t n, uint64_t seed)
{
    uint64_t h = seed;
    size_t i = 0;

    do {
        size_t m = WN_MIN(n - i, (size_t)U32_CHUNK);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* The in-memory bytes are already the defined little-endian ones. */
        h = XXH3_64bits_withSeed(v + i, m * sizeof(*v), h);
#else
        unsigned char buf[U32_CHUNK * 4];
        for (size_t j = 0; j < m; j++)
            wn__put_le32(buf + 4 * j, v[i + j]);
        h = XXH3_64bits_withSeed(buf, m * 4, h);
#endif
        i += m;
    } while (i < n);
    return h;
}

/*
 * The hash of one normalized token. Tokens of at most 16 bytes (nearly all
 * words) are read as two masked little-endian 8-byte words and combined
 * with one 64x64->128-bit multiply whose halves are xored (the "mum" step
 * of wyhash and XXH3's mid-size path), then mixed. XXH3 itself dispatches on
 * length classes, and with word lengths varying at random those branches
 * mispredicted so often that they were half the shingling time
 * (bench/bench_sketch: shingles/s before and after). Normalized tokens hold
 * no NUL byte, so the zero padding cannot make two tokens of different
 * lengths equal. The 16-byte loads stay inside the tokens' buffer
 * (norm_cap); bytes past the token are masked off. Longer tokens, tokens too
 * near the end of the buffer and big-endian machines use XXH3.
 */
/* The bytes of a token of 0..16 bytes in its first and second 8-byte word. */
#define B1 0xFFULL
#define B2 0xFFFFULL
#define B3 0xFFFFFFULL
#define B4 0xFFFFFFFFULL
#define B5 0xFFFFFFFFFFULL
#define B6 0xFFFFFFFFFFFFULL
#define B7 0xFFFFFFFFFFFFFFULL
#define B8 0xFFFFFFFFFFFFFFFFULL
static const uint64_t token_mask[17][2] = {
    {0, 0},   {B1, 0},  {B2, 0},  {B3, 0},  {B4, 0},  {B5, 0},
    {B6, 0},  {B7, 0},  {B8, 0},  {B8, B1}, {B8, B2}, {B8, B3},
    {B8, B4}, {B8, B5}, {B8, B6}, {B8, B7}, {B8, B8}};
#undef B1
#undef B2
#undef B3
#undef B4
#undef B5
#undef B6
#undef B7
#undef B8

static inline uint64_t token_hash(const struct wn_tokens *t,
                                  const struct wn_token *tk, uint64_t seed,
                                  uint64_t s1, uint64_t s2)
{
    const char *p = t->norm + tk->norm_off;
    size_t len = tk->norm_len;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&    \
    defined(__SIZEOF_INT128__)
    if (len <= 16 && (size_t)tk->norm_off + 16 <= t->norm_cap) {
        uint64_t lo, hi;
        memcpy(&lo, p, 8);
        memcpy(&hi, p + 8, 8);
        /* The masks from a table: computed, they became branches on the
         * length (a misprediction on about every other token). */
        lo &= token_mask[len][0];
        hi &= token_mask[len][1];
        unsigned __int128 m = (unsigned __int128)(lo ^ s1) * (hi ^ s2);
        return wn__mix64((uint64_t)m ^ (uint64_t)(m >> 64));
    }
#else
    (void)s1;
    (void)s2;
#endif
    return XXH3_64bits_withSeed(p, len, seed);
}

/* Fold the hashes of count consecutive tokens into one shingle hash. */
static inline uint64_t fold(const uint64_t *th, size_t count, uint64_t seed)
{
    uint64_t acc = seed;

    /* Each step is a bijection of the token hash for a fixed prefix, and the
     * multiply carries the prefix into the next step, so order matters. */
    for (size_t j = 0; j < count; j++)
        acc = (acc ^ th[j]) * FOLD_MUL;
    return wn__mix64(acc ^ count);
}

/* The hashes of t's tokens into h[0 .. t->n). */
static void token_hashes(const struct wn_tokens *t, uint64_t seed, uint64_t *h)
{
    uint64_t s1 = wn__mix64(seed ^ 0x544F4B454E2D4C4FULL);
    uint64_t s2 = wn__mix64(seed ^ 0x544F4B454E2D4849ULL);
    for (size_t i = 0; i < t->n; i++)
        h[i] = token_hash(t, &t->tok[i], seed, s1, s2);
}

/* The fold starts from a value derived from the seed, not the seed
 * itself, so that token and shingle hashes are unrelated. */
static inline uint64_t fold_seed(uint64_t seed)
{
    return wn__mix64(seed ^ 0x5348494E474C4531ULL);
}

/* Shingle i of count from the token hashes h[i .. i + ngram), in place. */
static void fold_all(uint64_t *h, size_t count, unsigned ngram, uint64_t fseed,
                     bool simd)
{
    size_t i = 0;
#ifdef WN_HAVE_SCAN_AVX512
    /* Whole vectors of 8 shingles, the same bits (scan_avx512.c). */
    if (simd && wn__scan_avx512())
        i = wn__fold_avx512(h, count, ngram, fseed);
#else
    (void)simd;
#endif
    for (; i < count; i++)
        h[i] = fold(h + i, ngram, fseed);
}

int wn__shingles_variant(const struct wn_tokens *t, unsigned ngram,
                         uint64_t seed, uint64_t **out, size_t *n, size_t *cap,
                         bool simd)
{
    size_t ntok = t->n;

    if (ngram == 0)
        return WN_EINVAL;
    if (ntok == 0) {
        *n = 0;
        return WN_OK;
    }
    uint64_t *h = *out;
    size_t hcap = *cap;
    if (WN_GROW(h, hcap, ntok) != WN_OK)
        return WN_ENOMEM;
    *out = h;
    *cap = hcap;

    token_hashes(t, seed, h);
    uint64_t fseed = fold_seed(seed);
    size_t count;
    if (ntok < ngram) {
        h[0] = fold(h, ntok, fseed);
        count = 1;
    } else {
        count = ntok - ngram + 1;
        fold_all(h, count, ngram, fseed, simd);
    }
    *n = count;
    return WN_OK;
}

void wn__shingle_carry_init(struct wn_shingle_carry *c)
{
    c->n = 0;
    c->seen = 0;
}

int wn__shingles_piece(const struct wn_tokens *t, unsigned ngram, uint64_t seed,
                       struct wn_shingle_carry *c, uint64_t **out, size_t *n,
                       size_t *cap)
{
    if (ngram == 0 || ngram > WN_SHINGLE_CARRY_MAX + 1)
        return WN_EINVAL;
    assert(c->n < ngram && c->n == WN_MIN(c->seen, (uint64_t)ngram - 1));
    /* The carried hashes, then this piece's token hashes, folded in place
     * as wn__shingles folds one text's. */
    size_t total = c->n + t->n;
    uint64_t *h = *out;
    size_t hcap = *cap;
    if (WN_GROW(h, hcap, total ? total : 1) != WN_OK)
        return WN_ENOMEM;
    *out = h;
    *cap = hcap;
    memcpy(h, c->h, c->n * sizeof(*h));
    token_hashes(t, seed, h + c->n);
    c->seen += t->n;
    size_t keep = WN_MIN(total, (size_t)ngram - 1);
    if (total < ngram) {
        memcpy(c->h, h, total * sizeof(*h));
        c->n = total;
        *n = 0;
        return WN_OK;
    }
    /* Window i writes slot i < count: the last ngram - 1 slots, the next
     * piece's carry, are read but never written. */
    size_t count = total - ngram + 1;
    fold_all(h, count, ngram, fold_seed(seed), wn__scan_avx512());
    memcpy(c->h, h + count, keep * sizeof(*h));
    c->n = keep;
    *n = count;
    return WN_OK;
}

int wn__shingles_last(const struct wn_shingle_carry *c, unsigned ngram,
                      uint64_t seed, uint64_t *last)
{
    /* Only a text of fewer than ngram tokens, all of them carried, has
     * the one shingle of wn__shingles' short case. */
    if (c->seen == 0 || c->seen >= ngram)
        return 0;
    assert(c->n == c->seen);
    *last = fold(c->h, c->n, fold_seed(seed));
    return 1;
}

int wn__shingles(const struct wn_tokens *t, unsigned ngram, uint64_t seed,
                 uint64_t **out, size_t *n, size_t *cap)
{
    return wn__shingles_variant(t, ngram, seed, out, n, cap, wn__scan_avx512());
}

/* ------------------------------------------------------------------------ */
/* Sorting: introsort (quicksort, heapsort past a depth limit, insertion sort
 * for short ranges), in place and O(n log n) in the worst case.             */
/* ------------------------------------------------------------------------ */

static void insertion_sort(uint64_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static void sift_down(uint64_t *v, size_t root, size_t n)
{
    uint64_t x = v[root];

    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            break;
        if (child + 1 < n && v[child + 1] > v[child])
            child++;
        if (v[child] <= x)
            break;
        v[root] = v[child];
        root = child;
    }
    v[root] = x;
}

static void heap_sort(uint64_t *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(v, i, n);
    for (size_t end = n; end-- > 1;) {
        uint64_t x = v[0];
        v[0] = v[end];
        v[end] = x;
        sift_down(v, 0, end);
    }
}

static inline void swap_u64(uint64_t *a, uint64_t *b)
{
    uint64_t x = *a;
    *a = *b;
    *b = x;
}

static void intro_sort(uint64_t *v, size_t n, unsigned depth)
{
    /* Recurse into the smaller part and loop on the larger one, so the stack
     * stays O(log n) even before the depth limit switches to heapsort. */
    while (n > 16) {
        if (depth-- == 0) {
            heap_sort(v, n);
            return;
        }
        /* Median of three, moved to v[0] as the pivot. */
        size_t mid = n / 2;
        if (v[mid] < v[0])
            swap_u64(&v[mid], &v[0]);
        if (v[n - 1] < v[0])
            swap_u64(&v[n - 1], &v[0]);
        if (v[n - 1] < v[mid])
            swap_u64(&v[n - 1], &v[mid]);
        swap_u64(&v[0], &v[mid]);
        uint64_t pivot = v[0];

        /* Hoare partition: v[1..i-1] <= pivot <= v[j+1..n-1]. */
        size_t i = 1, j = n - 1;
        for (;;) {
            while (i <= j && v[i] < pivot)
                i++;
            while (j >= i && v[j] > pivot)
                j--;
            if (i >= j)
                break;
            swap_u64(&v[i], &v[j]);
            i++;
            j--;
        }
        swap_u64(&v[0], &v[j]);
        /* v[j] is in place; sort v[0..j-1] and v[j+1..n-1]. */
        size_t left = j, right = n - j - 1;
        if (left < right) {
            intro_sort(v, left, depth);
            v += j + 1;
            n = right;
        } else {
            intro_sort(v + j + 1, right, depth);
            n = left;
        }
    }
    insertion_sort(v, n);
}

size_t wn__u64_sort_unique(uint64_t *v, size_t n)
{
    if (n < 2)
        return n;
    unsigned depth = 0;
    for (size_t m = n; m > 1; m >>= 1)
        depth += 2;
    intro_sort(v, n, depth);

    size_t w = 1;
    for (size_t i = 1; i < n; i++) {
        if (v[i] != v[w - 1])
            v[w++] = v[i];
    }
    return w;
}

size_t wn__intersect_sorted(const uint64_t *a, size_t na, const uint64_t *b,
                            size_t nb)
{
    size_t i = 0, j = 0, common = 0;

    while (i < na && j < nb) {
        if (a[i] < b[j]) {
            i++;
        } else if (a[i] > b[j]) {
            j++;
        } else {
            common++;
            i++;
            j++;
        }
    }
    return common;
}

double wn__jaccard_sorted(const uint64_t *a, size_t na, const uint64_t *b,
                          size_t nb)
{
    if (na == 0 && nb == 0)
        return 1.0;
    size_t common = wn__intersect_sorted(a, na, b, nb);
    return (double)common / (double)(na + nb - common);
}
