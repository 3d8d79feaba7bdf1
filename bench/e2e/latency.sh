#!/usr/bin/env bash
# End-to-end latency of polled feeds: from the moment a story joins its
# feed to its classification, through the memory bus or Kafka.
#
#   bench/e2e/latency.sh [memory|kafka]          (default memory)
#
# Environment: FEEDS (40), PERIOD (4: each feed gains a story every 4 s, so
# 40 feeds give one story every 100 ms), INTERVAL (1s: every feed's poll
# interval), SECONDS_RUN (60), PROFILE (release), ADAPTIVE (faster),
# WARMUP (10: stories that joined their feed in the first 10 s, while the
# daemon starts and, on Kafka, its consumer groups join, are reported
# apart).
# Prints median / p90 / p99 / max of: appeared -> discovered (waiting for
# the poll), discovered -> classified (fetch page, clean, classify, bus),
# appeared -> classified (what a user sees), and the process's CPU seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bus="${1:-memory}"
feeds="${FEEDS:-40}"
period="${PERIOD:-4}"
interval="${INTERVAL:-1s}"
run_for="${SECONDS_RUN:-60}"
profile="${PROFILE:-release}"
adaptive="${ADAPTIVE:-faster}"
warmup="${WARMUP:-10}"
. bench/lib.sh
build_wirewatch "$profile"
work="$(mktemp -d /tmp/wirewatch-e2e.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ "$bus" = kafka ] && deploy/kafka-local/kafka.sh stop --dir "$work/kafka" >/dev/null 2>&1 || true
}
trap cleanup EXIT
port="$(free_port)"
python3 bench/chaos/feedserver.py --port "$port" --feeds "$feeds" --period "$period" \
  --stop-after "$run_for" --truth "$work/truth.jsonl" &
pids+=($!)
for feed in $(seq 0 $((feeds - 1))); do
  printf '[[feed]]\nurl = "http://127.0.0.1:%s/feed/%s.xml"\ninterval = "%s"\n\n' "$port" "$feed" "$interval"
done > "$work/feeds.toml"
bus_table='[bus]
kind = "memory"'
if [ "$bus" = kafka ]; then
  brokers="$(deploy/kafka-local/kafka.sh start --dir "$work/kafka" 2>"$work/kafka.log" | sed -n 's/^KAFKA_BOOTSTRAP=//p')"
  prefix="e2e$(date +%s)"
  bus_table="[bus]
kind = \"kafka\"

[bus.kafka]
brokers = \"$brokers\"
group_prefix = \"$prefix\"
instance_id = \"e2e\"

[topics]
items = \"$prefix.items\"
articles = \"$prefix.articles\"
classified = \"$prefix.classified\"
dead_letter = \"$prefix.dlq\"
[topics.flagged]
ARMS_TRANSFER = \"$prefix.flagged.arms-transfer\"
SANCTIONS = \"$prefix.flagged.sanctions\""
fi
cat > "$work/wirewatch.toml" <<TOML
feeds = ["feeds.toml"]
state_dir = "state"

[fetcher]
allow_private_addresses = ["127.0.0.1"]
min_host_delay = "0s"
max_item_age = "0s"
min_interval = "1s"
adaptive = "$adaptive"
max_concurrent_requests = 64
max_concurrent_requests_per_host = 64

$bus_table

[output]
stdout = false
jsonl = "out.jsonl"
include = "all"
TOML
[ "$bus" = kafka ] && "$bin" topics create --config "$work/wirewatch.toml" >/dev/null
"$bin" run --config "$work/wirewatch.toml" 2>"$work/daemon.log" &
daemon=$!
pids+=("$daemon")
sleep "$run_for"
sleep 5
cpu_ticks="$(awk '{print $14 + $15}' "/proc/$daemon/stat")"
kill -TERM "$daemon"
wait "$daemon" 2>/dev/null || true
python3 - "$work" "$cpu_ticks" "$(getconf CLK_TCK)" "$bus" "$interval" "$adaptive" "$warmup" <<'PY'
import sys
sys.path.insert(0, "bench/e2e")
from stats import first_outputs, quantiles, truth_times
work, ticks, hz, bus, interval, adaptive, warmup = (
    sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], float(sys.argv[7]))
appeared = truth_times(f"{work}/truth.jsonl", "appeared_ms")

start = min(appeared.values(), default=0)
waits, processing, total, early = [], [], [], []
for guid, discovered, classified in first_outputs(f"{work}/out.jsonl", appeared):
    if appeared[guid] < start + warmup:
        early.append(classified - appeared[guid])
        continue
    waits.append(discovered - appeared[guid])
    processing.append(classified - discovered)
    total.append(classified - appeared[guid])

print(f"bus {bus}, interval {interval}, adaptive {adaptive}: {len(total) + len(early)} of {len(appeared)} stories classified, "
      f"daemon CPU {ticks / hz:.2f} s; {len(total)} after the first {warmup:g} s:")
if total:
    print(f"  appeared -> discovered   {quantiles(waits)}")
    print(f"  discovered -> classified {quantiles(processing)}")
    print(f"  appeared -> classified   {quantiles(total)}")
if early:
    print(f"  first {warmup:g} s ({len(early)} stories), appeared -> classified: {quantiles(early)}")
PY
echo "work dir: $work"
