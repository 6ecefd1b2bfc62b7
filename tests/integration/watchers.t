#!/bin/bash
# Watchers on a real machine: a CPU burner in a named process fires the
# CPU watcher once, and again only after it re-armed; a memory hog fires
# the memory watcher; CPU pressure fires a kernel PSI trigger (skipped
# only where the kernel refuses PSI triggers). Every snapshot says which
# watcher fired it, and status and /metrics show the watchers.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

# Programs are named by their executable: a symlink gives yes(1) the
# command name the watcher looks for.
ln -s "$(command -v yes)" "$T/ttburn"
ln -s /usr/bin/python3 "$T/tthog"
# burn: one more burner, its pid in $burner (and in tt_pids, for cleanup).
burn() { "$T/ttburn" >/dev/null & burner=$!; tt_pids="$tt_pids $!"; }

tt_start_sessiond
burn
tt_config "[limits]
cooldown = 0
burst = 0
coalesce = 0
[trigger]
process_rescan = 300ms
[trigger.cpu.burn]
target = process:ttburn
threshold = 50
rearm = 20
sustain = 1s
interval = 200ms
[trigger.memory.hog]
target = process:tthog
threshold = 150M
sustain = 400ms
interval = 200ms"
# The hog must exist when the recorder starts; it grows later.
"$T/tthog" -c 'import time
time.sleep(3)
a = b"x" * (300 << 20)
time.sleep(120)' & tt_pids="$tt_pids $!"
ok "recorder -n accepts the watchers" "$RECORDER" -n -f "$T/recorder.conf"
tt_start_recorder

snapshots_of() {	# SOURCE: spooled snapshots a trigger of SOURCE opened
	for m in "$T"/spool/*/manifest.json; do
		[ -f "$m" ] && jq -r '.triggers[0].source' "$m"
	done | grep -cx "$1"
}
watcher() { status_field ".watchers[] | select(.name == \"$1\") | $2"; }

ok "the CPU watcher fires on the burner" wait_until 20 \
    '[ "$(snapshots_of cpu)" -eq 1 ]'
m=$(grep -l '"source": "cpu"' "$T"/spool/*/manifest.json | head -1)
is "its snapshot names the watcher" "$(jq -r '.triggers[0].labels.watcher' "$m")" burn
ok "with the value it saw" jq -e '.triggers[0].labels.value | test("%$")' "$m"
is "status shows it fired" "$(watcher burn .state)" fired
ok "and the value" sh -c "[ \"\$(echo '$(watcher burn .value)' | cut -d. -f1)\" -ge 50 ]"
# Still burning: no second snapshot until it re-arms.
sleep 2
is "only once while it stays above" "$(snapshots_of cpu)" 1
kill "$burner"
ok "it re-arms when the burner stops" wait_until 20 \
    '[ "$(watcher burn .state)" = armed ]'
ok "both edges are logged" sh -c "grep -q 'cpu watcher burn: fired' '$T/recorder.log' &&
    grep -q 'cpu watcher burn: re-armed' '$T/recorder.log'"
burn
ok "a new burner (rescanned) fires it again" wait_until 20 \
    '[ "$(snapshots_of cpu)" -eq 2 ]'
is "two fires counted" "$(watcher burn .fires)" 2

ok "the memory watcher fires when the hog grows" wait_until 30 \
    '[ "$(snapshots_of memory)" -eq 1 ]'
m=$(grep -l '"source": "memory"' "$T"/spool/*/manifest.json | head -1)
is "its snapshot names it" "$(jq -r '.triggers[0].labels.watcher' "$m")" hog
ok "tracetrap status lists them" sh -c "'$CLI' status --socket '$T/control.sock' |
    grep -qE '^  burn +cpu +process:ttburn '"
ok "/metrics has the watchers" sh -c "curl -s --unix-socket '$T/control.sock' http://x/metrics |
    grep -q '^tracetrap_watcher_fires_total{watcher=\"hog\",kind=\"memory\"} 1$'"
is "the triggers are counted by source" \
    "$(status_field .limiter.counters.memory.accepted)" 1
tt_stop_recorder

# PSI: more runnable burners than CPUs stall tasks on CPU.
cat >>"$T/recorder.conf" <<EOC
[trigger.psi.cpu]
resource = cpu
stall = 50ms
window = 2s
EOC
if ! out=$("$RECORDER" -n -f "$T/recorder.conf" 2>&1); then
	if grep -q "trigger.psi" <<<"$out"; then
		echo "# SKIP psi: the kernel refuses PSI triggers here: $out"
	else
		bail "config check failed: $out"
	fi
else
	rm -rf "$T/spool"
	burners=""
	for i in $(seq 1 $(( $(nproc) * 3 ))); do burn; burners="$burners $burner"; done
	tt_start_recorder
	ok "a PSI trigger fires under CPU pressure" wait_until 30 \
	    '[ "$(snapshots_of psi)" -ge 1 ]'
	m=$(grep -l '"source": "psi"' "$T"/spool/*/manifest.json | head -1)
	is "its snapshot names the resource" \
	    "$(jq -r '.triggers[0].labels.resource' "$m")" cpu
	# shellcheck disable=SC2086
	kill $burners
fi
done_testing
