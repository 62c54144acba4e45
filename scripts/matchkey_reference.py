#!/usr/bin/env python3
"""Independent reference for nordlink-matchkey/1 (docs/schema.md, "Match keys"), written
from the specification; value preparation is clk_reference.py's (steps 2-4).

    python3 scripts/matchkey_reference.py     # writes tests/fixtures/matchkey-kat/vectors.jsonl

The Cologne phonetic code below follows Postel's rules as published, not any library.
"""
import hashlib
import hmac
import json
import os
import tomllib

import clk_reference as ref
from pseudonym_vectors import hkdf_sha256

OUT = os.path.join(ref.ROOT, "tests", "fixtures", "matchkey-kat")


def cologne(s):
    """Kölner Phonetik: letters to digits by context, runs collapsed, 0 kept only first."""
    s = "".join({"ä": "a", "ö": "o", "ü": "u", "ß": "s"}.get(c, c) for c in s.lower())
    s = "".join(c for c in s if "a" <= c <= "z")
    codes = []
    for i, c in enumerate(s):
        prev = s[i - 1] if i > 0 else ""
        nxt = s[i + 1] if i + 1 < len(s) else ""
        if c in "aeijouy":
            code = "0"
        elif c == "h":
            code = ""
        elif c == "b":
            code = "1"
        elif c == "p":
            code = "3" if nxt == "h" else "1"
        elif c in "dt":
            code = "8" if nxt in ("c", "s", "z") and nxt else "2"
        elif c in "fvw":
            code = "3"
        elif c in "gkq":
            code = "4"
        elif c == "c":
            if i == 0:
                code = "4" if nxt and nxt in "ahkloqrux" else "8"
            elif prev in ("s", "z"):
                code = "8"
            else:
                code = "4" if nxt and nxt in "ahkoqux" else "8"
        elif c == "x":
            code = "8" if prev and prev in "ckq" else "48"
        elif c == "l":
            code = "5"
        elif c in "mn":
            code = "6"
        elif c == "r":
            code = "7"
        else:  # s, z
            code = "8"
        codes.append(code)
    out = []
    for d in "".join(codes):
        if not out or out[-1] != d:
            out.append(d)
    return "".join(d for i, d in enumerate(out) if d != "0" or i == 0)


def transform(name, v):
    if name == "value":
        out = v
    elif name == "year":
        out = v[:4]
    elif name == "day_month_unordered":
        y, m, d = v.split("-")
        out = f"{y}-{min(m, d)}-{max(m, d)}"
    elif name == "initial":
        out = v[:1]
    elif name == "phonetic":
        out = cologne(v)
    else:
        raise ValueError(name)
    return out or None


def key_value(schema, field, cells):
    """The prepared value a key reads: normalised, a date as YYYY-MM-DD; None when missing
    or invalid."""
    try:
        v = ref.prepare(field, cells.get(field.column, ""))
    except ref.Reject:
        return None
    if not v:
        return None
    if field.tokenise[0] == "date_parts":
        try:
            return ref.parse_date(field, v)
        except ref.Invalid:
            return None
    return v


def default_keys(doc):
    fields = doc["fields"]

    def first(kind):
        return next((f["name"] for f in fields if f.get("kind") == kind), None)

    d = next((f["name"] for f in fields if f.get("kind") == "birth_date"
              and f.get("tokenise", "date_parts") == "date_parts"), None)
    g, s, x = first("given_name"), first("surname"), first("sex")
    keys = []
    if d:
        keys.append(("birth_date", [(d, "value")]))
        keys.append(("birth_date_unordered", [(d, "day_month_unordered")]))
    if d and x and s:
        keys.append(("year_sex_surname_initial", [(d, "year"), (x, "value"), (s, "initial")]))
    if d and g:
        keys.append(("given_name_phonetic_year", [(g, "phonetic"), (d, "year")]))
    if d and s:
        keys.append(("surname_phonetic_year", [(s, "phonetic"), (d, "year")]))
    if d and g and s:
        keys.append(("names_unordered_year", [(g, "phonetic"), (s, "phonetic"), (d, "year")], True))
    return keys


def match_keys(text, cells):
    doc = tomllib.loads(text)
    schema = ref.Schema(text)
    keys = default_keys(doc) if doc.get("default_match_keys") else []
    for k in doc.get("match_keys", []):
        keys.append((k["name"], [(p["field"], p.get("transform", "value")) for p in k["parts"]],
                     k.get("unordered", False)))
    by_name = {f.name: f for f in schema.fields}
    out = {}
    for name, parts, *flags in keys:
        values = []
        for field, t in parts:
            v = key_value(schema, by_name[field], cells)
            p = transform(t, v) if v is not None else None
            if p is None:
                values = None
                break
            values.append(p.encode())
        if values is not None and flags and flags[0]:
            values.sort()  # unordered: the parts in byte order
        message = None if values is None else b"".join(
            len(b).to_bytes(2, "big") + b for b in values)
        out[name] = mac(schema, name, message)
    if schema.salt_field is not None and keys:
        salt = ref.salt_value(schema, cells).encode()
        out["salt"] = mac(schema, "salt", len(salt).to_bytes(2, "big") + salt if salt else None)
    return out


def mac(schema, name, message):
    if message is None:
        return None
    p, c, n = b"match-key", schema.context.encode(), name.encode()
    info = bytes([len(p)]) + p + len(c).to_bytes(2, "big") + c + len(n).to_bytes(2, "big") + n
    key = hkdf_sha256(b"nordlink-matchkey/1", ref.MASTER, info, 32)
    return hmac.new(key, message, hashlib.sha256).digest()[:16].hex()


FIELDS = """
[[fields]]
name = "given_name"
kind = "given_name"
[[fields]]
name = "surname"
kind = "surname"
column = "efternamn"
[[fields]]
name = "birth_date"
kind = "birth_date"
date_format = "%d.%m.%Y"
[[fields]]
name = "sex"
kind = "sex"
"""


def cases():
    default = 'version = 3\ndefault_match_keys = true\n[filter]\ncontext = "kat"\n' + FIELDS
    unsalted = default.replace('context = "kat"', 'context = "kat"\nsalt = false')
    custom = ('version = 3\n[filter]\ncontext = "kat"\nsalt = false\n' + FIELDS
              + '[[match_keys]]\nname = "dob"\nparts = [{ field = "birth_date" }]\n'
              + '[[match_keys]]\nname = "surname_year"\n'
              + 'parts = [{ field = "surname", transform = "phonetic" }, '
              + '{ field = "birth_date", transform = "year" }]\n'
              + '[[match_keys]]\nname = "initials"\n'
              + 'parts = [{ field = "given_name", transform = "initial" }, '
              + '{ field = "surname", transform = "initial" }]\n'
              + '[[match_keys]]\nname = "names_any_order"\nunordered = true\n'
              + 'parts = [{ field = "surname" }, { field = "given_name" }]\n')
    other_context = default.replace('context = "kat"', 'context = "Tromsø kohort 2026"')
    records = [
        {"given_name": "Anna-Karin", "efternamn": "Karlsson", "birth_date": "03.07.1984", "sex": "F"},
        {"given_name": "anna karin", "efternamn": "CARLSSON", "birth_date": "07.03.1984", "sex": "f"},
        {"given_name": "Søren", "efternamn": "Nielsen", "birth_date": "29.02.1988", "sex": "M"},
        {"given_name": "Sören", "efternamn": "Nilsson", "birth_date": "31.02.1988", "sex": "M"},
        {"given_name": "Åsa", "efternamn": "Øberg", "birth_date": "", "sex": ""},
        {"given_name": "Christoph", "efternamn": "Müller-Lüdenscheidt", "birth_date": "01.12.2001", "sex": "X"},
        {"given_name": "Xaver", "efternamn": "Dietz", "birth_date": "12.01.2001", "sex": "M"},
        {"given_name": "", "efternamn": "", "birth_date": "15.06.1950", "sex": "F"},
        {"given_name": "Karlsson", "efternamn": "Anna-Karin", "birth_date": "03.07.1984", "sex": "F"},
    ]
    out = []
    for label, text in [("defaults, salted", default), ("defaults, unsalted", unsalted),
                        ("custom keys", custom), ("another context", other_context)]:
        for i, r in enumerate(records):
            out.append({"name": f"{label} #{i}", "schema": text, "record": r,
                        "keys": match_keys(text, r)})
    return out


def main():
    for word, code in [("müller-lüdenscheidt", "65752682"), ("wikipedia", "3412"),
                       ("breschnew", "17863")]:
        assert cologne(word) == code, (word, cologne(word), code)
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "vectors.jsonl")
    lines = cases()
    with open(path, "w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"wrote {len(lines)} vectors to {path}")


if __name__ == "__main__":
    main()
