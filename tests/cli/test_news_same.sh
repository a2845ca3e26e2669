#!/bin/sh
# --profile news gives the same outputs whichever way its pairs are verified:
# the blocked verification (windows of the signature spill, lib/dedup/verify.c)
# at its default windows and at windows of a few records (WINNOW_TEST_VERIFY_BLOCK,
# many runs and buckets), against one pair at a time with two
# preads each (WINNOW_TEST_SIMPLE_VERIFY=1, the code before the blocked stage), at -j 1 and
# -j 2; and with the joins' pair lists compacted from a few pairs on
# (WINNOW_TEST_JOIN_COMPACT). Outputs are kept, removed, clusters, rejected and stats.json without
# its timings (and join_partitions, which follows -j). On a generated corpus and, when ../shared is present, on
# Reuters-21578. bench/news_same.sh compares with another commit instead.
. tests/cli/lib.sh

# Both variables are hooks of -Dtest_hooks=true builds (docs/HACKING.md).
if ! "$WINNOW" --version | grep -q 'test hooks'; then
    skip "blocked against simple verification" "this winnow has no test hooks (meson configure -Dtest_hooks=true)"
    done_testing
fi

GEN="$BUILD/bench/gen"

# same_stats DIR1 DIR2: stats.json equal but for times and memory.
same_stats() {
    python3 - "$1/stats.json" "$2/stats.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for s in (a, b):
    for k in ("seconds", "stage_seconds", "peak_rss_bytes"):
        s.pop(k, None)
    s.get("options", {}).pop("threads", None)
    s.pop("join_partitions", None)  # follows the thread count
diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
if diff:
    print("# stats differ:", diff)
sys.exit(1 if diff else 0)
PY
}

# check NAME INPUT: the variants against the simple verification.
check() {
    name=$1 in=$2
    WINNOW_TEST_SIMPLE_VERIFY=1 "$WINNOW" dedup --profile news -j 1 -q \
        -o "$TMP/$name-simple" "$in" >/dev/null 2>&1
    accounting "$TMP/$name-simple"
    ok $? "$name: simple verification accounts for every record"
    removed=$(json_get "$TMP/$name-simple/stats.json" removed_near)
    [ "$removed" -gt 20 ]
    ok $? "$name: near duplicates to compare ($removed)"
    for v in "default -j 1::1" "default -j 2::2" "windows of 3 records:1000:1" \
        "windows of 40 records:13000:2"; do
        label=${v%%:*} rest=${v#*:}
        block=${rest%%:*} j=${rest#*:}
        d="$TMP/$name-$block-$j"
        WINNOW_TEST_VERIFY_BLOCK=$block "$WINNOW" dedup --profile news -j "$j" \
            -q -o "$d" "$in" >/dev/null 2>&1
        same_outputs "$TMP/$name-simple" "$d" &&
            same_stats "$TMP/$name-simple" "$d"
        ok $? "$name: blocked verification, $label: same outputs and stats"
    done
    # The joins' pair lists compacted after every few pairs (at 1 M pairs
    # otherwise: no test input gets there), bands joined in key ranges.
    for j in 1 2; do
        d="$TMP/$name-compact-$j"
        WINNOW_TEST_JOIN_COMPACT=50 "$WINNOW" dedup --profile news -j "$j" \
            --memory $((2 * j))M -q -o "$d" "$in" >/dev/null 2>&1
        same_outputs "$TMP/$name-simple" "$d" &&
            same_stats "$TMP/$name-simple" "$d"
        ok $? "$name: pair lists compacted from 50 pairs on, -j $j: same outputs and stats"
    done
}

if [ -x "$GEN" ]; then
    "$GEN" --seed 7 --bytes 3000000 --out "$TMP/gen.jsonl" 2>/dev/null
    check gen "$TMP/gen.jsonl"
else
    skip "generated corpus" "no $GEN"
fi

REUTERS=${WN_SHARED:-../shared}/data/reuters21578/docs.jsonl.zst
if [ -f "$REUTERS" ]; then
    check reuters "$REUTERS"
else
    skip "reuters" "$REUTERS absent"
fi

done_testing
