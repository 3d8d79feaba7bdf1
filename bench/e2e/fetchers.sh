#!/usr/bin/env bash
# Fetchers sharing one feed list through Kafka: polls per second and CPU
# per poll with 1, 2, then 3 fetcher processes over the same feeds.
#
#   bench/e2e/fetchers.sh
#
# A private broker is started (deploy/kafka-local/kafka.sh); the feeds are
# served by bench/e2e/feedhosts.py on HOSTS loopback addresses (most polls
# are answered 304, a new story every 50 ms keeps some at 200). For each
# count of fetchers: fresh topics, `feeds sync`, the fetchers started
# (`--stages fetch`, fetcher.feed_list = "kafka"), WARMUP seconds for the
# group to form and the first round, then WINDOW seconds measured.
#
# Environment: FEEDS (3000), HOSTS (30), INTERVAL (5: seconds between two
# polls of a feed, so FEEDS / INTERVAL polls per second are asked for),
# WARMUP (20), WINDOW (30), PROFILE (release), COUNTS ("1 2 3").
# Everything shares this machine's cores: the figures say what a fetcher
# costs per poll, and whether the asked-for rate is kept; not how far more
# machines would go (see the README's arithmetic for that).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
feeds="${FEEDS:-3000}"
hosts="${HOSTS:-30}"
interval="${INTERVAL:-5}"
warmup="${WARMUP:-20}"
window="${WINDOW:-30}"
profile="${PROFILE:-release}"
counts="${COUNTS:-1 2 3}"
. bench/lib.sh
build_wirewatch "$profile"
work="$(mktemp -d /tmp/wirewatch-fetchers.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  deploy/kafka-local/kafka.sh stop --dir "$work/kafka" >/dev/null 2>&1 || true
}
trap cleanup EXIT
brokers="$(deploy/kafka-local/kafka.sh start --dir "$work/kafka" 2>"$work/kafka.log" | sed -n 's/^KAFKA_BOOTSTRAP=//p')"
[ -n "$brokers" ] || { echo "the broker did not start: $work/kafka.log" >&2; exit 1; }
port="$(free_port)"
python3 bench/e2e/feedhosts.py --port "$port" --hosts "$hosts" --feeds "$feeds" &
pids+=($!)
per_host=$(( (feeds + hosts - 1) / hosts ))
for feed in $(seq 0 $((feeds - 1))); do
  printf '[[feed]]\nurl = "http://127.0.0.%s:%s/feeds/%s.xml"\ninterval = "%ss"\n\n' \
    "$(( feed / per_host + 2 ))" "$port" "$feed" "$interval"
done > "$work/feeds.toml"
stats() { curl -s -m 5 "http://127.0.0.2:$port/stats"; }
until stats >/dev/null; do sleep 0.1; done

config() { # config NAME PREFIX
  cat <<TOML
feeds = ["$work/feeds.toml"]
state_dir = "$work/$1/state"

[log]
level = "warn"

[fetcher]
user_agent = "$1"
feed_list = "kafka"
min_host_delay = "0s"
max_item_age = "0s"
min_interval = "1s"
adaptive = "off"

[output]
stdout = false

[bus]
kind = "kafka"

[bus.kafka]
brokers = "$brokers"
group_prefix = "$2"
partitions = 12
linger_ms = 5

[topics]
items = "$2.items"
articles = "$2.articles"
classified = "$2.classified"
dead_letter = "$2.dlq"
feed_status = ""
feeds = "$2.feeds"
feed_state = "$2.feed-state"
TOML
}

hz="$(getconf CLK_TCK)"
printf '%s feeds on %s hosts, every %s s (%s polls/s asked for), %s s measured after %s s\n' \
  "$feeds" "$hosts" "$interval" "$(( feeds / interval ))" "$window" "$warmup"
printf '%-9s %10s %14s %12s %14s %8s\n' fetchers "polls/s" "per fetcher" "304 share" "CPU ms/poll" "CPU %"
for count in $counts; do
  prefix="bench$count-$(date +%s)"
  mkdir -p "$work/admin-$count"
  config "admin-$count" "$prefix" > "$work/admin-$count.toml"
  "$bin" topics create --config "$work/admin-$count.toml" >/dev/null
  "$bin" feeds sync --config "$work/admin-$count.toml" >/dev/null
  fetchers=()
  for n in $(seq 1 "$count"); do
    name="fetcher-$count-$n"
    mkdir -p "$work/$name"
    config "$name" "$prefix" > "$work/$name.toml"
    "$bin" run --stages fetch --config "$work/$name.toml" 2>"$work/$name.log" &
    fetchers+=($!)
    pids+=($!)
  done
  sleep "$warmup"
  ticks() { local sum=0 pid; for pid in "${fetchers[@]}"; do sum=$(( sum + $(awk '{print $14 + $15}' "/proc/$pid/stat") )); done; echo "$sum"; }
  before="$(stats)"; cpu_before="$(ticks)"; started="$(now_ms)"
  sleep "$window"
  after="$(stats)"; cpu_after="$(ticks)"; elapsed=$(( $(now_ms) - started ))
  for pid in "${fetchers[@]}"; do kill -TERM "$pid"; done
  for pid in "${fetchers[@]}"; do wait "$pid" 2>/dev/null || true; done
  python3 - "$before" "$after" "$(( cpu_after - cpu_before ))" "$hz" "$elapsed" "$count" <<'PY'
import json, sys
before, after = json.loads(sys.argv[1]), json.loads(sys.argv[2])
ticks, hz, elapsed, count = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]) / 1000, int(sys.argv[6])
polls = after["requests"] - before["requests"]
cached = after["not_modified"] - before["not_modified"]
cpu = ticks / hz
print(f"{count:<9} {polls / elapsed:10.0f} {polls / elapsed / count:14.0f} {cached / max(polls, 1):12.2f} "
      f"{1000 * cpu / max(polls, 1):14.3f} {100 * cpu / elapsed:8.0f}")
PY
done
echo "work dir: $work"
