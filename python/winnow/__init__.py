"""winnow: find and remove duplicate and near-duplicate text.

The Python face of libwinnow, the C library behind the ``winnow`` command:
the same normalization, MinHash/LSH (or SimHash) and verification, the same
options under the same names (``--num-perm`` is ``num_perm=``) and
defaults, the same decisions.

    >>> import winnow
    >>> winnow.similarity("The cat sat on the mat today.",
    ...                   "the cat sat on the mat, today").jaccard
    1.0
    >>> winnow.tokens("Monday.The U.S.")
    ['monday', 'the', 'u', 's']
    >>> r = winnow.dedup(["a b c d e f g", "A b c, d e f g!", "other text"])
    >>> r.kept, r.mask
    ([0, 2], [True, False, True])
    >>> p = winnow.params(0.8, 128)
    >>> (p.bands, p.rows)
    (16, 8)

Functions:
    dedup(records, text=, id=, **options)  deduplicate any iterable of records
    dedup_frame(df, text=, **options)      the same on a pandas DataFrame
    dedup_files(paths, output, **options)  the file job of `winnow dedup`
    explain(a, b, **options)               why two texts are (not) copies
    similarity(a, b, tokens=, ngram=)      exact Jaccard and containment
    tokens(text, tokens=, spans=)          the normalized tokens
    params(threshold, num_perm, ...)       LSH bands x rows and the S-curve
    Index(path, create=, **rule)           a persistent index: check, query,
                                           check_many, expire, stats

Errors are winnow.Error subclasses carrying the library's status code and
message: OptionError (a ValueError: a bad option, worded as the CLI words
it), FileError (an OSError), FormatError, LimitError; an out-of-memory is
MemoryError. Ctrl-C stops a running job cleanly (its temporary files are
removed, nothing is published) and raises KeyboardInterrupt.

The library releases the GIL while it works: other Python threads run
meanwhile, and separate calls may run in parallel threads.
"""

from __future__ import annotations

import itertools
import os
from typing import Any, Iterable, NamedTuple, Union

from . import _options, _winnow
from ._winnow import Error, FileError, FormatError, LimitError, OptionError

__version__ = "0.1.0"
library_version = _winnow.library_version

UnknownOption = _options.UnknownOption

__all__ = [
    "Error", "FileError", "FormatError", "LimitError", "OptionError",
    "UnknownOption", "Cluster", "DedupResult", "Explanation", "Params",
    "Rejected", "Span", "explain", "Index", "Answer", "Match",
    "Removed", "Similarity", "Stats", "dedup", "dedup_files", "dedup_frame",
    "params", "similarity", "tokens",
]

PathLike = Union[str, bytes, os.PathLike]


class Similarity(NamedTuple):
    """Exact similarity of two texts as winnow dedup sees them."""

    jaccard: float
    """|A n B| / |A u B| of the shingle sets (1.0 for two empty texts)."""
    containment: float
    """|A n B| / min(|A|, |B|): how much the smaller is inside the larger."""
    shingles_a: int
    """Distinct shingles of a."""
    shingles_b: int
    """Distinct shingles of b."""
    shared: int
    """Distinct shingles in both."""


def similarity(a: Union[str, bytes], b: Union[str, bytes], *,
               tokens: str = "word", ngram: int = 5) -> Similarity:
    """Exact Jaccard similarity and containment of two texts.

    The texts are normalized (NFKC, case folded), cut into tokens (words, or
    characters with tokens="char") and into shingles of ngram tokens, as
    `winnow dedup` does; the shingle sets are compared exactly (this is what
    the MinHash signatures estimate). str or UTF-8 bytes.

    >>> winnow.similarity("a b c d e f", "a b c d e g", ngram=2)
    Similarity(jaccard=0.6666666666666666, containment=0.8, ...)
    """
    mode = _options.choice("similarity", "tokens", tokens, _options.TOKENS)
    n = _options.number("similarity", "ngram", ngram, "uint")
    return Similarity(*_winnow.similarity(a, b, mode, n))


def tokens(text: Union[str, bytes], *, tokens: str = "word",
           spans: bool = False) -> list:
    """The normalized tokens of a text, as `winnow tokens` prints them.

    tokens="word" (default): words split at whitespace and punctuation
    ("Monday.The" is "monday", "the"), a token per Han/Kana/Thai character;
    tokens="char": a token per letter or digit. With spans=True every token
    comes as (token, start, end) where text[start:end] is what it came from
    (character offsets for a str, byte offsets for bytes).
    """
    mode = _options.choice("tokens", "tokens", tokens, _options.TOKENS)
    return _winnow.tokens(text, mode, bool(spans))


class Params(NamedTuple):
    """LSH bands x rows for a threshold and the S-curve they give."""

    threshold: float
    num_perm: int
    fn_weight: float
    bands: int
    rows: int
    false_positive_area: float
    """Area under the S-curve below the threshold (0 when bands and rows
    were given)."""
    false_negative_area: float
    """Area above the S-curve from the threshold up (likewise)."""

    def probability(self, s: float) -> float:
        """Probability that a pair of Jaccard similarity s becomes a
        candidate: 1 - (1 - s**rows)**bands."""
        return _winnow.lsh_probability(float(s), self.bands, self.rows)

    @property
    def midpoint(self) -> float:
        """The similarity where the curve crosses 1/2."""
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            if self.probability(mid) < 0.5:
                lo = mid
            else:
                hi = mid
        return lo

    def curve(self, steps: int = 10) -> list:
        """[(s, P(candidate))] for s = 1/steps .. 1."""
        return [(i / steps, self.probability(i / steps))
                for i in range(1, steps + 1)]


def params(threshold: float = 0.8, num_perm: int = 128, *,
           fn_weight: float = _options.FN_WEIGHT, bands: int = None,
           rows: int = None) -> Params:
    """The LSH bands and rows `winnow dedup` uses, as `winnow params`.

    Chooses bands x rows <= num_perm minimizing
    (1 - fn_weight) * FP + fn_weight * FN, the areas of false positives
    below the threshold and false negatives above it under the S-curve
    1 - (1 - s**rows)**bands. With bands and rows given, shows those.
    At the defaults: 16 bands of 8 rows.
    """
    cmd = "params"
    t = _options.number(cmd, "threshold", threshold, "float")
    k = _options.number(cmd, "num_perm", num_perm, "uint")
    w = _options.number(cmd, "fn_weight", fn_weight, "float")
    if (bands is None) != (rows is None):
        _options.fail(cmd, "--bands and --rows go together")
    if bands is not None:
        b = _options.number(cmd, "bands", bands, "uint")
        r = _options.number(cmd, "rows", rows, "uint")
        if b * r > k:
            _options.fail(cmd, "bands * rows exceeds --num-perm")
        return Params(t, k, w, b, r, 0.0, 0.0)
    b, r, fp, fn = _winnow.lsh_params(t, k, 1.0 - w, w)
    return Params(t, k, w, b, r, fp, fn)


class Stats:
    """What a run did: the fields of stats.json's counts.

    read, kept, removed, rejected (read = kept + removed + rejected),
    removed_exact, removed_near, removed_contained, clusters, bytes,
    blank_lines, candidates, verified, edges, large_buckets, max_bucket,
    invalid_utf8, empty_docs, duplicate_ids, keep_missing, bands, rows,
    seconds, stage_seconds (a dict by stage), peak_rss_bytes.
    """

    __slots__ = ("_d",)

    def __init__(self, d: dict):
        self._d = dict(d)

    def __getattr__(self, name):
        try:
            return self._d[name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict:
        """The fields as a new dict."""
        return dict(self._d)

    def __repr__(self) -> str:
        keys = ("read", "kept", "removed", "rejected", "clusters", "seconds")
        inner = ", ".join(f"{k}={self._d[k]!r}" for k in keys if k in self._d)
        return f"Stats({inner}, ...)"


def _paths(paths) -> list:
    if isinstance(paths, (str, bytes, os.PathLike)):
        return [paths]
    out = list(paths)
    if not out:
        _options.fail("dedup", "no input given")
    return out


def dedup_files(paths: Union[PathLike, Iterable[PathLike]], output: PathLike,
                **options) -> Stats:
    """Run `winnow dedup` on files: the same job, the same outputs.

    paths: JSONL files (plain, .gz or .zst, found by their bytes),
    directories of .txt files, or "-" for standard input; one or a list.
    output: the directory that receives kept.jsonl, removed.jsonl,
    clusters.jsonl, rejected.jsonl and stats.json (created when missing;
    published atomically at the end, the previous set kept on failure).

    Options are those of `winnow dedup`, with '_' for '-', and its defaults:
      exact_only=False       only exact duplicates (normalized text)
      method="minhash"       or "simhash"
      tokens="word"          or "char" (character n-grams)
      ngram=5                shingle length in tokens, 1..64
      num_perm=128           MinHash size K, 1..4096
      profile=None           "news", "classic" or "web": the pair rule
                             (docs/QUALITY.md); None: the library's default
      threshold=None         Jaccard threshold in (0, 1); None: the
                             profile's (news 0.5, classic 0.8, web 0.7)
      bands=None, rows=None  LSH bands x rows (both or neither); default
                             chosen from threshold and num_perm
      fn_weight=0.95         weight of false negatives in that choice
      verify="estimate"      or "exact" (exact Jaccard of shingle sets)
      containment=None       a fraction in [0, 1] (True: 0.8): also remove a
                             document mostly contained in another
      sketch="oph"           or "kperm" (K-permutation MinHash)
      hamming=3              simhash: max Hamming distance, 0..16
      keep=None              "first" or "longest": the representative of
                             a cluster (None: longest for web, else first)
      keep_max=None          a numeric JSON field: keep the largest
      id_field="id", text_field="text"  JSON fields
      max_record_bytes="64M" reject longer records (int or "512K", "4G")
      threads=0              worker threads (0: all cores)
      memory=0               memory budget of the run (0: a quarter of
                             RAM; at least 2 MiB per thread, as the CLI)
      tmp_dir=None           spill files here (default: inside output)
      seed=1                 hash seed
      no_fsync=False         skip fsync before publishing

    Returns the run's Stats. Rejected records (malformed JSON, no text
    field, too long) are not an error: see stats.rejected and
    rejected.jsonl. Raises OptionError for a bad option (the CLI's
    message), FileError when an input cannot be opened (before anything is
    written) or on an I/O failure, KeyboardInterrupt on Ctrl-C (nothing is
    published).
    """
    cmd = "dedup"
    c = _options.dedup_options(options, cmd=cmd)
    out = _options.string(cmd, "output", output)
    if os.path.exists(out) and not os.path.isdir(out):
        _options.fail(cmd, f"--output '{out}' exists and is not a directory")
    inputs = _paths(paths)
    if sum(1 for p in inputs if os.fsdecode(p) == "-") > 1:
        _options.fail(cmd, "standard input '-' can be given only once")
    return Stats(_winnow.dedup_files(inputs, out, c))


class Removed(NamedTuple):
    """A removed record, as a line of removed.jsonl."""

    id: Any
    """The record's id (its input position when it has none)."""
    duplicate_of: Any
    """The id of the kept representative of its cluster."""
    cluster: int
    """The cluster number (clusters numbered by their first member)."""
    similarity: float
    """Verified Jaccard to the representative (1.0 for exact copies)."""
    containment: float
    """Containment of the smaller in the larger (1.0 for exact copies)."""
    reason: str
    """"exact", "near" or "contained"."""
    index: int
    """Its position in the input."""
    duplicate_of_index: int
    """The representative's position in the input."""


class Cluster(NamedTuple):
    """A cluster of two or more records, as a line of clusters.jsonl."""

    cluster: int
    representative: Any
    """The id of the record kept."""
    size: int
    members: list
    """Ids of all members (the representative too), in input order."""
    indices: list
    """Their input positions."""


class Rejected(NamedTuple):
    """A record that could not be read: a dict whose text field is missing
    or not a str (the CLI rejects such a line the same way)."""

    index: int
    id: Any
    reason: str


_NO_TEXT = _winnow.strerror(_winnow.WN_ENOFIELD)


class DedupResult:
    """What winnow.dedup decided, record by record.

    kept        ids of the records kept, in input order
    mask        [bool] in input order: True for a kept record
    removed     [Removed] in input order: id, duplicate_of, cluster,
                similarity, containment, reason, index, duplicate_of_index
    clusters    [Cluster] by cluster number: cluster, representative, size,
                members, indices
    rejected    [Rejected]: records without a str text (neither kept nor
                removed; read = kept + removed + rejected)
    stats       Stats of the run (read, kept, removed, rejected, clusters,
                candidates, bands, rows, seconds, peak_rss_bytes, ...)

    An id is the record's own id object (its "id" field, or the first item
    of an (id, text) tuple); a record without one (a plain str, a dict
    without the field or with None) is named by its input position.
    len(result) is the number of records read; mask_array() gives the mask
    as a NumPy array when NumPy is installed.
    """

    def __init__(self, raw):
        mask, removed, rejected, report, ids = raw
        self._mask = mask
        self._ids = ids
        n = len(mask)
        name = ids.__getitem__ if ids is not None else (lambda i: i)
        self.removed = [
            Removed(name(p), name(d), c, s, k, why, p, d)
            for p, d, c, s, k, why in removed]
        self.rejected = [Rejected(p, name(p), _NO_TEXT) for p in rejected]
        self.stats = Stats(report)
        by_cluster = {}
        for r in self.removed:
            members = by_cluster.setdefault(
                r.cluster, [r.duplicate_of_index])
            members.append(r.index)
        self.clusters = []
        for c in sorted(by_cluster):
            idx = sorted(by_cluster[c])
            rep = by_cluster[c][0]
            self.clusters.append(Cluster(c, name(rep), len(idx),
                                         [name(i) for i in idx], idx))
        self._n = n

    @property
    def mask(self) -> list:
        return [b == 1 for b in self._mask]

    def mask_array(self):
        """The mask as a NumPy bool array (needs numpy)."""
        import numpy
        return numpy.frombuffer(self._mask, dtype=numpy.uint8).astype(bool)

    @property
    def kept(self) -> list:
        if self._ids is None:
            return [i for i, b in enumerate(self._mask) if b]
        return list(itertools.compress(self._ids, self._mask))

    def __len__(self) -> int:
        return self._n

    def __repr__(self) -> str:
        st = self.stats
        return (f"DedupResult(read={st.read}, kept={st.kept}, "
                f"removed={st.removed}, rejected={st.rejected}, "
                f"clusters={st.clusters})")


# Options of the file job that the in-memory job has no use for: the
# fields are text= and id=, nothing is read from or written to files.
_MEMORY_OPTIONS = {k for k in _options.DEDUP_DEFAULTS
                   if k not in ("id_field", "text_field", "max_record_bytes",
                                "no_fsync")}


def dedup(records: Iterable, text: str = "text", id: str = "id",
          **options) -> DedupResult:
    """Deduplicate records held in memory; `winnow dedup` without files.

    records: any iterable, read once, one record at a time, never held:
      - dicts (or other mappings): the text in record[text], the id in
        record[id] (optional); a Hugging Face datasets.Dataset is an
        iterable of such dicts;
      - (id, text) tuples;
      - plain str (or UTF-8 bytes) texts: the id is the input position.
    A record whose text is missing or not a str is rejected (see
    result.rejected), as the CLI rejects such a line.

    Returns a DedupResult: kept ids, a boolean mask in input order, removed
    records (duplicate_of, cluster, similarity, containment, reason),
    clusters and stats. The decisions are those of `winnow dedup` on the
    same records written as JSONL (same options, same defaults).

    Options (the CLI's, '_' for '-'; see help(winnow.dedup_files)):
      exact_only=False, method="minhash" | "simhash", tokens="word" | "char",
      ngram=5, num_perm=128, profile=None ("news" | "classic" | "web"),
      threshold=None (the profile's), bands=None, rows=None,
      fn_weight=0.95, verify="estimate" | "exact", containment=None (a
      fraction, True for 0.8), sketch="oph" | "kperm", hamming=3,
      keep=None ("first" | "longest"), keep_max=None (a numeric field of dict
      records: keep the largest), threads=0 (all cores), memory=0,
      tmp_dir=None (spill files; default the system's temporary directory),
      seed=1.

    Memory: per record the id (kept for the result); the job's own state
    per record is in spill files (docs/SCALING.md, "Memory on one
    machine"); texts are copied into the job, sketched and dropped. The GIL is released while the records are sketched and
    compared, so the iterable's own work in Python overlaps the sketching.

    Raises OptionError (a ValueError, with the CLI's message) for a bad
    option, TypeError for a record of another shape, whatever the iterable
    raises (the job is freed first), and KeyboardInterrupt on Ctrl-C (the
    job stops cleanly, its spill files are removed).

    >>> r = winnow.dedup([{"id": "a", "text": "x y z w v"},
    ...                   {"id": "b", "text": "X y z, w v."}])
    >>> r.kept, r.removed[0].duplicate_of, r.removed[0].reason
    (['a'], 'a', 'exact')
    """
    cmd = "dedup"
    c = _options.dedup_options(options, allowed=_MEMORY_OPTIONS, cmd=cmd)
    if not isinstance(text, str) or not text:
        _options.fail(cmd, "text must name a field")
    if not isinstance(id, str) or not id:
        _options.fail(cmd, "id must name a field")
    keep = c.pop("keep_field", None)
    if isinstance(records, (str, bytes)):
        raise TypeError("records must be an iterable of records, not a "
                        "single str")
    return DedupResult(_winnow.dedup(records, text, id, keep, c))


def dedup_frame(df, text: str = "text", *, mask: bool = False, **options):
    """Deduplicate the rows of a pandas DataFrame by its text column.

    Returns the frame without the removed rows (index and columns as they
    were), or with mask=True a boolean Series aligned with df.index, True
    for a kept row. Rows are named by position; options are those of
    winnow.dedup (keep_max names a numeric column). A row whose text is not
    a str (None, NaN) is rejected: dropped from the frame, False in the
    mask.
    """
    try:
        import pandas
    except ImportError as e:  # pragma: no cover - pandas is optional
        raise ImportError("winnow.dedup_frame needs pandas") from e
    if not isinstance(df, pandas.DataFrame):
        raise TypeError("dedup_frame takes a pandas.DataFrame")
    if text not in df.columns:
        _options.fail("dedup", f"no column '{text}' in the frame")
    keep_max = options.get("keep_max")
    if keep_max is not None:
        if keep_max not in df.columns:
            _options.fail("dedup", f"--keep-max: no column '{keep_max}'")
        values = df[keep_max].tolist()
        records = ({"text": t, "v": v}
                   for t, v in zip(df[text].tolist(), values))
        options = dict(options, keep_max="v")
        result = dedup(records, text="text", **options)
    else:
        # (None, text): named by position, and a text that is not a str
        # is rejected rather than refused.
        records = zip(itertools.repeat(None), df[text].tolist())
        result = dedup(records, **options)
    keep = pandas.Series(result.mask_array(), index=df.index, name=text)
    if mask:
        return keep
    return df[keep.values]


class Span(NamedTuple):
    """A stretch of one text: text[start:end] (characters for a str, bytes
    for bytes), lines line..line_end (1-based, inclusive) and tokens
    tok..tok + tokens - 1."""

    start: int
    end: int
    line: int
    line_end: int
    tok: int
    tokens: int


_VERDICTS = ("distinct", "exact", "near", "contained", "empty", "flash")


class Explanation:
    """What `winnow explain` says of a pair.

    verdict        "distinct", "exact", "near", "contained", "empty" or
                   "flash"
    reason         the verdict in one sentence
    scores         dict: tokens_a/_b, shingles_a/_b, shared, jaccard (exact),
                   jaccard_estimate (as dedup verifies), containment_a/_b,
                   containment_estimate, bands, rows, bands_shared,
                   candidate_probability, exact
    runs           [(Span in a, Span in b)]: the maximal shared passages,
                   longest first, then in the order of a
    only_a, only_b [Span]: the stretches outside every shared run
    """

    def __init__(self, raw):
        scores, runs, only_a, only_b = raw
        self.verdict = _VERDICTS[scores.pop("verdict")]
        self.reason = scores.pop("reason")
        self.scores = scores
        self.runs = [(Span(*x), Span(*y)) for x, y in runs]
        self.only_a = [Span(*x) for x in only_a]
        self.only_b = [Span(*x) for x in only_b]

    @property
    def jaccard(self) -> float:
        return self.scores["jaccard"]

    def __repr__(self) -> str:
        return (f"Explanation(verdict={self.verdict!r}, "
                f"jaccard={self.jaccard:.4f}, runs={len(self.runs)})")


def explain(a: Union[str, bytes], b: Union[str, bytes], *,
            tokens: str = "word", ngram: int = 5, num_perm: int = 128,
            threshold: float = None, containment=None,
            verify: str = "estimate", seed: int = 1, kgram: int = 5,
            window: int = 4, min_run: int = None,
            profile: str = None) -> Explanation:
    """Why dedup would (or would not) call two texts copies, as
    `winnow explain A B`: the verdict with its reason, the scores (exact
    and estimated Jaccard, containment both ways, LSH bands shared) and
    the shared passages (winnowing fingerprints extended to maximal runs
    of equal tokens), with what each text has alone.

    The dedup options (tokens, ngram, num_perm, threshold, containment
    (a fraction; True is 0.9, as `winnow explain --containment`), verify,
    seed) and profile (the pair rule, "news", "classic" or "web"; None:
    the library's default, as `winnow explain`; the threshold defaults
    to the profile's, 0.5, 0.8 or 0.7) give dedup's
    decision, made by dedup's own rule; kgram (tokens per fingerprint),
    window (winnowing window) and min_run (shortest run reported; default
    kgram) shape the passages.
    """
    cmd = "explain"
    p = (_winnow.default_profile if profile is None else
         _options.choice(cmd, "profile", profile, _options.PROFILES))
    if threshold is None:
        threshold = (0.5, 0.8, 0.7)[p]
    c = {
        "profile": p,
        "token_mode": _options.choice(cmd, "tokens", tokens, _options.TOKENS),
        "ngram": _options.number(cmd, "ngram", ngram, "uint"),
        "num_perm": _options.number(cmd, "num_perm", num_perm, "uint"),
        "threshold": _options.number(cmd, "threshold", threshold, "float"),
        "verify": _options.choice(cmd, "verify", verify, _options.VERIFY),
        "seed": _options.number(cmd, "seed", seed, "u64"),
        "kgram": _options.number(cmd, "kgram", kgram, "uint"),
        "window": _options.number(cmd, "window", window, "uint"),
    }
    if containment is True:
        c["containment"] = 0.9  # `winnow explain --containment` alone
    elif containment not in (None, False):
        c["containment"] = _options.number(cmd, "containment", containment,
                                           "float")
    if min_run is not None:
        c["min_run"] = _options.number(cmd, "min_run", min_run, "uint")
    if 0 in (c["ngram"], c["kgram"], c["window"]):
        _options.fail(cmd, "--threshold must be in (0, 1), --ngram, --kgram "
                      "and --window above 0, --num-perm in 1..4096")
    return Explanation(_winnow.explain(a, b, c))


# ---------------------------------------------------------------------------
# The persistent index
# ---------------------------------------------------------------------------

class Match(NamedTuple):
    """A record of the index that a text copies."""

    id: str
    """The id the record was added with."""
    record: int
    """Its number in the index."""
    time: int
    """Its time (seconds since 1970: its time field, or when it was added)."""
    reason: str
    """'exact', 'near', 'contained', or 'id' (the id is already indexed)."""
    similarity: float
    containment: float


class Answer(NamedTuple):
    """The index's answer for one text: what `winnow serve` answers."""

    new: bool
    """No indexed record is a copy of it."""
    duplicate_of: Union[str, None]
    """The id of the record it copies (matches[0]), or None when new."""
    similarity: Union[float, None]
    containment: Union[float, None]
    reason: Union[str, None]
    added: bool
    """A check stored it (it was new)."""
    record: Union[int, None]
    """Its number in the index when added."""
    matches: list
    """Match records, the decision first (query: up to `matches`)."""


def _answer(raw) -> Answer:
    is_new, added, record, ms = raw
    ms = [Match(i, r, t, reason, sim, cont)
          for (r, i, t, reason, sim, cont) in ms]
    best = ms[0] if ms and not is_new else None
    return Answer(is_new, best.id if best else None,
                  best.similarity if best else None,
                  best.containment if best else None,
                  best.reason if best else None, added, record, ms)


_RULE_OPTIONS = ("method", "tokens", "ngram", "num_perm", "profile",
                 "threshold", "bands", "rows", "sketch", "containment",
                 "hamming", "seed", "fn_weight")


def _seconds(cmd: str, name: str, value) -> int:
    """A time as seconds since 1970: a number or a datetime (naive is UTC)."""
    import datetime
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return int(value.timestamp())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _options.fail(cmd, f"{name} must be seconds since 1970 or a "
                      f"datetime, not {type(value).__name__}")
    return int(value)


class Index:
    """A persistent index of records seen: `winnow index` from Python.

    An LMDB store in the directory path holding, per record, its id, time,
    LSH keys and verification sketch (not its text). A text checked against
    it gets the decision `winnow dedup --keep first` gives that pair
    (docs/INDEX.md). Many readers and one writer across threads and
    processes; a check returns once its add is durable.

        with winnow.Index("news.idx", create=True) as ix:
            ix.check(text_a, id="a")     # Answer(new=True, added=True, ...)
            ix.check(copy_of_a, id="b")  # new=False, duplicate_of="a"
            ix.query(text_a)             # the same answer, nothing added

    create=True makes the index when path holds none, with the rule given
    by the keyword options (the dedup options that decide a pair: method,
    tokens, ngram, num_perm, profile, threshold, bands, rows, sketch,
    containment, hamming, seed, fn_weight; the defaults of `winnow index
    create` otherwise: the classic profile, whose threshold is 0.8). Opening an existing index with rule options checks them
    against the stored rule (OptionError naming the first that differs);
    without them the stored rule is used. read_only=True opens for queries
    only; sync=False does not sync at each commit (a machine crash may
    lose the last adds; a process crash never does).

    The GIL is released while the store works: several threads may check
    and query one Index at once. close() (or leaving a with block) frees
    the handle; it must not race a call in another thread.
    """

    def __init__(self, path: PathLike, *, create: bool = False,
                 read_only: bool = False, sync: bool = True, **rule):
        cmd = "index"
        for k in rule:
            if k not in _RULE_OPTIONS:
                raise UnknownOption(f"{cmd}: unknown option "
                                    f"'--{k.replace('_', '-')}'")
        # The index's default rule is classic, as `winnow index create`'s
        # (it has no anchor or flash candidates: docs/INDEX.md).
        rule = {"profile": "classic", **rule}
        opts = (_options.dedup_options(rule, cmd=cmd)
                if len(rule) > 1 or create else None)
        self._ix = _winnow.Index(os.fsdecode(path), opts,
                                 _options.flag(cmd, "create", create),
                                 _options.flag(cmd, "read_only", read_only),
                                 not _options.flag(cmd, "sync", sync))

    def check(self, text: Union[str, bytes], id: Union[str, bytes], *,
              time=None) -> Answer:
        """Check a text and add it when no indexed record is a copy of it.
        id is required (a record whose id is already indexed is answered
        reason 'id' and not added again, so a retry is safe); time (seconds
        since 1970 or a datetime) is what expire() compares, default now."""
        if id is None or (isinstance(id, (str, bytes)) and not id):
            _options.fail("index", "check needs a non-empty id")
        t = None if time is None else _seconds("index", "time", time)
        return _answer(self._ix.check(id, text, t))

    def query(self, text: Union[str, bytes], *, matches: int = 1) -> Answer:
        """The answer check() would give, adding nothing; up to `matches`
        indexed records that the text copies, best first."""
        m = _options.number("index", "matches", matches, "uint")
        return _answer(self._ix.query(text, max(1, m)))

    def _batch(self, records, text, id, time):
        out = []
        for pos, rec in enumerate(records):
            if isinstance(rec, (str, bytes)):
                out.append((str(pos), rec, None))
            elif isinstance(rec, tuple) and len(rec) == 2:
                out.append((rec[0], rec[1], None))
            else:
                try:
                    t = rec[text]
                except (KeyError, TypeError):
                    raise TypeError(f"record {pos}: no text field "
                                    f"'{text}'") from None
                i = rec.get(id) if hasattr(rec, "get") else None
                tm = rec.get(time) if time and hasattr(rec, "get") else None
                out.append((str(pos) if i is None else i, t,
                            None if tm is None else
                            _seconds("index", time, tm)))
        return out

    def check_many(self, records: Iterable, *, text: str = "text",
                   id: str = "id", time: str = None) -> list:
        """check() for many records in one transaction (one sync): each
        sees the ones before it. records: dicts (text, id and the optional
        time field by name), (id, text) tuples or plain texts (the id is
        the position). Returns one Answer per record, in order."""
        return [_answer(r) for r in
                self._ix.apply(self._batch(records, text, id, time), True, 1)]

    def query_many(self, texts: Iterable, *, matches: int = 1) -> list:
        """query() for many texts in one read transaction."""
        m = max(1, _options.number("index", "matches", matches, "uint"))
        batch = [(None, t, None) for t in texts]
        return [_answer(r) for r in self._ix.apply(batch, False, m)]

    def expire(self, before) -> int:
        """Remove the records whose time is before `before` (seconds since
        1970, a datetime, or a timedelta meaning that long ago); returns
        how many were removed."""
        import datetime
        import time as _time
        if isinstance(before, datetime.timedelta):
            before = _time.time() - before.total_seconds()
        return self._ix.expire(_seconds("index", "before", before))

    def merge(self) -> None:
        """Merge the pending key tier now (it is merged by itself every
        65,536 records; docs/INDEX.md)."""
        self._ix.merge(True)

    def stats(self) -> dict:
        """Records, key entries, pending records, bytes used and on disk,
        oldest and newest times, bands and rows."""
        return self._ix.stats()

    @property
    def rule(self) -> dict:
        """The stored rule, with the option names of `winnow dedup`."""
        r = self._ix.rule()
        return {
            "method": _options.METHODS[r["method"]],
            "profile": _options.PROFILES[r["profile"]],
            "tokens": _options.TOKENS[r["token_mode"]],
            "ngram": r["ngram"], "num_perm": r["num_perm"],
            "threshold": r["threshold"], "bands": r["bands"],
            "rows": r["rows"], "sketch": _options.SKETCH[r["sketch"]],
            "containment": r["containment"], "hamming": r["hamming"],
            "seed": r["seed"],
        }

    @property
    def closed(self) -> bool:
        return self._ix.closed

    def close(self) -> None:
        """Close the index (idempotent)."""
        self._ix.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
