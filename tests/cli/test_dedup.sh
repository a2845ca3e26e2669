#!/bin/sh
# End-to-end tests of `winnow dedup`: outputs, accounting, determinism,
# compression, bad input, atomic outputs, and the real data when present.
. "$(dirname "$0")/lib.sh"

# A small corpus written for this test: 1 and 3 are the same story (3 has a
# site header and a changed last sentence), 4 is an exact copy of 2 up to
# case and spacing, 5 shares the topic of 1 but is another story.
cat >"$TMP/small.jsonl" <<'J'
{"id": "a1", "text": "The city council of Northvale approved a new budget on Tuesday after a long debate about road repairs, school funding and the cost of the winter festival. Council members voted seven to two in favour of the plan, which raises spending on public transport by twelve percent. The mayor said the budget reflected the priorities residents had expressed during months of public meetings. Opposition members argued that the plan relied on optimistic revenue forecasts and would force cuts next year. The budget takes effect in January."}
{"id": "a2", "text": "Heavy rain flooded several streets in the harbour district overnight, forcing the closure of two bridges and delaying the morning ferry service. Emergency crews pumped water from basements while shop owners moved goods to higher shelves. The weather office said more rain was expected until Friday and urged drivers to avoid low roads near the river."}
{"id": "a3", "site": "northvale-herald", "text": "Northvale Herald | Local News | Link copied\nThe city council of Northvale approved a new budget on Tuesday after a long debate about road repairs, school funding and the cost of the winter festival. Council members voted seven to two in favour of the plan, which raises spending on public transport by twelve percent. The mayor said the budget reflected the priorities residents had expressed during months of public meetings. Opposition members argued that the plan relied on optimistic revenue forecasts and would force cuts next year. The budget takes effect in January."}
{"id": "a4", "text": "HEAVY RAIN flooded several streets in the harbour district overnight,   forcing the closure of two bridges and delaying the morning ferry service. Emergency crews pumped water from basements while shop owners moved goods to higher shelves. The weather office said more rain was expected until Friday and urged drivers to avoid low roads near the river."}
{"id": "a5", "text": "The city council of Northvale will hold a public hearing next week on plans to rebuild the old market hall, the mayor said on Monday. Council members are divided over whether the project should be paid for by a bond or by higher parking fees. Residents have until the end of the month to submit written comments, and the council is expected to vote in the spring."}
J

out="$TMP/out1"
expect_status 0 "dedup small corpus exits 0" -- "$WINNOW" dedup -q -j 1 -o "$out" "$TMP/small.jsonl"
accounting "$out"; ok $? "accounting holds on the small corpus"
python3 - "$out" <<'PY'
import json, sys
d = sys.argv[1]
rem = {r["id"]: r for r in map(json.loads, open(d + "/removed.jsonl"))}
kept = [json.loads(l)["id"] for l in open(d + "/kept.jsonl")]
ok = (set(rem) == {"a3", "a4"} and rem["a3"]["duplicate_of"] == "a1"
      and rem["a3"]["reason"] == "near" and rem["a4"]["reason"] == "exact"
      and rem["a4"]["duplicate_of"] == "a2" and kept == ["a1", "a2", "a5"]
      and rem["a4"]["similarity"] == 1.0 and 0.8 <= rem["a3"]["similarity"] < 1)
sys.exit(0 if ok else 1)
PY
ok $? "near copy and exact copy removed, same-topic story kept"
python3 - "$TMP/small.jsonl" "$out/kept.jsonl" <<'PY'
import sys
src = open(sys.argv[1], "rb").read().split(b"\n")
kept = open(sys.argv[2], "rb").read().split(b"\n")[:-1]
sys.exit(0 if kept == [src[0], src[1], src[4]] else 1)
PY
ok $? "kept records are the input bytes, in input order"
python3 - "$out/clusters.jsonl" <<'PY'
import json, sys
c = [json.loads(l) for l in open(sys.argv[1])]
ok = (len(c) == 2 and c[0]["members"] == ["a1", "a3"]
      and c[0]["representative"] == "a1" and c[1]["members"] == ["a2", "a4"]
      and c[0]["cluster"] == 0 and c[1]["cluster"] == 1)
sys.exit(0 if ok else 1)
PY
ok $? "clusters.jsonl lists both clusters in input order"

expect_status 0 "--exact-only" -- "$WINNOW" dedup -q --exact-only -o "$TMP/ex" "$TMP/small.jsonl"
[ "$(json_get "$TMP/ex/stats.json" removed)" = 1 ] && grep -q '"a4"' "$TMP/ex/removed.jsonl"
ok $? "--exact-only removes only the exact copy"

expect_status 0 "--keep longest" -- "$WINNOW" dedup -q --keep longest -o "$TMP/kl" "$TMP/small.jsonl"
grep -q '"id":"a1","duplicate_of":"a3"' "$TMP/kl/removed.jsonl"
ok $? "--keep longest keeps the longer republication"

# Compression: the same records as .gz and .zst give the same outputs.
gzip -c "$TMP/small.jsonl" >"$TMP/small.jsonl.gz"
zstd -q -c "$TMP/small.jsonl" >"$TMP/small.jsonl.zst"
cp "$TMP/small.jsonl.zst" "$TMP/misnamed.jsonl"
"$WINNOW" dedup -q -o "$TMP/gz" "$TMP/small.jsonl.gz"; ok $? "gz input"
"$WINNOW" dedup -q -o "$TMP/zst" "$TMP/small.jsonl.zst"; ok $? "zst input"
"$WINNOW" dedup -q -o "$TMP/mis" "$TMP/misnamed.jsonl"; ok $? "zst detected by magic bytes, not name"
same_outputs "$out" "$TMP/gz" && same_outputs "$out" "$TMP/zst" && same_outputs "$out" "$TMP/mis"
ok $? "plain, .gz and .zst give identical outputs"

# Standard input.
"$WINNOW" dedup -q -o "$TMP/stdin" - <"$TMP/small.jsonl"; ok $? "stdin input"
same_outputs "$out" "$TMP/stdin"; ok $? "stdin gives the same outputs"

# Bad input: every record accounted for, stderr names file and line.
cat >"$TMP/bad.jsonl" <<'J'
{"id": "b1", "text": "A first good record about a harbour festival that drew large crowds."}
{"id": "b2", "text": "unterminated
{"id": "b3", "body": "no text field here"}
not json at all

{"id": "b5", "text": "Another good record, this one about a library reopening after repairs."}
{"id": "b6", "text": "A first good record about a harbour festival that drew large crowds."}
J
expect_status 3 "rejected records give exit status 3" -- "$WINNOW" dedup -j 2 -o "$TMP/bad" "$TMP/bad.jsonl"
grep -q "bad.jsonl:2:" "$TMP/err" && grep -q "bad.jsonl:3:" "$TMP/err" && grep -q "bad.jsonl:4:" "$TMP/err"
ok $? "stderr names file and line of each rejected record"
accounting "$TMP/bad"; ok $? "accounting holds with rejected records"
[ "$(json_get "$TMP/bad/stats.json" rejected)" = 3 ] && [ "$(json_get "$TMP/bad/stats.json" removed)" = 1 ] \
  && [ "$(json_get "$TMP/bad/stats.json" blank_lines)" = 1 ]
ok $? "three rejected, one removed, one blank line counted"
python3 -c '
import json,sys
r=[json.loads(l) for l in open(sys.argv[1])]
ok = [x["line"] for x in r]==[2,3,4] and all(x["source"].endswith("bad.jsonl") for x in r) and r[2]["raw"]=="not json at all"
sys.exit(0 if ok else 1)' "$TMP/bad/rejected.jsonl"
ok $? "rejected.jsonl has source, line, reason and raw"

# Over the size cap.
python3 -c 'import json; print(json.dumps({"id":"big","text":"word "*5000})); print(json.dumps({"id":"small","text":"short text"}))' >"$TMP/big.jsonl"
expect_status 3 "a record over --max-record-bytes is rejected" -- "$WINNOW" dedup -q --max-record-bytes 1K -o "$TMP/big" "$TMP/big.jsonl"
grep -q "larger than" "$TMP/big/rejected.jsonl" && accounting "$TMP/big"
ok $? "the oversized record is in rejected.jsonl"

# Truncated gzip: records before the cut are kept, the cut is reported.
python3 -c '
import json
for i in range(2000):
    print(json.dumps({"id": i, "text": "record number %d about the weather in town %d" % (i, i % 97)}))' >"$TMP/many.jsonl"
gzip -c "$TMP/many.jsonl" >"$TMP/many.gz"
size=$(wc -c <"$TMP/many.gz")
head -c $((size / 2)) "$TMP/many.gz" >"$TMP/trunc.gz"
expect_status 3 "truncated .gz: run completes with exit 3" -- "$WINNOW" dedup -q -o "$TMP/trunc" "$TMP/trunc.gz"
accounting "$TMP/trunc" && grep -q "truncated" "$TMP/trunc/rejected.jsonl"
ok $? "truncated .gz: the cut is in rejected.jsonl, the rest accounted for"

# An unreadable input is an error before any output is written.
mkdir -p "$TMP/keep"
"$WINNOW" dedup -q -o "$TMP/keep" "$TMP/small.jsonl"
cp "$TMP/keep/stats.json" "$TMP/stats.before"
expect_status 1 "missing input: exit 1" -- "$WINNOW" dedup -o "$TMP/keep" "$TMP/small.jsonl" "$TMP/nope.jsonl"
grep -q "cannot open '$TMP/nope.jsonl'" "$TMP/err"; ok $? "message names the missing file"
cmp -s "$TMP/keep/stats.json" "$TMP/stats.before" && [ -z "$(ls -A "$TMP/keep" | grep winnow-tmp)" ]
ok $? "previous outputs untouched, no temporary files left"
expect_status 1 "missing input, new dir: exit 1" -- "$WINNOW" dedup -o "$TMP/never" "$TMP/nope.jsonl"
[ ! -e "$TMP/never" ]; ok $? "no output directory created for a missing input"

# A temporary directory left by a run that died is removed by the next
# run. A run holds an flock on its output directory: a second run into the
# same directory meanwhile fails before writing anything.
mkdir -p "$TMP/keep/.winnow-tmp-dead01"
: >"$TMP/keep/.winnow-tmp-dead01/kept.jsonl"
# The marker every temporary directory of winnow holds: only those go.
printf 'winnow temporary directory 1\n' >"$TMP/keep/.winnow-tmp-dead01/.winnow-run"
"$WINNOW" dedup -q -o "$TMP/keep" "$TMP/small.jsonl"
[ ! -e "$TMP/keep/.winnow-tmp-dead01" ]
ok $? "stale temporary directories are removed"
cp "$TMP/keep/stats.json" "$TMP/stats.before"
# The lock is held until released by a file, not for a time: on a busy
# machine the two runs below may take longer than any fixed hold. The holder
# gives up after 120 s only as a hang guard.
rm -f "$TMP/release"
flock "$TMP/keep" sh -c 'i=0; while [ ! -e "$1" ] && [ $i -lt 2400 ]; do
    sleep 0.05; i=$((i + 1)); done' sh "$TMP/release" &
i=0 # wait until the lock is taken (flock -n fails then)
while [ $i -lt 2400 ] && flock -n "$TMP/keep" true; do
    sleep 0.05
    i=$((i + 1))
done
expect_status 1 "output directory in use: exit 1" -- "$WINNOW" dedup -o "$TMP/keep" "$TMP/small.jsonl"
grep -q "in use by another winnow run" "$TMP/err" && cmp -s "$TMP/keep/stats.json" "$TMP/stats.before" \
    && [ -z "$(ls -A "$TMP/keep" | grep winnow-tmp)" ]
ok $? "output directory in use: message, previous outputs untouched"
expect_status 1 "output directory in use: passages too" -- "$WINNOW" passages -o "$TMP/keep" "$TMP/small.jsonl"
touch "$TMP/release"
wait

# Each run's set replaces the whole previous set, whatever command made it:
# no lines.jsonl of an earlier `lines` run beside dedup's stats.json.
"$WINNOW" lines -q -o "$TMP/mixed" "$TMP/small.jsonl" && [ -f "$TMP/mixed/lines.jsonl" ]
ok $? "lines publishes lines.jsonl"
"$WINNOW" dedup -q -o "$TMP/mixed" "$TMP/small.jsonl"
[ ! -e "$TMP/mixed/lines.jsonl" ] && [ -f "$TMP/mixed/clusters.jsonl" ] && accounting "$TMP/mixed"
ok $? "dedup after lines: lines.jsonl removed, dedup's set complete"

# Publishing is several renames, stats.json last. A name that a rename
# could not replace (here removed.jsonl is a non-empty directory) fails the
# run before anything is touched: the previous set stays complete
# (tests/cli/test_outputs.sh has more).
"$WINNOW" dedup -q -o "$TMP/pub" "$TMP/small.jsonl"
rm "$TMP/pub/removed.jsonl"; mkdir -p "$TMP/pub/removed.jsonl/x"
cp "$TMP/pub/stats.json" "$TMP/stats.before"
expect_status 1 "a directory at an output name fails the run" -- "$WINNOW" dedup -q -o "$TMP/pub" "$TMP/small.jsonl"
cmp -s "$TMP/pub/stats.json" "$TMP/stats.before" && ! ls -A "$TMP/pub" | grep -q winnow-tmp
ok $? "a directory at an output name: the old stats.json stays, no temporary files"

# Usage errors.
expect_status 2 "no --output is a usage error" -- "$WINNOW" dedup "$TMP/small.jsonl"
expect_status 2 "unknown option is a usage error" -- "$WINNOW" dedup --frobnicate -o "$TMP/x" "$TMP/small.jsonl"
expect_status 2 "bad threshold is a usage error" -- "$WINNOW" dedup -t 1.5 -o "$TMP/x" "$TMP/small.jsonl"

# Directory of .txt files; ids are relative paths; kept records become JSON.
mkdir -p "$TMP/txt/sub"
python3 - "$TMP/small.jsonl" "$TMP/txt" <<'PY'
import json, sys, os
recs = [json.loads(l) for l in open(sys.argv[1])]
for i, r in enumerate(recs):
    d = sys.argv[2] + ("/sub" if i % 2 else "")
    open(os.path.join(d, r["id"] + ".txt"), "w").write(r["text"])
PY
expect_status 0 "directory input" -- "$WINNOW" dedup -q -o "$TMP/txtout" "$TMP/txt"
python3 - "$TMP/txtout" <<'PY'
import json, sys
d = sys.argv[1]
kept = [json.loads(l) for l in open(d + "/kept.jsonl")]
rem = [json.loads(l) for l in open(d + "/removed.jsonl")]
ids = sorted(r["id"] for r in rem)
ok = ids == ["a3.txt", "sub/a4.txt"] and all("text" in k for k in kept) and len(kept) == 3
sys.exit(0 if ok else 1)
PY
ok $? "directory: relative ids, kept text files written as JSON"

# Generated corpus: determinism across threads, accounting, quality floor.
GEN="$BUILD/bench/gen"
if [ -x "$GEN" ]; then
    "$GEN" --seed 7 --docs 3000 --out "$TMP/gen.jsonl" --truth "$TMP/gen-truth.jsonl" 2>/dev/null
    "$WINNOW" dedup -q -j 1 -o "$TMP/g1" "$TMP/gen.jsonl"; ok $? "generated corpus, 1 thread"
    "$WINNOW" dedup -q -j 2 -o "$TMP/g2" "$TMP/gen.jsonl"; ok $? "generated corpus, 2 threads"
    same_outputs "$TMP/g1" "$TMP/g2"; ok $? "outputs identical for 1 and 2 threads"
    "$WINNOW" dedup -q -j 2 --memory 4M -o "$TMP/g3" "$TMP/gen.jsonl"; ok $? "smallest budget (2M a thread)"
    same_outputs "$TMP/g1" "$TMP/g3"; ok $? "partitioned join gives identical outputs"
    accounting "$TMP/g1"; ok $? "accounting on the generated corpus"
    # Defaults (threshold 0.8) must never merge different stories; at 0.6
    # nearly every planted republication is found (docs/QUALITY.md).
    "$WINNOW" eval --json --truth "$TMP/gen-truth.jsonl" "$TMP/g1" >"$TMP/ev1"
    "$WINNOW" dedup -q -t 0.6 -o "$TMP/g6" "$TMP/gen.jsonl"
    "$WINNOW" eval --json --truth "$TMP/gen-truth.jsonl" "$TMP/g6" >"$TMP/ev6"
    python3 - "$TMP/ev1" "$TMP/ev6" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))
print("# default: P %.3f R %.3f; -t 0.6: P %.3f R %.3f F1 %.3f" % (
    d["precision"], d["recall"], t["precision"], t["recall"], t["f1"]))
sys.exit(0 if d["precision"] >= 0.99 and d["recall"] >= 0.5
         and t["precision"] >= 0.99 and t["f1"] >= 0.9 else 1)
PY
    ok $? "generated corpus: precision >= 0.99; F1 >= 0.9 at threshold 0.6"
    # The estimate behind every near removal (OPH: the 4-bit fine
    # signature; kperm: 128 values at 16 bits) against the exact Jaccard of
    # the same pair, from `winnow similarity`: unbiased, and no pair off by
    # more than the estimator's spread allows.
    "$WINNOW" dedup -q -t 0.6 --sketch kperm -o "$TMP/g6k" "$TMP/gen.jsonl"
    for run in g6:0.03 g6k:0.045; do
        d=${run%%:*} rms=${run#*:}
        python3 - "$TMP/$d/removed.jsonl" >"$TMP/$d-pairs.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["reason"] == "near":
        print(json.dumps({"id_a": r["id"], "id_b": r["duplicate_of"], "est": r["similarity"]}))
PY
        "$WINNOW" similarity --pairs "$TMP/$d-pairs.jsonl" "$TMP/gen.jsonl" >"$TMP/$d-sim.jsonl"
        python3 - "$TMP/$d-sim.jsonl" "$d" "$rms" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
err = [r["est"] - r["jaccard"] for r in rows]
n = len(err)
mean = sum(err) / n
sd = (sum(e * e for e in err) / n) ** 0.5
worst = max(abs(e) for e in err)
print("# %s: %d near removals at -t 0.6: estimate - exact Jaccard: mean %+.4f, rms %.4f, "
      "worst %.4f" % (sys.argv[2], n, mean, sd, worst))
sys.exit(0 if n >= 100 and abs(mean) < 0.01 and sd < float(sys.argv[3])
         and worst < 4 * float(sys.argv[3]) else 1)
PY
        ok $? "near removals ($d): the verification estimate agrees with the exact Jaccard"
    done
else
    skip "generated corpus" "no generator at $GEN"
fi

# The bundled example corpus: the wire story and its republication form one
# cluster, the case/space copy another, and nothing else is merged.
expect_status 0 "dedup examples/news" -- "$WINNOW" dedup -q -o "$TMP/news" examples/news
"$WINNOW" eval --json --truth examples/news-truth.jsonl "$TMP/news" >"$TMP/news-eval"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["f1"] == 1 and r["ari"] == 1 else 1)' "$TMP/news-eval"
ok $? "examples/news: clusters match examples/news-truth.jsonl exactly"

# Exact verification reads the spilled shingle sets back: the pair's
# similarity is then the exact Jaccard, the same as `winnow similarity`.
expect_status 0 "--verify exact" -- "$WINNOW" dedup -q --verify exact -o "$TMP/vx" examples/news
printf '{"id_a":"a-wire-fishing-talks.txt","id_b":"b-ledger-fishing-talks.txt"}\n' >"$TMP/vx-pair.jsonl"
"$WINNOW" similarity --pairs "$TMP/vx-pair.jsonl" examples/news >"$TMP/vx-sim"
python3 - "$TMP/vx/removed.jsonl" "$TMP/vx-sim" <<'PY'
import json, sys
rem = {r["id"]: r for r in map(json.loads, open(sys.argv[1]))}
sim = json.loads(open(sys.argv[2]).read())
r = rem.get("b-ledger-fishing-talks.txt")
sys.exit(0 if r and abs(r["similarity"] - sim["jaccard"]) < 1e-4 else 1)
PY
ok $? "--verify exact: removed similarity equals the exact Jaccard"
for m in "--method simhash" "--containment" "--sketch kperm" "--tokens char --ngram 8"; do
    # shellcheck disable=SC2086
    "$WINNOW" dedup -q $m -o "$TMP/m" "$TMP/small.jsonl" && accounting "$TMP/m" \
        && grep -q '"a4"' "$TMP/m/removed.jsonl"
    ok $? "dedup $m runs, accounts for every record, removes the exact copy"
done

# The seeds, when present: 000+001 one cluster, 002-004 alone.
SEEDS=${WN_SHARED:-../shared}/seeds
if [ -d "$SEEDS" ]; then
    expect_status 0 "dedup the seeds" -- "$WINNOW" dedup -q -o "$TMP/seeds" "$SEEDS"
    python3 - "$TMP/seeds" <<'PY'
import json, sys
c = [json.loads(l) for l in open(sys.argv[1] + "/clusters.jsonl")]
ok = len(c) == 1 and [m[:3] for m in c[0]["members"]] == ["000", "001"]
sys.exit(0 if ok else 1)
PY
    ok $? "seeds: 000 and 001 clustered, 002, 003, 004 kept apart"
else
    skip "seeds" "$SEEDS is absent"
fi

# BBC news, when present: every exact_dup_group is one cluster, nothing else.
BBC=${WN_SHARED:-../shared}/data/bbc_news/docs.jsonl.zst
if [ -f "$BBC" ]; then
    expect_status 0 "dedup bbc_news --exact-only" -- "$WINNOW" dedup -q --exact-only -o "$TMP/bbc" "$BBC"
    python3 - "$TMP/bbc" "$BBC" <<'PY'
import json, sys, subprocess
d = sys.argv[1]
raw = subprocess.run(["zstdcat", sys.argv[2]],
                     capture_output=True).stdout.decode()
groups = {}
for l in raw.splitlines():
    r = json.loads(l)
    g = r.get("exact_dup_group")
    if g is not None:
        groups.setdefault(g, []).append(r["id"])
want = [sorted(m) for m in groups.values()]
got = [sorted(json.loads(l)["members"]) for l in open(d + "/clusters.jsonl")]
# Every labelled group is exactly one of our clusters. The labels compare
# lowercased, whitespace-collapsed text; winnow also ignores punctuation,
# so it may find more groups: their members must have equal word streams.
import re, unicodedata
text = {json.loads(l)["id"]: json.loads(l)["text"] for l in raw.splitlines()}
def words(t):
    return re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", t).casefold())
extra = [c for c in got if c not in want]
ok = all(w in got for w in want) and all(
    len({tuple(words(text[i])) for i in c}) == 1 for c in extra)
print("# groups", len(want), "clusters", len(got), "extra (punctuation only)", len(extra))
sys.exit(0 if ok else 1)
PY
    ok $? "bbc_news: each exact_dup_group is one cluster; other clusters differ only in punctuation"
else
    skip "bbc_news" "$BBC is absent"
fi

# Pass 2 copies kept records by their offsets when every input is an
# uncompressed JSONL file; the reading pass (WINNOW_TEST_NO_COPY_RANGE=1, a
# hook of -Dtest_hooks=true builds) must
# give the same bytes: CR LF, a byte order mark, blank lines, rejected lines
# between kept ones, duplicates, two inputs, a last line without its line
# feed.
python3 - "$TMP/cr1.jsonl" "$TMP/cr2.jsonl" <<'PY'
import json, sys
story = "the harbour authority said on monday that the new ferry terminal would open in spring after two years of work"
with open(sys.argv[1], "wb") as f:
    f.write(b"\xef\xbb\xbf" + json.dumps({"id": "a1", "text": story}).encode() + b"\r\n")
    f.write(b"\n   \n")
    f.write(json.dumps({"id": "a2", "text": story}).encode() + b"\n")
    f.write(b"{not json}\n")
    for i in range(40):
        f.write(json.dumps({"id": "b%d" % i, "text": "record %d of a run of kept lines about topic %d" % (i, i % 7)}).encode() + b"\n")
    f.write(json.dumps({"id": "a3", "text": story + " officials added"}).encode() + b"\r\n")
with open(sys.argv[2], "wb") as f:
    f.write(json.dumps({"id": "c1", "text": "a second input with its own story about the orchard frost"}).encode() + b"\n")
    f.write(json.dumps({"id": "c2", "text": story}).encode() + b"\n")
    f.write(json.dumps({"id": "c3", "text": "the last record, kept, ends the file without a line feed"}).encode())
PY
if "$WINNOW" --version | grep -q 'test hooks'; then
    "$WINNOW" dedup -q -o "$TMP/cr-copy" "$TMP/cr1.jsonl" "$TMP/cr2.jsonl"
    WINNOW_TEST_NO_COPY_RANGE=1 "$WINNOW" dedup -q -o "$TMP/cr-read" "$TMP/cr1.jsonl" "$TMP/cr2.jsonl"
    same_outputs "$TMP/cr-copy" "$TMP/cr-read" && accounting "$TMP/cr-copy" &&
        [ "$(tail -c 1 "$TMP/cr-copy/kept.jsonl" | od -An -c | tr -d ' ')" = '\n' ] &&
        ! grep -q "$(printf '\357\273\277')" "$TMP/cr-copy/kept.jsonl"
    ok $? "kept records copied by offset equal the reading pass (CR LF, BOM, blank and bad lines, no last LF)"
else
    skip "copy by offset against the reading pass" "this winnow has no test hooks (meson configure -Dtest_hooks=true)"
fi

# --containment: a cut version inside the full story is removed with
# reason "contained" and its containment score beside its Jaccard.
python3 -c '
import json
base = ("the city council voted on tuesday to approve a new budget for the public library "
        "system which will extend opening hours and hire more staff across all branches "
        "in the coming year officials said")
print(json.dumps({"id": "full", "text": base + " and the mayor welcomed the decision while "
      "critics warned about the long term costs of the plan for taxpayers in the region"}))
print(json.dumps({"id": "cut", "text": base}))' >"$TMP/contain.jsonl"
"$WINNOW" dedup -q --profile classic --containment=0.8 -o "$TMP/contain" "$TMP/contain.jsonl"
python3 - "$TMP/contain" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1] + "/removed.jsonl")]
s = json.load(open(sys.argv[1] + "/stats.json"))
sys.exit(0 if len(r) == 1 and r[0]["reason"] == "contained" and r[0]["containment"] == 1.0
         and r[0]["similarity"] < 0.7 and s["removed_contained"] == 1 else 1)
PY
ok $? "containment: reason contained, containment and similarity reported"

# The news rule (--profile news) on the same pair: J 0.5-0.7 and no figures, so
# it is a near copy; with a figure changed in the cut it is not removed
# by near (the figures conflict) and not by contained (a figure of the
# smaller is missing from the larger).
"$WINNOW" dedup -q --profile news -o "$TMP/contain-news" "$TMP/contain.jsonl"
python3 - "$TMP/contain" "$TMP/contain-news" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[2] + "/removed.jsonl")]
sys.exit(0 if len(r) == 1 and r[0]["id"] == "cut" and r[0]["reason"] in ("near", "contained")
         and r[0]["figures"] == "none" else 1)
PY
ok $? "news rule: the cut copy removed, figures none"
python3 -c '
import json
base = ("the city council voted on tuesday to approve a new budget of 4.5 million for the "
        "public library system which will extend opening hours and hire 30 more staff")
print(json.dumps({"id": "full", "text": base + " officials said"}))
print(json.dumps({"id": "cut", "text": base.replace("4.5", "7.25")}))' >"$TMP/contain-fig.jsonl"
"$WINNOW" dedup -q --profile news -o "$TMP/contain-fig" "$TMP/contain-fig.jsonl" &&
    [ ! -s "$TMP/contain-fig/removed.jsonl" ] && accounting "$TMP/contain-fig" &&
    "$WINNOW" dedup -q --profile web -o "$TMP/contain-fig-web" "$TMP/contain-fig.jsonl" &&
    grep -q '"id":"cut"' "$TMP/contain-fig-web/removed.jsonl"
ok $? "news rule: a copy whose figure was replaced is kept (web, no figure test: removed)"

# Duplicate ids and --keep-max values that are missing are counted and
# warned about; a number written as a string counts as a number.
w="one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
printf '%s\n' '{"id":"a","text":"'"$w"'","score":"5"}' \
    '{"id":"a","text":"'"$w"' seventeen","score":9}' \
    '{"id":"c","text":"'"$w"' seventeen"}' >"$TMP/keepmax.jsonl"
"$WINNOW" dedup --keep-max score -o "$TMP/keepmax" "$TMP/keepmax.jsonl" 2>"$TMP/err"
[ "$(json_get "$TMP/keepmax/stats.json" duplicate_ids)" = 1 ] &&
    [ "$(json_get "$TMP/keepmax/stats.json" keep_missing)" = 1 ] &&
    grep -q "1 records share their id" "$TMP/err" &&
    grep -q "keep-max score: 1 records have no numeric value" "$TMP/err"
ok $? "duplicate ids and missing --keep-max values: counted and warned"
python3 - "$TMP/keepmax" <<'PY'
import json, sys
c = [json.loads(l) for l in open(sys.argv[1] + "/clusters.jsonl")]
k = [json.loads(l) for l in open(sys.argv[1] + "/kept.jsonl")]
sys.exit(0 if len(k) == 1 and k[0]["score"] == 9 else 1)
PY
ok $? "--keep-max: the largest value is kept, strings holding numbers count"

done_testing
