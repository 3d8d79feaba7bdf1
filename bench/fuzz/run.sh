#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a fixed time each, one after the
# other, and prints executions and crashes per target.
#
#   bench/fuzz/run.sh [seconds-per-target] [target ...]
#
# Defaults: 600 s, every target. Seeds are read from fuzz/corpus/<target>
# (kept small, in git) and, for `clean` and `feed`, from the demo's pages and
# feeds themselves (demo/pages, demo/feeds: not copied into the corpus, so
# they cannot drift apart); what the fuzzer adds goes to a work corpus outside
# the clone ($WIREWATCH_FUZZ_WORK, default /var/cache/wirewatch/fuzz-work),
# so later runs resume from it. Crashing inputs land in
# $WIREWATCH_FUZZ_WORK/artifacts/<target>/. Needs cargo-fuzz (`cargo install
# cargo-fuzz`); a stable toolchain works through RUSTC_BOOTSTRAP=1. Runs
# under `nice` so a shared machine stays usable.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../fuzz"

seconds="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(RUSTC_BOOTSTRAP=1 cargo fuzz list)
fi
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/wirewatch/fuzz-target}"
work="${WIREWATCH_FUZZ_WORK:-/var/cache/wirewatch/fuzz-work}"

nice -n 19 cargo fuzz build -O >/dev/null

printf '%-10s %8s %14s %10s %8s\n' target seconds executions exec/s crashes
for target in "${targets[@]}"; do
  mkdir -p "$work/corpus/$target" "$work/artifacts/$target"
  seeds=()
  [ -d "corpus/$target" ] && seeds+=("corpus/$target")
  case "$target" in
    clean) seeds+=(../demo/pages) ;;
    feed) seeds+=(../demo/feeds) ;;
  esac
  log="$work/$target.log"
  before=$(find "$work/artifacts/$target" -type f | wc -l)
  # One process per target (no -fork): the budget is one core's time. A
  # crash ends that target's run (crashes is then 1); fix it and rerun.
  nice -n 19 cargo fuzz run -O "$target" "$work/corpus/$target" "${seeds[@]}" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$work/artifacts/$target/" -print_final_stats=1 \
    >"$log" 2>&1 || true
  after=$(find "$work/artifacts/$target" -type f | wc -l)
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  printf '%-10s %8s %14s %10s %8s\n' "$target" "$seconds" "${runs:-?}" "${rate:-?}" "$((after - before))"
done
echo "logs and crashing inputs: $work"
