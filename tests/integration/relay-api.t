#!/bin/bash
# The relay's HTTP API and the CLI's list and fetch, over real uploads: a
# recorder (node1) sends two snapshots with different reasons, one with a
# label; the API lists and filters them, serves the manifest byte for byte
# and the archive as ustar; `tracetrap fetch` extracts a trace babeltrace2
# reads and whose files match the manifest. Then bad ids, the [api] token
# and HTTPS with client certificates.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

API=http://127.0.0.1:$RELAY_API_PORT
TOKEN=0123456789abcdef-test-token

# get PATH [CURL ARGS...]: the body in $T/body, prints the HTTP status.
get() {
	local path=$1
	shift
	curl -s -o "$T/body" -w '%{http_code}' "$@" "$API$path"
}
body() { jq -r "$1" "$T/body"; }
count() { get "$1" >/dev/null; body '.snapshots | length'; }

tt_certs node1
tt_relay_config
tt_start_relay
tt_start_sessiond
tt_config_for_relay node1
tt_start_recorder
ok "the recorder connects to the relay" wait_until 20 \
    '[ "$(status_field .relay.connected)" = true ]'
tt_start_app 20000 120
wait_for 20 test -s "$T/app.state" || bail "ttapp did not run"

id1=$(cli snapshot --wait --reason "first look" | sed -E 's/^snapshot ([^ ]+) .*/\1/')
id2=$(cli snapshot --wait --reason "slow checkout" --label ticket=T-42 | sed -E 's/^snapshot ([^ ]+) .*/\1/')
[ -n "$id1" ] && [ -n "$id2" ] || bail "snapshots failed: '$id1' '$id2'"
ok "both snapshots reach the catalog" wait_until 30 \
    '[ "$(count "/v1/snapshots")" = 2 ]'
dir1=$(find "$T/store/incidents" -mindepth 3 -maxdepth 3 -type d -name "$id1")

# Incidents: each snapshot is its own, newest first.
is "GET /v1/incidents answers 200" "$(get /v1/incidents)" 200
is "and lists both incidents" "$(body '[.incidents[].id] | sort | join(" ")')" \
    "$(printf '%s\n' "$id1" "$id2" | sort | tr '\n' ' ' | sed 's/ $//')"
is "?limit=1 keeps the newest" "$(get '/v1/incidents?limit=1' >/dev/null; body '[.incidents[].id] | join(" ")')" "$id2"
is "GET /v1/incidents/<id> answers 200" "$(get "/v1/incidents/$id2")" 200
is "with its snapshot, reason and label" \
    "$(body '.snapshots[0] | "\(.id) \(.reasons[0]) \(.labels.ticket)"')" \
    "$id2 slow checkout T-42"
is "reasons differ per snapshot" \
    "$(get "/v1/incidents/$id1" >/dev/null; body '.reasons | join(",")')" "first look"

# Snapshot filters.
is "?node=node1: 2" "$(count '/v1/snapshots?node=node1')" 2
is "?node=other: 0" "$(count '/v1/snapshots?node=other')" 0
is "?source=manual: 2" "$(count '/v1/snapshots?source=manual')" 2
is "?source=apache: 0" "$(count '/v1/snapshots?source=apache')" 0
is "?since in the future (RFC 3339): 0" "$(count '/v1/snapshots?since=2099-01-01T00:00:00Z')" 0
is "?since in the past (RFC 3339): 2" "$(count '/v1/snapshots?since=2001-02-03T04:05:06.5Z')" 2
is "?since in the future (microseconds): 0" "$(count '/v1/snapshots?since=4070908800000000')" 0
is "?until in the past: 0" "$(count '/v1/snapshots?until=2001-01-01T00:00:00Z')" 0
is "?limit=1: 1" "$(count '/v1/snapshots?limit=1')" 1
is "?since=garbage: 400" "$(get '/v1/snapshots?since=yesterday')" 400
is "as JSON naming the error" "$(body .error)" bad_request
is "?since=2026-02-30T00:00:00Z (no such day): 400" \
    "$(get '/v1/snapshots?since=2026-02-30T00:00:00Z')" 400
is "an unknown parameter: 400" "$(get '/v1/snapshots?nodes=node1')" 400

# The manifest, byte for byte.
is "GET /v1/snapshots/<id>/manifest answers 200" "$(get "/v1/snapshots/$id1/manifest")" 200
ok "it is the stored manifest.json, byte for byte" cmp "$T/body" "$dir1/manifest.json"

# The archive.
is "GET /v1/snapshots/<id>/archive answers 200" \
    "$(get "/v1/snapshots/$id1/archive" -D "$T/headers")" 200
ok "as application/x-tar with its Content-Length" sh -c "
    grep -qi '^Content-Type: application/x-tar' '$T/headers' &&
    grep -qi \"^Content-Length: \$(stat -c %s '$T/body')\" '$T/headers'"
cp "$T/body" "$T/archive.tar"
ok "GNU tar reads it" tar -tvf "$T/archive.tar"
is "every member is under <id>/" \
    "$(tar -tf "$T/archive.tar" | grep -vc "^$id1/")" 0
ok "with manifest.json and the trace" sh -c "
    tar -tf '$T/archive.tar' | grep -qx '$id1/manifest.json' &&
    tar -tf '$T/archive.tar' | grep -q '^$id1/trace/.*metadata$'"

# tracetrap fetch and list.
mkdir "$T/fetched"
"$CLI" fetch "$id1" -o "$T/fetched" --relay "$API" >"$T/fetch.out" 2>&1
is "tracetrap fetch exits 0" "$?" 0
ok "and says how to read the trace" grep -q "babeltrace2 $T/fetched/$id1/trace" "$T/fetch.out"
ok "every fetched file matches the manifest's sha256" manifest_verifies "$T/fetched/$id1"
ok "babeltrace2 reads the fetched trace" sh -c \
    "babeltrace2 '$T/fetched/$id1/trace' | grep -q 'ttapp:tick'"
ok "the same events as the stored copy" bash -c \
    "cmp <(babeltrace2 '$T/fetched/$id1/trace') <(babeltrace2 '$dir1/trace')"
is "no temporary left in the output directory" \
    "$(find "$T/fetched" -mindepth 1 -maxdepth 1 | wc -l)" 1
"$CLI" fetch "$id1" -o "$T/fetched" --relay "$API" >/dev/null 2>&1
is "fetching over an existing copy: exit 2" "$?" 2
TRACETRAP_RELAY=$API "$CLI" list --node node1 >"$T/list.out" 2>&1
is "tracetrap list --node node1 exits 0" "$?" 0
ok "and shows both snapshots" sh -c "grep -q '^$id1 ' '$T/list.out' && grep -q '^$id2 ' '$T/list.out'"
ok "with their reasons" grep -q "slow checkout" "$T/list.out"
is "tracetrap list --json --node node1 --since 1h: 2" \
    "$("$CLI" list --json --node node1 --since 1h --relay "$API" | jq '.snapshots | length')" 2
is "tracetrap list --node other shows none" \
    "$("$CLI" list --node other --relay "$API" 2>/dev/null | wc -l)" 0

# A download bigger than the socket buffers, to a client that reads
# slowly: the loop keeps serving everyone else, and a client that goes
# away mid-archive is forgotten. (A sparse file: big, but cheap to read.)
truncate -s 64M "$dir1/trace/zz-padding"
curl -s --limit-rate 1M -o /dev/null "$API/v1/snapshots/$id1/archive" &
slow=$!
tt_pids="$tt_pids $slow"
ok "the API answers while a slow client downloads" wait_until 10 \
    '[ "$(curl -s -m 1 "$API/v1/status" | jq .api.transfers)" = 1 ]'
ok "within a second" curl -s -m 1 -o /dev/null "$API/v1/incidents"
kill "$slow" 2>/dev/null
ok "and forgets a client that went away" wait_until 10 \
    '[ "$(curl -s -m 1 "$API/v1/status" | jq .api.transfers)" = 0 ]'
# The same file breaks the snapshot's match with its manifest.
"$CLI" fetch "$id1" -o "$T/fetched2" --relay "$API" >"$T/fetch2.out" 2>&1
is "tracetrap fetch of a snapshot that does not match its manifest: exit 2" "$?" 2
ok "saying so" grep -q "does not match its manifest" "$T/fetch2.out"
is "and leaving nothing behind" "$(find "$T/fetched2" -mindepth 1 | wc -l)" 0
rm "$dir1/trace/zz-padding"

# Unknown and hostile ids.
is "an unknown id: 404" "$(get /v1/snapshots/node1-nosuch-1/manifest)" 404
is "as JSON" "$(body .error)" not_found
is "an unknown id's archive: 404" "$(get /v1/snapshots/node1-nosuch-1/archive)" 404
is "an unknown incident: 404" "$(get /v1/incidents/node1-nosuch-1)" 404
"$CLI" fetch node1-nosuch-1 -o "$T/fetched" --relay "$API" >/dev/null 2>&1
is "tracetrap fetch of an unknown id: exit 1" "$?" 1
is "and nothing left behind" "$(find "$T/fetched" -mindepth 1 -maxdepth 1 | wc -l)" 1
is "../etc as an id: 400" "$(get /v1/snapshots/../etc/manifest --path-as-is)" 400
is "..%2Fetc as an id: 400" "$(get /v1/snapshots/..%2Fetc/archive)" 400
is "../etc as an incident: 400" "$(get /v1/incidents/../etc --path-as-is)" 400
is "a hidden name as an id: 400" "$(get /v1/snapshots/.staging/manifest)" 400
"$CLI" fetch ../etc -o "$T/fetched" --relay "$API" >/dev/null 2>&1
is "tracetrap fetch ../etc: exit 2" "$?" 2
is "POST: 405" "$(get /v1/incidents -X POST)" 405
is "as JSON" "$(body .error)" method_not_allowed
is "an unknown endpoint: 404" "$(get /v1/nothing)" 404

# Metrics and status.
is "GET /metrics answers 200" "$(get /metrics)" 200
ok "with tracetrap_relay_uploads_total" grep -q '^tracetrap_relay_uploads_total{result="stored"} 2$' "$T/body"
ok "and the store's bytes" grep -q '^tracetrap_relay_store_bytes [1-9]' "$T/body"
is "GET /v1/status: uploads stored" "$(get /v1/status >/dev/null; body .stats.uploads_stored)" 2
is "and the recorder's connection" "$(body .connections)" 1

# With [api] token, set by SIGHUP: no restart needed.
sed -i "/^\[api\]$/a token = $TOKEN" "$T/relay.conf"
kill -HUP "$RELAY_PID"
ok "SIGHUP applies a new [api] token" wait_until 10 \
    '[ "$(get /v1/status)" = 401 ]'
is "with a token set: no token, 401" "$(get /v1/status -D "$T/headers")" 401
ok "with WWW-Authenticate: Bearer" grep -qi '^WWW-Authenticate: Bearer' "$T/headers"
is "as JSON" "$(body .error)" unauthorized
is "a wrong token: 401" "$(get /v1/status -H "Authorization: Bearer wrong-$TOKEN")" 401
is "a token of another scheme: 401" "$(get /v1/status -H "Authorization: Basic $TOKEN")" 401
is "the right token: 200" "$(get /v1/status -H "Authorization: Bearer $TOKEN")" 200
is "every endpoint needs it (/metrics)" "$(get /metrics)" 401
is "the manifest with the token: 200" \
    "$(get "/v1/snapshots/$id2/manifest" -H "Authorization: Bearer $TOKEN")" 200
TRACETRAP_RELAY=$API "$CLI" list >/dev/null 2>&1
is "tracetrap list without the token: exit 1" "$?" 1
is "tracetrap list with TRACETRAP_RELAY_TOKEN: both" \
    "$(TRACETRAP_RELAY=$API TRACETRAP_RELAY_TOKEN=$TOKEN "$CLI" list --json | jq '.snapshots | length')" 2
TRACETRAP_RELAY=$API TRACETRAP_RELAY_TOKEN=$TOKEN "$CLI" fetch "$id2" -o "$T/fetched" >/dev/null 2>&1
is "tracetrap fetch with TRACETRAP_RELAY_TOKEN: exit 0" "$?" 0
ok "and its files verify" manifest_verifies "$T/fetched/$id2"
is "the relay counts the refusals" \
    "$(get /v1/status -H "Authorization: Bearer $TOKEN" >/dev/null; body .api.unauthorized)" 6

# With [api] tls: HTTPS, client certificates from the fleet CA.
kill -TERM "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null
sed -i "s/^tls = .*//; /^\[api\]$/a tls = yes" "$T/relay.conf"
tt_start_relay
HTTPS=(--cacert "$T/pki/ca.pem" -H "Authorization: Bearer $TOKEN")
is "HTTPS with a fleet client certificate: 200" \
    "$(curl -s -o "$T/body" -w '%{http_code}' "${HTTPS[@]}" --cert "$T/pki/node1.pem" --key "$T/pki/node1.key" "https://127.0.0.1:$RELAY_API_PORT/v1/incidents")" 200
is "and the same incidents" "$(body '.incidents | length')" 2
ok "without a client certificate: refused" sh -c \
    "! curl -s -o /dev/null --cacert '$T/pki/ca.pem' https://127.0.0.1:$RELAY_API_PORT/v1/status"
ok "with another CA's certificate: refused" sh -c \
    "! curl -s -o /dev/null --cacert '$T/pki/ca.pem' --cert '$T/pki/intruder.pem' --key '$T/pki/intruder.key' https://127.0.0.1:$RELAY_API_PORT/v1/status"
ok "plain HTTP on the TLS port: refused" sh -c \
    "! curl -s -o /dev/null -m 5 http://127.0.0.1:$RELAY_API_PORT/v1/status"

# The CLI over HTTPS, with the node's certificate: the token never
# crosses the network in clear.
TLS_URL=https://127.0.0.1:$RELAY_API_PORT
tls_cli() {
	TRACETRAP_RELAY_TOKEN=$TOKEN "$CLI" "$@" --relay "$TLS_URL" \
	    --ca "$T/pki/ca.pem" --cert "$T/pki/node1.pem" \
	    --key "$T/pki/node1.key"
}
tls_cli list --json >"$T/tls-list.json" 2>"$T/tls-list.err"
is "tracetrap list over HTTPS with a client certificate: exit 0" "$?" 0
is "and the snapshots are there" \
    "$(jq -r '.snapshots | length' "$T/tls-list.json")" 2
rm -rf "$T/tls-fetched"
tls_cli fetch "$id2" -o "$T/tls-fetched" >"$T/tls-fetch.out" 2>&1
is "tracetrap fetch over HTTPS: exit 0" "$?" 0
ok "and its files verify" manifest_verifies "$T/tls-fetched/$id2"
TRACETRAP_RELAY_CA=$T/pki/ca.pem TRACETRAP_RELAY_CERT=$T/pki/node1.pem \
    TRACETRAP_RELAY_KEY=$T/pki/node1.key TRACETRAP_RELAY_TOKEN=$TOKEN \
    "$CLI" list --relay "$TLS_URL" >/dev/null 2>&1
is "the certificate from the environment: exit 0" "$?" 0
"$CLI" list --relay "$TLS_URL" --ca "$T/pki/ca.pem" >"$T/tls.out" 2>&1
is "without a client certificate: exit 2" "$?" 2
ok "saying the relay may want one" grep -q 'client certificate' "$T/tls.out"
"$CLI" list --relay "$TLS_URL" --cert "$T/pki/node1.pem" \
    --key "$T/pki/node1.key" >"$T/tls.out" 2>&1
is "without the fleet CA: exit 2" "$?" 2
ok "saying the relay's certificate is not trusted" grep -q 'not trusted' "$T/tls.out"
TRACETRAP_RELAY_TOKEN=$TOKEN "$CLI" list \
    --relay "https://localhost:$RELAY_API_PORT" --ca "$T/pki/ca.pem" \
    --cert "$T/pki/node1.pem" --key "$T/pki/node1.key" >"$T/tls.out" 2>&1
is "by the name in the relay's certificate (localhost): exit 0" "$?" 0
"$CLI" list --relay "$TLS_URL" --ca "$T/pki/ca.pem" \
    --cert "$T/pki/node1.pem" >"$T/tls.out" 2>&1
is "a certificate without its key is a usage error" "$?" 2
done_testing
