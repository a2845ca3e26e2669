/*
 * lsh.c - banding parameters from a threshold, and band keys.
 *
 * The parameters minimize a weighted sum of two areas under the S-curve
 * P(s) = 1 - (1 - s^r)^b: the false-positive area, the integral of P over
 * [0, t] (pairs below the threshold that become candidates), and the
 * false-negative area, the integral of 1 - P over [t, 1] (pairs above it
 * that are missed). This is the criterion of datasketch's MinHashLSH (Zhu,
 * ekzhu/datasketch); the search visits every (b, r) with b r <= K in the
 * same order and keeps the first minimum, so ties resolve the same way.
 *
 * The areas are computed by composite Gauss-Legendre quadrature with nodes
 * found by Newton's method on the Legendre recurrence: pure arithmetic,
 * so the result is the same on every run. The logarithms of the nodes are
 * computed once per threshold, and each evaluation of the integrand costs
 * an exp, a log1p and an exp (s^r = e^{r ln s}, (1 - s^r)^b = e^{b ln(1 -
 * s^r)}), which keeps powers like s^256 accurate.
 */
#include "lsh/lsh.h"

#include <math.h>

#define GL_NODES  16 /* Gauss-Legendre nodes per panel */
#define GL_PANELS 16 /* panels on each side of the threshold */
#define NPTS      (GL_NODES * GL_PANELS)

/* The nodes and weights of GL_NODES-point Gauss-Legendre on [-1, 1]. */
static void gauss_legendre(double *x, double *w)
{
    const double pi = 3.14159265358979323846;
    const int n = GL_NODES;

    for (int i = 0; i < n; i++) {
        /* A start close to the i-th root (Tricomi), then Newton. */
        double z = cos(pi * (i + 0.75) / (n + 0.5));
        double dp = 1.0;
        for (int iter = 0; iter < 100; iter++) {
            double p0 = 1.0, p1 = z;
            for (int j = 2; j <= n; j++) {
                double p2 = ((2.0 * j - 1.0) * z * p1 - (j - 1.0) * p0) / j;
                p0 = p1;
                p1 = p2;
            }
            /* p1 = P_n(z), p0 = P_{n-1}(z). */
            dp = n * (z * p1 - p0) / (z * z - 1.0);
            double dz = p1 / dp;
            z -= dz;
            if (fabs(dz) < 1e-15)
                break;
        }
        x[i] = z;
        w[i] = 2.0 / ((1.0 - z * z) * dp * dp);
    }
}

/* Quadrature points of [lo, hi]: ln s at each node and the weight. */
struct quad {
    double lns[NPTS];
    double w[NPTS];
};

static void quad_init(struct quad *q, double lo, double hi, const double *gx,
                      const double *gw)
{
    double h = (hi - lo) / GL_PANELS;

    for (int p = 0; p < GL_PANELS; p++) {
        double a = lo + p * h;
        for (int i = 0; i < GL_NODES; i++) {
            double s = a + 0.5 * h * (gx[i] + 1.0);
            q->lns[p * GL_NODES + i] = log(s);
            q->w[p * GL_NODES + i] = 0.5 * h * gw[i];
        }
    }
}

/* Integral over the points of q of (1 - s^r)^b, or of 1 - that when
 * complement is set. */
static double quad_sum(const struct quad *q, uint32_t b, uint32_t r,
                       bool complement)
{
    double sum = 0.0;

    for (int i = 0; i < NPTS; i++) {
        double sr = exp(r * q->lns[i]);
        double e = b * log1p(-sr);
        /* 1 - e^e by expm1, exact when e is tiny. */
        double v = complement ? -expm1(e) : exp(e);
        sum += q->w[i] * v;
    }
    return sum;
}

double wn__lsh_candidate_prob(double s, uint32_t bands, uint32_t rows)
{
    if (!(s > 0.0))
        return 0.0;
    if (s >= 1.0)
        return 1.0;
    double sr = pow(s, rows);
    return -expm1(bands * log1p(-sr));
}

static bool threshold_ok(double t)
{
    return t > 0.0 && t < 1.0; /* false for NaN */
}

/* Both areas of (b, r) from prepared quadratures below and above t. */
static void areas(const struct quad *below, const struct quad *above,
                  uint32_t b, uint32_t r, double *fp, double *fn)
{
    *fp = quad_sum(below, b, r, true);
    *fn = quad_sum(above, b, r, false);
}

/* The quadratures of [0, t] and [t, 1]; heap-free, 8 KiB each. */
struct quads {
    struct quad below, above;
};

static void quads_init(struct quads *q, double t)
{
    double gx[GL_NODES], gw[GL_NODES];

    gauss_legendre(gx, gw);
    quad_init(&q->below, 0.0, t, gx, gw);
    quad_init(&q->above, t, 1.0, gx, gw);
}

int wn__lsh_error_areas(double threshold, uint32_t bands, uint32_t rows,
                        double *fp_area, double *fn_area)
{
    if (!threshold_ok(threshold) || bands == 0 || rows == 0)
        return WN_EINVAL;
    struct quads q;
    quads_init(&q, threshold);
    areas(&q.below, &q.above, bands, rows, fp_area, fn_area);
    return WN_OK;
}

static bool weight_ok(double w)
{
    return isfinite(w) && w >= 0.0;
}

int wn__lsh_optimal(double threshold, uint32_t num_perm, double w_fp,
                    double w_fn, struct wn_lsh_params *out)
{
    if (!threshold_ok(threshold) || num_perm == 0 ||
        num_perm > WN_MINHASH_MAX_K || !weight_ok(w_fp) || !weight_ok(w_fn) ||
        w_fp + w_fn <= 0.0)
        return WN_EINVAL;

    struct quads q;
    quads_init(&q, threshold);

    struct wn_lsh_params best = {0, 0, 0.0, 0.0};
    double best_err = INFINITY;
    for (uint32_t b = 1; b <= num_perm; b++) {
        for (uint32_t r = 1; r <= num_perm / b; r++) {
            double fp, fn;
            areas(&q.below, &q.above, b, r, &fp, &fn);
            double err = w_fp * fp + w_fn * fn;
            if (err < best_err) {
                best_err = err;
                best = (struct wn_lsh_params){b, r, fp, fn};
            }
        }
    }
    *out = best;
    return WN_OK;
}

void wn__lsh_band_keys(const uint32_t *sig, uint32_t bands, uint32_t rows,
                       uint64_t seed, uint64_t *keys)
{
    for (uint32_t j = 0; j < bands; j++) {
        /* The (j+1)-th splitmix64 output from seed: a distinct, well-mixed
         * seed per band. */
        uint64_t bseed =
            wn__mix64(seed + (uint64_t)(j + 1) * 0x9E3779B97F4A7C15ULL);
        keys[j] = wn__hash_u32s(sig + (size_t)j * rows, rows, bseed);
    }
}

/* The public face of the banding choice (winnow.h). */
int wn_lsh_params(double threshold, uint32_t num_perm, double w_fp, double w_fn,
                  uint32_t *bands, uint32_t *rows, double *fp_area,
                  double *fn_area)
{
    struct wn_lsh_params p;
    if (w_fp < 0 || w_fn < 0 || w_fp + w_fn <= 0)
        return WN_EINVAL;
    int rc = wn__lsh_optimal(threshold, num_perm, w_fp, w_fn, &p);
    if (rc)
        return rc;
    *bands = p.bands;
    *rows = p.rows;
    if (fp_area)
        *fp_area = p.fp_area;
    if (fn_area)
        *fn_area = p.fn_area;
    return WN_OK;
}

double wn_lsh_probability(double s, uint32_t bands, uint32_t rows)
{
    return wn__lsh_candidate_prob(s, bands, rows);
}
