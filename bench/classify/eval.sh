#!/bin/sh
# Scores the rules path on the tuning half, the held-out half and all of
# dev. Usage: bench/classify/eval.sh [TAXONOMY_DIR]
# Needs ../shared beside the repository; writes under $OUT (default
# /tmp/wirewatch-classify-eval).
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
dev=${DEV:-$repo/../shared/data/classify/dev.jsonl}
score=${SCORE:-$repo/../shared/bench/classify/score.py}
out=${OUT:-/tmp/wirewatch-classify-eval}
taxonomy=${1:-$repo/config/taxonomy}
python3 "$repo/bench/classify/split.py" "$dev" "$out" >/dev/null
cd "$repo"
nice cargo run -q --release -p wirewatch-classifier --example classify_jsonl -- \
  "$dev" --taxonomy "$taxonomy" >"$out/pred.jsonl"
for half in tune held; do
  echo "== $half"
  python3 "$score" "$out/$half.jsonl" "$out/pred.jsonl" | grep -v '^items'
done
echo "== all"
python3 "$score" "$dev" "$out/pred.jsonl" | grep -v '^items'
