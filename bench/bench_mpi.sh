#!/bin/sh
# `mpirun -n P winnow dedup -j 1` against one process (issue 17), on a
# generated corpus given two ways: 8 files, and one file that the ranks
# cut into byte ranges. Per run: wall time, CPU seconds of every process
# (user + system, mpirun and ranks included), speedup in wall time over the
# one-process -j 1 run of the same layout, peak RSS of each rank, and the
# bytes the ranks sent per record read, by kind (from each rank's -v line):
# raw records and encoded sketches to rank 0, entry overhead (headers,
# paths, ids), band-key entries between ranks, candidate pairs to rank 0.
# Checks that every run's outputs equal the one-process run's. Prints
# Markdown tables.
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
    python3 - "$out/err" "$@" <<'PY' >"$out/time"
import resource, subprocess, sys, time
# The children's CPU time before the run is not zero when python3 was
# started through a wrapper (a pyenv shim: its own children count, about
# 0.4 s here): only the difference is the command's.
def cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime
c0 = cpu()
t = time.monotonic()
with open(sys.argv[1], "w") as err:
    rc = subprocess.call(sys.argv[2:], stderr=err)
wall = time.monotonic() - t
print(f"{wall:.2f} {cpu() - c0:.2f} {rc}")
PY
    read -r wall cpu rc <"$out/time"
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
            END { printf "%.0f | %.0f | %.0f | %.0f | %.1f", s["raw"] / r, s["sketches"] / r,
                  s["other"] / r, s["keys"] / r, s["pairs"] / r }' "$out/ranks")
    else
        rss=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_rss_bytes"] // 1000000)' "$out/run/stats.json")
        per="- | - | - | - | -"
    fi
    same=yes
    if [ -d "$out/one-$layout" ]; then
        for f in kept removed clusters rejected; do
            cmp -s "$out/one-$layout/$f.jsonl" "$out/run/$f.jsonl" || same=NO
        done
    fi
    echo "| $label | $wall | $cpu | $speedup | $rss | $per | $same |"
}

header() {
    echo
    echo "### $1"
    echo
    echo "| run | wall s | CPU s | speedup (wall) | peak RSS MB, rank 0 / 1 / ... | raw B/rec | sketch B/rec | other B/rec | keys B/rec | pairs B/rec | same outputs |"
    echo "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|"
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
