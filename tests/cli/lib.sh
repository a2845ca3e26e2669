# TAP helpers for the CLI tests. Sourced by tests/cli/test_*.sh, which run
# with WINNOW=<path to build/winnow> and BUILD=<build dir> from the
# repository root.
set -u
: "${WINNOW:=build/winnow}"
: "${BUILD:=build}"
tap_n=0
tap_failed=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/winnow-cli.XXXXXX")
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT

ok() { # ok CONDITION-EXIT-STATUS DESCRIPTION
    tap_n=$((tap_n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $tap_n - $2"
    else
        echo "not ok $tap_n - $2"
        tap_failed=$((tap_failed + 1))
    fi
}

skip() {
    tap_n=$((tap_n + 1))
    echo "ok $tap_n - $1 # SKIP $2"
}

# expect_status WANT DESCRIPTION -- COMMAND...: run, check the exit status.
expect_status() {
    want=$1; desc=$2; shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "# $desc: exit $got, wanted $want; stderr:" >&2
        sed 's/^/#   /' "$TMP/err" | head -20
    fi
    [ "$got" -eq "$want" ]
    ok $? "$desc"
}

# json_get FILE KEY: a top-level value of a JSON file.
json_get() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# accounting DIR: read = kept + removed + rejected, and each count matches
# the lines of its file.
accounting() {
    python3 - "$1" <<'PY'
import json, sys
d = sys.argv[1]
s = json.load(open(d + "/stats.json"))
def lines(name):
    with open(d + "/" + name, "rb") as f:
        return sum(1 for _ in f)
ok = (s["read"] == s["kept"] + s["removed"] + s["rejected"]
      and lines("kept.jsonl") == s["kept"]
      and lines("removed.jsonl") == s["removed"]
      and lines("rejected.jsonl") == s["rejected"])
if not ok:
    print("# accounting failed:", s["read"], s["kept"], s["removed"],
          s["rejected"], lines("kept.jsonl"), lines("removed.jsonl"),
          lines("rejected.jsonl"))
sys.exit(0 if ok else 1)
PY
}

# same_outputs DIR1 DIR2: the data outputs are byte-identical.
same_outputs() {
    for f in kept.jsonl removed.jsonl clusters.jsonl rejected.jsonl; do
        cmp -s "$1/$f" "$2/$f" || { echo "# $f differs"; return 1; }
    done
    return 0
}

# left_as_before PREV OUT FILE...: each FILE of OUT equals PREV's, byte for
# byte, and no temporary directory is left in OUT (a failed or interrupted
# run must leave the previous outputs as they were). Status 0 when so.
left_as_before() {
    prev=$1 out=$2 bad=0
    shift 2
    for f in "$@"; do
        cmp -s "$prev/$f" "$out/$f" || { echo "# $f changed"; bad=1; }
    done
    left=$(ls -A "$out" | grep -c '^\.winnow-tmp-')
    [ "$left" -eq 0 ] || { echo "# $left temporary directories left"; bad=1; }
    return $bad
}

# run_started DIR: a run writing to DIR has made its temporary directory
# and written the marker that makes it winnow's (lib/io/outfile.c). A run
# killed before the marker is written leaves a directory no later run may
# remove, so a test that kills a run mid-way waits for this first (polling
# the directory alone raced with the marker under load).
run_started() {
    for m in "$1"/.winnow-tmp-*/.winnow-run; do
        [ -s "$m" ] && return 0
    done
    return 1
}

done_testing() {
    echo "1..$tap_n"
    exit 0
}
