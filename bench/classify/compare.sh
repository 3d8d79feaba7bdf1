#!/usr/bin/env bash
# Classifier speed of this tree against an earlier commit: same articles,
# same session.
#
#   bench/classify/compare.sh REV [RUNS]      (default: 3 runs of each, alternated)
#
# Builds the classifier bench and bench_dump at REV in a temporary worktree,
# with this tree's bench files copied in so that both time the same 5 KB
# articles (crates/classifier/benches/support/articles.rs). Then it runs the
# two criterion benches in turn, RUNS times each: this machine's speed
# drifts from one minute to the next, so only alternated runs compare.
# When valgrind is installed it also prints, for both builds, the
# instructions, mispredicted branches and first-level cache misses per
# article (cachegrind: 5 rounds of bench_dump minus 1, over 256 articles),
# which do not drift.
#
# Needs ../shared beside the repository (the articles come from it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rev="${1:?usage: bench/classify/compare.sh REV [RUNS]}"
runs="${2:-3}"
shared="$(cd .. && pwd)/shared"
[ -d "$shared/data" ] || { echo "compare.sh: $shared/data not found" >&2; exit 1; }
new_target="${CARGO_TARGET_DIR:-/var/cache/wirewatch/target-classifier}"
old_target="${COMPARE_TARGET_DIR:-/var/cache/wirewatch/target-compare}"

work="$(mktemp -d /tmp/wirewatch-compare.XXXXXX)"
cleanup() {
  git worktree remove --force "$work/old" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
git worktree add -q --detach "$work/old" "$rev"
# The worktree's crates find the articles at ../../../shared, as ours do.
ln -s "$shared" "$work/shared"
cp -r crates/classifier/benches/. "$work/old/crates/classifier/benches/"
cp crates/classifier/examples/bench_dump.rs "$work/old/crates/classifier/examples/"

# Builds bench_dump and the bench in $1 with target directory $2; prints
# the bench executable.
build() {
  (
    cd "$1"
    export CARGO_TARGET_DIR="$2"
    cargo build --release -q -p wirewatch-classifier --example bench_dump
    cargo bench -q -p wirewatch-classifier --bench classify --no-run --message-format=json |
      python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message["target"]["name"] == "classify" and message.get("executable"):
        print(message["executable"])'
  )
}
echo "building $rev and this tree..." >&2
old_bench="$(build "$work/old" "$old_target")"
new_bench="$(build "$PWD" "$new_target")"

echo "criterion, articles per second (median estimate), alternated:"
for run in $(seq "$runs"); do
  for which in old new; do
    bench="$old_bench"
    [ "$which" = new ] && bench="$new_bench"
    # Criterion writes target/criterion under the working directory.
    (cd "$work" && "$bench" --bench --noplot 2>&1) |
      awk -v which="$which" -v run="$run" '
        /^classify_5kb/ { name = $1 }
        /thrpt:/ && name != "" { printf "  %-4s run %s  %-40s %s %s\n", which, run, name, $4, $5; name = "" }'
  done
done

command -v valgrind >/dev/null || { echo "valgrind not installed: no instruction counts"; exit 0; }
# Per-article counts of bench_dump ARGS: (5 rounds - 1 round) / 256.
counts() {
  local dump="$1"
  shift
  summary() {
    valgrind --tool=cachegrind --cache-sim=yes --branch-sim=yes --cachegrind-out-file=/dev/null \
      "$dump" "$@" 2>&1 >/dev/null | sed 's/==[0-9]*==//'
  }
  local five one
  five="$(summary "$@" 5)"
  one="$(summary "$@" 1)"
  python3 - "$five" "$one" <<'EOF'
import re, sys
def grab(text, label):
    return int(re.search(label + r":\s+([\d,]+)", text).group(1).replace(",", ""))
five, one = sys.argv[1], sys.argv[2]
ir, miss, d1 = ((grab(five, l) - grab(one, l)) / 256 for l in ("I\\s+refs", "Mispredicts", "D1  misses"))
print(f"{ir:9.0f} instructions {miss:7.0f} mispredicts {d1:7.0f} L1 misses  ~{ir / 3 + 15 * miss + 10 * d1:8.0f} cycles")
EOF
}
echo "cachegrind, per article:"
for set in news dev_items; do
  args=()
  [ "$set" = news ] && args=(--news)
  printf "  old %-9s " "$set"; counts "$old_target/release/examples/bench_dump" "${args[@]}"
  printf "  new %-9s " "$set"; counts "$new_target/release/examples/bench_dump" "${args[@]}"
done
