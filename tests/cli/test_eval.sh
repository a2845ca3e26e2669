#!/bin/sh
# winnow eval: ids compared as dedup writes them, conflicts reported, and
# labelled pairs scored with a breakdown by kind (--pairs).
. "$(dirname "$0")/lib.sh"

T="alpha beta gamma delta epsilon zeta eta theta iota kappa"
U="lambda mu nu xi omicron pi rho sigma tau upsilon phi"

# Numeric ids of every shape, deduplicated for real: the truth names them
# as the corpus does, so every pair of the cluster is a true positive.
printf '%s\n' "{\"id\":0.1,\"text\":\"$T\"}" "{\"id\":1.0,\"text\":\"$T\"}" \
    "{\"id\":1e2,\"text\":\"$T\"}" "{\"id\":-0,\"text\":\"$T\"}" \
    "{\"id\":123456789012345678901234567890,\"text\":\"$T\"}" \
    "{\"id\":\"caf\\u00e9\",\"text\":\"$T\"}" \
    "{\"id\":7,\"text\":\"$U\"}" >"$TMP/num.jsonl"
"$WINNOW" dedup -q -o "$TMP/num" "$TMP/num.jsonl"
printf '%s\n' '{"id":0.1,"cluster":1}' '{"id":1.0,"cluster":1}' \
    '{"id":1e2,"cluster":1}' '{"id":-0,"cluster":1}' \
    '{"id":123456789012345678901234567890,"cluster":1}' \
    '{"id":"café","cluster":1}' '{"id":7,"cluster":2}' >"$TMP/num-truth.jsonl"
expect_status 0 "eval reads numeric ids of any size" -- \
    "$WINNOW" eval --json --truth "$TMP/num-truth.jsonl" "$TMP/num"
grep -q '"tp": 15, "fp": 0, "fn": 0' "$TMP/out"
ok $? "numbers compare as written: 0.1, 1.0, 1e2, -0 and a 30-digit integer all match (tp 15)"

# 1.0 and 1 are different ids for dedup, so they are for eval too.
printf '%s\n' '{"id":1,"cluster":1}' '{"id":0.1,"cluster":1}' \
    >"$TMP/num-truth2.jsonl"
"$WINNOW" eval --json --truth "$TMP/num-truth2.jsonl" "$TMP/num" >"$TMP/out" 2>"$TMP/err"
grep -q '"tp": 0, "fp": 0, "fn": 1' "$TMP/out"
ok $? "the id 1 is not the id 1.0"

# Conflicts: an id twice in the truth, an id in two clusters.
printf '%s\n' '{"id":"a","cluster":1}' '{"id":"b","cluster":1}' \
    '{"id":"c","cluster":2}' '{"id":"a","cluster":2}' >"$TMP/ct.jsonl"
printf '%s\n' '{"cluster":0,"members":["a","b"]}' \
    '{"cluster":1,"members":["c","b"]}' >"$TMP/cc.jsonl"
expect_status 0 "eval with conflicts" -- \
    "$WINNOW" eval --truth "$TMP/ct.jsonl" "$TMP/cc.jsonl"
grep -q "ct.jsonl:4: id 'a' is given again (first at line 1)" "$TMP/err"
ok $? "a repeated truth id is a warning with file:line"
grep -q "cc.jsonl:2: id 'b' is listed again (first at line 1)" "$TMP/err"
ok $? "an id in two clusters is a warning with file:line"
grep -q "^conflicts: 1 in the truth, 1 in the clusters" "$TMP/out"
ok $? "the conflicts are counted in the output"
# The first entry wins: truth {a,b} {c}, prediction {a,b} {c}: perfect.
grep -q "tp 1, fp 0, fn 0" "$TMP/out"
ok $? "the first entry of each conflict is the one used"
"$WINNOW" eval --json --truth "$TMP/ct.jsonl" "$TMP/cc.jsonl" >"$TMP/ev" 2>/dev/null
grep -q '"truth_conflicts": 1, "cluster_conflicts": 1' "$TMP/ev"
ok $? "eval --json counts the conflicts"

# Labelled pairs with kinds, against a clustering written by hand:
# clusters {a,b,c} {d,e}; f, g singletons.
printf '%s\n' '{"cluster":0,"members":["a","b","c"]}' \
    '{"cluster":1,"members":["d","e"]}' >"$TMP/pc.jsonl"
cat >"$TMP/pairs.jsonl" <<'EOF'
{"id_a":"a","id_b":"b","label":1,"kind":"exact"}
{"id_a":"a","id_b":"c","label":1,"kind":"near"}
{"id_a":"d","id_b":"f","label":1,"kind":"near"}
{"id_a":"b","id_b":"c","label":0,"kind":"template"}
{"id_a":"a","id_b":"d","label":0,"kind":"template"}
{"id_a":"f","id_b":"g","label":false,"kind":"template"}
{"id_a":"e","id_b":"d","label":true}
{"id_a":"b","id_b":"a","label":0,"kind":"exact"}
EOF
expect_status 0 "eval --pairs" -- "$WINNOW" eval --pairs "$TMP/pairs.jsonl" "$TMP/pc.jsonl"
grep -q "tp 3, fp 1, fn 1" "$TMP/out"
ok $? "--pairs: tp 3 (a-b a-c e-d), fp 1 (b-c), fn 1 (d-f)"
grep -q "^precision: 0.7500" "$TMP/out" && grep -q "^recall:    0.7500" "$TMP/out"
ok $? "--pairs: precision and recall"
grep -Eq '^ +near +2 +2 +1 +0 +1 +0 +1.0000 +0.5000 +0.6667$' "$TMP/out"
ok $? "--pairs: the near row (2 pairs, 1 found, 1 missed)"
grep -Eq '^ +template +3 +0 +0 +1 +0 +2 +0.0000 +n/a +0.0000$' "$TMP/out"
ok $? "--pairs: the template row (1 of 3 wrongly merged)"
grep -Eq '^ +\(none\) +1 +1 +1 ' "$TMP/out"
ok $? "--pairs: pairs without a kind have their own row"
grep -q "pairs.jsonl:8: the pair of 'b' is labelled again (first at line 1)" "$TMP/err"
ok $? "--pairs: a pair labelled twice (either order) is a conflict, the first label used"
"$WINNOW" eval --json --pairs "$TMP/pairs.jsonl" "$TMP/pc.jsonl" >"$TMP/ev" 2>/dev/null
python3 - "$TMP/ev" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
k = r["by_kind"]
ok = (r["tp"], r["fp"], r["fn"]) == (3, 1, 1) and r["truth_conflicts"] == 1 \
    and k["exact"] == {"pairs": 1, "positives": 1, "tp": 1, "fp": 0, "fn": 0,
                       "tn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0} \
    and k["template"]["precision"] == 0.0 and k["template"]["recall"] is None \
    and k[""]["pairs"] == 1
sys.exit(0 if ok else 1)
PY
ok $? "--pairs --json: totals, conflicts and by_kind"
printf '%s\n' '{"id":"a","cluster":1}' >"$TMP/notpairs.jsonl"
expect_status 1 "--pairs refuses a cluster truth file" -- \
    "$WINNOW" eval --pairs "$TMP/notpairs.jsonl" "$TMP/pc.jsonl"
grep -q "notpairs.jsonl:1: not a labelled pair" "$TMP/err"
ok $? "and names the file, the line and what is wrong"
expect_status 2 "--pairs and --truth together are a usage error" -- \
    "$WINNOW" eval --pairs "$TMP/pairs.jsonl" --truth "$TMP/ct.jsonl" "$TMP/pc.jsonl"

# The shipped labelled pairs, when the data is there: one command.
data=${WN_SHARED:-$(pwd)/../shared}/data/reuters21578
if [ -f "$data/dev_pairs.jsonl" ]; then
    "$WINNOW" eval --pairs "$data/dev_pairs.jsonl" "$TMP/pc.jsonl" >"$TMP/out" 2>/dev/null
    n=$(grep -c '^ ' "$TMP/out")
    [ "$n" -ge 6 ]
    ok $? "reuters dev_pairs reads, with a row per kind ($n)"
else
    skip "reuters dev_pairs reads" "no $data"
fi
done_testing
