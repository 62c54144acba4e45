#!/usr/bin/env bash
# End-to-end timings behind issue 11's targets (docs/performance.md): whole processes,
# median of N runs, wall time and peak RSS, on generated realistic data.
#
#   benches/e2e/run.sh [N=5]
#
# Environment: WORK (data and outputs, default /tmp/nordlink-e2e; several GB with BIG=1),
# CLKHASH_PY (a python with clkhash==0.18.3: adds the side-by-side with clkhash; create
# one outside the repository, e.g. `python3 -m venv /tmp/clk && /tmp/clk/bin/pip install
# clkhash==0.18.3`), BIG=1 (also 10 M-row runs, for the memory bound).
# Never run by CI; nothing here is asserted, it only prints.
set -euo pipefail
N=${1:-5}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-/tmp/nordlink-e2e}
mkdir -p "$WORK"
cd "$ROOT"
cargo build --release -q -p nordlink-cli -p nordlink-benches --bin realistic_extract
cargo build --release -q -p nordlink-io --example synthetic_extract
BIN=$ROOT/target/release
NL=$BIN/nordlink
cd "$WORK"

echo "# $(date -Is) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# $($NL --version), $(git -C "$ROOT" rev-parse --short HEAD), runs: $N"

# Data (made once; the generators are deterministic for a seed).
[ -f r1m.parquet ] || "$BIN/realistic_extract" r1m.parquet 1000000 1 >/dev/null
[ -f r100k.parquet ] || "$BIN/realistic_extract" r100k.parquet 100000 1 >/dev/null
[ -f r100k.csv ] || "$BIN/realistic_extract" r100k.csv 100000 1 >/dev/null
[ -f x10m.parquet ] || "$BIN/examples/synthetic_extract" x10m.parquet 10000000 >/dev/null
[ -f x1m.parquet ] || "$BIN/examples/synthetic_extract" x1m.parquet 1000000 >/dev/null
[ -f x2m.csv ] || "$BIN/examples/synthetic_extract" x2m.csv 2000000 >/dev/null
[ -f enc.key ] || "$NL" key generate --purpose encode --out enc.key >/dev/null
[ -f ps.key ] || "$NL" key generate --purpose pseudonymise --out ps.key >/dev/null
[ -f secret.txt ] || (umask 077 && printf 'nordlink-e2e-clkhash-secret-0001' >secret.txt)
SALTED=$ROOT/examples/data/extract_schema.toml
sed 's/^\[filter\]/[filter]\nsalt = false/' "$SALTED" >unsalted.toml
CLKSCHEMA=$ROOT/benches/e2e/clkhash_realistic.json

# timed NAME CMD...: N runs; prints the median wall time and peak RSS, and the range.
timed() {
  local name=$1
  shift
  : >"t.$name"
  for _ in $(seq "$N"); do
    /usr/bin/time -a -o "t.$name" -f "%e %M" "$@" >/dev/null 2>&1
  done
  sort -n "t.$name" | awk -v name="$name" '{ t[NR] = $1; m[NR] = $2 }
    END { printf "%-34s median %6.2f s  (%.2f-%.2f)  peak RSS %4d MB\n",
          name, t[int((NR + 1) / 2)], t[1], t[NR], m[int((NR + 1) / 2)] / 1024 }'
}

# Commands are spelled out: /usr/bin/time runs programs, not shell functions.
ENC=("$NL" encode --key enc.key)
timed encode-1m-salted "${ENC[@]}" --schema "$SALTED" --input r1m.parquet --output out.a.parquet
timed encode-1m-unsalted "${ENC[@]}" --schema unsalted.toml --input r1m.parquet \
  --output out.b.parquet
timed encode-100k-salted "${ENC[@]}" --schema "$SALTED" --input r100k.parquet \
  --output out.c.parquet
# One core: pinned (the reader and writer threads too), not only a one-thread pool.
timed encode-1core-1m-unsalted taskset -c 0 env RAYON_NUM_THREADS=1 "${ENC[@]}" \
  --schema unsalted.toml \
  --input r1m.parquet --output out.d.parquet

timed clkhash-compatible-100k-nordlink "$NL" encode --schema "$CLKSCHEMA" --secret secret.txt \
  --input r100k.csv --output out.clk.csv --anonlink-json out.nordlink.json
if [ -n "${CLKHASH_PY:-}" ]; then
  timed clkhash-0.18.3-100k "$CLKHASH_PY" "$ROOT/benches/e2e/clkhash_hash.py" r100k.csv \
    secret.txt "$CLKSCHEMA" out.clkhash.json
  clks() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["clks"])' "$1"; }
  if cmp -s <(clks out.clkhash.json) <(clks out.nordlink.json); then
    echo "clkhash and nordlink filters: identical"
  else
    echo "clkhash and nordlink filters: DIFFER"
  fi
fi

PSE=("$NL" pseudonymise --key ps.key --scheme dk --column cpr --context bench)
timed pseudonymise-10m-parquet "${PSE[@]}" --input x10m.parquet --output out.ps.parquet \
  --rejects out.rej.parquet
timed pseudonymise-1m-parquet "${PSE[@]}" --input x1m.parquet --output out.ps.parquet \
  --rejects out.rej.parquet
timed pseudonymise-2m-csv "${PSE[@]}" --input x2m.csv --output out.ps.csv --rejects out.rej.csv

if [ "${BIG:-0}" = 1 ]; then
  [ -f r10m.parquet ] || "$BIN/realistic_extract" r10m.parquet 10000000 1 >/dev/null
  N=1 timed encode-10m-unsalted "${ENC[@]}" --schema unsalted.toml --input r10m.parquet \
    --output out.e.parquet
  N=1 timed encode-10m-salted "${ENC[@]}" --schema "$SALTED" --input r10m.parquet \
    --output out.f.parquet
fi
