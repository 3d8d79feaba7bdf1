#!/usr/bin/env bash
# End-to-end latency of WebSub-pushed feeds: from the hub's push to the
# story's classification, on the memory bus.
#
#   bench/e2e/websub.sh
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
feeds="${FEEDS:-10}"
pushes="${PUSHES:-500}"
gap="${GAP:-0.1}"
profile="${PROFILE:-release}"
# free_port, and chaos_pids killed on exit
. bench/chaos/lib.sh
if [ "$profile" = release ]; then cargo build --quiet --release --bin wirewatch; else cargo build --quiet --bin wirewatch; fi
bin="$CARGO_TARGET_DIR/$profile/wirewatch"
work="$(mktemp -d /tmp/wirewatch-websub.XXXXXX)"
trap chaos_cleanup EXIT
port="$(free_port)"
listen="$(free_port)"
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

[bus]
kind = "memory"

[output]
stdout = false
jsonl = "out.jsonl"
include = "all"
TOML
python3 bench/e2e/websubhub.py --port "$port" --feeds "$feeds" --pushes "$pushes" --gap "$gap" \
  --truth "$work/truth.jsonl" &
hub=$!
chaos_pids+=("$hub")
sleep 0.5
"$bin" run --config "$work/wirewatch.toml" 2>"$work/daemon.log" &
daemon=$!
chaos_pids+=("$daemon")
wait "$hub"
cpu_ticks="$(awk '{print $14 + $15}' "/proc/$daemon/stat")"
kill -TERM "$daemon"
wait "$daemon" 2>/dev/null || true
python3 - "$work" "$cpu_ticks" "$(getconf CLK_TCK)" "$feeds" "$gap" <<'PY'
import sys
sys.path.insert(0, "bench/e2e")
from stats import first_outputs, quantiles, truth_times
work, ticks, hz, feeds, gap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
pushed = truth_times(f"{work}/truth.jsonl", "pushed_ms")

callback, processing, total = [], [], []
for guid, discovered, classified in first_outputs(f"{work}/out.jsonl", pushed):
    callback.append(discovered - pushed[guid])
    processing.append(classified - discovered)
    total.append(classified - pushed[guid])

print(f"websub, memory bus, {feeds} feeds, a push every {gap} s: {len(total)} of {len(pushed)} pushed stories classified, "
      f"daemon CPU {ticks / hz:.2f} s")
if total:
    print(f"  push -> discovered       {quantiles(callback)}")
    print(f"  discovered -> classified {quantiles(processing)}")
    print(f"  push -> classified       {quantiles(total)}")
PY
echo "work dir: $work"
