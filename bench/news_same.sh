#!/bin/sh
# Do the outputs of `winnow dedup --profile news` stay byte-identical across
# a change that is meant only to make it faster? Builds REF (a commit, by
# default main) from `git archive` in a temporary directory, runs it and
# BUILD/winnow on the generated corpus (bench/gen --seed 1, BYTES bytes) and
# on Reuters-21578 when ../shared (or $WN_SHARED) has it, and compares
# kept.jsonl, removed.jsonl, clusters.jsonl, rejected.jsonl and stats.json
# without its timings and memory. Exit status 0 when every output is the
# same, 1 otherwise.
#
#   bench/news_same.sh [BUILD] [REF] [BYTES]      (defaults: build main 2e8)
#
# tests/cli/test_news_same.sh checks the same property inside one build
# (the blocked verification against one pair at a time); this script is for
# a change of the figures, the verifier or anything else on the news path.
set -eu
build=${1:-build}
ref=${2:-main}
bytes=${3:-200000000}
shared=${WN_SHARED:-../shared}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/news-same.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "# building $ref in $tmp/src"
mkdir "$tmp/src"
git archive "$ref" | tar -x -C "$tmp/src"
(cd "$tmp/src" && meson setup build --buildtype=release >/dev/null &&
    ninja -C build winnow >/dev/null)
old="$tmp/src/build/winnow"
new="$build/winnow"

"$build/bench/gen" --seed 1 --bytes "$bytes" --out "$tmp/gen.jsonl" 2>/dev/null
inputs="$tmp/gen.jsonl"
r="$shared/data/reuters21578/docs.jsonl.zst"
if [ -f "$r" ]; then inputs="$inputs $r"; else echo "# $r absent: skipped"; fi

status=0
for in in $inputs; do
    for j in 1 2; do
        rm -rf "$tmp/old" "$tmp/new"
        "$old" dedup --profile news -j "$j" -q -o "$tmp/old" "$in" || [ $? -eq 3 ]
        "$new" dedup --profile news -j "$j" -q -o "$tmp/new" "$in" || [ $? -eq 3 ]
        same=yes
        for f in kept.jsonl removed.jsonl clusters.jsonl rejected.jsonl; do
            cmp -s "$tmp/old/$f" "$tmp/new/$f" || { echo "# $f differs"; same=no; }
        done
        python3 - "$tmp/old/stats.json" "$tmp/new/stats.json" <<'PY' || same=no
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for s in (a, b):
    for k in ("seconds", "stage_seconds", "peak_rss_bytes"):
        s.pop(k, None)
diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
if diff:
    print("# stats.json differs in", diff)
sys.exit(1 if diff else 0)
PY
        echo "$(basename "$in") -j $j: $ref vs $build: same outputs: $same"
        [ "$same" = yes ] || status=1
    done
done
exit $status
