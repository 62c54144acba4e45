#!/usr/bin/env python3
"""Hash a CSV with clkhash 0.18.3 into anonlink CLK JSON ({"clks": [base64, ...]}).

clkhash 0.18.3 has no command line (it moved to anonlink-client); this does what
`anonlink hash` did, with clkhash's default worker processes. The secret is the file's
bytes, as `nordlink encode --secret` reads them.

    clkhash_hash.py PII.csv SECRET SCHEMA.json OUT.json
"""
import json
import sys

from clkhash import clk, schema as clkschema
from clkhash.serialization import serialize_bitarray

pii, secret_file, schema_file, out = sys.argv[1:5]
with open(secret_file, "rb") as f:
    secret = f.read()
with open(schema_file) as f:
    schema = clkschema.from_json_file(f)
with open(pii, newline="", encoding="utf-8") as f:
    clks = clk.generate_clk_from_csv(f, secret, schema, validate=True, header=True,
                                     progress_bar=False)
with open(out, "w") as f:
    json.dump({"clks": [serialize_bitarray(c) for c in clks]}, f)
