"""similarity, tokens, params and the errors: against the CLI's answers."""

import subprocess

import pytest

import winnow


def test_similarity_values():
    s = winnow.similarity("a b c d e f", "a b c d e g", ngram=2)
    # Shingles {ab, bc, cd, de, ef} and {ab, bc, cd, de, eg}: 4 shared.
    assert (s.shingles_a, s.shingles_b, s.shared) == (5, 5, 4)
    assert s.jaccard == pytest.approx(4 / 6)
    assert s.containment == pytest.approx(4 / 5)
    same = winnow.similarity("The cat sat on the mat today.",
                             "the CAT sat on the mat -- today")
    assert same.jaccard == 1.0
    assert winnow.similarity("", "").jaccard == 1.0
    assert winnow.similarity(b"x y z", "x y z", ngram=1).jaccard == 1.0
    assert winnow.similarity("ab", "ac", tokens="char", ngram=1).shared == 1


def test_similarity_matches_cli(cli, tmp_path):
    a = "Ministers agreed on Tuesday to extend the fishing talks by a week."
    b = "Ministers agreed on Tuesday to extend the fishing talks by a month."
    docs = tmp_path / "docs.jsonl"
    docs.write_text(f'{{"id":"a","text":"{a}"}}\n{{"id":"b","text":"{b}"}}\n')
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"id_a":"a","id_b":"b"}\n')
    r = cli(["similarity", "--pairs", str(pairs), str(docs)])
    assert r.returncode == 0, r.stderr
    import json
    line = json.loads(r.stdout.splitlines()[0])
    s = winnow.similarity(a, b)
    assert s.jaccard == pytest.approx(line["jaccard"], abs=1e-6)


def test_tokens():
    assert winnow.tokens("Monday.The U.S.") == ["monday", "the", "u", "s"]
    assert winnow.tokens("Ｔｈé ﬁ", tokens="char") == ["t", "h", "é", "f", "i"]
    text = "héllo wörld ½"
    spans = winnow.tokens(text, spans=True)
    assert spans[:2] == [("héllo", 0, 5), ("wörld", 6, 11)]
    # One character giving two tokens: both carry its span.
    assert spans[2:] == [("1", 12, 13), ("2", 12, 13)]
    for tok, start, end in spans:
        assert winnow.tokens(text[start:end])[0] in (tok, "1")
    # Bytes: byte offsets.
    assert winnow.tokens(text.encode(), spans=True)[1] == ("wörld", 7, 13)
    # A lone surrogate is ill-formed text, a separator, not an error.
    assert winnow.tokens("a\udc80b") == ["a", "b"]
    assert winnow.tokens("") == []


def test_tokens_match_cli(cli, tmp_path):
    p = tmp_path / "t.jsonl"
    text = "Ｆｕｌｌ-width, ß and ﬁ: 東京タワー 123.45 l'état"
    import json
    p.write_text(json.dumps({"id": "x", "text": text}) + "\n")
    r = cli(["tokens", str(p)])
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip("\n").split("\t")[1].split(" ") == \
        winnow.tokens(text)


def test_params_defaults_and_cli(cli):
    p = winnow.params()
    assert (p.bands, p.rows) == (16, 8)
    r = cli(["params", "--threshold", "0.7", "--num-perm", "256",
             "--fn-weight", "0.5"])
    out = dict(line.split(": ", 1) for line in r.stdout.splitlines()
               if ": " in line)
    q = winnow.params(0.7, 256, fn_weight=0.5)
    assert (q.bands, q.rows) == (int(out["bands"]), int(out["rows"]))
    assert q.false_positive_area == pytest.approx(
        float(out["false_positive_area"]), abs=1e-6)
    assert q.midpoint == pytest.approx(float(out["midpoint"]), abs=1e-3)
    assert q.probability(1.0) == pytest.approx(1.0)
    assert q.probability(0.0) == 0.0
    assert len(q.curve(20)) == 20
    given = winnow.params(bands=4, rows=2, num_perm=8)
    assert (given.bands, given.rows) == (4, 2)


# Bad options: the message is the CLI's, word for word.
BAD = [
    ({"threshold": 1.5}, ["--threshold", "1.5"]),
    ({"threshold": 0}, ["--threshold", "0"]),
    ({"ngram": 0}, ["--ngram", "0"]),
    ({"ngram": 65}, ["--ngram", "65"]),
    ({"num_perm": 5000}, ["--num-perm", "5000"]),
    ({"method": "lsh"}, ["--method", "lsh"]),
    ({"tokens": "bytes"}, ["--tokens", "bytes"]),
    ({"verify": "maybe"}, ["--verify", "maybe"]),
    ({"keep": "last"}, ["--keep", "last"]),
    ({"sketch": "x"}, ["--sketch", "x"]),
    ({"hamming": 17}, ["--hamming", "17"]),
    ({"containment": 1.5}, ["--containment=1.5"]),
    ({"fn_weight": 2}, ["--fn-weight", "2"]),
    ({"bands": 300, "rows": 1}, ["--bands", "300", "--rows", "1"]),
    ({"bands": 16}, ["--bands", "16"]),
    ({"bands": 20, "rows": 8}, ["--bands", "20", "--rows", "8"]),
    ({"max_record_bytes": 0}, ["--max-record-bytes", "0"]),
    ({"max_record_bytes": "5Q"}, ["--max-record-bytes", "5Q"]),
    ({"memory": "lots"}, ["--memory", "lots"]),
    ({"threads": "two"}, ["--threads", "two"]),
    ({"seed": -1}, ["--seed", "-1"]),
    ({"threshold": "high"}, ["--threshold", "high"]),
    # The classic rule's banding for 0.3 at K = 4096 needs over 256 bands
    # (the news rule bands rows of 4 and has no such limit).
    ({"profile": "classic", "threshold": 0.3, "num_perm": 4096},
     ["--profile", "classic", "--threshold", "0.3", "--num-perm", "4096"]),
]


@pytest.mark.parametrize("kwargs,argv", BAD, ids=[a[0] for _, a in BAD])
def test_bad_option_message_is_the_clis(cli, tmp_path, kwargs, argv):
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"id":1,"text":"x"}\n')
    out = tmp_path / "out"
    r = cli(["dedup", *argv, "-o", str(out), str(inp)])
    assert r.returncode == 2
    want = r.stderr.splitlines()[0]
    assert want.startswith("winnow: dedup: ")
    with pytest.raises(winnow.OptionError) as e:
        winnow.dedup_files(str(inp), str(out), **kwargs)
    assert isinstance(e.value, ValueError)
    assert "winnow: " + str(e.value) == want
    if "max_record_bytes" in kwargs:
        return  # a file option: the in-memory job has no records to cap
    with pytest.raises(winnow.OptionError) as e2:
        winnow.dedup(["x"], **kwargs)
    assert "winnow: " + str(e2.value) == want


def test_unknown_option():
    with pytest.raises(winnow.UnknownOption) as e:
        winnow.dedup_files("x", "y", treshold=0.5)
    assert str(e.value) == "dedup: unknown option '--treshold'"
    assert isinstance(e.value, TypeError) and isinstance(e.value, ValueError)
    # The in-memory job has no output files to fsync.
    with pytest.raises(winnow.UnknownOption):
        winnow.dedup(["x"], no_fsync=True)


def test_params_and_similarity_options():
    with pytest.raises(winnow.OptionError,
                       match=r"^params: --threshold must be in \(0, 1\), "
                             r"got 1\.0$"):
        winnow.params(1.0)
    with pytest.raises(winnow.OptionError, match="go together"):
        winnow.params(bands=4)
    with pytest.raises(winnow.OptionError,
                       match="^similarity: --ngram must be at least 1, got 0$"):
        winnow.similarity("a", "b", ngram=0)
    with pytest.raises(winnow.OptionError, match="must be one of word, char"):
        winnow.tokens("a", tokens="words")


def test_type_errors():
    with pytest.raises(TypeError):
        winnow.similarity(1, "a")
    with pytest.raises(TypeError):
        winnow.tokens(None)


def test_option_range_from_library():
    from winnow import _winnow
    assert _winnow.option_range("dedup", "threshold") == \
        (0.0, 1.0, True, True, "in (0, 1)")
    assert _winnow.option_range("dedup", "bands")[1] == 256
    assert _winnow.option_range("params", "bands")[1] == 4096
    assert _winnow.option_range("repeats", "max-dup-line-frac")[4] == \
        "in [0, 1]"
    assert _winnow.option_range("dedup", "seed") is None


def test_help_answers():
    doc = winnow.dedup.__doc__
    for word in ("iterable", "(id, text)", "profile=None", "mask",
                 "duplicate_of", "KeyboardInterrupt", "OptionError"):
        assert word in doc
    assert "num_perm=128" in winnow.dedup_files.__doc__
    r = subprocess.run([__import__("sys").executable, "-c",
                        "import winnow; help(winnow.dedup)"],
                       capture_output=True, text=True,
                       env={**__import__("os").environ, "PAGER": "cat"})
    assert "records" in r.stdout


def test_docstring_examples():
    import doctest
    r = doctest.testmod(winnow, optionflags=doctest.ELLIPSIS,
                        extraglobs={"winnow": winnow})
    assert r.attempted >= 8 and r.failed == 0
