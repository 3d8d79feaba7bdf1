#!/usr/bin/env bash
# Accuracy of the cleaner on every set we can measure, in one run:
# AEB (score.py), AEB with class and id stripped (strip_attrs.py), and trafilatura's set
# (score_snippets.py) whole and in its two halves (split.py: tuning and held-out).
#
# usage: bench/extract/eval.sh [DATA] [PRED]
#   DATA  where the normalized datasets are kept (default /tmp/extract-data); made from the
#         shared data when missing
#   PRED  where predictions go (default /tmp/extract-pred/wirewatch)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
bench="${SHARED_BENCH:-$repo/../shared/bench/extract}"
shared_data="$bench/../../data/extraction"
data="${1:-/tmp/extract-data}"
pred="${2:-/tmp/extract-pred/wirewatch}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/wirewatch/target-cleaner}"

[ -f "$data/aeb/pages.tsv" ] || python3 "$bench/normalize_aeb.py" "$shared_data/aeb" "$data/aeb"
[ -f "$data/aeb-noattr/pages.tsv" ] || python3 "$repo/bench/extract/strip_attrs.py" "$data/aeb" "$data/aeb-noattr"
[ -f "$data/tev/pages.tsv" ] ||
  python3 "$bench/normalize_trafilatura_eval.py" "$shared_data/trafilatura-eval" "$data/tev"
[ -f "$data/tev-held/pages.tsv" ] || python3 "$repo/bench/extract/split.py" "$data/tev" "$data/tev"

(cd "$repo" && nice cargo build --quiet --release -p wirewatch-cleaner --example batch)
batch="$CARGO_TARGET_DIR/release/examples/batch"
for set in aeb aeb-noattr tev; do
  rm -rf "${pred:?}/$set"
  "$batch" "$data/$set/html" "$pred/$set" > /dev/null
done
for set in aeb aeb-noattr; do
  printf '%-12s' "$set"
  python3 "$bench/score.py" "$data/$set" "$pred/$set" --per-page "$pred/$set.per_page.tsv" | tail -n 1
done
for set in tev tev-tune tev-held; do
  printf '%-12s' "$set"
  python3 "$bench/score_snippets.py" "$data/$set" "$pred/tev" --per-page "$pred/$set.per_page.tsv"
done
