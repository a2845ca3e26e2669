#!/bin/sh
# `winnow dedup --memory BUDGET` against the same build with the default
# budget (issue 17, docs/SCALING.md "Memory on one machine"), runs
# alternated in one invocation: wall time, throughput, peak RSS (stats.json),
# peak temporary disk (the unnamed spill files the process holds open, found
# through /proc/PID/fd, and the files of the output's temporary directory
# that are no output, sampled every 20 ms), time per stage, and the ratio
# of the bounded run to the unbounded one. With BASE (another build, e.g.
# main's) its default run is measured too, for the same-run ratio. Medians
# of RUNS runs each; every run's outputs are checked against the first
# unbounded run's. Prints Markdown.
#
#   bench/bench_memory.sh [BUILD] [INPUT] [BUDGET] [RUNS] [BASE]
#   (defaults: build, bench/out/gen-1G.jsonl, 4M, 3, none)
set -eu
build=${1:-build}
input=${2:-bench/out/gen-1G.jsonl}
budget=${3:-4M}
runs=${4:-3}
basebuild=${5:-}
out=${TMPDIR:-/tmp}/bench-memory.$$
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
[ -s "$input" ] || { echo "bench_memory: no input $input (make bench-gen?)" >&2; exit 2; }

echo "## Machine"
echo
echo "- $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2 / 1e6}' /proc/meminfo) RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- input: $input ($(wc -l <"$input") records, $(($(wc -c <"$input") / 1000000)) MB)"
echo "- bounded: --memory $budget; unbounded: the default budget (a quarter of RAM)"
echo

# one LABEL WINNOW ARGS...: one run into $out/LABEL-N, a line of figures.
one() {
    label=$1; shift
    python3 - "$out/run" "$@" <<'PY'
import glob, json, os, subprocess, sys, time
OUTPUTS = {"kept.jsonl", "removed.jsonl", "clusters.jsonl", "rejected.jsonl",
           "stats.json"}
def tmp_bytes(pid, outdir):
    n, seen = 0, set()
    for fd in glob.glob(f"/proc/{pid}/fd/*"):
        try:
            target = os.readlink(fd)
            st = os.stat(fd)
        except OSError:
            continue
        if target.endswith("(deleted)") and (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            n += st.st_blocks * 512
    for f in glob.glob(outdir + "/.winnow-tmp-*/*"):
        try:
            st = os.stat(f)
        except OSError:
            continue
        if os.path.basename(f) not in OUTPUTS and (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            n += st.st_blocks * 512
    return n
outdir = sys.argv[1]
subprocess.run(["rm", "-rf", outdir], check=True)
t = time.monotonic()
p = subprocess.Popen(sys.argv[2:3] + ["dedup", "-q", "-o", outdir] + sys.argv[3:])
peak = 0
while p.poll() is None:
    peak = max(peak, tmp_bytes(p.pid, outdir))
    time.sleep(0.02)
if p.wait() != 0:
    sys.exit("bench_memory: run failed")
wall = time.monotonic() - t
s = json.load(open(outdir + "/stats.json"))
st = s["stage_seconds"]
print(f"{wall:.2f} {s['peak_rss_bytes'] / 1e6:.1f} {peak / 1e6:.1f} "
      + " ".join(f"{st[k]:.2f}" for k in
                 ("read_sketch", "exact", "join", "verify", "cluster", "write")))
PY
}

check() {
    for f in kept.jsonl removed.jsonl clusters.jsonl rejected.jsonl; do
        cmp -s "$out/ref/$f" "$out/run/$f" ||
            { echo "bench_memory: $1: $f differs from the unbounded run's" >&2; exit 1; }
    done
}

: >"$out/free"; : >"$out/tight"; : >"$out/base"
for r in $(seq "$runs"); do
    one free "$build/winnow" "$input" >>"$out/free"
    [ -d "$out/ref" ] || cp -r "$out/run" "$out/ref"
    one tight "$build/winnow" --memory "$budget" "$input" >>"$out/tight"
    check "--memory $budget"
    if [ -n "$basebuild" ]; then
        one base "$basebuild/winnow" "$input" >>"$out/base"
        check "$basebuild"
    fi
done

mb=$(($(wc -c <"$input") / 1000000))
recs=$(wc -l <"$input")
python3 - "$out" "$mb" "$recs" "$budget" "$basebuild" <<'PY'
import statistics, sys
out, mb, recs, budget, basebuild = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
def rows(name):
    try:
        return [list(map(float, l.split())) for l in open(f"{out}/{name}") if l.strip()]
    except OSError:
        return []
def med(rs):
    return [statistics.median(c) for c in zip(*rs)]
runs = [("unbounded (default budget)", rows("free")), (f"--memory {budget}", rows("tight"))]
if basebuild:
    runs.append((f"{basebuild} (default)", rows("base")))
free = med(runs[0][1])
print("| run | wall s (runs) | MB/s | peak RSS MB | bytes/record | peak temp disk MB | read_sketch | exact | join | verify | cluster | write | wall / unbounded |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for label, rs in runs:
    if not rs:
        continue
    m = med(rs)
    walls = ", ".join(f"{r[0]:.2f}" for r in rs)
    print(f"| {label} | {m[0]:.2f} ({walls}) | {mb / m[0]:.0f} | {m[1]:.1f} | {m[1] * 1e6 / recs:.0f} | {m[2]:.0f} | "
          + " | ".join(f"{x:.2f}" for x in m[3:9]) + f" | {m[0] / free[0]:.2f} |")
PY
