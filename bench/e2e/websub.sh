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
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/wirewatch/target}"
if [ "$profile" = release ]; then cargo build --quiet --release --bin wirewatch; else cargo build --quiet --bin wirewatch; fi
bin="$CARGO_TARGET_DIR/$profile/wirewatch"
work="$(mktemp -d /tmp/wirewatch-websub.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
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
pids+=("$hub")
sleep 0.5
"$bin" run --config "$work/wirewatch.toml" 2>"$work/daemon.log" &
daemon=$!
pids+=("$daemon")
wait "$hub"
cpu_ticks="$(awk '{print $14 + $15}' "/proc/$daemon/stat")"
kill -TERM "$daemon"
wait "$daemon" 2>/dev/null || true
python3 - "$work" "$cpu_ticks" "$(getconf CLK_TCK)" "$feeds" "$gap" <<'PY'
import json, sys
from datetime import datetime
work, ticks, hz, feeds, gap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
pushed = {}
for line in open(f"{work}/truth.jsonl"):
    record = json.loads(line)
    pushed.setdefault(record["guid"], record["pushed_ms"] / 1000)

def seconds(stamp):
    head, _, rest = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(head + "." + (rest + "000000")[:6] + "+00:00").timestamp()

callback, processing, total, seen = [], [], [], set()
for line in open(f"{work}/out.jsonl"):
    record = json.loads(line)
    item = record["article"]["item"]
    guid = item["guid"]
    if guid in seen or guid not in pushed:
        continue
    seen.add(guid)
    discovered = seconds(item["discovered_at"])
    classified = seconds(record["classification"]["classified_at"])
    callback.append(discovered - pushed[guid])
    processing.append(classified - discovered)
    total.append(classified - pushed[guid])

def quantiles(values):
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]
    return f"median {pick(0.5)*1000:7.1f} ms  p90 {pick(0.9)*1000:7.1f} ms  p99 {pick(0.99)*1000:7.1f} ms  max {values[-1]*1000:7.1f} ms"

print(f"websub, memory bus, {feeds} feeds, a push every {gap} s: {len(total)} of {len(pushed)} pushed stories classified, "
      f"daemon CPU {ticks / hz:.2f} s")
if total:
    print(f"  push -> discovered       {quantiles(callback)}")
    print(f"  discovered -> classified {quantiles(processing)}")
    print(f"  push -> classified       {quantiles(total)}")
PY
echo "work dir: $work"
