#!/bin/sh
# Scores the rules alone and rules + embeddings (the semantic layer of
# `[classifier.embeddings]`) on the tuning half, the held-out half and all
# of dev, through `wirewatch classify --jsonl`. Needs the embeddings server
# (scripts/embeddings-server start) and ../shared beside the repository.
# Usage: bench/classify/eval-semantic.sh [HEAD.toml]
# EMBEDDINGS_URL overrides the server; writes under $OUT (default
# /tmp/wirewatch-classify-eval-semantic).
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
dev=${DEV:-$repo/../shared/data/classify/dev.jsonl}
score=${SCORE:-$repo/../shared/bench/classify/score.py}
out=${OUT:-/tmp/wirewatch-classify-eval-semantic}
url=${EMBEDDINGS_URL:-http://127.0.0.1:8765/v1/embeddings}
python3 "$repo/bench/classify/split.py" "$dev" "$out" >/dev/null
{
  echo 'feeds = []'
  echo '[classifier.embeddings]'
  echo "url = \"$url\""
  if [ $# -gt 0 ]; then echo "head = \"$(cd "$(dirname "$1")" && pwd)/$(basename "$1")\""; fi
} >"$out/semantic.toml"
cd "$repo"
nice cargo build -q --release --bin wirewatch
bin=${CARGO_TARGET_DIR:-$repo/target}/release/wirewatch
"$bin" classify --jsonl "$dev" --config "$out/semantic.toml" --rules-only \
  >"$out/rules.jsonl" 2>"$out/rules.log"
"$bin" classify --jsonl "$dev" --config "$out/semantic.toml" >"$out/semantic.jsonl" 2>"$out/semantic.log"
cat "$out/semantic.log"
for run in rules semantic; do
  for half in tune held; do
    echo "== $run $half"
    python3 "$score" "$out/$half.jsonl" "$out/$run.jsonl" | grep -v '^items'
  done
  echo "== $run all"
  python3 "$score" "$dev" "$out/$run.jsonl" | grep -v '^items'
done
