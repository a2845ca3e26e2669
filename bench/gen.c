/*
 * gen.c - a seeded generator of news-like English text in JSONL, with
 * planted duplicates and their ground truth, for testing and benchmarking
 * winnow at any size.
 *
 * Each record is {"id":"gen-000000001","site":"...","text":"..."}. A story
 * is a headline, an optional photo caption, a wire dateline and 6-30
 * sentences drawn from the grammar in gen_words.h: eight topics whose
 * stories share entities and stock phrases but not sentences. Every
 * document is one of:
 *   original  a new story (cast and events from its own seed);
 *   hard      a hard negative: a new story with the same cast (country,
 *             people, organisations, topic) as an earlier original, a few
 *             days later, with different events. Its own cluster; listed in
 *             --pairs with label 0;
 *   exact     a byte-identical copy of an earlier original on another site;
 *   norm      a copy equal to an earlier original after normalization: case
 *             changes, whitespace changes (doubled spaces, CRLF, joined
 *             lines) and punctuation spacing ("Monday.The", "said ,");
 *   near      a republished copy of an earlier original (see below).
 * Independently, an original repeats some of its own sentences verbatim with
 * probability --repeat-rate (an immediate repeat of a run of one or two
 * sentences, or one or two sentences repeated later in the text).
 *
 * What "near duplicate" means here. A near copy with edit strength s
 * (--near-strength, default 0.10) is the source story with:
 *   - each sentence after the lead dropped with probability s/4;
 *   - each remaining sentence, and the headline, edited with probability s:
 *     one word swapped for a synonym (a copy editor's "stated" for "said")
 *     or one typo (two letters swapped, one dropped or one doubled); when
 *     nothing was edited or dropped, one sentence is edited anyway (s > 0);
 *   - with probability s, one new sentence inserted;
 *   - with probability s, the ending cut by 1 to about s * n + 1 sentences;
 *   - with probability 3/4, the newspaper page around it ("page" below):
 *     masthead, section, byline, "Published :" line, "Link copied", the
 *     photo caption printed twice, one sentence per paragraph and, each
 *     with its own probability, "Comment (0)", two or three related
 *     headlines and a copyright line: 20-60 words in all; otherwise the
 *     wire text in another paragraph layout ("wire").
 * Jaccard similarity of near copies to their source, measured on word
 * 5-gram sets (lower-cased, punctuation dropped) over 2,300 copies of
 * stories of 295 words median; 10th percentile / median:
 *        s     page         wire         all
 *     0.00   0.68 / 0.82  0.97 / 1.00  0.70 / 0.85
 *     0.05   0.62 / 0.77  0.85 / 0.94  0.64 / 0.80
 *     0.10   0.59 / 0.73  0.79 / 0.90  0.60 / 0.76
 *     0.20   0.52 / 0.65  0.67 / 0.80  0.53 / 0.69
 *     0.30   0.44 / 0.59  0.55 / 0.71  0.45 / 0.61
 *     0.50   0.30 / 0.46  0.37 / 0.54  0.31 / 0.48
 * At the default strength, the share of near copies at or above a
 * threshold is 0.37 at 0.8, 0.72 at 0.7, 0.91 at 0.6 and 0.98 at 0.5 (at
 * s = 0.05: 0.49, 0.80, 0.95, 0.99). The page furniture alone costs about
 * 0.15, more on short stories. Hard negatives measure 0.08 median, 0.18 at
 * the 99th percentile; random pairs 0.00 median, 0.10 at the 99th.
 *
 * Invariants: the output is a function of the options alone (own PRNG,
 * xoshiro256** seeded through splitmix64 per document, never rand()); a copy
 * always follows its source; the truth file has one line per record and
 * a cluster is named after its original. Memory is constant in the output
 * size: copies regenerate their source from its seeds, kept in a ring of
 * the last --window originals.
 * Cost: O(output bytes); about 150-250 MB/s on one core.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen_words.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NTOPIC       ARRAY_LEN(gen_topics)
#define NFIELD       ARRAY_LEN(gen_fields)
#define MAX_SENT     64 /* 30 body sentences, repeats and an insertion */

static void die(const char *msg)
{
    fprintf(stderr, "gen: %s\n", msg);
    exit(1);
}

/* ---- PRNG: splitmix64 to seed, xoshiro256** to draw (Blackman-Vigna). */

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return out;
}

/* Uniform in [0, n) by multiply-shift; the bias is below 2^-32 * n. */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static int rng_chance(struct rng *r, double p)
{
    return rng_unit(r) < p;
}

/* ---- Growable text buffer. Documents are bounded, so is its size. */

struct tbuf {
    char *p;
    size_t len;
    size_t cap;
};

static void tb_reserve(struct tbuf *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        die("out of memory");
    b->p = p;
    b->cap = cap;
}

static void tb_put(struct tbuf *b, const char *s, size_t n)
{
    tb_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void tb_puts(struct tbuf *b, const char *s)
{
    tb_put(b, s, strlen(s));
}

static void tb_putc(struct tbuf *b, char c)
{
    tb_reserve(b, 1);
    b->p[b->len++] = c;
}

/* Decimal, with a thousands comma when group is set ("12,400"). */
static void tb_putu(struct tbuf *b, uint64_t v, int group)
{
    char tmp[32];
    int n = 0, digits = 0;

    do {
        if (group && digits && digits % 3 == 0)
            tmp[n++] = ',';
        tmp[n++] = (char)('0' + v % 10);
        digits++;
        v /= 10;
    } while (v);
    tb_reserve(b, (size_t)n);
    while (n)
        b->p[b->len++] = tmp[--n];
}

static void tb_put2(struct tbuf *b, unsigned v)
{
    tb_putc(b, (char)('0' + v / 10 % 10));
    tb_putc(b, (char)('0' + v % 10));
}

static int is_lower(int c)
{
    return c >= 'a' && c <= 'z';
}

static int is_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}

static int is_alpha(int c)
{
    return is_lower(c) || is_upper(c);
}

/* ---- Calendar, enough for datelines (proleptic Gregorian). */

static const char *const month_names[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December",
};

/* Wire-style dateline abbreviations. */
static const char *const month_abbr[] = {
    "Jan.", "Feb.", "March", "April", "May",  "June",
    "July", "Aug.", "Sept.", "Oct.",  "Nov.", "Dec.",
};

static const char *const weekday_names[] = {
    "Sunday",   "Monday", "Tuesday",  "Wednesday",
    "Thursday", "Friday", "Saturday",
};

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    return days[m] + (m == 1 && is_leap(y));
}

struct date {
    int year, month, day, wday; /* month 0-11, day 1-31, wday 0 = Sunday */
};

/* The date yday days (0-based, may overflow the year) into year y >= 2000. */
static struct date date_from(int y, int yday)
{
    struct date d;
    long since = 0; /* days since 2000-01-01, a Saturday */

    while (yday >= 365 + is_leap(y)) {
        yday -= 365 + is_leap(y);
        y++;
    }
    for (int k = 2000; k < y; k++)
        since += 365 + is_leap(k);
    since += yday;
    d.year = y;
    d.wday = (int)((6 + since) % 7);
    d.month = 0;
    while (yday >= month_days(y, d.month)) {
        yday -= month_days(y, d.month);
        d.month++;
    }
    d.day = yday + 1;
    return d;
}

/* ---- Grammar: gen_rules compiled into flat arrays of operations. */

enum op_kind { OP_LIT, OP_RULE, OP_FIELD, OP_VAR, OP_NUM };

struct op {
    const char *lit;
    uint32_t arg;
    uint16_t len;
    uint8_t kind;
    uint8_t cap; /* upper-case the first letter of the expansion */
};

struct alt {
    uint32_t first, n;
};

struct crule {
    uint32_t first, n;
};

/* Story variables: the cast, fixed by the cast seed, then the date. */
enum var {
    V_COUNTRY,
    V_ADJ,
    V_CAPITAL,
    V_CITY,
    V_RIVAL,
    V_CURRENCY,
    V_AGENCY,
    V_P1,
    V_P1L,
    V_P1T,
    V_P1D,
    V_P2,
    V_P2L,
    V_P2T,
    V_P2D,
    V_P3,
    V_P3L,
    V_P3T,
    V_P3D,
    V_ORG1,
    V_ORG2,
    V_WEEKDAY,
    V_MONTH,
    V_MONTH_NEXT,
    V_DATE,
    V_YEAR,
    NVAR
};

static const char *const var_names[NVAR] = {
    "country", "adj",   "capital",    "city", "rival", "currency", "agency",
    "p1",      "p1l",   "p1t",        "p1d",  "p2",    "p2l",      "p2t",
    "p2d",     "p3",    "p3l",        "p3t",  "p3d",   "org1",     "org2",
    "weekday", "month", "month_next", "date", "year",
};

enum num {
    NUM_N,
    NUM_NN,
    NUM_NNN,
    NUM_THOU,
    NUM_PCT,
    NUM_MONEY,
    NUM_OLDYEAR,
    NUM_LASTYEAR,
    NUM_FUTYEAR,
    NUM_A_N,
    NUM_A_NN,
    NNUM
};

static const char *const num_names[NNUM] = {
    "n",       "nn",       "nnn",     "thou", "pct",  "money",
    "oldyear", "lastyear", "futyear", "a_n",  "a_nn",
};

/* The topic fields that the cast draws from; checked in grammar_compile. */
enum { F_TITLE = 0, F_ORG = 1 };

struct grammar {
    struct op *ops;
    size_t nops, cap_ops;
    struct alt *alts;
    size_t nalts, cap_alts;
    struct crule rules[ARRAY_LEN(gen_rules)];
    uint32_t field[NTOPIC][NFIELD];
    uint32_t r_headline, r_lead, r_caption, r_body, r_closing;
};

static int find_name(const char *const *names, size_t n, const char *s,
                     size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
            return (int)i;
    return -1;
}

static int find_rule(const char *s, size_t len)
{
    for (size_t i = 0; i < ARRAY_LEN(gen_rules); i++)
        if (strlen(gen_rules[i].name) == len &&
            memcmp(gen_rules[i].name, s, len) == 0)
            return (int)i;
    return -1;
}

static void grammar_fail(const char *rule, const char *what, const char *s,
                         size_t len)
{
    fprintf(stderr, "gen: grammar rule '%s': %s '%.*s'\n", rule, what, (int)len,
            s);
    exit(1);
}

static struct op *grammar_op(struct grammar *g)
{
    if (g->nops == g->cap_ops) {
        g->cap_ops = g->cap_ops ? 2 * g->cap_ops : 1024;
        g->ops = realloc(g->ops, g->cap_ops * sizeof(*g->ops));
        if (!g->ops)
            die("out of memory");
    }
    struct op *o = &g->ops[g->nops++];
    memset(o, 0, sizeof(*o));
    return o;
}

static void grammar_alt(struct grammar *g, const char *rule, const char *s)
{
    if (g->nalts == g->cap_alts) {
        g->cap_alts = g->cap_alts ? 2 * g->cap_alts : 512;
        g->alts = realloc(g->alts, g->cap_alts * sizeof(*g->alts));
        if (!g->alts)
            die("out of memory");
    }
    struct alt *a = &g->alts[g->nalts++];
    a->first = (uint32_t)g->nops;
    while (*s) {
        const char *brace = strchr(s, '{');
        size_t lit = brace ? (size_t)(brace - s) : strlen(s);
        if (lit > UINT16_MAX)
            grammar_fail(rule, "literal too long at", s, 40);
        if (lit) {
            struct op *o = grammar_op(g);
            o->kind = OP_LIT;
            o->lit = s;
            o->len = (uint16_t)lit;
        }
        if (!brace)
            break;
        const char *name = brace + 1, *end = strchr(name, '}');
        if (!end)
            grammar_fail(rule, "unclosed brace at", brace, strlen(brace));
        struct op *o = grammar_op(g);
        if (*name == '^') {
            o->cap = 1;
            name++;
        }
        size_t len = (size_t)(end - name) -
                     (*name == '@' || *name == '$' || *name == '#');
        int idx;
        switch (*name) {
        case '@':
            o->kind = OP_FIELD;
            idx = find_name(gen_fields, NFIELD, name + 1, len);
            break;
        case '$':
            o->kind = OP_VAR;
            idx = find_name(var_names, NVAR, name + 1, len);
            break;
        case '#':
            o->kind = OP_NUM;
            idx = find_name(num_names, NNUM, name + 1, len);
            break;
        default:
            o->kind = OP_RULE;
            idx = find_rule(name, len);
            break;
        }
        if (idx < 0)
            grammar_fail(rule, "unknown name", name, (size_t)(end - name));
        o->arg = (uint32_t)idx;
        s = end + 1;
    }
    a->n = (uint32_t)(g->nops - a->first);
}

static uint32_t rule_index(const char *name)
{
    int i = find_rule(name, strlen(name));
    if (i < 0)
        grammar_fail("(top)", "missing rule", name, strlen(name));
    return (uint32_t)i;
}

static void grammar_compile(struct grammar *g)
{
    memset(g, 0, sizeof(*g));
    if (strcmp(gen_fields[F_TITLE], "title") != 0 ||
        strcmp(gen_fields[F_ORG], "org") != 0)
        die("gen_fields must start with \"title\", \"org\"");
    for (size_t i = 0; i < ARRAY_LEN(gen_rules); i++) {
        g->rules[i].first = (uint32_t)g->nalts;
        for (const char *const *a = gen_rules[i].alts; *a; a++)
            grammar_alt(g, gen_rules[i].name, *a);
        g->rules[i].n = (uint32_t)g->nalts - g->rules[i].first;
        if (g->rules[i].n == 0)
            grammar_fail(gen_rules[i].name, "no alternatives", "", 0);
    }
    for (size_t t = 0; t < NTOPIC; t++) {
        for (size_t f = 0; f < NFIELD; f++) {
            char name[64];
            snprintf(name, sizeof(name), "%s.%s", gen_topics[t], gen_fields[f]);
            g->field[t][f] = rule_index(name);
        }
    }
    g->r_headline = rule_index("headline_s");
    g->r_lead = rule_index("lead_s");
    g->r_caption = rule_index("caption_s");
    g->r_body = rule_index("body");
    g->r_closing = rule_index("closing_s");
}

static void grammar_release(struct grammar *g)
{
    free(g->ops);
    free(g->alts);
}

/* ---- Stories. */

struct span {
    uint32_t off, len;
};

struct story {
    int topic, place, rival, agency;
    int base_year, base_yday; /* the cast's date; follow-ups add days */
    struct date date;
    struct tbuf vars; /* variable values, back to back */
    struct span var[NVAR];
    size_t cast_len;  /* vars.len once the cast is set */
    struct tbuf text; /* headline, caption, dateline, sentences */
    struct tbuf scratch;
    struct span headline, caption, dateline;
    struct span sent[MAX_SENT];
    int nsent;
    uint8_t brk[MAX_SENT]; /* paragraph break after sentence i */
    int style;             /* wire layout, enum style */
    int has_headline, has_caption;
    uint64_t used[ARRAY_LEN(gen_rules)]; /* see struct expander */
};

/* Wire layouts: how the same sentences are joined. */
enum style {
    STYLE_PARAGRAPHS, /* paragraphs of 1-3 sentences, blank line between */
    STYLE_LINES,      /* one sentence per line */
    STYLE_RUNON,      /* one paragraph */
    STYLE_GLUED,      /* one paragraph, no space after the full stop */
};

struct expander {
    const struct grammar *g;
    const struct story *st;
    struct rng *rng;
    struct tbuf *out;
    /*
     * When set, a bit per alternative of each rule: topic fields are drawn
     * without replacement within a story, so that a story does not say the
     * same thing twice with different numbers. reused is set when a field
     * had nothing left and an alternative was drawn again.
     */
    uint64_t *used;
    int reused;
};

static void set_var(struct story *st, enum var v, const char *s, size_t n)
{
    st->var[v].off = (uint32_t)st->vars.len;
    st->var[v].len = (uint32_t)n;
    tb_put(&st->vars, s, n);
}

static void set_var_str(struct story *st, enum var v, const char *s)
{
    set_var(st, v, s, strlen(s));
}

static void capitalize_from(struct tbuf *b, size_t start)
{
    size_t i = start;
    while (i < b->len && (b->p[i] == '"' || b->p[i] == ' '))
        i++;
    if (i < b->len && is_lower((unsigned char)b->p[i]))
        b->p[i] = (char)(b->p[i] - 'a' + 'A');
}

static void put_number(struct expander *x, enum num kind)
{
    struct rng *r = x->rng;
    struct tbuf *b = x->out;
    int year = x->st->date.year;

    switch (kind) {
    case NUM_N:
        tb_putu(b, 2 + rng_below(r, 8), 0);
        break;
    case NUM_NN:
        tb_putu(b, 10 + rng_below(r, 90), 0);
        break;
    case NUM_A_N:
    case NUM_A_NN: {
        unsigned v =
            kind == NUM_A_N ? 2 + rng_below(r, 8) : 10 + rng_below(r, 90);
        /* "an 8", "an 11", "an 18", "an 80" to "an 89" */
        int an = v == 8 || v == 11 || v == 18 || v / 10 == 8;
        tb_puts(b, an ? "an " : "a ");
        tb_putu(b, v, 0);
        break;
    }
    case NUM_NNN:
        tb_putu(b, 100 + rng_below(r, 900), 0);
        break;
    case NUM_THOU: {
        /* Two statements: the order of operands is unspecified in C. */
        unsigned thousands = 1 + rng_below(r, 98);
        tb_putu(b, 1000 * thousands + 100 * rng_below(r, 10), 1);
        break;
    }
    case NUM_PCT: {
        unsigned tenths = 1 + rng_below(r, 199);
        tb_putu(b, tenths / 10, 0);
        tb_putc(b, '.');
        tb_putu(b, tenths % 10, 0);
        break;
    }
    case NUM_MONEY:
        if (rng_chance(r, 0.5)) {
            tb_putu(b, 1 + rng_below(r, 9), 0);
            tb_putc(b, '.');
            tb_putu(b, rng_below(r, 10), 0);
            tb_puts(b, " billion");
        } else {
            tb_putu(b, 10 * (uint64_t)(10 + rng_below(r, 86)), 0);
            tb_puts(b, " million");
        }
        break;
    case NUM_OLDYEAR:
    case NUM_LASTYEAR:
    case NUM_FUTYEAR: {
        int y = kind == NUM_OLDYEAR
                    ? 1990 + (int)rng_below(r, (uint32_t)(year - 1995))
                : kind == NUM_LASTYEAR ? year - 1 - (int)rng_below(r, 3)
                                       : year + 2 + (int)rng_below(r, 11);
        tb_putu(b, (uint64_t)y, 0);
        break;
    }
    case NNUM:
        break;
    }
}

static void expand(struct expander *x, uint32_t rule, int depth, int track)
{
    const struct grammar *g = x->g;
    const struct crule *cr = &g->rules[rule];
    uint32_t k = rng_below(x->rng, cr->n);

    if (track && x->used) {
        uint64_t *u = &x->used[rule];
        uint64_t all = cr->n >= 64 ? ~0ULL : (1ULL << cr->n) - 1;
        if ((*u & all) == all) {
            x->reused = 1;
        } else {
            while (*u >> k & 1)
                k = (k + 1) % cr->n;
            *u |= 1ULL << k;
        }
    }
    const struct alt *a = &g->alts[cr->first + k];

    /* The grammar has no recursion; this only guards against adding one. */
    if (depth > 16)
        die("grammar nests too deeply");
    for (uint32_t i = 0; i < a->n; i++) {
        const struct op *o = &g->ops[a->first + i];
        size_t start = x->out->len;
        switch ((enum op_kind)o->kind) {
        case OP_LIT:
            tb_put(x->out, o->lit, o->len);
            break;
        case OP_RULE:
            expand(x, o->arg, depth + 1, 0);
            break;
        case OP_FIELD:
            expand(x, g->field[x->st->topic][o->arg], depth + 1, 1);
            break;
        case OP_VAR: {
            struct span v = x->st->var[o->arg];
            tb_put(x->out, x->st->vars.p + v.off, v.len);
            break;
        }
        case OP_NUM:
            put_number(x, (enum num)o->arg);
            break;
        }
        if (o->cap)
            capitalize_from(x->out, start);
    }
}

/* Expand a rule onto the end of x->out and return where it landed. */
static struct span expand_span(struct expander *x, uint32_t rule)
{
    struct span s;
    s.off = (uint32_t)x->out->len;
    expand(x, rule, 0, 0);
    s.len = (uint32_t)(x->out->len - s.off);
    return s;
}

/* A person: "First Last", the last name, a title and "the <title>". */
static void cast_person(struct story *st, const struct grammar *g,
                        struct rng *r, enum var base, int last)
{
    struct expander x = {g, st, r, &st->scratch, NULL, 0};
    const char *first =
        gen_first_names[rng_below(r, ARRAY_LEN(gen_first_names))];
    const char *surname = gen_last_names[last];

    st->scratch.len = 0;
    tb_puts(&st->scratch, first);
    tb_putc(&st->scratch, ' ');
    tb_puts(&st->scratch, surname);
    set_var(st, base, st->scratch.p, st->scratch.len);
    set_var_str(st, base + 1, surname);

    /* Titles should differ between the people of one story; retry a few. */
    for (int tries = 0;; tries++) {
        st->scratch.len = 0;
        expand(&x, g->field[st->topic][F_TITLE], 0, 0);
        int dup = 0;
        for (enum var v = V_P1T; v < base + 2; v += 4)
            if (st->var[v].len == st->scratch.len &&
                memcmp(st->vars.p + st->var[v].off, st->scratch.p,
                       st->scratch.len) == 0)
                dup = 1;
        if (!dup || tries == 4)
            break;
    }
    set_var(st, base + 2, st->scratch.p, st->scratch.len);
    size_t tlen = st->scratch.len;
    tb_puts(&st->scratch, "the ");
    for (size_t i = 0; i < tlen; i++) {
        char c = st->scratch.p[i];
        tb_putc(&st->scratch, is_upper((unsigned char)c) ? (char)(c + 32) : c);
    }
    set_var(st, base + 3, st->scratch.p + tlen, st->scratch.len - tlen);
}

/*
 * The cast: topic, country, rival, agency, date, three people and two
 * organisations. A hard negative reuses its source's cast seed.
 */
static void story_cast(struct story *st, const struct grammar *g, uint64_t seed)
{
    struct rng r;
    struct expander x = {g, st, &r, &st->scratch, NULL, 0};
    int last[3];

    rng_seed(&r, seed);
    st->topic = (int)rng_below(&r, NTOPIC);
    st->place = (int)rng_below(&r, ARRAY_LEN(gen_places));
    st->rival = (int)rng_below(&r, ARRAY_LEN(gen_places) - 1);
    if (st->rival >= st->place)
        st->rival++;
    st->agency = (int)rng_below(&r, ARRAY_LEN(gen_agencies));
    st->base_year = 2016 + (int)rng_below(&r, 10);
    st->base_yday = (int)rng_below(&r, 365);

    const struct gen_place *pl = &gen_places[st->place];
    st->vars.len = 0;
    set_var_str(st, V_COUNTRY, pl->country);
    set_var_str(st, V_ADJ, pl->adj);
    set_var_str(st, V_CAPITAL, pl->capital);
    set_var_str(st, V_CITY,
                rng_chance(&r, 0.6) ? pl->capital
                                    : pl->cities[rng_below(&r, 2)]);
    set_var_str(st, V_RIVAL, gen_places[st->rival].country);
    set_var_str(st, V_CURRENCY, pl->currency);
    set_var_str(st, V_AGENCY, gen_agencies[st->agency].name);

    for (int i = 0; i < 3; i++) {
        int again;
        do {
            last[i] = (int)rng_below(&r, ARRAY_LEN(gen_last_names));
            again = 0;
            for (int j = 0; j < i; j++)
                again |= last[j] == last[i];
        } while (again);
        cast_person(st, g, &r, (enum var)(V_P1 + 4 * i), last[i]);
    }
    for (enum var v = V_ORG1; v <= V_ORG2; v++) {
        for (int tries = 0;; tries++) {
            st->scratch.len = 0;
            expand(&x, g->field[st->topic][F_ORG], 0, 0);
            if (v == V_ORG1 || tries == 4 ||
                st->var[V_ORG1].len != st->scratch.len ||
                memcmp(st->vars.p + st->var[V_ORG1].off, st->scratch.p,
                       st->scratch.len) != 0)
                break;
        }
        set_var(st, v, st->scratch.p, st->scratch.len);
    }
    st->cast_len = st->vars.len;
}

static void story_set_date(struct story *st, int offset)
{
    struct date d = date_from(st->base_year, st->base_yday + offset);
    char num[16];
    int n;

    st->date = d;
    st->vars.len = st->cast_len;
    set_var_str(st, V_WEEKDAY, weekday_names[d.wday]);
    set_var_str(st, V_MONTH, month_names[d.month]);
    set_var_str(st, V_MONTH_NEXT, month_names[(d.month + 1) % 12]);
    n = snprintf(num, sizeof(num), " %d", d.day);
    st->scratch.len = 0;
    tb_puts(&st->scratch, month_names[d.month]);
    tb_put(&st->scratch, num, (size_t)n);
    set_var(st, V_DATE, st->scratch.p, st->scratch.len);
    n = snprintf(num, sizeof(num), "%d", d.year);
    set_var(st, V_YEAR, num, (size_t)n);
}

/* A fast 64-bit hash, eight bytes a step; only compared within one run. */
static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0x243f6a8885a308d3ULL ^ n, w;
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, s + i, n - i);
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 32);
}

/* Insert the sentence span s at position at, shifting the rest. */
static void insert_sent(struct story *st, int at, struct span s)
{
    if (st->nsent >= MAX_SENT)
        return;
    memmove(&st->sent[at + 1], &st->sent[at],
            (size_t)(st->nsent - at) * sizeof(st->sent[0]));
    st->sent[at] = s;
    st->nsent++;
}

/*
 * Self-repetition, as content systems produce it: either a run of one or
 * two sentences printed twice in a row, or one or two sentences repeated
 * further down.
 */
static void story_repeat(struct story *st, struct rng *r)
{
    if (rng_chance(r, 0.5)) {
        int k = 1 + (int)rng_below(r, 2);
        int i = 1 + (int)rng_below(r, (uint32_t)(st->nsent - k - 1));
        for (int j = 0; j < k; j++)
            insert_sent(st, i + k + j, st->sent[i + j]);
    } else {
        int m = 1 + (int)rng_below(r, 2);
        for (int j = 0; j < m; j++) {
            int i = 1 + (int)rng_below(r, (uint32_t)(st->nsent - 2));
            int at = i + 2 + (int)rng_below(r, (uint32_t)(st->nsent - i - 1));
            insert_sent(st, at, st->sent[i]);
        }
    }
}

static void story_layout(struct story *st, struct rng *r)
{
    double u = rng_unit(r);
    st->style = u < 0.40   ? STYLE_PARAGRAPHS
                : u < 0.65 ? STYLE_LINES
                : u < 0.85 ? STYLE_RUNON
                           : STYLE_GLUED;
    for (int i = 0; i < MAX_SENT; i++)
        st->brk[i] = (uint8_t)rng_chance(r, 0.45);
    st->has_headline = rng_chance(r, 0.85);
}

/*
 * The text of a story: everything after the cast is drawn from the body
 * seed, so the same (cast, body, offset) always gives the same story.
 */
static void story_body(struct story *st, const struct grammar *g, uint64_t seed,
                       int offset, int repeat)
{
    struct rng r;
    struct expander x = {g, st, &r, &st->text, st->used, 0};
    uint64_t seen[MAX_SENT];

    rng_seed(&r, seed);
    memset(st->used, 0, sizeof(st->used));
    story_set_date(st, offset);
    st->text.len = 0;
    st->headline = expand_span(&x, g->r_headline);
    st->has_caption = rng_chance(&r, 0.35);
    if (st->has_caption)
        st->caption = expand_span(&x, g->r_caption);

    /* "SOLLBERG, March 3 (Northwire) --"; some agencies omit the date. */
    st->dateline.off = (uint32_t)st->text.len;
    struct span city = st->var[V_CITY];
    for (uint32_t i = 0; i < city.len; i++) {
        char c = st->vars.p[city.off + i];
        tb_putc(&st->text, is_lower((unsigned char)c) ? (char)(c - 32) : c);
    }
    if (st->agency % 2 == 0) {
        tb_puts(&st->text, ", ");
        tb_puts(&st->text, month_abbr[st->date.month]);
        tb_putc(&st->text, ' ');
        tb_putu(&st->text, (uint64_t)st->date.day, 0);
    }
    tb_puts(&st->text, " (");
    tb_puts(&st->text, gen_agencies[st->agency].name);
    tb_puts(&st->text, ") --");
    st->dateline.len = (uint32_t)(st->text.len - st->dateline.off);

    int n = 6 + (int)rng_below(&r, 25);
    st->nsent = 0;
    for (int i = 0; i < n; i++) {
        uint32_t rule = i == 0                              ? g->r_lead
                        : i == n - 1 && rng_chance(&r, 0.5) ? g->r_closing
                                                            : g->r_body;
        /*
         * Accidental repeats would blur the planted ones: redraw a sentence
         * that is already in the story or that had to reuse a topic field.
         */
        for (int tries = 0;; tries++) {
            size_t mark = st->text.len;
            uint64_t used[NFIELD];
            for (size_t f = 0; f < NFIELD; f++)
                used[f] = st->used[g->field[st->topic][f]];
            x.reused = 0;
            struct span s = expand_span(&x, rule);
            uint64_t h = hash_bytes(st->text.p + s.off, s.len);
            int dup = x.reused;
            for (int j = 0; j < st->nsent; j++)
                dup |= seen[j] == h;
            if (!dup || tries == 8) {
                seen[st->nsent] = h;
                st->sent[st->nsent++] = s;
                break;
            }
            st->text.len = mark;
            for (size_t f = 0; f < NFIELD; f++)
                st->used[g->field[st->topic][f]] = used[f];
        }
    }
    if (repeat)
        story_repeat(st, &r);
    story_layout(st, &r);
}

static void put_span(struct tbuf *out, const struct tbuf *src, struct span s)
{
    tb_put(out, src->p + s.off, s.len);
}

static void render_wire(const struct story *st, struct tbuf *out)
{
    static const char *const sep[] = {" ", "\n", " ", ""};

    if (st->has_headline) {
        put_span(out, &st->text, st->headline);
        tb_puts(out, st->style == STYLE_PARAGRAPHS ? "\n\n" : "\n");
    }
    if (st->has_caption) {
        put_span(out, &st->text, st->caption);
        tb_puts(out, "\n\n");
    }
    put_span(out, &st->text, st->dateline);
    tb_putc(out, ' ');
    for (int i = 0; i < st->nsent; i++) {
        if (i > 0)
            tb_puts(out, st->style == STYLE_PARAGRAPHS && st->brk[i - 1]
                             ? "\n\n"
                             : sep[st->style]);
        put_span(out, &st->text, st->sent[i]);
    }
}

static const char *const topic_sections[] = {
    "National", "Business", "Business", "Society",
    "National", "Society",  "Politics", "National",
};

/*
 * A newspaper page around the story: masthead, byline, "Published :" and
 * share lines, the caption printed twice, one sentence per paragraph, and
 * the footer. r is the copy's generator; the story's caption is used when
 * it has one, else one is made up half of the time.
 */
static void render_site(struct story *st, const struct grammar *g,
                        struct rng *r, const struct gen_site *site,
                        struct tbuf *out)
{
    struct expander x = {g, st, r, out, NULL, 0};
    const struct tbuf *cap_buf = &st->text;
    struct span cap = st->caption;
    int with_cap = st->has_caption;

    if (!with_cap && rng_chance(r, 0.5)) {
        struct expander cx = {g, st, r, &st->scratch, NULL, 0};
        st->scratch.len = 0;
        cap = expand_span(&cx, g->r_caption);
        cap_buf = &st->scratch;
        with_cap = 1;
    }

    tb_puts(out, site->name);
    tb_putc(out, '\n');
    if (site->tagline) {
        tb_puts(out, site->tagline);
        tb_putc(out, '\n');
    }
    if (rng_chance(r, 0.7)) {
        tb_puts(out, topic_sections[st->topic]);
        tb_putc(out, '\n');
    }
    put_span(out, &st->text, st->headline);
    tb_puts(out, "\n\nBy ");
    tb_puts(out, gen_first_names[rng_below(r, ARRAY_LEN(gen_first_names))]);
    tb_putc(out, ' ');
    tb_puts(out, gen_last_names[rng_below(r, ARRAY_LEN(gen_last_names))]);
    if (rng_chance(r, 0.3))
        tb_puts(out, ", Staff Reporter");
    tb_puts(out, "\n\nPublished : ");
    tb_puts(out, month_names[st->date.month]);
    tb_putc(out, ' ');
    tb_putu(out, (uint64_t)st->date.day, 0);
    tb_puts(out, ", ");
    tb_putu(out, (uint64_t)st->date.year, 0);
    tb_puts(out, " - ");
    tb_put2(out, 6 + rng_below(r, 17));
    tb_putc(out, ':');
    tb_put2(out, rng_below(r, 60));
    tb_puts(out, "\n\n    ");
    tb_puts(out, site->share);
    tb_puts(out, "\n\n");

    int cap_at =
        with_cap ? (int)rng_below(r, (uint32_t)(st->nsent < 4 ? st->nsent : 4))
                 : -1;
    int same_line = rng_chance(r, 0.5);
    int dateline = rng_chance(r, 0.4);
    for (int i = 0; i < st->nsent; i++) {
        if (i > 0)
            tb_puts(out, "\n\n");
        if (i == 0 && dateline) {
            put_span(out, &st->text, st->dateline);
            tb_putc(out, ' ');
        }
        put_span(out, &st->text, st->sent[i]);
        if (i == cap_at) {
            tb_puts(out, "\n\n");
            put_span(out, cap_buf, cap);
            tb_puts(out, same_line ? " " : "\n\n");
            put_span(out, cap_buf, cap);
        }
    }

    /* Footers vary from page to page: each part is there or not. */
    if (rng_chance(r, 0.7)) {
        tb_puts(out, "\n\nComment (");
        tb_putu(out, rng_chance(r, 0.8) ? 0 : 1 + rng_below(r, 40), 0);
        tb_putc(out, ')');
    }
    if (rng_chance(r, 0.4)) {
        int n = 2 + (int)rng_below(r, 2);
        tb_puts(out, "\n\n");
        tb_puts(out, site->related);
        for (int i = 0; i < n; i++) {
            tb_putc(out, '\n');
            expand(&x, g->r_headline, 0, 0);
        }
    }
    if (rng_chance(r, 0.6)) {
        tb_puts(out, "\n\n\u00a9 ");
        tb_putu(out, (uint64_t)st->date.year, 0);
        tb_putc(out, ' ');
        tb_puts(out, site->rights);
    }
}

/* ---- Edits of a republished copy. */

/* Words of s: maximal runs of ASCII letters; starts and ends in w[]. */
static int find_words(const char *s, size_t n, size_t minlen, size_t *w,
                      int max)
{
    int k = 0;
    for (size_t i = 0; i < n && k < max;) {
        if (!is_alpha((unsigned char)s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && is_alpha((unsigned char)s[j]))
            j++;
        if (j - i >= minlen) {
            w[2 * k] = i;
            w[2 * k + 1] = j;
            k++;
        }
        i = j;
    }
    return k;
}

/* One typo in one word of four letters or more: swap, drop or double. */
static int put_typo(struct tbuf *out, const char *s, size_t n, struct rng *r)
{
    size_t w[2 * 64];
    int k = find_words(s, n, 4, w, 64);
    if (k == 0)
        return 0;
    int pick = (int)rng_below(r, (uint32_t)k);
    size_t a = w[2 * pick], b = w[2 * pick + 1];
    size_t at = a + 1 + rng_below(r, (uint32_t)(b - a - 2)); /* interior */

    tb_put(out, s, at);
    switch (rng_below(r, 3)) {
    case 0:
        tb_putc(out, s[at + 1]);
        tb_putc(out, s[at]);
        at += 2;
        break;
    case 1:
        at += 1;
        break;
    default:
        tb_putc(out, s[at]);
        break;
    }
    tb_put(out, s + at, n - at);
    return 1;
}

/* One word swapped for its pair in gen_swaps; 0 when there is none. */
static int put_swap(struct tbuf *out, const char *s, size_t n, struct rng *r)
{
    size_t w[2 * 64];
    int cand[64], pair[64], k = find_words(s, n, 2, w, 64), nc = 0;

    for (int i = 0; i < k; i++) {
        size_t len = w[2 * i + 1] - w[2 * i];
        for (size_t p = 0; p < ARRAY_LEN(gen_swaps); p++) {
            for (int side = 0; side < 2; side++) {
                const char *v = gen_swaps[p][side];
                if (strlen(v) == len && memcmp(v, s + w[2 * i], len) == 0) {
                    cand[nc] = i;
                    pair[nc++] = (int)(2 * p + (size_t)!side);
                }
            }
        }
    }
    if (nc == 0)
        return 0;
    int c = (int)rng_below(r, (uint32_t)nc);
    size_t a = w[2 * cand[c]], b = w[2 * cand[c] + 1];
    tb_put(out, s, a);
    tb_puts(out, gen_swaps[pair[c] / 2][pair[c] % 2]);
    tb_put(out, s + b, n - b);
    return 1;
}

static struct span put_edited(struct tbuf *out, const char *s, size_t n,
                              struct rng *r)
{
    struct span sp = {(uint32_t)out->len, 0};
    if (!(rng_chance(r, 0.5) && put_swap(out, s, n, r)) &&
        !put_typo(out, s, n, r))
        tb_put(out, s, n);
    sp.len = (uint32_t)(out->len - sp.off);
    return sp;
}

static struct span put_copy(struct tbuf *out, const struct tbuf *src,
                            struct span s)
{
    struct span sp = {(uint32_t)out->len, s.len};
    put_span(out, src, s);
    return sp;
}

/*
 * Apply the near-duplicate edits of strength s (see the top of the file).
 * With s > 0 at least one edit is made, so that a near copy never equals
 * its source after normalization.
 */
static void story_edit(struct story *st, const struct grammar *g, struct rng *r,
                       double s)
{
    struct tbuf *dst = &st->scratch;
    struct span sent[MAX_SENT];
    int n = 0, edits = 0;

    dst->len = 0;
    /* Not counted as an edit: a wire layout may leave the headline out. */
    if (rng_chance(r, s))
        st->headline =
            put_edited(dst, st->text.p + st->headline.off, st->headline.len, r);
    else
        st->headline = put_copy(dst, &st->text, st->headline);
    if (st->has_caption)
        st->caption = put_copy(dst, &st->text, st->caption);
    st->dateline = put_copy(dst, &st->text, st->dateline);
    for (int i = 0; i < st->nsent; i++) {
        if (i > 0 && st->nsent - i + n > 4 && rng_chance(r, s / 4)) {
            edits++;
            continue;
        }
        if (rng_chance(r, s)) {
            sent[n++] = put_edited(dst, st->text.p + st->sent[i].off,
                                   st->sent[i].len, r);
            edits++;
        } else {
            sent[n++] = put_copy(dst, &st->text, st->sent[i]);
        }
    }
    if (s > 0 && edits == 0) {
        int k = (int)rng_below(r, (uint32_t)n);
        /* The source lives in dst: reserve first so that it cannot move. */
        tb_reserve(dst, sent[k].len + 64);
        sent[k] = put_edited(dst, dst->p + sent[k].off, sent[k].len, r);
    }
    memcpy(st->sent, sent, (size_t)n * sizeof(sent[0]));
    st->nsent = n;
    if (rng_chance(r, s)) {
        struct expander x = {g, st, r, dst, NULL, 0};
        /* Separate statements: argument order is unspecified in C. */
        int at = 1 + (int)rng_below(r, (uint32_t)st->nsent);
        insert_sent(st, at, expand_span(&x, g->r_body));
    }
    if (rng_chance(r, s)) {
        double most = s * st->nsent + 1;
        int cut = 1 + (int)rng_below(r, (uint32_t)most);
        if (st->nsent - cut < 4)
            cut = st->nsent - 4;
        if (cut > 0)
            st->nsent -= cut;
    }
    struct tbuf t = st->text;
    st->text = st->scratch;
    st->scratch = t;
}

/* ---- Variants that normalization undoes (case, spaces, punctuation). */

static void vary_case(struct tbuf *out, const char *s, size_t n, struct rng *r)
{
    size_t start = out->len;
    unsigned mode = rng_below(r, 4);

    tb_put(out, s, n);
    char *p = out->p + start;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p[i];
        if (mode == 0 && is_lower(c))
            p[i] = (char)(c - 32);
        else if (mode == 1 && is_upper(c))
            p[i] = (char)(c + 32);
        else if (mode == 2) { /* the headline line in capitals */
            if (c == '\n')
                break;
            if (is_lower(c))
                p[i] = (char)(c - 32);
        } else if (mode == 3 && is_lower(c) &&
                   (i == 0 || !is_alpha((unsigned char)p[i - 1])) &&
                   rng_chance(r, 0.15))
            p[i] = (char)(c - 32);
    }
}

static void vary_space(struct tbuf *out, const char *s, size_t n, struct rng *r)
{
    unsigned mode = rng_below(r, 4);

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (mode == 0 && c == ' ' && rng_chance(r, 0.15))
            tb_puts(out, rng_chance(r, 0.5) ? "  " : "   ");
        else if (mode == 1 && c == '\n')
            tb_puts(out, "\r\n");
        else if (mode == 2 && c == '\n')
            tb_puts(out, " \n\t");
        else if (mode == 3 && c == '\n') {
            while (i + 1 < n && s[i + 1] == '\n')
                i++;
            tb_putc(out, ' ');
        } else
            tb_putc(out, c);
    }
}

static int is_punct_mark(char c)
{
    return c == ',' || c == '.' || c == ';' || c == ':' || c == '!' || c == '?';
}

static void vary_punct(struct tbuf *out, const char *s, size_t n, struct rng *r)
{
    unsigned mode = rng_below(r, 2);

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (mode == 0 && c == '.' && i + 2 < n && s[i + 1] == ' ' &&
            is_upper((unsigned char)s[i + 2]) && rng_chance(r, 0.6)) {
            tb_putc(out, '.');
            i++; /* "said Monday.The two sides", as wire feeds glue */
            continue;
        }
        if (mode == 1 && is_punct_mark(c) && i > 0 && s[i - 1] != ' ' &&
            (i + 1 == n || s[i + 1] == ' ' || s[i + 1] == '\n' ||
             s[i + 1] == '"') &&
            rng_chance(r, 0.5))
            tb_putc(out, ' ');
        tb_putc(out, c);
    }
}

static void vary_normalized(struct tbuf *text, struct tbuf *tmp, struct rng *r)
{
    unsigned mask = 1 + rng_below(r, 7);
    size_t orig_len = text->len;
    uint64_t orig_hash = hash_bytes(text->p, text->len);

    for (unsigned bit = 1; bit <= 4; bit <<= 1) {
        if (!(mask & bit))
            continue;
        tmp->len = 0;
        if (bit == 1)
            vary_case(tmp, text->p, text->len, r);
        else if (bit == 2)
            vary_space(tmp, text->p, text->len, r);
        else
            vary_punct(tmp, text->p, text->len, r);
        struct tbuf t = *text;
        *text = *tmp;
        *tmp = t;
    }
    /* The variant must differ in bytes, or it would be an exact copy. */
    if (text->len == orig_len && hash_bytes(text->p, text->len) == orig_hash)
        for (size_t i = 0; i < text->len; i++)
            if (is_lower((unsigned char)text->p[i]))
                text->p[i] = (char)(text->p[i] - 32);
}

/* ---- JSON output. */

/* Bytes that JSON must escape: control characters, '"' and '\\'. */
static int json_plain8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t quote = w ^ (ones * '"'), bslash = w ^ (ones * '\\');
    uint64_t hit = ((w - ones * 0x20) & ~w) |   /* a byte below 0x20 */
                   ((quote - ones) & ~quote) |  /* a '"' */
                   ((bslash - ones) & ~bslash); /* a '\\' */
    return (hit & high) == 0;
}

static void json_string(struct tbuf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0, i = 0;

    tb_reserve(out, n + 2);
    tb_putc(out, '"');
    while (i < n) {
        uint64_t w;
        if (i + 8 <= n) {
            memcpy(&w, s + i, 8);
            if (json_plain8(w)) {
                i += 8;
                continue;
            }
        }
        unsigned char c = (unsigned char)s[i++];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        tb_put(out, s + run, i - 1 - run);
        run = i;
        tb_putc(out, '\\');
        switch (c) {
        case '"':
        case '\\':
            tb_putc(out, (char)c);
            break;
        case '\n':
            tb_putc(out, 'n');
            break;
        case '\r':
            tb_putc(out, 'r');
            break;
        case '\t':
            tb_putc(out, 't');
            break;
        default:
            tb_puts(out, "u00");
            tb_putc(out, hex[c >> 4]);
            tb_putc(out, hex[c & 15]);
            break;
        }
    }
    tb_put(out, s + run, n - run);
    tb_putc(out, '"');
}

static void put_id(struct tbuf *out, uint64_t docno)
{
    char id[32];
    int n =
        snprintf(id, sizeof(id), "\"gen-%09llu\"", (unsigned long long)docno);
    tb_put(out, id, (size_t)n);
}

/* ---- Options: one table drives parsing and --help. */

struct config {
    uint64_t seed, docs, bytes, window;
    double exact_rate, norm_rate, near_rate, hard_rate, repeat_rate;
    double strength;
    const char *out, *truth, *pairs;
};

enum opt_type { OPT_COUNT, OPT_SIZE, OPT_RATE, OPT_PATH, OPT_HELP };

struct opt_def {
    const char *name;
    const char *arg;
    enum opt_type type;
    size_t offset;
    const char *help;
};

#define CFG(f) offsetof(struct config, f)

static const struct opt_def opt_defs[] = {
    {"seed", "N", OPT_COUNT, CFG(seed),
     "seed of everything generated (default 1);\n"
     "the same options give the same bytes"},
    {"docs", "N", OPT_COUNT, CFG(docs),
     "number of records (default 1000 unless --bytes)"},
    {"bytes", "SIZE", OPT_SIZE, CFG(bytes),
     "stop before the output would pass SIZE bytes; K, M,\n"
     "G are powers of 1024 (200M, 1G); with --docs, the\n"
     "first limit reached wins"},
    {"exact-rate", "R", OPT_RATE, CFG(exact_rate),
     "share of records that are byte-identical copies of\n"
     "an earlier story (default 0.04)"},
    {"norm-rate", "R", OPT_RATE, CFG(norm_rate),
     "share of records that are copies equal only after\n"
     "normalization: case, whitespace, punctuation\n"
     "spacing (default 0.03)"},
    {"near-rate", "R", OPT_RATE, CFG(near_rate),
     "share of records that are republished, edited near\n"
     "copies (default 0.08)"},
    {"hard-rate", "R", OPT_RATE, CFG(hard_rate),
     "share of hard negatives: new stories with the cast\n"
     "and topic of an earlier one (default 0.05)"},
    {"repeat-rate", "R", OPT_RATE, CFG(repeat_rate),
     "share of new stories that repeat some of their own\n"
     "sentences (default 0.03)"},
    {"near-strength", "S", OPT_RATE, CFG(strength),
     "edit strength of near copies, 0 to 1 (default 0.10):\n"
     "the chance that a sentence is edited; the top of\n"
     "bench/gen.c gives the Jaccard each strength yields"},
    {"window", "N", OPT_COUNT, CFG(window),
     "copies take their source among the last N stories\n"
     "(default 1000)"},
    {"out", "FILE", OPT_PATH, CFG(out), "records, JSONL (default stdout)"},
    {"truth", "FILE", OPT_PATH, CFG(truth),
     "one {\"id\", \"cluster\"} line per record; a copy has\n"
     "the cluster of its original, named after its id"},
    {"pairs", "FILE", OPT_PATH, CFG(pairs),
     "labelled pairs {\"id_a\", \"id_b\", \"label\", \"kind\"}:\n"
     "each copy with its original (label 1, kind exact,\n"
     "exact-norm or near), each hard negative with its\n"
     "source (label 0, kind hard)"},
    {"help", NULL, OPT_HELP, 0, "show this help and exit"},
};

static void usage(FILE *f)
{
    fputs(
        "usage: gen [options]\n"
        "\n"
        "Write a seeded, news-like JSONL corpus with planted exact and\n"
        "near duplicates, hard negatives and self-repeating documents,\n"
        "and their ground truth. Records are\n"
        "{\"id\":\"gen-000000001\",\"site\":\"...\",\"text\":\"...\"}; a copy\n"
        "always comes after its original. A summary goes to stderr.\n"
        "\n",
        f);
    for (size_t i = 0; i < ARRAY_LEN(opt_defs); i++) {
        const struct opt_def *o = &opt_defs[i];
        char head[40];
        snprintf(head, sizeof(head), "--%s%s%s", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        fprintf(f, "  %-20s", head);
        for (const char *p = o->help; *p; p++) {
            fputc(*p, f);
            if (*p == '\n')
                fprintf(f, "  %-20s", "");
        }
        fputc('\n', f);
    }
    fputs("\nExit status: 0 on success, 1 on a write error, 2 on bad usage.\n",
          f);
}

static void usage_error(const char *what, const char *value)
{
    fprintf(stderr, "gen: %s '%s'\nTry 'gen --help'.\n", what, value);
    exit(2);
}

static int parse_u64(const char *s, uint64_t *v, int sized)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -1;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno)
        return -1;
    if (sized && *end) {
        int shift = 0;
        switch (*end) {
        case 'k':
        case 'K':
            shift = 10;
            break;
        case 'm':
        case 'M':
            shift = 20;
            break;
        case 'g':
        case 'G':
            shift = 30;
            break;
        case 't':
        case 'T':
            shift = 40;
            break;
        default:
            return -1;
        }
        end++;
        if (*end == 'B' || *end == 'b')
            end++;
        if (x > (ULLONG_MAX >> shift))
            return -1;
        x <<= shift;
    }
    if (*end)
        return -1;
    *v = x;
    return 0;
}

static void parse_args(int argc, char **argv, struct config *cfg)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        size_t len;
        if (strncmp(a, "--", 2) != 0)
            usage_error("unexpected argument", a);
        a += 2;
        const char *eq = strchr(a, '=');
        len = eq ? (size_t)(eq - a) : strlen(a);
        const struct opt_def *o = NULL;
        for (size_t k = 0; k < ARRAY_LEN(opt_defs); k++)
            if (strlen(opt_defs[k].name) == len &&
                memcmp(opt_defs[k].name, a, len) == 0)
                o = &opt_defs[k];
        if (!o)
            usage_error("unknown option", argv[i]);
        if (o->type == OPT_HELP) {
            usage(stdout);
            exit(0);
        }
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else
            usage_error("missing value for", argv[i]);
        char *field = (char *)cfg + o->offset;
        switch (o->type) {
        case OPT_COUNT:
        case OPT_SIZE:
            if (parse_u64(val, (uint64_t *)(void *)field, o->type == OPT_SIZE))
                usage_error("invalid number", val);
            break;
        case OPT_RATE: {
            char *end;
            double d = strtod(val, &end);
            if (*val == '\0' || *end || !(d >= 0.0 && d <= 1.0))
                usage_error("invalid rate (want 0 to 1)", val);
            *(double *)(void *)field = d;
            break;
        }
        case OPT_PATH:
            *(const char **)(void *)field = val;
            break;
        case OPT_HELP:
            break;
        }
    }
    if (cfg->exact_rate + cfg->norm_rate + cfg->near_rate + cfg->hard_rate >
        1.0)
        usage_error("the copy and hard-negative rates add up to more than",
                    "1");
    if (cfg->window == 0 || cfg->window > (1u << 24))
        usage_error("invalid window (want 1 to 16777216)", "--window");
    if (cfg->docs == 0 && cfg->bytes == 0)
        cfg->docs = 1000;
}

/* ---- Main loop. */

enum kind { K_ORIGINAL, K_HARD, K_EXACT, K_NORM, K_NEAR };

/* An original that later documents may copy: enough to regenerate it. */
struct origin {
    uint64_t docno, cast_seed, body_seed;
    uint32_t copies;
    int16_t offset;
    uint8_t repeat;
    uint8_t kinds; /* bit per copy kind seen, for the summary */
};

struct counts {
    uint64_t docs, bytes, originals, repeats, hard;
    uint64_t copies[5], groups, groups_by[5];
};

static FILE *open_out(const char *path)
{
    FILE *f = path ? fopen(path, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "gen: cannot open '%s': %s\n", path, strerror(errno));
        exit(1);
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    return f;
}

static void write_all(FILE *f, const char *path, const struct tbuf *b)
{
    if (b->len && fwrite(b->p, 1, b->len, f) != b->len) {
        fprintf(stderr, "gen: cannot write '%s': %s\n",
                path ? path : "(stdout)", strerror(errno));
        exit(1);
    }
}

static void close_out(FILE *f, const char *path)
{
    if (!f)
        return;
    if (fflush(f) != 0 || ferror(f) || (f != stdout && fclose(f) != 0)) {
        fprintf(stderr, "gen: cannot write '%s': %s\n",
                path ? path : "(stdout)", strerror(errno));
        exit(1);
    }
}

static void put_pair(struct tbuf *b, uint64_t a, uint64_t c, int label,
                     const char *kind)
{
    tb_puts(b, "{\"id_a\": ");
    put_id(b, a);
    tb_puts(b, ", \"id_b\": ");
    put_id(b, c);
    tb_puts(b, ", \"label\": ");
    tb_putc(b, label ? '1' : '0');
    tb_puts(b, ", \"kind\": \"");
    tb_puts(b, kind);
    tb_puts(b, "\"}\n");
}

int main(int argc, char **argv)
{
    static const char *const kind_names[] = {"original", "hard", "exact",
                                             "exact-norm", "near"};
    struct config cfg = {
        .seed = 1,
        .window = 1000,
        .exact_rate = 0.04,
        .norm_rate = 0.03,
        .near_rate = 0.08,
        .hard_rate = 0.05,
        .repeat_rate = 0.03,
        .strength = 0.10,
    };
    struct grammar g;
    struct story st;
    struct tbuf text = {0}, tmp = {0}, rec = {0}, truth = {0}, pairs = {0};
    struct counts c;
    struct timespec t0, t1;

    parse_args(argc, argv, &cfg);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    grammar_compile(&g);
    memset(&st, 0, sizeof(st));
    memset(&c, 0, sizeof(c));

    struct origin *ring = calloc(cfg.window, sizeof(*ring));
    if (!ring)
        die("out of memory");
    FILE *out = open_out(cfg.out);
    FILE *ftruth = cfg.truth ? open_out(cfg.truth) : NULL;
    FILE *fpairs = cfg.pairs ? open_out(cfg.pairs) : NULL;
    double cut[4];
    cut[0] = cfg.hard_rate;
    cut[1] = cut[0] + cfg.exact_rate;
    cut[2] = cut[1] + cfg.norm_rate;
    cut[3] = cut[2] + cfg.near_rate;

    for (uint64_t docno = 1; !cfg.docs || docno <= cfg.docs; docno++) {
        struct rng r;
        uint64_t mix = cfg.seed * 0xd1342543de82ef95ULL + docno;
        rng_seed(&r, splitmix64(&mix));

        double u = rng_unit(&r);
        enum kind kind = u < cut[0]   ? K_HARD
                         : u < cut[1] ? K_EXACT
                         : u < cut[2] ? K_NORM
                         : u < cut[3] ? K_NEAR
                                      : K_ORIGINAL;
        uint64_t have = c.originals < cfg.window ? c.originals : cfg.window;
        struct origin *src = NULL, me = {0};
        const char *site;

        if (have == 0)
            kind = K_ORIGINAL;
        else if (kind != K_ORIGINAL)
            src = &ring[(c.originals - 1 - rng_below(&r, (uint32_t)have)) %
                        cfg.window];

        text.len = 0;
        if (kind == K_ORIGINAL || kind == K_HARD) {
            me.docno = docno;
            me.body_seed = rng_next(&r);
            me.cast_seed = kind == K_HARD ? src->cast_seed : me.body_seed;
            me.offset = (int16_t)(kind == K_HARD ? 1 + rng_below(&r, 6) : 0);
            me.repeat = (uint8_t)rng_chance(&r, cfg.repeat_rate);
            story_cast(&st, &g, me.cast_seed);
            story_body(&st, &g, me.body_seed, me.offset, me.repeat);
            render_wire(&st, &text);
            site = gen_agencies[st.agency].domain;
        } else {
            story_cast(&st, &g, src->cast_seed);
            story_body(&st, &g, src->body_seed, src->offset, src->repeat);
            if (kind == K_NEAR) {
                story_edit(&st, &g, &r, cfg.strength);
                if (rng_chance(&r, 0.75)) {
                    const struct gen_site *s =
                        &gen_sites[rng_below(&r, ARRAY_LEN(gen_sites))];
                    render_site(&st, &g, &r, s, &text);
                    site = s->domain;
                } else {
                    story_layout(&st, &r);
                    render_wire(&st, &text);
                    site = gen_mirrors[rng_below(&r, ARRAY_LEN(gen_mirrors))];
                }
            } else {
                render_wire(&st, &text);
                if (kind == K_NORM)
                    vary_normalized(&text, &tmp, &r);
                site = gen_mirrors[rng_below(&r, ARRAY_LEN(gen_mirrors))];
            }
        }

        rec.len = 0;
        tb_puts(&rec, "{\"id\":");
        put_id(&rec, docno);
        tb_puts(&rec, ",\"site\":");
        json_string(&rec, site, strlen(site));
        tb_puts(&rec, ",\"text\":");
        json_string(&rec, text.p, text.len);
        tb_puts(&rec, "}\n");
        if (cfg.bytes && c.docs > 0 && c.bytes + rec.len > cfg.bytes)
            break;

        write_all(out, cfg.out, &rec);
        c.docs++;
        c.bytes += rec.len;
        if (ftruth) {
            truth.len = 0;
            tb_puts(&truth, "{\"id\": ");
            put_id(&truth, docno);
            tb_puts(&truth, ", \"cluster\": ");
            put_id(&truth, kind >= K_EXACT ? src->docno : docno);
            tb_puts(&truth, "}\n");
            write_all(ftruth, cfg.truth, &truth);
        }
        if (fpairs && src) {
            pairs.len = 0;
            put_pair(&pairs, src->docno, docno, kind != K_HARD,
                     kind_names[kind]);
            write_all(fpairs, cfg.pairs, &pairs);
        }
        if (kind == K_ORIGINAL || kind == K_HARD) {
            c.repeats += me.repeat;
            c.hard += kind == K_HARD;
            ring[c.originals % cfg.window] = me;
            c.originals++;
        } else {
            c.copies[kind]++;
            c.groups += src->copies++ == 0;
            c.groups_by[kind] += !(src->kinds & (1u << kind));
            src->kinds |= (uint8_t)(1u << kind);
        }
    }
    close_out(out, cfg.out);
    close_out(ftruth, cfg.truth);
    close_out(fpairs, cfg.pairs);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr,
            "gen: seed %llu: %llu docs, %llu bytes in %.2f s (%.0f MB/s); "
            "originals %llu (hard negatives %llu, self-repeating %llu); "
            "planted groups %llu (with exact copies %llu, normalized %llu, "
            "near %llu); copies exact %llu, normalized %llu, near %llu\n",
            (unsigned long long)cfg.seed, (unsigned long long)c.docs,
            (unsigned long long)c.bytes, secs,
            secs > 0 ? (double)c.bytes / secs / 1e6 : 0.0,
            (unsigned long long)c.originals, (unsigned long long)c.hard,
            (unsigned long long)c.repeats, (unsigned long long)c.groups,
            (unsigned long long)c.groups_by[K_EXACT],
            (unsigned long long)c.groups_by[K_NORM],
            (unsigned long long)c.groups_by[K_NEAR],
            (unsigned long long)c.copies[K_EXACT],
            (unsigned long long)c.copies[K_NORM],
            (unsigned long long)c.copies[K_NEAR]);

    free(ring);
    free(text.p);
    free(tmp.p);
    free(rec.p);
    free(truth.p);
    free(pairs.p);
    free(st.vars.p);
    free(st.text.p);
    free(st.scratch.p);
    grammar_release(&g);
    return 0;
}
