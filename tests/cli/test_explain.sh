#!/bin/sh
# winnow explain: golden outputs on small pairs written for these tests
# (tests/cli/explain/: an exact copy, a copy under a new header, a truncated
# copy, a pair sharing only a stock phrase, a template pair with other
# figures, multi-byte text, Korean, a near copy whose figures all changed),
# each golden naming its profile (the verdict is wn_sketcher_compare's, the
# rule of dedup), the verdict against what winnow dedup does with the pair
# under every profile, the JSON checked against the texts themselves, ids
# with --input, colour only on a terminal, and the errors.
. "$(dirname "$0")/lib.sh"
case $WINNOW in /*) ;; *) WINNOW=$PWD/$WINNOW ;; esac
FIX=$PWD/tests/cli/explain

# Golden text outputs, run from the fixture directory so names are short:
# expected/A--B.txt with --profile classic, expected/PROFILE--A--B.txt with
# the news and web rules.
PAIRS="base:copy base:header base:truncated phrase_a:phrase_b
    template_a:template_b multibyte_a:multibyte_b korean_a:korean_b
    figures_a:figures_b"
golden() { # profile a b file
    (cd "$FIX" && "$WINNOW" explain --no-color --profile "$1" "$2.txt" \
        "$3.txt") >"$TMP/$4" 2>"$TMP/err"
    st=$?
    diff -u "$FIX/expected/$4" "$TMP/$4" >"$TMP/diff" 2>&1
    d=$?
    [ $st -eq 0 ] && [ $d -eq 0 ]
    r=$?
    [ $r -eq 0 ] || sed 's/^/# /' "$TMP/diff" "$TMP/err" | head -30
    ok $r "explain --profile $1 $2 $3: the golden output"
}
for pair in $PAIRS; do
    golden classic "${pair%%:*}" "${pair#*:}" "${pair%%:*}--${pair#*:}.txt"
done
golden news figures_a figures_b news--figures_a--figures_b.txt
golden news base truncated news--base--truncated.txt
golden web base truncated web--base--truncated.txt
grep -q "^verdict: distinct (news rule): .*, but the figures conflict" \
    "$FIX/expected/news--figures_a--figures_b.txt" &&
    grep -q "^  figures               conflict" \
        "$FIX/expected/news--figures_a--figures_b.txt"
ok $? "explain --profile news: a near copy whose figures changed is distinct"

# The verdict is what winnow dedup does with the pair: one of the two
# removed exactly when explain says exact, near, contained or flash, under
# every profile (the default threshold of each).
agree=0
for profile in classic news web; do
    for pair in $PAIRS; do
        a=${pair%%:*}
        b=${pair#*:}
        rm -rf "$TMP/pair" "$TMP/pair-out"
        mkdir -p "$TMP/pair"
        cp "$FIX/$a.txt" "$TMP/pair/1-$a.txt"
        cp "$FIX/$b.txt" "$TMP/pair/2-$b.txt"
        "$WINNOW" dedup -q --profile "$profile" -o "$TMP/pair-out" "$TMP/pair"
        removed=$(python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["removed"])' "$TMP/pair-out/stats.json")
        v=$("$WINNOW" explain --json --profile "$profile" "$FIX/$a.txt" \
            "$FIX/$b.txt" | python3 -c 'import json,sys
print(json.load(sys.stdin)["verdict"])')
        case $v in exact | near | contained | flash) want=1 ;; *) want=0 ;; esac
        if [ "$removed" != "$want" ]; then
            echo "# --profile $profile $a $b: explain says $v, dedup removed $removed"
            agree=1
        fi
    done
done
ok $agree "explain: the verdict is dedup's for every pair under every profile"

(cd "$FIX" && "$WINNOW" explain --no-color --profile classic --containment=0.9 base.txt \
    truncated.txt) >"$TMP/cont.txt" 2>&1
diff -u "$FIX/expected/base--truncated-containment.txt" "$TMP/cont.txt" |
    sed 's/^/# /' | head -20
cmp -s "$FIX/expected/base--truncated-containment.txt" "$TMP/cont.txt"
ok $? "explain --containment=0.9 base truncated: contained, the golden output"

(cd "$FIX" && "$WINNOW" explain --json --profile classic korean_a.txt korean_b.txt) \
    >"$TMP/korean.json" 2>&1
cmp -s "$FIX/expected/korean_a--korean_b.json" "$TMP/korean.json"
ok $? "explain --json korean: the golden JSON"

# Every pair's JSON against the texts: offsets are UTF-8 byte offsets of the
# original, lines match them, the shared text is the same words on both
# sides, runs do not overlap, what is left over is the rest, and the
# verdicts are the expected ones.
python3 - "$WINNOW" "$FIX" <<'PY'
import json, re, subprocess, sys, unicodedata
winnow, fix = sys.argv[1], sys.argv[2]
want = {("base", "copy"): "exact", ("base", "header"): "near",
        ("base", "truncated"): "distinct", ("phrase_a", "phrase_b"): "distinct",
        ("template_a", "template_b"): "distinct",
        ("multibyte_a", "multibyte_b"): "near", ("korean_a", "korean_b"): "near"}
news = {("figures_a", "figures_b"): "distinct", ("base", "truncated"): "near",
        ("base", "header"): "near", ("template_a", "template_b"): "distinct"}
web = {("base", "truncated"): "contained"}
def words(s):
    return re.findall(r"\w+", unicodedata.normalize("NFKC", s).casefold())
bad = []
cases = [("classic", p, v) for p, v in want.items()] + \
    [("news", p, v) for p, v in news.items()] + \
    [("web", p, v) for p, v in web.items()]
for profile, (a, b), verdict in cases:
    out = subprocess.run([winnow, "explain", "--json", "--profile", profile,
                          f"{a}.txt", f"{b}.txt"],
                         cwd=fix, capture_output=True, check=True).stdout
    j = json.loads(out)
    ta = open(f"{fix}/{a}.txt", "rb").read()
    tb = open(f"{fix}/{b}.txt", "rb").read()
    if j["verdict"] != verdict or j["profile"] != profile or \
            j["options"]["profile"] != profile:
        bad.append(f"{profile} {a} {b}: verdict {j['verdict']}, wanted {verdict}")
    def check_span(t, s, what):
        piece = t[s["start"]:s["end"]].decode("utf-8")  # whole characters
        if t[:s["start"]].count(b"\n") + 1 != s["line"]:
            bad.append(f"{a} {b} {what}: line {s['line']}")
        if t[:max(s["end"] - 1, 0)].count(b"\n") + 1 != s["line_end"]:
            bad.append(f"{a} {b} {what}: line_end {s['line_end']}")
        return piece
    cover = {"a": set(), "b": set()}
    for r in j["shared"]:
        pa = check_span(ta, r["a"], "shared a")
        pb = check_span(tb, r["b"], "shared b")
        if words(pa) != words(pb) or pa != r["text"]:
            bad.append(f"{a} {b}: shared text differs at {r['a']['start']}")
        for side in "ab":
            rng = set(range(r[side]["start"], r[side]["end"]))
            if rng & cover[side]:
                bad.append(f"{a} {b}: runs overlap on {side}")
            cover[side] |= rng
    for side, t in (("a", ta), ("b", tb)):
        left = [check_span(t, s, "only") for s in j["only_" + side]]
        if [s["text"] for s in j["only_" + side]] != left:
            bad.append(f"{a} {b}: only_{side} text")
        # Words of the shared runs and the leftovers are the text's words.
        pieces = sorted([(r[side]["start"], r["text"] if side == "a" else
                          tb[r["b"]["start"]:r["b"]["end"]].decode())
                         for r in j["shared"]] +
                        [(s["start"], s["text"]) for s in j["only_" + side]])
        if sum((words(p) for _, p in pieces), []) != words(t.decode()):
            bad.append(f"{a} {b}: side {side} is not shared + only")
# The newspaper page: masthead, byline, "Link copied" only in B.
j = json.loads(subprocess.run([winnow, "explain", "--json", "base.txt",
                               "header.txt"], cwd=fix, capture_output=True).stdout)
only_b = " ".join(s["text"] for s in j["only_b"])
for s in ("THE TALLOW GAZETTE", "By Wendell Okafor", "Link copied"):
    if s not in only_b:
        bad.append(f"header: {s!r} not in only_b")
for m in bad:
    print("#", m)
sys.exit(1 if bad else 0)
PY
ok $? "explain --json: offsets, lines, texts and verdicts agree with the files"

# A passage printed twice on one side is shared once and left over once.
{ cat "$FIX/base.txt"; sed -n 3p "$FIX/base.txt"; } >"$TMP/twice.txt"
"$WINNOW" explain --json "$FIX/base.txt" "$TMP/twice.txt" >"$TMP/twice.json"
python3 - "$TMP/twice.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
ok = (len(j["shared"]) == 1 and len(j["only_b"]) == 1 and
      j["only_b"][0]["text"].startswith("The Quarry Lane bridge") and
      j["only_b"][0]["line"] == 12)
sys.exit(0 if ok else 1)
PY
ok $? "explain: a paragraph printed twice is shared once, left over once"

# Two ids from --input give what the two files give.
(cd "$FIX" && "$WINNOW" explain --no-color --profile classic --input records.jsonl n1 s2) \
    >"$TMP/ids.txt" 2>&1
tail -n +3 "$TMP/ids.txt" >"$TMP/ids.body"
# (the golden's profile is classic)
tail -n +3 "$FIX/expected/template_a--template_b.txt" >"$TMP/files.body"
head -2 "$TMP/ids.txt" | grep -q '^A: n1 (432 bytes' &&
    cmp -s "$TMP/ids.body" "$TMP/files.body"
ok $? "explain --input FILE ID ID: the same as the two files"

# With no --profile, explain decides as winnow dedup does with no options:
# the library's default profile (news).
(cd "$FIX" && "$WINNOW" explain --json base.txt truncated.txt) >"$TMP/dflt.json" 2>&1
(cd "$FIX" && "$WINNOW" explain --json --profile news base.txt truncated.txt) >"$TMP/news.json" 2>&1
cmp -s "$TMP/dflt.json" "$TMP/news.json" && grep -q '"profile": *"news"' "$TMP/dflt.json"
ok $? "explain with no --profile: the news rule, dedup's default"

# A JSONL file of one record is one document.
head -1 "$FIX/records.jsonl" >"$TMP/one.jsonl"
"$WINNOW" explain --json "$TMP/one.jsonl" "$FIX/template_b.txt" \
    >"$TMP/one.json" 2>&1 &&
    grep -q '"verdict": "distinct"' "$TMP/one.json" &&
    grep -q '"tokens": 79' "$TMP/one.json"
ok $? "explain: a JSONL file of one record is one document"

# Ill-formed UTF-8 in a text: the JSON stays valid, with U+FFFD in its place.
printf 'caf\303 ok one two three four five six seven\n' >"$TMP/bad1.txt"
printf 'caf\303 ok one two three four five six seven eight\n' >"$TMP/bad2.txt"
"$WINNOW" explain --json "$TMP/bad1.txt" "$TMP/bad2.txt" >"$TMP/bad.json" &&
    python3 -c 'import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))
sys.exit(0 if j["shared"][0]["text"].startswith("caf\ufffd ok") else 1)' "$TMP/bad.json"
ok $? "explain --json: ill-formed UTF-8 becomes U+FFFD, the JSON stays valid"

# Colour: never into a file or pipe, on a terminal unless --no-color.
"$WINNOW" explain "$FIX/base.txt" "$FIX/header.txt" >"$TMP/plain.txt"
! grep -q "$(printf '\033')" "$TMP/plain.txt"
ok $? "explain: no colour when stdout is not a terminal"
if script -qc "true" /dev/null >/dev/null 2>&1; then
    script -qc "'$WINNOW' explain '$FIX/base.txt' '$FIX/header.txt'" \
        /dev/null >"$TMP/tty.txt" 2>&1
    grep -q "$(printf '\033')\[32m" "$TMP/tty.txt"
    ok $? "explain: colour on a terminal"
    script -qc "'$WINNOW' explain --no-color '$FIX/base.txt' '$FIX/header.txt'" \
        /dev/null >"$TMP/tty2.txt" 2>&1
    ! grep -q "$(printf '\033')" "$TMP/tty2.txt"
    ok $? "explain --no-color: no colour on a terminal"
else
    skip "explain: colour on a terminal" "script(1) cannot make a terminal"
    skip "explain --no-color on a terminal" "script(1) cannot make a terminal"
fi

# Errors.
expect_status 2 "explain with one document: usage error" -- \
    "$WINNOW" explain "$FIX/base.txt"
expect_status 2 "explain of a JSONL file of three records: usage error" -- \
    "$WINNOW" explain "$FIX/records.jsonl" "$FIX/base.txt"
grep -q "holds 3 records" "$TMP/err"
ok $? "explain: the message says how many records the file holds"
expect_status 1 "explain of a missing file fails" -- \
    "$WINNOW" explain "$FIX/base.txt" "$TMP/nope.txt"
grep -q "cannot open '$TMP/nope.txt'" "$TMP/err"
ok $? "explain: the message names the missing file"
expect_status 1 "explain of an unknown id fails" -- \
    "$WINNOW" explain --input "$FIX/records.jsonl" n1 zz
grep -q "no record with id 'zz'" "$TMP/err"
ok $? "explain: the message names the unknown id"
expect_status 2 "explain --threshold 1: usage error" -- \
    "$WINNOW" explain --threshold 1 "$FIX/base.txt" "$FIX/copy.txt"

echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
