#!/bin/sh
# Reproduces the Fellegi–Sunter table in docs/linkage.md: synthetic SE x NO registers at
# several sizes, overlaps and corruption levels, encoded with examples/data/synth_schema.toml's
# fields plus field filters and the default match keys (salted, the version 3 default, and
# `salt = false`), linked by record-level Dice (automatic threshold) and by Fellegi–Sunter on
# filter candidates and on match-key candidates, each scored against the truth.
# Usage: scripts/fs_matrix.sh [DIR] [PEOPLE] [OVERLAPS] [LEVELS]
#   (defaults: a new temporary directory, 20000, "0.1 0.5 1", "default high").
set -eu
N="cargo run --release --quiet -p nordlink-cli --"
D="${1:-$(mktemp -d)}"
PEOPLE="${2:-20000}"
OVERLAPS="${3:-0.1 0.5 1}"
LEVELS="${4:-default high}"
mkdir -p "$D"
[ -e "$D/e.key" ] || $N key generate --purpose encode --out "$D/e.key" 2>/dev/null
schema() {
    { printf 'version = 3\ndefault_match_keys = true\n\n[filter]\nbits = 1024\ncontext = "synth-example"\nfield_filters = true\nfield_filters_reveal_frequencies = true\n%b\n' "$2"
      sed -n '/^\[\[fields\]\]/,$p' examples/data/synth_schema.toml; } > "$D/$1.toml"
}
schema salted ''
schema unsalted 'salt = false'
f1() { $N evaluate --truth "$1" --matches "$2" 2>&1 | sed -n 's/.*F1 \([0-9.]*\).*/\1/p'; }
printf 'people\toverlap\tcorruption\tschema\tdice\tfs-filters\tfs-keys\tfs-keys-seconds (with cargo)\n'
for level in $LEVELS; do
    for overlap in $OVERLAPS; do
        R="$D/r-$PEOPLE-$overlap-$level"
        [ -e "$R/se.csv" ] || $N synth --people "$PEOPLE" --registers se,no --overlap "$overlap" \
            --corruption "$level" --seed 1 --out-dir "$R" 2>/dev/null
        for s in salted unsalted; do
            for c in se no; do
                [ -e "$R/$s-$c.parquet" ] || $N encode --schema "$D/$s.toml" --key "$D/e.key" \
                    --input "$R/$c.csv" --output "$R/$s-$c.parquet" --id-column id 2>/dev/null
            done
            $N link --input "$R/$s-se.parquet" --input "$R/$s-no.parquet" --scoring dice --threshold auto \
                --output "$R/$s-dice.csv" 2>/dev/null
            $N link --input "$R/$s-se.parquet" --input "$R/$s-no.parquet" --scoring fellegi-sunter \
                --candidates filters --output "$R/$s-fsf.csv" 2>/dev/null
            start=$(date +%s.%N)
            $N link --input "$R/$s-se.parquet" --input "$R/$s-no.parquet" --scoring fellegi-sunter \
                --candidates keys --output "$R/$s-fsk.csv" 2>/dev/null
            took=$(echo "$(date +%s.%N) - $start" | bc)
            T="$R/truth-se-no.csv"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\n' "$PEOPLE" "$overlap" "$level" "$s" \
                "$(f1 "$T" "$R/$s-dice.csv")" "$(f1 "$T" "$R/$s-fsf.csv")" "$(f1 "$T" "$R/$s-fsk.csv")" "$took"
        done
    done
done
