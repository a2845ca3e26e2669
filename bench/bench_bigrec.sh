#!/bin/sh
# Large records (issue 17): peak RSS and speed of `winnow dedup -q -j 1` on
# a file holding one record of each size asked for, for two builds
# (main's and the new one), alternated in one window so that both see the
# same load. The record's text is generated news (bench/bigrec_gen.py over
# build/bench/gen output: realistic words, a JSON escape per line feed or
# quote, so the reader holds the line and its decoded text). Prints the
# machine, the input, and per size, profile and build the median wall
# seconds and MB/s, the peak RSS (stats.json) and its ratio to the
# record's size, and new/old ratios; the kept, removed and clusters files
# of the two builds are compared.
#
#   bench/bench_bigrec.sh OLD_WINNOW NEW_WINNOW [SIZES] [REPS] [OPTION SETS]
#   (defaults: "10M 100M 300M", 3 runs, "--profile news;--profile classic":
#   option sets separated by ';'; BUILD=build for build/bench/gen)
set -eu
old=$1 new=$2
sizes=${3:-10M 100M 300M}
reps=${4:-3}
sets=${5:---profile news;--profile classic}
build=${BUILD:-build}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-bigrec.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "# machine: $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(nproc) cores; $(free -g | awk '/Mem:/ {print $2}') GB RAM"
echo "# $(date -u +%FT%TZ), load: $(cut -d' ' -f1-3 /proc/loadavg); $reps runs of each build, alternated; -j 1"
# Texts: enough generated news for the largest record.
max=$(python3 -c 'import sys
m = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
print(max(int(float(s[:-1]) * m[s[-1]]) if s[-1] in m else int(s) for s in sys.argv[1:]))' $sizes)
"$build/bench/gen" --seed 1 --bytes $((max + max / 5 + 1048576)) --out "$tmp/gen.jsonl" \
    --truth "$tmp/truth.jsonl" >/dev/null 2>&1
for s in $sizes; do
    python3 "$here/bigrec_gen.py" "$tmp/gen.jsonl" "$tmp/big-$s.jsonl" "$s"
done
rm -f "$tmp/gen.jsonl" "$tmp/truth.jsonl"
for s in $sizes; do
    echo "# input big-$s: one record of $(wc -c <"$tmp/big-$s.jsonl") bytes"
done
for s in $sizes; do
    in="$tmp/big-$s.jsonl"
    old_ifs=$IFS
    IFS=';'
    set -f
    for p in $sets; do
        IFS=$old_ifs
        for r in $(seq "$reps"); do
            for b in old new; do
                eval w=\$$b
                rm -rf "$tmp/out-$b"
                sync
                # $p unquoted: an option set is several words.
                /usr/bin/time -f "%e" -o "$tmp/t" "$w" dedup -q -j 1 \
                    --max-record-bytes 1G $p -o "$tmp/out-$b" "$in"
                rss=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_rss_bytes"])' "$tmp/out-$b/stats.json")
                echo "$s|$p|$b|$(wc -c <"$in")|$(cat "$tmp/t")|$rss" >>"$tmp/runs"
            done
        done
        for f in kept.jsonl removed.jsonl clusters.jsonl; do
            cmp -s "$tmp/out-old/$f" "$tmp/out-new/$f" ||
                echo "# $s $p: $f differs between the builds"
        done
        IFS=';'
    done
    IFS=$old_ifs
    set +f
done
python3 - "$tmp/runs" <<'PY'
import statistics, sys
runs, order = {}, []
for line in open(sys.argv[1]):
    s, p, b, size, wall, rss = line.strip().split("|")
    if (s, p) not in order:
        order.append((s, p))
    runs.setdefault((s, p, b), []).append((float(wall), int(rss), int(size)))
print("| record | options | build | wall s, median (all) | MB/s | peak RSS MB | RSS / record |")
print("|---|---|---|---:|---:|---:|---:|")
for s, p in order:
    med = {}
    for b in ("old", "new"):
        v = runs[s, p, b]
        wall = statistics.median(x[0] for x in v)
        rss = statistics.median(x[1] for x in v)
        size = v[0][2]
        med[b] = (wall, rss)
        print("| %s | %s | %s | %.2f (%s) | %.0f | %.0f | %.2f |"
              % (s, p, b, wall, ", ".join("%.2f" % x[0] for x in v),
                 size / 1e6 / wall, rss / 1e6, rss / size))
    print("| %s | %s | new/old | %.2fx | | %.2fx | |"
          % (s, p, med["new"][0] / med["old"][0], med["new"][1] / med["old"][1]))
PY
