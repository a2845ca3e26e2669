#!/bin/sh
# `mpirun -n P winnow dedup -j 1` against one process (issue 17), on a
# generated corpus given two ways: 8 files, and one file that the ranks
# cut into byte ranges. Per run: wall time, CPU seconds of every process
# (user + system, mpirun and ranks included), speedup in wall time over the
# one-process -j 1 run of the same layout, peak RSS of each rank, and the
# bytes the ranks sent per record read, by kind (from each rank's -v line):
# raw records and encoded sketches to rank 0, entry overhead (headers,
# paths, ids), band-key entries between ranks, candidate pairs to rank 0,
# the fates rank 0 sends back (one bit per document), and the traffic of
# verification at the owners (lib/dist/verdicts.c): pairs and word counts
# rank 0 sends out (vpairs), records and their requests between ranks
# (vrecs), verdicts to rank 0, and the rule's own joins (lib/dist/rulejoin.c:
# the word counts' reduction, lead words pushed to the flash blocks' owners,
# anchor pairs settled across ranks; their anchor entries count as keys and
# their pairs as pairs); "to rank 0" adds up what ranks other than 0
# send rank 0 alone (raw, sketches, other, pairs, verdicts). Also the peak
# temporary disk of rank 0 and of the busiest other rank, sampled every
# 20 ms: the files of the run's temporary directory but its outputs (a copy
# of the inputs, before the fates went back to the ranks), plus the unnamed
# spill files each rank holds open (found through /proc/PID/fd). Checks
# that every run's outputs equal the one-process run's. Prints Markdown
# tables.
#
#   bench/bench_mpi.sh [BUILD] [BYTES]      (default build, 100000000)
#
# On a machine with fewer cores than ranks the runs are oversubscribed
# (--oversubscribe): say so when quoting the numbers.
set -eu
build=${1:-build}
bytes=${2:-100000000}
w="$build/winnow"
out=bench/out/mpi
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_base_warn_component_unused=0
c="$out/gen-$bytes.jsonl"
if [ ! -s "$c" ]; then
    "$build/bench/gen" --seed 1 --bytes "$bytes" --out "$c.tmp" \
        --truth "$out/truth.jsonl" 2>/dev/null
    mv "$c.tmp" "$c"
    rm -f "$out"/part*
fi
[ -s "$out/part07.jsonl" ] ||
    split -n l/8 -d --additional-suffix=.jsonl "$c" "$out/part"

echo "## Machine"
echo
echo "- $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $(mpirun --version 2>/dev/null | head -1)"
echo "- corpus: $c ($(wc -l <"$c") records, $(($(wc -c <"$c") / 1000000)) MB)"

# timed LABEL CMD...: wall and CPU seconds of CMD and all its children.
timed() {
    label=$1; shift
    python3 - "$out/err" "$out/run" "$@" <<'PY' >"$out/time"
import glob, os, resource, subprocess, sys, time, uuid
# The children's CPU time before the run is not zero when python3 was
# started through a wrapper (a pyenv shim: its own children count, about
# 0.4 s here): only the difference is the command's.
def cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime
OUTPUTS = {"kept.jsonl", "removed.jsonl", "clusters.jsonl", "rejected.jsonl",
           "stats.json"}
tag = uuid.uuid4().hex
env = dict(os.environ, WN_BENCH_RUN=tag)
def ranks():
    """pid -> rank of the run's winnow processes (their environment)."""
    found = {}
    for d in glob.glob("/proc/[0-9]*"):
        try:
            e = open(d + "/environ", "rb").read().split(b"\0")
        except OSError:
            continue
        if ("WN_BENCH_RUN=" + tag).encode() not in e:
            continue
        try:
            if not os.readlink(d + "/exe").endswith("/winnow"):
                continue
        except OSError:
            continue
        r = 0
        for kv in e:
            if kv.startswith(b"OMPI_COMM_WORLD_RANK="):
                r = int(kv.split(b"=")[1])
        found[int(d[6:])] = r
    return found
def tmp_bytes(pid, rank, seen):
    """Bytes of the temporary files of a rank: unnamed (deleted) files it
    holds open, and for rank 0 the files of the output's temporary
    directory that are no output."""
    n = 0
    fds = glob.glob(f"/proc/{pid}/fd/*")
    for fd in fds:
        try:
            target = os.readlink(fd)
            st = os.stat(fd)
        except OSError:
            continue
        if not target.endswith("(deleted)") or (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        n += st.st_blocks * 512
    if rank == 0:
        for f in glob.glob(sys.argv[2] + "/.winnow-tmp-*/*"):
            try:
                st = os.stat(f)
            except OSError:
                continue
            if os.path.basename(f) in OUTPUTS or (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            n += st.st_blocks * 512
    return n
c0 = cpu()
t = time.monotonic()
peak = {}
with open(sys.argv[1], "w") as err:
    p = subprocess.Popen(sys.argv[3:], stderr=err, env=env)
    while p.poll() is None:
        for pid, r in ranks().items():
            b = tmp_bytes(pid, r, set())
            peak[r] = max(peak.get(r, 0), b)
        time.sleep(0.02)
    rc = p.wait()
wall = time.monotonic() - t
others = max([v for k, v in peak.items() if k != 0] or [0])
print(f"{wall:.2f} {cpu() - c0:.2f} {rc} {peak.get(0, 0) / 1e6:.1f} {others / 1e6:.1f}")
PY
    read -r wall cpu rc tmp0 tmpk <"$out/time"
    [ "$rc" -eq 0 ] || { echo "$label failed ($rc):" >&2; cat "$out/err" >&2; exit 1; }
    [ -n "${base:-}" ] || base=$wall
    speedup=$(python3 -c "print(f'{$base / $wall:.2f}')")
    # Each rank's -v line (they may interleave on stderr: match the
    # message, not the line): records read, bytes sent by kind, peak RSS.
    grep -o 'MPI rank [0-9]* of [0-9]*: read [0-9]* records; sent [^;]*; peak_rss=[0-9]*' \
        "$out/err" | sort -k3,3n >"$out/ranks" || true
    if [ -s "$out/ranks" ]; then
        rss=$(awk '{ sub(/.*peak_rss=/, ""); printf "%s%d", (NR > 1 ? " / " : ""), $1 / 1000000 }' "$out/ranks")
        per=$(awk '{ r += $7
                for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[2] != "") s[kv[1]] += kv[2] } }
            END { printf "%.0f | %.0f | %.0f | %.0f | %.1f | %.2f | %.1f | %.1f | %.1f | %.1f | %.0f", s["raw"] / r, s["sketches"] / r,
                  s["other"] / r, s["keys"] / r, s["pairs"] / r, s["fates"] / r,
                  s["vpairs"] / r, s["vrecs"] / r, s["verdicts"] / r, s["rule"] / r,
                  (s["raw"] + s["sketches"] + s["other"] + s["pairs"] + s["verdicts"]) / r }' "$out/ranks")
    else
        rss=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_rss_bytes"] // 1000000)' "$out/run/stats.json")
        per="- | - | - | - | - | - | - | - | - | - | -"
    fi
    same=yes
    if [ -d "$out/one-$layout" ]; then
        for f in kept removed clusters rejected; do
            cmp -s "$out/one-$layout/$f.jsonl" "$out/run/$f.jsonl" || same=NO
        done
    fi
    echo "| $label | $wall | $cpu | $speedup | $rss | $tmp0 / $tmpk | $per | $same |"
}

header() {
    echo
    echo "### $1"
    echo
    echo "| run | wall s | CPU s | speedup (wall) | peak RSS MB, rank 0 / 1 / ... | peak tmp disk MB, rank 0 / others | raw B/rec | sketch B/rec | other B/rec | keys B/rec | pairs B/rec | fates B/rec | vpairs B/rec | vrecs B/rec | verdicts B/rec | rule B/rec | to rank 0 B/rec | same outputs |"
    echo "|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
}

# The fixed cost of starting the ranks: a one-record input.
header "startup: a one-record input"
layout=tiny
head -n 1 "$c" >"$out/tiny.jsonl"
base=
rm -rf "$out/run" "$out/one-tiny"
timed "1 process, -j 1" "$w" dedup -v -j 1 -o "$out/run" "$out/tiny.jsonl"
mv "$out/run" "$out/one-tiny"
for p in 1 2 4; do
    timed "mpirun -n $p, -j 1" mpirun --oversubscribe -n "$p" "$w" dedup -v -j 1 \
        -o "$out/run" "$out/tiny.jsonl"
done

for layout in files one; do
    if [ "$layout" = files ]; then
        header "8 files (input i read whole by rank i % P)"
        set -- "$out"/part*.jsonl
    else
        header "1 file (cut into P byte ranges, one per rank)"
        set -- "$c"
    fi
    base=
    rm -rf "$out/run" "$out/one-$layout"
    timed "1 process, -j 1" "$w" dedup -v -j 1 -o "$out/run" "$@"
    rm -rf "$out/one-$layout"
    mv "$out/run" "$out/one-$layout"
    for p in 1 2 4; do
        timed "mpirun -n $p, -j 1" mpirun --oversubscribe -n "$p" "$w" dedup -v -j 1 \
            -o "$out/run" "$@"
    done
    timed "1 process, -j 1 (again)" "$w" dedup -v -j 1 -o "$out/run" "$@"
    timed "mpirun -n 2, -j 1 (again)" mpirun --oversubscribe -n 2 "$w" dedup -v -j 1 \
        -o "$out/run" "$@"
done
