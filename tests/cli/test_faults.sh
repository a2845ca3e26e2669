#!/bin/sh
# Faults around `winnow dedup`: a full disk (RLIMIT_FSIZE with SIGXFSZ
# ignored, and a real ENOSPC on a small tmpfs when we may mount one) on the
# outputs, on the spill files and on the spool of standard input; SIGINT
# and SIGTERM in the middle of a run; kill -9. After every failure: exit
# status 1 (or 128 + the signal), no temporary directory left, no output
# that looks complete, and the previous outputs in DIR byte-identical.
. "$(dirname "$0")/lib.sh"

MNT="$TMP/mnt"
cleanup() {
    # Release anything still waiting on our pipes, then the tmpfs.
    [ -n "${writer:-}" ] && kill "$writer" 2>/dev/null
    mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"
    rm -rf "$TMP"
}
trap cleanup EXIT

OUT="$TMP/out"
PREV="$TMP/prev"

# Short records, all different: the spill files (512 bytes of signature
# and 8 per band for each record) outgrow kept.jsonl by far.
python3 -c '
import json
w = ["harbour", "council", "budget", "festival", "ferry", "museum", "rain",
     "school", "market", "bridge", "library", "strike", "station", "river"]
for i in range(20000):
    t = " ".join(w[(i * 7 + k * (i % 13 + 1)) % len(w)] for k in range(8))
    print(json.dumps({"id": i, "text": "%s %d" % (t, i)}))' >"$TMP/short.jsonl"
GEN="$BUILD/bench/gen"
"$GEN" --seed 5 --docs 3000 --out "$TMP/news.jsonl" 2>/dev/null
ok $? "generated a corpus"

# The outputs every failed run must leave as they are.
"$WINNOW" dedup -q -o "$OUT" "$TMP/news.jsonl"
ok $? "a first run publishes outputs"
mkdir -p "$PREV"
cp "$OUT"/* "$PREV"/

# untouched DESCRIPTION: the five outputs equal the first run's, byte for
# byte, and no temporary directory is left in OUT.
untouched() {
    left_as_before "$PREV" "$OUT" kept.jsonl removed.jsonl clusters.jsonl \
        rejected.jsonl stats.json
    ok $? "$1"
}

# limited BYTES ARGS...: winnow with RLIMIT_FSIZE at BYTES, SIGXFSZ ignored
# (so writes fail with EFBIG instead of killing the process). Sets $st.
limited() {
    lim=$1
    shift
    (trap '' XFSZ; exec prlimit --fsize="$lim" "$WINNOW" "$@") \
        >"$TMP/stdout" 2>"$TMP/err"
    st=$?
}

# 1. The spill files fill up first (short records, default MinHash).
limited 2000000 dedup -q -o "$OUT" "$TMP/short.jsonl"
[ "$st" -eq 1 ] && grep -q '^winnow: ' "$TMP/err"
ok $? "full disk on the spill files: exit 1 with a message (got $st)"
untouched "full disk on the spill files: previous outputs intact"
mkdir -p "$TMP/spill"
limited 2000000 dedup -q --tmp-dir "$TMP/spill" -o "$OUT" "$TMP/short.jsonl"
[ "$st" -eq 1 ] && [ -z "$(ls -A "$TMP/spill")" ]
ok $? "full disk in --tmp-dir: exit 1, --tmp-dir left empty (got $st)"
untouched "full disk in --tmp-dir: previous outputs intact"

# 2. The outputs fill up (exact-only has no spill files).
limited 300000 dedup -q --exact-only -o "$OUT" "$TMP/short.jsonl"
[ "$st" -eq 1 ]; ok $? "full disk on kept.jsonl: exit 1 (got $st)"
# Long records: kept.jsonl, written by pass 2's copy, is the first file to
# reach the limit, and the message names it (the spill files, which have no
# name, are named by their directory).
limited 1000000 dedup -q --exact-only -o "$OUT" "$TMP/news.jsonl"
[ "$st" -eq 1 ] && grep -q "^winnow: $OUT/kept.jsonl: " "$TMP/err"
ok $? "full disk on kept.jsonl of long records: exit 1 naming kept.jsonl (got $st: $(head -c 200 "$TMP/err"))"
untouched "full disk on kept.jsonl: previous outputs intact"

# 3. The spool of standard input fills up.
(trap '' XFSZ; exec prlimit --fsize=300000 "$WINNOW" dedup -q --exact-only \
    -o "$OUT" - <"$TMP/short.jsonl") >/dev/null 2>"$TMP/err"
st=$?
[ "$st" -eq 1 ]; ok $? "full disk on the stdin spool: exit 1 (got $st)"
untouched "full disk on the stdin spool: previous outputs intact"

# 4. A sweep of limits: each run publishes a complete set or nothing.
for lim in 0 1 4096 65536 1000000 4000000 64000000; do
    limited "$lim" dedup -q -o "$OUT" "$TMP/news.jsonl"
    if [ "$st" -eq 0 ]; then
        accounting "$OUT" && same_outputs "$OUT" "$PREV"
        ok $? "file size limit $lim: run completed, outputs complete"
        cp "$OUT"/* "$PREV"/ # stats.json has new timings
    else
        [ "$st" -eq 1 ]; ok $? "file size limit $lim: exit 1 (got $st)"
        if [ "$lim" -ge 4096 ]; then # stderr is a file under the limit too
            grep -q 'file too large' "$TMP/err"
            ok $? "file size limit $lim: stderr says 'file too large'"
        fi
        untouched "file size limit $lim: previous outputs intact"
    fi
done

# 5. A real full disk: a 2 MiB tmpfs, when this user may mount one.
mkdir -p "$MNT"
if mount -t tmpfs -o size=2m tmpfs "$MNT" 2>/dev/null; then
    head -n 20 "$TMP/news.jsonl" >"$TMP/few.jsonl"
    "$WINNOW" dedup -q -o "$MNT/out" "$TMP/few.jsonl"
    ok $? "tmpfs: a small run fits"
    mkdir -p "$TMP/tprev" && cp "$MNT/out"/* "$TMP/tprev"/
    used0=$(df -k --output=used "$MNT" | tail -1)
    "$WINNOW" dedup -q -o "$MNT/out" "$TMP/news.jsonl" 2>"$TMP/err"
    st=$?
    [ "$st" -eq 1 ] && grep -q 'no space left on device' "$TMP/err"
    ok $? "tmpfs full: exit 1, 'no space left on device' (got $st)"
    same=0
    for f in kept.jsonl removed.jsonl clusters.jsonl rejected.jsonl stats.json; do
        cmp -s "$TMP/tprev/$f" "$MNT/out/$f" || same=1
    done
    [ "$same" -eq 0 ] && [ -z "$(ls -A "$MNT/out" | grep '^\.winnow-tmp-')" ]
    ok $? "tmpfs full: previous outputs intact, no temporary files"
    used1=$(df -k --output=used "$MNT" | tail -1)
    [ "$used1" -le "$used0" ]
    ok $? "tmpfs full: the space is given back ($used0 KiB before, $used1 after)"
    "$WINNOW" dedup -q --tmp-dir "$MNT" -o "$TMP/tout" "$TMP/short.jsonl" 2>"$TMP/err"
    st=$?
    [ "$st" -eq 1 ] && grep -q 'no space left on device' "$TMP/err" \
        && [ ! -e "$TMP/tout/stats.json" ]
    ok $? "tmpfs full under --tmp-dir: exit 1, nothing published (got $st)"
    umount "$MNT"
else
    skip "tmpfs full disk" "cannot mount a tmpfs here"
fi

# 6. Signals in the middle of pass 1, deterministically: standard input
# comes through a pipe whose writer stops half-way until the signal has
# been sent.
# signal_paused SIG STATUS: the check above for one signal.
signal_paused() {
    rm -f "$TMP/go" "$TMP/pipe"
    mkfifo "$TMP/pipe"
    half=$(($(wc -c <"$TMP/news.jsonl") / 2))
    {
        head -c "$half" "$TMP/news.jsonl"
        while [ ! -e "$TMP/go" ]; do sleep 0.05; done
        tail -c +"$((half + 1))" "$TMP/news.jsonl"
    } >"$TMP/pipe" &
    writer=$!
    "$WINNOW" dedup -q -j 2 -o "$OUT" - <"$TMP/pipe" 2>"$TMP/err" &
    pid=$!
    i=0 # 120 s: a hang guard, not a timing (the writer is paused)
    while [ $i -lt 2400 ] && ! run_started "$OUT"; do
        sleep 0.05
        i=$((i + 1))
    done
    sleep 0.3
    kill -"$1" "$pid"
    touch "$TMP/go"
    wait "$pid"
    st=$?
    wait "$writer" 2>/dev/null
    writer=
    [ "$st" -eq "$2" ] && grep -q 'interrupted' "$TMP/err"
    ok $? "SIG$1 in pass 1: exit $2 (got $st), says interrupted"
    untouched "SIG$1 in pass 1: no temporary files, previous outputs intact"
}
signal_paused INT 130
signal_paused TERM 143

# 7. Signals later in the run (join, verification, pass 2): a larger
# corpus, signalled once pass 2 has started writing kept.jsonl.
"$GEN" --seed 9 --docs 20000 --out "$TMP/big.jsonl" 2>/dev/null
"$WINNOW" dedup -q -o "$OUT" "$TMP/big.jsonl" && cp "$OUT"/* "$PREV"/
signal_late() {
    "$WINNOW" dedup -q -j 2 -o "$OUT" "$TMP/big.jsonl" 2>"$TMP/err" &
    pid=$!
    i=0 # until pass 2 writes, or the run ends; 120 s as a hang guard
    while [ $i -lt 12000 ] && kill -0 "$pid" 2>/dev/null; do
        k=$(find "$OUT" -path '*/.winnow-tmp-*/kept.jsonl' -size +0 2>/dev/null)
        [ -n "$k" ] && break
        sleep 0.01
        i=$((i + 1))
    done
    kill -"$1" "$pid" 2>/dev/null
    wait "$pid"
    st=$?
    if [ "$st" -eq 0 ]; then
        skip "SIG$1 in pass 2" "the run finished before the signal"
        cp "$OUT"/* "$PREV"/
        return
    fi
    [ "$st" -eq "$2" ]; ok $? "SIG$1 in pass 2: exit $2 (got $st)"
    untouched "SIG$1 in pass 2: no temporary files, previous outputs intact"
}
signal_late INT 130
signal_late TERM 143

# 8. SIGTERM while standard input is a pipe whose writer is alive but
# silent: the engine passes its cancel flag to the reader
# (wn__reader_set_cancel), so the interrupted read is not retried. The
# writer outlives the bound below: a run that retried the read would wait
# for it, so the bound proves the stop without being a timing (120 s, a
# hang guard; the run stops in milliseconds).
rm -f "$TMP/pipe"
mkfifo "$TMP/pipe"
(exec sleep 600) >"$TMP/pipe" &
writer=$!
"$WINNOW" dedup -q -o "$OUT" - <"$TMP/pipe" 2>"$TMP/err" &
pid=$!
sleep 0.5
kill -TERM "$pid"
i=0
while [ $i -lt 1200 ] && kill -0 "$pid" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
alive=0
kill -0 "$pid" 2>/dev/null && alive=1
kill "$writer" 2>/dev/null
wait "$pid"
st=$?
writer=
[ "$alive" -eq 0 ] && [ "$st" -eq 143 ]
ok $? "SIGTERM with a silent writer on stdin: stops while the writer lives, exit 143 (got $st)"
untouched "SIGTERM with a silent writer: previous outputs intact"

# 9. kill -9: nothing can be cleaned up then, but the previous outputs stay
# as they were, and the next run removes the dead run's temporary
# directory (its lock is free) and works.
"$WINNOW" dedup -q -j 2 -o "$OUT" "$TMP/big.jsonl" 2>/dev/null &
pid=$!
i=0 # 120 s: a hang guard for a slow start, not a timing
while [ $i -lt 12000 ] && ! run_started "$OUT"; do
    sleep 0.01
    i=$((i + 1))
done
kill -KILL "$pid"
wait "$pid"
st=$?
same=0
for f in kept.jsonl removed.jsonl clusters.jsonl rejected.jsonl stats.json; do
    cmp -s "$PREV/$f" "$OUT/$f" || same=1
done
[ "$st" -eq 137 ] && [ "$same" -eq 0 ]
ok $? "kill -9 mid-run: previous outputs byte-identical (exit $st)"
ls -A "$OUT" | grep -q '^\.winnow-tmp-'
ok $? "kill -9 mid-run: the killed run's temporary directory is left"
"$WINNOW" dedup -q -o "$OUT" "$TMP/big.jsonl" && accounting "$OUT" \
    && same_outputs "$OUT" "$PREV"
ok $? "kill -9 mid-run: the next run succeeds with the same outputs"
[ -z "$(ls -A "$OUT" | grep '^\.winnow-tmp-')" ]
ok $? "kill -9 mid-run: the next run removed the dead run's directory"

done_testing
