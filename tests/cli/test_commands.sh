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
expect_status 1 "tokens --id with no such record fails" -- "$WINNOW" tokens --id nosuch "$TMP/t.jsonl"
grep -qF "winnow: no record with id 'nosuch' in '$TMP/t.jsonl'" "$TMP/err" && [ ! -s "$TMP/out" ]
ok $? "tokens --id names the missing id and the input"

"$WINNOW" params --threshold 0.7 --num-perm 128 >"$TMP/p"; ok $? "params exits 0"
grep -q "^bands: 21$" "$TMP/p" && grep -q "^rows: 6$" "$TMP/p" && [ "$(grep -c '^ *0\.[0-9]  *[0-9.]*$\|^ *1\.0  *[0-9.]*$' "$TMP/p")" -eq 10 ]
ok $? "params: 21 bands x 6 rows at 0.7/128 and a 10-point S-curve"
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
grep -qF "cannot open '$TMP/none.jsonl': No such file or directory" "$TMP/err"
ok $? "eval error names the file and the reason"

# eval with labelled pairs: no ARI, and says why; ids in no cluster are
# counted and reported; no negative pairs: nothing is "nan".
printf '%s\n' '{"id_a":"a","id_b":"b","label":1}' '{"id_a":"c","id_b":"zz","label":1}' \
    '{"id_a":"yy","id_b":"zz","label":1}' >"$TMP/lp.jsonl"
printf '%s\n' '{"cluster":0,"members":["a","b"]}' >"$TMP/cl2.jsonl"
expect_status 0 "eval with pair truth" -- "$WINNOW" eval --truth "$TMP/lp.jsonl" "$TMP/cl2.jsonl"
grep -q "^ari: *n/a (truth given as pairs)$" "$TMP/out" && grep -q "^recall: *0.3333$" "$TMP/out"
ok $? "eval with pair truth: ARI n/a, with the reason"
grep -q "^winnow: warning: 3 truth ids not found in the clustering; counted as singletons$" "$TMP/err"
ok $? "eval counts truth ids that no cluster names"
! grep -qi nan "$TMP/out"; ok $? "eval with pair truth prints no nan"
"$WINNOW" eval -q --json --truth "$TMP/lp.jsonl" "$TMP/cl2.jsonl" >"$TMP/ev2" 2>"$TMP/err"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["missing_ids"]==3 and "ari" not in r else 1)' "$TMP/ev2" && [ ! -s "$TMP/err" ]
ok $? "eval --json: missing_ids; -q silences the warning"

# Zero denominators: no predicted pairs and no true pairs give n/a, null in
# JSON, never nan or a made-up 1.0.
printf '%s\n' '{"id":"a","cluster":1}' '{"id":"b","cluster":2}' >"$TMP/t2.jsonl"
: >"$TMP/nocl.jsonl"
expect_status 0 "eval with nothing to score" -- "$WINNOW" eval --truth "$TMP/t2.jsonl" "$TMP/nocl.jsonl"
[ "$(grep -c ': *n/a$' "$TMP/out")" -eq 4 ] && ! grep -qi nan "$TMP/out"
ok $? "eval: precision, recall, f1 and ari n/a with zero denominators"
"$WINNOW" eval --json --truth "$TMP/t2.jsonl" "$TMP/nocl.jsonl" >"$TMP/ev3"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if [r[k] for k in ("precision","recall","f1","ari")]==[None]*4 else 1)' "$TMP/ev3"
ok $? "eval --json: null for a zero denominator"
printf '%s\n' '{"cluster":0,"members":["a","b"]}' >"$TMP/cl3.jsonl"
"$WINNOW" eval --truth "$TMP/t2.jsonl" "$TMP/cl3.jsonl" >"$TMP/out"
grep -q "^precision: *0.0000$" "$TMP/out" && grep -q "^recall: *n/a$" "$TMP/out" \
    && grep -q "^f1: *0.0000$" "$TMP/out" && grep -q "^ari: *0.0000$" "$TMP/out"
ok $? "eval: only the ratio with a zero denominator is n/a"

# similarity agrees with itself: identical texts 1.0.
printf '%s\n' '{"id_a":"k1","id_b":"k2","label":1}' >"$TMP/pairs.jsonl"
"$WINNOW" similarity --pairs "$TMP/pairs.jsonl" "$TMP/k.jsonl" | grep -q '"jaccard":1.0'
ok $? "similarity of identical texts is 1"

"$WINNOW" dedup --help | grep -q -- "--threshold"; ok $? "dedup --help lists options"
expect_status 2 "unknown command is a usage error" -- "$WINNOW" frobnicate

done_testing
