#!/bin/sh
# Reproduces the attack table in docs/privacy.md: `nordlink assess` on a synthetic Swedish
# register encoded with examples/data/synth_schema.toml's fields under one hardening
# setting at a time (schema version 3, every setting explicit).
# Usage: scripts/assess_variants.sh [DIR] (default: a new temporary directory).
set -eu
N="cargo run --release --quiet -p nordlink-cli --"
D="${1:-$(mktemp -d)}"
[ -e "$D/registers/se.csv" ] ||
    $N synth --people 20000 --registers se,no --overlap 0.1 --seed 1 --out-dir "$D/registers" 2>/dev/null
[ -e "$D/e.key" ] || $N key generate --purpose encode --out "$D/e.key" 2>/dev/null
# The example's fields under a version 3 [filter] table holding $2.
variant() {
    { printf 'version = 3\n\n[filter]\nbits = 1024\ncontext = "synth-example"\n%b\n' "$2"
      sed -n '/^\[\[fields\]\]/,$p' examples/data/synth_schema.toml; } > "$D/$1.toml"
}
variant none 'hardening = []\nsalt = false'
variant balance-permute 'hardening = ["balance", "permute"]\nsalt = false'
variant xor-fold 'hardening = [{ xor_fold = 1 }]\nsalt = false'
variant rule90-permute 'hardening = ["rule90", "permute"]\nsalt = false'
variant keyed-flip 'hardening = [{ keyed_flip = 0.05 }]\nsalt = false'
variant blip-0.05 'hardening = [{ blip = 0.05 }]\nsalt = false'
variant blip-0.1 'hardening = [{ blip = 0.1 }]\nsalt = false'
variant field-filters 'hardening = []\nsalt = false\nfield_filters = true\nfield_filters_reveal_frequencies = true'
variant year-salt 'hardening = []'
variant year-salt-balance-permute 'hardening = ["balance", "permute"]'
variant year-salt-xor-fold 'hardening = [{ xor_fold = 1 }]'
variant year-salt-balance-permute-xor-fold 'hardening = ["balance", "permute", { xor_fold = 1 }]'
variant year-salt-xor-fold-balance-permute 'hardening = [{ xor_fold = 1 }, "balance", "permute"]'
variant year-salt-xor-fold-2 'hardening = [{ xor_fold = 2 }]'
variant year-salt-blip-0.05 'hardening = [{ blip = 0.05 }]'
variant date-salt 'hardening = []\nsalt = { field = "birth_date" }'
for v in ${VARIANTS:-none balance-permute xor-fold rule90-permute keyed-flip blip-0.05 blip-0.1 field-filters year-salt year-salt-balance-permute year-salt-xor-fold year-salt-balance-permute-xor-fold year-salt-xor-fold-balance-permute year-salt-xor-fold-2 year-salt-blip-0.05 date-salt}; do
    $N encode --schema "$D/$v.toml" --key "$D/e.key" --input "$D/registers/se.csv" \
        --output "$D/$v.parquet" --id-column id 2>/dev/null
    echo "== $v"
    $N assess --plaintext "$D/registers/se.csv" --encoded "$D/$v.parquet" --schema "$D/$v.toml" \
        | grep -E '^\*\*|^\| (given|surname|birth|sex|munic)'
done
