"""Options of the winnow functions: the CLI's names and defaults, checked
with the CLI's messages.

A keyword argument is the CLI option with '_' for '-' (``num_perm`` is
``--num-perm``). Numeric ranges come from the library
(``wn_option_range``), so the binding, the CLI and the library refuse the
same values with the same words; this module turns a checked set of
keyword arguments into the plain values ``_winnow`` copies into a
``struct wn_dedup_options``.
"""

from __future__ import annotations

import math
import os
import re

from . import _winnow

# Choice options: the CLI's names, by position the enum values of winnow.h.
METHODS = ("minhash", "simhash")
TOKENS = ("word", "char")
VERIFY = ("estimate", "exact")
KEEP = ("first", "longest")
SKETCH = ("oph", "kperm")
PROFILES = ("news", "classic", "web")  # enum wn_profile

U32_MAX = 4294967295
U64_MAX = 18446744073709551615

# The LSH weights of winnow.h (WN_LSH_WEIGHT_FN); fn_weight's default.
FN_WEIGHT = 0.95
# The bands the dedup job keeps at most (one key per band).
MAX_BANDS = 256


def fail(cmd: str, message: str) -> None:
    raise _winnow.OptionError(f"{cmd}: {message}")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _show(value) -> str:
    """A value as the CLI would have read it from the command line."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)
    return str(value)


def _range_error(cmd: str, name: str, kind: str, value, parsed: bool) -> None:
    """The CLI's message for a value outside its range (parsed) or not of
    the option's type."""
    rng = _winnow.option_range(cmd, name.replace("_", "-"))
    flag = _flag(name)
    if rng and parsed:
        fail(cmd, f"{flag} must be {rng[4]}, got {_show(value)}")
    noun = {"size": "a size", "float": "a number"}.get(kind, "a whole number")
    if rng:
        fail(cmd, f"{flag} must be {noun} {rng[4]}, got '{_show(value)}'")
    expects = {
        "uint": "a whole number from 0 to 4294967295",
        "u64": "a whole number from 0 to 18446744073709551615",
        "size": "a size in bytes, such as 65536, 512M or 4G",
        "float": "a number",
    }[kind]
    fail(cmd, f"{flag} must be {expects}, got '{_show(value)}'")


def _in_range(cmd: str, name: str, v: float) -> bool:
    rng = _winnow.option_range(cmd, name.replace("_", "-"))
    if rng is None:
        return True
    lo, hi, lo_open, hi_open, _ = rng
    return (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)


_SIZE = re.compile(r"^([0-9]+)(?:([kKmMgGtT])(i?B?))?$")
_SHIFT = {"k": 10, "m": 20, "g": 30, "t": 40}


def parse_size(text: str):
    """'65536', '512M', '4GiB' -> bytes, or None (the CLI's size syntax)."""
    m = _SIZE.match(text)
    if not m:
        return None
    v = int(m.group(1))
    if m.group(2):
        v <<= _SHIFT[m.group(2).lower()]
    return v if v <= U64_MAX else None


def number(cmd: str, name: str, value, kind: str):
    """A numeric option checked against its type and the library's range.
    kind: 'uint' (32-bit), 'u64', 'size' (an int or '512M') or 'float'."""
    parsed = None
    if kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isfinite(value):
                parsed = float(value)
    elif kind == "size" and isinstance(value, str):
        parsed = parse_size(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        top = U32_MAX if kind == "uint" else U64_MAX
        if 0 <= value <= top:
            parsed = value
    if parsed is None:
        _range_error(cmd, name, kind, value, False)
    if not _in_range(cmd, name, parsed):
        _range_error(cmd, name, kind, value, True)
    return parsed


def choice(cmd: str, name: str, value, names) -> int:
    if isinstance(value, str) and value in names:
        return names.index(value)
    fail(cmd, f"{_flag(name)} must be one of {', '.join(names)}; got '{value}'")


def flag(cmd: str, name: str, value) -> int:
    if not isinstance(value, bool):
        fail(cmd, f"{_flag(name)} takes true or false, got '{_show(value)}'")
    return int(value)


def string(cmd: str, name: str, value) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value:
        fail(cmd, f"{_flag(name)} needs a value")
    return value


# The dedup options: name -> default, as `winnow dedup --help` lists them.
DEDUP_DEFAULTS = {
    "exact_only": False,
    "method": "minhash",
    "tokens": "word",
    "ngram": 5,
    "num_perm": 128,
    "profile": None,
    "threshold": None,
    "bands": None,
    "rows": None,
    "verify": "estimate",
    "containment": None,
    "sketch": "oph",
    "hamming": 3,
    "keep": None,
    "keep_max": None,
    "id_field": "id",
    "text_field": "text",
    "max_record_bytes": "64M",
    "threads": 0,
    "memory": 0,
    "tmp_dir": None,
    "seed": 1,
    "no_fsync": False,
    "fn_weight": FN_WEIGHT,
}


def dedup_options(options: dict, allowed=None, cmd: str = "dedup") -> dict:
    """Check keyword options of dedup and return the values of
    ``struct wn_dedup_options`` by field name (see _winnow.c). allowed
    limits the names accepted (the in-memory job has no files)."""
    names = DEDUP_DEFAULTS if allowed is None else allowed
    for k in options:
        if k not in names:
            raise UnknownOption(f"{cmd}: unknown option '{_flag(k)}'")
    o = dict(DEDUP_DEFAULTS)
    o.update((k, v) for k, v in options.items())
    c = {}
    c["exact_only"] = flag(cmd, "exact_only", o["exact_only"])
    c["method"] = choice(cmd, "method", o["method"], METHODS)
    c["token_mode"] = choice(cmd, "tokens", o["tokens"], TOKENS)
    c["ngram"] = number(cmd, "ngram", o["ngram"], "uint")
    c["num_perm"] = number(cmd, "num_perm", o["num_perm"], "uint")
    # As the CLI: the profile (the library's default when not given) sets
    # the threshold and keep unless they are given.
    if o["profile"] is None:
        c["profile"] = _winnow.default_profile
    else:
        c["profile"] = choice(cmd, "profile", o["profile"], PROFILES)
    profile = PROFILES[c["profile"]]
    if o["threshold"] is None:
        o["threshold"] = {"classic": 0.8, "web": 0.7}.get(profile, 0.5)
    if o["keep"] is None:
        o["keep"] = "longest" if profile == "web" else "first"
    c["threshold"] = number(cmd, "threshold", o["threshold"], "float")
    bands = o["bands"]
    rows = o["rows"]
    c["bands"] = 0 if bands is None else number(cmd, "bands", bands, "uint")
    c["rows"] = 0 if rows is None else number(cmd, "rows", rows, "uint")
    c["verify"] = choice(cmd, "verify", o["verify"], VERIFY)
    cont = o["containment"]
    if cont is None or cont is False:
        c["containment"] = 0.0
    elif cont is True:
        c["containment"] = 0.8  # --containment with no value
    else:
        c["containment"] = number(cmd, "containment", cont, "float")
    c["sketch"] = choice(cmd, "sketch", o["sketch"], SKETCH)
    c["hamming"] = number(cmd, "hamming", o["hamming"], "uint")
    c["keep"] = choice(cmd, "keep", o["keep"], KEEP)
    if o["keep_max"] is not None:
        c["keep"] = 2  # WN_KEEP_MAX
        c["keep_field"] = string(cmd, "keep_max", o["keep_max"])
    c["id_field"] = string(cmd, "id_field", o["id_field"])
    c["text_field"] = string(cmd, "text_field", o["text_field"])
    c["max_record_bytes"] = number(
        cmd, "max_record_bytes", o["max_record_bytes"], "size")
    c["threads"] = number(cmd, "threads", o["threads"], "uint")
    c["memory"] = number(cmd, "memory", o["memory"], "size")
    if o["tmp_dir"] is not None:
        tmp = string(cmd, "tmp_dir", o["tmp_dir"])
        if not os.path.exists(tmp):
            fail(cmd, f"--tmp-dir '{tmp}': No such file or directory")
        if not os.path.isdir(tmp):
            fail(cmd, f"--tmp-dir '{tmp}' is not a directory")
        c["tmp_dir"] = tmp
    c["seed"] = number(cmd, "seed", o["seed"], "u64")
    c["no_fsync"] = flag(cmd, "no_fsync", o["no_fsync"])
    fn = number(cmd, "fn_weight", o["fn_weight"], "float")
    c["weight_fn"] = fn
    c["weight_fp"] = 1.0 - fn
    if (c["bands"] == 0) != (c["rows"] == 0):
        fail(cmd, "--bands and --rows go together")
    if c["bands"] and c["bands"] * c["rows"] > c["num_perm"]:
        fail(cmd, f"--bands {c['bands']} x --rows {c['rows']} = "
             f"{c['bands'] * c['rows']} is more than --num-perm "
             f"{c['num_perm']}")
    if (not c["exact_only"] and not c["bands"] and c["method"] == 0
            and profile == "classic"):
        # What the CLI says when the job refuses the LSH it would need.
        t = c["threshold"]
        k = c["containment"]
        if k > 0 and k / (3.0 - k) < t:
            t = k / (3.0 - k)
        b, _, _, _ = _winnow.lsh_params(t, c["num_perm"], c["weight_fp"],
                                        c["weight_fn"])
        if b > MAX_BANDS:
            fail(cmd, f"--threshold {t:g} with --num-perm {c['num_perm']} "
                 f"needs {b} LSH bands, more than the 256 supported; use a "
                 "smaller --num-perm or give --bands and --rows")
    return c


class UnknownOption(_winnow.OptionError, TypeError):
    """An option the function does not have (also a TypeError, as for any
    unexpected keyword argument)."""
