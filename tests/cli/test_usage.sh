#!/bin/sh
# CLI tests of usage errors: every numeric option of every command refuses
# a value outside what the library accepts with a message naming the option
# and its range (exit 2), the values at the ends of each range are taken,
# standard input cannot be named twice, --output and --tmp-dir are checked
# before any input is read, and a missing input is reported with its reason.
. "$(dirname "$0")/lib.sh"

IN="$TMP/in.jsonl"
printf '%s\n' '{"id": "a", "text": "one two three four five six seven"}' \
    '{"id": "b", "text": "one two three four five six seven"}' >"$IN"
printf '%s\n' '{"id_a": "a", "id_b": "b", "label": 1}' >"$TMP/pairs.jsonl"
: >"$TMP/plainfile"
O="$TMP/out"

# One row per case: wanted exit status | stderr substring (empty: any) |
# arguments (split by the shell; $TMP is expanded by the here-document).
while IFS='|' read -r want msg args; do
    case "$want" in '' | '#'*) continue ;; esac
    eval "set -- $args"
    rm -rf "$O"
    "$WINNOW" "$@" >"$TMP/stdout" 2>"$TMP/stderr"
    got=$?
    good=0
    [ "$got" -eq "$want" ] || good=1
    if [ -n "$msg" ] && ! grep -qF -- "$msg" "$TMP/stderr"; then
        good=1
    fi
    if [ "$good" -ne 0 ]; then
        echo "# winnow $args: exit $got (wanted $want), stderr:"
        sed 's/^/#   /' "$TMP/stderr" | head -5
        echo "#   wanted: $msg"
    fi
    ok $good "winnow $args -> $want${msg:+: $msg}"
done <<EOF
2|dedup: --threshold must be in (0, 1), got 1.5|dedup -t 1.5 -o $O $IN
2|--threshold must be in (0, 1), got 0|dedup -t 0 -o $O $IN
2|--threshold must be in (0, 1), got 1|dedup --threshold=1 -o $O $IN
2|--threshold must be a number in (0, 1), got 'abc'|dedup -t abc -o $O $IN
2|--containment must be in [0, 1], got 2|dedup --containment=2 -o $O $IN
2|needs 341 LSH bands, more than the 256 supported|dedup --profile classic -k 1024 -t 0.2 -o $O $IN
1|cannot open '$TMP/nope.jsonl': No such file or directory|similarity --pairs $TMP/nope.jsonl $IN
1|cannot open '$TMP/nope.jsonl': No such file or directory|similarity --pairs $TMP/pairs.jsonl $TMP/nope.jsonl
2|--containment must be in [0, 1], got -0.1|dedup --containment=-0.1 -o $O $IN
2|--ngram must be between 1 and 64, got 0|dedup --ngram 0 -o $O $IN
2|--ngram must be between 1 and 64, got 65|dedup -n 65 -o $O $IN
2|--num-perm must be between 1 and 4096, got 0|dedup -k 0 -o $O $IN
2|--num-perm must be between 1 and 4096, got 4097|dedup --num-perm 4097 -o $O $IN
2|--bands must be between 1 and 256, got 257|dedup --bands 257 --rows 1 -o $O $IN
2|--rows must be between 1 and 4096, got 0|dedup --bands 4 --rows 0 -o $O $IN
2|--bands 20 x --rows 10 = 200 is more than --num-perm 128|dedup --bands 20 --rows 10 -o $O $IN
2|--hamming must be between 0 and 16, got 17|dedup --method simhash --hamming 17 -o $O $IN
2|--threads must be a whole number from 0 to 4294967295, got '-1'|dedup -j -1 -o $O $IN
2|--threads must be a whole number from 0 to 4294967295, got '4294967296'|dedup --threads 4294967296 -o $O $IN
2|--memory must be a size in bytes|dedup --memory 1Q -o $O $IN
2|--max-record-bytes must be between 1 and 4G - 1, got 0|dedup --max-record-bytes 0 -o $O $IN
2|--max-record-bytes must be between 1 and 4G - 1, got 4G|dedup --max-record-bytes 4G -o $O $IN
2|--fn-weight must be in [0, 1], got 1.5|dedup --fn-weight 1.5 -o $O $IN
2|--seed must be a whole number|dedup --seed x -o $O $IN
2|--method must be one of minhash, simhash; got 'lsh'|dedup --method lsh -o $O $IN
2|dedup: standard input '-' can be given only once|dedup -o $O - -
2|dedup: --output '$TMP/plainfile' exists and is not a directory|dedup -o $TMP/plainfile $IN
2|dedup: --tmp-dir '$TMP/plainfile' is not a directory|dedup --tmp-dir $TMP/plainfile -o $O $IN
2|dedup: --tmp-dir '$TMP/nodir': No such file or directory|dedup --tmp-dir $TMP/nodir -o $O $IN
1|cannot open '$TMP/none.jsonl': No such file or directory|dedup -o $O $TMP/none.jsonl
0||dedup -q -t 0.99 --containment=1 -o $O $IN
0||dedup -q -t 0.01 --containment=0 -n 64 -o $O $IN
0||dedup -q --method simhash --hamming 16 -o $O $IN
0||dedup -q --bands 256 --rows 1 -k 256 -j 1 --fn-weight 0 -o $O $IN
0||dedup -q --max-record-bytes 4294967295 --memory 1G -o $O $IN
2|--memory 1 is too small; the smallest that works with 1 thread is 2M (--memory 2M)|dedup -j 1 --memory 1 -o $O $IN
2|--memory 4194303 is too small; the smallest that works with 2 threads is 4M|dedup -j 2 --memory 4194303 -o $O $IN

# A value attached to a short option, as getopt takes it (-t0.7, -j1,
# -oDIR), in every command that has short options; a flag takes none.
0||dedup -q -t0.7 -j1 -n4 -k64 -o$O $IN
2|--threshold must be in (0, 1), got 1.5|dedup -t1.5 -o $O $IN
2|unknown option '-qx'|dedup -qx -o $O $IN
0||params -t0.7 -k64
0||passages -q -n3 -o$O $IN
0||lines -q -o$O $IN
0||repeats -q -o$O $IN
0||similarity -n3 --pairs $TMP/pairs.jsonl $IN
# The id and the text cannot be one field (every record would be rejected
# as having no text): a usage error, defaults included.
2|dedup: --id-field and --text-field name the same field 'body'|dedup --id-field body --text-field body -o $O $IN
2|dedup: --id-field and --text-field name the same field 'text'|dedup --id-field text -o $O $IN
2|--id-field and --text-field name the same field 'id'|dedup --text-field id -o $O $IN
2|passages: --id-field and --text-field name the same field 'text'|passages --id-field text -o $O $IN
2|lines: --id-field and --text-field name the same field 'text'|lines --id-field text -o $O $IN
2|repeats: --id-field and --text-field name the same field 'text'|repeats --id-field text -o $O $IN
2|tokens: --id-field and --text-field name the same field 'x'|tokens --id-field x --text-field x $IN
0||dedup -q --id-field text --text-field id -o $O $IN

2|params: --threshold must be in (0, 1), got 1.5|params -t 1.5
2|params: --num-perm must be between 1 and 4096, got 0|params -k 0
2|params: --fn-weight must be in [0, 1], got -1|params --fn-weight -1
2|params: --bands 20 x --rows 10 = 200 is more than --num-perm 128|params --bands 20 --rows 10
2|params: --rows must be between 1 and 4096, got 0|params --bands 2 --rows 0
0||params -k 4096 -t 0.5
0||params --bands 32 --rows 4 -k 128

2|passages: --min-span must be between 1 and 1073741823, got 0|passages -n 0 -o $O $IN
2|passages: --min-span must be between 1 and 1073741823, got 1073741824|passages --min-span 1073741824 -o $O $IN
2|passages: --max-record-bytes must be between 1 and 4G - 1, got 5G|passages --max-record-bytes 5G -o $O $IN
2|passages: --min-length must be a whole number|passages --min-length -3 -o $O $IN
2|passages: --max-where must be a whole number|passages --max-where 1.5 -o $O $IN
2|passages: --memory must be a size in bytes|passages --memory lots -o $O $IN
2|passages: standard input '-' can be given only once|passages -o $O - -
2|passages: --output '$TMP/plainfile' exists and is not a directory|passages -o $TMP/plainfile $IN
1|cannot open '$TMP/none.jsonl': No such file or directory|passages -o $O $TMP/none.jsonl
0||passages -q -n 1 -o $O $IN

2|lines: --min-docs must be at least 1, got 0|lines --min-docs 0 -o $O $IN
2|lines: --min-length must be a whole number|lines --min-length x -o $O $IN
2|lines: --seed must be a whole number|lines --seed -1 -o $O $IN
2|lines: --max-record-bytes must be between 1 and 4G - 1, got 0|lines --max-record-bytes 0 -o $O $IN
2|lines: standard input '-' can be given only once|lines -o $O - -
2|lines: --output '$TMP/plainfile' exists and is not a directory|lines -o $TMP/plainfile $IN
1|cannot open '$TMP/none.jsonl': No such file or directory|lines -o $O $TMP/none.jsonl
0||lines -q --min-docs 1 -o $O $IN

2|repeats: --max-dup-line-frac must be in [0, 1], got 2|repeats --max-dup-line-frac 2 -o $O $IN
2|repeats: --max-top-2gram-char-frac must be in [0, 1], got -0.1|repeats --max-top-2gram-char-frac -0.1 -o $O $IN
2|repeats: --max-dup-10gram-char-frac must be a number in [0, 1], got 'x'|repeats --max-dup-10gram-char-frac x -o $O $IN
2|repeats: --max-record-bytes must be between 1 and 4G - 1, got 4294967296|repeats --max-record-bytes 4294967296 -o $O $IN
2|repeats: standard input '-' can be given only once|repeats -o $O - -
2|repeats: --output '$TMP/plainfile' exists and is not a directory|repeats -o $TMP/plainfile $IN
1|cannot open '$TMP/none.jsonl': No such file or directory|repeats -o $O $TMP/none.jsonl
0||repeats -q --max-dup-line-frac 0 --max-dup-para-frac 1 -o $O $IN

2|similarity: --ngram must be at least 1, got 0|similarity --ngram 0 --pairs $TMP/pairs.jsonl $IN
2|similarity: standard input '-' can be given only once|similarity --pairs - -
0||similarity -n 1 --pairs $TMP/pairs.jsonl $IN

2|tokens: --limit must be a whole number|tokens --limit -1 $IN
2|tokens: standard input '-' can be given only once|tokens - -
1|cannot open '$TMP/none.jsonl': No such file or directory|tokens $TMP/none.jsonl

2|eval: standard input '-' can be given only once|eval --truth - -
1|cannot open '$TMP/none.jsonl': No such file or directory|eval --truth $TMP/none.jsonl $TMP/pairs.jsonl
EOF

# An output directory that exists is used; a missing one is created.
mkdir -p "$TMP/existing"
"$WINNOW" dedup -q -o "$TMP/existing" "$IN" && [ -f "$TMP/existing/stats.json" ]
ok $? "dedup: --output naming an existing directory is used"
"$WINNOW" dedup -q -o "$TMP/new/sub" "$IN" && [ -f "$TMP/new/sub/stats.json" ]
ok $? "dedup: a missing --output directory is created"

# --memory below what a join partition needs (2 MiB per thread) is refused
# with the smallest that works (above); obeyed, it made the join quadratic:
# 5,056 records took 452 s with --memory 1, 1.2 s with the default. At the
# floor the join has one partition per thread. The partition count is what
# the test checks, not the time.
"$WINNOW" dedup -q -j 1 --memory 2M -o "$TMP/mem" "$IN" &&
    [ "$(json_get "$TMP/mem/stats.json" join_partitions)" -le 2 ]
ok $? "dedup --memory 2M -j 1: the join uses the floor's partitions"
[ ! -e "$TMP/mem2" ] && ! "$WINNOW" dedup -q -j 1 --memory 1 -o "$TMP/mem2" "$IN" 2>/dev/null &&
    [ ! -e "$TMP/mem2/stats.json" ]
ok $? "dedup --memory 1: refused before any output"

done_testing
