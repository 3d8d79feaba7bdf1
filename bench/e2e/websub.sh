#!/usr/bin/env bash
# End-to-end latency of WebSub-pushed feeds: from the hub's push to the
# story's classification, on the memory bus or through Kafka.
#
#   bench/e2e/websub.sh [memory|kafka]          (default memory)
#
# On Kafka a private broker is started (deploy/kafka-local/kafka.sh), the
# topics created, and the pushes begin once every stage's consumer holds
# its partitions (seen in /metrics); how long that took after the daemon
# started is printed too (the start-up latency).
#
# Environment: FEEDS (10 feeds, each subscribed at bench/e2e/websubhub.py),
# PUSHES (500), GAP (0.1: seconds between two pushes, round robin over the
# feeds), PROFILE (release). Feeds are polled once an hour, so only the
# pushes bring stories in.
# Prints median / p90 / p99 / max of push -> discovered (the callback:
# signature, parse, dedup), discovered -> classified (page fetch, clean,
# classify, bus) and push -> classified, and the daemon's CPU seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bus="${1:-memory}"
feeds="${FEEDS:-10}"
pushes="${PUSHES:-500}"
gap="${GAP:-0.1}"
profile="${PROFILE:-release}"
# free_port, and chaos_pids killed on exit
. bench/chaos/lib.sh
build_wirewatch "$profile"
work="$(mktemp -d /tmp/wirewatch-websub.XXXXXX)"
trap chaos_cleanup EXIT
port="$(free_port)"
listen="$(free_port)"
brokers=""
if [ "$bus" = kafka ]; then
  brokers="$(deploy/kafka-local/kafka.sh start --dir "$work/kafka" 2>"$work/kafka.log" | sed -n 's/^KAFKA_BOOTSTRAP=//p')"
  [ -n "$brokers" ] || { echo "the broker did not start: $work/kafka.log" >&2; exit 1; }
fi
for feed in $(seq 0 $((feeds - 1))); do
  printf '[[feed]]\nurl = "http://127.0.0.1:%s/feed/%s.xml"\ninterval = "1h"\n\n' "$port" "$feed"
done > "$work/feeds.toml"
cat > "$work/wirewatch.toml" <<TOML
feeds = ["feeds.toml"]
state_dir = "state"

[fetcher]
allow_private_addresses = ["127.0.0.1"]
min_host_delay = "0s"
max_item_age = "0s"
min_interval = "1s"
max_concurrent_requests = 64
max_concurrent_requests_per_host = 64

[metrics]
listen = "127.0.0.1:$listen"

[websub]
enabled = true
public_url = "http://127.0.0.1:$listen"

$(if [ "$bus" = kafka ]; then printf '[bus]\nkind = "kafka"\n\n[bus.kafka]\nbrokers = "%s"\ngroup_prefix = "bench"\npartitions = 4\nlinger_ms = 1\n' "$brokers"; else printf '[bus]\nkind = "memory"\n'; fi)

[output]
stdout = false
jsonl = "out.jsonl"
include = "all"
TOML
if [ "$bus" = kafka ]; then
  "$bin" topics create --config "$work/wirewatch.toml" >/dev/null
fi
python3 bench/e2e/websubhub.py --port "$port" --feeds "$feeds" --pushes "$pushes" --gap "$gap" \
  --truth "$work/truth.jsonl" --start-when "$work/go" &
hub=$!
chaos_pids+=("$hub")
sleep 0.5
started_ms="$(now_ms)"
"$bin" run --config "$work/wirewatch.toml" 2>"$work/daemon.log" &
daemon=$!
chaos_pids+=("$daemon")
startup="-"
if [ "$bus" = kafka ]; then
  # Every stage's consumer reports its partitions' lag once it holds them.
  until curl -s -m 2 "http://127.0.0.1:$listen/metrics" \
      | awk '/^wirewatch_consumer_lag_messages/ { split($0, a, "stage=\""); split(a[2], b, "\""); seen[b[1]] = 1 }
             END { exit !(seen["clean"] && seen["classify"] && seen["output"]) }'; do
    sleep 0.05
    if [ $(( $(now_ms) - started_ms )) -gt 120000 ]; then echo "stages never assigned" >&2; exit 1; fi
  done
  startup="$(( $(now_ms) - started_ms )) ms"
fi
touch "$work/go"
wait "$hub"
cpu_ticks="$(awk '{print $14 + $15}' "/proc/$daemon/stat")"
kill -TERM "$daemon"
wait "$daemon" 2>/dev/null || true
python3 - "$work" "$cpu_ticks" "$(getconf CLK_TCK)" "$feeds" "$gap" "$bus" "$startup" <<'PY'
import sys
sys.path.insert(0, "bench/e2e")
from stats import first_outputs, quantiles, truth_times
work, ticks, hz, feeds, gap, bus, startup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
pushed = truth_times(f"{work}/truth.jsonl", "pushed_ms")

callback, processing, total = [], [], []
for guid, discovered, classified in first_outputs(f"{work}/out.jsonl", pushed):
    callback.append(discovered - pushed[guid])
    processing.append(classified - discovered)
    total.append(classified - pushed[guid])

if bus == "kafka":
    print(f"kafka: every stage held its partitions {startup} after the daemon started")
print(f"websub, {bus} bus, {feeds} feeds, a push every {gap} s: {len(total)} of {len(pushed)} pushed stories classified, "
      f"daemon CPU {ticks / hz:.2f} s")
if total:
    print(f"  push -> discovered       {quantiles(callback)}")
    print(f"  discovered -> classified {quantiles(processing)}")
    print(f"  push -> classified       {quantiles(total)}")
PY
echo "work dir: $work"
