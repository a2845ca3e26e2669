#!/bin/sh
# Tests of the corpus generator bench/gen: determinism, valid JSON, the
# truth and pairs files against the records, the planted cases, --docs and
# --bytes, and usage errors. Run from the repository root with
# BUILD=<build dir>; prints TAP.
. "$(dirname "$0")/lib.sh"

GEN="$BUILD/bench/gen"
if [ ! -x "$GEN" ]; then
    skip "generator" "no $GEN"
    done_testing
fi

# gen_run NAME ARGS...: records, truth and pairs under $TMP/NAME.*
gen_run() {
    name=$1
    shift
    "$GEN" "$@" --out "$TMP/$name.jsonl" --truth "$TMP/$name.truth" \
        --pairs "$TMP/$name.pairs" 2>"$TMP/$name.err"
}

"$GEN" --help >"$TMP/help" 2>&1
st=$?
missing=""
for o in seed docs bytes exact-rate norm-rate near-rate hard-rate \
    repeat-rate near-strength window out truth pairs; do
    grep -q -- "--$o" "$TMP/help" || missing="$missing $o"
done
[ "$st" -eq 0 ] && [ -z "$missing" ]
ok $? "--help exits 0 and documents every option${missing:+ (missing:$missing)}"

gen_run a --seed 42 --docs 2000
ok $? "gen --seed 42 --docs 2000 exits 0"
gen_run b --seed 42 --docs 2000
cmp -s "$TMP/a.jsonl" "$TMP/b.jsonl" && cmp -s "$TMP/a.truth" "$TMP/b.truth" &&
    cmp -s "$TMP/a.pairs" "$TMP/b.pairs"
ok $? "same seed gives byte-identical records, truth and pairs"

"$GEN" --seed 42 --docs 2000 2>/dev/null | cmp -s - "$TMP/a.jsonl"
ok $? "stdout and --out give the same bytes"

# The bytes for a seed are fixed across compilers and platforms (no rand(),
# no unspecified evaluation order): this checksum is the same under gcc and
# clang. Changing the generator changes it on purpose; update it then, and
# say so, since published benchmark corpora are named by seed.
sum=$("$GEN" --seed 1 --docs 300 --near-strength 0.3 2>/dev/null | cksum)
[ "$sum" = "175878964 537155" ]
ok $? "seed 1 gives the recorded bytes (cksum $sum)"

gen_run c --seed 43 --docs 2000
! cmp -s "$TMP/a.jsonl" "$TMP/c.jsonl"
ok $? "a different seed gives different output"

gen_run p --seed 42 --docs 1000
head -n 1000 "$TMP/a.jsonl" | cmp -s - "$TMP/p.jsonl"
ok $? "a shorter run is a prefix of a longer one"

[ "$(wc -l <"$TMP/a.jsonl")" -eq 2000 ] && [ "$(wc -l <"$TMP/p.jsonl")" -eq 1000 ]
ok $? "--docs count honoured"

grep -q "2000 docs" "$TMP/a.err" && grep -q "planted groups" "$TMP/a.err"
ok $? "summary line on stderr"

# Every line is a JSON object with exactly id, site and text; ids run
# gen-000000001, gen-000000002, ...
python3 - "$TMP/a.jsonl" <<'PY'
import json, sys
n = 0
with open(sys.argv[1], "rb") as f:
    for n, line in enumerate(f, 1):
        d = json.loads(line)
        if (set(d) != {"id", "site", "text"} or d["id"] != "gen-%09d" % n
                or not d["text"] or not d["site"]):
            print("# bad record", n, line[:100])
            sys.exit(1)
sys.exit(0 if n == 2000 else 1)
PY
ok $? "every record is valid JSON with id, site and text"

# Truth covers every id, in order; a cluster is named after an earlier
# record that is its own cluster. Pairs name known records, the earlier
# first, and agree with the truth: label 1 within a cluster, 0 across.
# All four kinds are planted at the default rates.
python3 - "$TMP/a" <<'PY'
import json, sys
base = sys.argv[1]
ids = [json.loads(l)["id"] for l in open(base + ".jsonl", "rb")]
truth = [json.loads(l) for l in open(base + ".truth")]
pos = {i: k for k, i in enumerate(ids)}
cl = {t["id"]: t["cluster"] for t in truth}
ok = [t["id"] for t in truth] == ids and all(
    c in pos and cl[c] == c and pos[c] <= pos[i] for i, c in cl.items())
kinds = set()
for l in open(base + ".pairs"):
    p = json.loads(l)
    a, b = p["id_a"], p["id_b"]
    kinds.add(p["kind"])
    same = cl.get(a) == cl.get(b)
    if (a not in pos or b not in pos or pos[a] >= pos[b]
            or p["label"] not in (0, 1) or same != (p["label"] == 1)):
        print("# bad pair", p)
        ok = False
if kinds != {"exact", "exact-norm", "near", "hard"}:
    print("# kinds", sorted(kinds))
    ok = False
sys.exit(0 if ok else 1)
PY
ok $? "truth covers every id; pairs agree with it and cover all kinds"

# The planted cases are what they claim: exact copies have the same text;
# exact-norm copies differ in bytes but not in casefolded word and
# punctuation tokens; near copies differ in tokens.
python3 - "$TMP/a" <<'PY'
import json, re, sys
base = sys.argv[1]
text = {}
for l in open(base + ".jsonl", "rb"):
    d = json.loads(l)
    text[d["id"]] = d["text"]
def toks(t):
    return re.findall(r"\w+|[^\w\s]", t.casefold())
bad = 0
for l in open(base + ".pairs"):
    p = json.loads(l)
    a, b = text[p["id_a"]], text[p["id_b"]]
    k = p["kind"]
    if ((k == "exact" and a != b)
            or (k == "exact-norm" and (a == b or toks(a) != toks(b)))
            or (k in ("near", "hard") and toks(a) == toks(b))):
        bad += 1
        print("# wrong", k, p["id_a"], p["id_b"])
sys.exit(1 if bad else 0)
PY
ok $? "exact, normalized and near copies are what they claim"

# Near copies at the default strength are similar but not identical; hard
# negatives are not (word 5-gram Jaccard).
python3 - "$TMP/a" <<'PY'
import json, re, sys, statistics
base = sys.argv[1]
text = {}
for l in open(base + ".jsonl", "rb"):
    d = json.loads(l)
    text[d["id"]] = d["text"]
def grams(t):
    w = re.findall(r"\w+", t.lower())
    return {tuple(w[i:i + 5]) for i in range(len(w) - 4)}
sim = {"near": [], "hard": []}
for l in open(base + ".pairs"):
    p = json.loads(l)
    if p["kind"] in sim:
        a, b = grams(text[p["id_a"]]), grams(text[p["id_b"]])
        sim[p["kind"]].append(len(a & b) / len(a | b))
near, hard = statistics.median(sim["near"]), max(sim["hard"])
print("# near median %.2f, hard max %.2f" % (near, hard))
sys.exit(0 if 0.6 <= near < 0.95 and hard < 0.4 else 1)
PY
ok $? "near copies are similar, hard negatives are not"

gen_run r --seed 5 --docs 300 --exact-rate 0 --norm-rate 0 --near-rate 0 \
    --hard-rate 0 --repeat-rate 1
gen_run n --seed 5 --docs 300 --exact-rate 0 --norm-rate 0 --near-rate 0 \
    --hard-rate 0 --repeat-rate 0
python3 - "$TMP/r.jsonl" "$TMP/n.jsonl" <<'PY'
import json, re, sys
def share(path):
    n = k = 0
    for l in open(path, "rb"):
        w = re.findall(r"\w+", json.loads(l)["text"].lower())
        g = [tuple(w[i:i + 8]) for i in range(len(w) - 7)]
        n += 1
        k += len(set(g)) < len(g)
    return k / n
r, n = share(sys.argv[1]), share(sys.argv[2])
print("# repeated 8-grams: %.2f with --repeat-rate 1, %.2f with 0" % (r, n))
sys.exit(0 if r >= 0.9 and n <= 0.4 else 1)
PY
ok $? "--repeat-rate plants sentences repeated inside a document"
[ "$(wc -l <"$TMP/r.pairs")" -eq 0 ] && grep -q "self-repeating 300" "$TMP/r.err"
ok $? "with copy rates at zero there are no pairs"

"$GEN" --seed 9 --bytes 1M --out "$TMP/m.jsonl" 2>/dev/null
size=$(wc -c <"$TMP/m.jsonl")
[ "$size" -le 1048576 ] && [ "$size" -ge 1000000 ]
ok $? "--bytes 1M gives about 1 MiB ($size bytes)"

"$GEN" --seed 9 --bytes 1M --docs 10 2>/dev/null >"$TMP/m10.jsonl"
[ "$(wc -l <"$TMP/m10.jsonl")" -eq 10 ]
ok $? "--docs and --bytes together: the first limit wins"

expect_status 2 "unknown option exits 2" -- "$GEN" --frobnicate
expect_status 2 "rate above 1 exits 2" -- "$GEN" --near-rate 1.5
expect_status 2 "rates adding up above 1 exit 2" -- \
    "$GEN" --exact-rate 0.6 --near-rate 0.6
expect_status 2 "bad size exits 2" -- "$GEN" --bytes 12Q
expect_status 1 "unwritable output exits 1" -- \
    "$GEN" --docs 1 --out "$TMP/no/such/dir/x.jsonl"

done_testing
