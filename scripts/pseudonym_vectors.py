#!/usr/bin/env python3
"""Independent reference implementation of nordlink-pseudonym/1, written from
docs/pseudonymisation.md alone (Python standard library plus the `blake3` package).

Prints the known-answer table that docs/pseudonymisation.md publishes and the Rust test
suite checks. Not needed by CI: the vectors are committed.

    pip install blake3 && python3 scripts/pseudonym_vectors.py
"""
import base64
import hashlib
import hmac

import blake3

SALT = b"nordlink-pseudonym/1"


def hkdf_sha256(salt: bytes, ikm: bytes, info: bytes, length: int = 32) -> bytes:
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def context_key(master: bytes, algorithm: str, context: str) -> bytes:
    a, c = algorithm.encode(), context.encode()
    info = bytes([len(a)]) + a + len(c).to_bytes(2, "big") + c
    return hkdf_sha256(SALT, master, info)


def pseudonym(master: bytes, algorithm: str, context: str, tag: str, value: str) -> bytes:
    k = context_key(master, algorithm, context)
    t = tag.encode()
    m = bytes([1, len(t)]) + t + value.encode()
    if algorithm == "hmac-sha256":
        return hmac.new(k, m, hashlib.sha256).digest()
    return blake3.blake3(m, key=k).digest()


def encode(p: bytes, encoding: str, bits: int) -> str:
    p = p[: bits // 8]
    if encoding == "hex":
        return p.hex()
    return base64.urlsafe_b64encode(p).decode().rstrip("=")


MASTER = bytes(range(32))
# (context, tag, canonical value, encoding, bits): canonical values are what the parser
# yields, e.g. DK "211062-5629" -> "2110625629".
CASES = [
    ("", "dk", "2110625629", "hex", 256),
    ("project-a", "dk", "2110625629", "hex", 256),
    ("project-b", "dk", "2110625629", "hex", 256),
    ("project-a", "dk", "1201603389", "hex", 256),
    ("project-a", "is", "1201603389", "hex", 256),
    ("project-a", "se", "197010632391", "hex", 256),
    ("project-a", "no", "15108695088", "hex", 256),
    ("project-a", "fi", "100190Y999P", "hex", 256),
    ("project-a", "ee", "36805280109", "hex", 256),
    ("project-a", "lt", "33309240064", "hex", 256),
    ("project-a", "opaque", "patient-000123", "hex", 256),
    ("project-a", "dk", "2110625629", "base64url", 256),
    ("project-a", "dk", "2110625629", "hex", 128),
    ("project-a", "dk", "2110625629", "base64url", 128),
    ("Tromsø kohort 2026", "no", "15108695088", "hex", 256),
    ("project-a", "opaque", "urn:example:" + "0123456789" * 8, "hex", 256),
]

if __name__ == "__main__":
    print(f"master key (hex): {MASTER.hex()}\n")
    print("| algorithm | context | scheme | canonical input | encoding | bits | pseudonym |")
    print("|---|---|---|---|---|---|---|")
    for algorithm in ("hmac-sha256", "blake3"):
        for context, tag, value, encoding, bits in CASES:
            p = encode(pseudonym(MASTER, algorithm, context, tag, value), encoding, bits)
            print(f"| {algorithm} | `{context}` | {tag} | `{value}` | {encoding} | {bits} | `{p}` |")
