#!/bin/sh
# The wide build (-Dwide_docs=true: 64-bit document numbers, lib/common/
# common.h, docs/SCALING.md "Document numbers") against this one: the
# script configures and builds a second tree, BUILD-wide (kept for the next
# run, which then only rebuilds what changed), runs the unit tests of the
# modules that hold document numbers there (cluster, lsh, runs, verify and
# a share of dedup), and checks that its outputs are byte-identical to this
# build's on generated corpora: the news and classic profiles at -j 1 and
# -j 2 under --memory 4M, a corpus whose sorted runs spill at --memory 2M,
# and 2 MPI ranks when MPI is there. Run for a release build with 32-bit
# numbers only (a sanitizer or wide build skips: the release build's run
# covers it). WN_WIDE_BUILD=DIR uses DIR instead of BUILD-wide. Prints TAP.
. "$(dirname "$0")/lib.sh"

if nm "$WINNOW" 2>/dev/null | grep -q __asan_init; then
    skip "the wide build" "a sanitizer build (the release build's run covers it)"
    done_testing
fi
if "$WINNOW" --version | grep -q '64-bit document numbers'; then
    skip "the wide build" "$WINNOW is a wide build itself"
    done_testing
fi
if [ ! -x "$BUILD/bench/gen" ]; then
    skip "the wide build" "no $BUILD/bench/gen"
    done_testing
fi

B=$(cd "$BUILD" && pwd)
W=${WN_WIDE_BUILD:-$B-wide}
top=$(pwd)
# The tree: configured once with this build's options (tests and test
# hooks as here) plus wide_docs; then only the targets used below.
hooks=false
"$WINNOW" --version | grep -q 'test hooks' && hooks=true
if [ ! -f "$W/build.ninja" ]; then
    meson setup "$W" "$top" --buildtype=release -Dtests=enabled \
        -Dtest_hooks=$hooks -Dwide_docs=true >"$TMP/setup.log" 2>&1
    st=$?
    [ "$st" -eq 0 ] || sed 's/^/#   /' "$TMP/setup.log" | tail -20
    ok $st "configured $W with -Dwide_docs=true"
else
    meson configure "$W" -Dwide_docs=true -Dtest_hooks=$hooks >/dev/null 2>&1
    ok $? "reconfigured $W with -Dwide_docs=true"
fi
units="test_cluster test_lsh test_runs test_verify test_dedup"
targets="winnow"
for t in $units; do targets="$targets tests/$t"; done
# shellcheck disable=SC2086
ninja -C "$W" $targets >"$TMP/build.log" 2>&1
st=$?
[ "$st" -eq 0 ] || grep -E 'error|FAILED' "$TMP/build.log" | head -20 | sed 's/^/#   /'
ok $st "built the wide tree's winnow and unit tests"
WW="$W/winnow"
"$WW" --version | grep -q '64-bit document numbers'
ok $? "the wide winnow says it numbers documents in 64 bits"

# The unit tests of the modules that hold document numbers. test_dedup's
# longest tests (the verifier against the job on many texts, the
# allocation sweeps of the job) run in the release build's suite; here a
# share that covers the job, the run, threads and the rule.
dedup_some="test_alloc_sweep_default,test_accounting_random,test_threads_identical,\
test_order_independent,test_short_templates_not_merged,test_cancel,\
test_removals_pass_rule,test_job_fates_match_run,test_job_add_sketch_same_fates,\
test_run_report_on_failure"
for t in $units; do
    if [ "$t" = test_dedup ]; then
        WN_TEST_ONLY=$dedup_some "$W/tests/$t" >"$TMP/$t.log" 2>&1
    else
        "$W/tests/$t" >"$TMP/$t.log" 2>&1
    fi
    st=$?
    [ "$st" -eq 0 ] || grep -E 'FAILED|ERROR|Failure' "$TMP/$t.log" | head -10 | sed 's/^/#   /'
    ok $st "wide build: $t passes"
done

# same_run NAME ARGS...: this build and the wide one on the same input, the
# data outputs byte for byte.
same_run() {
    name=$1
    shift
    "$WINNOW" dedup -q -o "$TMP/$name.narrow" "$@" 2>"$TMP/$name.err1" &&
        "$WW" dedup -q -o "$TMP/$name.wide" "$@" 2>"$TMP/$name.err2" &&
        same_outputs "$TMP/$name.narrow" "$TMP/$name.wide"
}

"$BUILD/bench/gen" --seed 3 --bytes 3000000 --out "$TMP/gen.jsonl" \
    --truth "$TMP/truth.jsonl" 2>/dev/null
ok $? "generated a corpus (3 MB)"
for profile in news classic; do
    for j in 1 2; do
        same_run "$profile-j$j" --profile "$profile" -j "$j" --memory 4M "$TMP/gen.jsonl"
        ok $? "--profile $profile -j $j --memory 4M: outputs byte-identical to the 32-bit build"
    done
done
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["removed_near"] > 0 and s["removed_exact"] > 0 and s["clusters"] > 0 else 1)' \
    "$TMP/news-j1.wide/stats.json"
ok $? "the corpus has exact and near duplicates and clusters"

# Sorted runs on disk: 60,000 short records, a tenth exact copies and two
# fifths near copies (one word changed) of 4,000 stories, at --memory 2M:
# the exact stage's runs and the candidate pairs' runs (two 64-bit words a
# pair in the wide build, dedup.h WN_PAIR_WORDS) go to disk.
python3 - "$TMP/many.jsonl" <<'PY'
import random, sys
r = random.Random(11)
words = ["w%d" % i for i in range(3000)]
base = []
with open(sys.argv[1], "w") as out:
    for i in range(60000):
        k = r.random()
        if base and k < 0.1:
            t = r.choice(base)
        elif base and k < 0.5:
            t = r.choice(base).split()
            t[r.randrange(len(t))] = r.choice(words)
            t = " ".join(t)
        else:
            t = " ".join(r.choice(words) for _ in range(r.randrange(12, 30)))
            if len(base) < 4000:
                base.append(t)
        out.write('{"id":"r%d","text":"%s"}\n' % (i, t))
PY
for profile in news classic; do
    same_run "many-$profile" --profile "$profile" -j 1 --memory 2M "$TMP/many.jsonl"
    ok $? "--profile $profile --memory 2M (runs on disk): outputs byte-identical to the 32-bit build"
done

# 2 MPI ranks of the wide build against one process of this one.
if ldd "$WW" 2>/dev/null | grep -q libmpi && command -v mpirun >/dev/null 2>&1; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    export OMPI_MCA_btl=self,vader OMPI_MCA_btl_base_warn_component_unused=0
    mkdir -p "$TMP/parts"
    split -n l/3 -d --additional-suffix=.jsonl "$TMP/gen.jsonl" "$TMP/parts/p"
    for profile in news classic; do
        "$WINNOW" dedup -q --profile "$profile" -o "$TMP/mpi-$profile.narrow" \
            "$TMP"/parts/p*.jsonl 2>"$TMP/mpi.err1" &&
            mpirun --oversubscribe -n 2 "$WW" dedup -q --profile "$profile" \
                -o "$TMP/mpi-$profile.wide" "$TMP"/parts/p*.jsonl >"$TMP/mpi.out" 2>"$TMP/mpi.err2" &&
            same_outputs "$TMP/mpi-$profile.narrow" "$TMP/mpi-$profile.wide"
        st=$?
        [ "$st" -eq 0 ] || sed 's/^/#   /' "$TMP/mpi.err2" | head -10
        ok $st "--profile $profile, 2 MPI ranks of the wide build: outputs byte-identical to one 32-bit process"
    done
else
    skip "2 MPI ranks of the wide build" "no MPI in $WW or no mpirun"
fi
done_testing
