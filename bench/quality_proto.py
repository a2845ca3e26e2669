#!/usr/bin/env python3
"""Prototype of the news-quality rule of issue 12 (figures, contained copies,
boilerplate learned from frequency, star clusters), measured on the shared
corpora with exact set computations.  Plain Python, no third-party module.

    python3 bench/quality_proto.py [--data DIR] [--seeds DIR] [--only NAME]
        [--ablate] [--gen FILE --gen-truth FILE]

It prints Markdown: P/R/F1 on reuters dev_pairs (judged pair by pair and read
from clusters over the whole corpus), the checks on the other corpora,
candidate and key counts, and an ablation table.  docs/QUALITY.md
("News quality rule, phase 1") records one run.
"""
import argparse
import collections
import json
import math
import os
import re
import subprocess
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
# ../shared beside the repository, or beside the worktrees' parent.
SHARED = os.environ.get("WN_SHARED") or next(
    (d for d in (os.path.join(HERE, "..", "..", "shared"),
                 os.path.join(HERE, "..", "..", "..", "shared"))
     if os.path.isdir(d)), os.path.join(HERE, "..", "..", "shared"))

# ---------------------------------------------------------------- parameters
# One default setting.  Every value is a property of text, not of a corpus.
P = dict(
    ngram=5,
    bp_frac=0.002,     # a shingle in more than max(bp_min, bp_frac * N)
    bp_min=20,         #   records is boilerplate: it weighs nothing
    bp_mode="all",     # "all": counts of the whole corpus (two passes or a
                       # frozen table); "sofar": counts of the records before
    t_near=0.5,        # Jaccard of the non-boilerplate shingles
    t_cont=0.7,        # containment of the smaller in the larger
    short_tokens=40,   # a record this short may match by its words (flash)
    t_words=0.8,       # idf-weighted share of its words found in the other
    t_words_nofig=0.9, #   (when the short record has no figure)
    min_weight=20.0,   #   and its words must weigh this much (in nats)
    flash_lead=64,     #   words looked up in the first 64 tokens of the
                       #   other record (0: all its words)
    conflict=0.1,      # figures replaced / figures in either: at most this
    t_one_fig=0.65,    #   (or one figure replaced at Jaccard >= this)
    bands=16, rows=8,  # the LSH of today's default (-t 0.8); 0 = none
    anchor_rate=3,     # anchors: 1 shingle in 2^3 (by value), at most
    anchor_cap=64,     #   64 per record, pairs sharing >= anchor_hits
    anchor_hits=1,
    offer_frac=0.05,   # flash offers: lead words in at most
    offer_min=50,      #   max(offer_min, offer_frac * N) records,
    offer_cap=32,      #   at most 32 per record; a probe meets offers of
    flash_block=2048,  #   its own block of records or the two beside it
    figs=True, contain=True, boiler=True, flash=True, star=True,
)

MONTHS = {m: i + 1 for i, ms in enumerate([
    "jan january", "feb february", "mar march", "apr april", "may",
    "jun june", "jul july", "aug august", "sep sept september",
    "oct october", "nov november", "dec december"]) for m in ms.split()}
NUMWORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve"
    .split())}

TOKEN_RE = re.compile(r"[^\W_]+")
FIG_RE = re.compile(r"\d+(?:[.,/:]\d+)*(?:-\d+/\d+)?")


def tokens(text):
    return TOKEN_RE.findall(unicodedata.normalize("NFKC", text).casefold())


def canon_number(s):
    """One spelling per amount: thousands separators dropped, trailing
    decimal zeros dropped ("4.50" = "4.5", "1,000" = "1000")."""
    s = re.sub(r",(?=\d{3}(?:\D|$))", "", s)
    if "." in s and "/" not in s and ":" not in s and s.count(".") == 1:
        s = s.rstrip("0").rstrip(".")
    s = s.lstrip("0") or "0"
    return s


def figures(text):
    """The record's figures: numbers (with decimals, fractions, times), and
    a month name followed by a day number or a small number word becomes one
    date figure ("Apr 7" = "April seven" = "d4.7")."""
    t = unicodedata.normalize("NFKC", text).casefold()
    out = set()
    # An ISO date (2017-07-31) is the year and the date, as "July 31, 2017".
    def iso(m):
        y, mo, d = m.group(1), int(m.group(2)), int(m.group(3))
        if 1 <= mo <= 12 and 1 <= d <= 31:
            out.add(y)
            out.add("d%d.%d" % (mo, d))
            return " "
        return m.group(0)
    t = re.sub(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)", iso, t)
    words = [(m.group(0), m.start(), m.end()) for m in
             re.finditer(r"\d+(?:[.,/:]\d+)*(?:-\d+/\d+)?|[^\W\d_]+", t)]
    skip = set()
    for i, (w, s, e) in enumerate(words):
        if w in MONTHS and i + 1 < len(words):
            n = words[i + 1][0]
            d = None
            if n.isdigit() and 1 <= int(n) <= 31:
                d = int(n)
            elif n in NUMWORDS and NUMWORDS[n] >= 1:
                d = NUMWORDS[n]
            if d is not None:
                out.add("d%d.%d" % (MONTHS[w], d))
                skip.add(i + 1)
    for i, (w, s, e) in enumerate(words):
        if i in skip or not w[0].isdigit():
            continue
        out.add(canon_number(w))
    return out


def mix(x):
    """The splitmix64 finalizer, as lib/sketch does."""
    x &= 0xFFFFFFFFFFFFFFFF
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def shingles(tok, n):
    if len(tok) < n:
        return {hash(tuple(tok))} if tok else set()
    return {hash(tuple(tok[i:i + n])) for i in range(len(tok) - n + 1)}


# ------------------------------------------------------------------- corpora
def zread(path):
    if path.endswith(".zst"):
        out = subprocess.run(["zstdcat", path], check=True,
                             stdout=subprocess.PIPE).stdout
        return [x for x in out.decode("utf-8").split("\n") if x]
    return [x for x in open(path, encoding="utf-8").read().split("\n") if x]


def load_jsonl(path):
    ids, texts = [], []
    for line in zread(path):
        r = json.loads(line)
        ids.append(str(r["id"]))
        texts.append(r.get("text") or "")
    return ids, texts


def load_dir(path):
    ids, texts = [], []
    for f in sorted(os.listdir(path)):
        ids.append(f)
        texts.append(open(os.path.join(path, f), encoding="utf-8").read())
    return ids, texts


class Corpus:
    def __init__(self, ids, texts, p):
        self.p = p
        self.ids = ids
        self.pos = {i: k for k, i in enumerate(ids)}
        self.n = len(ids)
        self.tok = [tokens(t) for t in texts]
        self.fig = [figures(t) for t in texts]
        raw = [shingles(t, p["ngram"]) for t in self.tok]
        # Boilerplate: document frequency of each shingle.  In the prototype
        # the count is exact and over the whole corpus; the C design uses a
        # count-min sketch (see docs/QUALITY.md for the streaming variant).
        df = collections.Counter()
        lim = max(p["bp_min"], p["bp_frac"] * self.n)
        self.bp_lim = lim
        if p["boiler"] and p["bp_mode"] == "sofar":
            # Streaming: a record sees the counts of the records before it
            # (and itself), against the limit at its own position.
            self.sh = []
            for d, s in enumerate(raw):
                df.update(s)
                ld = max(p["bp_min"], p["bp_frac"] * (d + 1))
                self.sh.append(frozenset(x for x in s if df[x] <= ld))
        else:
            for s in raw:
                df.update(s)
            if p["boiler"]:
                self.sh = [frozenset(x for x in s if df[x] <= lim)
                           for s in raw]
            else:
                self.sh = [frozenset(s) for s in raw]
        self.nbp = sum(len(r) - len(s) for r, s in zip(raw, self.sh))
        self.nsh = sum(len(r) for r in raw)
        # Word weights for short records: idf learned from the same counts,
        # so words that very many records use (stock words, sign-offs,
        # fillers of empty bodies) weigh almost nothing.
        wdf = collections.Counter()
        wsets = [frozenset(w for w in t if not w.isdigit()) for t in self.tok]
        for s in wsets:
            wdf.update(s)
        self.idf = {w: math.log(self.n / c) for w, c in wdf.items()}
        self.wdf = wdf
        self.words = wsets

    def lead_words(self, d):
        return frozenset(w for w in self.tok[d][:self.p["flash_lead"]]
                         if not w.isdigit())

    def word_cont(self, s, l):
        ws = self.words[s]
        tot = sum(self.idf[w] for w in ws)
        if tot <= 0:
            return 0.0, 0.0
        if self.p["flash_lead"]:
            lw = self.lead_words(l)
        else:
            lw = self.words[l]
        got = sum(self.idf[w] for w in ws & lw)
        return got / tot, tot

    # ------------------------------------------------------------ the rule
    def features(self, a, b):
        A, B = self.sh[a], self.sh[b]
        inter = len(A & B)
        union = len(A | B)
        j = inter / union if union else (1.0 if not self.tok[a] and not
                                          self.tok[b] else 0.0)
        ca = inter / len(A) if A else 0.0
        cb = inter / len(B) if B else 0.0
        Fa, Fb = self.fig[a], self.fig[b]
        xa, xb = len(Fa - Fb), len(Fb - Fa)
        fu = len(Fa | Fb)
        return j, ca, cb, xa, xb, fu

    def decide(self, a, b):
        """(verdict, reason, smaller) for the pair: the rule of QUALITY.md."""
        p = self.p
        j, ca, cb, xa, xb, fu = self.features(a, b)
        la, lb = len(self.tok[a]), len(self.tok[b])
        # s is the smaller record (fewer tokens; ties: the later one).
        s, l = (a, b) if (la, -a) < (lb, -b) else (b, a)
        cs = ca if s == a else cb
        xs, xl = (xa, xb) if s == a else (xb, xa)
        conflict = min(xa, xb) / fu if fu else 0.0
        if p["figs"]:
            near_ok = conflict <= p["conflict"] and not (
                min(xa, xb) > 0 and fu < 1 / p["conflict"])
            # One updated figure in a text that is otherwise a close copy.
            near_ok = near_ok or (min(xa, xb) == 1 and j >= p["t_one_fig"])
            cont_ok = xs == 0
        else:
            near_ok = cont_ok = True
        if j >= p["t_near"] and near_ok:
            return True, "near", s, j
        if p["contain"] and cs >= p["t_cont"] and cont_ok:
            return True, "contained", s, j
        if p["flash"] and len(self.tok[s]) <= p["short_tokens"] and cont_ok:
            cw, weight = self.word_cont(s, l)
            if cw >= p["t_words"] and weight >= p["min_weight"] and (
                    not p["figs"] or self.fig[s] or cw >= p["t_words_nofig"]):
                return True, "contained", s, j
        return False, "", s, j

    # ---------------------------------------------------------- candidates
    def candidates(self):
        """Candidate pairs as the C design finds them (docs/QUALITY.md):
        LSH bands (simulated: a pair sharing a non-boilerplate shingle is a
        candidate with the S-curve probability of its Jaccard, decided by a
        hash of the pair), anchors (a shared content-defined sample shingle)
        and flash keys (probes x offers).  Returns (pairs, stats)."""
        p = self.p
        st = collections.Counter()
        pairs = set()
        inv = collections.defaultdict(list)
        for d, s in enumerate(self.sh):
            for x in s:
                inv[x].append(d)
        share = getattr(self, "_share", None)
        if share is None:
            share = self._share = self.shared_pairs(inv)
        st["share"] = len(share)
        b, r = p["bands"], p["rows"]
        if b:
            for a, c in share:
                A, B = self.sh[a], self.sh[c]
                j = len(A & B) / len(A | B)
                u = (hash((a, c, 0x5EED)) & 0xFFFFFFFF) / 2.0 ** 32
                if u < 1 - (1 - j ** r) ** b:
                    pairs.add((a, c))
            st["lsh"] = len(pairs)
            st["keys_lsh"] = b * self.n
        return self.more_candidates(pairs, st)

    def shared_pairs(self, inv):
        share = set()
        for ds in inv.values():
            if 1 < len(ds) <= self.bp_lim + 1:
                for i in range(len(ds)):
                    for k in range(i + 1, len(ds)):
                        share.add((ds[i], ds[k]))
        return share

    def more_candidates(self, pairs, st):
        p = self.p
        if p["anchor_rate"]:
            # Anchors: shingles whose hash is 0 mod 2^rate, the cap smallest.
            m = (1 << p["anchor_rate"]) - 1
            ainv = collections.defaultdict(list)
            for d, s in enumerate(self.sh):
                anc = sorted(x2 for x2 in (mix(x) for x in s) if not x2 & m)
                anc = anc[:p["anchor_cap"]]
                st["keys_anchor"] += len(anc)
                for x in anc:
                    ainv[x].append(d)
            hits = collections.Counter()
            for ds in ainv.values():
                for i in range(len(ds)):
                    for k in range(i + 1, len(ds)):
                        hits[(ds[i], ds[k])] += 1
            got = {pq for pq, c in hits.items() if c >= p["anchor_hits"]}
            st["anchor"] = len(got)
            pairs |= got
        if p["flash"]:
            # Flash keys: a short record probes with its 4 rarest words; a
            # record offers the rare words of its first 60 tokens.
            lim = max(p["offer_min"], p["offer_frac"] * self.n)
            offers = collections.defaultdict(list)
            for d, t in enumerate(self.tok):
                lw = [w for w in set(t[:60]) if not w.isdigit() and
                      self.wdf[w] <= lim]
                lw = sorted(lw, key=lambda w: (self.wdf[w], w))[:p["offer_cap"]]
                st["keys_offer"] += len(lw)
                for w in lw:
                    offers[w].append(d)
            got = set()
            for d, t in enumerate(self.tok):
                if len(t) > p["short_tokens"]:
                    continue
                probe = sorted(self.words[d], key=lambda w: (self.wdf[w], w))[:4]
                st["keys_probe"] += len(probe)
                st["short_records"] += 1
                h = collections.Counter()
                blk = d // p["flash_block"]
                for w in probe:
                    for o in offers.get(w, ()):
                        if o != d and abs(o // p["flash_block"] - blk) <= 1:
                            h[o] += 1
                for o, c in h.items():
                    if c >= min(2, len(probe)):
                        got.add((min(d, o), max(d, o)))
            st["flash"] = len(got)
            pairs |= got
        st["pairs"] = len(pairs)
        return pairs, st

    # ------------------------------------------------------------ clusters
    def cluster(self, pairs):
        """Star clusters.  Records contained in a larger one are demoted, so a
        container becomes a center first; centers are taken in input order;
        a center absorbs every unassigned neighbour that passes the rule
        against it.  Returns {record: (center, reason, jaccard)}."""
        verified = {}
        adj = collections.defaultdict(list)
        demoted = set()
        for a, b in sorted(pairs):
            ok, why, s, j = self.decide(a, b)
            if ok:
                verified[(a, b)] = (why, s, j)
                adj[a].append(b)
                adj[b].append(a)
                # The container is kept: a record mostly inside a longer
                # one waits until its containers have been centers.
                if self.p["star"] and (why == "contained" or (
                        len(self.tok[s]) < len(self.tok[b if s == a else a])
                        and self.features(a, b)[1 if s == a else 2] >=
                        self.p["t_cont"])):
                    demoted.add(s)
        removed = {}
        if not self.p["star"]:  # union-find, first record represents
            parent = list(range(self.n))

            def find(x):
                while parent[x] != x:
                    parent[x] = parent[parent[x]]
                    x = parent[x]
                return x
            for a, b in verified:
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
            for d in range(self.n):
                r = find(d)
                if r != d:
                    removed[d] = (r, "near", 0.0)
            return removed, verified
        order = [d for d in range(self.n) if d not in demoted] + \
            sorted(demoted)
        centers = set()
        for c in order:
            if c in removed:
                continue
            centers.add(c)
            for o in sorted(adj[c]):
                if o in removed or o in centers:
                    continue
                why, s, j = verified[(min(c, o), max(c, o))]
                # A center never absorbs the record that contains it.
                if why == "contained" and s == c:
                    continue
                removed[o] = (c, why, j)
        return removed, verified


# --------------------------------------------------------------- evaluation
def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def score_pairs(labels, same):
    """labels: [(a, b, label, kind)], same(a, b) -> bool."""
    tot = collections.Counter()
    kinds = collections.defaultdict(collections.Counter)
    for a, b, lab, kind in labels:
        pred = same(a, b)
        k = ("tp" if lab else "fp") if pred else ("fn" if lab else "tn")
        tot[k] += 1
        kinds[kind][k] += 1
    return tot, kinds


def fmt(c):
    p, r, f = prf(c["tp"], c["fp"], c["fn"])
    return "%.3f | %.3f | %.3f | %d | %d | %d" % (p, r, f, c["tp"], c["fp"],
                                                  c["fn"])


def clusters_of(removed):
    root = {}
    for d, (c, _, _) in removed.items():
        root[d] = c
    return lambda a, b: root.get(a, a) == root.get(b, b)


def cand_line(C, st, verified, removed):
    n = C.n
    return ("%d records. Keys per record: LSH %.1f, anchors %.2f, flash "
            "offers %.2f, probes %.2f (%d short records). Candidate pairs: "
            "%d (LSH %d, anchors %d, flash %d; pairs sharing any "
            "non-boilerplate shingle: %d); %d verified, %d removed. "
            "Boilerplate: %.1f%% of shingle occurrences (limit %.0f "
            "records)." % (
                n, st["keys_lsh"] / n, st["keys_anchor"] / n,
                st["keys_offer"] / n, st["keys_probe"] / n,
                st["short_records"], st["pairs"], st["lsh"], st["anchor"],
                st["flash"], st["share"], len(verified), len(removed),
                100.0 * C.nbp / max(1, C.nsh), C.bp_lim))


_CORPORA = {}


def run_reuters(data, p, out, detail=True):
    # The corpus object depends only on the boilerplate options; the rule,
    # the candidates and the clusters read C.p, so ablation rows share it.
    key = (p["boiler"], p["bp_mode"], p["bp_frac"], p["bp_min"], p["ngram"])
    if key not in _CORPORA:
        ids, texts = load_jsonl(os.path.join(data, "reuters21578",
                                             "docs.jsonl.zst"))
        _CORPORA[key] = Corpus(ids, texts, p)
    C = _CORPORA[key]
    C.p = p
    labels = []
    for line in open(os.path.join(data, "reuters21578", "dev_pairs.jsonl")):
        r = json.loads(line)
        labels.append((C.pos[r["id_a"]], C.pos[r["id_b"]], r["label"],
                       r["kind"]))
    direct, dk = score_pairs(labels, lambda a, b: C.decide(a, b)[0])
    pairs, st = C.candidates()
    removed, verified = C.cluster(pairs)
    clus, ck = score_pairs(labels, clusters_of(removed))
    res = dict(direct=direct, clus=clus, dk=dk, ck=ck, cand=len(pairs),
               st=st, verified=len(verified), removed=len(removed),
               C=C, rem=removed, labels=labels)
    if detail:
        out("\n### reuters21578 dev_pairs (240 judged pairs)\n")
        out("| read | P | R | F1 | TP | FP | FN |\n|---|---:|---:|---:|---:|---:|---:|")
        out("| rule on each pair | %s |" % fmt(direct))
        out("| clusters over the whole corpus | %s |" % fmt(clus))
        out("\nBy kind (clusters; label-0 kinds count false merges):\n")
        out("| kind | pairs | merged | right |\n|---|---:|---:|---:|")
        for k in sorted(ck):
            c = ck[k]
            n = sum(c.values())
            merged = c["tp"] + c["fp"]
            out("| %s | %d | %d | %d |" % (k, n, merged, c["tp"] + c["tn"]))
        out("\n" + cand_line(C, st, verified, removed))
        reasons = collections.Counter(r for _, r, _ in removed.values())
        out("Removed by reason: %s." % dict(sorted(reasons.items())))
        bad = [(d, c) for d, (c, _, _) in removed.items()
               if not C.decide(min(d, c), max(d, c))[0]]
        out("Removed records that fail the rule against their duplicate_of: "
            "%d." % len(bad))
    return res


def run_simple(name, ids, texts, p, out, expect=None):
    C = Corpus(ids, texts, p)
    pairs, st = C.candidates()
    removed, verified = C.cluster(pairs)
    reasons = collections.Counter(r for _, r, _ in removed.values())
    bad = [(d, c) for d, (c, _, _) in removed.items()
           if not C.decide(min(d, c), max(d, c))[0]]
    out("\n### %s\n" % name)
    out(cand_line(C, st, verified, removed))
    out("Removed by reason: %s; %d failing the rule against duplicate_of." % (
        dict(sorted(reasons.items())), len(bad)))
    return C, removed


def groups_of(removed, n):
    g = collections.defaultdict(list)
    for d in range(n):
        g[removed[d][0] if d in removed else d].append(d)
    return [v for v in g.values() if len(v) > 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(SHARED, "data"))
    ap.add_argument("--seeds", default=os.path.join(SHARED, "seeds"))
    ap.add_argument("--only", default="")
    ap.add_argument("--ablate", action="store_true")
    ap.add_argument("--set", action="append", default=[],
                    help="override a parameter, e.g. --set t_near=0.45")
    ap.add_argument("--gen", default="")
    ap.add_argument("--gen-truth", default="")
    a = ap.parse_args()
    p = dict(P)
    for kv in a.set:
        k, v = kv.split("=")
        p[k] = (v == "1") if isinstance(P[k], bool) else type(P[k])(v)

    def out(s):
        print(s, flush=True)
    want = lambda n: not a.only or a.only == n
    out("## Prototype run (bench/quality_proto.py)\n\nParameters: %s" %
        ", ".join("%s=%s" % kv for kv in sorted(p.items())))
    if want("reuters"):
        run_reuters(a.data, p, out)
    if want("ablate") or a.ablate:
        out("\n### Ablation on reuters dev_pairs (clusters over the corpus)\n")
        out("| setting | P | R | F1 | TP | FP | FN | candidates |")
        out("|---|---:|---:|---:|---:|---:|---:|---:|")
        rows = [("full rule", {}),
                ("no figures", dict(figs=False)),
                ("no containment", dict(contain=False)),
                ("no flash words", dict(flash=False)),
                ("no boilerplate weighting", dict(boiler=False)),
                ("union-find instead of star", dict(star=False)),
                ("boilerplate counted so far (streaming)",
                 dict(bp_mode="sofar")),
                ("no anchors (LSH 16x8 + flash keys)", dict(anchor_rate=0)),
                ("anchors need 2 shared", dict(anchor_hits=2)),
                ("no LSH (anchors + flash keys)", dict(bands=0)),
                ("only Jaccard >= 0.5", dict(figs=False, contain=False,
                                              flash=False, boiler=False)),
                ("only Jaccard >= 0.8", dict(figs=False, contain=False,
                                              flash=False, boiler=False,
                                              t_near=0.8))]
        for name, ov in rows:
            q = dict(p)
            q.update(ov)
            r = run_reuters(a.data, q, out, detail=False)
            out("| %s | %s | %d |" % (name, fmt(r["clus"]), r["cand"]))
    if want("ablate-direct"):
        # The rule's components judged on the 240 pairs directly (no
        # candidates, no clusters): cheap, and what each part of the rule
        # contributes.
        out("\n### Ablation of the rule on reuters dev_pairs (each pair "
            "judged directly)\n")
        out("| setting | P | R | F1 | TP | FP | FN |")
        out("|---|---:|---:|---:|---:|---:|---:|")
        rows = [("full rule", {}), ("no figures", dict(figs=False)),
                ("no one-figure update", dict(t_one_fig=2.0)),
                ("no containment", dict(contain=False)),
                ("no flash words", dict(flash=False)),
                ("flash words over all of l", dict(flash_lead=0)),
                ("no boilerplate weighting", dict(boiler=False)),
                ("boilerplate counted so far (streaming)",
                 dict(bp_mode="sofar")),
                ("only J >= 0.5 (nothing else)",
                 dict(figs=False, contain=False, flash=False, boiler=False)),
                ("only J >= 0.8 (today's default)",
                 dict(figs=False, contain=False, flash=False, boiler=False,
                      t_near=0.8))]
        for name, ov in rows:
            q = dict(p)
            q.update(ov)
            key = (q["boiler"], q["bp_mode"], q["bp_frac"], q["bp_min"],
                   q["ngram"])
            if key not in _CORPORA:
                ids, texts = load_jsonl(os.path.join(
                    a.data, "reuters21578", "docs.jsonl.zst"))
                _CORPORA[key] = Corpus(ids, texts, q)
            C = _CORPORA[key]
            C.p = q
            labels = []
            for line in open(os.path.join(a.data, "reuters21578",
                                          "dev_pairs.jsonl")):
                r = json.loads(line)
                labels.append((C.pos[r["id_a"]], C.pos[r["id_b"]],
                               r["label"], r["kind"]))
            tot, _ = score_pairs(labels, lambda x, y: C.decide(x, y)[0])
            out("| %s | %s |" % (name, fmt(tot)))
    if want("seeds") and os.path.isdir(a.seeds):
        ids, texts = load_dir(a.seeds)
        C, rem = run_simple("seeds", ids, texts, p, out)
        out("Clusters: %s; J(000,001) over non-boilerplate shingles %.3f." % (
            [[ids[d] for d in g] for g in groups_of(rem, C.n)],
            C.features(0, 1)[0]))
    if want("minhash_articles"):
        d = os.path.join(a.data, "minhash_articles")
        ids, texts = load_jsonl(os.path.join(d, "docs.jsonl.zst"))
        C, rem = run_simple("minhash_articles", ids, texts, p, out)
        same = clusters_of(rem)
        planted = [json.loads(l) for l in zread(os.path.join(
            d, "pairs.jsonl.zst"))]
        found = sum(1 for r in planted if same(C.pos[r["id_a"]],
                                               C.pos[r["id_b"]]))
        pl = {(min(C.pos[r["id_a"]], C.pos[r["id_b"]]),
               max(C.pos[r["id_a"]], C.pos[r["id_b"]])) for r in planted}
        extra = 0
        for g in groups_of(rem, C.n):
            for i in range(len(g)):
                for k in range(i + 1, len(g)):
                    if (min(g[i], g[k]), max(g[i], g[k])) not in pl:
                        extra += 1
        out("Planted pairs found: %d/%d; other same-cluster pairs: %d." % (
            found, len(planted), extra))
    if want("bbc_news"):
        f = os.path.join(a.data, "bbc_news", "docs.jsonl.zst")
        rows = [json.loads(l) for l in zread(f)]
        ids = [r["id"] for r in rows]
        C, rem = run_simple("bbc_news", ids, [r["text"] for r in rows], p, out)
        same = clusters_of(rem)
        grp = collections.defaultdict(list)
        for k, r in enumerate(rows):
            if r.get("exact_dup_group") is not None:
                grp[r["exact_dup_group"]].append(k)
        kept = sum(1 for g in grp.values()
                   if all(same(g[0], x) for x in g[1:]))
        out("Exact groups in one cluster: %d/%d." % (kept, len(grp)))
        for d, (c, why, j) in sorted(rem.items()):
            if why != "exact" and j < 0.999:
                pass
        out("Removed (not exact-text): %s" % ", ".join(
            "%s->%s %s %.2f" % (ids[d], ids[c], why, j)
            for d, (c, why, j) in sorted(rem.items()) if j < 0.95))
    if want("20newsgroups"):
        f = os.path.join(a.data, "20newsgroups", "docs.jsonl.zst")
        ids, texts = load_jsonl(f)
        C, rem = run_simple("20newsgroups", ids, texts, p, out)
        js = sorted(j for _, (c, why, j) in rem.items())
        low = [(ids[d], ids[c], why, round(j, 3))
               for d, (c, why, j) in rem.items() if why == "near" and j < 0.6]
        out("Near removals below Jaccard 0.6 to their duplicate_of: %d; "
            "contained removals: %d." % (
                len(low), sum(1 for v in rem.values() if v[1] == "contained")))
    if a.gen:
        ids, texts = load_jsonl(a.gen)
        C, rem = run_simple("generated corpus (%s)" % os.path.basename(a.gen),
                            ids, texts, p, out)
        truth = {}
        for line in zread(a.gen_truth):
            r = json.loads(line)
            truth[C.pos[r["id"]]] = r["cluster"]
        tg = collections.defaultdict(list)
        for d, c in truth.items():
            tg[c].append(d)
        tpairs = {(g[i], g[k]) for g in tg.values() for i in range(len(g))
                  for k in range(i + 1, len(g))}
        ppairs = {(min(g[i], g[k]), max(g[i], g[k]))
                  for g in groups_of(rem, C.n) for i in range(len(g))
                  for k in range(i + 1, len(g))}
        tp = len(tpairs & ppairs)
        pr, rc, f1 = prf(tp, len(ppairs) - tp, len(tpairs) - tp)
        out("Pairwise against the truth: P %.3f R %.3f F1 %.3f (TP %d, FP %d,"
            " FN %d)." % (pr, rc, f1, tp, len(ppairs) - tp, len(tpairs) - tp))
    if want("gutenberg_sample"):
        f = os.path.join(a.data, "gutenberg_sample", "docs.jsonl.zst")
        ids, texts = load_jsonl(f)
        C, rem = run_simple("gutenberg_sample", ids, texts, p, out)
        out("Removals: %s" % ", ".join(
            "%s->%s %s J=%.3f" % (ids[d], ids[c], why, j)
            for d, (c, why, j) in sorted(rem.items())))


if __name__ == "__main__":
    main()
