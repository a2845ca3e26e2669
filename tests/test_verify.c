/*
 * test_verify.c - the word-at-a-time count of the 4-bit fine bins in
 * wn__verify_data (lib/dedup/verify.c) against the plain loop over bins
 * that states the estimator, and its AVX-512 loop against its portable
 * one, for every bin count up to 600 (so every tail
 * length) and seeded random signatures with few, some and many empty bins
 * (0xF) and chance agreements.
 */
#include "dedup/dedup.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* The estimator of verify.c, one bin at a time. */
static void ref_data(uint32_t vk, const uint8_t *sa, const uint8_t *sb,
                     uint32_t nsa, uint32_t nsb, struct wn_pair_sim *out)
{
    uint32_t used = 0, both = 0, eq = 0;
    for (uint32_t i = 0; i < vk; i++) {
        unsigned sh = (i & 1) * 4;
        unsigned xa = (sa[i >> 1] >> sh) & 0xF;
        unsigned xb = (sb[i >> 1] >> sh) & 0xF;
        bool ea = xa == 0xF, eb = xb == 0xF;
        used += !(ea && eb);
        both += !ea && !eb;
        eq += !ea && xa == xb;
    }
    const double p = 1.0 / 15.0;
    double j =
        used ? ((double)eq - p * both) / ((double)used * (1.0 - p)) : 1.0;
    j = j < 0 ? 0 : j > 1 ? 1 : j;
    out->jac = j;
    double na = nsa, nb = nsb;
    double inter = j * (na + nb) / (1.0 + j);
    double mn = na < nb ? na : nb;
    out->cont = mn > 0 ? WN_MIN(1.0, inter / mn) : 1.0;
    out->a_in_b = na > 0 ? WN_MIN(1.0, inter / na) : 1.0;
    out->b_in_a = nb > 0 ? WN_MIN(1.0, inter / nb) : 1.0;
}

/* A random nibble: empty with probability pe/8, else one of 16 values. */
static unsigned nibble(uint64_t *s, unsigned pe)
{
    uint64_t r = rng_next(s);
    return (r & 7) < pe ? 0xF : (unsigned)(r >> 8) & 0xF;
}

static void test_fine_bins(void **state)
{
    (void)state;
    struct wn_sketcher sk;
    memset(&sk, 0, sizeof(sk));
    wn_dedup_options_init(&sk.o);
    sk.vbits = 4;
    uint64_t seed = 12345;
    unsigned checked = 0, partial = 0;
    for (uint32_t vk = 1; vk <= 600; vk++) {
        sk.vk = vk;
        sk.sig_bytes = (vk + 1) / 2;
        /* Heap blocks of exactly sig_bytes: the sanitizer build catches a
         * read past the signature. */
        uint8_t *a = malloc(sk.sig_bytes), *b = malloc(sk.sig_bytes);
        assert_non_null(a);
        assert_non_null(b);
        for (unsigned it = 0; it < 24; it++) {
            unsigned pe = it % 8;
            for (uint32_t k = 0; k < sk.sig_bytes; k++) {
                unsigned lo = nibble(&seed, pe), hi = nibble(&seed, pe);
                a[k] = (uint8_t)(lo | hi << 4);
                /* b copies a's bin with probability 1/2. */
                unsigned r = (unsigned)rng_next(&seed);
                unsigned blo = r & 1 ? lo : nibble(&seed, pe);
                unsigned bhi = r & 2 ? hi : nibble(&seed, pe);
                b[k] = (uint8_t)(blo | bhi << 4);
            }
            /* An odd count leaves a pad nibble; give it any value. */
            uint32_t na = (uint32_t)(rng_next(&seed) % 1000);
            uint32_t nb = (uint32_t)(rng_next(&seed) % 1000);
            struct wn_pair_sim want, got;
            ref_data(vk, a, b, na, nb, &want);
            memset(&got, 0x55, sizeof(got));
            wn__verify_data(&sk, a, b, na, nb, &got);
            /* The same counts give the same doubles, bit for bit. */
            assert_true(want.jac == got.jac && want.cont == got.cont &&
                        want.a_in_b == got.a_in_b && want.b_in_a == got.b_in_a);
            /* The AVX-512 loop (where the CPU has it) and the portable
             * one count alike. */
            uint32_t cs[3], cp[3];
            wn__verify_bins(a, b, vk, true, cs);
            wn__verify_bins(a, b, vk, false, cp);
            assert_memory_equal(cs, cp, sizeof(cs));
            checked++;
            partial += want.jac > 0.05 && want.jac < 0.95;
        }
        free(a);
        free(b);
    }
    print_message("# %u pairs, %u with 0.05 < J < 0.95: same estimates\n",
                  checked, partial);
    assert_true(partial > checked / 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fine_bins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
