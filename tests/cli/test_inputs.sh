#!/bin/sh
# Reading inputs reliably (issue 13, items 4-8 and the input part of 9):
#  - an input that changes between the two passes is detected whatever its
#    kind (plain next to a FIFO, gzip, a directory) and in dedup, passages
#    and lines: exit 1, "an input changed" naming the file, nothing published;
#  - records after a damaged gzip member or zstd frame are read, and the
#    damage is one rejected record;
#  - a valid zstd file written with --long=31 is read;
#  - an entry of a directory that cannot be examined (a path over PATH_MAX,
#    a dangling link) is a rejected record with the real reason, the rest of
#    the directory is read;
#  - a directory of JSONL shards (.jsonl, .jsonl.gz, .jsonl.zst) is read in
#    sorted order, and a run that reads no record at all warns.
# The changes between passes are made while winnow waits on a FIFO that is
# the last input: it is opened only once every earlier input has been read
# in pass 1, and pass 2 starts only after the FIFO's writer has closed it,
# so the change falls between the passes without any timing.
. "$(dirname "$0")/lib.sh"

I="$TMP/in"
mkdir -p "$I"

rec() { # rec ID TEXT
    printf '{"id":"%s","text":"%s"}\n' "$1" "$2"
}
# The stories differ in their number only: the news rule's one-figure update
# would merge them, so the runs below, which test reading, name the classic
# rule.
story() { # story N WORD: a distinct record of about 40 words
    printf 'story %s %s council harbour festival record number %s drew large crowds to the old town on a bright Saturday morning while the mayor spoke about the new ferry the bridge repairs the school budget and the market hall that will open in the spring of next year if the vote passes' "$1" "$2" "$1"
}
for i in 1 2 3 4; do rec "a$i" "$(story "$i" alpha)"; done >"$I/a.jsonl"
for i in 5 6 7; do rec "b$i" "$(story "$i" beta)"; done >"$I/b.jsonl"
rec f1 "$(story 9 fifo)" >"$I/fifo-records.jsonl"

# published DIR: a stats.json (a published set) exists in DIR.
published() { [ -f "$1/stats.json" ]; }

# change_between_passes NAME CMD CHANGE INPUT...: run `winnow CMD -o OUT
# INPUT... FIFO`, and run the shell command CHANGE once pass 1 has read
# every INPUT (when winnow opens the FIFO), before writing the FIFO's one
# record. Wants exit 1, "an input changed" naming a file on stderr, and no
# published output.
change_between_passes() {
    name=$1 cmd=$2 change=$3
    shift 3
    out="$TMP/out-$name"
    fifo="$TMP/fifo-$name"
    rm -f "$fifo"
    mkfifo "$fifo"
    (
        exec 3>"$fifo" # blocks until winnow opens the FIFO for reading
        sh -c "$change"
        cat "$I/fifo-records.jsonl" >&3
        exec 3>&-
    ) &
    writer=$!
    "$WINNOW" "$cmd" -o "$out" "$@" "$fifo" >"$TMP/out" 2>"$TMP/err"
    got=$?
    wait "$writer"
    if [ "$got" -eq 1 ] && grep -q 'an input changed' "$TMP/err" &&
        ! published "$out"; then
        ok 0 "$name: exit 1, 'an input changed', nothing published"
    else
        echo "# $name: exit $got; stderr:"
        sed 's/^/#   /' "$TMP/err" | head -5
        ok 1 "$name: exit 1, 'an input changed', nothing published"
    fi
}

# 1-3. A plain JSONL file next to a FIFO: pass 2 re-reads the file (the copy
# by offsets is off because of the FIFO). Same size, same record count,
# one text now equal to another's.
cp "$I/a.jsonl" "$I/plain.jsonl"
same_text="sed -i 's/story 2 alpha/story 1 alpha/; s/record number 2 /record number 1 /' '$I/plain.jsonl'"
change_between_passes plain-dedup dedup "$same_text" "$I/plain.jsonl"
grep -q "plain.jsonl" "$TMP/err"
ok $? "plain-dedup: the message names the changed file"
cp "$I/a.jsonl" "$I/plain.jsonl"
change_between_passes plain-passages passages "$same_text" "$I/plain.jsonl"
grep -q "plain.jsonl" "$TMP/err" && ! grep -q 'input/output error' "$TMP/err"
ok $? "plain-passages: names the file, not 'input/output error'"
cp "$I/a.jsonl" "$I/plain.jsonl"
change_between_passes plain-lines lines "$same_text" "$I/plain.jsonl"
grep -q "plain.jsonl" "$TMP/err" && ! grep -q 'input/output error' "$TMP/err"
ok $? "plain-lines: names the file, not 'input/output error'"

# 4-5. A gzip file rewritten between the passes (same records, one text
# changed): dedup and passages.
gzip -c "$I/a.jsonl" >"$I/a.jsonl.gz.orig"
regz="sed 's/story 3 alpha/story 3 ALPHA/' '$I/a.jsonl' | gzip -c >'$I/z.jsonl.gz'"
cp "$I/a.jsonl.gz.orig" "$I/z.jsonl.gz"
change_between_passes gzip-dedup dedup "$regz" "$I/z.jsonl.gz"
cp "$I/a.jsonl.gz.orig" "$I/z.jsonl.gz"
change_between_passes gzip-lines lines "$regz" "$I/z.jsonl.gz"

# 6-7. A directory whose file changes content (same size), and one that
# loses a file (the record of b.txt would be published with c.txt's text).
mkdir -p "$I/docs"
story 1 docdir >"$I/docs/a.txt"
story 2 docdir >"$I/docs/b.txt"
story 3 docdir >"$I/docs/c.txt"
change_between_passes dir-content dedup \
    "sed -i 's/story 1 docdir/story 1 DOCDIR/' '$I/docs/a.txt'" "$I/docs"
story 1 docdir >"$I/docs/a.txt"
change_between_passes dir-member-gone passages \
    "mv '$I/docs/c.txt' '$I/docs/b.txt'" "$I/docs"

# 8. Unchanged inputs of every kind next to a FIFO: no false alarm.
story 2 docdir >"$I/docs/b.txt"
story 3 docdir >"$I/docs/c.txt"
mkfifo "$TMP/fifo-same"
(cat "$I/fifo-records.jsonl" >"$TMP/fifo-same") &
"$WINNOW" dedup --profile classic -o "$TMP/out-same" "$I/plain.jsonl" "$I/a.jsonl.gz.orig" \
    "$I/docs" "$TMP/fifo-same" >"$TMP/out" 2>"$TMP/err"
st=$?
wait
[ "$st" -eq 0 ] && accounting "$TMP/out-same" &&
    [ "$(json_get "$TMP/out-same/stats.json" read)" -eq 12 ]
ok $? "unchanged inputs of every kind: exit 0, all 12 records accounted"

# 9-11. A damaged gzip member or zstd frame between two intact ones.
gzip -c "$I/a.jsonl" >"$I/A.gz"
gzip -c "$I/b.jsonl" >"$I/B.gz"
printf '\037\213\010\000\000\000\000\000\000\003this is not deflate data at all' >"$I/bad.gz"
cat "$I/A.gz" "$I/bad.gz" "$I/B.gz" >"$I/damaged.gz"
"$WINNOW" dedup --profile classic -o "$TMP/out-dgz" "$I/damaged.gz" >"$TMP/out" 2>"$TMP/err"
st=$?
[ "$st" -eq 3 ] && accounting "$TMP/out-dgz" &&
    [ "$(json_get "$TMP/out-dgz/stats.json" rejected)" -eq 1 ] &&
    grep -q '"b7"' "$TMP/out-dgz/kept.jsonl" &&
    [ "$(wc -l <"$TMP/out-dgz/kept.jsonl")" -eq 7 ] &&
    grep -q 'truncated or corrupt' "$TMP/out-dgz/rejected.jsonl"
ok $? "gzip: A + a damaged member + B: all 7 records kept, one rejected entry (exit $st)"

if command -v zstd >/dev/null 2>&1; then
    zstd -q -c "$I/a.jsonl" >"$I/A.zst"
    zstd -q -c "$I/b.jsonl" >"$I/B.zst"
    zstd -q -c "$I/fifo-records.jsonl" >"$I/C.zst"
    # Damage the middle of the frame's compressed data.
    python3 - "$I/C.zst" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0xFF
open(p, "wb").write(b)
PY
    cat "$I/A.zst" "$I/C.zst" "$I/B.zst" >"$I/damaged.zst"
    "$WINNOW" dedup --profile classic -o "$TMP/out-dzst" "$I/damaged.zst" >"$TMP/out" 2>"$TMP/err"
    st=$?
    [ "$st" -eq 3 ] && accounting "$TMP/out-dzst" &&
        [ "$(json_get "$TMP/out-dzst/stats.json" rejected)" -eq 1 ] &&
        grep -q '"b7"' "$TMP/out-dzst/kept.jsonl" &&
        [ "$(wc -l <"$TMP/out-dzst/kept.jsonl")" -eq 7 ]
    ok $? "zstd: A + a damaged frame + B: all 7 records kept, one rejected entry (exit $st)"

    # 11. --long=31 from standard input: the frame asks for a 2 GiB window.
    zstd -q --long=31 <"$I/a.jsonl" >"$I/long.zst"
    "$WINNOW" dedup --profile classic -o "$TMP/out-long" "$I/long.zst" >"$TMP/out" 2>"$TMP/err"
    st=$?
    [ "$st" -eq 0 ] && [ "$(json_get "$TMP/out-long/stats.json" kept)" -eq 4 ]
    ok $? "zstd --long=31: read as 4 records, exit 0 (exit $st)"
else
    skip "zstd damaged frame" "zstd is not installed"
    skip "zstd --long=31" "zstd is not installed"
fi

# 12-13. A directory with an entry whose path is over PATH_MAX (root is not
# stopped by mode 000, this fails for everyone) and a dangling link.
T="$I/tree"
mkdir -p "$T"
story 1 tree >"$T/a.txt"
story 2 tree >"$T/z.txt"
ln -s "$T/nowhere.txt" "$T/dangling.txt"
long=$(printf '%0200d' 0)
# 22 levels of 200-byte names: the shell's cd cannot go that deep (it
# tracks the absolute path), os.chdir with relative names can.
python3 - "$T" "$long" <<'PY'
import os, sys
os.chdir(sys.argv[1])
os.mkdir("deep")
os.chdir("deep")
for _ in range(22):
    os.mkdir(sys.argv[2])
    os.chdir(sys.argv[2])
with open("far.txt", "w") as f:
    f.write("too deep to be named")
PY
"$WINNOW" dedup --profile classic -o "$TMP/out-tree" "$T" >"$TMP/out" 2>"$TMP/err"
st=$?
[ "$st" -eq 3 ] && accounting "$TMP/out-tree" &&
    [ "$(json_get "$TMP/out-tree/stats.json" kept)" -eq 2 ] &&
    [ "$(json_get "$TMP/out-tree/stats.json" rejected)" -eq 2 ] &&
    grep -q 'File name too long' "$TMP/out-tree/rejected.jsonl" &&
    grep -q 'No such file or directory' "$TMP/out-tree/rejected.jsonl" &&
    ! grep -q 'input/output error' "$TMP/out-tree/rejected.jsonl"
ok $? "directory: an over-long path and a dangling link are rejected with their reason, the rest read (exit $st)"
grep -q "dangling.txt: No such file or directory (rejected)" "$TMP/err" &&
    grep -q "deep/$long.*: File name too long (rejected)" "$TMP/err"
ok $? "directory: stderr names each bad entry's path and reason"

# 14-16. A directory of JSONL shards, in sorted order, ids as for JSONL.
S="$I/shards"
mkdir -p "$S/part"
cp "$I/a.jsonl" "$S/00.jsonl"
gzip -c "$I/b.jsonl" >"$S/01.jsonl.gz"
printf '{"text":"%s"}\n' "$(story 8 shard)" >"$S/part/02.ndjson"
if command -v zstd >/dev/null 2>&1; then
    zstd -q -c "$I/fifo-records.jsonl" >"$S/03.jsonl.zst"
    nshard=9
else
    nshard=8
fi
printf 'ignored' >"$S/README.md"
"$WINNOW" dedup --profile classic -o "$TMP/out-shards" "$S" >"$TMP/out" 2>"$TMP/err"
st=$?
[ "$st" -eq 0 ] && accounting "$TMP/out-shards" &&
    [ "$(json_get "$TMP/out-shards/stats.json" read)" -eq "$nshard" ]
ok $? "shards: $nshard records from .jsonl, .jsonl.gz, .ndjson, .jsonl.zst (exit $st)"
python3 - "$TMP/out-shards/kept.jsonl" "$S" "$nshard" <<'PY'
import json, sys
ids = [json.loads(l)["id"] if "id" in json.loads(l) else None
       for l in open(sys.argv[1])]
# Bytewise path order: 00.jsonl, 01.jsonl.gz, 03.jsonl.zst, part/02.ndjson.
want = ["a1", "a2", "a3", "a4", "b5", "b6", "b7"]
want += ["f1", None] if int(sys.argv[3]) == 9 else [None]
sys.exit(0 if ids == want else 1)
PY
ok $? "shards: kept in sorted path order"
"$WINNOW" dedup --profile classic -o "$TMP/out-shards2" "$S" "$S/part/02.ndjson" >"$TMP/out" 2>"$TMP/err"
grep -q "\"id\":\"$S/part/02.ndjson:1\"" "$TMP/out-shards2/removed.jsonl"
ok $? "shards: an id-less record is named FILE:LINE, FILE its path"

# 17. A run that reads no record warns.
mkdir -p "$I/nothing"
printf 'x' >"$I/nothing/notes.md"
"$WINNOW" dedup --profile classic -o "$TMP/out-nothing" "$I/nothing" >"$TMP/out" 2>"$TMP/err"
st=$?
[ "$st" -eq 0 ] && grep -q 'warning: the inputs hold no record' "$TMP/err"
ok $? "no record at all: a warning (exit $st)"

done_testing
