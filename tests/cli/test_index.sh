#!/bin/sh
# End-to-end tests of `winnow index`: create, add (streaming equals batch:
# the same records removed as `winnow dedup --keep first`, and the one
# documented difference), check, query, parameter mismatch, expire, bad
# records, usage errors, and a kill -9 loop during adds after which every
# acknowledged record is in the index.
. "$(dirname "$0")/lib.sh"

W=$WINNOW
GEN="$BUILD/bench/gen"
E=examples/news

# removed_pairs DIR: "id duplicate_of reason" of removed.jsonl, sorted.
removed_pairs() {
    python3 -c '
import json, sys
for l in open(sys.argv[1] + "/removed.jsonl"):
    r = json.loads(l)
    print(r["id"], r["duplicate_of"], r["reason"])' "$1" | sort
}

expect_status 0 "create an index" -- "$W" index create "$TMP/ix"
grep -q '"records":0' "$TMP/out"
ok $? "create prints the stats of an empty index"
expect_status 1 "create refuses an existing index" -- "$W" index create "$TMP/ix"
grep -q "already holds an index" "$TMP/err"
ok $? "... and says why"

# The index is the classic rule (wn_index_options_init; it has no anchor or
# flash candidates): the dedup runs it is compared with name it.
# The example corpus: the same kept records and the same removals as dedup.
"$W" dedup --profile classic -q -o "$TMP/d1" "$E" 2>/dev/null
expect_status 0 "add with --output" -- "$W" index add "$TMP/ix" "$E" -o "$TMP/a1"
accounting "$TMP/a1"
ok $? "add: read = kept + removed + rejected, files match the counts"
cmp -s "$TMP/a1/kept.jsonl" "$TMP/d1/kept.jsonl"
ok $? "add keeps the records dedup keeps, byte for byte"
[ "$(removed_pairs "$TMP/a1")" = "$(removed_pairs "$TMP/d1")" ]
ok $? "add removes what dedup removes, with the same duplicate_of and reason"

# Streaming equals batch on a generated corpus with planted copies: record
# by record (--batch 1, one transaction each) and in transactions of 1000.
"$GEN" --seed 5 --docs 3000 --out "$TMP/g.jsonl" 2>/dev/null
"$W" dedup --profile classic -q -o "$TMP/gd" "$TMP/g.jsonl" 2>/dev/null
"$W" index create "$TMP/gi" >/dev/null
expect_status 0 "add a generated corpus record by record" -- \
    "$W" index add "$TMP/gi" "$TMP/g.jsonl" --batch 1 --no-sync -o "$TMP/ga"
removed=$(json_get "$TMP/ga/stats.json" removed)
[ "$removed" -gt 100 ] && [ "$removed" = "$(json_get "$TMP/gd/stats.json" removed)" ]
ok $? "streaming removes as many records as dedup --keep first ($removed)"
cmp -s "$TMP/ga/kept.jsonl" "$TMP/gd/kept.jsonl" &&
    [ "$(removed_pairs "$TMP/ga")" = "$(removed_pairs "$TMP/gd")" ]
ok $? "... the same records, each with the same duplicate_of and reason"
"$W" index create "$TMP/gi2" >/dev/null
"$W" index add "$TMP/gi2" "$TMP/g.jsonl" --batch 1000 -o "$TMP/ga2" 2>/dev/null
cmp -s "$TMP/ga/kept.jsonl" "$TMP/ga2/kept.jsonl" &&
    cmp -s "$TMP/ga/removed.jsonl" "$TMP/ga2/removed.jsonl"
ok $? "transactions of 1000 records decide as one record at a time"

# A rerun after an interrupted add: a run that committed its first
# transactions and published nothing (here: the first 1000 records added
# without outputs) leaves records in the index under their own ids; the
# rerun over the whole input keeps them again, as the first run would have,
# and removes nothing as a duplicate of itself.
"$W" index create "$TMP/gi5" >/dev/null
head -n 1000 "$TMP/g.jsonl" >"$TMP/g1000.jsonl"
"$W" index add "$TMP/gi5" "$TMP/g1000.jsonl" --batch 100 >/dev/null 2>&1
expect_status 0 "rerun of an add over records already indexed" -- \
    "$W" index add "$TMP/gi5" "$TMP/g.jsonl" --batch 100 -o "$TMP/ga5"
cmp -s "$TMP/ga5/kept.jsonl" "$TMP/gd/kept.jsonl" &&
    [ "$(removed_pairs "$TMP/ga5")" = "$(removed_pairs "$TMP/gd")" ] &&
    accounting "$TMP/ga5"
ok $? "... keeps and removes what one uninterrupted run does"
kept_first=$(python3 -c '
import json, sys
ids = {json.loads(l)["id"] for l in open(sys.argv[1])}
print(sum(1 for l in open(sys.argv[2]) if json.loads(l)["id"] in ids))' \
    "$TMP/g1000.jsonl" "$TMP/gd/kept.jsonl")
[ "$(json_get "$TMP/ga5/stats.json" kept_indexed)" = "$kept_first" ] &&
    ! grep -q '"reason":"id"' "$TMP/ga5/removed.jsonl"
ok $? "... counting the $kept_first found indexed as themselves in kept_indexed"

# Streaming, in two halves: the second half judged against the first.
head -n 1500 "$TMP/g.jsonl" >"$TMP/g1.jsonl"
tail -n +1501 "$TMP/g.jsonl" >"$TMP/g2.jsonl"
"$W" index create "$TMP/gi3" >/dev/null
"$W" index add "$TMP/gi3" "$TMP/g1.jsonl" -o "$TMP/h1" 2>/dev/null
"$W" index add "$TMP/gi3" "$TMP/g2.jsonl" -o "$TMP/h2" 2>/dev/null
cat "$TMP/h1/kept.jsonl" "$TMP/h2/kept.jsonl" | cmp -s - "$TMP/gd/kept.jsonl"
ok $? "two runs over the halves keep what one dedup over the whole keeps"

# dedup --index: the same, through the dedup command; a missing index is
# made with the rule given.
"$W" dedup --profile classic -q -o "$TMP/x1" --index "$TMP/gi4" "$TMP/g1.jsonl" 2>/dev/null
expect_status 0 "dedup --index judges a new batch against the index" -- \
    "$W" dedup --profile classic -o "$TMP/x2" --index "$TMP/gi4" "$TMP/g2.jsonl"
cmp -s "$TMP/x2/kept.jsonl" "$TMP/h2/kept.jsonl" && accounting "$TMP/x2"
ok $? "... and keeps what index add keeps"
expect_status 2 "dedup --index with another threshold" -- \
    "$W" dedup --profile classic -o "$TMP/x3" --index "$TMP/gi4" -t 0.9 "$TMP/g2.jsonl"
expect_status 2 "dedup --index --keep longest" -- \
    "$W" dedup --profile classic -o "$TMP/x3" --index "$TMP/gi4" --keep longest "$TMP/g2.jsonl"

# check: one JSON object per record; everything is indexed now, so each
# answer names a duplicate (its own id, reason "id").
expect_status 0 "check the corpus again" -- "$W" index check "$TMP/gi" "$TMP/g.jsonl"
python3 - "$TMP/out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = {"id", "new", "duplicate_of", "similarity", "reason"}
ok = (len(rows) == 3000 and all(set(r) == keys for r in rows)
      and all(r["new"] is False for r in rows))
sys.exit(0 if ok else 1)
PY
ok $? "check prints {id, new, duplicate_of, similarity, reason} per record"

# query adds nothing.
before=$("$W" index stats "$TMP/ix")
printf '%s\n' '{"id":"q1","text":"An entirely new story about a lighthouse keeper who retired after forty years on the rock."}' >"$TMP/q.jsonl"
expect_status 0 "query a new text" -- "$W" index query "$TMP/ix" "$TMP/q.jsonl"
grep -q '"new":true' "$TMP/out"
ok $? "query: a new text is new"
expect_status 0 "query it again" -- "$W" index query "$TMP/ix" "$TMP/q.jsonl"
grep -q '"new":true' "$TMP/out" && [ "$("$W" index stats "$TMP/ix")" = "$before" ]
ok $? "query adds nothing"
expect_status 0 "query with --matches" -- "$W" index query "$TMP/ix" --matches 3 "$E"
grep -q '"matches":\[{"id":"a-wire-fishing-talks.txt"' "$TMP/out"
ok $? "query --matches lists the matches"

# The rule is stored: other parameters are an error naming the parameter.
expect_status 2 "add with another threshold" -- \
    "$W" index add "$TMP/ix" --threshold 0.7 "$TMP/q.jsonl"
grep -q "threshold 0.8" "$TMP/err" && grep -q "threshold 0.7" "$TMP/err"
ok $? "the mismatch names the parameter and both values"
expect_status 2 "check with another --ngram" -- "$W" index check "$TMP/ix" -n 3 "$TMP/q.jsonl"
grep -q "ngram 5" "$TMP/err"
ok $? "... also for --ngram"
[ "$("$W" index stats "$TMP/ix")" = "$before" ]
ok $? "a mismatch changes nothing"
expect_status 0 "the same rule given explicitly is accepted" -- \
    "$W" index query "$TMP/ix" --threshold 0.8 --num-perm 128 "$TMP/q.jsonl"
expect_status 1 "no index at the path" -- "$W" index query "$TMP/none" "$TMP/q.jsonl"
grep -q "no index at" "$TMP/err"
ok $? "... says so"
mkdir -p "$TMP/junk"
head -c 100000 /dev/urandom >"$TMP/junk/data.mdb"
expect_status 1 "a data.mdb that is not an index" -- "$W" index stats "$TMP/junk"
expect_status 2 "create with more bands x rows than --num-perm" -- \
    "$W" index create "$TMP/ix-bad" --bands 40 --rows 8

# The documented difference: a chain A ~ B ~ C with A and C apart. The batch
# job clusters all three (C is removed as a member of A's cluster, through
# B); the index holds only kept records, so C, compared with A alone, is
# kept. Everything else is decided alike.
python3 - "$TMP/chain.jsonl" <<'PY'
import json, random, sys
random.seed(7)
a = ["w%d" % random.randrange(20000) for _ in range(400)]
b = list(a)
for i in random.sample(range(400), 6):
    b[i] = "x%d" % i
c = list(b)
for i in random.sample(range(400), 6):
    c[i] = "y%d" % i
with open(sys.argv[1], "w") as f:
    for name, t in (("A", a), ("B", b), ("C", c)):
        f.write(json.dumps({"id": name, "text": " ".join(t)}) + "\n")
PY
"$W" dedup --profile classic -q -o "$TMP/cd" "$TMP/chain.jsonl" 2>/dev/null
"$W" index create "$TMP/ci" >/dev/null
"$W" index add "$TMP/ci" "$TMP/chain.jsonl" -o "$TMP/ca" 2>/dev/null
[ "$(removed_pairs "$TMP/cd" | cut -d' ' -f1 | tr '\n' ' ')" = "B C " ] &&
    [ "$(removed_pairs "$TMP/ca" | cut -d' ' -f1 | tr '\n' ' ')" = "B " ]
ok $? "a chain: dedup removes B and C, the index B only (docs/INDEX.md)"

# expire: by a time field, then by the time of insertion.
cat >"$TMP/t.jsonl" <<'J'
{"id":"t1","date":"2024-01-05","text":"The council voted to close the old ferry terminal at the end of the winter season."}
{"id":"t2","date":"2024-02-10T08:30:00Z","text":"A new cycle path along the canal will open next spring after two years of work."}
{"id":"t3","date":1709251200,"text":"The museum received a collection of historic maps donated by a local family."}
{"id":"t4","date":"2024-04-01","text":"Farmers in the valley expect an early harvest after the warmest March on record."}
{"id":"t5","text":"A record without a date is kept by the time it was added to the index."}
J
"$W" index create "$TMP/ti" >/dev/null
expect_status 0 "add with --time-field" -- "$W" index add "$TMP/ti" --time-field date "$TMP/t.jsonl"
grep -q "1 records have no readable time" "$TMP/err"
ok $? "a record without the field is counted and warned about"
expect_status 0 "expire --before a date" -- "$W" index expire "$TMP/ti" --before 2024-03-01
grep -q "expired 2 records" "$TMP/err"
ok $? "expire drops the records before the date"
"$W" index stats "$TMP/ti" >"$TMP/st"
grep -q '"records":3' "$TMP/st" && grep -q '"oldest":1709251200' "$TMP/st"
ok $? "stats: 3 records left, the oldest of 2024-03-01"
expect_status 0 "check the corpus after expire" -- "$W" index check "$TMP/ti" "$TMP/t.jsonl" --time-field date
[ "$(grep -c '"new":true' "$TMP/out")" -eq 2 ] &&
    grep -q '"id":"t1","new":true' "$TMP/out" && grep -q '"id":"t2","new":true' "$TMP/out"
ok $? "expired records are new again; the others are found"
expect_status 0 "expire by age" -- "$W" index expire "$TMP/ti" --before 0d
expect_status 0 "expire everything" -- "$W" index expire "$TMP/ti" --before 4000000000
"$W" index stats "$TMP/ti" | grep -q '"records":0,"key_values":0,"pending":0'
ok $? "expire removes the records with all their keys"
expect_status 2 "expire needs --before" -- "$W" index expire "$TMP/ti"
expect_status 2 "an unreadable time" -- "$W" index expire "$TMP/ti" --before yesterday

# Bad records are rejected and accounted for; exit 3.
printf '%s\n' '{"id":"ok1","text":"fine"}' 'not json' '{"id":"x"}' >"$TMP/bad.jsonl"
"$W" index create "$TMP/bi" >/dev/null
expect_status 3 "add with bad records" -- "$W" index add "$TMP/bi" "$TMP/bad.jsonl" -o "$TMP/ba"
accounting "$TMP/ba" && [ "$(json_get "$TMP/ba/stats.json" rejected)" -eq 2 ]
ok $? "rejected records are written and counted"
expect_status 2 "unknown subcommand" -- "$W" index frobnicate "$TMP/bi"
expect_status 2 "add without input" -- "$W" index add "$TMP/bi"
expect_status 2 "--output is for add" -- "$W" index check "$TMP/bi" -o "$TMP/x" "$TMP/bad.jsonl"

# kill -9 during adds: every record whose answer was printed (after its
# transaction committed) is in the index after the kill, and the index
# opens. The kill lands wherever the run happens to be.
"$GEN" --seed 9 --docs 4000 --out "$TMP/k.jsonl" 2>/dev/null
"$W" index create "$TMP/ki" >/dev/null
bad=0
for round in 1 2 3 4 5; do
    "$W" index check "$TMP/ki" "$TMP/k.jsonl" --batch 1 >"$TMP/ack$round" 2>/dev/null &
    pid=$!
    # Until the first answers are out (stdout is a file: they come in
    # blocks), then a little more, then the kill.
    n=0
    until [ -s "$TMP/ack$round" ] || ! kill -0 "$pid" 2>/dev/null || [ $n -gt 2400 ]; do
        sleep 0.05
        n=$((n + 1))
    done
    sleep 0.$round
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    # The acknowledged new records, as a corpus to query.
    python3 - "$TMP/ack$round" "$TMP/k.jsonl" "$TMP/acked.jsonl" <<'PY'
import json, sys
acked = set()
for l in open(sys.argv[1]):
    try:
        r = json.loads(l)
    except ValueError:
        continue  # the last line, cut by the kill
    if r["new"]:
        acked.add(r["id"])
with open(sys.argv[3], "w") as out:
    for l in open(sys.argv[2]):
        if json.loads(l)["id"] in acked:
            out.write(l)
PY
    [ -s "$TMP/acked.jsonl" ] || { [ "$round" -gt 1 ] || bad=1; continue; }
    "$W" index query "$TMP/ki" "$TMP/acked.jsonl" >"$TMP/found" 2>"$TMP/err" || bad=1
    python3 - "$TMP/found" <<'PY' || bad=1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if rows and all(r["duplicate_of"] == r["id"] and
                           r["reason"] == "exact" for r in rows) else 1)
PY
done
"$W" index stats "$TMP/ki" >/dev/null || bad=1
[ "$bad" -eq 0 ]
ok $? "kill -9 during adds: every acknowledged record is there after reopening"

# --profile: the index's default is classic (0.8); --profile news stores the
# news rule at its own threshold, and a later command naming another profile
# is refused with the parameter.
"$W" index create "$TMP/pc" >/dev/null && "$W" index create --profile news "$TMP/pn" >/dev/null &&
    "$W" index stats "$TMP/pc" | grep -q '"profile":"classic",.*"threshold":0.8,' &&
    "$W" index stats "$TMP/pn" | grep -q '"profile":"news",.*"threshold":0.5,'
ok $? "index create: classic by default, --profile news at its threshold 0.5"
"$W" index check --profile web "$TMP/pn" /dev/null >/dev/null 2>"$TMP/perr"
[ $? -eq 2 ] && grep -q "profile\|threshold" "$TMP/perr"
ok $? "index check --profile web on a news index: refused, naming the parameter"

done_testing
