#!/usr/bin/env python3
"""Independent reference for nordlink-clk/1 random hashing (docs/schema.md), written from
the specification: prints filters for a tiny schema so the Rust tests can check them.

    pip install blake3 && python3 scripts/clk_vectors.py
"""
import base64

import blake3

from pseudonym_vectors import hkdf_sha256


def field_key(master, context, field):
    p, c, f = b"field", context.encode(), field.encode()
    info = bytes([len(p)]) + p + len(c).to_bytes(2, "big") + c + len(f).to_bytes(2, "big") + f
    return hkdf_sha256(b"nordlink-clk/1", master, info)


def filter_of(master, context, tokens_by_field, bits):
    bf = bytearray(bits // 8)
    for field, tokens, k in tokens_by_field:
        key = field_key(master, context, field)
        for t in tokens:
            stream = blake3.blake3(b"\x00\x00" + t.encode(), key=key).digest(length=4 * k)
            for i in range(k):
                pos = int.from_bytes(stream[4 * i:4 * i + 4], "little") % bits
                bf[pos // 8] |= 0x80 >> (pos % 8)
    return base64.b64encode(bytes(bf)).decode()


MASTER = bytes(range(32))
if __name__ == "__main__":
    # Schema: bits 128, context "kat"; sex: whole value, k = 5; given_name: padded bigrams,
    # k = 4, default name normalisers ("Åse" -> "aase").
    print("sex=f:", filter_of(MASTER, "kat", [("sex", ["f"], 5)], 128))
    print("given_name=Åse,sex=f:", filter_of(
        MASTER, "kat", [("sex", ["f"], 5), ("given_name", ["_a", "aa", "as", "se", "e_"], 4)], 128))
