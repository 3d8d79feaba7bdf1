#!/usr/bin/env bash
# Speed of the cleaner on one core (taskset -c 0), next to dom_smoothie in the same run,
# and both extractors' F1 (score.py) on the same pages.
#
# usage: bench/extract/speed.sh [DATASET] [REPEAT] [ROUNDS]
#   DATASET  normalized dataset (default /tmp/extract-data/aeb; made from the shared AEB
#            pages with normalize_aeb.py when missing). Issue 15 measures the ratio on
#            trafilatura's set: normalize_trafilatura_eval.py into /tmp/extract-data/tev and
#            pass that folder; its accuracy is then scored by score_snippets.py
#   REPEAT   timed passes per page, fastest kept (default 3, as in RESULTS.md)
#   ROUNDS   ours and dom_smoothie alternate this many times, best round kept (default 2),
#            so a burst of other load on the shared machine hits both alike
#
# Needs the shared bench folder (../shared/bench/extract relative to the repo root, or
# $SHARED_BENCH) and builds, when missing, the peers' Rust runner in /tmp/extract-rust
# exactly as RESULTS.md does (about 8 minutes on 2 cores). Only clean()/the peer's call on
# in-memory pages is timed; both count MB as the bytes of the UTF-8 HTML.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
bench="${SHARED_BENCH:-$repo/../shared/bench/extract}"
dataset="${1:-/tmp/extract-data/aeb}"
repeat="${2:-3}"
rounds="${3:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/wirewatch/target-cleaner}"

if [ ! -f "$dataset/pages.tsv" ]; then
  python3 "$bench/normalize_aeb.py" "$bench/../../data/extraction/aeb" "$dataset"
fi
peer=/tmp/extract-rust/target/release/extract_peers
if [ ! -x "$peer" ]; then
  mkdir -p /tmp/extract-rust && cp -r "$bench/peers/rust/." /tmp/extract-rust/
  nice cargo build --release --manifest-path /tmp/extract-rust/Cargo.toml --target-dir /tmp/extract-rust/target
fi
(cd "$repo" && nice cargo build --quiet --release -p wirewatch-cleaner --example batch)
ours_bin="$CARGO_TARGET_DIR/release/examples/batch"

results=$(mktemp -d)
for round in $(seq "$rounds"); do
  taskset -c 0 "$ours_bin" --speed "$dataset/html" "$repeat" > "$results/ours.$round.json"
  EXTRACT_REPEAT="$repeat" taskset -c 0 "$peer" dom_smoothie "$dataset" "$results/dom_smoothie" \
    2> /dev/null | tail -n 1 > "$results/peer.$round.json"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# Accuracy of the same two builds: our batch output and dom_smoothie's predictions.
"$ours_bin" "$dataset/html" "$results/wirewatch" > /dev/null
for name in wirewatch dom_smoothie; do
  printf '%-14s' "$name"
  if [ -f "$dataset/snippets.json" ]; then
    # trafilatura's evaluation set (normalize_trafilatura_eval.py): snippet scoring.
    python3 "$bench/score_snippets.py" "$dataset" "$results/$name"
  else
    python3 "$bench/score.py" "$dataset" "$results/$name" --bootstrap 1000
  fi
done
python3 - "$results" "$rounds" <<'PY'
import json, sys
folder, rounds = sys.argv[1], int(sys.argv[2])
def best(prefix):
    runs = [json.load(open(f"{folder}/{prefix}.{r}.json")) for r in range(1, rounds + 1)]
    return max(runs, key=lambda run: run["pages_per_s"])
ours, peer = best("ours"), best("peer")
print(f"{'extractor':<22}{'pages':>7}{'pages/s':>10}{'MB/s':>9}")
for name, run in (("wirewatch-cleaner", ours), (f"dom_smoothie {peer.get('version', '')}", peer)):
    print(f"{name:<22}{run['pages']:>7}{run['pages_per_s']:>10.1f}{run['mb_per_s']:>9.2f}")
print(f"ratio (ours / dom_smoothie, pages/s): {ours['pages_per_s'] / peer['pages_per_s']:.2f}x")
PY
rm -rf "$results"
