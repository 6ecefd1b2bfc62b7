#!/bin/bash
# The relay's pages in a real browser (headless Debian chromium driven by
# puppeteer-core: tests/browser/pages.test.mjs), over a real 3-node
# cluster incident: three simulated nodes (a sessiond, a recorder and a
# ttreq writing HTTP requests as mod_tracetrap does, each), a cluster
# trigger whose reason is HTML, a request URI that is HTML too, the relay
# analyzing every snapshot. Login with the token, 401 without, one SVG
# lane per node, the requests table sorted, a request's drill-down, no
# string of a node ever becoming markup. Screenshots go to
# $BUILD/screenshots.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

BROWSER_TEST=$TT_ROOT/tests/browser/pages.test.mjs
command -v chromium >/dev/null || bail "chromium is not installed (make deps)"
[ -d "$TT_ROOT/tests/browser/node_modules/puppeteer-core" ] ||
    bail "puppeteer-core is not installed (make browser-deps)"

TOKEN=web-test-token-0123456789abcdef
API=http://127.0.0.1:$RELAY_API_PORT
XSS_REASON='<img src=x onerror=alert(1)>'
XSS_URI='/x"><script>alert(2)</script>'
SLOW_URI=/api/checkout
NODES="web1 web2 web3"

tt_certs $NODES
tt_relay_config "[api]
token = $TOKEN
[fleet]
cooldown = 0"
tt_start_relay

# Each node's requests (ttreq's script; tokens are percent-decoded):
# web1 has the slowest, web2 the URI made of HTML, web3 one in flight
# and a hundred quick ones.
script() {
	local n=$1
	for i in 1 2 3 4 5; do
		echo "begin 0 $n-f$i GET /api/items $n.example"
		echo "work 0 $n-f$i 1 db"
		echo "end 0 $n-f$i GET /api/items $n.example 200 $((i * 900)) 0"
	done
	case $n in
	web1)	echo "begin 0 $n-slow POST $SLOW_URI $n.example"
		echo "work 0 $n-slow 1 charge"
		echo "sleep 700"
		echo "work 1 $n-slow 2 render"
		echo "end 1 $n-slow POST $SLOW_URI $n.example 200 700000 0" ;;
	web2)	echo "begin 0 $n-xss GET %2Fx%22%3E%3Cscript%3Ealert(2)%3C%2Fscript%3E $n.example"
		echo "sleep 30"
		echo "end 0 $n-xss GET %2Fx%22%3E%3Cscript%3Ealert(2)%3C%2Fscript%3E $n.example 404 30000 0" ;;
	web3)	# Enough quick ones for the table to draw its first 100 rows only.
		for i in $(seq 100); do
			echo "begin 0 $n-q$i GET /api/ping $n.example"
			echo "end 0 $n-q$i GET /api/ping $n.example 200 50 0"
		done
		echo "begin 0 $n-stuck GET /api/report $n.example" ;;
	esac
}
for n in $NODES; do
	mkdir -p "$T/$n"
	script "$n" >"$T/$n/requests"
	tt_start_node "$n" "$BUILD/tests/ttreq" "$T/$n/requests" \
	    "$T/$n/app.state" 600 "$T/$n/go"
	# Requests made before the session records would not be in it.
	wait_until 20 '[ "$(node_status '"$n"' .session.state)" = recording ]' ||
	    bail "$n: the session does not record"
	touch "$T/$n/go"
done
for n in $NODES; do
	ok "$n wrote its requests" wait_until 20 \
	    "grep -q done '$T/$n/app.state'"
done

"$CLI" snapshot --cluster --reason "$XSS_REASON" \
    --socket "$T/web1/control.sock" >"$T/cluster.out" 2>&1
ok "a cluster snapshot with an HTML reason is accepted" \
    grep -q forwarded "$T/cluster.out"
api() { curl -s -H "Authorization: Bearer $TOKEN" "$API$1"; }
cluster_incident() {
	api /v1/incidents | jq -r '.incidents[] |
	    select((.nodes | length) == 3) | .id' | head -1
}
ok "all three snapshots arrive as one incident" wait_until 60 \
    '[ -n "$(cluster_incident)" ]'
INCIDENT=$(cluster_incident)
ok "and are analyzed" wait_until 60 \
    '[ "$(api "/v1/incidents/$INCIDENT" | jq "[.snapshots[] | select(.analysis == \"done\")] | length")" = 3 ]'
is "the slowest request of the incident is $SLOW_URI" \
    "$(api "/v1/incidents/$INCIDENT" | jq -r '[.snapshots[].summary.requests[]] |
    map(select(.in_flight == false)) | sort_by(-.duration_us) | .[0].uri')" \
    "$SLOW_URI"

mkdir -p "$BUILD/screenshots"
(cd "$TT_ROOT" && TT_BASE_URL=$API TT_TOKEN=$TOKEN TT_INCIDENT=$INCIDENT \
    TT_NODES=${NODES// /,} TT_XSS_REASON=$XSS_REASON TT_XSS_URI=$XSS_URI \
    TT_SLOW_URI=$SLOW_URI TT_SCREENSHOTS=$BUILD/screenshots \
    node tests/browser/pages.test.mjs) >"$T/browser.tap" 2>&1
status=$?
sed 's/^/# browser: /' "$T/browser.tap"
is "the browser test ran to its end" "$status" 0
total=$(grep -c '^ok ' "$T/browser.tap")
ok "every browser check passed ($total)" \
    test "$(grep -c '^not ok' "$T/browser.tap")" -eq 0 -a "$total" -ge 10
ok "screenshots were saved" \
    test -s "$BUILD/screenshots/incident-laptop.png" -a \
    -s "$BUILD/screenshots/snapshot-phone.png"

done_testing
