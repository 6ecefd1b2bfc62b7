# Shared helpers of the integration tests (sourced by every *.t).
#
# Each test re-executes itself in private mount and network namespaces,
# where /run/lttng and /dev/shm are fresh tmpfs mounts: its lttng-sessiond
# cannot meet another test's (or the host's), and the sysctls it raises
# (net.unix.max_dgram_qlen) stay inside. Each test owns a temp dir with its
# sockets, config and logs; everything it started is killed on exit, and
# the logs are printed only when a check failed.

# Paths come from this file's place, so benches can source it too.
TT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$TT_ROOT/build}
RECORDER=$BUILD/tracetrap-recorder
RELAY=$BUILD/tracetrap-relay
MAKE_CERTS=$TT_ROOT/conf/make-dev-certs.sh
CLI=$BUILD/tracetrap
TTAPP=$BUILD/tests/ttapp
TTSEND=$BUILD/tests/ttsend

tap_count=0
tap_failed=0
tt_pids=""

# tt_need FILE...: what a bench (or a test run by hand) needs, built with
# make when missing; a build that fails stops the caller: a bench never
# prints a figure of a program it could not run.
tt_need() {
	local f
	for f in "$@"; do
		[ -e "$f" ] && continue
		echo "# building $f" >&2
		make -s -C "$TT_ROOT" BUILD="$BUILD" "$f" >&2 ||
		    { echo "Bail out! cannot build $f" >&2; exit 1; }
	done
}

# tt_need_ceph: skips the test unless the tier's Ceph daemons are there.
tt_need_ceph() {
	local c
	for c in ceph-mon ceph-osd radosgw radosgw-admin; do
		if ! command -v "$c" >/dev/null; then
			echo "1..0 # SKIP $c is not installed (make deps installs the tier's packages)"
			exit 0
		fi
	done
}

# tt_start_fsync_disk SOURCE MOUNTPOINT CONTROL [HOLD]: SOURCE shown at
# MOUNTPOINT through tests/apps/ttfsync.py, a disk whose fsync fails (and
# waits) on demand; skips the test when FUSE is not there.
tt_start_fsync_disk() {
	/usr/bin/python3 -c 'import fusepy' 2>/dev/null ||
	    bail "python3-fusepy is missing: make deps"
	[ -c /dev/fuse ] || { echo "1..0 # SKIP no /dev/fuse here"; exit 0; }
	mkdir -p "$1" "$2"
	/usr/bin/python3 "$TT_ROOT/tests/apps/ttfsync.py" "$@" \
	    >>"$T/fuse.log" 2>&1 &
	tt_pids="$tt_pids $!"
	wait_until 10 "grep -q ' $2 fuse' /proc/mounts" ||
	    bail "the FUSE filesystem did not mount: $(cat "$T/fuse.log")"
}

tt_enter() {
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP needs root for a private lttng-sessiond and namespaces"
		exit 0
	fi
	if [ -z "$TT_IN_NAMESPACE" ]; then
		mkdir -p /run/lttng
		TT_IN_NAMESPACE=1 exec unshare -m -n --propagation private \
		    "$0" "$@"
	fi
	mount -t tmpfs -o mode=0755 tmpfs /run/lttng
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm
	ip link set lo up
	sysctl -qw net.unix.max_dgram_qlen=1024
	T=$(mktemp -d /tmp/tracetrap-test.XXXXXX)
	chmod 755 "$T"
	export LTTNG_HOME=$T/home
	mkdir -p "$LTTNG_HOME"
	trap tt_cleanup EXIT
	trap 'exit 1' INT TERM
}

tt_cleanup() {
	local status=$?

	for pid in $tt_pids; do
		kill -TERM "$pid" 2>/dev/null
	done
	tt_stop_sessiond
	for pid in $tt_pids; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# Mounts a test made under $T (a small spool tmpfs) go first.
	awk -v t="$T" 'index($2, t) == 1 { print $2 }' /proc/mounts |
	    xargs -r umount
	if [ "$tap_failed" -gt 0 ] || [ "$status" -ne 0 ]; then
		for log in "$T"/*.log "$T"/*/recorder.log; do
			[ -f "$log" ] || continue
			echo "# ---- $log"
			sed 's/^/# /' "$log" | tail -60
		done
		echo "# temp dir kept: $T"
	else
		rm -rf "$T"
	fi
}

# ok DESCRIPTION COMMAND...: passes when the command succeeds.
ok() {
	local desc=$1
	shift
	tap_count=$((tap_count + 1))
	if "$@" >"$T/last-check.out" 2>&1; then
		echo "ok $tap_count - $desc"
	else
		echo "not ok $tap_count - $desc"
		sed 's/^/#   /' "$T/last-check.out" | head -20
		tap_failed=$((tap_failed + 1))
	fi
}

# is DESCRIPTION GOT EXPECTED
is() {
	tap_count=$((tap_count + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $tap_count - $1"
	else
		echo "not ok $tap_count - $1"
		echo "#   got:      '$2'"
		echo "#   expected: '$3'"
		tap_failed=$((tap_failed + 1))
	fi
}

bail() { echo "Bail out! $*"; exit 1; }

# wait_for TIMEOUT_S COMMAND...: polls a condition, never sleeps blindly.
wait_for() {
	local deadline=$(( $(date +%s) + $1 ))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# wait_until TIMEOUT_S 'EXPRESSION': like wait_for, but the expression is
# evaluated anew each time, in this shell (its functions are available).
# Pass it in single quotes: "$(...)" in double quotes would be expanded
# once, before the first try, and the wait would poll a constant.
# WAIT_INTERVAL: seconds between tries (bench/lib.sh wait_slowly).
wait_until() {
	local deadline=$(( $(date +%s) + $1 ))
	until eval "$2" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep "${WAIT_INTERVAL:-0.05}"
	done
}

tt_start_sessiond() {
	# --daemonize returns once the session daemon is ready.
	lttng-sessiond --daemonize --no-kernel >>"$T/sessiond.log" 2>&1 ||
	    bail "lttng-sessiond did not start"
}

tt_sessiond_pid() {
	pgrep -x lttng-sessiond | while read -r pid; do
		# Only the sessiond of this mount namespace.
		if [ "$(readlink /proc/$pid/ns/mnt)" = \
		    "$(readlink /proc/self/ns/mnt)" ]; then
			echo "$pid"
		fi
	done
}

tt_stop_sessiond() {
	local signal=${1:-TERM} pid
	for pid in $(tt_sessiond_pid); do
		kill -"$signal" "$pid" 2>/dev/null
		wait_for 10 sh -c "! kill -0 $pid"
	done
	# Its consumer daemons go with it; make sure of it after a SIGKILL.
	for pid in $(pgrep -x lttng-consumerd); do
		if [ "$(readlink /proc/$pid/ns/mnt)" = \
		    "$(readlink /proc/self/ns/mnt)" ]; then
			kill -KILL "$pid" 2>/dev/null
		fi
	done
}

# tt_config [EXTRA INI TEXT]: writes $T/recorder.conf with test paths.
tt_config() {
	cat >"$T/recorder.conf" <<EOF
[node]
name = testnode
[session]
subbuf_size = 64k
subbuf_count = 4
check_interval = 200ms
[control]
socket = $T/control.sock
mode = 0666
[trigger]
socket = $T/trigger.sock
mode = 0666
[spool]
dir = ${TT_SPOOL:-$T/spool}
$1
EOF
}

# tt_start_recorder: starts it in the foreground, waits for READY=1.
tt_start_recorder() {
	rm -f "$T/ready"
	mkfifo "$T/ready"
	"$RECORDER" -d -v -f "$T/recorder.conf" --ready-fd 3 \
	    3>"$T/ready" >>"$T/recorder.log" 2>&1 &
	RECORDER_PID=$!
	tt_pids="$tt_pids $RECORDER_PID"
	# EOF without READY=1 means it exited: say so instead of hanging.
	if [ "$(timeout 20 head -n1 "$T/ready")" != "READY=1" ]; then
		bail "tracetrap-recorder did not become ready: $(tail -3 "$T/recorder.log")"
	fi
}

tt_stop_recorder() {
	kill -TERM "$RECORDER_PID" 2>/dev/null
	wait "$RECORDER_PID" 2>/dev/null
}

# tt_certs NODE...: a dev fleet CA, the relay's and these nodes' certs.
tt_certs() {
	"$MAKE_CERTS" --test-extras "$T/pki" "$@" >>"$T/certs.log" 2>&1 ||
	    bail "make-dev-certs.sh failed"
}

# tt_relay_config [EXTRA INI TEXT]: $T/relay.conf.
RELAY_PORT=5443
RELAY_API_PORT=5480
tt_relay_config() {
	cat >"$T/relay.conf" <<EOF
[relay]
name = relay
[listen]
address = 127.0.0.1:$RELAY_PORT
ca = $T/pki/ca.pem
cert = $T/pki/relay.pem
key = $T/pki/relay.key
[api]
address = 127.0.0.1:$RELAY_API_PORT
[store]
dir = ${TT_STORE:-$T/store}
min_free = 1M
$1
EOF
}

tt_start_relay() {
	rm -f "$T/relay-ready"
	mkfifo "$T/relay-ready"
	"$RELAY" -d -v -f "$T/relay.conf" --ready-fd 3 3>"$T/relay-ready" \
	    >>"$T/relay.log" 2>&1 &
	RELAY_PID=$!
	tt_pids="$tt_pids $RELAY_PID"
	if [ "$(timeout 20 head -n1 "$T/relay-ready")" != "READY=1" ]; then
		bail "tracetrap-relay did not become ready: $(tail -3 "$T/relay.log")"
	fi
}

# tt_config_for_relay NODE: $T/recorder.conf of a recorder named NODE
# that uploads to the test relay with NODE's certificate, no limits.
tt_config_for_relay() {
	tt_config "[limits]
cooldown = 0
burst = 0
coalesce = 0
$(tt_relay_section "$1")"
	sed -i "s/^name = testnode\$/name = $1/" "$T/recorder.conf"
}

# The [relay] section of a recorder that uploads to the test relay.
tt_relay_section() {
	cat <<EOF
[relay]
address = 127.0.0.1:$RELAY_PORT
ca = $T/pki/ca.pem
cert = $T/pki/$1.pem
key = $T/pki/$1.key
reconnect_min = 100ms
reconnect_max = 1s
EOF
}

# Snapshots of a node in the relay's store (complete ones only).
store_count() {
	find "${TT_STORE:-$T/store}/incidents" -mindepth 3 -maxdepth 3 \
	    -type d -path "*/$1/*" 2>/dev/null | wc -l
}

# tt_start_node NAME [APP ARGS...]: a whole simulated node in its own
# mount namespace: its own /run/lttng and /dev/shm, lttng-sessiond, an
# application (by default a ttapp ticking), and a recorder linked to the
# test relay with NAME's certificate. Its sockets and spool are under
# $T/NAME. Waits for the recorder's readiness. The rings are 64k x 4 per
# CPU unless TT_NODE_SUBBUF (SIZE:COUNT, e.g. 8M:8) says otherwise.
tt_start_node() {
	local name=$1 dir=$T/$1 app subbuf=${TT_NODE_SUBBUF:-64k:4}
	shift
	app=("$@")
	[ ${#app[@]} -eq 0 ] && app=("$TTAPP" 0 "$dir/app.state")
	mkdir -p "$dir/home"
	cat >"$dir/recorder.conf" <<EOF
[node]
name = $name
[session]
subbuf_size = ${subbuf%:*}
subbuf_count = ${subbuf#*:}
check_interval = 200ms
[control]
socket = $dir/control.sock
mode = 0666
[trigger]
socket = $dir/trigger.sock
mode = 0666
[spool]
dir = $dir/spool
[limits]
cooldown = 0
burst = 0
coalesce = 0
$(tt_relay_section "$name")
EOF
	rm -f "$dir/ready"
	mkfifo "$dir/ready"
	unshare -m --propagation private bash -c '
		mount -t tmpfs -o mode=0755 tmpfs /run/lttng
		mount -t tmpfs -o mode=1777 tmpfs /dev/shm
		export LTTNG_HOME=$1/home
		lttng-sessiond --daemonize --no-kernel >>"$1/sessiond.log" 2>&1
		# The sessiond of this mount namespace, not the newest on the host.
		for pid in $(pgrep -x lttng-sessiond); do
			[ "$(readlink /proc/$pid/ns/mnt)" = \
			    "$(readlink /proc/self/ns/mnt)" ] && echo "$pid"
		done >"$1/sessiond.pid"
		dir=$1 recorder=$2
		shift 2
		"$@" >>"$dir/app.log" 2>&1 &
		echo $! >"$dir/app.pid"
		exec "$recorder" -d -v -f "$dir/recorder.conf" --ready-fd 3 \
		    3>"$dir/ready" >>"$dir/recorder.log" 2>&1
	' node "$dir" "$RECORDER" "${app[@]}" &
	tt_pids="$tt_pids $!"
	if [ "$(timeout 20 head -n1 "$dir/ready")" != "READY=1" ]; then
		bail "node $name did not become ready: $(tail -3 "$dir/recorder.log")"
	fi
	tt_pids="$tt_pids $(cat "$dir/sessiond.pid") $(cat "$dir/app.pid")"
}

TTFRAME=$TT_ROOT/tests/apps/ttframe.py

# frame_as CERT-NAME|none SCENARIO [ARGS]: ttframe.py with that identity.
frame_as() {
	frame_argv "$@"
	"${frame_cmd[@]}"
}

# frame_bg OUT WHO ARGS...: frame_as in the background, its output to OUT.
# $! is ttframe itself (not a subshell that would leave it behind holding
# prove's stderr open), and the cleanup kills it.
frame_bg() {
	local out=$1
	shift
	frame_argv "$@"
	"${frame_cmd[@]}" >"$out" &
	tt_pids="$tt_pids $!"
}

frame_argv() {
	local who=$1
	shift
	frame_cmd=(python3 "$TTFRAME" --port "$RELAY_PORT" --ca "$T/pki/ca.pem")
	[ "$who" = none ] ||
	    frame_cmd+=(--cert "$T/pki/$who.pem" --key "$T/pki/$who.key")
	frame_cmd+=("$@")
}

# snap_id NODE N: a snapshot id of NODE, shaped as recorders make them
# (the relay takes from a node only ids that start with its name).
snap_id() { echo "$1-20260101T000000Z-$2"; }

# make_snapshot ID [NODE] [PATH] [TAKEN_AT_US]: a made-up snapshot
# (300 kB of data, 1 kB of metadata) and its manifest, under $T/snap/ID.
make_snapshot() {
	local id=$1 node=${2:-node1} path=${3:-trace/ust/data}
	local taken=${4:-1} dir=$T/snap/$1
	mkdir -p "$dir/trace/ust"
	head -c 300000 /dev/urandom >"$dir/trace/ust/data"
	head -c 1000 /dev/urandom >"$dir/trace/ust/metadata"
	jq -n --arg id "$id" --arg node "$node" --arg path "$path" \
	    --argjson taken "$taken" \
	    --arg s1 "$(sha256sum "$dir/trace/ust/data" | cut -d' ' -f1)" \
	    --arg s2 "$(sha256sum "$dir/trace/ust/metadata" | cut -d' ' -f1)" \
	    '{id: $id, node: $node, taken_at_us: $taken, bytes: 301000,
	      triggers: [{source: "test", reason: "made up"}], files: [
	      {path: $path, bytes: 300000, sha256: $s1},
	      {path: "trace/ust/metadata", bytes: 1000, sha256: $s2}]}' \
	    >"$dir/manifest.json"
}

upload_snapshot() {	# upload_snapshot CERT-NAME ID
	frame_as "$1" upload "$T/snap/$2/manifest.json" "$T/snap/$2"
}

node_status() { "$CLI" status --json --socket "$T/$1/control.sock" | jq -r "$2"; }

# tt_start_app COUNT [LINGER]: a real lttng-ust application.
tt_start_app() {
	"$TTAPP" "$1" "$T/app.state" "${2:-30}" >>"$T/app.log" 2>&1 &
	APP_PID=$!
	tt_pids="$tt_pids $APP_PID"
}

cli() { local cmd=$1; shift; "$CLI" "$cmd" --socket "$T/control.sock" "$@"; }
cli_status() { "$CLI" status --json --socket "$T/control.sock"; }
status_field() { cli_status | jq -r "$1"; }

# curl on the control socket: curl_control METHOD PATH [BODY-FILE]
curl_control() {
	local body=()
	[ -n "$3" ] && body=(--data-binary "@$3" -H 'Content-Type: application/json')
	curl -s -o "$T/curl.body" -w '%{http_code}' --unix-socket \
	    "$T/control.sock" -X "$1" "${body[@]}" "http://localhost$2"
}

# What a spool's .partial holds besides the recorder's untaken spares
# (partial dirs made ahead of a record, "spare.N", with an empty trace/):
# half-written snapshots, a spare a record wrote into among them.
partial_left() {
	local e
	for e in $(ls -A "$1/.partial" 2>/dev/null); do
		case $e in
		spare.*)
			[ -d "$1/.partial/$e/trace" ] &&
			    [ -z "$(ls -A "$1/.partial/$e/trace")" ] && continue
			;;
		esac
		echo "$e"
	done
}

# The number of snapshot directories in the spool.
spool_count() {
	find "${TT_SPOOL:-$T/spool}" -mindepth 1 -maxdepth 1 -type d \
	    ! -name .partial | wc -l
}

# Verifies every file of a snapshot against its manifest's sha256.
manifest_verifies() {
	local dir=$1 n=0
	while read -r path sum; do
		echo "$sum  $dir/$path" | sha256sum -c --quiet - || return 1
		n=$((n + 1))
	done < <(jq -r '.files[] | "\(.path) \(.sha256)"' "$dir/manifest.json")
	[ "$n" -gt 0 ]
}

# Prints the plan last (valid TAP), so no test miscounts its checks.
done_testing() {
	echo "1..$tap_count"
	[ "$tap_failed" -eq 0 ]
}
