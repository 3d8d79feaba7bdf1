#!/usr/bin/env bash
# One fault against the whole Kafka pipeline, reconciled with ground truth.
#
#   bench/chaos/run.sh FAULT [OUTAGE_SECONDS]
#
# FAULT is one of
#   none            no fault (the baseline)
#   broker-term     the broker is stopped (SIGTERM) and started again at once
#   broker-kill     the broker is killed (SIGKILL) and started again at once
#   broker-outage   the broker is stopped for OUTAGE_SECONDS (default 30), then started
#   daemon-kill     the daemon is killed (SIGKILL) and restarted, 5 times, 8 s apart
#   clean-kill      the clean stage runs in a second process; it is killed and restarted
#
# A private broker (deploy/kafka-local/kafka.sh), bench/chaos/feedserver.py
# (FEEDS feeds, one new story per feed every PERIOD seconds, a truth log),
# and wirewatch with every stage (Kafka bus, local JSON lines output,
# /readyz polled every second). Stories are added for WARM s before the
# fault and AFTER s after it; then the pipeline drains, is stopped, and
# examples/reconcile.rs reads every topic and the output: missing and
# repeated stories per source, and how long after each mark (broker back,
# process restarted) the first record came.
#
# Environment: FEEDS (20), PERIOD (4), WARM (20), AFTER (30), PROFILE
# (release or debug), TRANSACTIONAL (false), INSTANCE_ID (empty: no static
# membership). Prints a summary; the work directory (logs, truth,
# reconcile.jsonl) is kept and named at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
fault="${1:?usage: bench/chaos/run.sh none|broker-term|broker-kill|broker-outage|daemon-kill|clean-kill [OUTAGE_SECONDS]}"
outage="${2:-30}"
feeds="${FEEDS:-20}"
period="${PERIOD:-4}"
warm="${WARM:-20}"
after="${AFTER:-30}"
profile="${PROFILE:-release}"
transactional="${TRANSACTIONAL:-false}"
instance_id="${INSTANCE_ID:-}"
interval=1s
case "$fault" in
  none|broker-term|broker-kill|clean-kill) span=20 ;;
  broker-outage) span="$outage" ;;
  daemon-kill) span=40 ;;
  *) echo "run.sh: unknown fault $fault" >&2; exit 2 ;;
esac
stop_after=$((warm + span + after))
# shellcheck source=bench/chaos/lib.sh
. bench/chaos/lib.sh

chaos_setup
main_stages=()
[ "$fault" = clean-kill ] && main_stages=(--stages fetch,classify)
chaos_start daemon wirewatch.toml "${main_stages[@]}"
daemon="$started"
if [ "$fault" = clean-kill ]; then
  chaos_start cleaner second.toml --stages clean
  cleaner="$started"
fi

sleep "$warm"
marks=()
fault_start="$(now_ms)"
case "$fault" in
  none) sleep "$span" ;;
  broker-term|broker-kill|broker-outage)
    signal=TERM
    [ "$fault" = broker-kill ] && signal=KILL
    deploy/kafka-local/kafka.sh kill --signal "$signal" --dir "$work/kafka" 2>>"$work/kafka.log"
    [ "$fault" = broker-outage ] && sleep "$outage"
    deploy/kafka-local/kafka.sh relaunch --dir "$work/kafka" 2>>"$work/kafka.log"
    marks+=(--mark "broker_back=$(now_ms)")
    [ "$fault" = broker-outage ] || sleep "$span"
    ;;
  daemon-kill)
    for round in 1 2 3 4 5; do
      kill -9 "$daemon"
      wait "$daemon" 2>/dev/null || true
      chaos_start daemon wirewatch.toml
      daemon="$started"
      marks+=(--mark "restart_$round=$(now_ms)")
      sleep 8
    done
    ;;
  clean-kill)
    kill -9 "$cleaner"
    wait "$cleaner" 2>/dev/null || true
    chaos_start cleaner second.toml --stages clean
    cleaner="$started"
    marks+=(--mark "cleaner_restart=$(now_ms)")
    sleep "$span"
    ;;
esac
fault_end="$(now_ms)"
sleep "$after"
chaos_drain
for pid in "$daemon" ${cleaner:+"$cleaner"}; do
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
echo "fault: $fault (transactional=$transactional, instance_id=${instance_id:-none})"
chaos_finish "$fault_start" "$((fault_end + 15000))" "${marks[@]}"
