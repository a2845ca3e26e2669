#!/bin/sh
# The library as users get it: the shared library exports only the public
# wn_ functions, a generated winnow.pc exists, and a program written against
# include/winnow.h alone builds, links with -lwinnow and runs.
. "$(dirname "$0")/lib.sh"

lib="$BUILD/libwinnow.so"
[ -f "$lib" ]; ok $? "libwinnow.so is built"
bad=$(nm -D --defined-only "$lib" | awk '$2 == "T" {print $3}' | grep -v '^wn_' | grep -v '^_' || true)
internal=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep '^wn__' || true)
[ -z "$bad$internal" ]; ok $? "only public wn_ functions are exported ($bad$internal)"
[ -f "$BUILD/meson-private/winnow.pc" ] && grep -q -- "-lwinnow" "$BUILD/meson-private/winnow.pc"
ok $? "winnow.pc is generated"

if nm -D "$lib" | grep -q __asan_init; then
    skip "a program linked with -lwinnow" "sanitizer build (the program would need the runtime)"
else
    cc -std=c11 -Wall -Werror -Iinclude tests/cli/api/use_api.c -o "$TMP/use_api" \
        -L"$BUILD" -lwinnow 2>"$TMP/cc.err"
    ok $? "a program using only winnow.h compiles and links with -lwinnow"
    printf '%s\n' '{"id":1,"text":"alpha beta gamma delta epsilon zeta"}' \
        '{"id":2,"text":"Alpha beta, gamma delta epsilon zeta!"}' >"$TMP/in.jsonl"
    LD_LIBRARY_PATH="$BUILD" "$TMP/use_api" "$TMP/in.jsonl" "$TMP/out" >"$TMP/api.out"
    ok $? "it runs wn_dedup_run and wn_text_similarity"
    grep -q "read 2 kept 1 removed 1 rejected 0" "$TMP/api.out" && grep -q "jaccard 0.60 containment 1.00" "$TMP/api.out"
    ok $? "with the expected results"
    grep -q "verdict same 1 reason exact" "$TMP/api.out" &&
        grep -q "fate 1 kept" "$TMP/api.out" &&
        grep -q "fate 2 removed duplicate_of 1 reason exact" "$TMP/api.out"
    ok $? "the stages (sketcher, verifier, in-memory job) from winnow.h alone"
fi
done_testing
