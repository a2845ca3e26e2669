#!/bin/sh
# Benchmarks of `winnow passages`, `winnow lines` and `winnow repeats`
# (issue 4): throughput (input MB/s, wall clock) and peak RSS per input byte
# on generated corpora and on the large samples of ../shared/data, as a
# Markdown table for docs/PASSAGES.md.
#
#   bench/bench_passages.sh [BUILD] [SIZES]     SIZES default: "100M 1G"
#
# Generated corpora (bench/gen, seed 1) are cached in bench/out/ under the
# same names as bench/run.sh uses. Every run is single-threaded; the
# machine has 2 cores and other work may be running, so each figure is the
# best of REPS runs (default 1; REPS=3 for steadier numbers).
set -eu
build=${1:-build}
sizes=${2:-"100M 1G"}
reps=${REPS:-1}
w="$build/winnow"
gen="$build/bench/gen"
out=bench/out
work="$out/passages"
mkdir -p "$out" "$work"
data=../shared/data

echo "## Machine"
echo
echo "- $(uname -srm), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
echo "- winnow $("$w" --version | cut -d' ' -f2), $(cc --version | head -1)"
echo "- date: $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo

corpus() { # corpus SIZE -> path of a generated corpus of about SIZE bytes
    f="$out/gen-$1.jsonl"
    if [ ! -s "$f" ]; then
        "$gen" --seed 1 --bytes "$1" --out "$f.tmp" --truth "$out/gen-$1-truth.jsonl" 2>/dev/null
        mv "$f.tmp" "$f"
    fi
    echo "$f"
}

rows="$work/rows.txt"
: >"$rows"
# run LABEL INPUT -- winnow-args...: the best of $reps timed runs; one row.
run() {
    label=$1; input=$2; shift 3
    best=""
    i=0
    while [ $i -lt "$reps" ]; do
        i=$((i + 1))
        d="$work/run"
        rm -rf "$d"
        /usr/bin/time -f "%e %M" -o "$work/time.txt" "$w" "$@" -q -o "$d" "$input" >/dev/null 2>&1 || [ $? -eq 3 ]
        t=$(cat "$work/time.txt")
        if [ -z "$best" ] || [ "$(echo "$t $best" | awk '{print ($1 < $3)}')" = 1 ]; then
            best=$t
            cp "$d/stats.json" "$work/best-stats.json"
        fi
    done
    echo "$best" >"$work/time.txt"
    python3 - "$label" "$work/best-stats.json" "$work/time.txt" >>"$rows" <<'PY'
import json, sys
label, stats, timef = sys.argv[1:4]
s = json.load(open(stats))
wall, rss_kb = open(timef).read().split()
row = {"label": label, "bytes": s["bytes"], "docs": s["read"],
       "wall": float(wall), "rss": int(rss_kb) * 1024,
       "parts": s.get("parts"), "code": s.get("code_bytes"),
       "stages": s.get("stage_seconds"), "removed": s["removed"],
       "spans": s.get("spans"), "frequent": s.get("frequent_units")}
print(json.dumps(row))
PY
}

for size in $sizes; do
    f=$(corpus "$size")
    run "passages, generated $size" "$f" -- passages
    run "passages --mode remove, generated $size" "$f" -- passages --mode remove
    run "passages --memory 256M, generated $size" "$f" -- passages --memory 256M
    run "lines, generated $size" "$f" -- lines
    run "lines --mode remove, generated $size" "$f" -- lines --mode remove
    run "repeats, generated $size" "$f" -- repeats
done
for s in gutenberg_sample kowiki_sample 20newsgroups; do
    f="$data/$s/docs.jsonl.zst"
    [ -f "$f" ] || continue
    run "passages, $s" "$f" -- passages
    run "lines, $s" "$f" -- lines
    run "repeats, $s" "$f" -- repeats
done

python3 - "$rows" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| run | input MB | docs | wall s | MB/s | peak RSS MB | RSS bytes per input byte | parts | stages (s) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
for r in rows:
    mb = r["bytes"] / 1e6
    st = r["stages"]
    if isinstance(st, dict):
        st = ", ".join("%s %.1f" % (k, v) for k, v in st.items())
    else:
        st = ""
    print("| %s | %.0f | %d | %.2f | %.1f | %.0f | %.2f | %s | %s |" % (
        r["label"], mb, r["docs"], r["wall"], mb / r["wall"] if r["wall"] else 0,
        r["rss"] / 1e6, r["rss"] / r["bytes"] if r["bytes"] else 0,
        r["parts"] if r["parts"] is not None else "", st))
PY
