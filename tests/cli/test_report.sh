#!/bin/sh
# winnow report DIR: report.html from a dedup run is well-formed,
# self-contained, escapes every text, holds what the run found (counts,
# clusters, frequent lines, sampled pairs with shared passages marked), is
# bounded by its options, is replaced atomically, and renders in headless
# Chromium without a console error (the screenshot is kept under the build
# directory).
. "$(dirname "$0")/lib.sh"
case $WINNOW in /*) ;; *) WINNOW=$PWD/$WINNOW ;; esac
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac

# A corpus: the explain pairs, the example news, and two copies of a record
# whose id and text hold markup.
mkdir -p "$TMP/texts"
cp tests/cli/explain/*.txt examples/news/*.txt "$TMP/texts/"
cat >"$TMP/markup.jsonl" <<'EOF'
{"id":"x<b>1","text":"Breaking: <script>alert('x')</script> & \"quotes\" in a story about the harbour board meeting on Tuesday evening, where members voted to raise mooring fees by five percent."}
{"id":"x<b>2","text":"Breaking: <script>alert('x')</script> & \"quotes\" in a story about the harbour board meeting on Tuesday evening, where members voted to raise mooring fees by five percent."}
EOF
"$WINNOW" dedup -q -o "$TMP/run" "$TMP/texts" "$TMP/markup.jsonl"
ok $? "dedup of the report corpus"

expect_status 0 "report DIR" -- "$WINNOW" report "$TMP/run"
R=$TMP/run/report.html
[ -s "$R" ] && [ -z "$(find "$TMP/run" -name '.report.html.*')" ]
ok $? "report: report.html written, no temporary file left"

# Well-formed: strict XML when xmllint is there, and a tag-balance check.
if command -v xmllint >/dev/null 2>&1; then
    xmllint --noout "$R" 2>"$TMP/xml.err"
    r=$?
    sed 's/^/# /' "$TMP/xml.err" | head -10
    ok $r "report: well-formed (xmllint, XML mode)"
else
    skip "report: well-formed (xmllint)" "xmllint is not installed"
fi
python3 - "$R" <<'PY'
import html.parser, sys
VOID = {"meta", "br", "hr", "img", "input", "link", "line", "rect",
        "polyline", "path", "circle"}
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.bad = [], []
    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        pass
    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.bad.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
p.close()
for b in p.bad[:5]:
    print("#", b)
sys.exit(1 if p.bad or p.stack else 0)
PY
ok $? "report: every element is closed in order (html.parser)"

# Self-contained: no script, no external resource of any kind.
! grep -Eiq '<script|<link|<img|<iframe|src=|@import|url\(' "$R" &&
    [ "$(grep -Eo 'https?://[^"]*' "$R" | sort -u)" = "http://www.w3.org/2000/svg" ]
ok $? "report: self-contained (no script, link, src, url(), only the SVG namespace)"

grep -q "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;" "$R" &&
    grep -q "x&lt;b&gt;2" "$R" && ! grep -q "alert('x')" "$R" &&
    ! grep -q "x<b>" "$R"
ok $? "report: ids and texts are HTML-escaped"

# What the run found is in the page.
python3 - "$TMP/run" <<'PY'
import json, re, sys
d = sys.argv[1]
page = open(d + "/report.html", encoding="utf-8").read()
s = json.load(open(d + "/stats.json"))
clusters = [json.loads(l) for l in open(d + "/clusters.jsonl")]
removed = [json.loads(l) for l in open(d + "/removed.jsonl")]
bad = []
def row(name, v):
    if f"<tr><th>{name}</th><td class=\"n\">{v}</td></tr>" not in page:
        bad.append(f"summary row {name} {v}")
for name, key in (("records read", "read"), ("kept", "kept"),
                  ("removed", "removed"), ("rejected", "rejected"),
                  ("clusters of 2 or more", "clusters")):
    row(name, s[key])
if "every record is accounted for" not in page:
    bad.append("accounting line")
# Every cluster (fewer than the 20 listed) is in the largest-clusters table.
for c in clusters:
    cell = f"<tr><td class=\"n\">{c['cluster']}</td><td class=\"n\">{c['size']}</td>"
    if cell not in page:
        bad.append(f"cluster {c['cluster']} not listed")
# Every cluster is sampled (fewer than 8), each with its removed members
# beside their representative and at least one shared passage marked.
for c in clusters:
    m = re.search(r'<section id="cluster-%d">(.*?)</section>' % c["cluster"],
                  page, re.S)
    if not m:
        bad.append(f"cluster {c['cluster']} not sampled")
        continue
    sec = m.group(1)
    members = [r for r in removed if r["cluster"] == c["cluster"]]
    npairs = sec.count('<div class="pair">')
    if npairs != len(members):
        bad.append(f"cluster {c['cluster']}: {npairs} pairs")
    if "<mark class=\"p0\"" not in sec:
        bad.append(f"cluster {c['cluster']}: nothing marked")
# The boilerplate of the newspaper pages, with the records holding it.
m = re.search(r'<tr><td class="n">(\d+)</td><td>(?:\W+ )?Link copied</td></tr>', page)
if not m or int(m.group(1)) < 2:
    bad.append("Link copied not among the frequent lines")
for needle in ("<polyline", "threshold 0.50", 'id="similarities"',
               'id="sizes"', "bounded sample"):
    if needle not in page:
        bad.append(f"missing {needle}")
for b in bad:
    print("#", b)
sys.exit(1 if bad else 0)
PY
ok $? "report: holds the counts, every cluster, the sampled pairs marked, Link copied"

# Bounded by its options.
cp "$R" "$TMP/full.html"
expect_status 0 "report --samples 1 --members 1 --text-cap 100" -- \
    "$WINNOW" report --samples 1 --members 1 --text-cap 100 --top-clusters 2 "$TMP/run"
n=$(grep -c '<section id="cluster-' "$R")
[ "$n" -eq 1 ] && grep -q "more bytes not shown" "$R" &&
    [ "$(wc -c <"$R")" -lt "$(wc -c <"$TMP/full.html")" ] &&
    grep -q "The 2 largest of" "$R"
ok $? "report: the sample, the texts and the lists follow the options"

# The inputs can be named when stats.json's relative paths do not resolve.
mkdir -p "$TMP/rel/in"
cp tests/cli/explain/base.txt tests/cli/explain/header.txt "$TMP/rel/in/"
(cd "$TMP/rel" && "$WINNOW" dedup -q -o out in)
expect_status 1 "report from elsewhere: the recorded input is missing" -- \
    "$WINNOW" report "$TMP/rel/out"
grep -q "cannot open 'in'" "$TMP/err"
ok $? "report: the message names the input it cannot open"
expect_status 0 "report --input DIR" -- \
    "$WINNOW" report --input "$TMP/rel/in" "$TMP/rel/out"
grep -q '<section id="cluster-0">' "$TMP/rel/out/report.html"
ok $? "report --input: the sampled cluster is there"

expect_status 1 "report of a directory without stats.json" -- \
    "$WINNOW" report "$TMP/texts"
grep -q "stats.json" "$TMP/err"
ok $? "report: the message names stats.json"
expect_status 2 "report without DIR: usage error" -- "$WINNOW" report

# Headless Chromium: the page renders, shows the expected cluster, and logs
# no console error; the screenshot is kept as a test artefact.
CHROME=$(command -v chromium || command -v chromium-browser ||
    command -v google-chrome || true)
if [ -z "$CHROME" ]; then
    skip "report in headless Chromium" \
        "chromium is not installed (apt-get install chromium)"
else
    ART=$BUILD/test-artefacts
    mkdir -p "$ART" "$TMP/profile"
    cp "$TMP/full.html" "$TMP/page.html"
    set -- --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update \
        --disable-sync --user-data-dir="$TMP/profile" \
        --enable-logging=stderr --v=0
    timeout 120 "$CHROME" "$@" --window-size=1280,2000 \
        --screenshot="$ART/report.png" "file://$TMP/page.html" \
        >"$TMP/shot.out" 2>"$TMP/shot.err"
    s1=$?
    timeout 120 "$CHROME" "$@" --dump-dom "file://$TMP/page.html" \
        >"$TMP/dom.html" 2>"$TMP/dom.err"
    s2=$?
    cat "$TMP/shot.err" "$TMP/dom.err" >"$TMP/chrome.log"
    errs=$(grep -Ei 'Uncaught|CONSOLE\(|console\.error|SyntaxError' "$TMP/chrome.log")
    [ $s1 -eq 0 ] && [ $s2 -eq 0 ] && [ -s "$ART/report.png" ] &&
        [ -z "$errs" ] && grep -q '<section id="cluster-0">' "$TMP/dom.html" &&
        grep -q '<mark class="p0"' "$TMP/dom.html"
    r=$?
    [ $r -eq 0 ] || { echo "# chromium $s1 $s2: $errs"; tail -5 "$TMP/chrome.log" | sed 's/^/# /'; }
    ok $r "report in headless Chromium: rendered, cluster 0 shown, no console error (screenshot $ART/report.png)"
fi

echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
