#!/bin/sh
# `mpirun -n P winnow dedup` (lib/dist, docs/SCALING.md): for 1, 2 and 4
# ranks the outputs are byte for byte those of one process, on a generated
# corpus split into files and on inputs with rejected records, compressed
# files and a directory of text files; every rank writes its own kept
# records into rank 0's kept.jsonl (lib/dist/kept.c), also a rank with
# none and a rank or range with no records; the news rule's flash and
# anchor pairs across ranks (lib/dist/rulejoin.c) are one process's; a rank
# that dies, also while writing or in the rule's anchor exchange, fails the
# run and publishes nothing, and so do a rank that
# cannot see the output directory and an input changed between a rank's
# two readings; while rank 0 holds (a test hook), the other ranks read all
# their units, their messages waiting in spill files (lib/dist/dist.c,
# struct outbox), with the same outputs, and a rank that dies or SIGTERM
# meanwhile still fails the run with nothing published. Built without MPI, it checks that winnow refuses to
# run under mpirun, and skips the rest; likewise when mpirun is missing.
. "$(dirname "$0")/lib.sh"

# A winnow built with MPI links libmpi.
if ! ldd "$WINNOW" 2>/dev/null | grep -q 'libmpi\.'; then
    # Built without MPI: under mpirun every rank would write the same
    # outputs, so winnow refuses.
    printf '{"id": 1, "text": "one record"}\n' >"$TMP/one.jsonl"
    expect_status 2 "without MPI, a run under mpirun is refused" -- \
        env OMPI_COMM_WORLD_SIZE=2 "$WINNOW" dedup -o "$TMP/refused" "$TMP/one.jsonl"
    grep -q "built without MPI" "$TMP/err" && [ ! -e "$TMP/refused" ]
    ok $? "the refusal says so and writes nothing"
    skip "mpirun runs" "$WINNOW was built without MPI"
    echo "1..$tap_n"; exit 0
fi
if ! command -v mpirun >/dev/null 2>&1; then
    skip "mpirun runs" "mpirun not found (apt-get install openmpi-bin libopenmpi-dev)"
    echo "1..$tap_n"; exit 0
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Quiet Open MPI's help pages; keep the tests on this machine.
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_base_warn_component_unused=0
# Under ASan, Open MPI's own components leak at exit (their frames have no
# symbols once unloaded): leak reports are off for the runs below, and one
# run with them on checks that none names winnow's code.
if nm "$WINNOW" 2>/dev/null | grep -q __asan_init; then
    asan=1
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
else
    asan=0
fi
mpi() { # mpi P ARGS...: winnow under mpirun with P ranks
    p=$1; shift
    mpirun --oversubscribe -n "$p" "$WINNOW" "$@"
}

# A generated corpus (exact and near copies, across files) in 5 parts,
# two of them compressed.
"$BUILD/bench/gen" --seed 7 --bytes 2000000 --out "$TMP/all.jsonl" \
    --truth "$TMP/truth.jsonl" 2>/dev/null
ok $? "generated a corpus"
mkdir -p "$TMP/in"
split -n l/5 -d --additional-suffix=.jsonl "$TMP/all.jsonl" "$TMP/in/part"
gzip "$TMP/in/part01.jsonl"
zstd -q --rm "$TMP/in/part03.jsonl" 2>/dev/null || gzip "$TMP/in/part03.jsonl"
set -- "$TMP"/in/part*
gen_inputs="$*"

# shellcheck disable=SC2086
"$WINNOW" dedup -q -o "$TMP/one" $gen_inputs
ok $? "one process deduplicates the generated corpus"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["removed_near"] > 0 and s["removed_exact"] > 0 else 1)' "$TMP/one/stats.json"
ok $? "the corpus has exact and near duplicates"
for p in 1 2 3 4; do
    # shellcheck disable=SC2086
    expect_status 0 "mpirun -n $p exits 0" -- mpi "$p" dedup -q -o "$TMP/mpi$p" $gen_inputs
    same_outputs "$TMP/one" "$TMP/mpi$p"
    ok $? "$p ranks: outputs byte-identical to one process"
    accounting "$TMP/mpi$p"; ok $? "$p ranks: accounting holds"
    python3 - "$TMP/one/stats.json" "$TMP/mpi$p/stats.json" "$p" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
# join_partitions: under MPI each band is cut into P key ranges, one per
# rank (docs/SCALING.md).
skip = {"seconds", "stage_seconds", "peak_rss_bytes", "threads",
        "join_partitions"}
diff = [k for k in a if k not in skip and a[k] != b.get(k)]
if b["join_partitions"] != int(sys.argv[3]):
    diff.append("join_partitions")
if diff:
    print("# stats differ:", diff)
sys.exit(1 if diff else 0)
PY
    ok $? "$p ranks: stats.json the same but for timings and join_partitions ($p key ranges)"
done
if [ "$asan" -eq 1 ]; then
    # shellcheck disable=SC2086
    ASAN_OPTIONS=detect_leaks=1 mpi 2 dedup -q -o "$TMP/leak" $gen_inputs >/dev/null 2>"$TMP/leaks"
    grep -q "LeakSanitizer" "$TMP/leaks" || echo "# no leak report at all" >&2
    ! grep -E "in wn_|in cmd_|in cli_|in main |/(lib|cli)/[a-z_]+\.c" "$TMP/leaks" >&2
    ok $? "ASan: no leak report under mpirun names winnow's code"
    same_outputs "$TMP/one" "$TMP/leak"
    ok $? "ASan: that run's outputs are the same too"
fi
ls -a "$TMP/mpi4" | grep -q '^\.winnow-tmp' && tmpleft=1 || tmpleft=0
ok $tmpleft "no temporary directory left after a successful MPI run"

# One large uncompressed file is cut into byte ranges at line boundaries,
# one per rank: every rank reads a part of it and none reads all of it.
# The file has blank lines, broken lines and records without an id (their
# id is FILE:LINE) spread through it, so that line numbers, ids and the
# rejected-record messages show that every rank numbers lines as one
# process does.
awk '{ print } NR % 97 == 0 { print "" } NR % 89 == 0 { print "{\"id\": \"broken-" NR "\", \"text\": \"unterminated" }
    NR % 61 == 0 { sub(/"id": *"[^"]*", */, ""); print }' "$TMP/all.jsonl" >"$TMP/big.jsonl"
grep -v '"id"' "$TMP/big.jsonl" | grep -q '"text"'
ok $? "the large file has records without an id"
"$WINNOW" dedup -o "$TMP/big1" "$TMP/big.jsonl" >/dev/null 2>"$TMP/big1.err"
[ $? -eq 3 ]
ok $? "one process: the large file has rejected records (exit 3)"
grep "big.jsonl:[0-9]*:" "$TMP/big1.err" >"$TMP/big1.rej"
total=$(json_get "$TMP/big1/stats.json" read)
for p in 2 3 4; do
    rm -rf "$TMP/bigp"
    mpi "$p" dedup -o "$TMP/bigp" "$TMP/big.jsonl" >/dev/null 2>"$TMP/bigp.err"
    got=$?
    [ "$got" -eq 3 ] && same_outputs "$TMP/big1" "$TMP/bigp" &&
        python3 - "$TMP/big1/stats.json" "$TMP/bigp/stats.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
skip = {"seconds", "stage_seconds", "peak_rss_bytes", "threads",
        "join_partitions"}
diff = [k for k in a if k not in skip and a[k] != b.get(k)]
if diff:
    print("# stats differ:", diff)
sys.exit(1 if diff else 0)
PY
    ok $? "one file cut into $p byte ranges: outputs and stats the same as one process"
    grep "big.jsonl:[0-9]*:" "$TMP/bigp.err" | cmp -s - "$TMP/big1.rej"
    ok $? "one file cut into $p byte ranges: the same rejected-record messages (file:line)"
    # Every rank says how many records it read (-v): each a part, and
    # together all. (Their lines may cut into each other's on stderr, so
    # a run of its own, and the message itself is looked for.)
    mpi "$p" dedup -v -o "$TMP/bigv" "$TMP/big.jsonl" >/dev/null 2>"$TMP/bigp.err"
    grep -o 'MPI rank [0-9]* of [0-9]*: read [0-9]* records' "$TMP/bigp.err" |
        awk -v p="$p" -v total="$total" '{
            r = $7; n++; sum += r; if (r <= 0 || r >= total) bad = 1 }
        END { exit (n == p && sum == total && !bad) ? 0 : 1 }'
    ok $? "one file cut into $p byte ranges: every rank read a part, together all"
done

# Large buckets (more than 16 documents with one key: each member is paired
# with the first and its predecessor only, in document order) are joined
# on the key's owner as one process joins them.
awk 'BEGIN { for (i = 1; i <= 300; i++) printf "{\"id\": \"t%d\", \"text\": \"The city council met on Tuesday evening to discuss the budget for the coming year, and member %d asked about the cost of repairing the old bridge over the river near the market square.\"}\n", i, i % 150 }' >"$TMP/tmpl.jsonl"
"$WINNOW" dedup -q -o "$TMP/tmpl1" "$TMP/tmpl.jsonl"
[ "$(json_get "$TMP/tmpl1/stats.json" large_buckets)" -gt 0 ]
ok $? "the template corpus has large buckets"
for p in 2 3; do
    rm -rf "$TMP/tmplp"
    mpi "$p" dedup -q -o "$TMP/tmplp" "$TMP/tmpl.jsonl" &&
        same_outputs "$TMP/tmpl1" "$TMP/tmplp" &&
        (for k in candidates verified edges large_buckets max_bucket; do
            [ "$(json_get "$TMP/tmpl1/stats.json" $k)" = "$(json_get "$TMP/tmplp/stats.json" $k)" ] || exit 1
        done)
    ok $? "large buckets, $p ranks: the same outputs, candidates and bucket figures"
done
# The same corpus in 3 compressed parts: with 2 ranks rank 0 reads the
# first and the third, rank 1 the second, so a key's entries reach its
# owner as first, third, second part; a large bucket's members must be
# put back in document order before they are paired, or other pairs of
# the same number come out (all these texts are copies, so the outputs
# would not show it: the pairs' digest does, in a -Dtest_hooks=true
# build).
# Texts that differ in one number each: no exact copies, which would
# leave the join.
mkdir -p "$TMP/tmplz"
awk 'BEGIN { for (i = 1; i <= 300; i++) printf "{\"id\": \"u%d\", \"text\": \"The city council met on Tuesday evening to discuss the budget for the coming year, and member %d asked about the cost of repairing the old bridge over the river near the market square.\"}\n", i, i }' >"$TMP/tmplu.jsonl"
split -n l/3 -d --additional-suffix=.jsonl "$TMP/tmplu.jsonl" "$TMP/tmplz/part"
gzip "$TMP"/tmplz/part*.jsonl
digest() { sed -n 's/.*candidate pairs digest \([0-9a-f]*\).*/\1/p' "$1"; }
WINNOW_TEST_PAIRS_DIGEST=1 "$WINNOW" dedup -q -o "$TMP/tmplz1" \
    "$TMP"/tmplz/part*.jsonl.gz 2>"$TMP/tmplz1.err"
hooks=0
[ -n "$(digest "$TMP/tmplz1.err")" ] && hooks=1
for p in 2 3; do
    rm -rf "$TMP/tmplzp"
    WINNOW_TEST_PAIRS_DIGEST=1 mpi "$p" dedup -q -o "$TMP/tmplzp" \
        "$TMP"/tmplz/part*.jsonl.gz 2>"$TMP/tmplzp.err" &&
        same_outputs "$TMP/tmplz1" "$TMP/tmplzp" &&
        (for k in candidates verified edges large_buckets max_bucket; do
            [ "$(json_get "$TMP/tmplz1/stats.json" $k)" = "$(json_get "$TMP/tmplzp/stats.json" $k)" ] || exit 1
        done)
    ok $? "large buckets over 3 compressed parts, $p ranks: the same outputs, candidates and bucket figures"
    if [ "$hooks" = 1 ]; then
        [ "$(digest "$TMP/tmplz1.err")" = "$(digest "$TMP/tmplzp.err")" ]
        ok $? "large buckets over 3 compressed parts, $p ranks: the same candidate pairs as one process"
    else
        skip "large buckets over 3 compressed parts, $p ranks: the same candidate pairs" \
            "a build without -Dtest_hooks=true prints no digest"
    fi
done

# Verification at the owners (lib/dist/verdicts.c): each pair goes to the
# rank that read its first record, which fetches the second's record from
# its owner. Compressed inputs are read whole by rank i % P, so with 2
# ranks v0 and v2 are rank 0's and v1 rank 1's: near copies within rank 0
# (x), within rank 1 (z), from rank 0 to rank 1 (y) and from rank 1 to
# rank 0 (w). The news profile and classic (union-find), 1 to 3 ranks.
body() { # body x|y|z|w: four unrelated texts of 50 to 60 words
    case $1 in
    x) printf 'The regional transport board announced on Thursday that the blue line between the northern suburbs and the old harbour will close for six weeks of repairs starting in May, while replacement buses run every ten minutes during the day and every twenty minutes at night, and officials promised shorter delays.' ;;
    y) printf 'Scientists at the coastal research station reported that the colony of grey seals on the outer islands has doubled in ten years, helped by cleaner water and a ban on fishing nets near the breeding beaches, although storms last winter washed away many of the youngest pups before they could swim.' ;;
    z) printf 'The village library will extend its opening hours from next month, the council said, after volunteers offered to staff the reading room on Saturday afternoons and a local bakery donated money for new shelves, computers and a small corner where children can listen to stories read aloud every week.' ;;
    w) printf 'Engineers testing the new wind turbines on the hill above the quarry found that the blades vibrated more than expected in strong gusts, so the company has delayed connecting them to the grid until a stiffer design arrives from the factory in the spring and passes another round of trials.' ;;
    esac
}
mkdir -p "$TMP/own"
{
    printf '{"id": "x1", "text": "%s"}\n' "$(body x)"
    printf '{"id": "x2", "text": "%s"}\n' "$(body x | sed 's/six weeks/seven weeks/')"
    printf '{"id": "y1", "text": "%s"}\n' "$(body y)"
} | gzip >"$TMP/own/v0.jsonl.gz"
{
    printf '{"id": "z1", "text": "%s"}\n' "$(body z)"
    printf '{"id": "y2", "text": "%s"}\n' "$(body y | sed 's/ten years/eleven years/')"
    printf '{"id": "z2", "text": "%s"}\n' "$(body z | sed 's/next month/next week/')"
    printf '{"id": "w1", "text": "%s"}\n' "$(body w)"
} | gzip >"$TMP/own/v1.jsonl.gz"
printf '{"id": "w2", "text": "%s"}\n' "$(body w | sed 's/the spring/the summer/')" | gzip >"$TMP/own/v2.jsonl.gz"
own="$TMP/own/v0.jsonl.gz $TMP/own/v1.jsonl.gz $TMP/own/v2.jsonl.gz"
for opts in "" "--profile classic --threshold 0.7"; do
    rm -rf "$TMP/own1"
    # shellcheck disable=SC2086
    "$WINNOW" dedup -q $opts -o "$TMP/own1" $own
    [ "$(grep -o '"id": *"[a-z0-9]*"' "$TMP/own1/removed.jsonl" | sed 's/.*"\([a-z0-9]*\)"$/\1/' | sort | tr '\n' ' ')" = "w2 x2 y2 z2 " ]
    ok $? "pairs within and across ranks, options '$opts': one process removes x2, y2, z2, w2"
    for p in 1 2 3; do
        rm -rf "$TMP/ownp"
        # shellcheck disable=SC2086
        mpi "$p" dedup -v $opts -o "$TMP/ownp" $own >/dev/null 2>"$TMP/own.err" &&
            same_outputs "$TMP/own1" "$TMP/ownp" && cmp -s "$TMP/own1/removed.jsonl" "$TMP/ownp/removed.jsonl" &&
            (for k in candidates verified edges removed_near removed_contained clusters; do
                [ "$(json_get "$TMP/own1/stats.json" $k)" = "$(json_get "$TMP/ownp/stats.json" $k)" ] || exit 1
            done)
        ok $? "pairs within and across ranks, options '$opts', $p ranks: the same outputs, similarities and counts"
    done
    # With 2 ranks both fetch a record from the other (y and w) and rank 1
    # sends verdicts; rank 1's sketches carry no signature (its sketch
    # bytes per record are below those of exact verification's old path).
    # shellcheck disable=SC2086
    mpi 2 dedup -v $opts -o "$TMP/ownv" $own >/dev/null 2>"$TMP/own.err"
    grep -o 'MPI rank [01] of 2: .*verdicts=[0-9]*' "$TMP/own.err" | awk '{
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        if (v["vrecs"] <= 0) bad = 1
        if ($3 == "1" && v["verdicts"] <= 0) bad = 1
        n++ } END { exit (n == 2 && !bad) ? 0 : 1 }'
    ok $? "pairs across ranks, options '$opts', 2 ranks: each rank fetched the other's records, rank 1 sent verdicts"
    if [ -z "$opts" ]; then
        # The pair rule keeps the candidate pairs at the owners of their
        # first records: rank 0 sends out only the removals' pairs to be
        # decided again for removed.jsonl (z1-z2 and w1-w2, rank 1's: 8
        # bytes each), and rank 1 sends rank 0 only its two edges (9 bytes
        # each) and those two removals' verdicts (48 bytes each).
        # (A wide build's pairs are 16 bytes.)
        pb=8
        "$WINNOW" --version | grep -q '64-bit document numbers' && pb=16
        grep -q "MPI rank 0 of 2: .* vpairs=$((2 * pb)) " "$TMP/own.err" &&
            grep -q "MPI rank 1 of 2: .* verdicts=$((2 * (pb + 1) + 2 * 48)) " "$TMP/own.err"
        ok $? "pairs across ranks, news, 2 ranks: no candidate pair through rank 0, only the edges to it"
    fi
done
# Exact verification keeps its old path: the shingle sets go to rank 0
# with the sketches, and nothing is fetched.
# shellcheck disable=SC2086
mpi 2 dedup -v --verify exact --containment -o "$TMP/ownx" $own >/dev/null 2>"$TMP/ownx.err"
[ "$(grep -c 'MPI rank [01] of 2: .* vrecs=0 verdicts=0 rule=0;' "$TMP/ownx.err")" -eq 2 ]
ok $? "--verify exact: verified on rank 0 (vrecs=0 verdicts=0 on every rank)"
s_est=$(grep -o 'MPI rank 1 of 2: .*sketches=[0-9]*' "$TMP/own.err" | sed 's/.*sketches=//')
s_full=$(grep -o 'MPI rank 1 of 2: .*sketches=[0-9]*' "$TMP/ownx.err" | sed 's/.*sketches=//')
[ "$s_est" -gt 0 ] && [ "$s_est" -lt "$s_full" ]
ok $? "rank 1 sends rank 0 smaller sketches when verifying at the owners ($s_est < $s_full bytes)"

# Rejected records, a directory of text files, an exact copy across files,
# records without an id, a keep field.
mkdir -p "$TMP/mix/docs/sub"
cat >"$TMP/mix/a.jsonl" <<'J'
{"id": "a1", "n": 3, "text": "The harbour authority said on Monday that the new ferry terminal would open in March, two months later than planned, because of delays in the delivery of the boarding bridges."}
{"id": "a2", "n": 1, "text": "not closed
{"id": "a3", "n": 9, "text": "Farmers in the northern valley expect a smaller apple harvest this year after a late frost damaged blossoms in several orchards along the river."}
{"id": "a4"}
J
printf '{"id": "b1", "n": 5, "text": "the harbour authority said on monday that the new ferry terminal would open in march, two months later than planned, because of delays in the delivery of the boarding bridges."}\n\n{"n": 7, "text": "Farmers in the northern valley expect a smaller apple harvest this year after a late frost damaged blossoms in several orchards along the river, officials said."}\nnot json at all\n' >"$TMP/mix/b.jsonl"
printf 'Farmers in the northern valley expect a smaller apple harvest this year after a late frost damaged blossoms in several orchards along the river.' >"$TMP/mix/docs/apples.txt"
printf 'A short note about \"quotes\" and a tab\there.\n' >"$TMP/mix/docs/sub/note.txt"
printf '\377\376 binary junk\n' >"$TMP/mix/docs/ignored.bin"
printf '{"id": "c1", "text": "The harbour authority said on Monday that the new ferry terminal would open in March."}\n' | gzip >"$TMP/mix/c.jsonl.gz"
mix="$TMP/mix/a.jsonl $TMP/mix/docs $TMP/mix/b.jsonl $TMP/mix/c.jsonl.gz $TMP/mix/docs/sub/note.txt"
for opts in "" "--verify exact --containment" "--exact-only" "--keep-max n" "--keep longest --threshold 0.5" "--method simhash"; do
    # shellcheck disable=SC2086
    "$WINNOW" dedup -q $opts -o "$TMP/mix1" $mix 2>/dev/null
    want=$?
    for p in 2 4; do
        rm -rf "$TMP/mixp"
        # shellcheck disable=SC2086
        mpi "$p" dedup -q $opts -o "$TMP/mixp" $mix >/dev/null 2>&1
        got=$?
        [ "$want" -eq 3 ] && [ "$got" -eq "$want" ] && same_outputs "$TMP/mix1" "$TMP/mixp"
        ok $? "rejected records, text files, gzip, options '$opts', $p ranks: same exit status (3) and outputs"
    done
done
[ "$(wc -l <"$TMP/mix1/rejected.jsonl")" -eq 3 ]
ok $? "the mixed inputs have 3 rejected records"
# shellcheck disable=SC2086
mpi 3 dedup -o "$TMP/mixp" $mix 2>"$TMP/err" >/dev/null
grep -c '^winnow: .*a.jsonl:2' "$TMP/err" >/dev/null
ok $? "a rejected record of another rank is reported on stderr by rank 0"

# shellcheck disable=SC2086
"$WINNOW" dedup -q -o "$TMP/mix0" $mix 2>/dev/null
# shellcheck disable=SC2086
mpi 3 dedup -q -o "$TMP/mixp" $mix >/dev/null 2>&1
[ $? -eq 3 ] && same_outputs "$TMP/mix0" "$TMP/mixp"
ok $? "rejected records, text files, gzip, 3 ranks (the text files on rank 1): same outputs"

# No accepted record's bytes go to rank 0: every rank writes its own kept
# records into rank 0's temporary kept.jsonl (lib/dist/kept.c).
# shellcheck disable=SC2086
mpi 3 dedup -v -o "$TMP/raw0" $gen_inputs >/dev/null 2>"$TMP/raw0.err"
[ "$(grep -o 'MPI rank [0-9]* of 3: read [0-9]* records; sent raw=0 ' "$TMP/raw0.err" | wc -l)" -eq 3 ] &&
    same_outputs "$TMP/one" "$TMP/raw0"
ok $? "3 ranks: no rank sends raw record bytes (raw=0 on every -v line), same outputs"

# A rank with no kept record, ranks and ranges with no record at all: the
# originals (gzip, read whole by rank 0), their exact copies (gzip, read
# whole by rank 1: all removed), an empty file and a one-line file (cut
# into P ranges, all but one empty), a text file (rank 4 % P) and an empty
# gzip file (rank 5 % P). With 2 ranks rank 1 keeps nothing; with 3 rank 2
# and with 4 ranks 2 and 3 read no record.
mkdir -p "$TMP/own"
head -n 40 "$TMP/all.jsonl" | gzip >"$TMP/own/orig.jsonl.gz"
head -n 40 "$TMP/all.jsonl" | sed 's/"id":"/"id":"copy-/' | gzip >"$TMP/own/copies.jsonl.gz"
: >"$TMP/own/empty.jsonl"
printf '{"id": "single", "text": "One record alone in its file, read by the rank of its line."}\n' >"$TMP/own/one.jsonl"
printf 'A text file read whole by one rank, with "quotes" and a\ttab.\n' >"$TMP/own/t.txt"
: | gzip >"$TMP/own/empty.jsonl.gz"
own="$TMP/own/orig.jsonl.gz $TMP/own/copies.jsonl.gz $TMP/own/empty.jsonl $TMP/own/one.jsonl $TMP/own/t.txt $TMP/own/empty.jsonl.gz"
# shellcheck disable=SC2086
"$WINNOW" dedup -q -o "$TMP/own1" $own
[ "$(json_get "$TMP/own1/stats.json" removed)" -ge 40 ] && ! grep -q '"id":"copy-' "$TMP/own1/kept.jsonl"
ok $? "the copies are all removed"
for p in 1 2 3 4; do
    rm -rf "$TMP/ownp"
    # shellcheck disable=SC2086
    mpi "$p" dedup -q -o "$TMP/ownp" $own && same_outputs "$TMP/own1" "$TMP/ownp" &&
        accounting "$TMP/ownp"
    ok $? "a rank with no kept record, empty units and ranges, $p ranks: same outputs"
done

# The output directory must be on a file system every rank sees: rank 1
# started in another directory finds no rank 0's temporary kept.jsonl
# under the relative output path, and the run fails, saying so.
mkdir -p "$TMP/wd0" "$TMP/wd1"
wabs=$(cd "$(dirname "$WINNOW")" && pwd)/$(basename "$WINNOW")
# shellcheck disable=SC2086
mpirun --oversubscribe -n 1 -wdir "$TMP/wd0" "$wabs" dedup -q -o out $gen_inputs : \
    -n 1 -wdir "$TMP/wd1" "$wabs" dedup -q -o out $gen_inputs >/dev/null 2>"$TMP/err"
st=$?
[ "$st" -ne 0 ] && [ ! -e "$TMP/wd0/out/kept.jsonl" ] && [ ! -e "$TMP/wd0/out/stats.json" ] &&
    [ ! -e "$TMP/wd1/out" ]
ok $? "a rank that cannot open the output: the run fails ($st), nothing published or created"
grep -q "cannot open 'out/.winnow-tmp-[^/]*/kept.jsonl'" "$TMP/err" &&
    grep -q "file system every rank sees" "$TMP/err"
ok $? "a rank that cannot open the output: the message names the file and the cause"

# Standard input cannot be shared by ranks.
expect_status 2 "standard input under mpirun is refused" -- mpi 2 dedup -o "$TMP/stdin" "$TMP/mix/a.jsonl" -
grep -q "standard input" "$TMP/err"
ok $? "the refusal names standard input"

# The rule's own joins across ranks (lib/dist/rulejoin.c): flashes whose
# stories another rank read, across a flash block's edge (documents 2047
# and 2048) and within one, and a record that holds another's passage
# (found by their shared anchors), on a background of generated news longer
# than one flash block. Both files are cut into byte ranges, so the pairs
# cross ranks for every P (with the lead words pushed to the flash block's
# owner, or the anchor pairs settled at the first document's owner, left
# out, these outputs differ). The outputs and the join's counts are one
# process's; every rank sends rule traffic (word counts, lead words pushed
# to the blocks' owners, anchors by key range), and what rank 1 sends rank
# 0 of a sketch is its header and core alone (no lead words or anchors).
"$BUILD/bench/gen" --seed 7 --bytes 4000000 --out "$TMP/bg.jsonl" \
    --truth "$TMP/bgt.jsonl" 2>/dev/null
python3 - "$TMP/bg.jsonl" "$TMP/rule" <<'PY'
import json, os, random, sys
random.seed(5)
bg = open(sys.argv[1]).read().splitlines()
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
syl = ["ka", "lo", "mi", "ren", "tas", "vor", "quin", "del", "fra", "zu",
       "bel", "tor", "nix", "pra", "sol", "gan", "wex", "hul"]
def word():
    return "".join(random.choice(syl) for _ in range(random.randint(2, 4)))
def sentence(n):
    return " ".join(word() for _ in range(n)) + "."
def rec(i, t):
    return json.dumps({"id": i, "text": t})
def story():
    lead = [word() for _ in range(14)]
    return lead, " ".join(lead) + ". " + " ".join(sentence(15) for _ in range(12))
lead1, story1 = story()
lead2, story2 = story()
passage = " ".join(sentence(16) for _ in range(18))
x = " ".join(sentence(16) for _ in range(30)) + " " + passage + " " + \
    " ".join(sentence(16) for _ in range(20))
y = sentence(12) + " " + passage + " " + sentence(10)
# A flash holds its story's lead words in another order: no shingle in
# common, so only the flash join finds the pair.
a = bg[:2045] + [rec("flash1", "URGENT " + " ".join(reversed(lead1[:12]))),
                 rec("story2", story2), rec("X", x)]
b = [rec("story1", story1),
     rec("flash2", "FLASH " + " ".join(reversed(lead2[:12]))),
     rec("Y", y)] + bg[2045:]
open(out + "/a.jsonl", "w").write("\n".join(a) + "\n")
open(out + "/b.jsonl", "w").write("\n".join(b) + "\n")
PY
ok $? "made the flash and anchor corpus"
"$WINNOW" dedup -q -o "$TMP/rule1" "$TMP/rule/a.jsonl" "$TMP/rule/b.jsonl"
grep -q '"id":"flash1","duplicate_of":"story1".*"reason":"flash"' "$TMP/rule1/removed.jsonl" &&
    grep -q '"id":"flash2","duplicate_of":"story2".*"reason":"flash"' "$TMP/rule1/removed.jsonl" &&
    grep -q '"id":"Y","duplicate_of":"X".*"reason":"contained"' "$TMP/rule1/removed.jsonl"
ok $? "one process removes both flashes (flash) and the record inside another (contained)"
for p in 2 3 4; do
    rm -rf "$TMP/rulep"
    mpi "$p" dedup -v -o "$TMP/rulep" "$TMP/rule/a.jsonl" "$TMP/rule/b.jsonl" \
        >/dev/null 2>"$TMP/rule.err" &&
        same_outputs "$TMP/rule1" "$TMP/rulep" &&
        (for k in candidates verified edges removed_near removed_contained clusters; do
            [ "$(json_get "$TMP/rule1/stats.json" $k)" = "$(json_get "$TMP/rulep/stats.json" $k)" ] || exit 1
        done)
    ok $? "flashes and anchors across ranks, $p ranks: the same outputs and counts"
    grep -o 'MPI rank [0-9]* of [0-9]*: read [0-9]* records; sent [^;]*' "$TMP/rule.err" | awk -v p="$p" '{
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        if (v["rule"] <= 0) bad = 1
        if ($3 != "0" && v["sketches"] > 68 * $7) bad = 1
        n++ } END { exit (n == p && !bad) ? 0 : 1 }'
    ok $? "flashes and anchors across ranks, $p ranks: every rank joined its share, sketches of header and core only"
done

# A rank that dies: the run fails, nothing is published, and a previous
# output set is left as it was.
if "$WINNOW" --version | grep -q 'test hooks'; then
    # shellcheck disable=SC2086
    for die in 1 0; do
        rm -rf "$TMP/dead"
        WINNOW_TEST_MPI_DIE_RANK=$die mpi 2 dedup -q -o "$TMP/dead" $gen_inputs >/dev/null 2>"$TMP/err"
        st=$?
        [ "$st" -ne 0 ]
        ok $? "rank $die killed: mpirun exits non-zero ($st)"
        [ ! -e "$TMP/dead/kept.jsonl" ] && [ ! -e "$TMP/dead/stats.json" ]
        ok $? "rank $die killed: nothing published"
    done
    # A rank that dies while writing its kept records into rank 0's file.
    for die in 1 0; do
        rm -rf "$TMP/dead"
        # shellcheck disable=SC2086
        WINNOW_TEST_MPI_DIE_WRITE=$die mpi 2 dedup -q -o "$TMP/dead" $gen_inputs >/dev/null 2>"$TMP/err"
        st=$?
        [ "$st" -ne 0 ] && [ ! -e "$TMP/dead/kept.jsonl" ] && [ ! -e "$TMP/dead/stats.json" ]
        ok $? "rank $die killed while writing kept.jsonl: mpirun exits non-zero ($st), nothing published"
    done
    # An input that changes between a rank's two readings of it (every rank
    # waits at a gate before its second): the run fails, naming the input,
    # and publishes nothing. One byte of the last record, in rank 1's half
    # of the file, is changed in place (same size).
    cp "$TMP/all.jsonl" "$TMP/chg.jsonl"
    rm -rf "$TMP/chg"
    WINNOW_TEST_MPI_WRITE_GATE="$TMP/gate" mpi 2 dedup -q -o "$TMP/chg" "$TMP/chg.jsonl" >/dev/null 2>"$TMP/err" &
    pid=$!
    n=0
    while { [ ! -e "$TMP/gate.0.ready" ] || [ ! -e "$TMP/gate.1.ready" ]; } && [ $n -lt 600 ]; do
        sleep 0.1; n=$((n + 1)) # a hang guard of a minute
    done
    python3 - "$TMP/chg.jsonl" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
i = b.rindex(b'"text":"') + 8
b[i] = ord("X") if b[i] != ord("X") else ord("Y")
with open(p, "r+b") as f:
    f.write(b)
PY
    touch "$TMP/gate.go"
    wait "$pid"
    st=$?
    [ "$st" -ne 0 ] && [ ! -e "$TMP/chg/kept.jsonl" ] && [ ! -e "$TMP/chg/stats.json" ] &&
        grep -q "chg.jsonl: an input changed between the two passes" "$TMP/err"
    ok $? "an input changed between a rank's two readings: the run fails ($st), naming it, nothing published"
    # A rank that dies in the key exchange, the others waiting in it.
    for die in 1 0; do
        rm -rf "$TMP/dead"
        # shellcheck disable=SC2086
        WINNOW_TEST_MPI_DIE_JOIN=$die mpi 3 dedup -q -o "$TMP/dead" $gen_inputs >/dev/null 2>"$TMP/err"
        st=$?
        [ "$st" -ne 0 ] && [ ! -e "$TMP/dead/kept.jsonl" ] && [ ! -e "$TMP/dead/stats.json" ]
        ok $? "rank $die killed in the key exchange: mpirun exits non-zero ($st), nothing published"
    done
    # A rank that dies in the verification exchange (its first round), the
    # others waiting in it: the run fails and publishes nothing.
    for die in 2 1 0; do
        rm -rf "$TMP/dead"
        # shellcheck disable=SC2086
        WINNOW_TEST_MPI_DIE_VERIFY=$die mpi 3 dedup -q -o "$TMP/dead" $gen_inputs >/dev/null 2>"$TMP/err"
        st=$?
        [ "$st" -ne 0 ] && [ ! -e "$TMP/dead/kept.jsonl" ] && [ ! -e "$TMP/dead/stats.json" ] &&
            grep -qi "rank $die .*signal 9\|rank $die .*killed\|exited on signal 9" "$TMP/err"
        ok $? "rank $die killed in the verification exchange: mpirun exits non-zero ($st), says so, nothing published"
    done
    # A rank that dies as the rule's anchor exchange starts, the others in
    # or on their way to its first collective.
    for die in 1 0; do
        rm -rf "$TMP/dead"
        WINNOW_TEST_MPI_DIE_RULE=$die mpi 2 dedup -q -o "$TMP/dead" "$TMP/rule/a.jsonl" \
            "$TMP/rule/b.jsonl" >/dev/null 2>"$TMP/err"
        st=$?
        [ "$st" -ne 0 ] && [ ! -e "$TMP/dead/kept.jsonl" ] && [ ! -e "$TMP/dead/stats.json" ] &&
            grep -qi "rank $die .*signal 9\|rank $die .*killed\|exited on signal 9" "$TMP/err"
        ok $? "rank $die killed in the rule's anchor exchange: mpirun exits non-zero ($st), says so, nothing published"
    done
    cp -r "$TMP/rule1" "$TMP/prevr"
    WINNOW_TEST_MPI_DIE_RULE=1 mpi 3 dedup -q -o "$TMP/prevr" "$TMP/rule/a.jsonl" \
        "$TMP/rule/b.jsonl" >/dev/null 2>&1
    [ $? -ne 0 ] && same_outputs "$TMP/rule1" "$TMP/prevr" && cmp -s "$TMP/rule1/stats.json" "$TMP/prevr/stats.json"
    ok $? "rank killed in the rule's joins: the previous outputs are left as they were"
    cp -r "$TMP/one" "$TMP/prev"
    # shellcheck disable=SC2086
    WINNOW_TEST_MPI_DIE_RANK=1 mpi 2 dedup -q -o "$TMP/prev" $gen_inputs >/dev/null 2>&1
    [ $? -ne 0 ] && same_outputs "$TMP/one" "$TMP/prev" && cmp -s "$TMP/one/stats.json" "$TMP/prev/stats.json"
    ok $? "rank killed: the previous outputs are left as they were"
    # Ranks started with different options (mpirun's MPMD form): their
    # sketches reach rank 0 without the sketcher's id, so every rank checks
    # the others' at the start of the exact stage; the run fails, nothing
    # published.
    rm -rf "$TMP/mixed"
    # shellcheck disable=SC2086
    mpirun --oversubscribe -n 1 "$WINNOW" dedup -q --exact-only -o "$TMP/mixed" $gen_inputs : \
        -n 1 "$WINNOW" dedup -q -o "$TMP/mixed" $gen_inputs >/dev/null 2>"$TMP/err"
    st=$?
    [ "$st" -ne 0 ] && [ ! -e "$TMP/mixed/kept.jsonl" ] && [ ! -e "$TMP/mixed/stats.json" ] &&
        grep -q "invalid combination of options" "$TMP/err"
    ok $? "ranks with different options: the run fails ($st), says so, nothing published"
    # A rank other than 0 reads at full speed whatever rank 0 does (issue
    # 17): rank 0 holds 3 seconds before it takes another rank's first
    # message, and each other rank meanwhile reads all its units, its
    # messages (small ones here, 1 KiB: many of them, as a record's entry
    # is some 30 bytes) going to its spill file
    # until rank 0 takes them, in order (lib/dist/dist.c, struct outbox).
    # Each rank logs how many messages it made, how many of them went
    # through the spill, and how long it read.
    for p in 2 3; do
        rm -rf "$TMP/held" "$TMP/outbox".*
        # shellcheck disable=SC2086
        WINNOW_TEST_MPI_HOLD_MS=3000 WINNOW_TEST_MPI_MESSAGE_BYTES=1024 \
            WINNOW_TEST_MPI_OUTBOX_LOG="$TMP/outbox" \
            mpi "$p" dedup -q -o "$TMP/held" $gen_inputs >/dev/null 2>"$TMP/err" &&
            same_outputs "$TMP/one" "$TMP/held"
        ok $? "$p ranks, rank 0 holding: outputs byte-identical to one process"
        cat "$TMP/outbox".* 2>/dev/null | sed 's/^/# /'
        [ "$(cat "$TMP/outbox".* 2>/dev/null | wc -l)" -eq $((p - 1)) ] &&
            cat "$TMP/outbox".* | tr ' =' '\n ' | awk '
                $1 == "messages" { m = $2 } $1 == "spilled" { s = $2 }
                $1 == "read_seconds" { n++; if (m < 5 || 2 * s < m || $2 >= 3) bad = 1 }
                END { exit (n > 0 && !bad) ? 0 : 1 }'
        ok $? "$p ranks, rank 0 holding: every other rank read all its units meanwhile, its messages through its spill file"
    done
    # A rank that dies with messages in its spill file, or rank 0 dying at
    # its first take while the others have a backlog: the run fails and
    # publishes nothing.
    for die in 1 0; do
        rm -rf "$TMP/dead"
        # shellcheck disable=SC2086
        WINNOW_TEST_MPI_HOLD_MS=1000 WINNOW_TEST_MPI_MESSAGE_BYTES=1024 \
            WINNOW_TEST_MPI_DIE_RANK=$die mpi 2 dedup -q -o "$TMP/dead" $gen_inputs >/dev/null 2>"$TMP/err"
        st=$?
        [ "$st" -ne 0 ] && [ ! -e "$TMP/dead/kept.jsonl" ] && [ ! -e "$TMP/dead/stats.json" ]
        ok $? "rank $die killed, the others' messages waiting in their spill files: mpirun exits non-zero ($st), nothing published"
    done
    # SIGTERM to mpirun (itself, not a subshell around it) while rank 0
    # holds and rank 1, done reading, waits for it to take its messages:
    # every rank stops well before the hold ends, nothing published.
    rm -rf "$TMP/term" "$TMP/outbox".*
    # shellcheck disable=SC2086
    WINNOW_TEST_MPI_HOLD_MS=60000 WINNOW_TEST_MPI_MESSAGE_BYTES=1024 \
        WINNOW_TEST_MPI_OUTBOX_LOG="$TMP/outbox" \
        mpirun --oversubscribe -n 2 "$WINNOW" dedup -q -o "$TMP/term" $gen_inputs >/dev/null 2>"$TMP/err" &
    pid=$!
    n=0
    while [ ! -e "$TMP/outbox.1" ] && [ $n -lt 300 ]; do
        sleep 0.1; n=$((n + 1)) # rank 1 has read its units (a guard of 30 s)
    done
    sleep 0.5
    kill -TERM "$pid"
    n=0
    while kill -0 "$pid" 2>/dev/null && [ $n -lt 300 ]; do
        sleep 0.1; n=$((n + 1)) # a hang guard of 30 seconds
    done
    kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; n=-1; }
    wait "$pid"
    st=$?
    [ "$n" -ge 0 ] && [ "$st" -ne 0 ] && [ ! -e "$TMP/term/kept.jsonl" ] && [ ! -e "$TMP/term/stats.json" ] &&
        ! pgrep -f "dedup -q -o $TMP/term" >/dev/null
    ok $? "SIGTERM while rank 0 holds and rank 1 waits on its messages: the run stops ($st, $n tenths of a second), nothing published"
else
    skip "a rank that dies" "this winnow has no test hooks (meson configure -Dtest_hooks=true)"
fi

# The rule's anchor join in several key-range groups: with the
# smallest --memory each rank's anchors of 24 MB of generated news are
# joined in 2 groups for 2 and 3 ranks, every group reading the rank's
# anchors again and keeping the entries of its own key ranges (the group
# found by a multiplication, the radix scratch kept across groups:
# lib/dist/rulejoin.c). The outputs and the join's counts are one
# process's with the same budget.
"$BUILD/bench/gen" --seed 7 --bytes 24000000 --out "$TMP/grp.jsonl" \
    --truth "$TMP/grpt.jsonl" 2>/dev/null &&
    "$WINNOW" dedup -q -j 1 --memory 2M -o "$TMP/grp1" "$TMP/grp.jsonl"
ok $? "one process, 24 MB of news, --memory 2M"
for p in 2 3; do
    rm -rf "$TMP/grpp"
    mpi "$p" dedup -q -j 1 --memory 2M -o "$TMP/grpp" "$TMP/grp.jsonl" &&
        same_outputs "$TMP/grp1" "$TMP/grpp" &&
        (for k in candidates verified edges removed_near removed_contained clusters; do
            [ "$(json_get "$TMP/grp1/stats.json" $k)" = "$(json_get "$TMP/grpp/stats.json" $k)" ] || exit 1
        done)
    ok $? "anchors joined in groups, $p ranks: the same outputs and counts"
done

echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
