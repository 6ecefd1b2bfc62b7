#!/bin/bash
# `make run`: the embedded default on one machine. Starts an lttng-sessiond
# if none is alive, a small demo lttng-ust application so the ring has
# something in it, and tracetrap-recorder in the foreground with sockets
# and spool under build/run/. Ctrl-C stops what this script started.
set -e
BUILD=${1:-$(pwd)/build}
RUN=$BUILD/run
mkdir -p "$RUN"
started_sessiond=0

cleanup() {
	[ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null
	if [ "$started_sessiond" = 1 ]; then
		pkill -x lttng-sessiond 2>/dev/null || true
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
	started_sessiond=1
fi

cat >"$RUN/recorder.conf" <<EOC
# Written by \`make run\`; conf/recorder.conf documents every key.
[session]
subbuf_size = 256k
subbuf_count = 8
[control]
socket = $RUN/control.sock
[trigger]
socket = $RUN/trigger.sock
mode = 0666
[spool]
dir = $RUN/spool
max_bytes = 256M
[limits]
cooldown = 2s
EOC

make -s "$BUILD/tests/ttapp" >/dev/null
"$BUILD/tests/ttapp" 0 "$RUN/demo-app.state" >/dev/null 2>&1 &
app_pid=$!

cat <<EOM

tracetrap-recorder is starting in the foreground (Ctrl-C stops it).
A demo app (ttapp) emits ttapp:tick events into the ring.

In another terminal:
  $BUILD/tracetrap snapshot --wait --reason "first look" --socket $RUN/control.sock
  $BUILD/tracetrap status --socket $RUN/control.sock
  TRACETRAP_TRIGGER_SOCKET=$RUN/trigger.sock $BUILD/tests/ttsend -s $RUN/trigger.sock -r "from an app"
  babeltrace2 $RUN/spool/<id>/trace | tail      # read a snapshot
  jq . $RUN/spool/<id>/manifest.json            # who triggered it, checksums

EOM
"$BUILD/tracetrap-recorder" -d -f "$RUN/recorder.conf"
