"""winnow.explain against `winnow explain --json`."""

import json

import pytest

import winnow

A = ("Ministers agreed on Tuesday to extend the fishing talks by a week, "
     "officials said.\nThe next round opens in Hallam Cross on Monday.\n")
B = ("A SITE HEADER\nMinisters agreed on Tuesday to extend the fishing talks "
     "by a week, officials said.\nThe next round opens in Hallam Cross on "
     "Monday.\n")


def test_same_as_cli(cli, tmp_path):
    pa, pb = tmp_path / "a.txt", tmp_path / "b.txt"
    pa.write_text(A)
    pb.write_text(B)
    r = cli(["explain", "--json", "--containment", str(pa), str(pb)])
    assert r.returncode == 0, r.stderr
    want = json.loads(r.stdout)
    x = winnow.explain(A, B, containment=True)
    assert (x.verdict, x.reason) == (want["verdict"], want["reason"])
    for k, v in want["scores"].items():
        assert x.scores[k] == pytest.approx(v, abs=1e-6), k
    assert len(x.runs) == len(want["shared"])
    assert len(x.only_b) == len(want["only_b"])
    assert x.runs and x.only_b and not x.only_a
    (sa, sb), = x.runs
    assert A[sa.start:sa.end].split() == B[sb.start:sb.end].split()
    assert B[x.only_b[0].start:x.only_b[0].end].startswith("A SITE HEADER")
    assert x.only_b[0].line == 1 and sb.line == 2


def test_verdicts_and_bytes():
    assert winnow.explain(A, A.upper()).verdict == "exact"
    assert winnow.explain(A, "nothing alike here at all, none").verdict == \
        "distinct"
    assert winnow.explain("", A).verdict == "empty"
    xb = winnow.explain(A.encode(), B.encode())
    xs = winnow.explain(A, B)
    assert xb.scores == xs.scores
    # Byte offsets for bytes, character offsets for str: equal on ASCII.
    assert xb.runs == xs.runs


def test_bad_options():
    with pytest.raises(winnow.OptionError,
                       match=r"^explain: --threshold must be in \(0, 1\)"):
        winnow.explain(A, B, threshold=1)
    with pytest.raises(winnow.OptionError, match="--window above 0"):
        winnow.explain(A, B, window=0)


def test_profile_same_as_cli(cli):
    """The news rule's verdict (figures conflict) as the CLI gives it."""
    import pathlib
    fix = pathlib.Path(__file__).resolve().parents[2] / "tests/cli/explain"
    a = (fix / "figures_a.txt").read_text()
    b = (fix / "figures_b.txt").read_text()
    for profile in ("news", "classic", "web"):
        r = cli(["explain", "--json", "--profile", profile,
                 str(fix / "figures_a.txt"), str(fix / "figures_b.txt")])
        assert r.returncode == 0, r.stderr
        want = json.loads(r.stdout)
        x = winnow.explain(a, b, profile=profile)
        assert (x.verdict, x.reason) == (want["verdict"], want["reason"])
        assert x.scores["figures"] == want["scores"]["figures"]
    assert winnow.explain(a, b, profile="news").verdict == "distinct"
    assert winnow.explain(a, b, profile="news").scores["figures"] == \
        "conflict"
