"""Fixtures of the winnow binding tests: the CLI and the corpus generator of
the same build (to compare results with), generated corpora, shared data.

Environment: BUILD (the build directory of the C project, default
../../build from here), WINNOW (the CLI, default $BUILD/winnow), WN_SHARED
(the shared data, default ../../../shared from here). Tests that need one
of them skip with a message when it is absent.
"""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("BUILD") or os.path.join(TOP, "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(TOP, BUILD)
WINNOW = os.environ.get("WINNOW") or os.path.join(BUILD, "winnow")
GEN = os.path.join(BUILD, "bench", "gen")
SHARED = os.environ.get("WN_SHARED") or os.path.join(TOP, "..", "shared")
# Set by tests/cli/test_python.sh when the extension carries sanitizers.
SANITIZED = bool(os.environ.get("WN_PY_SANITIZED"))


def native_env():
    """The environment for programs that are not python3: without the
    sanitizer runtimes preloaded for the extension (the CLI of a sanitizer
    build has its own)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    return env


@pytest.fixture(scope="session")
def cli():
    """Run the winnow CLI: cli(args) -> CompletedProcess (text)."""
    if not os.access(WINNOW, os.X_OK):
        pytest.skip(f"no winnow CLI at {WINNOW}")

    def run(args, **kw):
        return subprocess.run([WINNOW, *args], capture_output=True,
                              text=True, env=native_env(), **kw)
    return run


def generate(path, docs, seed=7, extra=()):
    if not os.access(GEN, os.X_OK):
        pytest.skip(f"no corpus generator at {GEN}")
    subprocess.run([GEN, "--seed", str(seed), "--docs", str(docs), "--out",
                    str(path), *extra], check=True, capture_output=True,
                   env=native_env())
    return str(path)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """A generated news-like JSONL corpus of 3,000 records with planted
    exact, normalized and near copies and hard negatives."""
    d = tmp_path_factory.mktemp("corpus")
    return generate(d / "gen.jsonl", 3000)


@pytest.fixture(scope="session")
def shared_bbc():
    p = os.path.join(SHARED, "data", "bbc_news", "docs.jsonl.zst")
    if not os.path.exists(p):
        pytest.skip(f"no shared data at {p}")
    return p


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def cli_outputs(cli, inputs, outdir, *args):
    """Run `winnow dedup` and return (kept ids, removed, clusters, stats)."""
    r = cli(["dedup", "-q", "-o", str(outdir), *args, *inputs])
    assert r.returncode in (0, 3), r.stderr
    kept = [json.loads(line)["id"] for line in
            open(os.path.join(outdir, "kept.jsonl"), encoding="utf-8")]
    removed = read_jsonl(os.path.join(outdir, "removed.jsonl"))
    clusters = read_jsonl(os.path.join(outdir, "clusters.jsonl"))
    with open(os.path.join(outdir, "stats.json")) as f:
        stats = json.load(f)
    return kept, removed, clusters, stats


def python():
    return sys.executable
