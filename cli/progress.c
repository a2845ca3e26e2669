/*
 * progress.c - the progress line of the long commands (dedup, passages,
 * lines, repeats, index add/check), drawn from the library's progress
 * sink (struct wn_progress): the stage, records, bytes, MB/s, percent and
 * time left when the input size is known.
 *
 * On a terminal (stderr) the line is redrawn in place at most four times a
 * second and cleared at the end; elsewhere nothing is drawn, unless
 * --progress[=SECONDS] asks for plain lines every SECONDS (default 5, and
 * at each new stage) for batch logs. --quiet silences it in every case.
 */
#include "cli.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

int cli_progress_forced = 0;
double cli_progress_interval = 5.0;

/* The progress of the run going on, to clear its line before a message. */
static struct cli_progress *active;

/* Redraws on a terminal, at most this often. */
#define TTY_INTERVAL 0.25

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* n with thousands separators into buf. */
static const char *num(char *buf, size_t cap, uint64_t n)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)n);
    size_t k = 0;
    for (int i = 0; i < len && k + 2 < cap; i++) {
        if (i && (len - i) % 3 == 0)
            buf[k++] = ',';
        buf[k++] = tmp[i];
    }
    buf[k] = '\0';
    return buf;
}

static void draw(struct cli_progress *p, const struct wn_progress *w,
                 double now)
{
    char line[256], a[32], b[32];
    size_t k = 0;
#define ADD(...)                                                               \
    do {                                                                       \
        int n_ = snprintf(line + k, sizeof(line) - k, __VA_ARGS__);            \
        if (n_ > 0)                                                            \
            k = k + (size_t)n_ < sizeof(line) ? k + (size_t)n_                 \
                                              : sizeof(line) - 1;              \
    } while (0)
    /* At least a millisecond: the first report of a stage has a rate and
     * a time left too. */
    double dt = now - p->stage_t0 > 1e-3 ? now - p->stage_t0 : 1e-3;
    ADD("winnow %s: %s", p->cmd, w->stage);
    const char *unit = w->unit ? w->unit : "records";
    if (w->records) {
        ADD(", %s", num(a, sizeof(a), w->records));
        if (w->total_records)
            ADD(" of %s", num(b, sizeof(b), w->total_records));
        ADD(" %s", unit);
    } else if (w->total_records) {
        /* A stage starting: what it goes through. */
        ADD(", %s %s", num(b, sizeof(b), w->total_records), unit);
    }
    double frac = -1, rate = 0;
    if (w->bytes) {
        ADD(", %.1f", w->bytes / 1e6);
        if (w->total_bytes)
            ADD(" of %.1f", w->total_bytes / 1e6);
        ADD(" MB");
        rate = w->bytes / 1e6 / dt;
        if (w->total_bytes)
            frac = (double)w->bytes / (double)w->total_bytes;
        ADD(", %.1f MB/s", rate);
    } else if (w->records && w->total_records) {
        frac = (double)w->records / (double)w->total_records;
        rate = w->records / dt;
        ADD(", %.0f %s/s", rate, unit);
    }
    if (frac >= 0) {
        frac = frac > 0.999 ? 0.999 : frac;
        ADD(", %d%%", (int)(frac * 100));
        if (frac > 0) {
            double left = dt * (1 - frac) / frac;
            ADD(", %d:%02d left", (int)left / 60, (int)left % 60);
        }
    }
    ADD(", %.0f s", now - p->t0);
#undef ADD
    if (p->tty)
        fprintf(stderr, "\r%s\033[K", line);
    else
        fprintf(stderr, "%s\n", line);
    p->drawn = true;
}

static void on_progress(void *ud, const struct wn_progress *w)
{
    struct cli_progress *p = ud;
    double now = mono_now();
    bool new_stage = !p->stage || strcmp(p->stage, w->stage) != 0;
    if (new_stage) {
        p->stage = w->stage;
        p->stage_t0 = now;
    }
    double every = p->tty ? TTY_INTERVAL : cli_progress_interval;
    if (!new_stage && now - p->last < every)
        return;
    p->last = now;
    draw(p, w, now);
}

void cli_progress_start(struct cli_progress *p, const char *cmd,
                        struct wn_progress_sink *sink)
{
    memset(p, 0, sizeof(*p));
    p->cmd = cmd;
    p->t0 = mono_now();
    bool tty = isatty(STDERR_FILENO);
    /* --progress gives plain lines even on a terminal: a log is wanted. */
    p->tty = tty && !cli_progress_forced;
    bool on = cli_verbosity >= 0 && (cli_progress_forced || tty);
    sink->fn = on ? on_progress : NULL;
    sink->ud = on ? p : NULL;
    active = p;
}

void cli_progress_interrupt(void)
{
    if (active && active->tty && active->drawn) {
        fputs("\r\033[K", stderr); /* redrawn at the next report */
        active->drawn = false;
    }
}

void cli_progress_end(struct cli_progress *p)
{
    if (p->tty && p->drawn)
        fputs("\r\033[K", stderr);
    p->drawn = false;
    if (active == p)
        active = NULL;
}
