#!/bin/bash
# `make run`: the embedded default on one machine. Starts an lttng-sessiond
# if none is alive, a small demo lttng-ust application so the ring has
# something in it, a tracetrap-relay with generated dev certificates and a
# local store, and tracetrap-recorder in the foreground, linked to the
# relay over mutual TLS. Everything lives under build/run/. Ctrl-C stops
# what this script started.
set -e
BUILD=${1:-$(pwd)/build}
CONF=$(cd "$(dirname "$0")" && pwd)
RUN=$BUILD/run
NODE=$(hostname | tr -c 'A-Za-z0-9._\n-' '-' | sed 's/^[.-]*//' | cut -c1-63)
mkdir -p "$RUN"
sessiond_pid=

cleanup() {
	[ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null
	[ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null
	# Only the session daemon started here, by its pid file: others on
	# this machine (the host's, a test's) are not ours to stop.
	if [ -n "$sessiond_pid" ]; then
		kill "$sessiond_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT

if ! lttng list >/dev/null 2>&1; then
	echo "starting lttng-sessiond (--no-kernel unless lttng-modules load)"
	if modprobe -q lttng-tracer 2>/dev/null; then
		lttng-sessiond --daemonize
	else
		lttng-sessiond --daemonize --no-kernel
	fi
	if [ "$(id -u)" = 0 ]; then
		rundir=/var/run/lttng
	else
		rundir=${LTTNG_HOME:-$HOME}/.lttng
	fi
	sessiond_pid=$(cat "$rundir/lttng-sessiond.pid" 2>/dev/null)
fi

"$CONF/make-dev-certs.sh" "$RUN/pki" "$NODE" >/dev/null

cat >"$RUN/relay.conf" <<EOC
# Written by \`make run\`; conf/relay.conf documents every key.
[listen]
address = 127.0.0.1:5443
ca = $RUN/pki/ca.pem
cert = $RUN/pki/relay.pem
key = $RUN/pki/relay.key
[api]
address = 127.0.0.1:5480
[store]
dir = $RUN/store
max_bytes = 1G
[fleet]
cooldown = 10s
EOC

cat >"$RUN/recorder.conf" <<EOC
# Written by \`make run\`; conf/recorder.conf documents every key.
[node]
name = $NODE
[session]
subbuf_size = 256k
subbuf_count = 8
[control]
socket = $RUN/control.sock
# Snapshots need root or this group: the user who ran \`make run\`.
group = $(id -gn)
[trigger]
socket = $RUN/trigger.sock
mode = 0666
[spool]
dir = $RUN/spool
max_bytes = 256M
[limits]
cooldown = 2s
[relay]
address = 127.0.0.1:5443
ca = $RUN/pki/ca.pem
cert = $RUN/pki/$NODE.pem
key = $RUN/pki/$NODE.key
EOC

"$BUILD/tracetrap-relay" -d -f "$RUN/relay.conf" 2>"$RUN/relay.log" &
relay_pid=$!
"$BUILD/tests/ttapp" 0 "$RUN/demo-app.state" >/dev/null 2>&1 &
app_pid=$!

cat <<EOM

tracetrap-relay runs in the background (log: $RUN/relay.log, store:
$RUN/store). tracetrap-recorder starts in the foreground (Ctrl-C stops
everything). A demo app (ttapp) emits ttapp:tick events into the ring.

The investigation pages: http://127.0.0.1:5480/ (every snapshot the relay
stores is analyzed within a second or so of its arrival).

In another terminal:
  $BUILD/tracetrap snapshot --wait --reason "first look" --socket $RUN/control.sock
  $BUILD/tracetrap snapshot --cluster --socket $RUN/control.sock
  $BUILD/tracetrap status --socket $RUN/control.sock
  $BUILD/tracetrap list                              # what reached the relay
  $BUILD/tracetrap show <id>                         # what a snapshot says
  $BUILD/tracetrap show $RUN/spool/<id>              # the same, no relay
  $BUILD/tracetrap events <id> --name 'ttapp:*' --limit 20
  TRACETRAP_TRIGGER_SOCKET=$RUN/trigger.sock $BUILD/tests/ttsend -s $RUN/trigger.sock -r "from an app"
  babeltrace2 $RUN/spool/<id>/trace | tail          # the raw events

EOM
"$BUILD/tracetrap-recorder" -d -f "$RUN/recorder.conf"
