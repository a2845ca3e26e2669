#!/bin/sh
# Progress of the long commands (dedup and its stages, dedup --report,
# passages, lines, repeats, index add and check): --progress=0 prints a
# plain line at every report of the library, with the stage, records, MB,
# MB/s, percent and time left when the input size is known; nothing when
# stderr is not a terminal and --progress is not given, nothing with
# --quiet; redrawn in place on a terminal; the outputs do not change.
. "$(dirname "$0")/lib.sh"
case $WINNOW in /*) ;; *) WINNOW=$PWD/$WINNOW ;; esac

# A corpus of a few hundred records (about 300 KB), with copies.
python3 - "$TMP/in.jsonl" <<'PY'
import random, sys
rnd = random.Random(7)
words = ["w%d" % i for i in range(3000)]
with open(sys.argv[1], "w") as f:
    base = [" ".join(rnd.choice(words) for _ in range(150)) for _ in range(200)]
    for i in range(600):
        t = base[i % 200] if i % 3 else base[rnd.randrange(200)] + " x%d" % i
        f.write('{"id":"r%d","text":"Link copied\\n%s"}\n' % (i, t))
PY

# READ_LINE: a read line with every field (the size is known).
READ_LINE='^winnow [a-z ]+: read, [0-9,]+ records, [0-9.]+ of [0-9.]+ MB, [0-9.]+ MB/s, [0-9]+%, [0-9]+:[0-9][0-9] left, [0-9]+ s$'

check_cmd() { # name outdir-or-empty command...
    name=$1
    shift
    "$@" --progress=0 2>"$TMP/prog.err" >/dev/null
    st=$?
    [ $st -eq 0 ] && grep -Eq "$READ_LINE" "$TMP/prog.err" &&
        grep -q "^winnow $name: read, " "$TMP/prog.err"
    r=$?
    [ $r -eq 0 ] || sed 's/^/# /' "$TMP/prog.err" | head -10
    ok $r "$name --progress=0: read lines with records, MB, MB/s, percent, time left"
    "$@" 2>"$TMP/quiet.err" >/dev/null
    ! grep -q "^winnow $name: " "$TMP/quiet.err"
    ok $? "$name: no progress when stderr is not a terminal"
    "$@" -q --progress=0 2>"$TMP/q.err" >/dev/null
    [ ! -s "$TMP/q.err" ]
    ok $? "$name -q --progress=0: nothing on stderr"
}

check_cmd dedup "$WINNOW" dedup -o "$TMP/d" "$TMP/in.jsonl"
# The stages of dedup, in order, after the read.
"$WINNOW" dedup --progress=0 -o "$TMP/d" "$TMP/in.jsonl" 2>"$TMP/st.err"
sed -n 's/^winnow dedup: \([a-z]*\),.*/\1/p' "$TMP/st.err" | uniq |
    tr '\n' ' ' >"$TMP/stages"
[ "$(cat "$TMP/stages")" = "read exact join verify cluster write " ] &&
    grep -Eq '^winnow dedup: verify, [0-9,]+ pairs, [0-9]+ s$' "$TMP/st.err" &&
    grep -Eq '^winnow dedup: write, [0-9,]+ records, [0-9]+ s$' "$TMP/st.err"
r=$?
[ $r -eq 0 ] && echo "# stages: $(cat "$TMP/stages")"
[ $r -eq 0 ] || sed 's/^/# /' "$TMP/st.err" | head -20
ok $r "dedup --progress=0: read, exact, join, verify (pairs), cluster, write"
cp -r "$TMP/d" "$TMP/d-progress"
"$WINNOW" dedup -q -o "$TMP/d" "$TMP/in.jsonl"
same_outputs "$TMP/d" "$TMP/d-progress"
ok $? "dedup: the same outputs with and without --progress"

check_cmd dedup "$WINNOW" dedup --report -o "$TMP/dr" "$TMP/in.jsonl"
check_cmd passages "$WINNOW" passages -o "$TMP/p" "$TMP/in.jsonl"
grep -q "^winnow passages: windows, " "$TMP/prog.err" &&
    grep -q "^winnow passages: write, " "$TMP/prog.err"
ok $? "passages --progress=0: the windows stage and pass 2"
check_cmd lines "$WINNOW" lines -o "$TMP/l" "$TMP/in.jsonl"
grep -q "^winnow lines: count, " "$TMP/prog.err" &&
    grep -q "^winnow lines: write, " "$TMP/prog.err"
ok $? "lines --progress=0: the count stage and pass 2"
check_cmd repeats "$WINNOW" repeats -o "$TMP/r" "$TMP/in.jsonl"
"$WINNOW" index create "$TMP/ix" >/dev/null 2>&1
check_cmd "index add" "$WINNOW" index add --no-sync "$TMP/ix" "$TMP/in.jsonl"
check_cmd "index check" "$WINNOW" index check "$TMP/ix" "$TMP/in.jsonl"

# Standard input: no size, so no percent and no time left.
"$WINNOW" dedup --progress=0 -o "$TMP/s" - <"$TMP/in.jsonl" 2>"$TMP/stdin.err"
grep -Eq '^winnow dedup: read, [0-9,]+ records, [0-9.]+ MB, [0-9.]+ MB/s, [0-9]+ s$' \
    "$TMP/stdin.err" && ! grep -q "%" "$TMP/stdin.err"
ok $? "dedup - --progress=0: standard input has no percent or time left"

# On a terminal: drawn in place (carriage return, erase to the end of the
# line) without --progress, and cleared at the end.
if script -qc "true" /dev/null >/dev/null 2>&1; then
    script -qc "'$WINNOW' dedup -o '$TMP/t' '$TMP/in.jsonl'" /dev/null \
        >"$TMP/tty.txt" 2>&1
    grep -q "$(printf '\r')winnow dedup: read, " "$TMP/tty.txt" &&
        grep -q "$(printf '\033')\[K" "$TMP/tty.txt"
    ok $? "dedup on a terminal: the progress line is redrawn in place"
    script -qc "'$WINNOW' dedup -q -o '$TMP/t' '$TMP/in.jsonl'" /dev/null \
        >"$TMP/tty-q.txt" 2>&1
    ! grep -q "winnow dedup: read, " "$TMP/tty-q.txt"
    ok $? "dedup -q on a terminal: no progress"
else
    skip "dedup on a terminal" "script(1) cannot make a terminal"
    skip "dedup -q on a terminal" "script(1) cannot make a terminal"
fi

expect_status 2 "--progress=abc: usage error" -- \
    "$WINNOW" dedup --progress=abc -o "$TMP/x" "$TMP/in.jsonl"
grep -q "progress=SECONDS" "$TMP/err"
ok $? "--progress=abc: the message names --progress=SECONDS"

echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
