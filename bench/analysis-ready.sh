#!/bin/bash
# How soon after its ACK a snapshot's summary is in the relay's catalog:
# a recorder with 1M x 8 rings (8 MiB per CPU), an application that fills
# CPU 0's ring before each snapshot, the relay over mutual TLS with its
# analysis at its defaults (one thread, nice 10, a child process per
# snapshot). The figure is the relay's own (/v1/status
# analysis.ready_after_ack_ms: ACK sent -> summary.json written and
# indexed), over ROUNDS snapshots taken one after the other.
# Prints figures only.
#
# usage: bench/analysis-ready.sh   (root; ROUNDS=20)
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh"
tt_need "$RELAY" "$RECORDER" "$CLI" "$TTAPP"
tt_enter "$@"
ROUNDS=${ROUNDS:-20}

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' \
    /proc/cpuinfo | head -1), kernel $(uname -r), $(date -u +%FT%TZ)"
tt_certs testnode
tt_relay_config ""
tt_start_relay
tt_start_sessiond
tt_config "[limits]
cooldown = 0
burst = 0
max_per_day = 0
coalesce = 0
$(tt_relay_section testnode)"
sed -i 's/^subbuf_size = .*/subbuf_size = 1M/; s/^subbuf_count = .*/subbuf_count = 8/' \
    "$T/recorder.conf"
tt_start_recorder
api() { curl -s "http://127.0.0.1:$RELAY_API_PORT$1"; }

bytes=0
for i in $(seq "$ROUNDS"); do
	taskset -c 0 "$TTAPP" 400000 "$T/app.state" 0 >/dev/null 2>&1
	"$CLI" snapshot --wait --reason "round $i" --socket "$T/control.sock" \
	    >/dev/null || { echo "snapshot $i failed" >&2; exit 1; }
	wait_until 60 '[ "$(api /v1/status | jq .analysis.done)" -ge '"$i"' ]' ||
	    { echo "summary $i never came" >&2; exit 1; }
done
bytes=$(api "/v1/snapshots?limit=1" | jq '.snapshots[0].bytes')
events=$(api "/v1/snapshots?limit=1" | jq '.snapshots[0].events')
api /v1/status | jq -r --arg b "$bytes" --arg e "$events" '.analysis |
    "\(.done) snapshots of \($b | tonumber / 1e6 | . * 10 | floor / 10) MB " +
    "(\($e) events each): summary ready after the ACK p50 " +
    "\(.ready_after_ack_ms.p50) ms, p99 \(.ready_after_ack_ms.p99) ms, " +
    "max \(.ready_after_ack_ms.max) ms (histogram buckets: within 6 %)"'
