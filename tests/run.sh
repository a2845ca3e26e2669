#!/bin/sh
# Run the whole suite for one or more build directories: every unit-test
# binary (cmocka, TAP output) and every CLI test script (TAP). Prints each
# failing check, a line per program, and closes with "N passed, N failed".
# Exit status 0 only when nothing failed.
#
# Programs run side by side, WN_TEST_JOBS at a time (default: the number of
# processors), the builds given sharing one queue. A unit-test binary is
# split into one process per test (WN_TEST_ONLY, tests/cmocka_select.c), so
# the slowest binary does not hold up the rest; a CLI script is one job.
# Every job writes its own log; the report is printed per program in the
# fixed order (builds as given, unit binaries then CLI scripts, by name) as
# soon as the program and those before it have finished. Results do not
# depend on the order the jobs run in: each job has its own temporary
# directory (mktemp), no fixed port and no fixed path.
#
# The queue starts with the jobs that took longest: the seconds each job took
# are kept in BUILD/tests/run-times.txt (job, wall and CPU seconds) for the
# next run, and a job not in it (a fresh build) is placed by the estimates in
# `guess` below. The order only changes how soon the suite ends, never what it
# checks; no job has a time limit.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || set -- build
jobs=${WN_TEST_JOBS:-$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}
case "$jobs" in
'' | *[!0-9]* | 0) echo "tests/run.sh: WN_TEST_JOBS must be a positive integer (got '$jobs')" >&2; exit 2 ;;
esac
for b in "$@"; do
    [ -d "$b" ] || { echo "tests/run.sh: no build directory '$b'" >&2; exit 2; }
done
passed=0
failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/winnow-run.XXXXXX") || exit 2
workers=
cleanup() {
    for w in $workers; do kill "$w" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# guess NAME SAN: the seconds a job not yet timed on this build is expected
# to take, for its place in the queue (measured on a 2-core machine; SAN is
# 1 for a sanitizer build, about 4 times slower).
guess() {
    case "$1" in
    */cli/test_dedup | */cli/test_faults* | */cli/test_index | */cli/test_serve | \
        */cli/test_quality | */cli/test_mpi | */cli/test_python | \
        */cli/test_hostile | */cli/test_news_same | */cli/test_passages | \
        */cli/test_wide)
        g=60 ;;
    */cli/*) g=15 ;;
    *test_dedup:* | *test_figures:test_shared_corpora | *test_passages:test_sweep* | \
        *test_passages:test_random_corpora | *test_passages:test_memory_bound)
        g=40 ;;
    *) g=2 ;;
    esac
    [ "$2" -eq 1 ] && g=$((g * 4))
    echo "$g"
}

# The scripts' python3 is the system's (/usr/bin/python3, Debian's, which
# scripts/install-deps.sh installs; test_python.sh uses it too) or $PYTHON,
# not whatever comes first on PATH: a pyenv shim costs about half a second of
# CPU a call, and the scripts make hundreds.
py=${PYTHON:-/usr/bin/python3}
if [ -x "$py" ]; then
    mkdir "$work/bin" && ln -s "$py" "$work/bin/python3" || exit 2
    PATH="$work/bin:$PATH"
    export PATH
fi

# Unit-test binaries run whole, in one process, because some of their tests
# use what an earlier test of the group left behind: test_io's
# test_alloc_failures reads the directory test_directory makes (fails alone).
whole="test_io"

# The jobs: $work/job.N (the command), $work/name.N (its name in
# run-times.txt), and per program $work/prog.P (its job numbers) and
# $work/title.P (its name in the report).
nj=0
np=0
add_job() { # add_job NAME COMMAND: a job of program $np
    nj=$((nj + 1))
    printf '%s\n' "$2" >"$work/job.$nj"
    printf '%s\n' "$1" >"$work/name.$nj"
    echo "$nj" >>"$work/prog.$np"
    echo "$nj $1 $(guess "$1" "$san")" >>"$work/jobs"
}
add_prog() { # add_prog TITLE
    np=$((np + 1))
    printf '%s\n' "$1" >"$work/title.$np"
    : >"$work/prog.$np"
}
q() { # q STRING: STRING quoted for sh
    printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

: >"$work/jobs"
: >"$work/times"
for b in "$@"; do
    bdir=$(cd "$b" && pwd)
    bn=$(basename "$b")
    cat "$bdir/tests/run-times.txt" >>"$work/times" 2>/dev/null
    san=0
    nm "$bdir/winnow" 2>/dev/null | grep -q __asan_init && san=1
    units=0
    for t in "$bdir"/tests/test_*; do
        [ -f "$t" ] && [ -x "$t" ] || continue
        units=$((units + 1))
        name="$bn/$(basename "$t")"
        add_prog "$name"
        # Test names only: a binary may print a note of its own first.
        list=$(cd "$top" && WN_TEST_LIST=1 "$t" 2>/dev/null |
            grep -E '^[A-Za-z_][A-Za-z0-9_]*$') || list=
        case " $whole " in *" $(basename "$t") "*) list= ;; esac
        if [ -z "$list" ]; then
            # A binary that cannot list its tests runs whole (and fails
            # there if it is broken), and so do those in $whole.
            add_job "$name" "cd $(q "$top") && CMOCKA_MESSAGE_OUTPUT=TAP $(q "$t")"
            continue
        fi
        for c in $list; do
            add_job "$name:$c" "cd $(q "$top") && WN_TEST_ONLY=$(q "$c") CMOCKA_MESSAGE_OUTPUT=TAP $(q "$t")"
        done
    done
    if [ "$units" -eq 0 ]; then
        # A build configured without cmocka (-Dtests=auto) has none: the
        # suite is not run, and that is a failure, not a pass.
        add_prog "$bn: no unit-test binary"
        echo "$bn" >"$work/nounits.$np"
    fi
    for s in "$top"/tests/cli/test_*.sh; do
        [ -f "$s" ] || continue
        name="$bn/cli/$(basename "$s" .sh)"
        add_prog "$name"
        add_job "$name" "cd $(q "$top") && WINNOW=$(q "$bdir/winnow") BUILD=$(q "$bdir") sh $(q "$s")"
    done
done

# The queue, longest first (the last run's seconds, else the guess); ties in
# the fixed order.
awk 'FILENAME == ARGV[1] { t[$1] = $2; next }
     { print (($2 in t) ? t[$2] : $3), $1 }' "$work/times" "$work/jobs" |
    sort -k1,1nr -k2,2n | awk '{ print $2 }' >"$work/queue"

# A background job of a shell without job control starts with SIGINT and
# SIGQUIT ignored, and cannot trap them back: the jobs get them back as the
# old one-at-a-time runner gave them (Python raises KeyboardInterrupt only
# when SIGINT was not ignored at its start; a process signalled before it
# sets its handlers must die of it). GNU env (coreutils 8.31 and later) does
# it; perl (essential in Debian) otherwise.
if env --default-signal=INT,QUIT true 2>/dev/null; then
    sigdefault="env --default-signal=INT,QUIT"
elif command -v perl >/dev/null 2>&1; then
    sigdefault="perl -e \$SIG{INT}=\$SIG{QUIT}='DEFAULT';exec(@ARGV)or(die)"
else
    sigdefault=
fi

# A worker takes the next job nobody has taken (mkdir is atomic), runs it
# with its output in log.N, then writes its seconds (wall, and CPU: user and
# system of the job and the processes it waited for, from `times`) and, last,
# rc.N.
cpu() { # the CPU seconds in the output of `times`, from its second line
    awk 'NR == 2 { split($1, u, "m"); split($2, s, "m");
                   printf "%.2f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$1"
}
worker() {
    # `times` runs in this shell (not in a $(...) subshell, which has no
    # children of its own) and writes to a file.
    times >"$work/cpu.w$1"
    c0=$(cpu "$work/cpu.w$1")
    while read -r id; do
        mkdir "$work/taken.$id" 2>/dev/null || continue
        t0=$(date +%s)
        # shellcheck disable=SC2086
        $sigdefault sh "$work/job.$id" >"$work/log.$id" 2>&1 </dev/null
        rc=$?
        t1=$(date +%s)
        times >"$work/cpu.w$1"
        c1=$(cpu "$work/cpu.w$1")
        echo "$(cat "$work/name.$id") $((t1 - t0)) $(echo "$c0 $c1" | awk '{ printf "%.2f", $2 - $1 }')" \
            >"$work/time.$id"
        c0=$c1
        echo "$rc" >"$work/rc.$id.part" && mv "$work/rc.$id.part" "$work/rc.$id"
    done <"$work/queue"
}
i=0
while [ "$i" -lt "$jobs" ]; do
    worker "$i" &
    workers="$workers $!"
    i=$((i + 1))
done

# wait_job N: until job N has finished; its status then (255 when every
# worker is gone without running it, which only a killed worker can cause).
wait_job() {
    while [ ! -e "$work/rc.$1" ]; do
        alive=0
        for w in $workers; do kill -0 "$w" 2>/dev/null && alive=1; done
        if [ "$alive" -eq 0 ] && [ ! -e "$work/rc.$1" ]; then
            echo "tests/run.sh: job $(cat "$work/name.$1") was not run" >"$work/log.$1"
            echo 255 >"$work/rc.$1"
            break
        fi
        sleep 1
    done
    cat "$work/rc.$1"
}

# report P: the program's counts from the TAP of its jobs.
report() {
    title=$(cat "$work/title.$1")
    pp=0
    pf=0
    : >"$work/bad"
    : >"$work/fails"
    while read -r id; do
        rc=$(wait_job "$id")
        log="$work/log.$id"
        # cmocka reports a skipped test as "not ok N # SKIP ..."; in TAP a
        # SKIP directive makes it a skip, not a failure (on a machine
        # without ../shared the seed tests skip so).
        jp=$(grep -Ec '^ok |^not ok [0-9]* *# SKIP' "$log")
        jf=$(grep '^not ok ' "$log" | grep -Evc '^not ok [0-9]* *# SKIP')
        if [ "$rc" -ne 0 ] && [ "$jf" -eq 0 ]; then
            # a crash or a non-zero exit counts as a failure (named by the
            # test when the binary was split)
            jf=1
            echo "not ok - $(cat "$work/name.$id") exited with status $rc" >>"$work/fails"
        fi
        grep '^not ok ' "$log" | grep -Ev '^not ok [0-9]* *# SKIP' |
            sed "s|^|  $title: |" >>"$work/fails"
        [ "$jf" -eq 0 ] || cat "$log" >>"$work/bad"
        pp=$((pp + jp))
        pf=$((pf + jf))
    done <"$work/prog.$1"
    cat "$work/fails"
    if [ "$pf" -ne 0 ]; then
        sed -n '1,400p' "$work/bad" | grep -v '^ok ' |
            grep -Ev '^1\.\.[0-9]+$|^# ok - ' | sed 's/^/    | /' | head -60
    fi
    echo "$title: $pp passed, $pf failed"
    passed=$((passed + pp))
    failed=$((failed + pf))
}

prog=1
while [ "$prog" -le "$np" ]; do
    if [ -e "$work/nounits.$prog" ]; then
        echo "not ok - $(cat "$work/nounits.$prog"): no unit-test binary (configure with -Dtests=enabled)"
        failed=$((failed + 1))
    else
        report "$prog"
    fi
    prog=$((prog + 1))
done
wait

# The seconds of this run, for the order of the next (best effort: a build
# directory that cannot be written keeps its old file).
for b in "$@"; do
    bdir=$(cd "$b" && pwd)
    bn=$(basename "$b")
    cat "$work"/time.* 2>/dev/null | awk -v p="$bn/" 'index($1, p) == 1' \
        >"$bdir/tests/run-times.txt.part" 2>/dev/null &&
        mv "$bdir/tests/run-times.txt.part" "$bdir/tests/run-times.txt" 2>/dev/null
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
