"""winnow.dedup_files: the CLI's job, byte for byte."""

import filecmp
import os
import signal
import threading

import pytest

import winnow

OUTPUTS = ("kept.jsonl", "removed.jsonl", "clusters.jsonl", "rejected.jsonl")


def same_outputs(a, b):
    return all(filecmp.cmp(os.path.join(a, f), os.path.join(b, f),
                           shallow=False) for f in OUTPUTS)


@pytest.mark.parametrize("opts,argv", [
    ({}, []),
    ({"threshold": 0.7, "containment": True},
     ["--threshold", "0.7", "--containment"]),
    ({"method": "simhash", "hamming": 4}, ["--method", "simhash",
                                           "--hamming", "4"]),
    ({"exact_only": True}, ["--exact-only"]),
    ({"keep": "longest", "verify": "exact", "ngram": 3},
     ["--keep", "longest", "--verify", "exact", "--ngram", "3"]),
])
def test_same_outputs_as_cli(cli, corpus, tmp_path, opts, argv):
    a, b = tmp_path / "py", tmp_path / "cli"
    st = winnow.dedup_files(corpus, a, threads=2, **opts)
    r = cli(["dedup", "-q", "-j", "2", *argv, "-o", str(b), corpus])
    assert r.returncode == 0, r.stderr
    assert same_outputs(a, b)
    assert st.read == st.kept + st.removed + st.rejected == 3000
    assert st.removed > 0


def test_shared_data(cli, shared_bbc, tmp_path):
    a, b = tmp_path / "py", tmp_path / "cli"
    st = winnow.dedup_files([shared_bbc], str(a))
    r = cli(["dedup", "-q", "-o", str(b), shared_bbc])
    assert r.returncode == 0
    assert same_outputs(a, b)
    assert (st.read, st.removed_exact) == (2225, 103)


def test_rejected_is_not_an_error(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text('{"id":1,"text":"a b c"}\nnot json\n{"id":3}\n')
    st = winnow.dedup_files(p, tmp_path / "out")
    assert (st.read, st.kept, st.rejected) == (3, 1, 2)
    assert len(open(tmp_path / "out" / "rejected.jsonl").readlines()) == 2


def test_file_errors(tmp_path):
    missing = str(tmp_path / "missing.jsonl")
    with pytest.raises(winnow.FileError) as e:
        winnow.dedup_files(missing, tmp_path / "out")
    assert str(e.value) == \
        f"cannot open '{missing}': No such file or directory"
    assert isinstance(e.value, OSError)
    assert e.value.status == winnow._winnow.WN_EOPEN
    assert e.value.path == missing
    assert not (tmp_path / "out").exists() or \
        not os.listdir(tmp_path / "out")
    f = tmp_path / "file"
    f.write_text("x")
    good = tmp_path / "in.jsonl"
    good.write_text('{"text":"x"}\n')
    with pytest.raises(winnow.OptionError,
                       match="^dedup: --output '.*file' exists and is not a "
                             "directory$"):
        winnow.dedup_files(good, f)
    with pytest.raises(winnow.OptionError, match="no input given"):
        winnow.dedup_files([], tmp_path / "out")
    with pytest.raises(winnow.OptionError, match="--tmp-dir"):
        winnow.dedup_files(good, tmp_path / "out", tmp_dir=tmp_path / "no")


def test_interrupt_publishes_nothing(tmp_path):
    """Ctrl-C during a run: KeyboardInterrupt, no outputs, no temporary
    directory left. The input is a FIFO fed by a thread that sends SIGINT
    half way, so the signal lands while the job reads."""
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    line = b'{"id":%d,"text":"word%d and some more words to shingle %d"}\n'
    started = threading.Event()

    def feed():
        try:
            with open(fifo, "wb") as f:
                for i in range(200000):
                    f.write(line % (i, i, i))
                    if i == 20000:
                        started.set()
                        os.kill(os.getpid(), signal.SIGINT)
        except BrokenPipeError:
            pass  # the run stopped reading: what is tested

    t = threading.Thread(target=feed)
    t.start()
    out = tmp_path / "out"
    try:
        with pytest.raises(KeyboardInterrupt):
            winnow.dedup_files(str(fifo), out, threads=1)
    finally:
        t.join()
    assert started.is_set()
    left = os.listdir(out) if out.exists() else []
    assert [f for f in left if not f.startswith(".")] == [], left
    assert [f for f in left if f.startswith(".winnow-tmp")] == [], left
    # The process is fine afterwards, and so is the next run.
    good = tmp_path / "in.jsonl"
    good.write_text('{"text":"x"}\n')
    assert winnow.dedup_files(good, out).kept == 1
