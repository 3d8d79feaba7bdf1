#!/usr/bin/env bash
# A long run on the Kafka bus: many feeds, stories arriving for MINUTES of
# wall time, the broker restarted at a third of it and the daemon killed
# (SIGKILL) and restarted at two thirds; the daemon's RSS, seen-set size,
# output lines and /readyz printed every minute; at the end every topic and
# the output reconciled with the feeds' ground truth.
#
#   bench/chaos/soak.sh [MINUTES]          (default 60)
#
# Environment: FEEDS (10000), PERIOD (600: each feed gains a story every
# 10 minutes, 16.7 stories/s over 10,000 feeds), INTERVAL (1m: every feed
# polled once a minute), PROFILE (release), TRANSACTIONAL (false),
# INSTANCE_ID (soak). All feeds are served by one local server (one host).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
minutes="${1:-60}"
feeds="${FEEDS:-10000}"
period="${PERIOD:-600}"
interval="${INTERVAL:-1m}"
profile="${PROFILE:-release}"
transactional="${TRANSACTIONAL:-false}"
instance_id="${INSTANCE_ID:-soak}"
stop_after=$((minutes * 60))
# shellcheck source=bench/chaos/lib.sh
. bench/chaos/lib.sh

chaos_setup
chaos_start daemon wirewatch.toml
daemon="$started"
began="$(now_ms)"
broker_at=$((stop_after / 3))
daemon_at=$((2 * stop_after / 3))
marks=()
echo "soak: $feeds feeds, a story per feed every ${period}s, polled every $interval, for $minutes min; work dir $work"
printf '%6s %10s %12s %10s %7s\n' minute rss_mib seen_entries out_lines readyz
broker_done=0
daemon_done=0
for minute in $(seq 1 "$minutes"); do
  target=$((began + minute * 60000))
  while [ "$(now_ms)" -lt "$target" ]; do
    elapsed=$(( ($(now_ms) - began) / 1000 ))
    if [ "$broker_done" = 0 ] && [ "$elapsed" -ge "$broker_at" ]; then
      deploy/kafka-local/kafka.sh kill --signal TERM --dir "$work/kafka" 2>>"$work/kafka.log"
      deploy/kafka-local/kafka.sh relaunch --dir "$work/kafka" 2>>"$work/kafka.log"
      marks+=(--mark "broker_back=$(now_ms)")
      broker_done=1
      echo "soak: broker restarted at ${elapsed}s"
    fi
    if [ "$daemon_done" = 0 ] && [ "$elapsed" -ge "$daemon_at" ]; then
      kill -9 "$daemon"
      wait "$daemon" 2>/dev/null || true
      chaos_start daemon wirewatch.toml
      daemon="$started"
      marks+=(--mark "daemon_restart=$(now_ms)")
      daemon_done=1
      echo "soak: daemon killed and restarted at ${elapsed}s"
    fi
    sleep 1
  done
  rss_kib="$(awk '/^VmRSS/ {print $2}' "/proc/$daemon/status" 2>/dev/null || echo 0)"
  seen="$(curl -s -m 10 "http://127.0.0.1:$metrics_port/metrics" | awk '/^wirewatch_seen_entries/ {print $2}' || true)"
  lines="$(wc -l < "$work/out.jsonl" 2>/dev/null || echo 0)"
  ready="$(tail -n 1 "$work/readyz.log" | cut -d' ' -f2)"
  printf '%6s %10s %12s %10s %7s\n' "$minute" "$((rss_kib / 1024))" "${seen:-?}" "$lines" "$ready" | tee -a "$work/minutes.txt"
done
chaos_drain
kill -TERM "$daemon" 2>/dev/null || true
wait "$daemon" 2>/dev/null || true
echo "soak: reconciling"
chaos_finish "$began" "$(now_ms)" "${marks[@]}"
