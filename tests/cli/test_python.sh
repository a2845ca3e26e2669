#!/bin/sh
# The Python binding (python/): builds the extension against the library's
# sources in $BUILD/python-ext (Meson, incremental), then runs its pytest
# suite (python/tests) with that build on PYTHONPATH, the CLI of $BUILD to
# compare with, and prints one TAP line per pytest test. When $BUILD uses
# sanitizers, the extension (and its copy of the library) is built with the
# same ones by gcc and python3 runs with gcc's runtimes preloaded, leak
# detection off (the interpreter keeps its own objects at exit); the test of
# memory on a million records skips there. Skips when python3-dev or
# python3-pytest is missing.
. "$(dirname "$0")/lib.sh"

PY=${PYTHON:-/usr/bin/python3}
top=$(pwd)
ext="$BUILD/python-ext"

san=$(meson introspect "$BUILD" --buildoptions 2>/dev/null |
    "$PY" -c 'import json,sys; o={x["name"]:x["value"] for x in json.load(sys.stdin)}; print(o.get("b_sanitize","none"))' 2>/dev/null)
if ! "$PY" -c 'import pytest, sysconfig, os; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' 2>/dev/null; then
    skip "python binding" "needs python3-dev and python3-pytest"
    done_testing
fi

preload=""
setup="--buildtype=release -Db_ndebug=true"
case "$san" in
"" | none) ;;
*)
    setup="--buildtype=debug -Db_sanitize=$san -Db_lundef=false"
    for rt in asan ubsan; do
        case "$rt:$san" in
        asan:*address* | ubsan:*undefined*)
            lib=$(gcc -print-file-name="lib$rt.so")
            [ -e "$lib" ] || { skip "python binding" "no lib$rt.so for gcc"; done_testing; }
            preload="$preload $lib" ;;
        esac
    done
    ;;
esac

if [ ! -f "$ext/build.ninja" ]; then
    # shellcheck disable=SC2086
    CC=gcc meson setup "$ext" python $setup >"$TMP/setup" 2>&1 ||
        sed 's/^/# /' "$TMP/setup" | tail -20
fi
ninja -C "$ext" >"$TMP/build" 2>&1
st=$?
[ $st -eq 0 ] || sed 's/^/# /' "$TMP/build" | tail -30
ok $st "the extension builds (ninja -C $ext)"
[ $st -eq 0 ] || done_testing

# Memory and interrupt tests run python subprocesses and signals: keep the
# rest of the suite's environment out of it. TMPDIR: pytest's own
# temporary directories (pytest-of-USER) are under $TMP, so that two runs
# side by side (the release and the sanitizer build, tests/run.sh) share
# nothing. (With --basetemp, Debian 12's pytest failed every test using
# tmp_path with FileExistsError.)
LD_PRELOAD="${preload# }" ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    WN_PY_SANITIZED=$([ -n "$preload" ] && echo 1) \
    PYTHONPATH="$ext" BUILD="$BUILD" WINNOW="$WINNOW" \
    WN_SHARED="${WN_SHARED:-$top/../shared}" \
    TMPDIR="$TMP" \
    "$PY" -m pytest -q -p no:cacheprovider --junitxml="$TMP/junit.xml" \
    python/tests >"$TMP/pytest" 2>&1
pst=$?
"$PY" - "$TMP/junit.xml" <<'PY' >"$TMP/tap"
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception as e:
    print(f"not ok - pytest wrote no report ({e})")
    sys.exit(0)
for case in root.iter("testcase"):
    name = f"{case.get('classname', '')}.{case.get('name')}"
    kinds = {c.tag for c in case}
    if "failure" in kinds or "error" in kinds:
        print(f"not ok - {name}")
    elif "skipped" in kinds:
        why = next(c for c in case if c.tag == "skipped").get("message", "")
        print(f"ok - {name} # SKIP {why}")
    else:
        print(f"ok - {name}")
PY
while IFS= read -r line; do
    case "$line" in
    "ok - "*"# SKIP"*)
        rest=${line#ok - }
        skip "${rest%% # SKIP*}" "${rest#*# SKIP }" ;;
    "ok - "*) ok 0 "${line#ok - }" ;;
    *) ok 1 "${line#not ok - }" ;;
    esac
done <"$TMP/tap"
if [ $pst -ne 0 ]; then
    grep -v '^\.' "$TMP/pytest" | sed 's/^/# /' | tail -60
    grep -q '^not ok' "$TMP/tap" || ok 1 "pytest exited with status $pst"
fi
done_testing
