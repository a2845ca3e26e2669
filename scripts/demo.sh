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
"$w" dedup --report -o "$out/news" examples/news
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
echo "why the first pair is one story (winnow explain):"
"$w" explain --no-color examples/news/a-wire-fishing-talks.txt \
    examples/news/b-ledger-fishing-talks.txt | sed -n '1,12p' | sed 's/^/  /'

echo
echo "== examples/news: passages of 20+ tokens repeated inside or across stories"
"$w" passages -q --min-span 20 -o "$out/passages" examples/news
python3 - "$out/passages" <<'PY' 2>/dev/null || head -c 600 "$out/passages/spans.jsonl"
import json, sys
for line in open(sys.argv[1] + "/spans.jsonl"):
    r = json.loads(line)
    for s in r["spans"]:
        w = s["where"][0] if s["where"] else {}
        print("  %-28s bytes %5d-%-5d %3d tokens, also in %s"
              % (r["id"], s["start"], s["end"], s["tokens"], w.get("id", "?")))
PY

echo
echo "== generated corpus: 20000 news-like documents with planted copies"
"$build/bench/gen" --seed 1 --docs 20000 --out "$out/gen.jsonl" \
    --truth "$out/gen-truth.jsonl"
"$w" dedup -o "$out/gen" "$out/gen.jsonl"
"$w" eval --truth "$out/gen-truth.jsonl" "$out/gen" | sed 's/^/  /'
echo
echo "outputs: $out/news and $out/gen (kept.jsonl, removed.jsonl,"
echo "clusters.jsonl, rejected.jsonl, stats.json); open $out/news/report.html"
echo "in a browser for the run's report"
