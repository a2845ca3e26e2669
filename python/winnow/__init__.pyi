# Type stubs of the winnow package (docstrings live in __init__.py).
import os
from typing import Any, Iterable, Mapping, NamedTuple, Union

__version__: str
library_version: str
PathLike = Union[str, bytes, os.PathLike[str]]
Text = Union[str, bytes]

class Error(Exception):
    status: int
    path: str | None

class OptionError(Error, ValueError): ...
class UnknownOption(OptionError, TypeError): ...
class FileError(Error, OSError): ...
class FormatError(Error, ValueError): ...
class LimitError(Error): ...

class Similarity(NamedTuple):
    jaccard: float
    containment: float
    shingles_a: int
    shingles_b: int
    shared: int

def similarity(a: Text, b: Text, *, tokens: str = ..., ngram: int = ...) -> Similarity: ...
def tokens(text: Text, *, tokens: str = ..., spans: bool = ...) -> list: ...

class Params(NamedTuple):
    threshold: float
    num_perm: int
    fn_weight: float
    bands: int
    rows: int
    false_positive_area: float
    false_negative_area: float
    def probability(self, s: float) -> float: ...
    @property
    def midpoint(self) -> float: ...
    def curve(self, steps: int = ...) -> list[tuple[float, float]]: ...

def params(threshold: float = ..., num_perm: int = ..., *, fn_weight: float = ...,
           bands: int | None = ..., rows: int | None = ...) -> Params: ...

class Stats:
    read: int
    kept: int
    removed: int
    rejected: int
    removed_exact: int
    removed_near: int
    removed_contained: int
    blank_lines: int
    bytes: int
    clusters: int
    candidates: int
    verified: int
    edges: int
    large_buckets: int
    max_bucket: int
    invalid_utf8: int
    empty_docs: int
    duplicate_ids: int
    keep_missing: int
    bands: int
    rows: int
    seconds: float
    stage_seconds: dict[str, float]
    peak_rss_bytes: int
    def as_dict(self) -> dict: ...

def dedup_files(paths: PathLike | Iterable[PathLike], output: PathLike, *,
                exact_only: bool = ..., method: str = ..., tokens: str = ...,
                ngram: int = ..., num_perm: int = ..., profile: str | None = ..., threshold: float | None = ...,
                bands: int | None = ..., rows: int | None = ...,
                verify: str = ..., containment: float | bool | None = ...,
                sketch: str = ..., hamming: int = ..., keep: str = ...,
                keep_max: str | None = ..., id_field: str = ...,
                text_field: str = ..., max_record_bytes: int | str = ...,
                threads: int = ..., memory: int | str = ...,
                tmp_dir: PathLike | None = ..., seed: int = ...,
                no_fsync: bool = ..., fn_weight: float = ...) -> Stats: ...

class Removed(NamedTuple):
    id: Any
    duplicate_of: Any
    cluster: int
    similarity: float
    containment: float
    reason: str
    index: int
    duplicate_of_index: int

class Cluster(NamedTuple):
    cluster: int
    representative: Any
    size: int
    members: list[Any]
    indices: list[int]

class Rejected(NamedTuple):
    index: int
    id: Any
    reason: str

class DedupResult:
    removed: list[Removed]
    clusters: list[Cluster]
    rejected: list[Rejected]
    stats: Stats
    @property
    def kept(self) -> list[Any]: ...
    @property
    def mask(self) -> list[bool]: ...
    def mask_array(self) -> Any: ...
    def __len__(self) -> int: ...

Record = Union[Mapping[str, Any], tuple[Any, Text], list[Any], Text]

def dedup(records: Iterable[Record], text: str = ..., id: str = ..., *,
          exact_only: bool = ..., method: str = ..., tokens: str = ...,
          ngram: int = ..., num_perm: int = ..., profile: str | None = ..., threshold: float | None = ...,
          bands: int | None = ..., rows: int | None = ...,
          verify: str = ..., containment: float | bool | None = ...,
          sketch: str = ..., hamming: int = ..., keep: str = ...,
          keep_max: str | None = ..., threads: int = ...,
          memory: int | str = ..., tmp_dir: PathLike | None = ...,
          seed: int = ..., fn_weight: float = ...) -> DedupResult: ...

def dedup_frame(df: Any, text: str = ..., *, mask: bool = ...,
                **options: Any) -> Any: ...

class Span(NamedTuple):
    start: int
    end: int
    line: int
    line_end: int
    tok: int
    tokens: int

class Explanation:
    verdict: str
    reason: str
    scores: dict[str, Any]
    runs: list[tuple[Span, Span]]
    only_a: list[Span]
    only_b: list[Span]
    @property
    def jaccard(self) -> float: ...

def explain(a: Text, b: Text, *, tokens: str = ..., ngram: int = ...,
            num_perm: int = ..., threshold: float | None = ...,
            containment: float | bool | None = ..., verify: str = ...,
            seed: int = ..., kgram: int = ..., window: int = ...,
            min_run: int | None = ...,
            profile: str | None = ...) -> Explanation: ...

class Match(NamedTuple):
    id: str
    record: int
    time: int
    reason: str
    similarity: float
    containment: float

class Answer(NamedTuple):
    new: bool
    duplicate_of: str | None
    similarity: float | None
    containment: float | None
    reason: str | None
    added: bool
    record: int | None
    matches: list[Match]

class Index:
    def __init__(self, path: PathLike, *, create: bool = ...,
                 read_only: bool = ..., sync: bool = ...,
                 method: str = ..., tokens: str = ..., ngram: int = ...,
                 num_perm: int = ..., profile: str | None = ...,
                 threshold: float | None = ..., bands: int | None = ...,
                 rows: int | None = ..., sketch: str = ...,
                 containment: float | bool | None = ..., hamming: int = ...,
                 seed: int = ..., fn_weight: float = ...) -> None: ...
    def check(self, text: Text, id: Text, *, time: Any = ...) -> Answer: ...
    def query(self, text: Text, *, matches: int = ...) -> Answer: ...
    def check_many(self, records: Iterable[Any], *, text: str = ...,
                   id: str = ..., time: str | None = ...) -> list[Answer]: ...
    def query_many(self, texts: Iterable[Text], *,
                   matches: int = ...) -> list[Answer]: ...
    def expire(self, before: Any) -> int: ...
    def merge(self) -> None: ...
    def stats(self) -> dict[str, int]: ...
    @property
    def rule(self) -> dict[str, Any]: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> Index: ...
    def __exit__(self, *exc: Any) -> None: ...
