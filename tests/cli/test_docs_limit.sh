#!/bin/sh
# The per-process limit on records (issue 17; lib/common/docno.c,
# docs/SCALING.md "Document numbers"): a run with more accepted records
# than one process numbers fails with status 1, a message that says the
# limit and the build option past it (-Dwide_docs=true, in a build with
# 32-bit document numbers), and publishes nothing: a previous run's outputs
# stay as they were. The limit is lowered by WINNOW_TEST_DOCS_MAX, a hook of
# -Dtest_hooks=true builds, so no 4 billion records are needed. Prints TAP.
. "$(dirname "$0")/lib.sh"

if ! "$WINNOW" --version | grep -q 'test hooks'; then
    skip "the record limit" "this winnow has no test hooks (meson configure -Dtest_hooks=true)"
    done_testing
fi
wide=0
"$WINNOW" --version | grep -q '64-bit document numbers' && wide=1

IN="$TMP/in.jsonl"
python3 - "$IN" <<'PY'
import sys
with open(sys.argv[1], "w") as out:
    for i in range(40):
        out.write('{"id":"r%d","text":"story %d of the corpus, told %s"}\n'
                  % (i, i % 30, "once" if i < 30 else "again"))
    # Rejected records are read but not numbered: they do not count.
    out.write('{"id":"bad"}\n')
    out.write('not json\n')
PY

# 40 accepted records: a limit of 40 runs as without one (status 3: two
# records were rejected).
expect_status 3 "no limit: run completed" -- "$WINNOW" dedup -q -o "$TMP/free" "$IN"
expect_status 3 "a limit of exactly the accepted records (40): run completed" -- \
    env WINNOW_TEST_DOCS_MAX=40 "$WINNOW" dedup -q -o "$TMP/at" "$IN"
same_outputs "$TMP/free" "$TMP/at"
ok $? "at the limit: outputs byte for byte as without it"

# One record fewer: refused.
cp -r "$TMP/at" "$TMP/prev"
expect_status 1 "a limit of 39: status 1" -- \
    env WINNOW_TEST_DOCS_MAX=39 "$WINNOW" dedup -q -o "$TMP/at" "$IN"
grep -q "more than 39 records for one process" "$TMP/err"
ok $? "the message says the limit"
if [ "$wide" -eq 0 ]; then
    grep -q -- "-Dwide_docs=true" "$TMP/err" && grep -q "docs/SCALING.md" "$TMP/err" &&
        grep -q "32 bits" "$TMP/err"
    ok $? "the message names the build option past it and the docs"
else
    ! grep -q -- "-Dwide_docs=true" "$TMP/err" && grep -q "64 bits" "$TMP/err"
    ok $? "a wide build says its width and names no build option"
fi
grep -q "no output was written" "$TMP/err"
ok $? "the message says nothing was written"
left_as_before "$TMP/prev" "$TMP/at" kept.jsonl removed.jsonl clusters.jsonl \
    rejected.jsonl stats.json
ok $? "the previous outputs are left as they were, no temporary directory"

expect_status 1 "a fresh output directory: status 1" -- \
    env WINNOW_TEST_DOCS_MAX=1 "$WINNOW" dedup -q -o "$TMP/fresh" "$IN"
[ ! -e "$TMP/fresh/kept.jsonl" ] && [ ! -e "$TMP/fresh/stats.json" ] &&
    [ "$(ls -A "$TMP/fresh" 2>/dev/null | grep -c '^\.winnow-tmp-')" -eq 0 ]
ok $? "a fresh output directory: nothing published"

# Under mpirun the ranks share one numbering (rank 0's): the same refusal.
if ldd "$WINNOW" 2>/dev/null | grep -q libmpi && command -v mpirun >/dev/null 2>&1 &&
    ! nm "$WINNOW" 2>/dev/null | grep -q __asan_init; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    export OMPI_MCA_btl=self,vader OMPI_MCA_btl_base_warn_component_unused=0
    WINNOW_TEST_DOCS_MAX=39 mpirun --oversubscribe -x WINNOW_TEST_DOCS_MAX -n 2 \
        "$WINNOW" dedup -q -o "$TMP/mpi" "$IN" >"$TMP/out" 2>"$TMP/err"
    st=$?
    [ "$st" -ne 0 ] && grep -q "more than 39 records for one process" "$TMP/err" &&
        [ ! -e "$TMP/mpi/kept.jsonl" ]
    ok $? "2 MPI ranks: refused with the same message, nothing published"
else
    skip "2 MPI ranks: the same refusal" "no MPI build or mpirun (or a sanitizer build)"
fi
done_testing
