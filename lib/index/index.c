/*
 * index.c - the persistent index behind wn_index_*: LMDB (Chu 2011), one
 * environment in a directory, five named databases.
 *
 *   meta     "magic" -> "WNIX", "version" -> 1 (u32 LE), "params" -> the
 *            rule as "name value" lines (judge.c), compared at open.
 *   records  u32 record number (MDB_INTEGERKEY) -> varint (id length << 1
 *            | has a time field), varint zigzag time, the id bytes, the
 *            stored sketch (judge.c: the encoded sketch less its header,
 *            section headers and band keys). Numbers only grow (appended
 *            with MDB_APPEND), so this tree is packed full. The keys are
 *            not kept here: a lookup knows which of its keys found a
 *            record, which is what verification needs of them, and expire
 *            finds a record's key entries by its number.
 *   ids      the id (or, over 480 bytes, its first 464 bytes and a 128-bit
 *            hash) -> u32 record number. An id is indexed once.
 *   keys     u32 prefix (the top 12 bits of a 64-bit key) -> u64 values
 *            (next 32 bits of the key << 32 | record number), with
 *            MDB_DUPSORT | MDB_DUPFIXED: the values of one prefix sit in
 *            packed pages with no per-entry header, 8 bytes each, and the
 *            4096 prefixes keep those sub-trees many pages deep (a prefix
 *            per page would leave each page half empty). A record has its
 *            exact-hash key and, unless its text has no shingles, one key
 *            per LSH band. 44 of the 64 key bits are compared; a collision
 *            of the rest only adds a candidate, and every candidate is
 *            verified.
 *   times    time (u64, sign bit flipped so that order is numeric) ->
 *            u32 record numbers (DUPSORT | DUPFIXED): what expire walks.
 *
 * A check is one write transaction: look up, verify, add when new. Batches
 * of checks share one (the group commit of winnow serve; with sync_later
 * the commit syncs its pages and wn_index_sync the rest, MDB_NOMETASYNC).
 * With the write-ahead log (the wal option, wal.c) a check's add is staged
 * in an in-memory overlay and appended to the log instead, and reaches
 * LMDB at a checkpoint; meta "ckpt" says which logged records LMDB holds.
 * A warm handle answers most lookups of absent keys from a filter of the
 * main tier's keys (struct keyfilter) instead of LMDB's trees.
 * Readers run read-only transactions, concurrently with the one writer (LMDB's
 * MVCC), in this process (MDB_NOTLS: a read transaction is not tied to a
 * thread) and in others. When a write fails with MDB_MAP_FULL the map is
 * doubled and the transaction run again; a map grown by another process is
 * adopted when a transaction begins with MDB_MAP_RESIZED. Changing the map size
 * needs every transaction of this process finished, so each transaction
 * holds a read lock of `grow` and the resize takes it exclusively.
 *
 * Cost of a check: (bands + 1) cursor lookups, one verification per
 * candidate, and on an add bands + 4 puts: O((bands + candidates) log N).
 */
/* The feature macro of sched_setscheduler's SCHED_IDLE and gettid, not a
 * name of ours: */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define _GNU_SOURCE
#include "index/judge.h"
#include "index/wal.h"
#include "sketch/hash128.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INDEX_MAGIC      "WNIX"
#define INDEX_VERSION    2u
#define ID_KEY_MAX       480u /* ids longer than this are keyed by a hash */
#define ID_MAX           4096u
#define REC_HEAD         20u /* the two varints of a record, at most */
#define PREFIX_BITS      12u
#define EXPIRE_SET       (1u << 20) /* records per scan of the keys */
#define PREFIXES_PER_TXN 256u
#define DEFAULT_MAPSIZE  (1ull << 30)
#define SCRATCH_MAX      16u
#define CKPT_AT          8192u /* logged records that make a checkpoint due */
#define CKPT_TXN         1024u /* records per transaction of a checkpoint */
/* Logged records that make a background checkpoint urgent: four due. */
#define CKPT_CAP ((size_t)4 * CKPT_AT)

/* The keys of the records still in `pending`, in memory: an open-addressing
 * table of (key, record) pairs, repeats allowed, linear probing. */
struct memtable {
    struct mt_slot {
        uint64_t key;
        uint32_t rec;
        uint32_t used;
    } * slot;
    size_t mask, n;
    uint64_t gen;   /* the merge generation it was loaded for */
    int64_t loaded; /* pending records up to this number are in it */
};

/* A logged record (the write-ahead log's frame payload, index.c's format):
 * u32 record number, u32 key count, the keys (u64 LE, the exact key last:
 * what `pending` holds), then the record's value as `records` holds it. */
struct ov_rec {
    uint32_t rec, nk;
    size_t len; /* of data */
    unsigned char data[];
};

/* A part of the overlay: records by ascending number, with their keys and
 * id hashes in tables like the pending tier's. */
struct ov_part {
    struct ov_rec **r;
    size_t n, cap;
    struct memtable keys, ids;
};

/* The overlay: logged records not yet in LMDB (checkpointed), in two
 * parts: `sealed`, the records a checkpoint is putting into LMDB (fixed
 * while it runs), and `active`, the records logged since, which the
 * writer appends to; every sealed number is below every active one. A
 * checkpoint seals the active part by swapping the two (the sealed one is
 * empty then) and drops the sealed part when LMDB holds it: no table is
 * rebuilt with the writer waiting. An entry's memory stays put until it is
 * dropped, which happens only with `grow` held exclusively (no transaction
 * running), so a lookup may point into it for the length of its
 * transaction. */
struct overlay {
    pthread_mutex_t mu;
    struct ov_part sealed, active;
    /* sealed.n + active.n, changed under mu, read without it: by a
     * thread at idle priority, which must not hold mu (bg_check). */
    atomic_size_t count;
};

/* The main tier's keys in memory, as a blocked Bloom filter (Putze,
 * Sanders and Singler 2007: every key's bits in one 64-byte block, one
 * cache line), built by wn_index_warm. A fresh record's keys are nearly
 * all absent from the main tier (a 44-bit key of 17 collides with one of
 * 15 million with a chance of about 1e-5), and a lookup in LMDB costs
 * some five pages' cache and TLB misses: the filter answers "absent" with
 * one. It may hold keys the tree does not (expired records, a merge that
 * failed): those only cost a lookup. It must hold every key of the tree
 * in the snapshot it serves: it is used only while the snapshot's merge
 * generation is `gen`, the generation whose keys it was built with or
 * given by this handle's own merges (each key is set before the
 * transaction that puts it is committed). A merge by another process
 * bumps the generation past it, and lookups go to LMDB again. */
struct keyfilter {
    _Atomic uint64_t *w; /* 8 words a block */
    size_t mask;         /* blocks - 1 */
    _Atomic uint64_t gen;
    atomic_bool ready;
};

struct wn_index {
    MDB_env *env;
    MDB_dbi meta, recs, ids, keys, times, pending;
    pthread_mutex_t mt_mu;
    struct memtable mt;
    int auto_merge;
    struct wn__judge *judge;
    struct wn_dedup_options rule;
    pthread_rwlock_t grow;
    int read_only;
    char *path;
    /* Sketching scratch (struct wn_sketch) of finished item creations, for
     * the next ones: a stack of up to SCRATCH_MAX. */
    pthread_mutex_t scratch_mu;
    void *scratch[SCRATCH_MAX];
    size_t nscratch;
    /* The write-ahead log (o->wal): a logging handle stages its adds in
     * the overlay and appends them to the log, holding wal_mu for the
     * group; ckpt_mu makes checkpoints one at a time. Read-only handles
     * hold the log's records of when they opened in the overlay. */
    struct wn__wal *wal;
    int logging, sync_later;
    pthread_mutex_t wal_mu, ckpt_mu;
    struct overlay ov;
    uint64_t next_rec; /* the logging writer's next record number */
    /* The sealed part's checkpoint (ckpt_mu): records below ckpt_cut are
     * in LMDB once it is written; the log files up to ckpt_done hold
     * them. Kept across a failed attempt, which the next one finishes. */
    uint64_t ckpt_cut, ckpt_done;
    /* Background checkpoints and merges (o->background, where allowed):
     * the thread writing LMDB at idle priority now, or 0. */
    int background;
    atomic_int idle_tid;
    struct keyfilter kf;
    pthread_mutex_t merge_mu; /* a merge, or the filter's build, at once */
    struct wn_buf wbuf;       /* the frames of the group being checked */
};

struct wn_index_item {
    struct wn__jsketch sk;
    char *id;
    size_t id_len;
    int has_time;
    int64_t time;
};

/* A verified candidate while a result is built. */
struct cand {
    uint32_t rec;
    struct wn__verdict v;
};

/* The scratch of one apply: candidate numbers and verdicts. */
struct work {
    uint64_t *nums; /* record number << 16 | the index of the key found */
    size_t nnums, numcap;
    struct cand *c;
    size_t nc, ccap;
    struct wn__jverify jv;
};

void wn_index_options_init(struct wn_index_options *o)
{
    memset(o, 0, sizeof(*o));
    wn_dedup_options_init(&o->dedup);
    /* The index judges pairs one at a time through its band keys: it has
     * neither the news rule's anchor and flash candidates nor corpus word
     * counts, so its default stays the classic rule (docs/INDEX.md). */
    o->dedup.profile = WN_PROFILE_CLASSIC;
    o->dedup.threshold = 0.8;
}

const char *wn_index_reason_name(int reason)
{
    switch (reason) {
    case WN_REASON_ID:
        return "id";
    case WN_REASON_NONE:
        return NULL;
    default:
        return wn_reason_name(reason);
    }
}

/* LMDB's codes (errno values, or MDB_* below -30000) as statuses; ours
 * (small negatives) pass through. */
static int status_of(int rc)
{
    if (rc == 0)
        return WN_OK;
    if (rc < 0 && rc > -1000)
        return rc;
    if (rc == ENOMEM)
        return WN_ENOMEM;
    if (rc == ENOSPC)
        return WN_ENOSPC;
    if (rc == EFBIG)
        return WN_EFBIG;
    if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
        return WN_EFORMAT;
    return WN_EIO;
}

static void say(char *msg, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *msg, size_t cap, const char *fmt, ...)
{
    if (!msg || !cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
}

static uint64_t time_key(int64_t t)
{
    return (uint64_t)t ^ (1ull << 63);
}

static int64_t now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

/* ------------------------------------------------------------------------ */
/* Transactions and the growing map                                         */
/* ------------------------------------------------------------------------ */

/* Double the map (full) or adopt another process's size (!full). */
static int grow_map(struct wn_index *ix, uint64_t seen)
{
    pthread_rwlock_wrlock(&ix->grow);
    MDB_envinfo info;
    mdb_env_info(ix->env, &info);
    int rc = 0;
    if (!seen)
        rc = mdb_env_set_mapsize(ix->env, 0);
    else if (info.me_mapsize == seen) /* nobody grew it meanwhile */
        rc = mdb_env_set_mapsize(ix->env, seen * 2);
    pthread_rwlock_unlock(&ix->grow);
    return rc;
}

typedef int (*txn_fn)(struct wn_index *ix, MDB_txn *txn, void *arg);
static void mt_clear(struct memtable *m);
static void ov_release(struct overlay *ov);
static int wal_setup(struct wn_index *ix, const struct wn_index_options *o,
                     char *msg, size_t cap);

/* ------------------------------------------------------------------------ */
/* Background priority                                                      */
/* ------------------------------------------------------------------------ */

/*
 * A checkpoint's or a merge's LMDB transactions take tens of milliseconds
 * of CPU each time. On a machine whose cores the checks keep busy, they
 * would take a core from the request threads and the writer, and every
 * check in flight would wait: the latency's tail. With `background` they
 * run at SCHED_IDLE, on cores the checks leave free; they hold no lock a
 * check waits for meanwhile (the steps that do, sealing and dropping the
 * overlay's part, run at the thread's own priority), so an idle thread
 * that is not scheduled holds nothing up but its own work. That work has
 * a cap: with CKPT_CAP logged records waiting, the thread goes back to
 * its priority (between its transactions, or at once when the writer
 * urges it), so that the overlay cannot grow without bound on a machine
 * that is never idle.
 */
struct bg {
    int policy;
    struct sched_param sp;
    bool on;
};

static void *idle_probe(void *arg)
{
    int *ok = arg;
    struct sched_param sp = {0};
    *ok = sched_setscheduler(0, SCHED_IDLE, &sp) == 0 &&
          sched_setscheduler(0, SCHED_OTHER, &sp) == 0;
    return NULL;
}

/* Whether this process may bring a thread back from SCHED_IDLE: tried on
 * a thread of its own, which ends either way. */
static bool idle_allowed(void)
{
    pthread_t t;
    int ok = 0;
    if (pthread_create(&t, NULL, idle_probe, &ok))
        return false;
    pthread_join(t, NULL);
    return ok;
}

/* Lower the calling thread to SCHED_IDLE for LMDB's writes, unless the
 * overlay is at its cap. */
static void bg_enter(struct wn_index *ix, struct bg *b)
{
    b->on = false;
    if (!ix->background || wn_index_logged(ix) >= CKPT_CAP)
        return;
    b->policy = sched_getscheduler(0);
    if (b->policy < 0 || b->policy == SCHED_IDLE || sched_getparam(0, &b->sp))
        return;
    struct sched_param sp = {0};
    if (sched_setscheduler(0, SCHED_IDLE, &sp))
        return;
    atomic_store(&ix->idle_tid, (int)gettid());
    b->on = true;
}

/* Back to the thread's own priority. */
static void bg_leave(struct wn_index *ix, struct bg *b)
{
    if (!b->on)
        return;
    atomic_store(&ix->idle_tid, 0);
    sched_setscheduler(0, b->policy, &b->sp);
    b->on = false;
}

/* Between transactions: the cap reached, go on at the own priority. */
static void bg_check(struct wn_index *ix, struct bg *b)
{
    if (b->on && wn_index_logged(ix) >= CKPT_CAP)
        bg_leave(ix, b);
}

/* The writer, after a group: with the cap reached while a checkpoint or
 * merge writes at idle priority, raise that thread to the normal one. */
static void bg_urge(struct wn_index *ix)
{
    if (!atomic_load(&ix->idle_tid) || wn_index_logged(ix) < CKPT_CAP)
        return;
    int tid = atomic_exchange(&ix->idle_tid, 0);
    struct sched_param sp = {0};
    if (tid)
        sched_setscheduler(tid, SCHED_OTHER, &sp);
}

/* Run fn in a transaction (write unless rdonly), committing when it
 * returns 0; retried after growing the map. */
static int run_txn(struct wn_index *ix, int rdonly, txn_fn fn, void *arg)
{
    for (;;) {
        pthread_rwlock_rdlock(&ix->grow);
        MDB_envinfo info;
        mdb_env_info(ix->env, &info);
        MDB_txn *txn = NULL;
        int rc = mdb_txn_begin(ix->env, NULL, rdonly ? MDB_RDONLY : 0, &txn);
        if (rc == MDB_MAP_RESIZED) {
            pthread_rwlock_unlock(&ix->grow);
            rc = grow_map(ix, 0);
            if (rc)
                return status_of(rc);
            continue;
        }
        if (rc) {
            pthread_rwlock_unlock(&ix->grow);
            return status_of(rc);
        }
        rc = fn(ix, txn, arg);
        if (rc == 0 && !rdonly)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
        if (rc && !rdonly) {
            /* The pending table may hold entries of this transaction,
             * whose numbers the next one reuses: load it again. */
            pthread_mutex_lock(&ix->mt_mu);
            mt_clear(&ix->mt);
            pthread_mutex_unlock(&ix->mt_mu);
        }
        pthread_rwlock_unlock(&ix->grow);
        if (rc == MDB_MAP_FULL && !rdonly) {
            rc = grow_map(ix, info.me_mapsize);
            if (rc)
                return status_of(rc);
            continue;
        }
        return status_of(rc);
    }
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                           */
/* ------------------------------------------------------------------------ */

static MDB_val val(const void *p, size_t n)
{
    MDB_val v = {n, (void *)p};
    return v;
}

/* "threshold 0.80000000000000004" as "threshold 0.8", for messages. */
static void pretty(char *line, size_t cap)
{
    char *sp = strchr(line, ' ');
    if (!sp)
        return;
    char *end;
    double d = strtod(sp + 1, &end);
    if (end != sp + 1 && !*end)
        snprintf(sp + 1, cap - (size_t)(sp + 1 - line), "%g", d);
}

/* Compare two params texts; name the first parameter that differs. */
static int same_params(const char *have, size_t hlen, const char *want,
                       size_t wlen, char *msg, size_t cap)
{
    size_t i = 0, j = 0;
    while (i < hlen || j < wlen) {
        size_t ie = i, je = j;
        while (ie < hlen && have[ie] != '\n')
            ie++;
        while (je < wlen && want[je] != '\n')
            je++;
        if (ie - i != je - j || memcmp(have + i, want + j, ie - i) != 0) {
            char a[96] = "", b[96] = "";
            snprintf(a, sizeof(a), "%.*s", (int)(ie - i), have + i);
            snprintf(b, sizeof(b), "%.*s", (int)(je - j), want + j);
            pretty(a, sizeof(a));
            pretty(b, sizeof(b));
            say(msg, cap,
                "the index was made with '%s' and this run asks for '%s'", a,
                b);
            return WN_EMISMATCH;
        }
        i = ie + 1;
        j = je + 1;
    }
    return WN_OK;
}

static int open_dbs(struct wn_index *ix, MDB_txn *txn, unsigned create)
{
    static const unsigned dup = MDB_DUPSORT | MDB_DUPFIXED | MDB_INTEGERDUP;
    int rc = mdb_dbi_open(txn, "meta", create, &ix->meta);
    if (!rc)
        rc = mdb_dbi_open(txn, "records", create | MDB_INTEGERKEY, &ix->recs);
    if (!rc)
        rc = mdb_dbi_open(txn, "ids", create, &ix->ids);
    if (!rc)
        rc =
            mdb_dbi_open(txn, "keys", create | MDB_INTEGERKEY | dup, &ix->keys);
    if (!rc)
        rc = mdb_dbi_open(txn, "times", create | MDB_INTEGERKEY | dup,
                          &ix->times);
    if (!rc)
        rc =
            mdb_dbi_open(txn, "pending", create | MDB_INTEGERKEY, &ix->pending);
    return rc;
}

/* Read or write the meta database and make the judge. */
static int setup(struct wn_index *ix, MDB_txn *txn,
                 const struct wn_index_options *o, char *msg, size_t cap)
{
    unsigned create = ix->read_only ? 0 : MDB_CREATE;
    int rc = open_dbs(ix, txn, create);
    if (rc == MDB_NOTFOUND) {
        say(msg, cap, "'%s' is not a winnow index%s", ix->path, "");
        return WN_EFORMAT;
    }
    if (rc)
        return rc;
    MDB_val k = val("magic", 5), v;
    rc = mdb_get(txn, ix->meta, &k, &v);
    struct wn_buf want = {0};
    char jmsg[200] = "";
    if (rc == MDB_NOTFOUND) {
        if (!o->create || ix->read_only) {
            say(msg, cap, "'%s' is not a winnow index%s", ix->path, "");
            return WN_EFORMAT;
        }
        rc = wn__judge_create(&o->dedup, &ix->judge, jmsg, sizeof(jmsg));
        if (rc) {
            say(msg, cap, "%s%s", jmsg, "");
            return rc;
        }
        unsigned char ver[4];
        wn__put_le32(ver, INDEX_VERSION);
        rc = wn__judge_params(ix->judge, &want);
        if (rc)
            return rc;
        MDB_val mv = val(INDEX_MAGIC, 4), vk = val("version", 7),
                vv = val(ver, 4), pk = val("params", 6),
                pv = val(want.data, want.len);
        rc = mdb_put(txn, ix->meta, &k, &mv, 0);
        if (!rc)
            rc = mdb_put(txn, ix->meta, &vk, &vv, 0);
        if (!rc)
            rc = mdb_put(txn, ix->meta, &pk, &pv, 0);
        wn__buf_release(&want);
        return rc;
    }
    if (rc)
        return rc;
    MDB_val vk = val("version", 7), vv, pk = val("params", 6), pv;
    if (v.mv_size != 4 || memcmp(v.mv_data, INDEX_MAGIC, 4) != 0 ||
        mdb_get(txn, ix->meta, &vk, &vv) || vv.mv_size != 4 ||
        mdb_get(txn, ix->meta, &pk, &pv)) {
        say(msg, cap, "'%s' is not a winnow index%s", ix->path, "");
        return WN_EFORMAT;
    }
    uint32_t ver = wn__get_le32(vv.mv_data);
    if (ver != INDEX_VERSION) {
        char a[16];
        snprintf(a, sizeof(a), "%u", ver);
        say(msg, cap,
            "'%s' has index format version %s, this winnow reads %u: make "
            "the index again (winnow index create, then add its inputs)",
            ix->path, a, INDEX_VERSION);
        return WN_EFORMAT;
    }
    if (o->check_params) {
        struct wn__judge *asked = NULL;
        rc = wn__judge_create(&o->dedup, &asked, jmsg, sizeof(jmsg));
        if (rc) {
            say(msg, cap, "%s%s", jmsg, "");
            return rc;
        }
        rc = wn__judge_params(asked, &want);
        wn__judge_free(asked);
        if (!rc)
            rc = same_params(pv.mv_data, pv.mv_size, want.data, want.len, msg,
                             cap);
        wn__buf_release(&want);
        if (rc)
            return rc;
    }
    struct wn_dedup_options stored;
    if (wn__judge_parse_params(pv.mv_data, pv.mv_size, &stored)) {
        say(msg, cap, "'%s': the stored parameters cannot be read%s", ix->path,
            "");
        return WN_EFORMAT;
    }
    rc = wn__judge_create(&stored, &ix->judge, jmsg, sizeof(jmsg));
    if (rc) {
        say(msg, cap, "%s%s", jmsg, "");
        return rc;
    }
    if (!wn__judge_same_id(ix->judge, pv.mv_data, pv.mv_size)) {
        say(msg, cap,
            "'%s' was made by a winnow whose sketches differ from this "
            "one's (another sketch format); make the index again",
            ix->path);
        return WN_EFORMAT;
    }
    return WN_OK;
}

/* fsync the directory that holds path: 0, or -1 with errno set. */
static int sync_parent(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    while (n > 0 && path[n - 1] != '/')
        n--;
    char *dir = wn__malloc(n + 2);
    if (!dir) {
        errno = ENOMEM;
        return -1;
    }
    if (n == 0) {
        dir[0] = '.';
        n = 1;
    } else {
        memcpy(dir, path, n);
    }
    dir[n] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd < 0 || fsync(fd) ? -1 : 0;
    int e = errno;
    if (fd >= 0)
        close(fd);
    wn__free(dir);
    errno = e;
    return rc;
}

int wn_index_open(const char *path, const struct wn_index_options *o,
                  struct wn_index **out, char *msg, size_t msgcap)
{
    assert(path && o && out);
    if (msg && msgcap)
        msg[0] = '\0';
    struct stat st;
    if (o->create && !o->read_only) {
        if (mkdir(path, 0777) == 0) {
            /* The new directory's entry in its parent, durable before
             * any add is acknowledged in it (the log syncs the index
             * directory itself). */
            if (sync_parent(path)) {
                say(msg, msgcap, "cannot sync the directory holding '%s': %s",
                    path, strerror(errno));
                return WN_EIO;
            }
        } else if (errno != EEXIST) {
            say(msg, msgcap, "cannot create '%s': %s", path, strerror(errno));
            return WN_EOPEN;
        }
    }
    char *data = wn__malloc(strlen(path) + 10);
    if (!data)
        return WN_ENOMEM;
    sprintf(data, "%s/data.mdb", path);
    int exists = stat(data, &st) == 0;
    wn__free(data);
    if (!exists && (!o->create || o->read_only)) {
        say(msg, msgcap, "no index at '%s'%s", path, "");
        return WN_EOPEN;
    }
    struct wn_index *ix = wn__calloc(1, sizeof(*ix));
    if (!ix)
        return WN_ENOMEM;
    ix->read_only = o->read_only;
    ix->auto_merge = !o->no_auto_merge;
    ix->mt.loaded = -1;
    ix->path = wn__strdup(path);
    pthread_mutex_init(&ix->mt_mu, NULL);
    pthread_mutex_init(&ix->scratch_mu, NULL);
    pthread_mutex_init(&ix->wal_mu, NULL);
    pthread_mutex_init(&ix->ckpt_mu, NULL);
    pthread_mutex_init(&ix->merge_mu, NULL);
    pthread_mutex_init(&ix->ov.mu, NULL);
    ix->ov.sealed.keys.loaded = ix->ov.sealed.ids.loaded = -1;
    ix->ov.active.keys.loaded = ix->ov.active.ids.loaded = -1;
    ix->sync_later = o->sync_later;
    ix->background = o->background && !o->read_only && idle_allowed();
    if (!ix->path || pthread_rwlock_init(&ix->grow, NULL)) {
        wn__free(ix->path);
        wn__free(ix);
        return WN_ENOMEM;
    }
    int rc = mdb_env_create(&ix->env);
    if (!rc)
        rc = mdb_env_set_maxdbs(ix->env, 8);
    if (!rc)
        rc = mdb_env_set_maxreaders(ix->env, 1022);
    if (!rc)
        rc = mdb_env_set_mapsize(ix->env,
                                 o->map_size ? o->map_size : DEFAULT_MAPSIZE);
    unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
    if (o->read_only)
        flags |= MDB_RDONLY;
    if (o->no_sync)
        flags |= MDB_NOSYNC;
    else if (o->sync_later || o->wal)
        flags |= MDB_NOMETASYNC;
    if (!rc) {
        rc = mdb_env_open(ix->env, path, flags, 0666);
        if (rc && rc != MDB_INVALID && rc != MDB_VERSION_MISMATCH)
            say(msg, msgcap, "cannot open the index '%s': %s", path,
                mdb_strerror(rc));
        else if (rc)
            say(msg, msgcap, "'%s' is not a winnow index%s", path, "");
        if (rc) {
            rc = rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ? WN_EFORMAT
                                                                 : WN_EOPEN;
            wn_index_free(ix);
            return rc;
        }
    }
    MDB_txn *txn = NULL;
    if (!rc)
        rc = mdb_txn_begin(ix->env, NULL, o->read_only ? MDB_RDONLY : 0, &txn);
    if (!rc) {
        rc = setup(ix, txn, o, msg, msgcap);
        if (rc)
            mdb_txn_abort(txn);
        else
            rc = mdb_txn_commit(txn);
    }
    if (rc) {
        if (msg && msgcap && !msg[0])
            snprintf(msg, msgcap, "cannot open the index '%s': %s", path,
                     rc < 0 && rc > -1000 ? wn_strerror(rc) : mdb_strerror(rc));
        wn_index_free(ix);
        return status_of(rc);
    }
    wn_index_rule(ix, &ix->rule);
    rc = wal_setup(ix, o, msg, msgcap);
    if (rc) {
        if (msg && msgcap && !msg[0])
            snprintf(msg, msgcap, "cannot open the index '%s': %s", path,
                     wn_strerror(status_of(rc)));
        wn_index_free(ix);
        return status_of(rc);
    }
    *out = ix;
    return WN_OK;
}

int wn_index_sync(struct wn_index *ix)
{
    assert(ix);
    if (ix->read_only)
        return WN_OK;
    if (ix->logging)
        return wn__wal_sync(ix->wal);
    return mdb_env_sync(ix->env, 1) ? WN_EIO : WN_OK;
}

void wn_index_free(struct wn_index *ix)
{
    if (!ix)
        return;
    /* A clean close leaves no log (a failed checkpoint leaves it for the
     * next open to replay). */
    if (ix->logging && wn_index_checkpoint(ix, 1) == WN_OK)
        wn__wal_remove_upto(ix->wal, UINT64_MAX);
    wn__wal_close(ix->wal);
    ov_release(&ix->ov);
    pthread_mutex_destroy(&ix->wal_mu);
    pthread_mutex_destroy(&ix->ckpt_mu);
    pthread_mutex_destroy(&ix->merge_mu);
    wn__buf_release(&ix->wbuf);
    if (ix->env)
        mdb_env_close(ix->env);
    wn__judge_free(ix->judge);
    pthread_rwlock_destroy(&ix->grow);
    pthread_mutex_destroy(&ix->mt_mu);
    for (size_t i = 0; i < ix->nscratch; i++)
        wn_sketch_free(ix->scratch[i]);
    pthread_mutex_destroy(&ix->scratch_mu);
    wn__free(ix->mt.slot);
    wn__free((void *)ix->kf.w);
    wn__free(ix->path);
    wn__free(ix);
}

void wn_index_rule(const struct wn_index *ix, struct wn_dedup_options *o)
{
    struct wn_buf b = {0};
    wn_dedup_options_init(o);
    if (!wn__judge_params(ix->judge, &b))
        wn__judge_parse_params(b.data, b.len, o);
    wn__buf_release(&b);
}

/* ------------------------------------------------------------------------ */
/* Results and items                                                        */
/* ------------------------------------------------------------------------ */

void wn_index_result_init(struct wn_index_result *r)
{
    memset(r, 0, sizeof(*r));
}

void wn_index_result_release(struct wn_index_result *r)
{
    wn__free(r->matches);
    wn__free(r->ids);
    wn_index_result_init(r);
}

int wn_index_item_create(struct wn_index *ix, const struct wn_index_doc *doc,
                         int for_check, struct wn_index_item **out)
{
    assert(ix && doc && out);
    if ((!doc->text && doc->text_len) || (!doc->id && doc->id_len) ||
        (for_check && doc->id_len == 0))
        return WN_EINVAL;
    if (doc->id_len > ID_MAX)
        return WN_ETOOBIG;
    struct wn_index_item *it = wn__calloc(1, sizeof(*it));
    if (!it)
        return WN_ENOMEM;
    wn__jsketch_init(&it->sk);
    it->id = wn__malloc(doc->id_len + 1);
    int rc = it->id ? WN_OK : WN_ENOMEM;
    if (!rc) {
        if (doc->id_len)
            memcpy(it->id, doc->id, doc->id_len);
        it->id[doc->id_len] = '\0';
        it->id_len = doc->id_len;
        it->has_time = doc->has_time;
        it->time = doc->time;
        pthread_mutex_lock(&ix->scratch_mu);
        if (ix->nscratch)
            it->sk.scratch = ix->scratch[--ix->nscratch];
        pthread_mutex_unlock(&ix->scratch_mu);
        rc = wn__judge_sketch(ix->judge, doc->text ? doc->text : "",
                              doc->text_len, &it->sk);
    }
    /* The sketching scratch is large; an item keeps only its sketch, and
     * the scratch serves the next item. */
    pthread_mutex_lock(&ix->scratch_mu);
    if (it->sk.scratch && ix->nscratch < SCRATCH_MAX) {
        ix->scratch[ix->nscratch++] = it->sk.scratch;
        it->sk.scratch = NULL;
    }
    pthread_mutex_unlock(&ix->scratch_mu);
    wn__jsketch_trim(&it->sk);
    if (rc) {
        wn_index_item_free(it);
        return rc;
    }
    *out = it;
    return WN_OK;
}

void wn_index_item_free(struct wn_index_item *it)
{
    if (!it)
        return;
    wn__jsketch_release(&it->sk);
    wn__free(it->id);
    wn__free(it);
}

/* ------------------------------------------------------------------------ */
/* Lookups                                                                  */
/* ------------------------------------------------------------------------ */

static void key_split(uint64_t key, unsigned *prefix, uint64_t *hi)
{
    *prefix = (unsigned)(key >> (64 - PREFIX_BITS));
    *hi = ((key >> (32 - PREFIX_BITS)) & 0xFFFFFFFFull) << 32;
}

/* The id's key in the ids database, in buf (ID_KEY_MAX bytes at least). */
static MDB_val id_key(const char *id, size_t len, unsigned char *buf)
{
    if (len <= ID_KEY_MAX)
        return val(id, len);
    uint64_t h[2];
    wn__hash128(id, len, 0, h);
    memcpy(buf, id, ID_KEY_MAX - 16);
    wn__put_le64(buf + ID_KEY_MAX - 16, h[0]);
    wn__put_le64(buf + ID_KEY_MAX - 8, h[1]);
    return val(buf, ID_KEY_MAX);
}

static int push_num(struct work *w, uint32_t rec, uint32_t key_index)
{
    if (WN_GROW(w->nums, w->numcap, w->nnums + 1))
        return WN_ENOMEM;
    w->nums[w->nnums++] = (uint64_t)rec << 16 | key_index;
    return WN_OK;
}

static uint64_t gen_of(struct wn_index *ix, MDB_txn *txn);

#define KF_BITS_PER_KEY 12u /* at least, when built: about 0.1% false hits */

static uint64_t kf_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* The 44 bits of a key the main tier compares (key_split's prefix and
 * hi), whose block and six bits in it. */
static _Atomic uint64_t *kf_block(const struct keyfilter *f, uint64_t key44,
                                  uint64_t *bits)
{
    uint64_t h = kf_mix(key44 + 0x9e3779b97f4a7c15ULL);
    *bits = kf_mix(h);
    return f->w + (size_t)(h & f->mask) * 8;
}

static void kf_add(struct keyfilter *f, uint64_t key44)
{
    uint64_t bits;
    _Atomic uint64_t *b = kf_block(f, key44, &bits);
    for (int i = 0; i < 6; i++, bits >>= 9)
        atomic_fetch_or(&b[(bits >> 6) & 7], 1ull << (bits & 63));
}

static bool kf_has(const struct keyfilter *f, uint64_t key44)
{
    uint64_t bits;
    _Atomic uint64_t *b = kf_block(f, key44, &bits);
    for (int i = 0; i < 6; i++, bits >>= 9)
        if (!(atomic_load_explicit(&b[(bits >> 6) & 7], memory_order_relaxed) &
              (1ull << (bits & 63))))
            return false;
    return true;
}

/* Whether the filter serves txn's snapshot. */
static bool kf_serves(struct wn_index *ix, MDB_txn *txn)
{
    return atomic_load(&ix->kf.ready) &&
           gen_of(ix, txn) == atomic_load(&ix->kf.gen);
}

/* Append the record numbers stored under key, the item's key_index-th;
 * with use_filter, none when the filter says the tree has no such key. */
static int collect(struct wn_index *ix, MDB_cursor *cur, uint64_t key,
                   uint32_t key_index, bool use_filter, struct work *w)
{
    if (use_filter && !kf_has(&ix->kf, key >> (32 - PREFIX_BITS)))
        return 0;
    unsigned prefix;
    uint64_t hi;
    key_split(key, &prefix, &hi);
    MDB_val k = val(&prefix, sizeof(prefix)), v = val(&hi, sizeof(hi));
    int rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH_RANGE);
    while (rc == 0) {
        uint64_t x;
        memcpy(&x, v.mv_data, sizeof(x));
        if ((x & ~0xFFFFFFFFull) != hi)
            break;
        if (push_num(w, (uint32_t)x, key_index))
            return WN_ENOMEM;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP);
    }
    (void)ix;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    /* exact first, then by similarity, then the earliest record */
    int ex = x->v.reason == WN__VERDICT_EXACT,
        ey = y->v.reason == WN__VERDICT_EXACT;
    if (ex != ey)
        return ey - ex;
    if (x->v.similarity != y->v.similarity)
        return x->v.similarity < y->v.similarity ? 1 : -1;
    return (x->rec > y->rec) - (x->rec < y->rec);
}

struct rec_view {
    int64_t time;
    const char *id;
    size_t id_len;
    int has_time;
    const unsigned char *blob;
    size_t blob_len;
};

/* A record's value: varint (id length << 1 | has time), varint zigzag
 * time, the id, the stored sketch (judge.c). */
static size_t put_varint(unsigned char *p, uint64_t x)
{
    size_t n = 0;
    while (x >= 0x80) {
        p[n++] = (unsigned char)(x | 0x80);
        x >>= 7;
    }
    p[n++] = (unsigned char)x;
    return n;
}

static size_t get_varint(const unsigned char *p, size_t len, uint64_t *x)
{
    uint64_t v = 0;
    for (size_t n = 0; n < len && n < 10; n++) {
        v |= (uint64_t)(p[n] & 0x7F) << (7 * n);
        if (!(p[n] & 0x80)) {
            *x = v;
            return n + 1;
        }
    }
    return 0;
}

static uint64_t zigzag(int64_t t)
{
    return ((uint64_t)t << 1) ^ (t < 0 ? UINT64_MAX : 0);
}

static int64_t unzigzag(uint64_t z)
{
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

/* The head of item it's record value (varint id length << 1 | has time,
 * varint zigzag time: now when it has none) into head; its length. */
static size_t rec_head(const struct wn_index_item *it, unsigned char *head)
{
    int64_t t = it->has_time ? it->time : now_seconds();
    size_t hl =
        put_varint(head, (uint64_t)it->id_len << 1 | (it->has_time ? 1u : 0u));
    return hl + put_varint(head + hl, zigzag(t));
}

static int parse_rec(const MDB_val *v, struct rec_view *r)
{
    const unsigned char *p = v->mv_data;
    uint64_t head, t;
    size_t a = get_varint(p, v->mv_size, &head);
    size_t b = a ? get_varint(p + a, v->mv_size - a, &t) : 0;
    if (!b || (head >> 1) > ID_MAX)
        return WN_EFORMAT;
    r->time = unzigzag(t);
    r->has_time = (int)(head & 1);
    r->id_len = (size_t)(head >> 1);
    size_t off = a + b;
    if (off + r->id_len > v->mv_size)
        return WN_EFORMAT;
    r->id = (const char *)p + off;
    r->blob = p + off + r->id_len;
    r->blob_len = v->mv_size - off - r->id_len;
    return WN_OK;
}

/* Fill res with one match (added to the ids buffer). */
static int add_match(struct wn_index_result *res, uint32_t rec,
                     const struct rec_view *rv, int reason, double sim,
                     double cont)
{
    if (WN_GROW(res->matches, res->cap, res->n + 1))
        return WN_ENOMEM;
    struct wn_index_match *m = &res->matches[res->n++];
    m->record = rec;
    m->id = res->ids + res->ids_len; /* storage reserved by the caller */
    memcpy(res->ids + res->ids_len, rv->id, rv->id_len);
    res->ids_len += rv->id_len;
    res->ids[res->ids_len++] = '\0';
    m->id_len = rv->id_len;
    m->time = rv->time;
    m->reason = reason;
    m->similarity = sim;
    m->containment = cont;
    return WN_OK;
}

static int reserve_ids(struct wn_index_result *res, size_t bytes)
{
    if (res->ids_cap >= bytes)
        return WN_OK;
    char *p = wn__realloc(res->ids, bytes);
    if (!p)
        return WN_ENOMEM;
    res->ids = p;
    res->ids_cap = bytes;
    return WN_OK;
}

static bool ov_get(struct wn_index *ix, uint32_t rec, struct rec_view *rv);

static int get_rec(struct wn_index *ix, MDB_txn *txn, uint32_t rec,
                   struct rec_view *rv)
{
    if (ov_get(ix, rec, rv))
        return WN_OK;
    unsigned k32 = rec;
    MDB_val k = val(&k32, sizeof(k32)), v;
    int rc = mdb_get(txn, ix->recs, &k, &v);
    if (rc)
        return rc == MDB_NOTFOUND ? WN_EFORMAT : rc;
    return parse_rec(&v, rv);
}

/* ------------------------------------------------------------------------ */
/* The pending tier                                                         */
/* ------------------------------------------------------------------------ */

/*
 * A new record's keys do not go into `keys` at once: inserting its 17 keys
 * there dirties 17 random pages, and LMDB writes every dirty page at the
 * commit, so each check would write about 70 KB. They go into `pending`
 * instead (record number -> its keys, appended: a page per ~25 records),
 * and an in-memory table of the pending keys (struct memtable) answers
 * lookups. When pending holds MERGE_AT records they are merged into
 * `keys`, 256 prefixes per transaction, each page of `keys` written once
 * for all of them; the last transaction deletes them from pending and
 * bumps the merge generation in meta ("gen"). Until then they are in both,
 * which only repeats candidates.
 *
 * The table is loaded from pending in the snapshot of a transaction: it is
 * rebuilt when the generation changed, extended with records numbered
 * above what it holds otherwise. A reader whose snapshot is older than the
 * table's generation (a merge finished after it began) scans its own
 * pending database instead. Entries of records that a snapshot does not
 * hold (added by a transaction that later aborted, or expired) give
 * candidates that are not found, and are skipped.
 */
#define MERGE_AT (1u << 16)

static uint64_t mt_hash(uint64_t key)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return key;
}

static int mt_put(struct memtable *m, uint64_t key, uint32_t rec)
{
    if ((m->n + 1) * 2 > m->mask + 1 || !m->slot) {
        size_t cap = m->slot ? (m->mask + 1) * 2 : 1024;
        struct mt_slot *ns = wn__calloc(cap, sizeof(*ns));
        if (!ns)
            return WN_ENOMEM;
        for (size_t i = 0; m->slot && i <= m->mask; i++) {
            if (!m->slot[i].used)
                continue;
            size_t h = mt_hash(m->slot[i].key) & (cap - 1);
            while (ns[h].used)
                h = (h + 1) & (cap - 1);
            ns[h] = m->slot[i];
        }
        wn__free(m->slot);
        m->slot = ns;
        m->mask = cap - 1;
    }
    size_t h = mt_hash(key) & m->mask;
    while (m->slot[h].used)
        h = (h + 1) & m->mask;
    m->slot[h].key = key;
    m->slot[h].rec = rec;
    m->slot[h].used = 1;
    m->n++;
    return WN_OK;
}

static void mt_clear(struct memtable *m)
{
    if (m->slot)
        memset(m->slot, 0, (m->mask + 1) * sizeof(*m->slot));
    m->n = 0;
    m->loaded = -1;
}

/* The keys of a pending value: n u64s, the exact key last. */
static int mt_add_value(struct memtable *m, uint32_t rec, const MDB_val *v)
{
    size_t n = v->mv_size / 8;
    for (size_t i = 0; i < n; i++) {
        int rc = mt_put(
            m, wn__get_le64((const unsigned char *)v->mv_data + 8 * i), rec);
        if (rc)
            return rc;
    }
    return WN_OK;
}

static uint64_t gen_of(struct wn_index *ix, MDB_txn *txn)
{
    MDB_val k = val("gen", 3), v;
    if (mdb_get(txn, ix->meta, &k, &v) || v.mv_size != 8)
        return 0;
    return wn__get_le64(v.mv_data);
}

/* Bring the table up to txn's snapshot; *stale when the snapshot is older
 * than the table (the caller scans pending itself). mt_mu held. */
static int mt_sync(struct wn_index *ix, MDB_txn *txn, bool *stale)
{
    struct memtable *m = &ix->mt;
    uint64_t g = gen_of(ix, txn);
    *stale = g < m->gen;
    if (*stale)
        return 0;
    if (g > m->gen) {
        mt_clear(m);
        m->gen = g;
    }
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, ix->pending, &cur);
    if (rc)
        return rc;
    unsigned from = (unsigned)(m->loaded + 1);
    MDB_val k = val(&from, sizeof(from)), v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        unsigned rec;
        memcpy(&rec, k.mv_data, sizeof(rec));
        rc = mt_add_value(m, rec, &v);
        if (rc)
            break;
        m->loaded = rec;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The records a memtable holds under the item's nk band keys and its
 * exact key, pushed as candidates. */
static int mt_candidates(const struct memtable *m,
                         const struct wn_index_item *it, uint32_t nk,
                         struct work *w)
{
    int rc = WN_OK;
    for (uint32_t i = 0; !rc && m->slot && i <= nk; i++) {
        uint64_t key = i == nk ? it->sk.exact[0] : it->sk.keys[i];
        for (size_t h = mt_hash(key) & m->mask; !rc && m->slot[h].used;
             h = (h + 1) & m->mask)
            if (m->slot[h].key == key)
                rc = push_num(w, m->slot[h].rec, i);
    }
    return rc;
}

/* Candidates from the pending tier for the item's keys. */
static int pending_candidates(struct wn_index *ix, MDB_txn *txn,
                              const struct wn_index_item *it, struct work *w)
{
    uint32_t nk = it->sk.empty ? 0 : it->sk.nkeys;
    pthread_mutex_lock(&ix->mt_mu);
    bool stale = false;
    int rc = mt_sync(ix, txn, &stale);
    if (!rc && !stale) {
        rc = mt_candidates(&ix->mt, it, nk, w);
    }
    pthread_mutex_unlock(&ix->mt_mu);
    if (rc || !stale)
        return rc;
    /* An old snapshot: scan its pending records. */
    MDB_cursor *cur;
    rc = mdb_cursor_open(txn, ix->pending, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        unsigned rec;
        memcpy(&rec, k.mv_data, sizeof(rec));
        size_t n = v.mv_size / 8;
        for (size_t j = 0; !rc && j < n; j++) {
            uint64_t key =
                wn__get_le64((const unsigned char *)v.mv_data + 8 * j);
            for (uint32_t i = 0; !rc && i <= nk; i++)
                if (key == (i == nk ? it->sk.exact[0] : it->sk.keys[i]))
                    rc = push_num(w, rec, i);
        }
        if (rc)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ------------------------------------------------------------------------ */
/* The write-ahead log's overlay                                            */
/* ------------------------------------------------------------------------ */

/*
 * With the log, an add is not written to LMDB by the check that makes it:
 * the record is staged in the overlay (seen by every later lookup of this
 * handle) and its frame appended to the log, synced before the check is
 * answered. A checkpoint (wn_index_checkpoint) puts the overlay's records
 * into LMDB with their numbers, in one synced transaction that also
 * records how far it got (meta "ckpt": the records numbered below it are
 * in LMDB), drops them from the overlay and removes their log files.
 * Replay is idempotent: a frame numbered below "ckpt" is skipped.
 */
static uint64_t id_hash(const char *id, size_t len)
{
    uint64_t h[2];
    wn__hash128(id, len, 0x1d, h);
    return h[0];
}

static const unsigned char *ov_value(const struct ov_rec *r, size_t *len)
{
    size_t k = 8 + (size_t)8 * r->nk;
    *len = r->len - k;
    return r->data + k;
}

/* A frame's payload as an overlay entry (copied); WN_EFORMAT when it is
 * not one. */
static int ov_rec_make(const unsigned char *p, size_t len, struct ov_rec **out)
{
    if (len < 8)
        return WN_EFORMAT;
    uint32_t nk = wn__get_le32(p + 4);
    if (nk == 0 || nk > WN__JUDGE_MAX_KEYS + 1 || len < 8 + (size_t)8 * nk)
        return WN_EFORMAT;
    struct ov_rec *r = wn__malloc(sizeof(*r) + len);
    if (!r)
        return WN_ENOMEM;
    r->rec = wn__get_le32(p);
    r->nk = nk;
    r->len = len;
    memcpy(r->data, p, len);
    size_t vl;
    const unsigned char *v = ov_value(r, &vl);
    struct rec_view rv;
    MDB_val mv = val(v, vl);
    if (parse_rec(&mv, &rv)) {
        wn__free(r);
        return WN_EFORMAT;
    }
    *out = r;
    return WN_OK;
}

/* Put an entry's keys and id hash into a part's tables. ov->mu held. */
static int ov_index(struct ov_part *pt, const struct ov_rec *r)
{
    int rc = WN_OK;
    for (uint32_t k = 0; !rc && k < r->nk; k++)
        rc = mt_put(&pt->keys, wn__get_le64(r->data + 8 + (size_t)8 * k),
                    r->rec);
    size_t vl;
    const unsigned char *v = ov_value(r, &vl);
    struct rec_view rv;
    MDB_val mv = val(v, vl);
    if (!rc && !parse_rec(&mv, &rv))
        rc = mt_put(&pt->ids, id_hash(rv.id, rv.id_len), r->rec);
    return rc;
}

/* Append r (numbered above every entry) to the active part. */
static int ov_add(struct overlay *ov, struct ov_rec *r)
{
    struct ov_part *pt = &ov->active;
    pthread_mutex_lock(&ov->mu);
    int rc =
        wn__grow((void **)&pt->r, &pt->cap, pt->n + 1, sizeof(struct ov_rec *))
            ? WN_ENOMEM
            : WN_OK;
    if (!rc)
        rc = ov_index(pt, r);
    if (!rc) {
        pt->r[pt->n++] = r;
        atomic_fetch_add(&ov->count, 1);
    }
    pthread_mutex_unlock(&ov->mu);
    return rc;
}

/* Free a part's entries and empty its tables, keeping their memory. */
static void ov_part_empty(struct ov_part *pt)
{
    for (size_t i = 0; i < pt->n; i++)
        wn__free(pt->r[i]);
    pt->n = 0;
    mt_clear(&pt->keys);
    mt_clear(&pt->ids);
}

/* Drop the active entries numbered from rec on (a failed group's), and
 * index the rest again. Callers hold `grow` exclusively. */
static int ov_cut(struct overlay *ov, uint32_t rec)
{
    struct ov_part *pt = &ov->active;
    pthread_mutex_lock(&ov->mu);
    size_t keep = pt->n;
    while (keep && pt->r[keep - 1]->rec >= rec)
        wn__free(pt->r[--keep]);
    atomic_fetch_sub(&ov->count, pt->n - keep);
    pt->n = keep;
    mt_clear(&pt->keys);
    mt_clear(&pt->ids);
    int rc = WN_OK;
    for (size_t i = 0; !rc && i < pt->n; i++)
        rc = ov_index(pt, pt->r[i]);
    pthread_mutex_unlock(&ov->mu);
    return rc;
}

static void ov_part_release(struct ov_part *pt)
{
    for (size_t i = 0; i < pt->n; i++)
        wn__free(pt->r[i]);
    wn__free(pt->r);
    wn__free(pt->keys.slot);
    wn__free(pt->ids.slot);
}

static void ov_release(struct overlay *ov)
{
    ov_part_release(&ov->sealed);
    ov_part_release(&ov->active);
    pthread_mutex_destroy(&ov->mu);
}

/* The number of the overlay's last entry, or -1. ov->mu held. */
static int64_t ov_last(const struct overlay *ov)
{
    const struct ov_part *pt = ov->active.n ? &ov->active : &ov->sealed;
    return pt->n ? (int64_t)pt->r[pt->n - 1]->rec : -1;
}

/* The entry numbered rec, or NULL. ov->mu held. */
static struct ov_rec *ov_find(const struct overlay *ov, uint32_t rec)
{
    const struct ov_part *pt =
        ov->active.n && ov->active.r[0]->rec <= rec ? &ov->active : &ov->sealed;
    size_t lo = 0, hi = pt->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pt->r[mid]->rec < rec)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < pt->n && pt->r[lo]->rec == rec ? pt->r[lo] : NULL;
}

/* The overlay's record numbered rec, as a view into its entry. */
static bool ov_get(struct wn_index *ix, uint32_t rec, struct rec_view *rv)
{
    if (!ix->wal)
        return false;
    pthread_mutex_lock(&ix->ov.mu);
    struct ov_rec *r = ov_find(&ix->ov, rec);
    bool ok = false;
    if (r) {
        size_t vl;
        const unsigned char *v = ov_value(r, &vl);
        MDB_val mv = val(v, vl);
        ok = parse_rec(&mv, rv) == 0;
    }
    pthread_mutex_unlock(&ix->ov.mu);
    return ok;
}

/* The overlay's record with this id: its number, or -1. */
static int64_t ov_by_id(struct wn_index *ix, const char *id, size_t len)
{
    if (!ix->wal)
        return -1;
    uint64_t h = id_hash(id, len);
    int64_t found = -1;
    pthread_mutex_lock(&ix->ov.mu);
    const struct memtable *tables[2] = {&ix->ov.sealed.ids, &ix->ov.active.ids};
    for (size_t t = 0; t < 2 && found < 0; t++) {
        const struct memtable *m = tables[t];
        for (size_t i = m->slot ? mt_hash(h) & m->mask : 0;
             m->slot && found < 0 && m->slot[i].used; i = (i + 1) & m->mask) {
            if (m->slot[i].key != h)
                continue;
            struct ov_rec *r = ov_find(&ix->ov, m->slot[i].rec);
            struct rec_view rv;
            size_t vl;
            const unsigned char *v = r ? ov_value(r, &vl) : NULL;
            MDB_val mv = val(v, r ? vl : 0);
            if (r && !parse_rec(&mv, &rv) && rv.id_len == len &&
                !memcmp(rv.id, id, len))
                found = r->rec;
        }
    }
    pthread_mutex_unlock(&ix->ov.mu);
    return found;
}

/* Candidates from the overlay's tables for the item's keys. */
static int ov_candidates(struct wn_index *ix, const struct wn_index_item *it,
                         struct work *w)
{
    if (!ix->wal)
        return WN_OK;
    uint32_t nk = it->sk.empty ? 0 : it->sk.nkeys;
    pthread_mutex_lock(&ix->ov.mu);
    int rc = mt_candidates(&ix->ov.sealed.keys, it, nk, w);
    if (!rc)
        rc = mt_candidates(&ix->ov.active.keys, it, nk, w);
    pthread_mutex_unlock(&ix->ov.mu);
    return rc;
}

/* The records value of a new record and its frame payload, staged in the
 * overlay and appended to the group's frames: the logging writer's insert.
 * wal_mu held. */
static int stage(struct wn_index *ix, const struct wn_index_item *it,
                 uint32_t *num)
{
    if (ix->next_rec > UINT32_MAX)
        return WN_ELIMIT;
    uint32_t nkeys = it->sk.empty ? 0 : it->sk.nkeys;
    unsigned char head[REC_HEAD];
    size_t hl = rec_head(it, head);
    size_t klen = 8 + ((size_t)nkeys + 1) * 8;
    size_t len = klen + hl + it->id_len + it->sk.stored_len;
    struct ov_rec *r = wn__malloc(sizeof(*r) + len);
    if (!r)
        return WN_ENOMEM;
    r->rec = (uint32_t)ix->next_rec;
    r->nk = nkeys + 1;
    r->len = len;
    unsigned char *p = r->data;
    wn__put_le32(p, r->rec);
    wn__put_le32(p + 4, r->nk);
    for (uint32_t i = 0; i < nkeys; i++)
        wn__put_le64(p + 8 + (size_t)8 * i, it->sk.keys[i]);
    wn__put_le64(p + 8 + (size_t)8 * nkeys, it->sk.exact[0]);
    memcpy(p + klen, head, hl);
    memcpy(p + klen + hl, it->id, it->id_len);
    memcpy(p + klen + hl + it->id_len, it->sk.stored, it->sk.stored_len);
    int rc = wn__wal_frame(ix->wal, &ix->wbuf, p, len);
    if (!rc)
        rc = ov_add(&ix->ov, r);
    if (rc) {
        wn__free(r);
        return rc;
    }
    *num = (uint32_t)ix->next_rec++;
    return WN_OK;
}

struct merge_arg {
    unsigned first, last; /* prefixes of this transaction */
    unsigned upto;        /* pending records up to this number */
    int final;
    uint64_t gen; /* the final transaction's new merge generation */
};

static int merge_txn(struct wn_index *ix, MDB_txn *txn, void *arg)
{
    struct merge_arg *a = arg;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, ix->pending, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        unsigned rec;
        memcpy(&rec, k.mv_data, sizeof(rec));
        if (rec > a->upto)
            break;
        if (a->final) {
            rc = mdb_cursor_del(cur, 0);
            if (rc)
                break;
            continue;
        }
        size_t n = v.mv_size / 8;
        for (size_t j = 0; !rc && j < n; j++) {
            uint64_t key =
                wn__get_le64((const unsigned char *)v.mv_data + 8 * j);
            unsigned prefix;
            uint64_t x;
            key_split(key, &prefix, &x);
            if (prefix < a->first || prefix > a->last)
                continue;
            /* In the filter before the tree (a lookup may see the
             * commit as soon as it is made). */
            if (ix->kf.w)
                kf_add(&ix->kf, key >> (32 - PREFIX_BITS));
            x |= rec;
            MDB_val kk = val(&prefix, sizeof(prefix)), vv = val(&x, sizeof(x));
            rc = mdb_put(txn, ix->keys, &kk, &vv, 0);
        }
        if (rc)
            break;
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (!rc && a->final) {
        unsigned char g[8];
        a->gen = gen_of(ix, txn) + 1;
        wn__put_le64(g, a->gen);
        MDB_val gk = val("gen", 3), gv = val(g, 8);
        rc = mdb_put(txn, ix->meta, &gk, &gv, 0);
    }
    return rc;
}

static int pending_span(struct wn_index *ix, MDB_txn *txn, void *arg)
{
    uint64_t *span = arg; /* records, last number */
    MDB_stat st;
    int rc = mdb_stat(txn, ix->pending, &st);
    if (rc)
        return rc;
    span[0] = st.ms_entries;
    MDB_cursor *cur;
    rc = mdb_cursor_open(txn, ix->pending, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0) {
        unsigned last;
        memcpy(&last, k.mv_data, sizeof(last));
        span[1] = last;
    }
    mdb_cursor_close(cur);
    return 0;
}

int wn_index_merge(struct wn_index *ix, int force)
{
    assert(ix);
    if (ix->read_only)
        return WN_EINVAL;
    int rc = force ? wn_index_checkpoint(ix, 1) : WN_OK;
    uint64_t span[2] = {0, 0};
    if (!rc)
        rc = run_txn(ix, 1, pending_span, span);
    if (rc || span[0] == 0 || (!force && span[0] < MERGE_AT))
        return rc;
    struct merge_arg a = {0, 0, (unsigned)span[1], 0, 0};
    pthread_mutex_lock(&ix->merge_mu);
    struct bg b;
    bg_enter(ix, &b);
    for (unsigned p = 0; !rc && p < (1u << PREFIX_BITS);
         p += PREFIXES_PER_TXN) {
        a.first = p;
        a.last = p + PREFIXES_PER_TXN - 1;
        rc = run_txn(ix, 0, merge_txn, &a);
        bg_check(ix, &b);
    }
    a.final = 1;
    if (!rc)
        rc = run_txn(ix, 0, merge_txn, &a);
    bg_leave(ix, &b);
    /* The filter holds every key of the new generation if it held every
     * key of the one before (another process's merge may have come
     * between: then it stays behind, unused). */
    uint64_t g = a.gen - 1;
    if (!rc && ix->kf.w)
        atomic_compare_exchange_strong(&ix->kf.gen, &g, a.gen);
    pthread_mutex_unlock(&ix->merge_mu);
    return rc;
}

/* Load the pending table and map the file's pages (in the snapshot's
 * size), holding the map's size steady. */
static int warm_txn(struct wn_index *ix, MDB_txn *txn, void *arg)
{
    struct keyfilter *f = arg; /* to build, or NULL */
    pthread_mutex_lock(&ix->mt_mu);
    bool stale = false;
    int rc = mt_sync(ix, txn, &stale);
    pthread_mutex_unlock(&ix->mt_mu);
    if (rc)
        return rc;
    if (f) {
        MDB_stat ks;
        rc = mdb_stat(txn, ix->keys, &ks);
        if (rc)
            return rc;
        size_t blocks = 1024;
        while (blocks * 512 < (ks.ms_entries + 65536) * KF_BITS_PER_KEY)
            blocks *= 2;
        wn__free((void *)f->w);
        f->w = wn__calloc(blocks * 8, sizeof(uint64_t));
        if (!f->w)
            return WN_ENOMEM;
        f->mask = blocks - 1;
        atomic_store(&f->gen, gen_of(ix, txn));
    }
    /* Read every page through cursors (LMDB does not say where its map
     * is): a page of packed key values at a time in the DUPFIXED trees,
     * the keys' into the filter. */
    const MDB_dbi plain[] = {ix->recs, ix->ids, ix->pending};
    const MDB_dbi packed[] = {ix->keys, ix->times};
    unsigned char sum = 0;
    for (size_t d = 0; !rc && d < 5; d++) {
        bool multi = d >= 3;
        bool keys = d == 3 && f;
        MDB_cursor *cur;
        rc = mdb_cursor_open(txn, multi ? packed[d - 3] : plain[d], &cur);
        if (rc)
            break;
        MDB_val k, v;
        int got = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        while (got == 0) {
            sum ^= ((const unsigned char *)v.mv_data)[0];
            if (multi) {
                unsigned prefix = 0;
                if (keys)
                    memcpy(&prefix, k.mv_data, sizeof(prefix));
                got = mdb_cursor_get(cur, &k, &v, MDB_GET_MULTIPLE);
                while (got == 0) {
                    sum ^= ((const unsigned char *)v.mv_data)[0];
                    for (size_t i = 0; keys && i < v.mv_size / 8; i++) {
                        uint64_t x;
                        memcpy(&x, (const char *)v.mv_data + 8 * i, 8);
                        kf_add(f, (uint64_t)prefix << 32 | x >> 32);
                    }
                    got = mdb_cursor_get(cur, &k, &v, MDB_NEXT_MULTIPLE);
                }
                got = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP);
            } else {
                got = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            }
        }
        mdb_cursor_close(cur);
        if (got != MDB_NOTFOUND)
            rc = got;
    }
    volatile unsigned char sink = sum;
    (void)sink;
    return rc;
}

int wn_index_warm(struct wn_index *ix)
{
    assert(ix);
    if (ix->kf.w) /* built: a warm start once is enough */
        return run_txn(ix, 1, warm_txn, NULL);
    struct keyfilter f = {0};
    /* No merge of this handle's between the snapshot and the filter's
     * use: it would add keys to a filter not in place yet. */
    pthread_mutex_lock(&ix->merge_mu);
    int rc = run_txn(ix, 1, warm_txn, &f);
    if (rc) {
        pthread_mutex_unlock(&ix->merge_mu);
        wn__free((void *)f.w);
        return rc;
    }
    /* In place before it is said to be ready; this handle's merges add
     * to it from now on. */
    pthread_rwlock_wrlock(&ix->grow);
    ix->kf.w = f.w;
    ix->kf.mask = f.mask;
    atomic_store(&ix->kf.gen, atomic_load(&f.gen));
    atomic_store(&ix->kf.ready, true);
    pthread_rwlock_unlock(&ix->grow);
    pthread_mutex_unlock(&ix->merge_mu);
    return WN_OK;
}

static bool rec_exists(struct wn_index *ix, MDB_txn *txn, uint32_t rec)
{
    struct rec_view rv;
    if (ov_get(ix, rec, &rv))
        return true;
    unsigned k32 = rec;
    MDB_val k = val(&k32, sizeof(k32)), v;
    return mdb_get(txn, ix->recs, &k, &v) == 0;
}

/* Look one item up in txn; fill res. */
static int lookup(struct wn_index *ix, MDB_txn *txn, MDB_cursor *cur,
                  const struct wn_index_item *it, int by_id, size_t max,
                  struct work *w, struct wn_index_result *res)
{
    res->is_new = 1;
    res->added = 0;
    res->record = 0;
    res->n = 0;
    res->ids_len = 0;
    int rc;
    if (by_id) {
        unsigned char buf[ID_KEY_MAX];
        MDB_val k = id_key(it->id, it->id_len, buf), v;
        rc = mdb_get(txn, ix->ids, &k, &v);
        int64_t logged =
            rc == MDB_NOTFOUND ? ov_by_id(ix, it->id, it->id_len) : -1;
        if ((rc == 0 && v.mv_size == 4) || logged >= 0) {
            uint32_t rec = (uint32_t)logged;
            if (logged < 0)
                memcpy(&rec, v.mv_data, 4);
            struct rec_view rv;
            rc = get_rec(ix, txn, rec, &rv);
            if (!rc)
                rc = reserve_ids(res, rv.id_len + 1);
            if (!rc)
                rc = add_match(res, rec, &rv, WN_REASON_ID, 1.0, 1.0);
            res->is_new = 0;
            return rc;
        }
        if (rc != MDB_NOTFOUND)
            return rc ? rc : WN_EFORMAT;
    }
    /* The exact key is the item's nkeys-th (past the band keys). */
    uint32_t nk = it->sk.empty ? 0 : it->sk.nkeys;
    w->nnums = 0;
    bool use_filter = kf_serves(ix, txn);
    rc = collect(ix, cur, it->sk.exact[0], it->sk.nkeys, use_filter, w);
    for (uint32_t i = 0; !rc && i < nk; i++)
        rc = collect(ix, cur, it->sk.keys[i], i, use_filter, w);
    if (!rc)
        rc = pending_candidates(ix, txn, it, w);
    if (!rc)
        rc = ov_candidates(ix, it, w);
    if (rc)
        return rc;
    if (w->nnums > 1)
        qsort(w->nums, w->nnums, sizeof(*w->nums), cmp_u64);
    w->nc = 0;
    if (w->nnums) {
        rc = wn__judge_verify_prepare(ix->judge, &w->jv, it->sk.blob,
                                      it->sk.blob_len);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < w->nnums;) {
        /* The keys this candidate was found under. */
        uint32_t rec = (uint32_t)(w->nums[i] >> 16);
        uint64_t shared[WN__JUDGE_MASK_WORDS] = {0};
        for (; i < w->nnums && (uint32_t)(w->nums[i] >> 16) == rec; i++) {
            uint32_t k = (uint32_t)(w->nums[i] & 0xFFFF);
            if (k < nk)
                shared[k / 64] |= 1ull << (k % 64);
        }
        struct rec_view rv;
        int got = get_rec(ix, txn, rec, &rv);
        if (got == WN_EFORMAT && !rec_exists(ix, txn, rec))
            continue; /* a pending entry this snapshot does not hold */
        rc = got;
        struct wn__verdict v;
        if (!rc)
            rc = wn__judge_verify(ix->judge, &w->jv, rv.blob, rv.blob_len,
                                  shared, &v);
        if (rc)
            return rc;
        if (v.reason == WN__VERDICT_NONE)
            continue;
        if (WN_GROW(w->c, w->ccap, w->nc + 1))
            return WN_ENOMEM;
        w->c[w->nc].rec = rec;
        w->c[w->nc++].v = v;
    }
    if (!w->nc)
        return WN_OK;
    qsort(w->c, w->nc, sizeof(*w->c), cmp_cand);
    size_t n = WN_MIN(w->nc, max);
    struct rec_view rv[64];
    size_t total = 0;
    n = WN_MIN(n, WN_ARRAY_LEN(rv));
    for (size_t i = 0; i < n; i++) {
        rc = get_rec(ix, txn, w->c[i].rec, &rv[i]);
        if (rc)
            return rc;
        total += rv[i].id_len + 1;
    }
    rc = reserve_ids(res, total);
    for (size_t i = 0; !rc && i < n; i++) {
        static const int reason[] = {WN_REASON_NONE, WN_REASON_EXACT,
                                     WN_REASON_NEAR, WN_REASON_CONTAINED};
        rc = add_match(res, w->c[i].rec, &rv[i], reason[w->c[i].v.reason],
                       w->c[i].v.similarity, w->c[i].v.containment);
    }
    res->is_new = 0;
    return rc;
}

/* Store record rec: its value (as `records` holds it) and its keys (u64
 * LE, the exact key last, as `pending` holds them). rec is above every
 * record number in the index. */
static int put_record(struct wn_index *ix, MDB_txn *txn, uint32_t rec,
                      const unsigned char *value, size_t len,
                      const unsigned char *keys, size_t keys_len)
{
    struct rec_view rv;
    MDB_val v = val(value, len);
    int rc = parse_rec(&v, &rv);
    if (rc)
        return rc;
    unsigned rk = rec;
    MDB_val k = val(&rk, sizeof(rk));
    rc = mdb_put(txn, ix->recs, &k, &v, MDB_APPEND);
    MDB_val pv = val(keys, keys_len);
    if (!rc)
        rc = mdb_put(txn, ix->pending, &k, &pv, MDB_APPEND);
    /* The records after it in this transaction see it through mt_sync,
     * which reads this transaction's own pending entries. */
    unsigned char buf[ID_KEY_MAX];
    MDB_val ik = id_key(rv.id, rv.id_len, buf), iv = val(&rk, 4);
    if (!rc)
        rc = mdb_put(txn, ix->ids, &ik, &iv, 0);
    uint64_t tk = time_key(rv.time);
    MDB_val tkv = val(&tk, sizeof(tk)), tv = val(&rk, sizeof(rk));
    if (!rc)
        rc = mdb_put(txn, ix->times, &tkv, &tv, 0);
    return rc == MDB_KEYEXIST ? WN_EFORMAT : rc;
}

/* Store a new record, numbered after the last one. */
static int insert(struct wn_index *ix, MDB_txn *txn,
                  const struct wn_index_item *it, uint32_t *num)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, ix->recs, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    uint32_t rec = 0;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    if (rc == 0) {
        unsigned last;
        memcpy(&last, k.mv_data, sizeof(last));
        if (last == UINT32_MAX)
            return WN_ELIMIT;
        rec = last + 1;
    } else if (rc != MDB_NOTFOUND) {
        return rc;
    }
    uint32_t nkeys = it->sk.empty ? 0 : it->sk.nkeys;
    unsigned char head[REC_HEAD];
    size_t hl = rec_head(it, head);
    size_t len = hl + it->id_len + it->sk.stored_len;
    size_t klen = ((size_t)nkeys + 1) * 8;
    unsigned char *p = wn__malloc(len + klen);
    if (!p)
        return WN_ENOMEM;
    memcpy(p, head, hl);
    memcpy(p + hl, it->id, it->id_len);
    memcpy(p + hl + it->id_len, it->sk.stored, it->sk.stored_len);
    unsigned char *q = p + len;
    for (uint32_t i = 0; i < nkeys; i++)
        wn__put_le64(q + (size_t)8 * i, it->sk.keys[i]);
    wn__put_le64(q + (size_t)8 * nkeys, it->sk.exact[0]);
    rc = put_record(ix, txn, rec, p, len, q, klen);
    wn__free(p);
    if (!rc)
        *num = rec;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Checkpoints                                                              */
/* ------------------------------------------------------------------------ */

static uint64_t ckpt_of(struct wn_index *ix, MDB_txn *txn)
{
    MDB_val k = val("ckpt", 4), v;
    if (mdb_get(txn, ix->meta, &k, &v) || v.mv_size != 8)
        return 0;
    return wn__get_le64(v.mv_data);
}

struct ckpt_arg {
    struct ov_rec **r;
    size_t n;
    uint64_t cut; /* records below it are in LMDB after this transaction */
};

static int ckpt_txn(struct wn_index *ix, MDB_txn *txn, void *arg)
{
    struct ckpt_arg *a = arg;
    uint64_t done = ckpt_of(ix, txn);
    int rc = WN_OK;
    for (size_t i = 0; !rc && i < a->n; i++) {
        const struct ov_rec *r = a->r[i];
        if (r->rec < done)
            continue; /* in LMDB already: replayed twice */
        size_t vl;
        const unsigned char *v = ov_value(r, &vl);
        rc = put_record(ix, txn, r->rec, v, vl, r->data + 8, (size_t)8 * r->nk);
    }
    if (!rc && a->cut > done) {
        unsigned char c[8];
        wn__put_le64(c, a->cut);
        MDB_val ck = val("ckpt", 4), cv = val(c, 8);
        rc = mdb_put(txn, ix->meta, &ck, &cv, 0);
    }
    return rc;
}

/* Seal the active part when a checkpoint is due (or forced): the logging
 * writer's file is synced and the next one started, then, between two of
 * the writer's groups, the parts are swapped. The next file is made (or
 * the spare renamed, and the directory synced) before, without holding
 * the writer: only the sync of the current file, mostly synced already by
 * the syncer, and the swap wait for a group to end. *sealed: whether
 * there is a sealed part to write. ckpt_mu held. */
static int ckpt_seal(struct wn_index *ix, int force, bool *sealed)
{
    struct overlay *ov = &ix->ov;
    pthread_mutex_lock(&ov->mu);
    size_t ns = ov->sealed.n, na = ov->active.n;
    pthread_mutex_unlock(&ov->mu);
    *sealed = ns > 0;
    if (ns || !na || (!force && na < CKPT_AT))
        return WN_OK;
    uint64_t done = UINT64_MAX;
    int rc = ix->logging ? wn__wal_prepare(ix->wal) : WN_OK;
    if (rc)
        return rc;
    if (ix->logging)
        pthread_mutex_lock(&ix->wal_mu);
    /* Between groups: every record numbered below cut has its frame in
     * the files up to `done`, synced. */
    if (ix->logging)
        rc = wn__wal_rotate(ix->wal, &done);
    if (!rc) {
        pthread_mutex_lock(&ov->mu);
        struct ov_part t = ov->sealed;
        ov->sealed = ov->active;
        ov->active = t;
        /* A plain writer's replay at open: nothing is added meanwhile. */
        ix->ckpt_cut = ix->logging ? ix->next_rec : (uint64_t)ov_last(ov) + 1;
        pthread_mutex_unlock(&ov->mu);
        ix->ckpt_done = done;
        *sealed = true;
    }
    if (ix->logging)
        pthread_mutex_unlock(&ix->wal_mu);
    return rc;
}

/* Write the sealed part into LMDB, then drop it. ckpt_mu held. */
static int ckpt_write(struct wn_index *ix)
{
    /* The sealed part is ours: the writer appends to the active one. */
    struct ov_part *pt = &ix->ov.sealed;
    size_t n = pt->n;
    uint64_t cut = ix->ckpt_cut;
    int rc = WN_OK;
    struct bg b;
    bg_enter(ix, &b);
    /* In transactions of CKPT_TXN records, each synced: short bursts of
     * writes, between which the log's syncs get the disk. */
    for (size_t i = 0; !rc && i < n; i += CKPT_TXN) {
        size_t m = WN_MIN(CKPT_TXN, n - i);
        struct ckpt_arg a = {pt->r + i, m,
                             i + m < n ? (uint64_t)pt->r[i + m]->rec : cut};
        rc = run_txn(ix, 0, ckpt_txn, &a);
        bg_check(ix, &b);
    }
    /* Synced whatever the environment's flags (a plain writer may run
     * with no_sync): the log files go next. */
    if (!rc && mdb_env_sync(ix->env, 1))
        rc = WN_EIO;
    bg_leave(ix, &b);
    if (rc)
        return rc;
    /* Detach the sealed part with no transaction running (none points
     * into it then), free it after. */
    pthread_rwlock_wrlock(&ix->grow);
    pthread_mutex_lock(&ix->ov.mu);
    struct ov_part old = *pt;
    memset(pt, 0, sizeof(*pt));
    atomic_fetch_sub(&ix->ov.count, old.n);
    pthread_mutex_unlock(&ix->ov.mu);
    pthread_rwlock_unlock(&ix->grow);
    ov_part_empty(&old);
    /* Its arrays and tables serve the next sealing. */
    pthread_mutex_lock(&ix->ov.mu);
    if (!pt->cap && !pt->keys.slot && !pt->ids.slot)
        *pt = old;
    else
        ov_part_release(&old);
    pthread_mutex_unlock(&ix->ov.mu);
    return wn__wal_remove_upto(ix->wal, ix->ckpt_done);
}

int wn_index_checkpoint(struct wn_index *ix, int force)
{
    assert(ix);
    if (!ix->wal || ix->read_only)
        return WN_OK;
    pthread_mutex_lock(&ix->ckpt_mu);
    int rc = WN_OK;
    /* Forced: a part sealed by a failed attempt first, then the rest. */
    for (int round = 0; !rc && round < 2; round++) {
        bool sealed = false;
        rc = ckpt_seal(ix, force, &sealed);
        if (rc || !sealed)
            break;
        rc = ckpt_write(ix);
        if (!force)
            break;
    }
    pthread_mutex_unlock(&ix->ckpt_mu);
    return rc;
}

/* Records the log holds beyond LMDB (not checkpointed yet). */
size_t wn_index_logged(struct wn_index *ix)
{
    assert(ix);
    return atomic_load(&ix->ov.count);
}

/* The overlay from the log: frames numbered from ckpt (the caller's
 * snapshot's), in order. */
struct load_arg {
    struct wn_index *ix;
    uint64_t from;
};

static int load_frame(void *arg, const unsigned char *p, size_t len)
{
    struct load_arg *a = arg;
    struct ov_rec *r;
    int rc = ov_rec_make(p, len, &r);
    if (rc == WN_EFORMAT)
        return WN_OK; /* not ours to judge: checked, yet unreadable */
    if (rc)
        return rc;
    struct overlay *ov = &a->ix->ov;
    if (r->rec < a->from || (int64_t)r->rec <= ov_last(ov)) {
        wn__free(r);
        return WN_OK;
    }
    rc = ov_add(ov, r);
    if (rc)
        wn__free(r);
    return rc;
}

struct open_arg {
    uint64_t ckpt, next;
};

static int open_txn(struct wn_index *ix, MDB_txn *txn, void *arg)
{
    struct open_arg *a = arg;
    a->ckpt = ckpt_of(ix, txn);
    a->next = a->ckpt;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, ix->recs, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0) {
        unsigned last;
        memcpy(&last, k.mv_data, sizeof(last));
        if ((uint64_t)last + 1 > a->next)
            a->next = (uint64_t)last + 1;
    }
    mdb_cursor_close(cur);
    return WN_OK;
}

/* At open: read the log into the overlay; a writer holding it exclusively
 * puts it into LMDB and removes its files; the logging writer starts its
 * file. */
static int wal_setup(struct wn_index *ix, const struct wn_index_options *o,
                     char *msg, size_t cap)
{
    int mode = o->read_only            ? WN__WAL_READ
               : o->wal && !o->no_sync ? WN__WAL_WRITE
                                       : WN__WAL_PLAIN;
    int excl = 0;
    int rc = wn__wal_open(ix->path, mode, &ix->wal, &excl, msg, cap);
    if (rc)
        return rc;
    struct open_arg oa;
    rc = run_txn(ix, 1, open_txn, &oa);
    struct load_arg la = {ix, oa.ckpt};
    if (!rc && (mode == WN__WAL_READ || excl))
        rc = wn__wal_replay(ix->wal, load_frame, &la, NULL);
    if (rc || mode == WN__WAL_READ)
        return rc;
    if (excl) {
        rc = wn_index_checkpoint(ix, 1); /* not logging yet: all of it */
        if (!rc)
            rc = wn__wal_remove_upto(ix->wal, UINT64_MAX);
        if (!rc)
            rc = run_txn(ix, 1, open_txn, &oa);
    }
    if (!rc && mode == WN__WAL_WRITE) {
        ix->next_rec = oa.next;
        ix->logging = 1;
        rc = wn__wal_start(ix->wal);
        /* And the file after it, so that the first checkpoint does not
         * write one (8 MiB and a sync, beside the log's syncs). */
        if (!rc)
            rc = wn__wal_prepare(ix->wal);
    } else if (!rc && excl) {
        rc = wn__wal_share(ix->wal);
    }
    return rc;
}

struct apply_arg {
    struct wn_index_item *const *it;
    size_t n;
    int add;
    size_t max;
    struct wn_index_result *res;
};

static int apply_txn(struct wn_index *ix, MDB_txn *txn, void *arg)
{
    struct apply_arg *a = arg;
    struct work w = {0};
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, ix->keys, &cur);
    for (size_t i = 0; !rc && i < a->n; i++) {
        struct wn_index_result *r = &a->res[i];
        rc = lookup(ix, txn, cur, a->it[i], a->add, a->max, &w, r);
        if (!rc && a->add && r->is_new) {
            uint32_t num;
            rc = ix->logging ? stage(ix, a->it[i], &num)
                             : insert(ix, txn, a->it[i], &num);
            if (!rc) {
                r->added = 1;
                r->record = num;
            }
        }
    }
    if (cur)
        mdb_cursor_close(cur);
    wn__free(w.nums);
    wn__free(w.c);
    wn__jverify_release(&w.jv);
    return rc;
}

/* The logging writer's group: look up in a read transaction (LMDB holds
 * no add of this writer's that the overlay does not), stage the new
 * records, append their frames; undone whole on failure. */
static int apply_logged(struct wn_index *ix, struct apply_arg *a)
{
    pthread_mutex_lock(&ix->wal_mu);
    uint64_t next0 = ix->next_rec;
    ix->wbuf.len = 0;
    int rc = run_txn(ix, 1, apply_txn, a);
    if (!rc && ix->wbuf.len)
        rc = wn__wal_append(ix->wal, ix->wbuf.data, ix->wbuf.len);
    if (rc && ix->next_rec != next0) {
        /* By number: the group's records are the active part's last. */
        pthread_rwlock_wrlock(&ix->grow);
        int k = ov_cut(&ix->ov, (uint32_t)next0);
        pthread_rwlock_unlock(&ix->grow);
        ix->next_rec = next0;
        if (k)
            rc = k;
    }
    size_t wrote = ix->wbuf.len;
    pthread_mutex_unlock(&ix->wal_mu);
    bg_urge(ix);
    if (!rc && wrote && !ix->sync_later)
        rc = wn__wal_sync(ix->wal);
    return rc;
}

int wn_index_apply(struct wn_index *ix, struct wn_index_item *const *it,
                   size_t n, int add, size_t max_matches,
                   struct wn_index_result *res)
{
    assert(ix && (it || !n) && (res || !n) && max_matches >= 1);
    if (add && ix->read_only)
        return WN_EINVAL;
    if (n == 0)
        return WN_OK;
    struct apply_arg a = {it, n, add, max_matches, res};
    int rc;
    if (add && ix->logging)
        rc = apply_logged(ix, &a);
    else
        rc = run_txn(ix, !add, apply_txn, &a);
    if (!rc && add && ix->auto_merge && ix->logging)
        rc = wn_index_checkpoint(ix, 0);
    if (!rc && add && ix->auto_merge)
        rc = wn_index_merge(ix, 0);
    return rc;
}

static int one(struct wn_index *ix, const struct wn_index_doc *doc, int add,
               size_t max, struct wn_index_result *res)
{
    struct wn_index_item *it = NULL;
    int rc = wn_index_item_create(ix, doc, add, &it);
    if (!rc)
        rc = wn_index_apply(ix, &it, 1, add, max, res);
    wn_index_item_free(it);
    return rc;
}

int wn_index_check(struct wn_index *ix, const struct wn_index_doc *doc,
                   struct wn_index_result *res)
{
    return one(ix, doc, 1, 1, res);
}

int wn_index_query(struct wn_index *ix, const struct wn_index_doc *doc,
                   size_t max_matches, struct wn_index_result *res)
{
    return one(ix, doc, 0, max_matches ? max_matches : 1, res);
}

/* ------------------------------------------------------------------------ */
/* Expire and stats                                                         */
/* ------------------------------------------------------------------------ */

/*
 * Expiry, in three steps, each in bounded transactions:
 *  1. collect the numbers of up to EXPIRE_SET records older than `before`
 *     (a read transaction over `times`), sorted;
 *  2. scan the keys database, PREFIXES_PER_TXN prefixes per transaction,
 *     deleting every value whose record number is in the set (records do
 *     not keep their keys, so this scan is how they are found: O(keys));
 *  3. delete the records, their ids and their time entries, 4096 per
 *     transaction.
 * A crash between the steps leaves records that are old and partly
 * unfindable, still listed in `times`: the next expire finishes them.
 */
struct expire_arg {
    uint64_t before; /* time key */
    uint32_t *set;
    size_t n, cap;
    size_t next;     /* step 3: the next record of set */
    unsigned prefix; /* step 2: the first prefix of the next transaction */
    int more;        /* step 1: more records than the set holds */
};

static int collect_expired(struct wn_index *ix, MDB_txn *txn, void *arg)
{
    struct expire_arg *a = arg;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, ix->times, &cur);
    if (rc)
        return rc;
    a->n = 0;
    a->more = 0;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint64_t t;
        memcpy(&t, k.mv_data, sizeof(t));
        if (t >= a->before)
            break;
        if (a->n == EXPIRE_SET) {
            a->more = 1;
            break;
        }
        if (WN_GROW(a->set, a->cap, a->n + 1)) {
            rc = WN_ENOMEM;
            break;
        }
        unsigned rec;
        memcpy(&rec, v.mv_data, sizeof(rec));
        a->set[a->n++] = rec;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static bool in_set(const struct expire_arg *a, uint32_t rec)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->set[mid] < rec)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < a->n && a->set[lo] == rec;
}

static int expire_keys_txn(struct wn_index *ix, MDB_txn *txn, void *arg)
{
    struct expire_arg *a = arg;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, ix->keys, &cur);
    if (rc)
        return rc;
    unsigned first = a->prefix, end = first + PREFIXES_PER_TXN;
    MDB_val k = val(&first, sizeof(first)), v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        unsigned prefix;
        memcpy(&prefix, k.mv_data, sizeof(prefix));
        if (prefix >= end)
            break;
        uint64_t x;
        memcpy(&x, v.mv_data, sizeof(x));
        if (in_set(a, (uint32_t)x)) {
            rc = mdb_cursor_del(cur, 0);
            if (rc)
                break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int expire_pending_txn(struct wn_index *ix, MDB_txn *txn, void *arg)
{
    struct expire_arg *a = arg;
    int rc = 0;
    for (size_t i = 0; !rc && i < a->n; i++) {
        unsigned rk = a->set[i];
        MDB_val k = val(&rk, sizeof(rk));
        rc = mdb_del(txn, ix->pending, &k, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    return rc;
}

static int expire_recs_txn(struct wn_index *ix, MDB_txn *txn, void *arg)
{
    struct expire_arg *a = arg;
    size_t end = WN_MIN(a->n, a->next + 4096);
    int rc = 0;
    for (size_t i = a->next; !rc && i < end; i++) {
        unsigned rk = a->set[i];
        MDB_val k = val(&rk, sizeof(rk)), v;
        rc = mdb_get(txn, ix->recs, &k, &v);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
            continue;
        }
        struct rec_view rv;
        if (!rc)
            rc = parse_rec(&v, &rv);
        if (rc)
            break;
        /* Only this record's own id entry: the id may have been indexed
         * again by another record since. */
        unsigned char buf[ID_KEY_MAX];
        MDB_val ik = id_key(rv.id, rv.id_len, buf), iv;
        rc = mdb_get(txn, ix->ids, &ik, &iv);
        if (rc == 0 && iv.mv_size == 4 && !memcmp(iv.mv_data, &rk, 4))
            rc = mdb_del(txn, ix->ids, &ik, NULL);
        else if (rc == MDB_NOTFOUND || rc == 0)
            rc = 0;
        uint64_t tk = time_key(rv.time);
        MDB_val tkv = val(&tk, sizeof(tk)), tv = val(&rk, sizeof(rk));
        if (!rc) {
            rc = mdb_del(txn, ix->times, &tkv, &tv);
            if (rc == MDB_NOTFOUND)
                rc = 0;
        }
        if (!rc)
            rc = mdb_del(txn, ix->recs, &k, NULL);
    }
    return rc;
}

int wn_index_expire(struct wn_index *ix, int64_t before, uint64_t *removed)
{
    assert(ix);
    if (ix->read_only)
        return WN_EINVAL;
    int rc = wn_index_checkpoint(ix, 1);
    if (rc)
        return rc;
    struct expire_arg a;
    memset(&a, 0, sizeof(a));
    a.before = time_key(before);
    uint64_t total = 0;
    do {
        rc = run_txn(ix, 1, collect_expired, &a);
        if (rc || a.n == 0)
            break;
        qsort(a.set, a.n, sizeof(*a.set), cmp_u32);
        for (a.prefix = 0; !rc && a.prefix < (1u << PREFIX_BITS);
             a.prefix += PREFIXES_PER_TXN)
            rc = run_txn(ix, 0, expire_keys_txn, &a);
        if (!rc)
            rc = run_txn(ix, 0, expire_pending_txn, &a);
        for (a.next = 0; !rc && a.next < a.n; a.next += 4096)
            rc = run_txn(ix, 0, expire_recs_txn, &a);
        if (!rc)
            total += a.n;
    } while (!rc && a.more);
    wn__free(a.set);
    if (!rc && removed)
        *removed = total;
    return rc;
}

static int stats_txn(struct wn_index *ix, MDB_txn *txn, void *arg)
{
    struct wn_index_stats *st = arg;
    MDB_stat s;
    int rc = mdb_stat(txn, ix->recs, &s);
    if (rc)
        return rc;
    st->records = s.ms_entries;
    rc = mdb_stat(txn, ix->keys, &s);
    if (rc)
        return rc;
    st->key_values = s.ms_entries;
    rc = mdb_stat(txn, ix->pending, &s);
    if (rc)
        return rc;
    st->pending = s.ms_entries;
    MDB_cursor *cur;
    MDB_val k, v;
    rc = mdb_cursor_open(txn, ix->recs, &cur);
    if (rc)
        return rc;
    if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0) {
        unsigned last;
        memcpy(&last, k.mv_data, sizeof(last));
        st->next_record = (uint64_t)last + 1;
    }
    mdb_cursor_close(cur);
    rc = mdb_cursor_open(txn, ix->times, &cur);
    if (rc)
        return rc;
    uint64_t t;
    if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0) {
        memcpy(&t, k.mv_data, sizeof(t));
        st->oldest = (int64_t)(t ^ (1ull << 63));
    }
    if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0) {
        memcpy(&t, k.mv_data, sizeof(t));
        st->newest = (int64_t)(t ^ (1ull << 63));
    }
    mdb_cursor_close(cur);
    MDB_envinfo info;
    MDB_stat es;
    mdb_env_info(ix->env, &info);
    mdb_env_stat(ix->env, &es);
    st->map_size = info.me_mapsize;
    st->used_bytes = ((uint64_t)info.me_last_pgno + 1) * es.ms_psize;
    /* The overlay's records that this snapshot does not hold. */
    uint64_t done = ckpt_of(ix, txn);
    bool have = st->records > 0;
    pthread_mutex_lock(&ix->ov.mu);
    const struct ov_part *parts[2] = {&ix->ov.sealed, &ix->ov.active};
    for (size_t p = 0; p < 2; p++) {
        for (size_t i = 0; i < parts[p]->n; i++) {
            const struct ov_rec *e = parts[p]->r[i];
            if (e->rec < done)
                continue;
            st->log_records++;
            if ((uint64_t)e->rec + 1 > st->next_record)
                st->next_record = (uint64_t)e->rec + 1;
            size_t vl;
            const unsigned char *value = ov_value(e, &vl);
            MDB_val mv = val(value, vl);
            struct rec_view rv;
            if (parse_rec(&mv, &rv))
                continue;
            if (!have || rv.time < st->oldest)
                st->oldest = rv.time;
            if (!have || rv.time > st->newest)
                st->newest = rv.time;
            have = true;
        }
    }
    pthread_mutex_unlock(&ix->ov.mu);
    st->records += st->log_records;
    return 0;
}

int wn_index_stats(struct wn_index *ix, struct wn_index_stats *st)
{
    assert(ix && st);
    struct wn_index_stats s;
    memset(&s, 0, sizeof(s));
    int rc = run_txn(ix, 1, stats_txn, &s);
    if (rc)
        return rc;
    char *data = wn__malloc(strlen(ix->path) + 10);
    if (!data)
        return WN_ENOMEM;
    sprintf(data, "%s/data.mdb", ix->path);
    struct stat fs;
    if (stat(data, &fs) == 0)
        s.file_bytes = (uint64_t)fs.st_size;
    wn__free(data);
    s.bands = ix->rule.bands;
    s.rows = ix->rule.rows;
    if (ix->wal)
        wn__wal_bytes(ix->wal, &s.log_bytes, &s.log_peak_bytes);
    *st = s;
    return WN_OK;
}
