#!/bin/bash
# Investigation end to end, on real parts: apache2 with mod_tracetrap,
# the recorder, the relay over mutual TLS. A slow request triggers a
# snapshot; the relay analyzes it after the ACK; the summary lists the
# slow request first with its duration and triggered=true; the events
# endpoint returns that request's request_begin .. request_end on its
# thread; `tracetrap show` prints it from the relay and from the spool;
# the listing filters find it; the pages are served with their
# Content-Security-Policy, and the API takes the token as a bearer or as
# the login form's cookie.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apache-lib.sh"
tt_enter "$@"
tt_apache_check

TOKEN=investigate-token-0123456789
API=http://127.0.0.1:$RELAY_API_PORT
export TRACETRAP_RELAY=$API TRACETRAP_RELAY_TOKEN=$TOKEN

tt_certs testnode
tt_relay_config "[api]
token = $TOKEN"
tt_start_relay
tt_start_sessiond
tt_config "[limits]
cooldown = 0
coalesce = 0
$(tt_relay_section testnode)"
tt_start_recorder
tt_apache_config event "LoadModule unique_id_module $APACHE_MODULES/mod_unique_id.so
TraceTrapSlowRequest 500ms"
tt_start_apache

api() { curl -s -H "Authorization: Bearer $TOKEN" "$API$1"; }
api_code() {
	curl -s -o "$T/api.body" -w '%{http_code}' -H \
	    "Authorization: Bearer $TOKEN" "$API$1"
}

# Fast requests, a server error, then the slow one (which triggers).
for i in $(seq 10); do get "/tt/fast?n=$i" >/dev/null; done
is "a 503 is served" "$(get '/tt/pay?status=503')" 503
is "the slow request is served" "$(get '/tt/checkout?sleep=800')" 200
wait_until 20 '[ "$(spool_count)" -eq 1 ]'
dir=$(only_snapshot)
ID=$(basename "$dir")
rid=$(awk '$3 == "/tt/checkout" { print $1 }' "$T/apache-access.log")
ok "the snapshot is on the relay ($ID)" \
    wait_until 30 '[ "$(store_count testnode)" -eq 1 ]'
ok "its summary is ready soon after" wait_until 30 \
    '[ "$(api_code /v1/snapshots/$ID/summary)" = 200 ]'
api "/v1/snapshots/$ID/summary" >"$T/summary.json"
# jq reads numbers as doubles: nanoseconds since 1970 lose their last
# digits there. Python's json keeps them whole.
first_done() {
	python3 -c 'import json, sys
r = [r for r in json.load(open(sys.argv[1]))["requests"]
     if not r["in_flight"]][0][sys.argv[2]]
print(json.dumps(r) if isinstance(r, bool) else r)' "$T/summary.json" "$1"
}
is "the slow request comes first" "$(first_done uri)" /tt/checkout
is "with Apache's request id" "$(first_done request_id)" "$rid"
ok "and its duration ($(first_done duration_us) us >= 800 ms)" \
    test "$(first_done duration_us)" -ge 800000
is "marked as the one that triggered" "$(first_done triggered)" true
is "the summary names the snapshot and its node" \
    "$(jq -r '.id + " " + .node' "$T/summary.json")" "$ID testnode"
is "its trigger found the request" \
    "$(jq -r '.triggers[0].request_found' "$T/summary.json")" true
is "the 503 is counted" \
    "$(jq -r '.status_counts["503"]' "$T/summary.json")" 1
is "the no-kernel case says why" \
    "$(jq -r '.kernel.present' "$T/summary.json")" false
ok "summary.json is stored beside the manifest" \
    test -f "$(dirname "$(find "$T/store/incidents" -name manifest.json | head -1)")/summary.json"

# The drill-down: the events of that request's thread, begin to end.
begin=$(first_done begin_ns) end=$(first_done end_ns)
vpid=$(first_done vpid) vtid=$(first_done vtid)
is "the events endpoint answers" \
    "$(api_code "/v1/snapshots/$ID/events?from=$begin&to=$end&vpid=$vpid&vtid=$vtid")" 200
names=$(jq -r '.events[].name' "$T/api.body")
is "it starts with the request's request_begin" \
    "$(head -1 <<<"$names")" tracetrap_httpd:request_begin
is "and ends with its request_end" \
    "$(tail -1 <<<"$names")" tracetrap_httpd:request_end
is "of that request" "$(jq -r '[.events[].fields.request_id] | unique | join(",")' \
    "$T/api.body")" "$rid"
is "read from the packets of that range" "$(jq -r .seek "$T/api.body")" packets
is "a limit of 1 is honoured and said" \
    "$(api "/v1/snapshots/$ID/events?from=$begin&to=$end&limit=1" |
    jq -r '[(.events | length), .truncated] | join(" ")')" "1 true"
is "a bad parameter is a 400" \
    "$(api_code "/v1/snapshots/$ID/events?from=soon")" 400
is "an unknown parameter is a 400" \
    "$(api_code "/v1/snapshots/$ID/events?vpdi=1")" 400
is "an unknown snapshot is a 404" \
    "$(api_code /v1/snapshots/nope-1/summary)" 404

# The terminal: from the relay, and from the spool with no relay.
"$CLI" show "$ID" >"$T/show-relay.txt" 2>&1
ok "tracetrap show ID prints the slow request first" \
    awk '/^slowest requests/ { getline; getline; exit !/\/tt\/checkout/ }' \
    "$T/show-relay.txt"
ok "with its note" grep -q 'checkout.*triggered' "$T/show-relay.txt"
TRACETRAP_RELAY=http://127.0.0.1:1 "$CLI" show "$dir" >"$T/show-spool.txt" 2>&1
ok "tracetrap show SPOOL-DIR prints it too, without a relay" \
    grep -q 'checkout.*triggered' "$T/show-spool.txt"
"$CLI" events "$ID" --request "$rid" >"$T/events.txt" 2>&1
ok "tracetrap events ID --request lists its request_begin" \
    grep -q 'tracetrap_httpd:request_begin' "$T/events.txt"
ok "and its request_end" grep -q 'tracetrap_httpd:request_end' "$T/events.txt"
"$CLI" events "$dir" --request "$rid" --json >"$T/events-local.json" 2>&1
is "the same from the spool" \
    "$(jq -r '.events[-1].name' "$T/events-local.json")" \
    tracetrap_httpd:request_end

# The listings' filters.
is "slowest >= 500ms finds it" \
    "$(api '/v1/snapshots?slowest=500ms' | jq -r '.snapshots[].id')" "$ID"
is "slowest >= 5s does not" \
    "$(api '/v1/snapshots?slowest=5s' | jq -r '.snapshots | length')" 0
is "uri=/tt/checkout finds it" \
    "$(api '/v1/snapshots?uri=/tt/checkout' | jq -r '.snapshots[].id')" "$ID"
is "status=503 finds it" \
    "$(api '/v1/snapshots?status=503' | jq -r '.snapshots[].id')" "$ID"
is "the listing carries the figures" \
    "$(api /v1/snapshots | jq -r '.snapshots[0] | [.analysis, .errors] | join(" ")')" \
    "done 1"
incident=$(api /v1/incidents | jq -r '.incidents[0].id')
is "the incident list has the slowest request" \
    "$(api /v1/incidents | jq -r '.incidents[0].slowest_us >= 800000')" true
is "the incident carries its snapshot's summary" \
    "$(api "/v1/incidents/$incident" | jq -r '.snapshots[0].summary.id')" "$ID"
api "/v1/snapshots/$ID/summary" >"$T/summary-full.json"
nreq=$(jq '.requests | length' "$T/summary-full.json")
nkept=$(jq '[.requests[] | select(.triggered or .in_flight)] | length' \
    "$T/summary-full.json")
ok "the snapshot has requests ($nreq) and the triggered one ($nkept kept)" \
    test "$nreq" -gt 1 -a "$nkept" -ge 1
is "a small incident lists all of a snapshot's requests" \
    "$(api "/v1/incidents/$incident" | jq -c '.snapshots[0].summary |
    [(.requests | length), .requests_omitted]')" "[$nreq,0]"
api "/v1/incidents/$incident?requests=0" >"$T/incident-brief.json"
is "?requests=0 keeps the ones that triggered or were in flight" \
    "$(jq -c '.snapshots[0].summary | [(.requests | length), .requests_omitted]' \
    "$T/incident-brief.json")" "[$nkept,$((nreq - nkept))]"
is "the triggered request among them" \
    "$(jq -r '.snapshots[0].summary.requests[] | select(.triggered) | .uri' \
    "$T/incident-brief.json")" /tt/checkout
is "and the rest of the summary" \
    "$(jq -r '.snapshots[0].summary.events' "$T/incident-brief.json")" \
    "$(jq -r '.events' "$T/summary-full.json")"
is "?requests past 200: 400" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    "$API/v1/incidents/$incident?requests=201")" 400
is "an unknown parameter: 400" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    "$API/v1/incidents/$incident?request=1")" 400
is "a reason filter that does not match lists nothing" \
    "$(api '/v1/incidents?q=nothing-like-it' | jq -r '.incidents | length')" 0
is "one that does lists it" \
    "$(api '/v1/incidents?q=slow%20request' | jq -r '.incidents[0].id')" "$incident"

# Pages and authentication.
code=$(curl -s -o "$T/page.html" -D "$T/page.headers" -w '%{http_code}' "$API/")
is "the incidents page is served without a token" "$code" 200
ok "as HTML with the app's script" grep -q '/static/app.js' "$T/page.html"
ok "with a Content-Security-Policy allowing only the relay's scripts" \
    grep -qi "^content-security-policy: default-src 'self'; script-src 'self'" \
    "$T/page.headers"
is "its script is served" \
    "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$API/static/app.js")" \
    "200 text/javascript; charset=utf-8"
is "the shell preloads every module the pages import, and no other" \
    "$(curl -s "$API/incidents/x" | sed -n 's|.*rel="modulepreload" href="/static/\([^"]*\)".*|\1|p' |
    sort | tr '\n' ' ')" \
    "$(sed -n "s|^import .* from '\./\(.*\)';\$|\1|p" "$TT_ROOT"/relay/web/*.js |
    sort -u | tr '\n' ' ')"
etag=$(curl -s -D - -o /dev/null "$API/static/app.js" |
    sed -n 's/^[Ee][Tt]ag: \(.*\)\r$/\1/p')
is "an asset the browser has is not sent again (ETag)" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" \
    "$API/static/app.js")" 304
is "one it has an old copy of is" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "0"' \
    "$API/static/app.js")" 200
is "an unknown asset is a 404" \
    "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' \
    "$API/static/../relay.conf")" 404
is "the API without the token: 401" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$API/v1/incidents")" 401
is "a wrong token at the login form: 401" \
    "$(curl -s -o /dev/null -w '%{http_code}' -d token=wrong "$API/login")" 401
code=$(curl -s -o /dev/null -D "$T/login.headers" -w '%{http_code}' \
    --data-urlencode "token=$TOKEN" --data-urlencode "next=/incidents/x" \
    "$API/login")
is "the right token: redirected" "$code" 303
is "to where the user was going" \
    "$(sed -n 's/^[Ll]ocation: \(.*\)\r$/\1/p' "$T/login.headers")" /incidents/x
cookie=$(sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\);.*/\1/p' "$T/login.headers")
ok "the cookie is HttpOnly and SameSite=Strict" \
    grep -qi 'set-cookie: tt_session=.*HttpOnly; SameSite=Strict' "$T/login.headers"
is "the API takes the cookie" \
    "$(curl -s -o /dev/null -w '%{http_code}' -b "$cookie" "$API/v1/incidents")" 200
case $cookie in *0) forged=${cookie%?}1 ;; *) forged=${cookie%?}0 ;; esac
is "a forged cookie is refused" \
    "$(curl -s -o /dev/null -w '%{http_code}' -b "$forged" "$API/v1/incidents")" 401
code=$(curl -s -o /dev/null -D "$T/login2.headers" -w '%{http_code}' \
    --data-urlencode "token=$TOKEN" --data-urlencode "next=//evil.example/" \
    "$API/login")
is "a login never redirects off the relay" \
    "$(sed -n 's/^[Ll]ocation: \(.*\)\r$/\1/p' "$T/login2.headers")" /
is "the relay counts what it analyzed" \
    "$(api /v1/status | jq -r '.analysis.done >= 1')" true
ok "and its metrics say so" \
    grep -q '^tracetrap_relay_analyses_total{result="done"} [1-9]' \
    <(api /metrics)

tt_stop_apache
done_testing
