#!/bin/sh
# Benchmarks of `winnow dedup` (issues 2 and 3). Prints the machine, each
# input, throughput (MB/s, docs/s), peak RSS and the ratio against the
# baseline run in the same invocation, as a Markdown table.
#
#   bench/run.sh [BUILD] [what]     what: exact | dedup | profiles | scaling |
#                                         real | all
#
# dedup also runs profiles: --profile classic and news at -j 1, REPS (3)
# times each, with the medians and the news / classic ratio of CPU seconds.
#
# Generated corpora are cached in bench/out/ (seeded: same bytes every time).
set -eu
build=${1:-build}
what=${2:-all}
w="$build/winnow"
gen="$build/bench/gen"
out=bench/out
mkdir -p "$out"
data=../shared/data

echo "## Machine"
echo
echo "- $(uname -srm), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
echo "- winnow $("$w" --version | cut -d' ' -f2), $(cc --version | head -1)"
echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo

corpus() { # corpus SIZE -> path of a generated corpus of about SIZE bytes
    f="$out/gen-$1.jsonl"
    if [ ! -s "$f" ]; then
        "$gen" --seed 1 --bytes "$1" --out "$f.tmp" --truth "$out/gen-$1-truth.jsonl" 2>/dev/null
        mv "$f.tmp" "$f"
    fi
    echo "$f"
}

# run LABEL BASELINE-LABEL -- winnow-args...: one timed run; appends a row.
rows="$out/rows.txt"
: >"$rows"
run() {
    label=$1; base=$2; shift 3
    d="$out/run"
    rm -rf "$d"
    env ${RUN_ENV:-} /usr/bin/time -f "%e %M %U %S" -o "$out/time.txt" "$w" "$@" -q -o "$d" >/dev/null 2>&1 || [ $? -eq 3 ]
    python3 - "$label" "$base" "$d/stats.json" "$out/time.txt" >>"$rows" <<'PY'
import json, sys
label, base, stats, timef = sys.argv[1:5]
s = json.load(open(stats))
wall, rss_kb, user, sys_ = open(timef).read().split()
wall = float(wall); rss = int(rss_kb) * 1024; cpu = float(user) + float(sys_)
st = s["stage_seconds"]
print(json.dumps({"label": label, "base": base, "bytes": s["bytes"],
    "docs": s["read"], "wall": wall, "rss": rss, "removed": s["removed"],
    "stages": st, "threads": s["options"]["threads"], "cpu": cpu}))
PY
}

table() {
    python3 - "$rows" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {r["label"]: r for r in rows}
print("| run | input MB | docs | threads | wall s | MB/s | docs/s | CPU s | MB/s per CPU s | peak RSS MB | vs baseline (wall) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for r in rows:
    mbs = r["bytes"] / 1e6 / r["wall"]
    ratio = ""
    b = by.get(r["base"])
    if b and b is not r:
        ratio = "%.2fx %s" % (b["wall"] / r["wall"], r["base"])
    print("| %s | %.0f | %d | %d | %.2f | %.0f | %.0f | %.2f | %.0f | %.1f | %s |" % (
        r["label"], r["bytes"] / 1e6, r["docs"], r["threads"], r["wall"], mbs,
        r["docs"] / r["wall"], r["cpu"], r["bytes"] / 1e6 / r["cpu"],
        r["rss"] / 2**20, ratio))
g = [r for r in rows if r["label"].startswith("gen-")]
if len(g) >= 2:
    a, b = g[0], g[-1]
    print()
    print("Peak RSS grows by %.0f bytes per document from %s to %s (%d to %d documents);"
          " time per MB: %.2f ms at %s, %.2f ms at %s." % (
          (b["rss"] - a["rss"]) / (b["docs"] - a["docs"]), a["label"], b["label"],
          a["docs"], b["docs"], 1e3 * a["wall"] / (a["bytes"] / 1e6), a["label"],
          1e3 * b["wall"] / (b["bytes"] / 1e6), b["label"]))
print()
print("Stage seconds (read+sketch / exact / join / verify / cluster / write):")
print()
for r in rows:
    s = r["stages"]
    print("- %s: %.2f / %.2f / %.2f / %.2f / %.2f / %.2f" % (r["label"],
        s["read_sketch"], s["exact"], s["join"], s["verify"], s["cluster"], s["write"]))
PY
    : >"$rows"
    echo
}

if [ "$what" = exact ] || [ "$what" = all ]; then
    c=$(corpus 200M)
    echo "## Exact duplicates: \`winnow dedup --exact-only\`, $c"
    echo
    run exact-j1 exact-j1 -- dedup --exact-only -j 1 "$c"
    run exact-j2 exact-j1 -- dedup --exact-only -j 2 "$c"
    table
fi

if [ "$what" = dedup ] || [ "$what" = all ]; then
    c=$(corpus 1G)
    echo "## Near duplicates: \`winnow dedup\` (defaults: MinHash K=128, 5-grams, threshold 0.8), $c"
    echo
    echo "Baseline: the same pipeline with the plain per-permutation MinHash (\`--sketch kperm\`"
    echo "with \`WINNOW_NO_SIMD=1\`: the portable reference, K multiply-shift hashes per shingle);"
    echo "kperm-simd is the same scheme with the AVX-512/AVX2 kernel; oph is the default."
    echo
    RUN_ENV=WINNOW_NO_SIMD=1 run kperm-plain-j1 kperm-plain-j1 -- dedup --sketch kperm -j 1 "$c"
    run kperm-simd-j1 kperm-plain-j1 -- dedup --sketch kperm -j 1 "$c"
    run oph-j1 kperm-plain-j1 -- dedup -j 1 "$c"
    RUN_ENV=WINNOW_NO_SIMD=1 run kperm-plain-j2 kperm-plain-j2 -- dedup --sketch kperm -j 2 "$c"
    run kperm-simd-j2 kperm-plain-j2 -- dedup --sketch kperm -j 2 "$c"
    run oph-j2 kperm-plain-j2 -- dedup -j 2 "$c"
    table
fi

# profiles CORPUS: --profile classic and --profile news at -j 1, REPS runs
# each, interleaved (classic, news, classic, ...) so that load from other
# jobs falls on both; prints the medians and the news / classic ratios.
profiles() {
    c=$1
    prows="$out/profile-rows.txt"
    : >"$prows"
    r=1
    while [ "$r" -le "${REPS:-3}" ]; do
        for p in classic news; do
            run "$p" "$p" -- dedup --profile "$p" -j 1 "$c"
            tail -n 1 "$rows" >>"$prows"
        done
        r=$((r + 1))
    done
    : >"$rows"
    python3 - "$prows" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = {}
print("| profile | runs | input MB | docs | removed | CPU s (user+sys) | wall s | MB/s (wall) | MB per CPU s | peak RSS MB | RSS bytes per doc |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for p in ("classic", "news"):
    rs = [r for r in rows if r["label"] == p]
    if not rs:
        continue
    cpu = statistics.median(r["cpu"] for r in rs)
    wall = statistics.median(r["wall"] for r in rs)
    rss = statistics.median(r["rss"] for r in rs)
    b, d = rs[0]["bytes"], rs[0]["docs"]
    med[p] = (cpu, wall, rss)
    print("| %s | %d | %.0f | %d | %d | %.2f (%s) | %.2f | %.0f | %.0f | %.1f | %.0f |" % (
        p, len(rs), b / 1e6, d, rs[0]["removed"], cpu,
        ", ".join("%.2f" % r["cpu"] for r in rs), wall, b / 1e6 / wall,
        b / 1e6 / cpu, rss / 2**20, rss / d))
if len(med) == 2:
    c, n = med["classic"], med["news"]
    print()
    print("news / classic, medians of the same invocation: CPU %.2fx, wall %.2fx,"
          " peak RSS %.2fx." % (n[0] / c[0], n[1] / c[1], n[2] / c[2]))
print()
print("Stage seconds, median (read+sketch / exact / join / verify / cluster / write):")
print()
for p in ("classic", "news"):
    rs = [r for r in rows if r["label"] == p]
    if rs:
        st = ["read_sketch", "exact", "join", "verify", "cluster", "write"]
        print("- %s: %s" % (p, " / ".join("%.2f" % statistics.median(
            r["stages"][k] for r in rs) for k in st)))
print()
PY
}

if [ "$what" = dedup ] || [ "$what" = profiles ] || [ "$what" = all ]; then
    c=$(corpus 1G)
    echo "## Profiles: \`winnow dedup --profile classic|news -j 1\`, $c, median of ${REPS:-3}"
    echo
    profiles "$c"
fi

if [ "$what" = scaling ] || [ "$what" = all ]; then
    echo "## Growth with corpus size: \`winnow dedup -j 2\`"
    echo
    for s in 100M 200M 400M 1G; do
        c=$(corpus $s)
        run "gen-$s" "gen-$s" -- dedup -j 2 "$c"
    done
    table
fi

if [ "$what" = real ] || [ "$what" = all ]; then
    echo "## Real corpora under ../shared/data (zstd-compressed input; MB are decompressed bytes)"
    echo
    for n in gutenberg_sample kowiki_sample 20newsgroups bbc_news; do
        f="$data/$n/docs.jsonl.zst"
        [ -f "$f" ] || { echo "- $n: absent, skipped"; continue; }
        run "$n-j1" "$n-j1" -- dedup -j 1 "$f"
        run "$n-j2" "$n-j1" -- dedup -j 2 "$f"
    done
    table
fi
