#!/usr/bin/env python3
"""Quality of winnow dedup against labelled data: prints the Markdown
tables of docs/QUALITY.md. Usage: bench/quality.py [BUILD]

Runs build/winnow on the generated corpus (bench/gen, seeded) and on the
labelled sets under ../shared/data when present; every figure comes from
`winnow eval` or `winnow similarity`.
"""
import json, os, subprocess, sys, tempfile, collections

build = sys.argv[1] if len(sys.argv) > 1 else "build"
W = os.path.join(build, "winnow")
GEN = os.path.join(build, "bench", "gen")
DATA = "../shared/data"
tmp = tempfile.mkdtemp(prefix="winnow-quality-")


def run(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if check and r.returncode not in (0, 3):
        sys.exit("failed: %s\n%s" % (" ".join(args), r.stderr))
    return r.stdout


def dedup(inp, *opts):
    out = os.path.join(tmp, "out")
    run(W, "dedup", "-q", "-o", out, *opts, inp)
    return out


def evaluate(out, truth):
    return json.loads(run(W, "eval", "--json", "--truth", truth, out))


def clusters_of(out):
    cl = {}
    for line in open(os.path.join(out, "clusters.jsonl")):
        c = json.loads(line)
        for m in c["members"]:
            cl[m] = c["cluster"]
    return cl


def zread(path):
    return subprocess.run(["zstdcat", path], capture_output=True,
                          text=True).stdout.split("\n")[:-1]


def auc(pos, neg):
    """Probability that a random positive scores above a random negative."""
    allv = sorted([(v, 1) for v in pos] + [(v, 0) for v in neg])
    rank, i, rsum = 1, 0, 0.0
    while i < len(allv):
        j = i
        while j < len(allv) and allv[j][0] == allv[i][0]:
            j += 1
        avg = (rank + rank + (j - i) - 1) / 2
        rsum += avg * sum(1 for k in range(i, j) if allv[k][1])
        rank += j - i
        i = j
    n1, n0 = len(pos), len(neg)
    return (rsum - n1 * (n1 + 1) / 2) / (n1 * n0) if n1 and n0 else float("nan")


def row(name, r):
    ari = "%.3f" % r["ari"] if "ari" in r else "-"
    return "| %s | %.3f | %.3f | %.3f | %s | %d | %d | %d |" % (
        name, r["precision"], r["recall"], r["f1"], ari, r["tp"], r["fp"], r["fn"])


HEAD = ("| settings | precision | recall | F1 | ARI | TP pairs | FP pairs | FN pairs |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|")

# 1. Generated corpus.
g = os.path.join(tmp, "gen.jsonl")
gt = os.path.join(tmp, "gen-truth.jsonl")
gp = os.path.join(tmp, "gen-pairs.jsonl")
run(GEN, "--seed", "1", "--docs", "50000", "--out", g, "--truth", gt,
    "--pairs", gp)
print("## Generated news corpus (`gen --seed 1 --docs 50000`, default rates)\n")
print(HEAD)
settings = [
    ("default (MinHash K=128, 5-grams, threshold 0.7)", []),
    ("--threshold 0.8", ["-t", "0.8"]),
    ("--threshold 0.6", ["-t", "0.6"]),
    ("--threshold 0.5", ["-t", "0.5"]),
    ("--containment (0.8)", ["--containment"]),
    ("--verify exact", ["--verify", "exact"]),
    ("--sketch kperm", ["--sketch", "kperm"]),
    ("--num-perm 256", ["--num-perm", "256"]),
    ("--ngram 3", ["--ngram", "3"]),
    ("--tokens char --ngram 10", ["--tokens", "char", "--ngram", "10"]),
    ("--method simhash (Hamming <= 3)", ["--method", "simhash"]),
    ("--method simhash --hamming 6", ["--method", "simhash", "--hamming", "6"]),
    ("--exact-only", ["--exact-only"]),
]
kinds = collections.defaultdict(list)
for line in open(gp):
    p = json.loads(line)
    kinds[p["kind"]].append((p["id_a"], p["id_b"]))
by_kind = []
for name, opts in settings:
    out = dedup(g, *opts)
    print(row(name, evaluate(out, gt)))
    cl = clusters_of(out)
    same = {k: sum(1 for a, b in v if a in cl and cl.get(a) == cl.get(b))
            for k, v in kinds.items()}
    by_kind.append((name, same))
print("\nPlanted pairs found in one cluster, by kind (hard negatives: a new "
      "story with the cast of an earlier one; finding them is an error):\n")
ks = ["exact", "exact-norm", "near", "hard"]
print("| settings | " + " | ".join("%s (%d)" % (k, len(kinds[k])) for k in ks) + " |")
print("|---|" + "---:|" * len(ks))
for name, same in by_kind:
    print("| %s | %s |" % (name, " | ".join(
        "%.3f" % (same[k] / max(1, len(kinds[k]))) for k in ks)))

# 2. The seeds.
if os.path.isdir("../shared/seeds"):
    out = dedup("../shared/seeds")
    cl = [json.loads(l)["members"] for l in open(os.path.join(out, "clusters.jsonl"))]
    print("\n## ../shared/seeds (defaults)\n")
    print("Clusters: %s; everything else kept alone." % cl)

# 3. Exact-duplicate labels (a floor: computed, not judged).
for name in ["bbc_news", "20newsgroups"]:
    f = os.path.join(DATA, name, "docs.jsonl.zst")
    if not os.path.exists(f):
        continue
    truth = os.path.join(tmp, name + "-truth.jsonl")
    with open(truth, "w") as t:
        for line in zread(f):
            r = json.loads(line)
            g_ = r.get("exact_dup_group")
            t.write(json.dumps({"id": r["id"], "cluster": "g%s" % g_ if g_ is not None else r["id"]}) + "\n")
    print("\n## %s: `exact_dup_group` labels (lowercased, whitespace-collapsed identity)\n" % name)
    print(HEAD)
    for sname, opts in [("--exact-only", ["--exact-only"]), ("default", []), ("--threshold 0.8", ["-t", "0.8"])]:
        print(row(sname, evaluate(dedup(f, *opts), truth)))

# 4. Labelled pairs.
for name in ["minhash_articles", "clough_plagiarism", "msrp"]:
    f = os.path.join(DATA, name, "docs.jsonl.zst")
    pf = os.path.join(DATA, name, "pairs.jsonl.zst")
    if not os.path.exists(f):
        continue
    print("\n## %s: labelled pairs\n" % name)
    print(HEAD)
    for sname, opts in [("default", []), ("--threshold 0.5", ["-t", "0.5"]),
                        ("--containment", ["--containment"])]:
        print(row(sname, evaluate(dedup(f, *opts), pf)))
    sims = [json.loads(l) for l in run(W, "similarity", "--pairs", pf, f).splitlines()]
    pos = [s["jaccard"] for s in sims if s["label"]]
    neg = [s["jaccard"] for s in sims if not s["label"]]
    posc = [s["containment"] for s in sims if s["label"]]
    negc = [s["containment"] for s in sims if not s["label"]]
    print("\nRanking by exact 5-gram Jaccard: ROC AUC %.3f (containment: %.3f); "
          "%d positive, %d negative pairs." % (auc(pos, neg), auc(posc, negc), len(pos), len(neg)))
    cats = collections.defaultdict(list)
    for s in sims:
        if "category" in s:
            cats[s["category"]].append(s)
    if cats:
        print("\n| category | pairs | median Jaccard | median containment | Jaccard >= 0.7 | containment >= 0.8 |")
        print("|---|---:|---:|---:|---:|---:|")
        for c in ["cut", "light", "heavy", "non"]:
            v = cats.get(c, [])
            if not v:
                continue
            js = sorted(x["jaccard"] for x in v)
            cs = sorted(x["containment"] for x in v)
            print("| %s | %d | %.3f | %.3f | %.2f | %.2f |" % (
                c, len(v), js[len(js) // 2], cs[len(cs) // 2],
                sum(1 for x in js if x >= 0.7) / len(v), sum(1 for x in cs if x >= 0.8) / len(v)))
