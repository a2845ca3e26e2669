#!/usr/bin/env python3
"""bigrec_gen.py - JSONL with one or more large records, for bench_bigrec.sh
and tests/cli/test_bigrec.sh.

The text of a large record is the texts of consecutive documents of a
build/bench/gen corpus joined by blank lines (realistic words, JSON escapes
for the line feeds and quotes), cut at the size asked for.

  bigrec_gen.py GEN.jsonl OUT.jsonl SIZE [SIZE...]
      one record per SIZE (bytes; suffix K, M or G), ids big-1, big-2, ...
  --near: after each large record, a copy with one word in 2,000 changed
      (a near duplicate), and a few small records between them.
"""
import json
import sys


def size(s):
    mul = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(float(s[:-1]) * mul[s[-1]]) if s[-1] in mul else int(s)


def texts(path):
    while True:
        with open(path, encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)["text"]


def big_text(src, want):
    parts, n = [], 0
    while n < want:
        t = next(src)
        parts.append(t)
        n += len(t.encode("utf-8")) + 2
    text = "\n\n".join(parts)
    b = text.encode("utf-8")[:want]
    return b.decode("utf-8", errors="ignore")


def main(argv):
    near = "--near" in argv
    argv = [a for a in argv if a != "--near"]
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    src = texts(argv[0])
    with open(argv[1], "w", encoding="utf-8") as out:
        for i, s in enumerate(argv[2:], 1):
            text = big_text(src, size(s))
            out.write(json.dumps({"id": "big-%d" % i, "text": text},
                                 ensure_ascii=False) + "\n")
            if near:
                for j in range(3):
                    out.write(json.dumps({"id": "small-%d-%d" % (i, j),
                                          "text": next(src)},
                                         ensure_ascii=False) + "\n")
                w = text.split(" ")
                for k in range(0, len(w), 2000):
                    w[k] = "changed"
                out.write(json.dumps({"id": "big-%d-near" % i,
                                      "text": " ".join(w)},
                                     ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
