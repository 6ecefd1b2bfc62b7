#!/bin/bash
# What an idle recorder costs the node: CPU, wake-ups and memory while
# nothing triggers, with the default health-check interval (2s; the tests'
# tt_config uses 200ms). lttng-sessiond and its consumer daemons, which any
# LTTng flight recorder needs, are measured over the same window for scale.
# No traced application runs: this is the floor. Prints figures only.
#
# usage: bench/idle-cost.sh   (root; IDLE_SECONDS=60)
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh"
# shellcheck source=lib.sh
. "$BENCH/lib.sh"
tt_need "$RECORDER"
tt_enter "$@"

IDLE_SECONDS=${IDLE_SECONDS:-60}
HZ=$(getconf CLK_TCK)

machine() {
	machine_line
}

# utime + stime of a process, all threads, in clock ticks. The command
# name in field 2 may hold spaces: count fields after its ')'.
cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# Context switches of all threads: each is a wake-up, the idle cost that
# CPU time rounds away.
switches() {
	cat /proc/"$1"/task/*/status 2>/dev/null | awk \
	    '/^(non)?voluntary_ctxt_switches/ { n += $2 } END { print n + 0 }'
}

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

consumerd_pids() {
	local pid
	for pid in $(pgrep -x lttng-consumerd); do
		[ "$(readlink "/proc/$pid/ns/mnt")" = \
		    "$(readlink /proc/self/ns/mnt)" ] && echo "$pid"
	done
}

machine
tt_start_sessiond
tt_config ""
sed -i 's/^check_interval = .*/check_interval = 2s/' "$T/recorder.conf"
tt_start_recorder
SESSIOND_PID=$(tt_sessiond_pid | head -1)
# The session's consumer daemons start with it; let start-up settle first.
sleep 3
CONSUMERD_PIDS=$(consumerd_pids)

names="recorder sessiond"
declare -A pid=([recorder]=$RECORDER_PID [sessiond]=$SESSIOND_PID)
for p in $CONSUMERD_PIDS; do
	names="$names consumerd:$p"
	pid[consumerd:$p]=$p
done

declare -A c0 w0
for n in $names; do
	c0[$n]=$(cpu_ticks "${pid[$n]}")
	w0[$n]=$(switches "${pid[$n]}")
done
t0=$(date +%s%N)
sleep "$IDLE_SECONDS"
t1=$(date +%s%N)

printf '\nidle window: %.1f s, check_interval 2s, no traced application\n' \
    "$(awk -v ns=$((t1 - t0)) 'BEGIN { print ns / 1e9 }')"
printf '%-20s %10s %12s %10s\n' process "CPU %" "wake-ups/s" "RSS kB"
for n in $names; do
	awk -v name="$n" -v c=$(( $(cpu_ticks "${pid[$n]}") - c0[$n] )) \
	    -v w=$(( $(switches "${pid[$n]}") - w0[$n] )) -v hz="$HZ" \
	    -v ns=$((t1 - t0)) -v rss="$(rss_kb "${pid[$n]}")" 'BEGIN {
		s = ns / 1e9
		printf "%-20s %10.3f %12.1f %10d\n", name, 100 * c / hz / s,
		    w / s, rss
	}'
done
echo "CPU % is of one CPU, from utime+stime at ${HZ} Hz ticks: a resolution"
echo "of $(awk -v hz="$HZ" -v s="$IDLE_SECONDS" \
    'BEGIN { printf "%.3f", 100 / hz / s }') % over this window."
