#!/bin/sh
# CLI tests of the smaller commands: tokens, params, eval, similarity, and
# dedup's --keep-max and --help.
. "$(dirname "$0")/lib.sh"

printf '%s\n' '{"id": 7, "text": "South Korea said Monday.The two sides ＡＢＣ ﬁnance Straße"}' \
    '{"text": "no id here"}' >"$TMP/t.jsonl"
"$WINNOW" tokens "$TMP/t.jsonl" >"$TMP/tok"; ok $? "tokens exits 0"
printf '7\tsouth korea said monday the two sides abc finance strasse\n%s\tno id here\n' "$TMP/t.jsonl:2" | cmp -s - "$TMP/tok"
ok $? "tokens: NFKC, case folding, punctuation split; numeric id; missing id is file:line"
"$WINNOW" tokens --spans --id 7 "$TMP/t.jsonl" | grep -q "^  0-5	south$"
ok $? "tokens --spans gives source byte spans"

"$WINNOW" params --threshold 0.7 --num-perm 128 >"$TMP/p"; ok $? "params exits 0"
grep -q "^bands: 18$" "$TMP/p" && grep -q "^rows: 7$" "$TMP/p" && [ "$(grep -c '^ *0\.[0-9]  *[0-9.]*$\|^ *1\.0  *[0-9.]*$' "$TMP/p")" -eq 10 ]
ok $? "params: 18 bands x 7 rows at 0.7/128 and a 10-point S-curve"
"$WINNOW" params --threshold 0.7 --fn-weight 0.5 | grep -q "^bands: 14$"
ok $? "params: equal weights give datasketch's 14 x 9"
expect_status 2 "params rejects threshold 1.5" -- "$WINNOW" params --threshold 1.5
expect_status 2 "params rejects bands*rows > K" -- "$WINNOW" params --bands 20 --rows 10 --num-perm 128

# --keep-max: the copy with the highest score is kept.
cat >"$TMP/k.jsonl" <<'J'
{"id": "k1", "score": 3, "text": "The regional orchestra announced a new season of twelve concerts, opening in September with a program of works by local composers and a guest pianist from abroad."}
{"id": "k2", "score": 9, "text": "The regional orchestra announced a new season of twelve concerts, opening in September with a program of works by local composers and a guest pianist from abroad."}
{"id": "k3", "text": "The regional orchestra announced a new season of twelve concerts, opening in September with a program of works by local composers and a guest pianist from abroad."}
J
"$WINNOW" dedup -q --keep-max score -o "$TMP/km" "$TMP/k.jsonl"
grep -q '"id": "k2"' "$TMP/km/kept.jsonl" && [ "$(wc -l <"$TMP/km/kept.jsonl")" -eq 1 ] \
    && grep -q '"id":"k1","duplicate_of":"k2"' "$TMP/km/removed.jsonl"
ok $? "--keep-max score keeps the record with the largest score"

# eval on a tiny case with a known answer.
printf '%s\n' '{"id":"a","cluster":1}' '{"id":"b","cluster":1}' '{"id":"c","cluster":2}' >"$TMP/truth.jsonl"
printf '%s\n' '{"cluster":0,"members":["a","b","c"]}' >"$TMP/cl.jsonl"
"$WINNOW" eval --json --truth "$TMP/truth.jsonl" "$TMP/cl.jsonl" >"$TMP/ev"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if (r["tp"],r["fp"],r["fn"])==(1,2,0) and abs(r["precision"]-1/3)<1e-6 else 1)' "$TMP/ev"
ok $? "eval: pairwise counts and precision"
expect_status 1 "eval names a missing file" -- "$WINNOW" eval --truth "$TMP/none.jsonl" "$TMP/cl.jsonl"
grep -q "none.jsonl" "$TMP/err"; ok $? "eval error names the file"

# similarity agrees with itself: identical texts 1.0.
printf '%s\n' '{"id_a":"k1","id_b":"k2","label":1}' >"$TMP/pairs.jsonl"
"$WINNOW" similarity --pairs "$TMP/pairs.jsonl" "$TMP/k.jsonl" | grep -q '"jaccard":1.0'
ok $? "similarity of identical texts is 1"

"$WINNOW" dedup --help | grep -q -- "--threshold"; ok $? "dedup --help lists options"
expect_status 2 "unknown command is a usage error" -- "$WINNOW" frobnicate

done_testing
