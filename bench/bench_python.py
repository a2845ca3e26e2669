#!/usr/bin/env python3
"""winnow.dedup over an iterator of dicts against `winnow dedup` on the same
file, in the same run (issue 16; docs/BENCHMARKS.md, "Python binding").

    PYTHONPATH=BUILD/python-ext /usr/bin/python3 bench/bench_python.py \
        [--build build] [--bytes 100M] [--threads 2] [--repeat 2]

The corpus is bench/out/gen-SIZE.jsonl (bench/gen --seed 1, as bench/run.sh
makes it). For the timed Python runs the records are parsed with json.loads
into a list of dicts first: JSON parsing in Python is excluded, and the
timer covers winnow.dedup(iter(records)) only: iterating the dicts, handing
each text to the job, sketching, joining, verifying, clustering and
building the result. The CLI is timed as a whole process (reading and
parsing its JSONL, writing kept.jsonl with --no-fsync). Runs alternate
(CLI, Python, CLI, Python, ...) so that load from other jobs on the machine
falls on both; the best of each is compared, and all are printed.

Bytes per record held: a separate process streams the file (one json.loads
per line, nothing kept by the generator) into winnow.dedup and reports its
peak RSS minus the RSS before the call, divided by the records: everything
the job and the result hold per record (ids, mask, sketches, join).
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)

HELD_SCRIPT = r"""
import json, sys, winnow
path, threads = sys.argv[1], int(sys.argv[2])
def records():
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)
def hwm():
    # VmHWM, not ru_maxrss: the latter keeps the peak of the process that
    # forked this one (Linux carries it across exec).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
base = hwm()
r = winnow.dedup(records(), threads=threads)
peak = hwm()
print(json.dumps({"base": base, "peak": peak, "read": r.stats.read,
                  "kept": r.stats.kept}))
"""


def corpus(build, size):
    out = os.path.join(TOP, "bench", "out")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, f"gen-{size}.jsonl")
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        tmp = path + ".tmp"
        subprocess.run([os.path.join(build, "bench", "gen"), "--seed", "1",
                        "--bytes", size, "--out", tmp, "--truth",
                        os.path.join(out, f"gen-{size}-truth.jsonl")],
                       check=True, stderr=subprocess.DEVNULL)
        os.rename(tmp, path)
    return path


def run_cli(build, path, threads):
    d = tempfile.mkdtemp(prefix="bench-python-cli.")
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run([os.path.join(build, "winnow"), "dedup", "-q",
                        "--no-fsync", "-j", str(threads), "-o", d, path],
                       check=True)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(os.path.join(d, "stats.json")) as f:
            st = json.load(f)
        cpu = (after.ru_utime - before.ru_utime) + \
            (after.ru_stime - before.ru_stime)
        return {"wall": wall, "cpu": cpu, "kept": st["kept"],
                "removed": st["removed"], "read": st["read"],
                "rss": st.get("peak_rss_bytes", 0)}
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run_python(winnow, records, threads):
    before = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    r = winnow.dedup(iter(records), threads=threads)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + \
        (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "kept": r.stats.kept,
            "removed": r.stats.removed, "read": r.stats.read}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--bytes", default="100M")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    import winnow

    path = corpus(args.build, args.bytes)
    size = os.path.getsize(path)
    t = time.perf_counter()
    with open(path, encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    parse = time.perf_counter() - t

    cli_runs, py_runs = [], []
    for _ in range(args.repeat):
        cli_runs.append(run_cli(args.build, path, args.threads))
        py_runs.append(run_python(winnow, records, args.threads))
    for a, b in zip(cli_runs, py_runs):
        assert (a["read"], a["kept"], a["removed"]) == \
            (b["read"], b["kept"], b["removed"]), (a, b)
    del records

    held = subprocess.run([sys.executable, "-c", HELD_SCRIPT, path,
                           str(args.threads)], capture_output=True,
                          text=True, check=True)
    h = json.loads(held.stdout)

    cli_best = min(r["wall"] for r in cli_runs)
    py_best = min(r["wall"] for r in py_runs)
    n = cli_runs[0]["read"]
    print(f"## winnow.dedup against the CLI: {os.path.relpath(path, TOP)} "
          f"({size / 1e6:.0f} MB, {n} records), threads {args.threads}")
    print()
    print(f"- {os.uname().sysname} {os.uname().release}, {os.cpu_count()} "
          f"cores, Python {sys.version.split()[0]}, date "
          f"{time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}")
    print(f"- json.loads of every line (excluded from the Python times): "
          f"{parse:.2f} s")
    print()
    print("| run | wall s | CPU s | MB/s | records/s |")
    print("|---|---:|---:|---:|---:|")
    for i, (a, b) in enumerate(zip(cli_runs, py_runs), 1):
        for name, r in (("CLI", a), ("winnow.dedup", b)):
            print(f"| {name} #{i} | {r['wall']:.2f} | {r['cpu']:.2f} | "
                  f"{size / 1e6 / r['wall']:.0f} | {n / r['wall']:.0f} |")
    print()
    print(f"Best of {args.repeat}: winnow.dedup {py_best:.2f} s, CLI "
          f"{cli_best:.2f} s: {py_best / cli_best:.2f}x the CLI's time "
          f"(target 1.3x). Same decisions: kept {cli_runs[0]['kept']}, "
          f"removed {cli_runs[0]['removed']}.")
    grow = h["peak"] - h["base"]
    print(f"Held per record while streaming (peak RSS - RSS before the call, "
          f"/ {h['read']} records): {grow / h['read']:.0f} bytes "
          f"({grow / 2**20:.0f} MiB); the CLI's peak RSS: "
          f"{cli_runs[0]['rss'] / 2**20:.0f} MiB.")


if __name__ == "__main__":
    main()
