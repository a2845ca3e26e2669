"""winnow.dedup and dedup_frame: the CLI's decisions on records in memory,
every input shape, interruption, failing iterables, bounded memory."""

import gc
import json
import os
import signal
import subprocess
import sys
import threading
import weakref
from collections.abc import Mapping

import pytest

import winnow
from conftest import SANITIZED, cli_outputs, native_env


def assert_same_as_cli(result, kept, removed, clusters, stats):
    """A DedupResult against the CLI's outputs on the same records."""
    assert [str(i) for i in result.kept] == kept
    got = [(str(r.id), str(r.duplicate_of), r.cluster, r.reason)
           for r in result.removed]
    want = [(r["id"], r["duplicate_of"], r["cluster"], r["reason"])
            for r in removed]
    assert got == want
    for g, w in zip(result.removed, removed):
        # removed.jsonl prints 4 decimals.
        assert f"{g.similarity:.4f}" == f"{w['similarity']:.4f}"
    assert [(c.cluster, str(c.representative), c.size,
             [str(m) for m in c.members]) for c in result.clusters] == \
        [(c["cluster"], c["representative"], c["size"], c["members"])
         for c in clusters]
    st = result.stats
    for k in ("read", "kept", "removed", "rejected", "removed_exact",
              "removed_near", "removed_contained", "clusters", "candidates",
              "verified", "edges", "duplicate_ids", "keep_missing"):
        assert getattr(st, k) == stats[k], k
    if not stats["options"]["exact_only"] and \
            stats["options"]["method"] == "minhash":
        assert (st.bands, st.rows) == (stats["options"]["bands"],
                                       stats["options"]["rows"])


OPTION_SETS = [
    ({}, []),
    ({"threshold": 0.7}, ["--threshold", "0.7"]),
    ({"containment": 0.8, "threshold": 0.75},
     ["--containment=0.8", "--threshold", "0.75"]),
    ({"method": "simhash"}, ["--method", "simhash"]),
    ({"profile": "news"}, ["--profile", "news"]),
    ({"profile": "web"}, ["--profile", "web"]),
    ({"profile": "classic"}, ["--profile", "classic"]),
    ({"exact_only": True}, ["--exact-only"]),
    ({"keep": "longest", "verify": "exact"},
     ["--keep", "longest", "--verify", "exact"]),
    ({"tokens": "char", "ngram": 7, "sketch": "kperm", "num_perm": 64},
     ["--tokens", "char", "--ngram", "7", "--sketch", "kperm",
      "--num-perm", "64"]),
]


@pytest.mark.parametrize("opts,argv", OPTION_SETS,
                         ids=[" ".join(a) or "defaults"
                              for _, a in OPTION_SETS])
def test_same_as_cli(cli, corpus, tmp_path, opts, argv):
    want = cli_outputs(cli, [corpus], tmp_path / "cli", "-j", "2", *argv)
    with open(corpus, encoding="utf-8") as f:
        records = (json.loads(line) for line in f)
        result = winnow.dedup(records, threads=2, **opts)
    assert_same_as_cli(result, *want)
    assert result.stats.removed > 0
    assert len(result) == 3000


def test_shared_data_same_as_cli(cli, shared_bbc, tmp_path):
    want = cli_outputs(cli, [shared_bbc], tmp_path / "cli")
    r = subprocess.run(["zstd", "-dc", shared_bbc], capture_output=True,
                       check=True, env=native_env())
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert_same_as_cli(winnow.dedup(records), *want)


def test_keep_max_same_as_cli(cli, tmp_path):
    texts = ["alpha beta gamma delta epsilon zeta eta theta",
             "Alpha beta gamma, delta epsilon zeta eta theta.",
             "alpha beta gamma delta epsilon zeta eta theta!"]
    recs = [{"id": "a", "text": texts[0], "views": 3},
            {"id": "b", "text": texts[1], "views": "10"},
            {"id": "c", "text": texts[2]}]
    p = tmp_path / "in.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in recs))
    want = cli_outputs(cli, [str(p)], tmp_path / "cli", "--keep-max",
                       "views")
    result = winnow.dedup(recs, keep_max="views")
    assert_same_as_cli(result, *want)
    assert result.kept == ["b"]
    assert result.stats.keep_missing == want[3]["keep_missing"] == 1


TEXTS = [
    "the quick brown fox jumps over the lazy dog near the river bank",
    "The quick brown fox jumps over the lazy dog, near the river bank.",
    "a completely different story about budgets and ministers today",
    "the quick brown fox jumps over the lazy dog near the river bank",
    "yet another text with nothing in common with the others at all",
]


class Row(Mapping):
    """A read-only mapping that is not a dict."""

    def __init__(self, **kw):
        self._d = kw

    def __getitem__(self, k):
        return self._d[k]

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)


def test_every_input_shape():
    ids = ["a", "b", "c", "d", "e"]
    shapes = {
        "dicts": [{"id": i, "text": t} for i, t in zip(ids, TEXTS)],
        "tuples": list(zip(ids, TEXTS)),
        "lists": [[i, t] for i, t in zip(ids, TEXTS)],
        "mappings": [Row(id=i, text=t) for i, t in zip(ids, TEXTS)],
        "generator": ({"id": i, "text": t} for i, t in zip(ids, TEXTS)),
        "bytes": [(i, t.encode()) for i, t in zip(ids, TEXTS)],
    }
    for name, records in shapes.items():
        r = winnow.dedup(records)
        assert r.kept == ["a", "c", "e"], name
        assert r.mask == [True, False, True, False, True], name
        assert [(x.id, x.duplicate_of, x.reason) for x in r.removed] == \
            [("b", "a", "exact"), ("d", "a", "exact")], name
        assert r.clusters == [winnow.Cluster(0, "a", 3, ["a", "b", "d"],
                                             [0, 1, 3])], name
        assert (r.stats.read, r.stats.kept, r.stats.removed) == (5, 3, 2)
    # Plain strings: named by their input position.
    r = winnow.dedup(iter(TEXTS))
    assert r.kept == [0, 2, 4]
    assert [(x.id, x.duplicate_of) for x in r.removed] == [(1, 0), (3, 0)]
    # Ids keep their type; a missing or None id is the position.
    r = winnow.dedup([{"id": 10, "text": TEXTS[0]}, {"text": TEXTS[1]},
                      {"id": None, "text": TEXTS[2]}])
    assert r.kept == [10, 2] and r.removed[0].id == 1
    assert r.removed[0].duplicate_of == 10
    # Other field names.
    r = winnow.dedup([{"key": "x", "body": t} for t in TEXTS[:2]],
                     text="body", id="key")
    assert r.kept == ["x"] and r.removed[0].id == "x"
    assert r.stats.duplicate_ids == 1


def test_empty_and_rejected():
    r = winnow.dedup([])
    assert (len(r), r.kept, r.mask, r.removed, r.clusters) == \
        (0, [], [], [], [])
    r = winnow.dedup([{"id": "a", "text": TEXTS[0]}, {"id": "n"},
                      {"id": "m", "text": None}, {"id": "b",
                                                  "text": TEXTS[1]}])
    assert r.mask == [True, False, False, False]
    assert [(x.index, x.id) for x in r.rejected] == [(1, "n"), (2, "m")]
    assert r.rejected[0].reason == "missing or non-string text field"
    assert [(x.id, x.index, x.duplicate_of_index) for x in r.removed] == \
        [("b", 3, 0)]
    st = r.stats
    assert (st.read, st.kept, st.removed, st.rejected) == (4, 1, 1, 2)
    with pytest.raises(TypeError, match="a record is"):
        winnow.dedup([3.5])
    with pytest.raises(TypeError, match=r"\(id, text\)"):
        winnow.dedup([("a", "b", "c")])
    with pytest.raises(TypeError, match="single str"):
        winnow.dedup("just one text")
    with pytest.raises(TypeError):
        winnow.dedup(5)


def test_rejected_positions_map_back(cli, tmp_path):
    """Many records rejected between kept ones: positions stay right."""
    recs = []
    for i in range(400):
        if i % 3 == 1:
            recs.append({"id": f"r{i}", "txt": "no text field"})
        else:
            recs.append({"id": f"r{i}", "text": TEXTS[i % 5] + f" {i % 4}"})
    p = tmp_path / "in.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in recs))
    kept, removed, clusters, stats = cli_outputs(cli, [str(p)],
                                                 tmp_path / "cli")
    r = winnow.dedup(recs)
    assert r.kept == kept
    assert [(x.id, x.duplicate_of) for x in r.removed] == \
        [(x["id"], x["duplicate_of"]) for x in removed]
    assert all(recs[x.index]["id"] == x.id for x in r.removed)
    assert r.stats.rejected == stats["rejected"]


def test_generator_error_reaches_caller(tmp_path):
    class Boom(Exception):
        pass

    class Rec(dict):
        pass

    class Id:
        def __str__(self):
            return "id"

    refs = []

    def records():
        for i in range(5000):
            rec = Rec(id=Id(), text=f"text number {i} " + TEXTS[i % 5])
            refs.append(weakref.ref(rec))
            refs.append(weakref.ref(rec["id"]))
            yield rec
            if i == 3000:
                raise Boom("mid-way")

    with pytest.raises(Boom, match="mid-way"):
        winnow.dedup(records(), tmp_dir=str(tmp_path), threads=2)
    gc.collect()
    assert all(r() is None for r in refs), "records or ids leaked"
    assert os.listdir(tmp_path) == []
    # A later job is fine.
    assert winnow.dedup(TEXTS).kept == [0, 2, 4]


def test_interrupt_between_records(tmp_path):
    def records():
        for i in range(100000):
            if i == 5000:
                os.kill(os.getpid(), signal.SIGINT)
            yield f"record {i} " + TEXTS[i % 5]

    with pytest.raises(KeyboardInterrupt):
        winnow.dedup(records(), tmp_dir=str(tmp_path))
    assert os.listdir(tmp_path) == []
    assert winnow.dedup(TEXTS).kept == [0, 2, 4]


def test_interrupt_while_the_job_works(tmp_path):
    """SIGINT once every record is in: it lands in the job's own work (or
    at the latest when the call returns); either way KeyboardInterrupt and
    a clean state."""
    done = threading.Event()

    def records():
        for i in range(200000):
            yield f"story {i} about {i % 97} things and {i % 13} more words"
        done.set()

    def interrupter():
        done.wait()
        os.kill(os.getpid(), signal.SIGINT)

    t = threading.Thread(target=interrupter)
    t.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            winnow.dedup(records(), tmp_dir=str(tmp_path), threads=2)
            # Should the job be done before the signal arrives.
            t.join()
            signal.raise_signal(signal.SIGINT)  # pragma: no cover
    finally:
        t.join()
    assert os.listdir(tmp_path) == []


def test_sigint_ignored_is_left_alone():
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        r = winnow.dedup(TEXTS)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, old)
    assert r.kept == [0, 2, 4]


def test_threads_in_parallel():
    """Two Python threads run jobs at once (the GIL is released); each gets
    its own answer."""
    out = {}

    def run(k):
        recs = [f"{k} " + t for t in TEXTS] * 200
        out[k] = winnow.dedup(recs, threads=1)

    ts = [threading.Thread(target=run, args=(k,)) for k in ("x", "y")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for k in ("x", "y"):
        assert out[k].kept == [0, 2, 4]
        assert out[k].stats.removed == 997


MEMORY_SCRIPT = r"""
import random, sys, winnow
N = int(sys.argv[1]); WORDS = int(sys.argv[2])
rng = random.Random(1)
vocab = [f"w{i:05d}" for i in range(50000)]
def records():
    # distinct texts of WORDS random words, built on the fly, never kept
    for i in range(N):
        yield " ".join(rng.choices(vocab, k=WORDS))
def hwm():
    # VmHWM, not ru_maxrss: the latter keeps the peak of the process that
    # forked this one (Linux carries it across exec).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
base = hwm()
r = winnow.dedup(records(), threads=2, tmp_dir=sys.argv[3])
peak = hwm()
print(base, peak, r.stats.read, r.stats.bytes)
"""


@pytest.mark.skipif(SANITIZED, reason="sanitizers change memory use; the "
                    "release build measures it")
def test_memory_bounded_on_a_million_records(tmp_path):
    """1,000,000 records of 349 bytes (349 MB of text) through a generator:
    the process grows by the per-record state only, far below the texts."""
    n, words = 1000000, 50  # 50 words of 6 characters: 350 bytes
    r = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(n),
                        str(words), str(tmp_path)], capture_output=True,
                       text=True, env={**os.environ})
    assert r.returncode == 0, r.stderr
    base, peak, read, text_bytes = map(int, r.stdout.split())
    assert read == n and text_bytes == n * (words * 7 - 1)
    growth = peak - base
    print(f"RSS growth {growth / 1e6:.1f} MB for {n} records, "
          f"{text_bytes / 1e6:.0f} MB of text "
          f"({growth / n:.0f} bytes per record)")
    # Texts retained would be >= 350 MB; the job's state is ~100 B/record.
    assert growth < text_bytes / 3, growth
