#!/bin/bash
# How many trigger datagrams per second the recorder absorbs in a storm,
# and what it costs in CPU.
#
# The limits let one snapshot through and then refuse for an hour, so what
# is measured is the steady state of a storm: read, parse, count, refuse.
# One ttsend -w blasts datagrams for STORM_SECONDS, waiting for room when
# the socket is full (in production a full socket drops the trigger in the
# sender; here the sender must keep the receiver busy, not lose work).
# Rates come from the recorder's own counters over the window, CPU from
# /proc/PID/stat (all threads). Prints figures only.
#
# usage: bench/trigger-storm.sh   (root; STORM_SECONDS=5)
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh"
# shellcheck source=lib.sh
. "$BENCH/lib.sh"
tt_need "$RECORDER" "$TTSEND"
tt_enter "$@"

STORM_SECONDS=${STORM_SECONDS:-5}
HZ=$(getconf CLK_TCK)

machine() {
	machine_line
}

# utime + stime of a process, all threads, in clock ticks. The command
# name in field 2 may hold spaces: count fields after its ')'.
cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

now_ns() { date +%s%N; }

# datagrams, and triggers refused by the rate limits (all sources).
counters() {
	cli_status | jq -r '[.counters.datagrams,
	    ([.limiter.counters[]?.rate_limited // 0] | add // 0)] | @tsv'
}

has_snapshot() { [ "$(spool_count)" -ge 1 ]; }

machine
echo "net.unix.max_dgram_qlen (this namespace): \
$(sysctl -n net.unix.max_dgram_qlen)"

tt_start_sessiond
# coalesce = 0: a refused trigger must not join the one snapshot taken.
tt_config "[limits]
cooldown = 1h
burst = 1
coalesce = 0"
tt_start_recorder

# Spend the one snapshot before the storm, so that no recording, manifest
# update or coalescing runs inside the window.
"$TTSEND" -s "$T/trigger.sock" -S warmup >/dev/null
wait_for 20 has_snapshot || bail "warm-up snapshot missing"

# Sources alternate between two names, as in a real storm from one app.
"$TTSEND" -s "$T/trigger.sock" -w -n 1000000000 -S apache,app \
    -r "storm" >"$T/ttsend.out" 2>&1 &
SENDER_PID=$!
tt_pids="$tt_pids $SENDER_PID"
sleep 0.2	# past the sender's start-up, into the steady state

read -r d0 r0 <<<"$(counters)"
rc0=$(cpu_ticks "$RECORDER_PID")
sc0=$(cpu_ticks "$SENDER_PID")
t0=$(now_ns)
sleep "$STORM_SECONDS"
read -r d1 r1 <<<"$(counters)"
rc1=$(cpu_ticks "$RECORDER_PID")
sc1=$(cpu_ticks "$SENDER_PID")
t1=$(now_ns)
kill -TERM "$SENDER_PID"
wait "$SENDER_PID" 2>/dev/null
tt_pids=${tt_pids/ $SENDER_PID/}

awk -v d=$((d1 - d0)) -v r=$((r1 - r0)) -v ns=$((t1 - t0)) -v hz="$HZ" \
    -v rc=$((rc1 - rc0)) -v sc=$((sc1 - sc0)) 'BEGIN {
	s = ns / 1e9
	printf "\nwindow:            %.2f s, 1 sender (ttsend -w)\n", s
	printf "datagrams/s:       %.0f\n", d / s
	printf "rate-limited/s:    %.0f\n", r / s
	printf "recorder CPU:      %.0f %% of one CPU (%.2f us per datagram)\n",
	    100 * rc / hz / s, (d > 0 ? 1e6 * rc / hz / d : 0)
	printf "sender CPU:        %.0f %% of one CPU\n", 100 * sc / hz / s
}'
echo "snapshots recorded: $(status_field .counters.snapshots_recorded)," \
    "recorder RSS after: $(awk '/^VmRSS/ { print $2, $3 }' \
    "/proc/$RECORDER_PID/status")"
