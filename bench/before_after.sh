#!/bin/sh
# Before and after a change meant to make dedup faster: runs
# `winnow dedup -q -j 1 --profile P` of two builds on one input, alternated
# (old, new, old, new, ...) in one window so that both see the same load,
# REPS times for each profile, and prints per build and profile the median
# CPU seconds (user + system, from /usr/bin/time), MB of input per CPU
# second, the median peak RSS, and new/old ratios of the same window.
# The kept, removed and clusters files of the last runs are compared too.
#
#   bench/before_after.sh OLD_WINNOW NEW_WINNOW INPUT [REPS] [PROFILES]
#   (defaults: 3 runs, "news classic")
#
# OLD_WINNOW can be built from a commit with bench/news_same.sh's recipe
# (git archive, meson setup, ninja winnow) in a temporary directory.
set -eu
old=$1 new=$2 in=$3
reps=${4:-3}
profiles=${5:-news classic}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/before-after.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mb=$(python3 -c "import os,sys; print(os.path.getsize(sys.argv[1]) / 1e6)" "$in")
echo "# $in: $mb MB; $reps runs of each build and profile, alternated; $(date -u +%FT%TZ), load: $(cut -d' ' -f1-3 /proc/loadavg)"
for p in $profiles; do
    for r in $(seq "$reps"); do
        for b in old new; do
            eval w=\$$b
            rm -rf "$tmp/out-$b"
            # The previous run's outputs on disk first: their writeback
            # would land in this run's fsync.
            sync
            /usr/bin/time -f "%U %S %M %e" -o "$tmp/t" "$w" dedup -q -j 1 \
                --profile "$p" -o "$tmp/out-$b" "$in" || [ $? -eq 3 ]
            echo "$p $b $(cat "$tmp/t")" >>"$tmp/runs"
        done
    done
    for f in kept.jsonl removed.jsonl clusters.jsonl; do
        cmp -s "$tmp/out-old/$f" "$tmp/out-new/$f" ||
            echo "# $p: $f differs between the builds"
    done
done
python3 - "$tmp/runs" "$mb" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    p, b, u, s, m, e = line.split()
    runs.setdefault((p, b), []).append(
        (float(u) + float(s), int(m) / 1024, float(e)))
mb = float(sys.argv[2])
print("| profile | build | CPU s (user+sys), median (all) | MB per CPU s | wall s, median (all) | MB/s (wall) | peak RSS MB |")
print("|---|---|---:|---:|---:|---:|---:|")
med = {}
for (p, b), v in runs.items():
    cpu = statistics.median(x[0] for x in v)
    rss = statistics.median(x[1] for x in v)
    wall = statistics.median(x[2] for x in v)
    med[p, b] = (cpu, rss, wall)
    allc = ", ".join("%.2f" % x[0] for x in v)
    allw = ", ".join("%.2f" % x[2] for x in v)
    print("| %s | %s | %.2f (%s) | %.0f | %.2f (%s) | %.0f | %.1f |"
          % (p, b, cpu, allc, mb / cpu, wall, allw, mb / wall, rss))
for p in dict.fromkeys(k[0] for k in runs):
    if (p, "old") in med and (p, "new") in med:
        o, n = med[p, "old"], med[p, "new"]
        print("%s: new/old CPU %.2fx, wall %.2fx, peak RSS %.2fx"
              % (p, n[0] / o[0], n[2] / o[2], n[1] / o[1]))
PY
