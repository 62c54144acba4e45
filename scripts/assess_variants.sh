#!/bin/sh
# Reproduces the table in docs/privacy.md: `nordlink assess` on a synthetic Swedish
# register encoded with examples/data/synth_schema.toml and one hardening change at a
# time. Usage: scripts/assess_variants.sh [DIR] (default: a new temporary directory).
set -eu
N="cargo run --release --quiet -p nordlink-cli --"
D="${1:-$(mktemp -d)}"
S=examples/data/synth_schema.toml
$N synth --people 20000 --registers se,no --overlap 0.1 --seed 1 --out-dir "$D/registers" 2>/dev/null
$N key generate --purpose encode --out "$D/e.key" 2>/dev/null
with_filter() { sed "s/^context = \"synth-example\"/context = \"synth-example\"\n$1/" "$S"; }
cp "$S" "$D/none.toml"
with_filter 'field_filters = true' > "$D/field-filters.toml"
with_filter 'hardening = ["balance", "permute"]' > "$D/balance-permute.toml"
with_filter 'hardening = [{ randomised_response = 0.05 }]' > "$D/randomised-response.toml"
with_filter 'hardening = [{ xor_fold = 1 }]' > "$D/xor-fold.toml"
{ cat "$S"; printf '\n[filter.salt]\nfield = "birth_date"\nyear_only = true\n'; } > "$D/birth-year-salt.toml"
for v in none field-filters balance-permute randomised-response xor-fold birth-year-salt; do
    $N encode --schema "$D/$v.toml" --key "$D/e.key" --input "$D/registers/se.csv" \
        --output "$D/$v.parquet" --id-column id 2>/dev/null
    echo "== $v"
    $N assess --plaintext "$D/registers/se.csv" --encoded "$D/$v.parquet" --schema "$D/$v.toml" \
        | grep -E '^\*\*|^\| (given|surname|birth|munic)'
done
