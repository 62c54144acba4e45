#!/usr/bin/env python3
"""Independent reference implementation of the Bloom-filter construction nordlink-clk/1.

Written from the documentation alone (docs/schema.md, section "The construction
`nordlink-clk/1` (normative)" and the schema description above it, docs/formats.md and
docs/pseudonymisation.md), without reading nordlink's Rust source or
scripts/clk_vectors.py: it exists to test whether the specification is complete.
It reads nordlink-schema versions 1, 2 and 3 in TOML (1 and 2 differ only in the default
of a field's `invalid` policy, step 5a; version 3 adds private defaults, the `keyed_flip`
and `blip` spellings and salts the salt field itself, steps 7 and 10); clkhash schemas
are out of scope.

Requirements: Python 3.11 (tomllib) and the `blake3` package.

    pip install blake3
    python3 scripts/clk_reference.py check   # compare with both frozen files below
    python3 scripts/clk_reference.py kat     # write tests/fixtures/clk-kat/*.jsonl

`check` encodes every record of tests/fixtures/frozen/records.csv with the corpus master
key bytes(range(32)) and compares two frozen files, reporting every line that differs
(and exiting 1 if any does):

* tests/fixtures/frozen/nordlink-clk-1.tsv, under the schemas of
  tests/fixtures/frozen/schemas/order.txt (all version 1);
* tests/fixtures/frozen/nordlink-clk-1-schema-2.tsv, under the schemas of
  tests/fixtures/frozen/schemas/order-2.txt (version 2 and the `invalid` policies);
* tests/fixtures/frozen/nordlink-clk-1-schema-3.tsv, under the schemas of
  tests/fixtures/frozen/schemas/order-3.txt (version 3).

The repository is the parent of this script's directory, or NORDLINK_ROOT when set (so a
copy of the script kept elsewhere still reads the fixtures).

A line of either file is `schema<TAB>record index<TAB>` followed by `!field:code` for a
rejected record, or by the record filter in standard base64, one base64 filter per field
when `field_filters = true`, and then `?field:code` (code `bad_date`, `not_integer` or
`out_of_range`), in schema field order, for every field whose value was invalid but was
encoded under a policy other than `reject`. The first file never has `?` entries: under
version 1 every invalid value rejects its record.

`kat` writes known-answer vectors (normalisers.jsonl, encodings.jsonl) for the Rust test
suite.

Unicode note: Python 3.11 ships Unicode 14 data, the spec says Unicode 18. The vectors
written by `kat` only use characters whose data did not change between those versions.
"""
import base64
import csv
import json
import math
import os
import sys
import tomllib
import unicodedata

import blake3

# hkdf_sha256 comes from the pseudonym reference implementation, as allowed.
ROOT = os.environ.get("NORDLINK_ROOT") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.join(ROOT, "scripts"))
from pseudonym_vectors import hkdf_sha256  # noqa: E402

FROZEN = os.path.join(ROOT, "tests", "fixtures", "frozen")
KAT_DIR = os.path.join(ROOT, "tests", "fixtures", "clk-kat")
MASTER = bytes(range(32))  # the corpus master key, key id a7fbea2583bf3446
KDF_SALT = b"nordlink-clk/1"


class Reject(Exception):
    """A record rejected by one field: carries the field name and the stable code."""

    def __init__(self, field, code):
        super().__init__(f"{field}:{code}")
        self.field = field
        self.code = code


class Invalid(Exception):
    """A value that fails its format (step 4 or 5), before the field's `invalid` policy
    decides what it does. `parts` is (year, month, day) when a date matched the pattern
    of step 4 but is no calendar date: `partial` encodes and salts with those."""

    def __init__(self, code, parts=None):
        super().__init__(code)
        self.code = code
        self.parts = parts


# --------------------------------------------------------------------------------------
# Unicode helpers
# --------------------------------------------------------------------------------------

# The spec says "whitespace is the Unicode White_Space property". Python's str.isspace()
# and str.strip() also treat U+001C..U+001F as space, so the set is spelled out here
# (PropList.txt, unchanged since Unicode 6.3).
WHITE_SPACE = frozenset(
    [chr(c) for c in range(0x09, 0x0E)]
    + ["\u0020", "\u0085", "\u00a0", "\u1680"]
    + [chr(c) for c in range(0x2000, 0x200B)]
    + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
)


def ws_trim(s):
    """Remove leading and trailing White_Space characters."""
    i, j = 0, len(s)
    while i < j and s[i] in WHITE_SPACE:
        i += 1
    while j > i and s[j - 1] in WHITE_SPACE:
        j -= 1
    return s[i:j]


# Step 3 fold table: character -> (nordic_fold, strip_diacritics).
FOLD_TABLE = {
    "\u00c4": ("AE", "A"), "\u00c5": ("AA", "A"), "\u00c6": ("AE", "AE"),
    "\u00d0": ("D", "D"), "\u00d6": ("OE", "O"), "\u00d8": ("OE", "O"),
    "\u00dc": ("UE", "U"), "\u00de": ("TH", "TH"), "\u00df": ("ss", "ss"),
    "\u00e4": ("ae", "a"), "\u00e5": ("aa", "a"), "\u00e6": ("ae", "ae"),
    "\u00f0": ("d", "d"), "\u00f6": ("oe", "o"), "\u00f8": ("oe", "o"),
    "\u00fc": ("ue", "u"), "\u00fe": ("th", "th"), "\u0110": ("D", "D"),
    "\u0111": ("d", "d"), "\u0131": ("i", "i"), "\u0141": ("L", "L"),
    "\u0142": ("l", "l"), "\u0152": ("OE", "OE"), "\u0153": ("oe", "oe"),
}

# Step 3 punctuation table, as code-point ranges (inclusive).
PUNCT_RANGES = [
    (0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E), (0xB4, 0xB4),
    (0xB7, 0xB7), (0x2BC, 0x2BC), (0x2010, 0x2027), (0x2032, 0x2032),
]
PUNCT = frozenset(chr(c) for lo, hi in PUNCT_RANGES for c in range(lo, hi + 1))


def fold(s, column):
    """nordic_fold (column 0) or strip_diacritics (column 1), per step 3."""
    out = []
    for ch in unicodedata.normalize("NFC", s):
        if ch in FOLD_TABLE:
            out.append(FOLD_TABLE[ch][column])
        elif ord(ch) < 0x80:
            out.append(ch)
        else:
            # canonical decomposition with every Mark (Mn, Mc, Me) removed; letters with
            # no decomposition (ħ, ŋ) come back unchanged
            out.extend(c for c in unicodedata.normalize("NFD", ch)
                       if unicodedata.category(c) not in ("Mn", "Mc", "Me"))
    return "".join(out)


NORMALISERS = {
    "trim": ws_trim,
    "nfkc": lambda s: unicodedata.normalize("NFKC", s),
    # str.lower() is the full lower-case mapping with Final_Sigma, as the spec asks
    "casefold": lambda s: s.lower(),
    "nordic_fold": lambda s: fold(s, 0),
    "strip_diacritics": lambda s: fold(s, 1),
    "strip_punctuation": lambda s: "".join(c for c in s if c not in PUNCT),
    "strip_whitespace": lambda s: "".join(c for c in s if c not in WHITE_SPACE),
    # split on White_Space runs, drop empty pieces, join with one space
    "collapse_whitespace": lambda s: " ".join(
        p for p in "".join(" " if c in WHITE_SPACE else c for c in s).split(" ") if p),
}


def normalise(steps, value):
    for step in steps:
        value = NORMALISERS[step](value)
    return value


# --------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------

NAME_STEPS = ["trim", "nfkc", "casefold", "nordic_fold", "strip_punctuation", "strip_whitespace"]
BIGRAMS = {"qgrams": {"q": 2, "padding": True, "positional": False}}

# The kinds table of docs/schema.md: (normalise, tokenise, bits_per_token).
KINDS = {
    "given_name": (NAME_STEPS, BIGRAMS, 20),
    "surname": (NAME_STEPS, BIGRAMS, 20),
    "name": (NAME_STEPS, BIGRAMS, 20),
    "municipality": (NAME_STEPS, BIGRAMS, 12),
    "birth_date": (["trim"], "date_parts", 30),
    "sex": (["trim", "casefold"], "whole", 20),
    "postcode": (["trim", "casefold", "strip_whitespace"],
                 {"qgrams": {"q": 1, "padding": True, "positional": True}}, 10),
    "text": (["trim", "nfkc", "casefold", "collapse_whitespace"], BIGRAMS, 10),
    "integer": (["trim"], {"numeric": {"distance": 2, "resolution": 3}}, 10),
}

# Defaults of a field without `kind` (docs/schema.md, added after this script first had
# to infer them from the frozen corpus): normalise = ["trim"], 10 bits per token.
NO_KIND = (["trim"], None, 10)

FILTER_KEYS = {"bits", "context", "hashing", "field_filters", "hardening", "salt"}
FILTER_KEYS_V3 = FILTER_KEYS | {"field_filters_reveal_frequencies"}
FIELD_KEYS = {"name", "kind", "column", "normalise", "tokenise", "bits_per_token",
              "bits_per_field", "missing_values", "missing", "date_format", "invalid"}
INVALID_POLICIES = ("reject", "missing", "text", "partial")


class Field:
    def __init__(self, t, version):
        unknown = set(t) - FIELD_KEYS
        if unknown:
            raise ValueError(f"field {t.get('name')!r}: unknown keys {sorted(unknown)}")
        self.name = t["name"]
        self.column = t.get("column", self.name)
        # without `kind`, `tokenise` must be given (NO_KIND has no tokeniser)
        norm, tok, k = KINDS[t["kind"]] if "kind" in t else NO_KIND
        self.normalise = list(t.get("normalise", norm))
        tok = t.get("tokenise", tok)
        if tok is None:
            raise ValueError(f"field {self.name!r}: no tokenise")
        self.tokenise = self._tokeniser(tok)
        if "bits_per_token" in t and "bits_per_field" in t:
            raise ValueError(f"field {self.name!r}: both bits_per_token and bits_per_field")
        if "bits_per_field" in t:
            self.weight = ("field", t["bits_per_field"])
        elif "bits_per_token" in t:
            self.weight = ("token", t["bits_per_token"])
        else:
            self.weight = ("token", k)
        self.date_format = t.get("date_format", "%Y-%m-%d")
        self.missing_values = list(t.get("missing_values", [""]))
        self.missing = t.get("missing", "skip")
        # step 5a: version 1 rejects every invalid value, as it always did; version 2
        # keeps what it can of a date and drops any other invalid value
        is_date = self.tokenise[0] == "date_parts"
        default = "reject" if version == 1 else ("partial" if is_date else "missing")
        if version == 1 and "invalid" in t:  # versions 2 and 3 share step 5a
            raise ValueError(f"field {self.name!r}: `invalid` needs version = 2")
        self.invalid = t.get("invalid", default)
        if self.invalid not in INVALID_POLICIES:
            raise ValueError(f"field {self.name!r}: invalid must be one of {INVALID_POLICIES}")
        if self.invalid == "partial" and not is_date:
            raise ValueError(f"field {self.name!r}: invalid = \"partial\" needs date_parts")

    @staticmethod
    def _tokeniser(tok):
        # normalise the three spellings to tuples
        if tok == "whole":
            return ("whole",)
        if tok == "date_parts":
            return ("date_parts",)
        if isinstance(tok, dict) and list(tok) == ["qgrams"]:
            g = tok["qgrams"]
            return ("qgrams", g["q"], g.get("padding", True), g.get("positional", False))
        if isinstance(tok, dict) and list(tok) == ["numeric"]:
            n = tok["numeric"]
            return ("numeric", n["distance"], n.get("resolution", 3))
        raise ValueError(f"unknown tokeniser {tok!r}")


class Schema:
    def __init__(self, text):
        doc = tomllib.loads(text)
        # versions 1 and 2 differ in `invalid`: its default, and version 1 has no such key
        # (Field); version 3 changes the filter's defaults and spellings (below)
        self.version = doc.get("version")
        if self.version not in (1, 2, 3) or isinstance(self.version, bool):
            raise ValueError("version must be 1, 2 or 3")
        v3 = self.version == 3
        f = doc.get("filter", {})
        unknown = set(f) - (FILTER_KEYS_V3 if v3 else FILTER_KEYS)
        if unknown:
            raise ValueError(f"filter: unknown keys {sorted(unknown)}")
        self.bits = f.get("bits", 1024)
        if v3 and "context" not in f:
            raise ValueError("filter: context is required from version 3 (\"\" for none)")
        self.context = f.get("context", "")
        self.hashing = f.get("hashing", "random")
        self.field_filters = f.get("field_filters", False)
        if v3 and self.field_filters and f.get("field_filters_reveal_frequencies") is not True:
            raise ValueError("filter: field_filters needs field_filters_reveal_frequencies = true")
        # version 3 folds once unless told otherwise (`hardening = []` turns it off)
        self.hardening = f.get("hardening", [{"xor_fold": 1}] if v3 else [])
        for step in self.hardening:
            self._check_step(step)
        self.fields = [Field(t, self.version) for t in doc["fields"]]
        salt = f.get("salt")
        if salt is None and v3:
            # version 3's default: the year of the one birth_date field, if exactly one
            # (that keeps the date_parts tokeniser)
            dates = [t["name"] for t in doc["fields"]
                     if t.get("kind") == "birth_date" and t.get("tokenise", "date_parts") == "date_parts"]
            salt = {"field": dates[0], "year_only": True} if len(dates) == 1 else False
        if salt is not None and salt is not False and not isinstance(salt, dict):
            raise ValueError("filter: salt must be a table or false")
        self.salt_field = salt["field"] if salt else None
        self.salt_year_only = salt.get("year_only", False) if salt else False
        if self.salt_field is not None:
            sf = [fd for fd in self.fields if fd.name == self.salt_field]
            if not sf:
                raise ValueError(f"filter: salt.field {self.salt_field!r} is no field")
            if self.salt_year_only and sf[0].tokenise[0] != "date_parts":
                raise ValueError("filter: salt.year_only needs a date field")
        self.keys = {fd.name: derive(self.context, "field", fd.name) for fd in self.fields}

    def _check_step(self, step):
        """The spellings of step 10 by version, and the 0..=0.5 bound on flip rates."""
        if step in ("balance", "rule90", "permute"):
            return
        if isinstance(step, dict) and len(step) == 1:
            (name, value), = step.items()
            if name == "xor_fold" and 1 <= value <= 8:
                return
            flips = ("keyed_flip", "blip") if self.version == 3 else ("randomised_response",)
            if name in flips and 0 <= value <= 0.5:
                return
        raise ValueError(f"filter: hardening step {step!r} not allowed in version {self.version}")


def derive(context, purpose, name):
    """Step 1: K(P, F) over the corpus master key."""
    p, c, n = purpose.encode(), context.encode(), name.encode()
    info = bytes([len(p)]) + p + len(c).to_bytes(2, "big") + c + len(n).to_bytes(2, "big") + n
    return hkdf_sha256(KDF_SALT, MASTER, info, 32)


# --------------------------------------------------------------------------------------
# Steps 2-5a: cell -> tokens
# --------------------------------------------------------------------------------------

def prepare(field, cell):
    """Steps 2-3: the normalised value, or None when skipped."""
    if ws_trim(cell) in field.missing_values:
        if field.missing == "skip":
            return None
        if field.missing == "reject":
            raise Reject(field.name, "missing")
        cell = field.missing["replace"]  # not checked against missing_values again
    return normalise(field.normalise, cell)


def canonical_date(y, m, d):
    """YYYY-MM-DD, the year zero-padded to four digits (step 4; step 7 for partial)."""
    return f"{y:04d}-{m:02d}-{d:02d}"


def parse_date(field, v):
    """Step 4: the strptime subset; returns YYYY-MM-DD or raises Invalid("bad_date"),
    with the matched parts when the value matched the pattern but is no calendar date."""
    fmt = field.date_format
    # Matching is a backtracking search, like strptime's regular expression: the spec
    # does not say whether "one or two digits" is greedy; the two agree on the corpus.
    def digits(s, i, n):
        return i + n <= len(s) and all("0" <= c <= "9" for c in s[i:i + n])

    def match(fi, si, got):
        if fi == len(fmt):
            return got if si == len(v) else None
        c = fmt[fi]
        if c == "%":
            d = fmt[fi + 1]
            if d == "%":
                return match(fi + 2, si + 1, got) if v[si:si + 1] == "%" else None
            if d == "Y":
                return match(fi + 2, si + 4, {**got, "Y": int(v[si:si + 4])}) \
                    if digits(v, si, 4) else None
            if d == "y":
                if not digits(v, si, 2):
                    return None
                yy = int(v[si:si + 2])
                return match(fi + 2, si + 2, {**got, "Y": 1900 + yy if yy >= 69 else 2000 + yy})
            if d in "md":
                hi = 12 if d == "m" else 31
                options = []
                for n in (2, 1):  # try two digits first
                    if digits(v, si, n):
                        options.append((n, int(v[si:si + n])))
                if d == "d" and v[si:si + 1] == " " and digits(v, si + 1, 1):
                    options.append((2, int(v[si + 1])))
                for n, x in options:
                    if 1 <= x <= hi:
                        r = match(fi + 2, si + n, {**got, d: x})
                        if r is not None:
                            return r
                return None
            raise ValueError(f"unsupported date directive %{d}")
        if c in WHITE_SPACE:
            # one or more whitespace characters in the value; a run in the format is
            # read as one run
            fj = fi
            while fj < len(fmt) and fmt[fj] in WHITE_SPACE:
                fj += 1
            sj = si
            while sj < len(v) and v[sj] in WHITE_SPACE:
                sj += 1
            if sj == si:
                return None
            for end in range(sj, si, -1):
                r = match(fj, end, got)
                if r is not None:
                    return r
            return None
        if si < len(v) and (v[si] == c or (c.isalpha() and v[si].lower() == c.lower())):
            return match(fi + 1, si + 1, got)
        return None

    got = match(0, 0, {})
    if got is None:
        raise Invalid("bad_date")  # no parts: `partial` sets no bits
    # A format without a part takes CPython's default for it (year 1900, month and day 1).
    y, m, d = got.get("Y", 1900), got.get("m", 1), got.get("d", 1)
    # The pattern already bounds month to 1-12 and day to 1-31, so the parts below are
    # exactly what step 5a's `partial` means by "the matched parts".
    if y == 0:  # the calendar starts at year 0001
        raise Invalid("bad_date", (y, m, d))
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
    if d > days:
        raise Invalid("bad_date", (y, m, d))
    return canonical_date(y, m, d)


I64_MIN, I64_MAX = -(2 ** 63), 2 ** 63 - 1


def qgrams(v, q, padding, positional):
    """Step 5's q-grams (also the `text` policy of step 5a)."""
    seq = "_" * (q - 1) + v + "_" * (q - 1) if padding else v
    if len(seq) < q:
        return [seq]
    grams = [seq[i:i + q] for i in range(len(seq) - q + 1)]
    return [f"{i}:{g}" for i, g in enumerate(grams)] if positional else grams


def date_tokens(y, m, d):
    """Step 5's date_parts: the year not zero-padded, month and day two digits."""
    return [f"y{y}", f"m{m:02d}", f"d{d:02d}"]


def tokens(field, v):
    """Step 5 on a normalised (for dates, canonical) value; raises Invalid."""
    if v == "":
        return []
    kind = field.tokenise[0]
    if kind == "whole":
        return [v]
    if kind == "date_parts":
        y, m, d = v.split("-")
        return date_tokens(int(y), int(m), int(d))
    if kind == "qgrams":
        _, q, padding, positional = field.tokenise
        return qgrams(v, q, padding, positional)
    if kind == "numeric":
        _, distance, resolution = field.tokenise
        s = ws_trim(v)
        body = s[1:] if s[:1] in ("+", "-") else s
        if not body or not all("0" <= c <= "9" for c in body):
            raise Invalid("not_integer")
        x = int(s)
        if not I64_MIN <= x <= I64_MAX:
            raise Invalid("not_integer")  # step 8's note: an overflowing value
        d = max(distance, 1)
        step = (d + 1) // 2
        base = (x // step) * step  # Python // is floor division
        out = []
        for i in range(-resolution, resolution + 1):
            t = base + i * step
            if not I64_MIN <= t <= I64_MAX:
                raise Invalid("out_of_range")
            out.append(str(t))
        return out
    raise AssertionError(kind)


def field_tokens(field, cell):
    """Steps 2-5a for one field: (tokens, code) where code names the invalid value that
    was encoded under a policy other than reject, else None."""
    v = prepare(field, cell)
    if v is None:
        return [], None
    try:
        # an empty normalised value gives no tokens (step 5) and is not parsed (step 4)
        if field.tokenise[0] == "date_parts" and v != "":
            return tokens(field, parse_date(field, v)), None
        return tokens(field, v), None
    except Invalid as e:
        return invalid_tokens(field, v, e), e.code


def invalid_tokens(field, v, e):
    """Step 5a: what the field's `invalid` policy makes of the invalid value `v` (the
    normalised value of step 3, before any date parsing)."""
    if field.invalid == "reject":
        raise Reject(field.name, e.code)
    if field.invalid == "missing":
        return []
    if field.invalid == "text":
        # the `!` keeps these tokens apart from any valid value's tokens
        return ["!" + t for t in qgrams(v, 2, True, False)]
    # partial (a schema error on anything but a date field, so e is bad_date here)
    return date_tokens(*e.parts) if e.parts else []


def counts(field, n):
    """Step 6: bits set by each of n tokens."""
    mode, w = field.weight
    if mode == "token":
        return [w] * n
    return [max(1, w // n + (1 if t < w % n else 0)) for t in range(n)]


# --------------------------------------------------------------------------------------
# Steps 7-11: record -> filters
# --------------------------------------------------------------------------------------

def positions(schema, key, salt, token, k):
    """Step 8."""
    s = salt.encode()
    msg = (len(s) % 65536).to_bytes(2, "big") + s + token.encode()
    ell = schema.bits
    if schema.hashing == "random":
        x = blake3.blake3(msg, key=key).digest(length=4 * k)
        return [int.from_bytes(x[4 * i:4 * i + 4], "little") % ell for i in range(k)]
    x = blake3.blake3(msg, key=key).digest(length=16)
    h1 = int.from_bytes(x[0:8], "little") % ell
    h2 = int.from_bytes(x[8:16], "little") % ell or 1
    return [(h1 + i * h2) % ell for i in range(k)]


def salt_value(schema, cells):
    """Step 7: the record's salt string."""
    if schema.salt_field is None:
        return ""
    field = next(f for f in schema.fields if f.name == schema.salt_field)
    v = prepare(field, cells.get(field.column, ""))
    if v is None or v == "":
        return ""
    # steps 2-4 only: a non-date field salts with its normalised value even when its
    # tokeniser would find it invalid (step 5 does not run for the salt)
    if field.tokenise[0] == "date_parts":
        try:
            v = parse_date(field, v)
        except Invalid as e:
            if field.invalid == "reject":
                raise Reject(field.name, e.code)
            if field.invalid == "partial" and e.parts:
                v = canonical_date(*e.parts)  # the parts that matched, no calendar date
            else:
                return ""  # missing, text, or partial without a match
    return v[:4] if schema.salt_year_only else v


def harden(schema, bits):
    """Step 10 on one filter, as a list of 0/1 of the current length."""
    for j, step in enumerate(schema.hardening):
        L = len(bits)
        if step == "balance":
            bits = bits + [1 - b for b in bits]
        elif step == "rule90":
            bits = [bits[(p - 1) % L] ^ bits[(p + 1) % L] for p in range(L)]
        elif step == "permute":
            key = derive(schema.context, "permute", "")
            stream = blake3.blake3(j.to_bytes(8, "little") + L.to_bytes(8, "little"),
                                   key=key).digest(length=8 * L + 4096)
            pos = 0

            def uniform(m):
                nonlocal pos, stream
                limit = 2 ** 32 - 1 - ((2 ** 32 - 1) % m)
                while True:
                    if pos + 4 > len(stream):  # extend the XOF output if it ran short
                        stream = blake3.blake3(j.to_bytes(8, "little") + L.to_bytes(8, "little"),
                                               key=key).digest(length=2 * len(stream))
                    v = int.from_bytes(stream[pos:pos + 4], "little")
                    pos += 4
                    if v < limit:
                        return v % m

            pi = list(range(L))
            for i in range(L - 1, 0, -1):
                r = uniform(i + 1)
                pi[i], pi[r] = pi[r], pi[i]
            out = [0] * L
            for p in range(L):
                out[pi[p]] = bits[p]
            bits = out
        elif isinstance(step, dict) and "xor_fold" in step:
            for _ in range(step["xor_fold"]):
                L //= 2
                bits = [bits[p] ^ bits[p + L] for p in range(L)]
        elif isinstance(step, dict) and set(step) & {"randomised_response", "keyed_flip", "blip"}:
            # versions 1-2's randomised_response is version 3's keyed_flip; blip draws its
            # stream from a fresh random key instead (not reproducible, not in the corpus)
            (name, f), = step.items()
            if name == "blip":
                stream = blake3.blake3(b"blip", key=os.urandom(32)).digest(length=3 * L)
            else:
                raw = to_bytes(bits)
                raw += bytes(-len(raw) % 8)  # last word zero-padded
                # each 8-byte big-endian word written back little-endian = bytes reversed
                w = b"".join(raw[i:i + 8][::-1] for i in range(0, len(raw), 8))
                key = derive(schema.context, "randomised-response", "")
                stream = blake3.blake3(w, key=key).digest(length=3 * L)
            t = math.floor(f * 65536)
            bits = list(bits)
            for p in range(L):
                c0, c1, c2 = stream[3 * p:3 * p + 3]
                if c0 | (c1 << 8) < t:
                    bits[p] = c2 & 1
        else:
            raise ValueError(f"unknown hardening step {step!r}")
    return bits


def to_bytes(bits):
    """Step 9 bit order: bit p is bit 7 - p % 8 of byte p // 8."""
    out = bytearray((len(bits) + 7) // 8)
    for p, b in enumerate(bits):
        if b:
            out[p // 8] |= 0x80 >> (p % 8)
    return bytes(out)


def encode(schema, cells, invalid=None):
    """Encode one record (dict column -> cell). Returns {"record": b64, "fields": [...]}
    or raises Reject. When `invalid` is a list, (field, code) is appended to it, in schema
    order, for every invalid value encoded under a policy other than reject (what
    `nordlink encode` counts in its summary); the returned dict stays as it was, so the
    kat vectors keep their format."""
    salt = salt_value(schema, cells)  # a rejected salt field rejects the record first
    masks = []
    for field in schema.fields:
        toks, code = field_tokens(field, cells.get(field.column, ""))  # a null cell is ""
        if code is not None and invalid is not None:
            invalid.append((field.name, code))
        mask = [0] * schema.bits
        s = salt
        if field.name == schema.salt_field:
            if schema.version < 3:
                s = ""  # versions 1-2 hash the salt field unsalted
            elif schema.salt_year_only:
                toks = [t for t in toks if not t.startswith("y")]  # the year is the salt
            else:
                toks = []  # a whole-value salt: the field's information is in the salt
        # with bits_per_field, counts() spreads the budget over the tokens that remain
        for tok, k in zip(toks, counts(field, len(toks))):
            for p in positions(schema, schema.keys[field.name], s, tok, k):
                mask[p] = 1
        masks.append(mask)
    record = [int(any(col)) for col in zip(*masks)] if masks else [0] * schema.bits
    b64 = lambda bits: base64.b64encode(to_bytes(harden(schema, bits))).decode()
    return {"record": b64(record),
            "fields": [b64(m) for m in masks] if schema.field_filters else []}


# --------------------------------------------------------------------------------------
# check: the frozen corpus
# --------------------------------------------------------------------------------------

# The frozen files and the schema lists they were produced from, over the same records
# and master key. The first holds version-1 schemas only, so it never has `?` entries;
# the third holds version-3 schemas.
FROZEN_FILES = [
    ("order.txt", "nordlink-clk-1.tsv"),
    ("order-2.txt", "nordlink-clk-1-schema-2.tsv"),
    ("order-3.txt", "nordlink-clk-1-schema-3.tsv"),
]


def frozen_line(schema, name, i, rec):
    """One line of a frozen file: schema, record index, then `!field:code` for a rejected
    record, or the record filter, the field filters and `?field:code` per invalid value
    encoded under a policy other than reject."""
    invalid = []
    try:
        out = encode(schema, rec, invalid)
    except Reject as e:
        return f"{name}\t{i}\t!{e.field}:{e.code}"
    notes = [f"?{field}:{code}" for field, code in invalid]
    return "\t".join([name, str(i), out["record"], *out["fields"], *notes])


def describe(g, e):
    """What differs between a computed line g and the frozen line e."""
    gs, es = g.split("\t"), e.split("\t")
    if gs[:2] != es[:2]:
        return f"key {gs[:2]} vs {es[:2]}"
    if es[2].startswith("!") or gs[2].startswith("!"):
        return f"expected {es[2][:24]}, got {gs[2][:24]}"
    what = []
    gf = [x for x in gs[3:] if not x.startswith("?")]
    ef = [x for x in es[3:] if not x.startswith("?")]
    gn = [x for x in gs[3:] if x.startswith("?")]
    en = [x for x in es[3:] if x.startswith("?")]
    if gs[2] != es[2]:
        what.append("record filter")
    for fi, (a, b) in enumerate(zip(gf, ef)):
        if a != b:
            what.append(f"field filter {fi}")
    if len(gf) != len(ef):
        what.append(f"{len(gf)} field filters vs {len(ef)}")
    if gn != en:
        what.append(f"expected {' '.join(en) or 'no ? entries'}, got {' '.join(gn) or 'none'}")
    return "; ".join(what)


def check_file(records, order_file, tsv_file):
    """Compare one frozen file with this implementation; returns True when all match."""
    with open(os.path.join(FROZEN, "schemas", order_file), encoding="utf-8") as fh:
        order = [line.strip() for line in fh if line.strip()]
    with open(os.path.join(FROZEN, tsv_file), encoding="utf-8") as fh:
        expected = [line.rstrip("\n") for line in fh if line.strip()]
    got = []
    for name in order:
        with open(os.path.join(FROZEN, "schemas", name + ".toml"), encoding="utf-8") as fh:
            schema = Schema(fh.read())
        for i, rec in enumerate(records):
            got.append(frozen_line(schema, name, i, rec))
    matched = 0
    for g, e in zip(got, expected):
        if g == e:
            matched += 1
            continue
        es = e.split("\t")
        print(f"MISMATCH {tsv_file} {es[0]} record {es[1]}: {describe(g, e)}")
    total = max(len(got), len(expected))
    if len(got) != len(expected):
        print(f"{tsv_file}: {len(got)} lines computed, {len(expected)} frozen")
    print(f"{tsv_file}: {matched}/{total} lines match")
    return matched == total == len(expected) == len(got)


def check():
    with open(os.path.join(FROZEN, "records.csv"), encoding="utf-8", newline="") as fh:
        records = list(csv.DictReader(fh))
    # every file is checked (no early exit), so one run reports all mismatches
    results = [check_file(records, order, tsv) for order, tsv in FROZEN_FILES]
    return 0 if all(results) else 1


# --------------------------------------------------------------------------------------
# kat: known-answer vectors
# --------------------------------------------------------------------------------------

def normaliser_cases():
    """(steps, input) pairs; every character is unchanged in Unicode data 14 .. 18."""
    N = NAME_STEPS
    return [
        # trim: all kinds of White_Space at both ends; inner whitespace kept
        (["trim"], "  Søren  "),
        (["trim"], "\t\n\u000b\u000c\r Åsa \u0085\u00a0"),
        (["trim"], "\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006Ola\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"),
        (["trim"], "\u200bZero\u200b"),        # ZWSP is not White_Space: kept
        (["trim"], "\u001cOla\u001f"),         # info separators are not White_Space
        (["trim"], "\ufeffOla"),               # BOM is not White_Space
        (["trim"], "Anne \u00a0 Marie"),
        # nfkc: fullwidth, ligatures, compatibility characters, composition
        (["nfkc"], "\uff26\uff55\uff4c\uff4c"),
        (["nfkc"], "\ufb01nn \ufb02ora \ufb00"),
        (["nfkc"], "Jo\u0301n A\u030asa"),     # NFD input is composed
        (["nfkc"], "\u2460 \u00b2 \u2126 \u212b \u00bd"),
        (["nfkc"], "\u00a0x\u3000y\u2002z"),   # compatibility spaces become U+0020
        (["nfkc"], "\u0132sselmeer \u01c4"),
        # casefold: full lower-case mapping, Final_Sigma, ß stays
        (["casefold"], "STRASSE Straße"),
        (["casefold"], "ΟΔΥΣΣΕΥΣ"),
        (["casefold"], "ΣΑΣ ΣΑΣ."),
        (["casefold"], "Σ"),
        (["casefold"], "\u0130stanbul"),      # İ -> i + U+0307
        (["casefold"], "ÆØÅ ÄÖÜ ÞÐ ŁĦŊ ŠŽČ ĖŲŪ"),
        (["casefold"], "\uff26\uff55\uff4c\uff4c"),
        # nordic_fold: table entries, other diacritics removed, undecomposable kept
        (["nordic_fold"], "Søren Ærø"),
        (["nordic_fold"], "Åsa Öberg Ärlig Über"),
        (["nordic_fold"], "Þórðarson Guðrún"),
        (["nordic_fold"], "straße"),
        (["nordic_fold"], "Jūratė Kazlauskienė Šiaulių"),
        (["nordic_fold"], "Łukasz Wałęsa Gdańsk"),
        (["nordic_fold"], "ħ ŧ ŋ ĸ Ħ Ŧ Ŋ"),
        (["nordic_fold"], "Đorđe ıi Œuvre"),
        (["nordic_fold"], "A\u030asa So\u0308ren"),   # NFD input: NFC first, then the table
        (["nordic_fold"], "e\u0301\u0323 \u0301x"),    # stray and stacked marks dropped
        (["nordic_fold"], "Päivi Jyväskylä Õun"),
        (["nordic_fold"], "\ufb01nn \uff26ull"),       # no canonical decomposition: kept
        # strip_diacritics: the lossy column
        (["strip_diacritics"], "Søren Ærø Åsa Öberg"),
        (["strip_diacritics"], "Þórðarson straße Œ"),
        (["strip_diacritics"], "Jūratė Łukasz ħŋ"),
        # strip_punctuation: the listed ranges, and near-misses that stay
        (["strip_punctuation"], "!\"#$%&'()*+,-./0123456789:;<=>?@[\\]^_`{|}~"),
        (["strip_punctuation"], "D'Artagnan O\u2019Brien Anne-Marie St. Jean"),
        (["strip_punctuation"], "\u00b4\u00b7\u02bc\u2010\u2011\u2012\u2013\u2014\u2015\u2016\u2017\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2020\u2021\u2022\u2023\u2024\u2025\u2026\u2027\u2032"),
        (["strip_punctuation"], "\u00a1\u00bf\u00ab\u00bb\u00a7\u00b6\u2028\u2030\u2033\u2039\u203a"),
        (["strip_punctuation"], "\u02b9\u02bb\u02bd\u00a8\u00af\u00b8\u2212\uff0d\u3001\u00d7"),
        (["strip_punctuation"], "a b\tc\u00a0d"),
        # strip_whitespace and collapse_whitespace
        (["strip_whitespace"], " a\tb\nc\u000bd\u000ce\rf\u0085g\u00a0h\u1680i\u2000j\u200ak\u2028l\u2029m\u202fn\u205fo\u3000p "),
        (["strip_whitespace"], "a\u200bb\u180ec\u001cd\ufeffe"),
        (["collapse_whitespace"], "  Anne \t\n Marie  "),
        (["collapse_whitespace"], "\u3000Guðrún\u00a0\u00a0Ósk\u2029"),
        (["collapse_whitespace"], "a\u200b b\u001cc"),
        (["collapse_whitespace"], " \t "),
        # name pipeline (given_name, surname, name, municipality)
        (N, "  Søren  Kierkegaard "),
        (N, "Virtanen-Mäkelä"),
        (N, "D\u2019Artagnan"),
        (N, "\uff26\uff55\uff4c\uff4c \ufb01nn"),
        (N, "Ærøskøbing"),
        (N, "ΟΔΥΣΣΕΥΣ"),
        (N, "Saint-Étienne"),
        (N, "STRASSE Straße"),
        (N, "A\u030a\u0301"),
        # postcode, text and date pipelines
        (["trim", "casefold", "strip_whitespace"], " LT-01100 "),
        (["trim", "casefold", "strip_whitespace"], "411\u00a005"),
        (["trim", "nfkc", "casefold", "collapse_whitespace"], "  Ｎｏｒｄｉｃ\u3000  Cohort\u2002Σ "),
        (["trim", "nfkc", "casefold", "collapse_whitespace"], "ΣΑΣ\tΟΔΟΣ"),
        (["casefold", "nordic_fold", "strip_punctuation", "strip_whitespace"], "Øster-Ålund"),
        (["trim", "nfkc", "casefold", "strip_diacritics", "collapse_whitespace"], " ÉLODIE  Ærø "),
    ]


def encoding_cases():
    """(name, schema TOML, record) triples exercising one building block each."""
    def schema(filter_lines, fields):
        return "version = 1\n[filter]\n" + filter_lines + "\n" + fields

    def field(name, *lines):
        return "[[fields]]\nname = \"" + name + "\"\n" + "".join(l + "\n" for l in lines)

    whole = lambda name, *extra: field(name, 'tokenise = "whole"', *extra)
    cases = []
    add = lambda name, s, rec: cases.append((name, s, rec))

    # weights
    add("bits_per_token 5, whole value", schema("bits = 128", whole("x", "bits_per_token = 5")), {"x": "abc"})
    add("field without kind: normalise defaults to trim, 10 bits per token",
        schema("bits = 128", whole("x", "")), {"x": "  abc \t"})
    add("field without kind, explicit empty normalise keeps the spaces",
        schema("bits = 128", whole("x", "normalise = []")), {"x": "  abc \t"})
    add("date_parts: year 0000 is not a date", schema("bits = 256", field("d", 'kind = "birth_date"')), {"d": "0000-01-01"})
    add("date_parts: a format without %d takes day 1",
        schema("bits = 256", field("d", 'kind = "birth_date"', 'date_format = "%m/%Y"')), {"d": "7/1985"})
    add("bits_per_field 7 over 3 bigrams (3+2+2)",
        schema("bits = 128", field("x", 'tokenise = { qgrams = { q = 2, padding = false } }', "bits_per_field = 7")),
        {"x": "abcd"})
    add("bits_per_field 2 smaller than 5 tokens (each sets 1)",
        schema("bits = 128", field("x", 'tokenise = { qgrams = { q = 1, padding = false } }', "bits_per_field = 2")),
        {"x": "abcde"})
    add("bits_per_field with repeated tokens (aa aa aa)",
        schema("bits = 128", field("x", 'tokenise = { qgrams = { q = 2, padding = false } }', "bits_per_field = 9")),
        {"x": "aaaa"})
    add("bits_per_token with repeated tokens",
        schema("bits = 128", field("x", 'tokenise = { qgrams = { q = 2, padding = true } }', "bits_per_token = 4")),
        {"x": "aaaa"})
    # q-grams
    q = lambda q_, pad, pos: f'tokenise = {{ qgrams = {{ q = {q_}, padding = {pad}, positional = {pos} }} }}'
    add("bigrams padded", schema("bits = 256", field("x", q(2, "true", "false"), "bits_per_token = 3")), {"x": "ola"})
    add("bigrams unpadded", schema("bits = 256", field("x", q(2, "false", "false"), "bits_per_token = 3")), {"x": "ola"})
    add("trigrams positional padded", schema("bits = 256", field("x", q(3, "true", "true"), "bits_per_token = 3")), {"x": "ib"})
    add("trigrams positional unpadded", schema("bits = 256", field("x", q(3, "false", "true"), "bits_per_token = 3")), {"x": "ola"})
    add("trigrams unpadded value shorter than q (one token, no position)",
        schema("bits = 256", field("x", q(3, "false", "true"), "bits_per_token = 3")), {"x": "ø"})
    add("unigrams positional (postcode kind)", schema("bits = 256", field("x", 'kind = "postcode"')), {"x": "411 05"})
    add("q-grams over non-ASCII characters (not bytes)",
        schema("bits = 256", field("x", q(2, "true", "false"), "bits_per_token = 3")), {"x": "þð"})
    # dates
    add("date_parts default format", schema("bits = 256", field("d", 'kind = "birth_date"')), {"d": "1990-12-31"})
    add("date_parts year below 1000 (y999, canonical 0999)",
        schema("bits = 256", field("d", 'kind = "birth_date"')), {"d": "0999-01-02"})
    add("date_parts %d.%m.%Y with one-digit day and month",
        schema("bits = 256", field("d", 'kind = "birth_date"', 'date_format = "%d.%m.%Y"')), {"d": "5.3.1980"})
    add("date_parts %y two-digit year 68 -> 2068",
        schema("bits = 256", field("d", 'kind = "birth_date"', 'date_format = "%d/%m/%y"')), {"d": "01/01/68"})
    add("date_parts %y two-digit year 69 -> 1969",
        schema("bits = 256", field("d", 'kind = "birth_date"', 'date_format = "%d/%m/%y"')), {"d": "01/01/69"})
    add("date 29 February in a leap year", schema("bits = 256", field("d", 'kind = "birth_date"')), {"d": "2000-02-29"})
    add("bad date: 29 February 1900", schema("bits = 256", field("d", 'kind = "birth_date"')), {"d": "1900-02-29"})
    add("bad date: month 13", schema("bits = 256", field("d", 'kind = "birth_date"')), {"d": "1990-13-01"})
    add("bad date: trailing text", schema("bits = 256", field("d", 'kind = "birth_date"')), {"d": "1990-01-01x"})
    # numeric
    num = lambda d, r: f"tokenise = {{ numeric = {{ distance = {d}, resolution = {r} }} }}"
    add("integer kind (distance 2, resolution 3)", schema("bits = 256", field("n", 'kind = "integer"')), {"n": "42"})
    add("numeric negative value, distance 5 (step 3, floor division)",
        schema("bits = 256", field("n", num(5, 2), "bits_per_token = 4")), {"n": "-7"})
    add("numeric with plus sign and whitespace", schema("bits = 256", field("n", num(0, 1), "bits_per_token = 4")), {"n": " +3 "})
    add("numeric not an integer", schema("bits = 256", field("n", num(2, 1), "bits_per_token = 4")), {"n": "4.5"})
    add("numeric token beyond the signed 64-bit range",
        schema("bits = 256", field("n", num(2, 1), "bits_per_token = 4")), {"n": "9223372036854775807"})
    # salting
    people = field("g", 'kind = "given_name"', 'column = "given"') + field("d", 'kind = "birth_date"', 'column = "born"')
    add("salt year_only from a date field",
        schema("bits = 256\n[filter.salt]\nfield = \"d\"\nyear_only = true", people),
        {"given": "Ola", "born": "0987-06-05"})
    add("salt from a non-date field (normalised surname)",
        schema("bits = 256\n[filter.salt]\nfield = \"s\"", field("g", 'kind = "given_name"') + field("s", 'kind = "surname"')),
        {"g": "Ola", "s": " Nordmann "})
    add("salt field empty (skipped): empty salt",
        schema("bits = 256\n[filter.salt]\nfield = \"s\"", field("g", 'kind = "given_name"') + field("s", 'kind = "surname"')),
        {"g": "Ola", "s": ""})
    add("salt field normalises to empty: empty salt",
        schema("bits = 256\n[filter.salt]\nfield = \"s\"", field("g", 'kind = "given_name"') + field("s", 'kind = "surname"')),
        {"g": "Ola", "s": "--"})
    # double hashing at lengths that are not powers of two
    add("double hashing at 960 bits",
        schema('bits = 960\nhashing = "double"', field("g", 'kind = "given_name"')), {"g": "Guðrún"})
    add("double hashing at 192 bits, 50 bits per token",
        schema('bits = 192\nhashing = "double"', whole("x", "bits_per_token = 50")), {"x": "kari"})
    # missing values
    add("missing skip: whitespace-only cell",
        schema("bits = 128", whole("a", "bits_per_token = 3") + whole("b", "bits_per_token = 3")),
        {"a": " \t\u00a0", "b": "x"})
    add("missing reject", schema("bits = 128", whole("a", "bits_per_token = 3", 'missing = "reject"')), {"a": "  "})
    add("missing replace (replacement is normalised)",
        schema("bits = 128", field("a", 'kind = "sex"', 'missing = { replace = " UNKNOWN " }')), {"a": ""})
    add("custom missing_values matched after trimming",
        schema("bits = 128", whole("a", "bits_per_token = 3", 'missing_values = ["", "NA"]', 'missing = "reject"')),
        {"a": " NA "})
    add("missing_values is case-sensitive (na is a value)",
        schema("bits = 128", whole("a", "bits_per_token = 3", 'missing_values = ["", "NA"]')), {"a": "na"})
    add("field without kind: no normalisers, 10 bits per token",
        schema("bits = 128", whole("a")), {"a": "Ola"})
    # kinds not covered above
    add("municipality kind (12 bits per bigram)", schema("bits = 256", field("m", 'kind = "municipality"')),
        {"m": "Ærøskøbing"})
    add("text kind (collapse_whitespace keeps one space)", schema("bits = 256", field("t", 'kind = "text"')),
        {"t": "  Nordic\u3000 Cohort "})
    add("date format with whitespace and a letter matched without case",
        schema("bits = 256", field("d", 'kind = "birth_date"', 'date_format = "%d %m T%Y"')), {"d": "05  03 t1980"})
    # hardening, each step alone, on a small filter with field filters
    base_fields = whole("a", "bits_per_token = 9") + whole("b", "bits_per_token = 4")
    rec = {"a": "Søren", "b": "m"}
    for name, h in [("balance", '["balance"]'), ("xor_fold 2", "[{ xor_fold = 2 }]"),
                    ("rule90", '["rule90"]'), ("permute", '["permute"]'),
                    ("randomised_response 0.25", "[{ randomised_response = 0.25 }]"),
                    ("balance then permute (j = 1)", '["balance", "permute"]')]:
        add(f"hardening {name} with field filters",
            schema(f'bits = 64\ncontext = "kat"\nfield_filters = true\nhardening = {h}', base_fields), rec)
    add("context changes the keys",
        schema('bits = 64\ncontext = "Tromsø kohort 2026"', base_fields), rec)
    return cases


def kat():
    os.makedirs(KAT_DIR, exist_ok=True)
    with open(os.path.join(KAT_DIR, "normalisers.jsonl"), "w", encoding="utf-8") as fh:
        for steps, text in normaliser_cases():
            line = {"steps": steps, "input": text, "output": normalise(steps, text)}
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    n = 0
    with open(os.path.join(KAT_DIR, "encodings.jsonl"), "w", encoding="utf-8") as fh:
        for name, text, record in encoding_cases():
            try:
                output = encode(Schema(text), record)
            except Reject as e:
                output = {"error": {"field": e.field, "code": e.code}}
            line = {"name": name, "schema": text, "record": record, "output": output}
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            n += 1
    print(f"wrote {len(normaliser_cases())} normaliser and {n} encoding vectors to {KAT_DIR}")
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "check":
        sys.exit(check())
    if command == "kat":
        sys.exit(kat())
    print(__doc__)
    sys.exit(2)
