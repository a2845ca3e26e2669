#!/bin/sh
# `mpirun -n P winnow dedup` against one process (issue 17): a generated
# corpus split into 8 files; wall time, CPU seconds of every process
# (user + system, mpirun and ranks included), rank 0's peak RSS and the
# bytes each rank sent to rank 0 per record. Checks that every run's
# outputs equal the one-process run's. Prints a Markdown table.
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
echo "- corpus: $c ($(wc -l <"$c") records, $(($(wc -c <"$c") / 1000000)) MB) in 8 files"
echo
echo "| run | wall s | CPU s | rank 0 peak RSS MB | sent to rank 0, bytes/record | same outputs |"
echo "|---|---:|---:|---:|---:|---|"

# timed LABEL CMD...: wall and CPU seconds of CMD and all its children.
timed() {
    label=$1; shift
    python3 - "$out/err" "$@" <<'PY' >"$out/time"
import resource, subprocess, sys, time
t = time.monotonic()
with open(sys.argv[1], "w") as err:
    rc = subprocess.call(sys.argv[2:], stderr=err)
wall = time.monotonic() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{wall:.2f} {ru.ru_utime + ru.ru_stime:.2f} {rc}")
PY
    read -r wall cpu rc <"$out/time"
    [ "$rc" -eq 0 ] || { echo "$label failed ($rc):" >&2; cat "$out/err" >&2; exit 1; }
    rss=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_rss_bytes"] // 1000000)' "$out/run/stats.json")
    # Records of ranks other than 0, and the bytes they sent.
    per=$(awk '/MPI rank/ { for (i = 1; i < NF; i++) { if ($i == "read") r += $(i + 1); if ($i == "sent") s += $(i + 1) } }
        END { if (r) printf "%.0f", s / r; else print "-" }' "$out/err")
    same=yes
    if [ -d "$out/one" ]; then
        for f in kept removed clusters rejected; do
            cmp -s "$out/one/$f.jsonl" "$out/run/$f.jsonl" || same=NO
        done
    fi
    echo "| $label | $wall | $cpu | $rss | $per | $same |"
}

rm -rf "$out/one" "$out/run"
timed "1 process, -j 1" "$w" dedup -v -j 1 -o "$out/run" "$out"/part*.jsonl
mv "$out/run" "$out/one"
timed "1 process, -j 1 (again)" "$w" dedup -v -j 1 -o "$out/run" "$out"/part*.jsonl
timed "1 process, -j 2" "$w" dedup -v -j 2 -o "$out/run" "$out"/part*.jsonl
for p in 1 2 4; do
    timed "mpirun -n $p, -j 1" mpirun --oversubscribe -n "$p" "$w" dedup -v -j 1 \
        -o "$out/run" "$out"/part*.jsonl
done
timed "mpirun -n 2, -j 1 (again)" mpirun --oversubscribe -n 2 "$w" dedup -v -j 1 \
    -o "$out/run" "$out"/part*.jsonl
