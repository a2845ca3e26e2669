#!/bin/sh
# What a run may touch, and what it says when it cannot write. For every
# command that publishes (dedup, passages, lines, repeats):
#  - publishing replaces or removes only files an earlier winnow publish
#    made (the manifest .winnow-outputs proves it), never an input, never a
#    file of the user's, and a directory or a symbolic link at an output
#    name fails the run before anything is touched;
#  - spill files in --tmp-dir are made exclusively: a symbolic link or a
#    file already there is neither followed, truncated nor removed;
#  - stale .winnow-tmp-* directories are removed only when winnow made them;
#  - the output directory is fsync'ed after the renames (strace, when
#    installed), and its parent when it is created;
#  - every error names the file and the reason (read-only file system,
#    too many open files, an empty -o, a full disk on a small tmpfs).
. "$(dirname "$0")/lib.sh"

python3 -c '
import json
w = ["harbour", "council", "budget", "festival", "ferry", "museum", "rain",
     "school", "market", "bridge", "library", "strike", "station", "river"]
for i in range(300):
    t = " ".join(w[(i * 7 + k * (i % 13 + 1)) % len(w)] for k in range(60))
    print(json.dumps({"id": i, "text": "%s %d" % (t, i % 200)}))' >"$TMP/in.jsonl"
IN="$TMP/in.jsonl"

# ls_sum DIR: every name in DIR (hidden ones too) with its checksum, to see
# that a refused run touched nothing.
ls_sum() {
    (cd "$1" && for f in $(ls -A); do
        if [ -f "$f" ] && [ ! -L "$f" ]; then
            echo "$f $(cksum <"$f")"
        else
            echo "$f $(ls -ld "$f" | cut -c1)"
        fi
    done)
}

# 1. Publishing deletes nothing it did not make -----------------------------

# An input named like another command's output, in the output directory.
mkdir -p "$TMP/d"
head -100 "$IN" >"$TMP/d/lines.jsonl"
cp "$TMP/d/lines.jsonl" "$TMP/lines.copy"
expect_status 0 "dedup -o d d/lines.jsonl: exit 0" -- \
    "$WINNOW" dedup -q -o "$TMP/d" "$TMP/d/lines.jsonl"
cmp -s "$TMP/d/lines.jsonl" "$TMP/lines.copy"
ok $? "dedup -o d d/lines.jsonl: the input is still there, unchanged"
accounting "$TMP/d"; ok $? "dedup -o d d/lines.jsonl: outputs accounted for"

mkdir -p "$TMP/e"
cp "$IN" "$TMP/e/clusters.jsonl"
expect_status 0 "passages -o e e/clusters.jsonl: exit 0" -- \
    "$WINNOW" passages -q -o "$TMP/e" "$TMP/e/clusters.jsonl"
cmp -s "$TMP/e/clusters.jsonl" "$IN"
ok $? "passages -o e e/clusters.jsonl: the input is still there, unchanged"

# A file of the user's at a name no run writes this time, beside a previous
# set: the set is replaced, the user's file stays.
"$WINNOW" dedup -q -o "$TMP/u" "$IN"
echo "my notes" >"$TMP/u/spans.jsonl"
"$WINNOW" lines -q -o "$TMP/u" "$IN"
[ "$(cat "$TMP/u/spans.jsonl")" = "my notes" ]
ok $? "a user's spans.jsonl survives runs of other commands"
[ ! -e "$TMP/u/clusters.jsonl" ] && [ -f "$TMP/u/lines.jsonl" ]
ok $? "the previous command's outputs (clusters.jsonl) are replaced by the new set"
accounting "$TMP/u"; ok $? "lines over dedup: accounted for"

# Each command in turn into one directory: each run's set replaces the
# previous one, since the manifest proves it.
for c in passages lines repeats dedup passages; do
    "$WINNOW" $c -q -o "$TMP/cycle" "$IN" || echo "# $c failed"
done
[ "$(ls "$TMP/cycle" | tr '\n' ' ')" = \
    "kept.jsonl rejected.jsonl removed.jsonl spans.jsonl stats.json " ]
ok $? "five commands in turn into one directory: the last one's set only"

# A directory at an output name: the run fails before touching anything,
# naming it, and the previous set stays complete.
"$WINNOW" dedup -q -o "$TMP/f" "$IN"
rm "$TMP/f/removed.jsonl" && mkdir "$TMP/f/removed.jsonl"
ls_sum "$TMP/f" >"$TMP/f.before"
expect_status 1 "a directory at removed.jsonl: exit 1" -- \
    "$WINNOW" dedup -o "$TMP/f" "$IN"
grep -q "f/removed.jsonl: .*Is a directory" "$TMP/err"
ok $? "a directory at removed.jsonl: the message names it"
ls_sum "$TMP/f" | cmp -s - "$TMP/f.before"
ok $? "a directory at removed.jsonl: nothing touched (stats.json still there)"
for c in passages lines; do
    "$WINNOW" dedup -q -o "$TMP/f$c" "$IN"
    mkdir "$TMP/f$c/kept.jsonl.d" && rm "$TMP/f$c/stats.json" &&
        mkdir "$TMP/f$c/stats.json"
    ls_sum "$TMP/f$c" >"$TMP/f.before"
    "$WINNOW" $c -q -o "$TMP/f$c" "$IN" 2>"$TMP/err"
    [ $? -eq 1 ] && grep -q "stats.json" "$TMP/err" &&
        ls_sum "$TMP/f$c" | cmp -s - "$TMP/f.before"
    ok $? "$c: a directory at stats.json: exit 1, named, nothing touched"
done
rmdir "$TMP/f/removed.jsonl"
expect_status 0 "the directory removed: the next run publishes" -- \
    "$WINNOW" dedup -q -o "$TMP/f" "$IN"
accounting "$TMP/f"; ok $? "the next run: accounted for"

# A file the user made, or changed, at an output name: refused, kept.
mkdir -p "$TMP/g"
echo '{"id":"mine","text":"my own kept file"}' >"$TMP/g/kept.jsonl"
ls_sum "$TMP/g" >"$TMP/g.before"
expect_status 1 "a user's kept.jsonl: exit 1" -- "$WINNOW" dedup -o "$TMP/g" "$IN"
grep -q "g/kept.jsonl: .*not written by winnow" "$TMP/err"
ok $? "a user's kept.jsonl: the message names it"
ls_sum "$TMP/g" | cmp -s - "$TMP/g.before"
ok $? "a user's kept.jsonl: untouched, nothing else made"
"$WINNOW" dedup -q -o "$TMP/h" "$IN"
echo '{"id":"x","text":"appended by hand"}' >>"$TMP/h/kept.jsonl"
cp "$TMP/h/kept.jsonl" "$TMP/h.kept"
expect_status 1 "kept.jsonl changed by hand since the run: exit 1" -- \
    "$WINNOW" dedup -o "$TMP/h" "$IN"
cmp -s "$TMP/h/kept.jsonl" "$TMP/h.kept"; ok $? "the changed kept.jsonl is kept"

# A symbolic link at an output name is refused; its target is untouched.
"$WINNOW" dedup -q -o "$TMP/s" "$IN"
echo "victim" >"$TMP/victim"
rm "$TMP/s/clusters.jsonl" && ln -s "$TMP/victim" "$TMP/s/clusters.jsonl"
expect_status 1 "a symbolic link at clusters.jsonl: exit 1" -- \
    "$WINNOW" dedup -o "$TMP/s" "$IN"
[ -L "$TMP/s/clusters.jsonl" ] && [ "$(cat "$TMP/victim")" = victim ]
ok $? "a symbolic link at clusters.jsonl: link and target untouched"

# A manifest entry proves only the file it describes: a user's spans.jsonl
# listed with another identity is not removed.
"$WINNOW" dedup -q -o "$TMP/m" "$IN"
echo "user data" >"$TMP/m/spans.jsonl"
printf 'spans.jsonl 1 2 10 4.000000005\n' >>"$TMP/m/.winnow-outputs"
expect_status 0 "lines into a directory whose manifest names a user's file" -- \
    "$WINNOW" lines -q -o "$TMP/m" "$IN"
[ "$(cat "$TMP/m/spans.jsonl")" = "user data" ] && [ ! -e "$TMP/m/clusters.jsonl" ]
ok $? "a file the manifest lists with another identity is not removed"

# An input at an output name of the run.
"$WINNOW" dedup -q -o "$TMP/i" "$IN"
cp "$TMP/i/kept.jsonl" "$TMP/i.kept"
expect_status 1 "dedup -o i i/kept.jsonl: exit 1 before writing" -- \
    "$WINNOW" dedup -o "$TMP/i" "$TMP/i/kept.jsonl"
grep -q "i/kept.jsonl: an output would overwrite" "$TMP/err" &&
    cmp -s "$TMP/i/kept.jsonl" "$TMP/i.kept"
ok $? "dedup -o i i/kept.jsonl: named, the input unchanged"
ln "$TMP/i/kept.jsonl" "$TMP/hardlink.jsonl"
expect_status 1 "an input hard-linked to an output name: exit 1" -- \
    "$WINNOW" passages -o "$TMP/i" "$TMP/hardlink.jsonl"
# An earlier output kept when it is an input of a run of another command.
"$WINNOW" dedup -q -o "$TMP/k" "$IN"
cp "$TMP/k/clusters.jsonl" "$TMP/k.clusters"
"$WINNOW" repeats -q -o "$TMP/k" "$TMP/k/clusters.jsonl" "$IN"
cmp -s "$TMP/k/clusters.jsonl" "$TMP/k.clusters"
ok $? "repeats -o k k/clusters.jsonl: the earlier clusters.jsonl is kept"
expect_status 0 "and a later dedup may replace it (still in the manifest)" -- \
    "$WINNOW" dedup -q -o "$TMP/k" "$IN"

# The output directory inside an input directory.
mkdir -p "$TMP/texts"
echo "a text about the harbour" >"$TMP/texts/a.txt"
expect_status 1 "-o inside a directory input: exit 1" -- \
    "$WINNOW" dedup -o "$TMP/texts/out" "$TMP/texts"
[ ! -e "$TMP/texts/out" ] && grep -q "texts/out: an output would" "$TMP/err"
ok $? "-o inside a directory input: named, no directory made"
expect_status 1 "-o the directory input itself: exit 1" -- \
    "$WINNOW" lines -o "$TMP/texts/." "$TMP/texts"

# 2. Spill files are created exclusively -------------------------------------

# spill_case CMD NAME...: symbolic links and a file of the same names in
# --tmp-dir, to a victim each: none followed, truncated or removed.
spill_case() {
    cmd=$1
    shift
    t="$TMP/tmp-$cmd"
    mkdir -p "$t"
    for n in "$@"; do
        echo "victim of $n" >"$TMP/victim-$cmd-$n"
        ln -s "$TMP/victim-$cmd-$n" "$t/$n"
    done
    echo "someone's file" >"$t/$1.keep"
    ln "$t/$1.keep" "$t/other" # a regular file, as well as the links
    ls_sum "$t" >"$TMP/t.before"
    "$WINNOW" $cmd -q --tmp-dir "$t" -o "$TMP/out-$cmd" "$IN"
    st=$?
    bad=0
    for n in "$@"; do
        [ -L "$t/$n" ] && [ "$(cat "$TMP/victim-$cmd-$n")" = "victim of $n" ] ||
            { echo "# $n: link or victim changed"; bad=1; }
    done
    ls_sum "$t" | cmp -s - "$TMP/t.before" || { echo "# $t changed"; bad=1; }
    [ "$st" -eq 0 ] && [ "$bad" -eq 0 ]
    ok $? "$cmd --tmp-dir with links named $*: nothing followed or removed"
    accounting "$TMP/out-$cmd"; ok $? "$cmd --tmp-dir: accounted for"
}
spill_case dedup signatures band-0 band-15
spill_case passages codes token-spans windows
spill_case lines units
# The same with regular files of those names: neither truncated nor removed.
mkdir -p "$TMP/tf"
for n in signatures band-0 codes token-spans windows units; do
    echo "keep $n" >"$TMP/tf/$n"
done
ls_sum "$TMP/tf" >"$TMP/tf.before"
for c in dedup passages lines; do
    "$WINNOW" $c -q --tmp-dir "$TMP/tf" -o "$TMP/tfo-$c" "$IN" ||
        echo "# $c failed"
done
ls_sum "$TMP/tf" | cmp -s - "$TMP/tf.before"
ok $? "files named like spill files in --tmp-dir: untouched"
# Two runs sharing a --tmp-dir at once give what each gives alone.
mkdir -p "$TMP/shared"
"$WINNOW" dedup -q -o "$TMP/alone" "$IN"
"$WINNOW" dedup -q --tmp-dir "$TMP/shared" -o "$TMP/two-a" "$IN" &
"$WINNOW" dedup -q --tmp-dir "$TMP/shared" -o "$TMP/two-b" "$IN"
wait
same_outputs "$TMP/two-a" "$TMP/alone" && same_outputs "$TMP/two-b" "$TMP/alone" &&
    [ -z "$(ls -A "$TMP/shared")" ]
ok $? "two runs sharing --tmp-dir: both as alone, --tmp-dir left empty"

# Stale temporary directories: only winnow's are removed.
"$WINNOW" dedup -q -o "$TMP/st" "$IN"
mkdir -p "$TMP/keepme"
echo "precious" >"$TMP/keepme/kept.jsonl"
ln -s "$TMP/keepme" "$TMP/st/.winnow-tmp-aaaaaa"
mkdir "$TMP/st/.winnow-tmp-bbbbbb"
echo "mine" >"$TMP/st/.winnow-tmp-bbbbbb/kept.jsonl"
"$WINNOW" dedup -q -o "$TMP/st" "$IN"
[ "$(cat "$TMP/keepme/kept.jsonl")" = precious ] &&
    [ -L "$TMP/st/.winnow-tmp-aaaaaa" ] &&
    [ "$(cat "$TMP/st/.winnow-tmp-bbbbbb/kept.jsonl")" = mine ]
ok $? "stale cleanup: a link named .winnow-tmp-*, and a directory winnow did not make, left alone"
rm "$TMP/st/.winnow-tmp-aaaaaa"
rm -r "$TMP/st/.winnow-tmp-bbbbbb"
# A run killed between making its directory and finishing its marker
# leaves it empty, or with a part of the marker: removed too.
mkdir "$TMP/st/.winnow-tmp-cccccc" "$TMP/st/.winnow-tmp-dddddd"
printf 'winnow temp' >"$TMP/st/.winnow-tmp-dddddd/.winnow-run"
mkdir "$TMP/st/.winnow-tmp-eeeeee"
printf 'winnow temp' >"$TMP/st/.winnow-tmp-eeeeee/.winnow-run"
echo "mine" >"$TMP/st/.winnow-tmp-eeeeee/notes"
"$WINNOW" dedup -q -o "$TMP/st" "$IN"
[ ! -e "$TMP/st/.winnow-tmp-cccccc" ] && [ ! -e "$TMP/st/.winnow-tmp-dddddd" ] &&
    [ "$(cat "$TMP/st/.winnow-tmp-eeeeee/notes")" = mine ]
ok $? "stale cleanup: a directory left before its marker was whole is removed, one holding more is not"
rm -r "$TMP/st/.winnow-tmp-eeeeee"
# A real stale directory: a run killed with SIGKILL while it writes.
python3 -c '
import json
for i in range(200000):
    print(json.dumps({"id": i, "text": "record %d of the stale test, words %d %d" % (i, i % 7, i % 11)}))' \
    >"$TMP/many.jsonl"
"$WINNOW" dedup -q -o "$TMP/st" "$TMP/many.jsonl" &
pid=$!
i=0
while [ $i -lt 600 ] && ! ls -A "$TMP/st" | grep -q '^\.winnow-tmp-'; do
    sleep 0.05
    i=$((i + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
n0=$(ls -A "$TMP/st" | grep -c '^\.winnow-tmp-')
"$WINNOW" dedup -q -o "$TMP/st" "$IN"
n1=$(ls -A "$TMP/st" | grep -c '^\.winnow-tmp-')
[ "$n0" -eq 1 ] && [ "$n1" -eq 0 ]
ok $? "stale cleanup: the directory of a killed run is removed ($n0 before, $n1 after)"

# 3. fsync of the output directory ------------------------------------------

if command -v strace >/dev/null 2>&1 &&
    strace -f -o /dev/null true 2>/dev/null; then
    # fsyncs_after_rename LOG DIR: an fsync of DIR follows the last rename
    # into it.
    fsync_after() {
        python3 - "$1" "$2" <<'PY'
import re, sys
log, d = open(sys.argv[1]).read().splitlines(), sys.argv[2]
last_rename = max((i for i, l in enumerate(log)
                   if re.search(r'rename(at2?)?\(.*"%s/[^/"]+"' % re.escape(d), l)
                   and "= 0" in l), default=-1)
fsync = [i for i, l in enumerate(log)
         if re.search(r'fsync\(\d+<%s>\) += 0' % re.escape(d), l)]
sys.exit(0 if last_rename >= 0 and any(i > last_rename for i in fsync) else 1)
PY
    }
    strace -f -y -o "$TMP/strace" -e trace=rename,renameat,renameat2,fsync,mkdir,mkdirat \
        "$WINNOW" dedup -q -o "$TMP/sync/new/out" "$IN"
    od=$(cd "$TMP/sync/new/out" && pwd -P)
    fsync_after "$TMP/strace" "$od"
    ok $? "dedup: the output directory is fsync'ed after the renames"
    grep -Eq "fsync\([0-9]+<$(cd "$TMP/sync/new" && pwd -P)>\) += 0" "$TMP/strace" &&
        grep -Eq "fsync\([0-9]+<$(cd "$TMP/sync" && pwd -P)>\) += 0" "$TMP/strace"
    ok $? "dedup: the parents of the directories it made are fsync'ed"
    strace -f -y -o "$TMP/strace" -e trace=rename,renameat,renameat2,fsync \
        "$WINNOW" passages -q -o "$TMP/sync/new/out" "$IN"
    fsync_after "$TMP/strace" "$od"
    ok $? "passages: the output directory is fsync'ed after the renames"
    strace -f -y -o "$TMP/strace" -e trace=fsync,fdatasync \
        "$WINNOW" dedup -q --no-fsync -o "$TMP/sync/new/out" "$IN"
    ! grep -q 'fsync(' "$TMP/strace"
    ok $? "dedup --no-fsync: no fsync at all"
else
    skip "the output directory is fsync'ed" "strace is not installed"
fi


# 9. Messages name the file and the reason ----------------------------------

expect_status 1 "-o '': exit 1" -- "$WINNOW" dedup -o "" "$IN"
grep -q "cannot open '': No such file or directory" "$TMP/err"
ok $? "-o '': the message says why"
echo "a file" >"$TMP/plainfile"
expect_status 2 "-o a regular file: a usage error" -- "$WINNOW" passages -o "$TMP/plainfile" "$IN"
grep -q "'$TMP/plainfile' exists and is not a directory" "$TMP/err"
ok $? "-o a regular file: named"
expect_status 1 "-o under a regular file: exit 1" -- "$WINNOW" lines -o "$TMP/plainfile/x" "$IN"
grep -q "cannot open '$TMP/plainfile/x': Not a directory" "$TMP/err"
ok $? "-o under a regular file: 'Not a directory'"
# Five descriptors: the second output file cannot be opened. (Not under
# valgrind, which needs descriptors of its own: make test-valgrind.)
[ -n "${WN_VG_BIN:-}" ] && emfile_cmds="" || emfile_cmds="dedup passages lines repeats"
[ -n "$emfile_cmds" ] || skip "too many open files" "under valgrind"
for c in $emfile_cmds; do
    (ulimit -n 5 && exec "$WINNOW" $c -q -o "$TMP/emfile-$c" "$IN") 2>"$TMP/err"
    st=$?
    [ "$st" -eq 1 ] && grep -q "^winnow: $TMP/emfile-$c/[a-z]*.jsonl: Too many open files" "$TMP/err"
    ok $? "$c with 5 file descriptors: exit 1, the file and 'Too many open files' ($(head -1 "$TMP/err"))"
done
# Spill files in --tmp-dir: the file and the reason too.
if [ -n "$emfile_cmds" ]; then
    (ulimit -n 9 && exec "$WINNOW" dedup -q --tmp-dir "$TMP" -o "$TMP/emfile-spill" "$IN") 2>"$TMP/err"
    st=$?
    [ "$st" -eq 1 ] && grep -q "^winnow: cannot open '$TMP/[a-z0-9-]*': Too many open files" "$TMP/err"
    ok $? "dedup --tmp-dir with 9 file descriptors: the spill file and the reason ($(head -1 "$TMP/err"))"
fi

# A read-only file system and a full one: a small tmpfs in a private mount
# namespace, when this user may make one.
if unshare -m sh -c "mount -t tmpfs -o size=1m tmpfs '$TMP' && umount '$TMP'" 2>/dev/null; then
    python3 -c '
import json
for i in range(4000):
    print(json.dumps({"id": i, "text": "\n".join("w%d w%d" % (j * i % 977, j) for j in range(120))}))' \
        >"$TMP/big.jsonl"
    M="$TMP/mnt"
    mkdir -p "$M"
    # in_tmpfs RO|RW SCRIPT: run SCRIPT (sh) with a 1 MiB tmpfs on $M.
    in_tmpfs() {
        unshare -m sh -c "mount -t tmpfs -o size=1m tmpfs '$M' &&
            mkdir -p '$M/t' && echo x >'$M/old' &&
            { [ $1 = RW ] || mount -o remount,ro '$M'; } && $2"
    }
    in_tmpfs RO "'$WINNOW' dedup -o '$M' '$IN'" 2>"$TMP/err"
    [ $? -eq 1 ] && grep -q "^winnow: $M: Read-only file system" "$TMP/err"
    ok $? "read-only output directory: named, 'Read-only file system' ($(head -1 "$TMP/err"))"
    in_tmpfs RO "'$WINNOW' passages -o '$M/new' '$IN'" 2>"$TMP/err"
    [ $? -eq 1 ] && grep -q "^winnow: cannot open '$M/new': Read-only file system" "$TMP/err"
    ok $? "read-only: a new output directory cannot be made: named, reason"
    for c in dedup passages lines repeats; do
        in_tmpfs RW "'$WINNOW' $c -q -o '$M/out' '$TMP/big.jsonl'" 2>"$TMP/err"
        st=$?
        [ "$st" -eq 1 ] && grep -q "^winnow: $M/out[^ ]*: no space left on device" "$TMP/err"
        ok $? "$c on a full disk: exit 1, the path and the reason ($(head -1 "$TMP/err"))"
    done
    for c in dedup passages lines; do
        in_tmpfs RW "'$WINNOW' $c -q --tmp-dir '$M/t' -o '$TMP/full-$c' '$TMP/big.jsonl'; st=\$?; ls -A '$M/t' >'$TMP/left'; exit \$st" 2>"$TMP/err"
        st=$?
        [ "$st" -eq 1 ] && grep -q "^winnow: $M/t[^ ]*: no space left on device" "$TMP/err" &&
            [ ! -s "$TMP/left" ]
        ok $? "$c with a full --tmp-dir: exit 1, named, left empty ($(head -1 "$TMP/err"))"
    done
else
    skip "read-only and full file systems" "cannot mount a tmpfs here"
fi

done_testing
