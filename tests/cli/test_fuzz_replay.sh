#!/bin/sh
# Replay every fuzz target's saved corpus (fuzz/corpus/<target>/: seeds,
# inputs found by fuzzing, and each past finding as a regression input)
# through $BUILD/fuzz/replay_<target>. One TAP line per target; a failed
# check in a target aborts its driver, which fails the line and shows the
# input it was running.
. "$(dirname "$0")/lib.sh"

for t in jsonl stream text options eval; do
    drv="$BUILD/fuzz/replay_$t"
    corpus="fuzz/corpus/$t"
    if [ ! -x "$drv" ]; then
        echo "# $drv is missing: the top-level meson.build needs subdir('fuzz')"
        ok 1 "replay $t corpus"
        continue
    fi
    n=$(ls "$corpus" | wc -l)
    "$drv" "$corpus" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "# replay_$t exited with status $rc; last input and message:"
        grep '^replay:' "$TMP/err" | tail -1 | sed 's/^/#   /'
        grep -v '^replay:' "$TMP/err" | grep -iE 'check failed|error|sanitizer' \
            | head -5 | sed 's/^/#   /'
    fi
    [ "$rc" -eq 0 ] && grep -q "^$n inputs replayed" "$TMP/out"
    ok $? "replay $t corpus ($n inputs)"
done
done_testing
