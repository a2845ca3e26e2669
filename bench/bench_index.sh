#!/bin/sh
# The persistent index and the service at scale (docs/INDEX.md): build time
# against `winnow dedup` on the same records, bytes per record on disk, peak
# RSS, checks per second through the library and over HTTP on loopback with
# 1..64 clients, p50/p99 latency. Prints Markdown-ready lines.
#
#   bench/bench_index.sh [BUILD] [DOCS] [PROBES] [PHASE]
#   defaults: build 1000000 20000 all
#   PHASE: all, make (dedup, index add, bytes on disk), or use (the library
#   and HTTP rows, against the index a `make` run left in bench/out/index/ix)
#
# Corpora are generated (seeded) into bench/out/index/ and reused.
set -eu
build=${1:-build}
docs=${2:-1000000}
probes=${3:-20000}
phase=${4:-all}
w="$build/winnow"
out=bench/out/index
mkdir -p "$out"
base="$out/base-$docs.jsonl"
probe="$out/probe-$probes.jsonl"
[ -s "$base" ] || "$build/bench/gen" --seed 1 --docs "$docs" --out "$base" 2>/dev/null
# Fresh records (another seed), with ids of their own.
[ -s "$probe" ] || "$build/bench/gen" --seed 2 --docs "$probes" 2>/dev/null |
    sed 's/"id":"gen-/"id":"new-/' >"$probe"

echo "- $(uname -srm), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "- $(wc -l <"$base") records ($(du -m "$base" | cut -f1) MB) in the index; $probes fresh records to check"

t() { /usr/bin/time -f "%e %U %S %M" -o "$out/time" "$@"; }
show() { # label: wall, CPU, peak RSS of the last t
    read -r e u s m <"$out/time"
    echo "- $1: $e s wall, $(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u + s}') s CPU, peak RSS $((m / 1024)) MB"
}

if [ "$phase" != use ]; then
rm -rf "$out/dd" "$out/ix" "$out/add"
t "$w" dedup -q -o "$out/dd" "$base" --no-fsync >/dev/null 2>&1 || true
show "winnow dedup"
"$w" index create "$out/ix" >/dev/null
t "$w" index add "$out/ix" "$base" --batch 8192 --no-sync -o "$out/add" 2>/dev/null
show "winnow index add (transactions of 8192 records, --no-sync)"
cmp -s "$out/dd/kept.jsonl" "$out/add/kept.jsonl" &&
    echo "- kept.jsonl of both: identical" || echo "- kept.jsonl of both: DIFFERENT"
"$w" index stats "$out/ix" >"$out/stats.json"
python3 - "$out/stats.json" "$out/ix" <<'PY'
import json, subprocess, sys
s = json.load(open(sys.argv[1]))
n = s["records"]
line = "- on disk: %d records, file %.1f MB = %.0f bytes per record" % (
    n, s["file_bytes"] / 1e6, s["file_bytes"] / n)
try:
    f = subprocess.run(["mdb_stat", "-ef", sys.argv[2]], capture_output=True, text=True).stdout
    used = int(f.split("Number of pages used:")[1].split()[0])
    free = int(f.split("Free pages:")[1].split()[0])
    line += "; live pages (less LMDB's free list) %.0f bytes per record" % ((used - free) * 4096 / n)
except Exception:
    pass
print(line)
PY
fi
[ "$phase" != make ] || exit 0

# Library: one record per call and per transaction, with sync (the first
# 2000 fresh records: each is a commit), through the write-ahead log (each
# a sync of the log), then without sync; queries.
# LIB_ROWS=0 skips them.
if [ "${LIB_ROWS:-1}" != 0 ]; then
cp -r "$out/ix" "$out/ix-lib"
sync -f "$out/ix-lib/data.mdb"
head -n 2000 "$probe" >"$out/probe-2000.jsonl"
"$build/bench/bench_index" "$out/ix-lib" "$out/probe-2000.jsonl" 1 check
rm -rf "$out/ix-lib"
cp -r "$out/ix" "$out/ix-lib"
sync -f "$out/ix-lib/data.mdb"
"$build/bench/bench_index" "$out/ix-lib" "$probe" 1 check --wal
rm -rf "$out/ix-lib"
cp -r "$out/ix" "$out/ix-lib"
sync -f "$out/ix-lib/data.mdb"
"$build/bench/bench_index" "$out/ix-lib" "$probe" 1 check --no-sync
"$build/bench/bench_index" "$out/ix-lib" "$probe" 2 query
rm -rf "$out/ix-lib"
fi

# HTTP: a fresh copy of the index per run, every request a fresh record;
# then queries. Durable checks go through the write-ahead log (the default)
# at 1..64 clients; "w64" is the LMDB-commit path (--no-wal) and "n64"
# no sync at all (--no-sync, the CPU's bound) for comparison; "q16"
# queries. HTTP_RUNS overrides the list (a row given twice runs twice).
# CLIENT names another load client (another build's bench_serve), to run
# one server against two clients; the client is an epoll loop since Run D
# (a thread per connection before).
tick=$(getconf CLK_TCK)
cpu_of() { awk -v t="$tick" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }
for run in ${HTTP_RUNS:-1 4 16 64 w64 n64 q16}; do
    c=${run#[qwn]}
    path=/check
    flags=
    case $run in q*) path=/query ;; w*) flags=--no-wal ;; n*) flags=--no-sync ;; esac
    echo "- HTTP $path, $c clients${flags:+ ($flags)}:"
    rm -rf "$out/ix-http" "$out/serve.err"
    cp -r "$out/ix" "$out/ix-http"
    # The copy's dirty pages on disk first: else the first commit's sync
    # writes the whole file.
    sync -f "$out/ix-http/data.mdb"
    # shellcheck disable=SC2086
    "$w" serve --index "$out/ix-http" --listen 127.0.0.1:0 $flags 2>"$out/serve.err" &
    pid=$!
    until grep -q serving "$out/serve.err"; do sleep 0.1; done
    port=$(sed -n 's|.*:\([0-9]*\)/$|\1|p' "$out/serve.err")
    # CPU seconds of the server during the run (utime + stime of
    # /proc/PID/stat, less what opening and loading took) and of the
    # client: on a shared machine, checks per CPU second say more than
    # checks per wall second.
    s0=$(cpu_of "$pid")
    # Bytes the server handed to write calls, the calls, and the bytes of
    # page cache it dirtied for the disk (/proc/PID/io wchar, syscw,
    # write_bytes): per group commit below.
    io0=$(awk '/^wchar|^syscw|^write_bytes/ {printf "%s ", $2}' "/proc/$pid/io")
    /usr/bin/time -f "%U %S" -o "$out/ctime" \
        "${CLIENT:-$build/bench/bench_serve}" 127.0.0.1 "$port" "$path" "$probe" "$c"
    scpu=$(awk -v a="$s0" -v b="$(cpu_of "$pid")" 'BEGIN{printf "%.2f", b - a}')
    ccpu=$(awk '{printf "%.2f", $1 + $2}' "$out/ctime")
    io1=$(awk '/^wchar|^syscw|^write_bytes/ {printf "%s ", $2}' "/proc/$pid/io")
    hwm=$(awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status")
    curl -s "127.0.0.1:$port/stats" | python3 -c '
import json, sys
a = json.load(sys.stdin)
s = a["service"]
io0, io1 = [list(map(int, x.split())) for x in sys.argv[1:3]]
c = max(s["commits"], 1)
print("  records per commit %.1f (per sync %.1f), per commit: %.2f ms in the writer (look up, add, commit or log), %.2f ms to sync; parse and sketch %.3f ms per record" % (
    s["records_per_commit"], s["records_per_commit"] * c / max(s["syncs"], 1),
    s["commit_ms"] / c, s["sync_ms"] / max(s["syncs"], 1),
    s["prepare_ms"] / max(s["checks"] + s["queries"], 1)))
print("  merger thread: %.0f ms in checkpoints, %.0f ms in merges of the pending tier" % (
    s["checkpoint_ms"], s["merge_ms"]))
if s["commits"]:
    print("  per commit: %.1f KB written in %.1f write calls, %.1f KB of pages dirtied for the disk (checkpoints and merges included)" % (
        (io1[0] - io0[0]) / c / 1024, (io1[1] - io0[1]) / c, (io1[2] - io0[2]) / c / 1024))
n = max(a["records"], 1)
print("  on disk at the end: %d records, data file %.1f MB + log %.2f MB (peak %.2f MB) = %.0f bytes per record with the log at its peak" % (
    n, a["file_bytes"] / 1e6, a["log_bytes"] / 1e6, a["log_peak_bytes"] / 1e6,
    (a["file_bytes"] + a["log_peak_bytes"]) / n))' "$io0" "$io1"
    echo "  server CPU $scpu s, client CPU $ccpu s for $probes requests; server peak RSS $hwm MB"
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
done
rm -rf "$out/ix-http"
echo "- load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
