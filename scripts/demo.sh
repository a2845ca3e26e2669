#!/bin/sh
# The README's first command: deduplicate the bundled example corpus and a
# generated news-like corpus, and print what happened.
set -eu
build=${1:-build}
w="$build/winnow"
out=${DEMO_OUT:-out/demo}
mkdir -p "$out"

echo "== examples/news: hand-written news texts (see examples/README.md)"
set +e
"$w" dedup -o "$out/news" examples/news
set -e
echo "clusters found:"
python3 - "$out/news" <<'PY' 2>/dev/null || cat "$out/news/clusters.jsonl"
import json, sys
d = sys.argv[1]
rem = {r["id"]: r for r in map(json.loads, open(d + "/removed.jsonl"))}
for line in open(d + "/clusters.jsonl"):
    c = json.loads(line)
    print("  keep %s" % c["representative"])
    for m in c["members"]:
        if m in rem:
            r = rem[m]
            print("    drop %-28s %s duplicate, similarity %.2f"
                  % (m, r["reason"], r["similarity"]))
PY
"$w" eval --truth examples/news-truth.jsonl "$out/news" | sed 's/^/  /'

echo
echo "== generated corpus: 20000 news-like documents with planted copies"
"$build/bench/gen" --seed 1 --docs 20000 --out "$out/gen.jsonl" \
    --truth "$out/gen-truth.jsonl"
"$w" dedup -o "$out/gen" "$out/gen.jsonl"
"$w" eval --truth "$out/gen-truth.jsonl" "$out/gen" | sed 's/^/  /'
echo
echo "outputs: $out/news and $out/gen (kept.jsonl, removed.jsonl,"
echo "clusters.jsonl, rejected.jsonl, stats.json)"
