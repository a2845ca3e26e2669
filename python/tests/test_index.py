"""winnow.Index: the persistent index from Python, against `winnow index`
on the same records, the rule stored and checked, threads, expiry."""

import datetime
import json
import os
import threading

import pytest

import winnow
from conftest import read_jsonl

STORY = ("the harbour authority said on monday that the new ferry terminal "
         "would open in the spring after two years of building work and "
         "a long dispute over its cost with the city council")
OTHER = ("a late frost damaged most of the apple orchards in the valley, "
         "growers said, and the harvest will be the smallest in a decade "
         "according to the regional farm office")


def test_check_query_and_reasons(tmp_path):
    p = tmp_path / "ix"
    with winnow.Index(p, create=True) as ix:
        a = ix.check(STORY, id="a")
        assert a.new and a.added and a.duplicate_of is None
        assert a.record is not None and a.reason is None
        b = ix.check(STORY.upper() + "!", id="b")
        assert not b.new and not b.added
        assert (b.duplicate_of, b.reason) == ("a", "exact")
        c = ix.check(OTHER, id="c")
        assert c.new and c.added
        # The same id again: a retry, answered with the record it names.
        again = ix.check(OTHER, id="c")
        assert (again.new, again.added, again.reason) == (False, False, "id")
        assert again.duplicate_of == "c"
        q = ix.query(STORY)
        assert (q.new, q.added, q.duplicate_of) == (False, False, "a")
        assert ix.query("nothing like anything indexed so far at all").new
        st = ix.stats()
        assert st["records"] == 2 and st["file_bytes"] > 0
    assert ix.closed
    with pytest.raises(ValueError, match="closed index"):
        ix.check(STORY, id="z")


def test_same_answers_as_the_cli(tmp_path, corpus, cli):
    """check_many on a generated corpus gives the answers of `winnow index
    check` on the same file, record by record."""
    docs = read_jsonl(corpus)
    r = cli(["index", "create", str(tmp_path / "cli")])
    assert r.returncode == 0, r.stderr
    r = cli(["index", "check", str(tmp_path / "cli"), corpus])
    assert r.returncode == 0, r.stderr
    want = [json.loads(line) for line in r.stdout.splitlines()]
    with winnow.Index(tmp_path / "py", create=True) as ix:
        got = ix.check_many(docs)
    assert len(got) == len(want) == len(docs)
    removed = 0
    for g, w in zip(got, want):
        assert g.new == w["new"]
        assert g.duplicate_of == w["duplicate_of"]
        assert g.reason == w["reason"]
        if w["similarity"] is not None:
            assert abs(g.similarity - w["similarity"]) < 1e-4
        removed += not g.new
    assert removed > 100  # the corpus plants copies


def test_rule_stored_and_checked(tmp_path):
    p = tmp_path / "ix"
    with winnow.Index(p, create=True, threshold=0.7, ngram=4) as ix:
        ix.check(STORY, id="a")
        rule = ix.rule
    assert rule["threshold"] == pytest.approx(0.7)
    assert rule["ngram"] == 4 and rule["method"] == "minhash"
    # Without rule options the stored rule is used.
    with winnow.Index(p) as ix:
        assert ix.rule == rule
        assert ix.query(STORY).duplicate_of == "a"
    # A different rule is an error naming the parameter.
    with pytest.raises(winnow.OptionError, match="ngram"):
        winnow.Index(p, ngram=5, threshold=0.7)
    with pytest.raises(winnow.UnknownOption):
        winnow.Index(p, keep="longest")
    # No index there, and not asked to create one.
    with pytest.raises(winnow.FileError):
        winnow.Index(tmp_path / "none")


def test_read_only(tmp_path):
    p = tmp_path / "ix"
    with winnow.Index(p, create=True) as ix:
        ix.check(STORY, id="a")
    with winnow.Index(p, read_only=True) as ix:
        assert ix.query(STORY).duplicate_of == "a"
        with pytest.raises(winnow.OptionError):
            ix.check(OTHER, id="b")


def test_expire_by_time(tmp_path):
    p = tmp_path / "ix"
    day = 86400
    now = int(datetime.datetime(2026, 1, 10, tzinfo=datetime.timezone.utc)
              .timestamp())
    with winnow.Index(p, create=True) as ix:
        ix.check(STORY, id="old", time=now - 40 * day)
        ix.check(OTHER, id="new",
                 time=datetime.datetime(2026, 1, 9, 12, 0))
        assert ix.expire(now - 30 * day) == 1
        assert ix.query(STORY).new
        assert ix.query(OTHER).duplicate_of == "new"
        assert ix.stats()["records"] == 1
        # A timedelta is an age: everything is older than 1 second ago.
        assert ix.expire(datetime.timedelta(seconds=1)) == 1
        assert ix.stats()["records"] == 0


def test_threads_share_one_index(tmp_path):
    """Checks from several threads at once (the GIL is released): every
    distinct text is added once, and each copy names an added record."""
    texts = [f"{STORY} story number {i} about pier {i * 7} and boat {i}"
             for i in range(40)]
    answers = {}
    with winnow.Index(tmp_path / "ix", create=True, sync=False) as ix:
        def work(k):
            for i, t in enumerate(texts):
                answers[(k, i)] = ix.check(t, id=f"{k}-{i}")
        ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        st = ix.stats()
    added = {a.record for a in answers.values() if a.added}
    assert len(added) == st["records"]
    for (k, i), a in answers.items():
        if not a.added:
            assert a.duplicate_of is not None


def test_bad_arguments(tmp_path):
    with winnow.Index(tmp_path / "ix", create=True) as ix:
        with pytest.raises(winnow.OptionError, match="id"):
            ix.check(STORY, id="")
        with pytest.raises(TypeError):
            ix.check(12, id="a")
        with pytest.raises(winnow.OptionError):
            ix.check(STORY, id="a", time="yesterday")
        with pytest.raises(TypeError):
            ix.check_many([{"id": "x"}])
    assert not os.path.exists(tmp_path / "none")
