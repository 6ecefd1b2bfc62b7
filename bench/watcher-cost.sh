#!/bin/bash
# What the watchers cost: the recorder's CPU time per second of wall time
# with the system CPU watcher, $PROCS process watchers and $CGROUPS cgroup
# watchers, all ticking every second, on a machine with $IDLE extra idle
# processes started here (the process rescan reads the comm of every one
# of them every [trigger] process_rescan, 10 s by default). Next to it,
# the same recorder with no watcher at all, so the watchers' share shows.
#
# Each process watcher matches one of the idle processes by name (a
# symlink to sleep(1) named ttwNN); each cgroup watcher reads the
# cpu.stat of an empty cgroup v2 directory made here (under
# /sys/fs/cgroup/unified on a hybrid host, else /sys/fs/cgroup). CPU time
# is utime + stime of the recorder, all threads, from /proc/PID/stat, over
# $SECONDS_IDLE s after a 3 s settle; 1 tick = 10 ms, so 60 s resolve
# 0.017 %. The session health check runs at its default, every 2 s, in
# both runs. Figures only.
#
# usage: bench/watcher-cost.sh   (root; IDLE=2000 PROCS=50 CGROUPS=5
#        SECONDS_IDLE=60 RESCAN=10s)
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh" 2>/dev/null
tt_need "$RECORDER"
tt_enter "$@"

IDLE=${IDLE:-2000}
PROCS=${PROCS:-50}
CGROUPS=${CGROUPS:-5}
SECONDS_IDLE=${SECONDS_IDLE:-60}
RESCAN=${RESCAN:-10s}
HZ=$(getconf CLK_TCK)

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' \
    /proc/cpuinfo | head -1), kernel $(uname -r), $(date -u +%FT%TZ)"

if [ -f /sys/fs/cgroup/unified/cgroup.procs ]; then
	CG_ROOT=/sys/fs/cgroup/unified CG_PREFIX=unified/
else
	CG_ROOT=/sys/fs/cgroup CG_PREFIX=
fi
cgroups=""
cleanup_cgroups() {
	local c
	for c in $cgroups; do rmdir "$CG_ROOT/$c" 2>/dev/null; done
}
trap 'cleanup_cgroups; tt_cleanup' EXIT
for i in $(seq 1 "$CGROUPS"); do
	c=tracetrap-bench-$$-$i
	mkdir "$CG_ROOT/$c" || bail "cannot make cgroup $CG_ROOT/$c"
	cgroups="$cgroups $c"
done

# The idle processes: PROCS named ttwNN, the rest plain sleep.
mkdir -p "$T/bin"
for i in $(seq -w 1 "$PROCS"); do
	ln -s "$(command -v sleep)" "$T/bin/ttw$i"
done
n=0
for i in $(seq -w 1 "$PROCS"); do
	"$T/bin/ttw$i" 3600 & tt_pids="$tt_pids $!"
	n=$((n + 1))
done
while [ "$n" -lt "$IDLE" ]; do
	sleep 3600 & tt_pids="$tt_pids $!"
	n=$((n + 1))
done
echo "processes: $IDLE idle started here ($PROCS of them named ttw01..), " \
    "$(ls -d /proc/[0-9]* | wc -l) in all"

tt_start_sessiond

# cpu PID: utime + stime in ticks.
cpu() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# measure LABEL: the running recorder's CPU over SECONDS_IDLE s.
measure() {
	local c0 c1
	sleep 3
	c0=$(cpu "$RECORDER_PID")
	sleep "$SECONDS_IDLE"
	c1=$(cpu "$RECORDER_PID")
	awk -v l="$1" -v d=$((c1 - c0)) -v hz="$HZ" -v s="$SECONDS_IDLE" \
	    -v rss="$(rss_kb "$RECORDER_PID")" 'BEGIN {
	    printf "%-44s %6.3f %% of one core  (%d ticks in %d s, %.2f ms/s)  RSS %.1f MB\n",
		l, d * 100 / hz / s, d, s, d * 1000 / hz / s, rss / 1024 }'
}

# config: tt_config, with the session's health check at its default
# (tests check every 200 ms; the bench measures what a node runs).
config() {
	tt_config "$1"
	sed -i 's/^check_interval = 200ms$/check_interval = 2s/' \
	    "$T/recorder.conf"
}

config "[trigger]
process_rescan = $RESCAN"
tt_start_recorder
measure "no watchers"
tt_stop_recorder

{
	echo "[trigger]"
	echo "process_rescan = $RESCAN"
	echo "[trigger.cpu.system]"
	echo "threshold = 99"
	echo "interval = 1s"
	for i in $(seq -w 1 "$PROCS"); do
		echo "[trigger.cpu.p$i]"
		echo "target = process:ttw$i"
		echo "threshold = 99"
		echo "interval = 1s"
	done
	for c in $cgroups; do
		echo "[trigger.cpu.$c]"
		echo "target = cgroup:$CG_PREFIX$c"
		echo "threshold = 99"
		echo "interval = 1s"
	done
} >"$T/watchers.ini"
config "$(cat "$T/watchers.ini")"
tt_start_recorder
w=$(status_field '.watchers | length')
m=$(status_field '[.watchers[] | select(.processes == 1)] | length')
measure "1 system + $PROCS process + $CGROUPS cgroup watchers"
echo "  ($w watchers running, $m process watchers matched one process each;" \
    "rescan every $RESCAN over $(ls -d /proc/[0-9]* | wc -l) processes;" \
    "$(status_field '[.watchers[].samples] | add') samples taken)"
tt_stop_recorder
