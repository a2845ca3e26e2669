#!/bin/sh
# How a rank reads the verification records it serves (lib/dist/verdicts.c,
# docs/SCALING.md "Reading the records"): through a mapping of its spill at
# the default budget, with pread when the spill is larger than half of
# --memory. Both give one process's outputs, byte for byte, with 2 and 3
# ranks on one file cut into byte ranges. Skips without MPI or mpirun
# (tests/cli/test_mpi.sh checks the refusal of a build without MPI).
. "$(dirname "$0")/lib.sh"

if ! ldd "$WINNOW" 2>/dev/null | grep -q 'libmpi\.'; then
    skip "reads of the verification records under mpirun" \
        "$WINNOW was built without MPI"
    done_testing
fi
if ! command -v mpirun >/dev/null 2>&1; then
    skip "reads of the verification records under mpirun" \
        "mpirun not found (apt-get install openmpi-bin libopenmpi-dev)"
    done_testing
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_base_warn_component_unused=0
if nm "$WINNOW" 2>/dev/null | grep -q __asan_init; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi

# About 6,400 records of about 1.9 KB: with 2 or 3 ranks each rank's
# verification spill (588 bytes a record) is over 1 MiB, half of
# --memory 2M, so that budget makes every rank read with pread.
"$BUILD/bench/gen" --seed 11 --bytes 12000000 --out "$TMP/all.jsonl" \
    --truth "$TMP/truth.jsonl" 2>/dev/null
ok $? "generated a corpus of 12 MB"
n=$(wc -l <"$TMP/all.jsonl")
[ "$n" -gt 5000 ]
ok $? "it has over 5,000 records ($n): over 1 MiB of records per rank"

expect_status 0 "one process" -- \
    "$WINNOW" dedup -j 1 -q -o "$TMP/one" "$TMP/all.jsonl"
[ "$(json_get "$TMP/one/stats.json" removed)" -gt 0 ]
ok $? "one process removes near copies (the verification has pairs to read)"

for p in 2 3; do
    expect_status 0 "$p ranks at the default budget (records mapped)" -- \
        mpirun --oversubscribe -n "$p" "$WINNOW" dedup -j 1 -q \
        -o "$TMP/map$p" "$TMP/all.jsonl"
    same_outputs "$TMP/one" "$TMP/map$p"
    ok $? "$p ranks, records mapped: one process's outputs"
    expect_status 0 "$p ranks under --memory 2M (records read with pread)" -- \
        mpirun --oversubscribe -n "$p" "$WINNOW" dedup -j 1 -q --memory 2M \
        -o "$TMP/pread$p" "$TMP/all.jsonl"
    same_outputs "$TMP/one" "$TMP/pread$p"
    ok $? "$p ranks, records read with pread: one process's outputs"
    for k in candidates verified edges; do
        [ "$(json_get "$TMP/one/stats.json" "$k")" = \
            "$(json_get "$TMP/pread$p/stats.json" "$k")" ] &&
            [ "$(json_get "$TMP/one/stats.json" "$k")" = \
                "$(json_get "$TMP/map$p/stats.json" "$k")" ]
        ok $? "$p ranks: $k as in one process, both ways"
    done
done
done_testing
