#!/bin/sh
# Faults around `winnow passages`, `winnow lines` and `winnow repeats`, as
# test_faults.sh does for dedup: SIGINT and SIGTERM in the middle of a run,
# kill -9, a file-size limit (RLIMIT_FSIZE with SIGXFSZ ignored), and
# hostile inputs. After every failure: exit 1 (or 128 + the signal), no
# temporary directory left (kill -9 aside), and the previous outputs in DIR
# byte-identical; after hostile input: read = kept + removed + rejected and
# stderr names file:line.
. "$(dirname "$0")/lib.sh"

cleanup() {
    [ -n "${writer:-}" ] && kill "$writer" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

GEN="$BUILD/bench/gen"
"$GEN" --seed 5 --docs 3000 --out "$TMP/news.jsonl" 2>/dev/null
ok $? "generated a corpus"

# The per-record annotation file of each command.
ann() {
    case $1 in
    passages) echo spans.jsonl ;;
    lines) echo lines.jsonl ;;
    repeats) echo repetition.jsonl ;;
    esac
}
# Options that make every command cut or drop something.
opts() {
    case $1 in
    passages) echo "--mode remove -n 20" ;;
    lines) echo "--mode remove" ;;
    repeats) echo "--gopher" ;;
    esac
}

# untouched CMD DESCRIPTION: CMD's outputs in $TMP/out-CMD equal the saved
# ones, and no temporary directory is left.
untouched() {
    left_as_before "$TMP/prev-$1" "$TMP/out-$1" kept.jsonl removed.jsonl \
        "$(ann "$1")" rejected.jsonl stats.json
    ok $? "$1: $2"
}

# paused CMD SIG: run CMD on standard input through a pipe whose writer
# stops half-way until the signal has been sent (deterministically mid-run);
# sets $st.
paused() {
    rm -f "$TMP/go" "$TMP/pipe"
    mkfifo "$TMP/pipe"
    half=$(($(wc -c <"$TMP/news.jsonl") / 2))
    {
        head -c "$half" "$TMP/news.jsonl"
        while [ ! -e "$TMP/go" ]; do sleep 0.05; done
        tail -c +"$((half + 1))" "$TMP/news.jsonl"
    } >"$TMP/pipe" &
    writer=$!
    # shellcheck disable=SC2046
    "$WINNOW" "$1" -q $(opts "$1") -o "$TMP/out-$1" - <"$TMP/pipe" 2>"$TMP/err" &
    pid=$!
    i=0 # 120 s: a hang guard, not a timing (the writer is paused)
    while [ $i -lt 2400 ] && ! run_started "$TMP/out-$1"; do
        sleep 0.05
        i=$((i + 1))
    done
    sleep 0.3
    kill -"$2" "$pid"
    touch "$TMP/go"
    wait "$pid"
    st=$?
    wait "$writer" 2>/dev/null
    writer=
}

# limited BYTES CMD: CMD with RLIMIT_FSIZE at BYTES, SIGXFSZ ignored (writes
# fail with EFBIG instead of killing the process). Sets $st.
limited() {
    lim=$1
    # shellcheck disable=SC2046
    (trap '' XFSZ; exec prlimit --fsize="$lim" "$WINNOW" "$2" -q $(opts "$2") \
        -o "$TMP/out-$2" "$TMP/news.jsonl") >/dev/null 2>"$TMP/err"
    st=$?
}

for c in passages lines repeats; do
    # shellcheck disable=SC2046
    "$WINNOW" "$c" -q $(opts "$c") -o "$TMP/out-$c" "$TMP/news.jsonl"
    ok $? "$c: a first run publishes outputs"
    accounting "$TMP/out-$c"; ok $? "$c: accounting holds"
    mkdir -p "$TMP/prev-$c"
    cp "$TMP/out-$c"/* "$TMP/prev-$c"/

    # 1. Signals mid-run.
    for s in INT:130 TERM:143; do
        paused "$c" "${s%:*}"
        [ "$st" -eq "${s#*:}" ]
        ok $? "$c: SIG${s%:*} mid-run exits ${s#*:} (got $st)"
        untouched "$c" "SIG${s%:*}: nothing published, previous outputs intact, no temporary files"
    done

    # 2. kill -9: the previous outputs stay; the next run removes the dead
    # run's temporary directory and succeeds.
    paused "$c" KILL
    [ "$st" -eq 137 ] && ls -A "$TMP/out-$c" | grep -q '^\.winnow-tmp-'
    ok $? "$c: kill -9 mid-run (exit $st) leaves its temporary directory"
    same=0
    for f in kept.jsonl removed.jsonl "$(ann "$c")" rejected.jsonl stats.json; do
        cmp -s "$TMP/prev-$c/$f" "$TMP/out-$c/$f" || same=1
    done
    ok $same "$c: kill -9: previous outputs byte-identical"
    # shellcheck disable=SC2046
    "$WINNOW" "$c" -q $(opts "$c") -o "$TMP/out-$c" "$TMP/news.jsonl" \
        && accounting "$TMP/out-$c" \
        && cmp -s "$TMP/prev-$c/kept.jsonl" "$TMP/out-$c/kept.jsonl" \
        && [ -z "$(ls -A "$TMP/out-$c" | grep '^\.winnow-tmp-')" ]
    ok $? "$c: the run after kill -9 succeeds, same outputs, cleans up"
    cp "$TMP/out-$c"/* "$TMP/prev-$c"/ # stats.json has new timings

    # 3. File-size limits: exit 1 and the previous outputs intact.
    for lim in 0 4096 200000; do
        limited "$lim" "$c"
        [ "$st" -eq 1 ]; ok $? "$c: file size limit $lim: exit 1 (got $st)"
        if [ "$lim" -ge 4096 ]; then # stderr is a file under the limit too
            grep -q 'file too large' "$TMP/err"
            ok $? "$c: file size limit $lim: stderr says 'file too large'"
        fi
        untouched "$c" "file size limit $lim: previous outputs intact"
    done
done

# 4. Hostile inputs: each bad record is rejected with file:line on stderr
# and counted; the good ones go through.
H="$TMP/hostile.jsonl"
{
    head -n 3 "$TMP/news.jsonl"
    printf '{"id": "bad", "text": "unterminated\n'           # line 4
    printf '{"id": "notext", "body": "no text field"}\n'     # line 5
    printf '{"id": "n1", \000"text": "NUL between tokens"}\n' # line 6
    printf '{"id": "n2", "text": "NUL \000 inside a string"}\n'
    python3 -c 'print("{\"id\": \"long\", \"text\": \"%s\"}" % ("word " * 3000))' # line 8
    sed -n 4,5p "$TMP/news.jsonl"
} >"$H"
head -n 400 "$TMP/news.jsonl" | gzip -c >"$TMP/whole.gz"
head -c $(($(wc -c <"$TMP/whole.gz") / 2)) "$TMP/whole.gz" >"$TMP/cut.gz"
for c in passages lines repeats; do
    "$WINNOW" "$c" --max-record-bytes 10000 -o "$TMP/h-$c" "$H" >/dev/null 2>"$TMP/err"
    st=$?
    [ "$st" -eq 3 ] && accounting "$TMP/h-$c" \
        && [ "$(json_get "$TMP/h-$c/stats.json" rejected)" = 4 ] \
        && [ "$(json_get "$TMP/h-$c/stats.json" read)" = 10 ]
    ok $? "$c: hostile lines: exit 3 (got $st), 4 of 10 rejected, accounting holds"
    for l in 4 5 6 8; do
        grep -q "hostile.jsonl:$l:" "$TMP/err" || { echo "# no hostile.jsonl:$l: on stderr"; false; }
    done
    ok $? "$c: stderr names file:line of each rejected record"
    "$WINNOW" "$c" -o "$TMP/z-$c" "$TMP/cut.gz" >/dev/null 2>"$TMP/err"
    st=$?
    [ "$st" -eq 3 ] && accounting "$TMP/z-$c" \
        && grep -q 'truncated or corrupt' "$TMP/err" && grep -q 'cut.gz:[0-9]' "$TMP/err"
    ok $? "$c: truncated .gz: exit 3 (got $st), a rejected record named by file:line, accounting holds"
done

done_testing
