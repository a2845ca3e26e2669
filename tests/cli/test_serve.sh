#!/bin/sh
# End-to-end tests of `winnow serve`: the endpoints, the same answers as
# `winnow index check`, bad requests that change nothing, concurrent
# clients, SIGTERM draining a request in flight, restart and reopen, and a
# kill -9 loop after which every acknowledged add is in the index. The
# server listens on a free port chosen by the kernel (--listen ...:0).
. "$(dirname "$0")/lib.sh"

W=$WINNOW
GEN="$BUILD/bench/gen"
command -v curl >/dev/null || { skip "serve" "curl is not installed"; done_testing; }

SPID=
URL=
start_server() { # start_server INDEX [OPTIONS...]: sets SPID and URL
    ix=$1
    shift
    : >"$TMP/serve.err"
    "$W" serve --index "$ix" --listen 127.0.0.1:0 "$@" 2>"$TMP/serve.err" &
    SPID=$!
    n=0
    until grep -q "serving" "$TMP/serve.err"; do
        n=$((n + 1))
        if [ $n -gt 1200 ] || ! kill -0 "$SPID" 2>/dev/null; then
            sed 's/^/# /' "$TMP/serve.err"
            return 1
        fi
        sleep 0.05
    done
    URL=$(sed -n 's|.* on \(http://[0-9.:]*\)/$|\1|p' "$TMP/serve.err")
}

stop_server() { # SIGTERM; the exit status of the server
    kill -TERM "$SPID"
    wait "$SPID"
}

post() { # post PATH BODY: the answer on stdout, the status in $TMP/code
    curl -s --max-time 120 -o - -w '%{http_code}' -X POST "$URL$1" \
        --data-binary "$2" >"$TMP/resp"
    tail -n 1 "$TMP/resp" >"$TMP/code"
    sed '$d' "$TMP/resp"
}

code() { cat "$TMP/code"; }

records() { # the records of the index, from GET /stats
    curl -s "$URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])'
}

start_server "$TMP/ix" --create --max-body 64K
ok $? "serve starts on a free port and says where"
case "$URL" in http://127.0.0.1:*) r=0 ;; *) r=1 ;; esac
ok $r "it listens on loopback"
[ "$(curl -s "$URL/health")" = '{"ok":true}' ]
ok $? "GET /health"

a='{"id":"a","text":"The harbour festival opened on Friday with a parade of fishing boats decorated with lanterns and flags, and thousands lined the quay."}'
b='{"id":"b","text":"THE HARBOUR FESTIVAL opened on Friday with a parade of fishing boats decorated with lanterns and flags, and thousands lined the quay!"}'
c='{"id":7,"text":"A completely different story about a library that reopened after two years of repairs to its roof and windows."}'
post /check "$a" >"$TMP/r1"
[ "$(code)" = 200 ] && grep -q '"id":"a","new":true,"duplicate_of":null' "$TMP/r1"
ok $? "POST /check: a new record"
post /check "$b" >"$TMP/r2"
grep -q '"id":"b","new":false,"duplicate_of":"a","similarity":1.0000,"reason":"exact"' "$TMP/r2"
ok $? "POST /check: its copy names it"
post /check "$c" >"$TMP/r3"
grep -q '"id":"7","new":true' "$TMP/r3"
ok $? "a numeric id is taken as its text"

# The service answers what `winnow index check` answers for the same records.
printf '%s\n%s\n%s\n' "$a" "$b" "$c" >"$TMP/abc.jsonl"
"$W" index create "$TMP/cli-ix" >/dev/null
"$W" index check "$TMP/cli-ix" "$TMP/abc.jsonl" >"$TMP/cli.out" 2>/dev/null
cat "$TMP/r1" "$TMP/r2" "$TMP/r3" | cmp -s - "$TMP/cli.out"
ok $? "the answers are the objects winnow index check prints"

post /query '{"text":"The harbour festival opened on Friday with a parade of fishing boats decorated with lanterns and flags, and thousands lined the quay.","matches":2}' >"$TMP/q"
grep -q '"new":false,"duplicate_of":"a"' "$TMP/q" && grep -q '"matches":\[' "$TMP/q" &&
    [ "$(records)" = 2 ]
ok $? "POST /query answers with matches and adds nothing"

# Bad requests: 4xx with a message, nothing changed.
n0=$(records)
post /check '{"id":"x","text":"unterminated' >"$TMP/e"
[ "$(code)" = 400 ] && grep -q '"error":"malformed JSON' "$TMP/e"
ok $? "malformed JSON: 400 with a message"
post /check '{"id":"x"}' >"$TMP/e"
[ "$(code)" = 400 ] && grep -q 'text' "$TMP/e"
ok $? "a missing text: 400"
post /check '{"id":"x","text":42}' >/dev/null
[ "$(code)" = 400 ]
ok $? "a text that is not a string: 400"
post /check '{"text":"no id to store it under"}' >"$TMP/e"
[ "$(code)" = 400 ] && grep -q 'id' "$TMP/e"
ok $? "a check without an id: 400"
post /check '[1,2]' >/dev/null
[ "$(code)" = 400 ]
ok $? "not an object: 400"
python3 -c 'print("{\"id\":\"big\",\"text\":\"" + "word " * 20000 + "\"}")' >"$TMP/big.json"
post /check "@$TMP/big.json" >"$TMP/e"
[ "$(code)" = 413 ] && grep -q 'max-body' "$TMP/e"
ok $? "a body over --max-body: 413"
printf '%s\n%s\n' '{"id":"ok1","text":"a fine line of text for the batch"}' '{"id":"bad"}' >"$TMP/badbatch"
post /batch "@$TMP/badbatch" >"$TMP/e"
[ "$(code)" = 400 ] && grep -q 'line 2' "$TMP/e"
ok $? "a batch with a bad line: 400 naming the line"
post /nothing '{}' >/dev/null
[ "$(code)" = 404 ]
ok $? "an unknown endpoint: 404"
curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/check" >"$TMP/code"
[ "$(code)" = 405 ]
ok $? "another method: 405"
[ "$(records)" = "$n0" ]
ok $? "bad requests changed nothing"

# Request bodies are read by a fast in-place parser and, for anything it
# does not take (nested values, fractions, long integers, malformed
# input), by jansson: both must read the same values. The id comes back
# in the answer, so ids carry the escapes; bad input gets 400 either way.
cat >"$TMP/parse.py" <<'PY'
import http.client, json, sys
host, port = sys.argv[1][len("http://"):].split(":")
conn = http.client.HTTPConnection(host, int(port), timeout=60)
text = '"The river \\"ferry\\" resumed service on Monday,\\n after the floods."'
def post(body):
    conn.request("POST", "/query", body)
    r = conn.getresponse()
    return r.status, r.read()
good = [  # (body, the id it must answer)
    ('{"id":"caf\\u00e9","text":%s}' % text, "caf\u00e9"),
    ('{"id":"caf\u00e9 \u20ac","text":%s}' % text, "caf\u00e9 \u20ac"),
    ('{"id":"smile \\ud83d\\ude00","text":%s}' % text, "smile \U0001F600"),
    ('{"id":"q\\"b\\\\s\\/n\\nt\\tb\\bf\\fr\\r","text":%s}' % text,
     "q\"b\\s/n\nt\tb\bf\fr\r"),
    (' \t{ "text" : %s ,\r\n "id" : "ws" } \n' % text, "ws"),
    ('{"id":"first","text":%s,"id":"last"}' % text, "last"),
    ('{"id":"x","id":-0,"text":%s}' % text, "0"),
    ('{"id":123456789012345678,"text":%s}' % text, "123456789012345678"),
    ('{"id":1234567890123456789,"text":%s}' % text, "1234567890123456789"),
    ('{"id":"nested","meta":{"a":[1,2.5,{"b":null}]},"text":%s}' % text, "nested"),
    ('{"id":"lit","a":true,"b":false,"c":null,"d":-12,"text":%s}' % text, "lit"),
    ('{"id":"frac","score":0.5,"text":%s}' % text, "frac"),
    ('{"id":"","text":%s,"id":"late id"}' % text, "late id"),
]
bad = [
    '{"id":"nul\\u0000","text":"a"}',
    '{"id":"lone \\udc00","text":"a"}',
    '{"id":"half \\ud83d","text":"a"}',
    '{"id":"bad \\x","text":"a"}',
    '{"id":"raw\ttab","text":"a"}',
    '{"id":"a","text":"b"}x',
    '{"id":"a","text":"b",}',
    '{"id":"a" "text":"b"}',
    '{"id":01,"text":"b"}',
    '{"id":"a","text":"b"',
]
fails = 0
for body, want in good:
    st, out = post(body.encode("utf-8"))
    got = json.loads(out).get("id") if st == 200 else None
    if st != 200 or got != want:
        print("# %r: %d %r" % (body, st, out))
        fails += 1
st, out = post(b'{"id":"bad \xff utf8","text":"a"}')
fails += st != 400
for body in bad:
    st, out = post(body.encode("utf-8"))
    if st != 400 or b"malformed JSON" not in out:
        print("# %r: %d %r" % (body, st, out))
        fails += 1
st, out = post(b'{"id":1.5,"text":"a"}')
fails += st != 400 or b"string or an integer" not in out
print(fails)
PY
python3 "$TMP/parse.py" "$URL" >"$TMP/parse.out" 2>&1
[ "$(tail -n 1 "$TMP/parse.out")" = 0 ]
ok $? "bodies read in place and by jansson give the same values and errors"
sed '$d' "$TMP/parse.out"

# /batch: NDJSON in, NDJSON out, in order, blank lines skipped.
printf '%s\n\n%s\n%s\n' '{"id":"n1","text":"first of the batch, about a bridge"}' \
    '{"id":"n2","text":"second of the batch, about a road"}' \
    '{"id":"n3","text":"first of the batch, about a bridge"}' >"$TMP/batch"
post /batch "@$TMP/batch" >"$TMP/br"
[ "$(code)" = 200 ] && [ "$(wc -l <"$TMP/br")" -eq 3 ] &&
    sed -n 3p "$TMP/br" | grep -q '"id":"n3","new":false,"duplicate_of":"n1"'
ok $? "POST /batch answers each line in order; a line sees the ones before"
post '/batch?mode=query' "@$TMP/batch" >"$TMP/br"
[ "$(grep -c '"new":false' "$TMP/br")" -eq 3 ] && [ "$(records)" = $((n0 + 2)) ]
ok $? "POST /batch?mode=query adds nothing"

# Concurrent clients: 8 threads, each checking the same 60 texts under its
# own ids, over keep-alive connections: each text is added exactly once.
"$GEN" --seed 11 --docs 60 --out "$TMP/c.jsonl" --exact-rate 0 --norm-rate 0 \
    --near-rate 0 --hard-rate 0 2>/dev/null
cat >"$TMP/clients.py" <<'PY'
import http.client, json, sys, threading
url, corpus, nthreads = sys.argv[1], sys.argv[2], int(sys.argv[3])
host, port = url[len("http://"):].split(":")
docs = [json.loads(l) for l in open(corpus)]
new = []
errors = []
def client(t):
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    for i in range(len(docs)):
        d = docs[(i * 7 + t * 13) % len(docs)]
        body = json.dumps({"id": "c%d-%s" % (t, d["id"]), "text": d["text"]})
        conn.request("POST", "/check", body)
        r = conn.getresponse()
        a = json.loads(r.read())
        if r.status != 200:
            errors.append(r.status)
        elif a["new"]:
            new.append(d["id"])
ts = [threading.Thread(target=client, args=(t,)) for t in range(nthreads)]
for t in ts: t.start()
for t in ts: t.join()
print(len(new), len(set(new)), len(errors))
PY
n1=$(records)
python3 "$TMP/clients.py" "$URL" "$TMP/c.jsonl" 8 >"$TMP/cc"
[ "$(cat "$TMP/cc")" = "60 60 0" ] && [ "$(records)" = $((n1 + 60)) ]
ok $? "8 concurrent clients: each of 60 texts added once ($(cat "$TMP/cc"))"
curl -s "$URL/stats" | grep -q '"commits":'
ok $? "GET /stats reports the service's counts"

# Another process reads the index while the server writes to it.
"$W" index query "$TMP/ix" "$TMP/c.jsonl" >"$TMP/other" 2>"$TMP/err" &&
    [ "$(grep -c '"reason":"exact"' "$TMP/other")" -eq 60 ]
ok $? "winnow index query reads the index the server holds open"
# The server's adds wait in its write-ahead log (docs/INDEX.md): a reader
# counts them; a writer in another process is refused while it runs.
"$W" index stats "$TMP/ix" | grep -q '"log_records":[1-9]'
ok $? "index stats counts the adds still in the server's log"
expect_status 1 "index add refused while the server holds the log" -- \
    "$W" index add "$TMP/ix" "$TMP/c.jsonl"
grep -q "write-ahead log" "$TMP/err"
ok $? "... saying why"

# SIGTERM while a request is in flight: the server waits for it, answers
# it, and exits 0. The client sends its headers, waits until the server
# counts the request, then the server is signalled, then the body follows.
cat >"$TMP/slow.py" <<'PY'
import json, socket, sys, time, urllib.request
url, out, flag = sys.argv[1], sys.argv[2], sys.argv[3]
host, port = url[len("http://"):].split(":")
body = "".join(json.dumps({"id": "s%d" % i, "text": "slow request record %d about a harbour" % i}) + "\n"
               for i in range(200)).encode()
s = socket.create_connection((host, int(port)))
s.sendall(("POST /batch HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
           "Content-Type: application/x-ndjson\r\n\r\n" % len(body)).encode())
while True:  # until the server counts this request and the one asking
    st = json.loads(urllib.request.urlopen(url + "/stats").read())
    if st["service"]["in_flight"] >= 2:
        break
    time.sleep(0.02)
open(flag, "w").close()
while not open(flag).read():  # the test writes "sent" after the SIGTERM
    time.sleep(0.02)
s.sendall(body)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
open(out, "wb").write(data)
PY
rm -f "$TMP/flag"
python3 "$TMP/slow.py" "$URL" "$TMP/slow.out" "$TMP/flag" &
cpid=$!
n=0
until [ -e "$TMP/flag" ] || [ $n -gt 1200 ]; do sleep 0.05; n=$((n + 1)); done
kill -TERM "$SPID"
sleep 0.2
echo sent >"$TMP/flag"
wait "$cpid"
wait "$SPID"
st=$?
[ "$st" -eq 0 ] && head -n 1 "$TMP/slow.out" | grep -q ' 200 ' &&
    [ "$(grep -c '"new":true' "$TMP/slow.out")" -eq 200 ]
ok $? "SIGTERM drains: the request in flight is answered, exit 0 (status $st)"
grep -q "SIGTERM: stopped" "$TMP/serve.err"
ok $? "... and the server says it stopped"

# Restart on the same index: everything added is there.
"$W" index stats "$TMP/ix" >"$TMP/st"
grep -q "\"records\":$((n1 + 60 + 200))," "$TMP/st"
ok $? "the index holds every add after the server stopped"
start_server "$TMP/ix"
post /check "$a" >"$TMP/r"
grep -q '"id":"a","new":false,"duplicate_of":"a","similarity":1.0000,"reason":"id"' "$TMP/r"
ok $? "restarted: a retried id is answered, not added twice"
post /query "$b" | grep -q '"duplicate_of":"a"'
ok $? "restarted: earlier records are found"
# A batch of blank lines takes no room; one of too many records is a 413.
rss() { awk '/VmRSS/{print $2}' "/proc/$SPID/status"; }
rss0=$(rss)
python3 -c 'import sys; sys.stdout.write("\n" * (4 << 20))' >"$TMP/blank"
post /batch "@$TMP/blank" >"$TMP/e"
[ "$(code)" = 200 ] && [ ! -s "$TMP/e" ] && [ $(( $(rss) - rss0 )) -lt 65536 ]
ok $? "a batch of 4 MiB of blank lines: 200, nothing, no memory kept ($(( $(rss) - rss0 )) KiB)"
python3 -c 'import sys; sys.stdout.write("x\n" * 100001)' >"$TMP/many"
post /batch "@$TMP/many" >"$TMP/e"
[ "$(code)" = 413 ] && grep -q 'at most 100000 records' "$TMP/e"
ok $? "a batch of over 100,000 records: 413"
stop_server
ok $? "a second SIGTERM stop exits 0"

# 64 clients over one request thread (--threads 1): a check suspends its
# connection until its group is durable, so the thread goes on reading the
# others. Each round, two clients send the same text under their own ids at
# once (a barrier): one is new, the other names it, whether the two landed
# in one group commit or in two.
"$GEN" --seed 13 --docs 320 --out "$TMP/p.jsonl" --exact-rate 0 --norm-rate 0 \
    --near-rate 0 --hard-rate 0 2>/dev/null
cat >"$TMP/pairs.py" <<'PY'
import http.client, json, sys, threading
url, corpus, nthreads = sys.argv[1], sys.argv[2], int(sys.argv[3])
host, port = url[len("http://"):].split(":")
docs = [json.loads(l) for l in open(corpus)]
rounds = len(docs) // (nthreads // 2)
barrier = threading.Barrier(nthreads)
answers = {}
errors = []
lock = threading.Lock()
def client(t):
    try:
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        for r in range(rounds):
            d = docs[r * (nthreads // 2) + t // 2]
            barrier.wait()
            ident = "p%d-%d" % (t, r)
            conn.request("POST", "/check", json.dumps({"id": ident, "text": d["text"]}))
            resp = conn.getresponse()
            a = json.loads(resp.read())
            with lock:
                if resp.status != 200:
                    errors.append(resp.status)
                answers.setdefault(d["id"], []).append((ident, a))
    except Exception as e:
        errors.append(str(e))
        barrier.abort()
ts = [threading.Thread(target=client, args=(t,)) for t in range(nthreads)]
for t in ts: t.start()
for t in ts: t.join()
bad = 0
for text, pair in answers.items():
    new = [i for i, a in pair if a["new"]]
    old = [a for i, a in pair if not a["new"]]
    if len(pair) != 2 or len(new) != 1 or old[0]["duplicate_of"] != new[0] \
            or old[0]["reason"] != "exact":
        bad += 1
print(len(answers), bad, len(errors))
PY
start_server "$TMP/pix" --create --threads 1 || true
python3 "$TMP/pairs.py" "$URL" "$TMP/p.jsonl" 64 >"$TMP/pp" 2>"$TMP/err"
[ "$(cat "$TMP/pp")" = "320 0 0" ] && [ "$(records)" = 320 ]
ok $? "64 clients, 1 request thread, copies sent at once: one new, one naming it ($(cat "$TMP/pp"))"
curl -s "$URL/stats" | python3 -c '
import json, sys
s = json.load(sys.stdin)["service"]
sys.exit(0 if s["checks"] == 640 and s["commits"] >= 1 and s["syncs"] >= 1
         and s["commits"] <= 640 else 1)'
ok $? "GET /stats counts the checks, commits and syncs"
stop_server
ok $? "stopped"

# kill -9 while 4 clients add: every add that was answered is in the index
# after a restart, and the index opens. Three rounds, killed wherever they
# happen to be.
# Each round adds records of its own (a round whose records the one
# before had all added would log nothing: the server may finish a corpus
# before the kill).
for round in 1 2 3; do
    "$GEN" --seed $((11 + round)) --docs 3000 --out "$TMP/kg.jsonl" 2>/dev/null
    sed "s/^{\"id\":\"gen-/{\"id\":\"r$round-/" "$TMP/kg.jsonl" >"$TMP/k$round.jsonl"
done
cat >"$TMP/adder.py" <<'PY'
import http.client, json, sys, threading
url, corpus, acked, flag = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
host, port = url[len("http://"):].split(":")
docs = [json.loads(l) for l in open(corpus)]
out = open(acked, "a")
lock = threading.Lock()
count = [0]
def client(t):
    try:
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        for d in docs[t::4]:
            conn.request("POST", "/check", json.dumps({"id": d["id"], "text": d["text"]}))
            r = conn.getresponse()
            a = json.loads(r.read())
            if r.status == 200 and a["new"]:
                with lock:
                    out.write(json.dumps(d) + "\n")
                    out.flush()
                    count[0] += 1
                    if count[0] == 10:  # the test may kill from now on
                        open(flag, "w").close()
    except Exception:
        pass  # the server was killed
ts = [threading.Thread(target=client, args=(t,)) for t in range(4)]
for t in ts: t.start()
for t in ts: t.join()
PY
"$W" index create "$TMP/kix" >/dev/null
: >"$TMP/acked.jsonl"
bad=0
logged=0
for round in 1 2 3; do
    start_server "$TMP/kix" || bad=1
    rm -f "$TMP/kflag"
    python3 "$TMP/adder.py" "$URL" "$TMP/k$round.jsonl" "$TMP/acked.jsonl" "$TMP/kflag" &
    apid=$!
    n=0
    until [ -e "$TMP/kflag" ] || [ $n -gt 2400 ]; do sleep 0.05; n=$((n + 1)); done
    sleep 0.$((round * 2))
    kill -9 "$SPID"
    wait "$SPID" 2>/dev/null
    wait "$apid"
    # What was acknowledged since the last checkpoint is in the log only.
    "$W" index stats "$TMP/kix" | grep -q '"log_records":[1-9]' &&
        logged=$((logged + 1))
done
[ "$(wc -l <"$TMP/acked.jsonl")" -ge 30 ] && [ "$logged" -eq 3 ] || bad=1
if [ -s "$TMP/acked.jsonl" ]; then
    "$W" index query "$TMP/kix" "$TMP/acked.jsonl" >"$TMP/found" 2>"$TMP/err" || bad=1
    python3 - "$TMP/found" <<'PY' || bad=1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if all(r["duplicate_of"] == r["id"] and r["reason"] == "exact"
                  for r in rows) else 1)
PY
fi
[ "$bad" -eq 0 ]
ok $? "kill -9 under 4 clients: all $(wc -l <"$TMP/acked.jsonl") acknowledged adds are there ($logged kills left adds in the log)"
# A writer of another process puts a killed server's log into LMDB.
"$W" index add "$TMP/kix" "$TMP/c.jsonl" >/dev/null 2>&1 &&
    "$W" index stats "$TMP/kix" | grep -q '"log_records":0,"log_bytes":0' &&
    [ -z "$(ls "$TMP/kix" | grep '^wal-')" ]
ok $? "after the kills, index add replays the log and removes it"
[ -s "$TMP/acked.jsonl" ] &&
    "$W" index query "$TMP/kix" "$TMP/acked.jsonl" >"$TMP/found" 2>"$TMP/err" &&
    python3 - "$TMP/found" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if rows and all(r["duplicate_of"] == r["id"] for r in rows) else 1)
PY
ok $? "... and every acknowledged add is still there"

expect_status 2 "serve without --index" -- "$W" serve
expect_status 2 "a bad --listen" -- "$W" serve --index "$TMP/ix" --listen nowhere
expect_status 1 "no index at the path" -- "$W" serve --index "$TMP/none" --listen 127.0.0.1:0
done_testing
