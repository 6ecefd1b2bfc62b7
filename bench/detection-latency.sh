#!/bin/bash
# Detection latency of the watchers: load starts -> the recorder has the
# trigger, for
#   cpu   a process watcher (threshold 50 % of one CPU, sustain $SUSTAIN,
#         interval $INTERVAL) on a burner that exists beforehand, stopped
#         (SIGSTOP), so the load starts at its SIGCONT and not at a rescan;
#   psi   a kernel PSI trigger (cpu, some, stall $PSI_STALL within 2 s),
#         with 3 burners per CPU let go at once.
# "Load starts" is the time just before the SIGCONT (date +%s%6N); the
# trigger's time is its received_at_us in the snapshot's manifest (the
# recorder's clock, the same machine). The goal for cpu is sustain + one
# interval; the figure minus sustain is what the watcher adds. Between
# runs the load stops and the watcher re-arms (cpu) or the pressure dies
# down (psi, $PSI_REST s). Percentiles are nearest rank. Figures only.
#
# usage: bench/detection-latency.sh   (root; RUNS=20 PSI_RUNS=10
#        SUSTAIN=1s INTERVAL=1s PSI_STALL=100ms PSI_REST=8)
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh" 2>/dev/null
tt_need "$RECORDER"
tt_enter "$@"

RUNS=${RUNS:-20}
PSI_RUNS=${PSI_RUNS:-10}
SUSTAIN=${SUSTAIN:-1s}
INTERVAL=${INTERVAL:-1s}
PSI_STALL=${PSI_STALL:-100ms}
PSI_REST=${PSI_REST:-8}

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' \
    /proc/cpuinfo | head -1), kernel $(uname -r), $(date -u +%FT%TZ)"

ln -s "$(command -v yes)" "$T/ttlat"
# stopped_burner: a burner, stopped; its pid in $burner.
stopped_burner() {
	"$T/ttlat" >/dev/null &
	burner=$!
	tt_pids="$tt_pids $burner"
	# Stopped after its exec, or it would be matched as "bash".
	wait_for 10 grep -qx ttlat "/proc/$burner/comm" ||
	    bail "the burner did not start"
	kill -STOP "$burner"
}

now_us() { date +%s%6N; }
# The received_at_us of the newest trigger of SOURCE in the spool, or "".
last_trigger_us() {
	jq -r --arg s "$1" '.triggers[] | select(.source == $s) |
	    .received_at_us' "$T"/spool/*/manifest.json 2>/dev/null |
	    sort -n | tail -1
}
count_source() {
	jq -r --arg s "$1" '.triggers[] | select(.source == $s) | .source' \
	    "$T"/spool/*/manifest.json 2>/dev/null | wc -l
}
# summary LABEL < microseconds: p50 / p99 / max in ms.
summary() {
	sort -n | awk -v l="$1" '{ v[NR] = $1 } END {
	    if (NR == 0) { printf "%-34s no sample\n", l; exit }
	    p50 = v[int(NR * 0.50 + 0.999)]; p99 = v[int(NR * 0.99 + 0.999)]
	    printf "%-34s %8.1f / %8.1f / %8.1f ms  (%d runs)\n", l,
		p50 / 1000, p99 / 1000, v[NR] / 1000, NR }'
}

tt_start_sessiond
stopped_burner
cpu_burner=$burner
psi_burners=""
for i in $(seq 1 $(( $(nproc) * 3 ))); do
	stopped_burner
	psi_burners="$psi_burners $burner"
done
psi_section="[trigger.psi.cpu]
resource = cpu
stall = $PSI_STALL
window = 2s"
tt_config "[limits]
cooldown = 0
burst = 0
max_per_day = 0
coalesce = 0
[trigger]
process_rescan = 1s
[trigger.cpu.lat]
target = process:ttlat
threshold = 50
rearm = 10
sustain = $SUSTAIN
interval = $INTERVAL
$psi_section"
if ! "$RECORDER" -n -f "$T/recorder.conf" >"$T/check.out" 2>&1; then
	grep -q 'trigger.psi' "$T/check.out" ||
	    bail "configuration refused: $(cat "$T/check.out")"
	echo "psi: not measured, the kernel refuses its triggers here:" \
	    "$(cat "$T/check.out")"
	sed -i '/^\[trigger.psi.cpu\]/,$d' "$T/recorder.conf"
	PSI_RUNS=0
fi
tt_start_recorder
watcher() { status_field ".watchers[] | select(.name == \"$1\") | $2"; }

# The burners stopped: both the cpu watcher and PSI settle first.
sleep 3
: >"$T/cpu.txt"
for i in $(seq 1 "$RUNS"); do
	n=$(count_source cpu)
	t0=$(now_us)
	kill -CONT "$cpu_burner"
	wait_until 30 "[ \$(count_source cpu) -gt $n ]" ||
	    bail "cpu run $i: no trigger"
	echo $(( $(last_trigger_us cpu) - t0 )) >>"$T/cpu.txt"
	kill -STOP "$cpu_burner"
	wait_until 30 '[ "$(watcher lat .state)" = armed ]' ||
	    bail "cpu run $i: did not re-arm"
done

: >"$T/psi.txt"
for i in $(seq 1 "$PSI_RUNS"); do
	sleep "$PSI_REST"
	n=$(count_source psi)
	t0=$(now_us)
	# shellcheck disable=SC2086
	kill -CONT $psi_burners
	if wait_until 30 "[ \$(count_source psi) -gt $n ]"; then
		echo $(( $(last_trigger_us psi) - t0 )) >>"$T/psi.txt"
	else
		echo "psi run $i: no trigger within 30 s"
	fi
	# shellcheck disable=SC2086
	kill -STOP $psi_burners
done

echo
echo "load start -> trigger in the recorder, p50 / p99 / max:"
summary "cpu watcher (sustain $SUSTAIN, tick $INTERVAL)" <"$T/cpu.txt"
sustain_us=$(( $(echo "$SUSTAIN" | sed 's/ms$//; s/s$/000/') * 1000 ))
awk -v s="$sustain_us" '{ print $1 - s }' "$T/cpu.txt" |
    summary "  of which past sustain"
[ "$PSI_RUNS" -gt 0 ] &&
    summary "psi cpu some $PSI_STALL / 2s" <"$T/psi.txt"
echo
echo "(cpu goal: within sustain + one tick; the watcher samples every"
echo "tick, so the load is seen 0 to 1 tick after it starts, then must"
echo "last sustain.)"
