#!/bin/bash
# Watcher configuration the recorder must refuse: a threshold out of
# range, a process that is not running, a cgroup it cannot read, a PSI
# window the kernel would refuse. At start each is an error naming
# file:line and the recorder does not run; at SIGHUP each is logged and
# the running watchers stay as they were.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

tt_start_sessiond
base="[limits]
cooldown = 0
burst = 0"

# refused NAME SECTION-TEXT EXPECTED-MESSAGE
refused() {
	tt_config "$base
$2"
	line=$(grep -n '^\[trigger\.' "$T/recorder.conf" | head -1 | cut -d: -f1)
	out=$("$RECORDER" -d -f "$T/recorder.conf" 2>&1)
	is "$1: the recorder does not start" "$?" 1
	ok "$1: the error names file:line ($3)" \
	    grep -qE "recorder.conf:($line|$((line + 1)))(:| ).*$3" <<<"$out"
	ok "$1: and nothing is listening" test ! -S "$T/control.sock"
}

refused "a CPU threshold above 100% of the system" "[trigger.cpu.sys]
threshold = 120" "\[trigger.cpu.sys\] threshold: 120% of all CPUs"
refused "an unknown process" "[trigger.cpu.web]
target = process:nosuchdaemon" "no process named 'nosuchdaemon' is running"
refused "a cgroup that is not there" "[trigger.memory.cg]
target = cgroup:nosuch.slice
threshold = 1G" "cannot read .*nosuch.slice/memory.current"
if [ "$(( 0x$(awk '/^CapEff/ { print $2 }' /proc/self/status) >> 24 & 1 ))" = 0 ]; then
	refused "a PSI window off the 2 s step" "[trigger.psi.mem]
window = 1500ms" "not a multiple of 2s, which the kernel requires"
else
	echo "# SKIP the 2 s step: this process has CAP_SYS_RESOURCE"
fi
ok "-n reports it too" sh -c "! '$RECORDER' -n -f '$T/recorder.conf'"

# Reload: a good file with one watcher, then bad ones.
tt_config "$base
[trigger.cpu.sys]
threshold = 95
sustain = 30s"
tt_start_recorder
watcher() { status_field ".watchers[] | select(.name == \"$1\") | $2"; }
is "the watcher runs" "$(watcher sys .threshold)" 95
cp "$T/recorder.conf" "$T/good.conf"
n=0
for bad in "threshold = 500" "target = process:nosuchdaemon" \
    "target = cgroup:nosuch.slice"; do
	n=$((n + 1))
	{ cat "$T/good.conf"; echo "[trigger.cpu.new$n]"; echo "$bad"; } \
	    >"$T/recorder.conf"
	kill -HUP "$RECORDER_PID"
	ok "reload with '$bad': refused, logged" wait_until 10 \
	    "[ \$(grep -c 'keeping the running configuration' '$T/recorder.log') -ge $n ]"
	is "the old watchers stay" "$(status_field '[.watchers[].name] | join(",")')" sys
done
ok "the log names the line" grep -q "recorder.conf:.*\[trigger.cpu.new2\] target: no process named 'nosuchdaemon'" "$T/recorder.log"
sed 's/^threshold = 95$/threshold = 80/' "$T/good.conf" >"$T/recorder.conf"
kill -HUP "$RECORDER_PID"
ok "a good reload applies the new threshold" wait_until 10 \
    '[ "$(watcher sys .threshold)" = 80 ]'
done_testing
