#!/bin/sh
# Run the whole suite for one or more build directories: every unit-test
# binary (cmocka, TAP output) and every CLI test script (TAP). Prints each
# failing check, a line per program, and closes with "N passed, N failed".
# Exit status 0 only when nothing failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || set -- build
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() { # name, then the TAP stream in $log; exit status in $2
    # cmocka reports a skipped test as "not ok N # SKIP ..."; in TAP a
    # SKIP directive makes it a skip, not a failure (on a machine without
    # ../shared the seed tests skip so).
    p=$(grep -Ec '^ok |^not ok [0-9]* *# SKIP' "$log")
    f=$(grep '^not ok ' "$log" | grep -Evc '^not ok [0-9]* *# SKIP')
    if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1 # a crash or a non-zero exit counts as a failure
        echo "not ok - $1 exited with status $2"
    fi
    grep '^not ok ' "$log" | grep -Ev '^not ok [0-9]* *# SKIP' | sed "s|^|  $1: |"
    if [ "$f" -ne 0 ]; then
        sed -n '1,200p' "$log" | grep -v '^ok ' | sed 's/^/    | /' | head -60
    fi
    echo "$1: $p passed, $f failed"
    passed=$((passed + p))
    failed=$((failed + f))
}

for b in "$@"; do
    bdir=$(cd "$b" && pwd)
    units=0
    for t in "$bdir"/tests/test_*; do
        [ -f "$t" ] && [ -x "$t" ] || continue
        units=$((units + 1))
        name="$(basename "$b")/$(basename "$t")"
        (cd "$top" && CMOCKA_MESSAGE_OUTPUT=TAP "$t") >"$log" 2>&1
        count "$name" $?
    done
    if [ "$units" -eq 0 ]; then
        # A build configured without cmocka (-Dtests=auto) has none: the
        # suite is not run, and that is a failure, not a pass.
        echo "not ok - $(basename "$b"): no unit-test binary (configure with -Dtests=enabled)"
        failed=$((failed + 1))
    fi
    for s in "$top"/tests/cli/test_*.sh; do
        [ -f "$s" ] || continue
        name="$(basename "$b")/cli/$(basename "$s" .sh)"
        (cd "$top" && WINNOW="$bdir/winnow" BUILD="$bdir" sh "$s") >"$log" 2>&1
        count "$name" $?
    done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
