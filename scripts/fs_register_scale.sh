#!/bin/sh
# Reproduces the register-scale Fellegi–Sunter table in docs/quality.md and the match-key
# group sizes in docs/privacy.md: three synthetic SE x NO sets, encoded with the example
# schema's fields plus field filters and the default match keys (salted, the version 3
# default), linked by Fellegi–Sunter (nordlink link's default for such inputs) and by Dice
# with the automatic threshold, each scored against the truth. About 3 minutes on 2 cores.
# Usage: scripts/fs_register_scale.sh [DIR] (default: a new temporary directory).
set -eu
cargo build --release --quiet -p nordlink-cli
N="$(pwd)/target/release/nordlink"
D="${1:-$(mktemp -d)}"
mkdir -p "$D"
[ -e "$D/e.key" ] || $N key generate --purpose encode --out "$D/e.key" 2>/dev/null
{ printf 'version = 3\ndefault_match_keys = true\n\n[filter]\nbits = 1024\ncontext = "synth-example"\nfield_filters = true\nfield_filters_reveal_frequencies = true\n\n'
  sed -n '/^\[\[fields\]\]/,$p' examples/data/synth_schema.toml; } > "$D/schema.toml"
f1() { $N evaluate --truth "$1" --matches "$2" 2>&1 | sed -n 's/.*F1 \([0-9.]*\).*/\1/p'; }
secs() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }
printf 'set\tfs-f1\tfs-seconds\tdice-f1\tdice-seconds\n'
for set in "cross-border:--people 100000 --seed 3" \
           "movers:--people 200000 --registers se,no --overlap 0.06 --seed 2" \
           "heavy:--people 100000 --registers se,no --overlap 0.5 --corruption high --seed 1"; do
    name="${set%%:*}"; R="$D/$name"
    # shellcheck disable=SC2086
    [ -e "$R/se.csv" ] || $N synth ${set#*:} --out-dir "$R" 2>/dev/null
    for c in se no; do
        [ -e "$R/$c.parquet" ] || $N encode --schema "$D/schema.toml" --key "$D/e.key" \
            --input "$R/$c.csv" --output "$R/$c.parquet" --id-column id 2>/dev/null
    done
    fs=$(secs $N link --input "$R/se.parquet" --input "$R/no.parquet" --output "$R/fs.csv")
    dice=$(secs $N link --input "$R/se.parquet" --input "$R/no.parquet" --scoring dice \
        --threshold auto --output "$R/dice.csv")
    T="$R/truth-se-no.csv"
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$(f1 "$T" "$R/fs.csv")" "$fs" "$(f1 "$T" "$R/dice.csv")" "$dice"
done
# What the linkage unit sees of the keys: distinct values, records unique by each key,
# the largest group (docs/privacy.md), on the cross-border set's Swedish register.
$N encode --schema "$D/schema.toml" --key "$D/e.key" --input "$D/cross-border/se.csv" \
    --output "$D/se-keys.csv" --id-column id 2>/dev/null
python3 - "$D/se-keys.csv" <<'PY'
import csv, sys
from collections import Counter
rows = list(csv.DictReader(open(sys.argv[1])))
for k in [c for c in rows[0] if c.startswith("key_")]:
    c = Counter(r[k] for r in rows if r[k])
    unique = sum(1 for v in c.values() if v == 1)
    print(f"{k}\t{len(c)} distinct\t{unique / len(rows):.1%} unique\tlargest {max(c.values())}")
PY
