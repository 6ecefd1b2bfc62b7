#!/bin/bash
# The incident page for a 50-node cluster incident in a store of 2,000
# snapshots: the relay's API time for the incident (all 50 summaries)
# and the page rendered in Debian's chromium (bench/incident_page.mjs).
# Fifty simulated nodes (a certificate each) upload, through
# bench/upload_client.py, a real snapshot ttreq wrote (requests of a few
# URIs, recorded by tests/apps/mktrace.sh): 39 each on their own, then
# one each into one incident; the relay analyzes all of them first.
# Prints figures only.
#
# usage: bench/incident-page.sh   (root; RUNS=20; PROFILE=1 adds the
#        page's CPU profile; PERF=FILE records the relay with perf)
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh"
tt_need "$RELAY" "$BUILD/tests/ttreq"
[ -d "$TT_ROOT/tests/browser/node_modules/puppeteer-core" ] || {
	echo "bench/incident-page.sh: puppeteer-core is missing:" \
	    "make browser-deps" >&2; exit 1; }
tt_enter "$@"
RUNS=${RUNS:-20}
NODES=$(for i in $(seq -w 0 49); do echo "n$i"; done)

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' \
    /proc/cpuinfo | head -1), kernel $(uname -r), $(date -u +%FT%TZ)"
tt_certs $NODES
tt_relay_config "[analysis]
workers = 2
queue = 10000"
tt_start_relay
api() { curl -s "http://127.0.0.1:$RELAY_API_PORT$1"; }

# A real snapshot: 300 requests over six URIs, one slow, one failing.
for i in $(seq 300); do
	echo "begin 0 r$i GET /api/v$((i % 6)) web"
	echo "work 0 r$i 1 db"
	echo "end 0 r$i GET /api/v$((i % 6)) web $((200 + (i % 50 == 0) * 303)) $((i * 37 % 5000)) 0"
done >"$T/requests"
"$TT_ROOT/tests/apps/mktrace.sh" "$T/rec" 256k 4 "$BUILD/tests/ttreq" \
    "$T/requests" "$T/req.state" >"$T/mktrace.log" 2>&1 ||
    bail "mktrace.sh: $(tail -2 "$T/mktrace.log")"
trace=$(dirname "$(find "$T/rec/trace" -name metadata | head -1)")

upload() {	# UPLOADS [--incident NAME]
	python3 "$BENCH/upload_client.py" --port "$RELAY_PORT" --pki "$T/pki" \
	    --nodes "$(echo $NODES | tr ' ' ,)" --uploads "$1" --duration 0 \
	    --trace "$trace" --timeout 600 "${@:2}" "$T/upload.out" \
	    >>"$T/upload.log" 2>&1 || bail "upload_client: $(tail -2 "$T/upload.log")"
}
upload 39
upload 1 --cluster --reason "a 50-node incident"
total=$(api /v1/status | jq .stats.uploads_stored)
echo "store: $total snapshots stored"
wait_until 1200 '[ "$(api /v1/status | jq ".analysis.done + .analysis.failed")" -ge '"$total"' ]' ||
    bail "the analysis did not finish"
echo "analysis: $(api /v1/status | jq -c '.analysis | {done, failed}')"
# PERF=FILE: the relay under perf record -g while the page is measured.
[ -n "$PERF" ] && { perf record -q -g -p "$RELAY_PID" -o "$PERF" \
    >/dev/null 2>&1 & perf_pid=$!; sleep 1; }
incident=$(api '/v1/incidents?limit=10' | jq -r '[.incidents[] | select(.snapshots == 50)][0].id')
[ "$(api "/v1/incidents/$incident" | jq '.snapshots | length')" = 50 ] ||
    bail "no 50-node incident: $(api "/v1/incidents/$incident" | head -c 300)"
(cd "$TT_ROOT" && node bench/incident_page.mjs \
    "http://127.0.0.1:$RELAY_API_PORT" "$incident" 50 "$RUNS")
if [ -n "$PERF" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
