#!/bin/bash
# [catalog] backend = postgresql: real relays on conf/tier.sh's
# PostgreSQL, real uploads (bench/upload_client.py, TLS 1.3, a real trace
# ttreq wrote), listed by the API with its filters and analyzed; a second
# relay on the same database lists the first one's snapshots and the
# first the second's; PostgreSQL stopped under a running relay refuses an
# upload "catalog: ... try again" (and the API answers 503 or an error,
# never hangs), and once it is back the upload sent again is catalogued
# through a new connection; a relay started on an existing schema runs
# no migration.
. "$(dirname "$0")/lib.sh"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	echo "1..0 # SKIP PostgreSQL is not installed (make deps installs it)"
	exit 0
fi
tt_need "$RELAY" "$BUILD/tests/ttreq"
tt_enter "$@"
TIER=$T/tier
chmod 755 "$T"

pg_cleanup() {
	local status=$?
	"$TT_ROOT/conf/tier.sh" stop "$TIER" >/dev/null 2>&1
	if [ "$tap_failed" -gt 0 ] || [ "$status" -ne 0 ]; then
		tail -20 "$T/relay.log" "$T/relay2.log" "$T/upload.log" \
		    "$TIER/postgresql/postgresql.log" 2>/dev/null | sed 's/^/# /'
	fi
	(exit "$status")
	tt_cleanup
}
trap pg_cleanup EXIT

"$TT_ROOT/conf/tier.sh" start "$TIER" postgresql >"$T/tier.log" 2>&1 ||
    bail "PostgreSQL did not start: $(tail -3 "$T/tier.log")"
eval "$("$TT_ROOT/conf/tier.sh" env "$TIER")"
export PGPASSFILE
PG_BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1)")
pg_ctl() {
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$TIER/postgresql/data" \
	    -w -t 60 "$@" >>"$T/pg_ctl.log" 2>&1
	# tier.sh stops what its pid file names: the new postmaster's.
	head -1 "$TIER/postgresql/data/postmaster.pid" \
	    >"$TIER/run/postgresql.pid" 2>/dev/null
}
psql_value() { psql "$TT_PG_CONNINFO" -Atc "$1"; }

tt_certs web1 web2 db1
tt_relay_config "[catalog]
backend = postgresql
conninfo = $TT_PG_CONNINFO
[analysis]
workers = 1"
tt_start_relay
api() { curl -s -m 30 "http://127.0.0.1:$RELAY_API_PORT$1"; }
ok "the first relay migrated the schema" \
    grep -q "PostgreSQL schema migrated from version 0 to 2" "$T/relay.log"
is "the catalog's part is at version 2" \
    "$(psql_value "select version from tracetrap_schema where part = 'catalog'")" 2

# A real snapshot: 40 requests over four URIs, one failing.
for i in $(seq 40); do
	echo "begin 0 r$i GET /api/v$((i % 4)) web"
	echo "end 0 r$i GET /api/v$((i % 4)) web $((200 + (i == 7) * 303)) $((i * 37)) 0"
done >"$T/requests"
"$TT_ROOT/tests/apps/mktrace.sh" "$T/rec" 256k 4 "$BUILD/tests/ttreq" \
    "$T/requests" "$T/req.state" >"$T/mktrace.log" 2>&1 ||
    bail "mktrace.sh: $(tail -2 "$T/mktrace.log")"
trace=$(dirname "$(find "$T/rec/trace" -name metadata | head -1)")

upload() {	# PORT NODES UPLOADS [ARGS...]
	python3 "$TT_ROOT/bench/upload_client.py" --port "$1" --pki "$T/pki" \
	    --nodes "$2" --uploads "$3" --duration 0 --trace "$trace" \
	    --timeout 60 --reason "slow login" "${@:4}" "$T/upload.out" \
	    >>"$T/upload.log" 2>&1
}
ok "web1 and web2 upload 3 snapshots each" upload "$RELAY_PORT" web1,web2 3
is "the API lists 6 snapshots" "$(api /v1/snapshots | jq '.snapshots | length')" 6
is "the catalog has them" "$(psql_value 'select count(*) from snapshots')" 6
is "filtered by node" \
    "$(api '/v1/snapshots?node=web2' | jq '[.snapshots[].node] | unique')" \
    '[
  "web2"
]'
is "filtered by source and limit" \
    "$(api '/v1/snapshots?source=bench&limit=2' | jq '.snapshots | length')" 2
is "incidents found by their reason's text, any case" \
    "$(api '/v1/incidents?q=Slow%20Login' | jq '.incidents | length')" 6
is "6 incidents, newest first" \
    "$(api /v1/incidents | jq '[.incidents[].last_taken_at_us] | (length == 6 and . == (sort | reverse))')" true
wait_until 120 '[ "$(api /v1/snapshots | jq "[.snapshots[] | select(.analysis == \"done\")] | length")" = 6 ]'
ok "all 6 analyzed" [ $? -eq 0 ]
is "the summary's figures are in the listing" \
    "$(api /v1/snapshots | jq '[.snapshots[].requests] | unique')" '[
  40
]'
is "filtered by URI (snapshot_uris)" \
    "$(api '/v1/snapshots?uri=/api/v1' | jq '.snapshots | length')" 6
is "filtered by status (snapshot_statuses)" \
    "$(api '/v1/snapshots?status=503' | jq '.snapshots | length')" 6
id=$(api '/v1/incidents?limit=1' | jq -r '.incidents[0].id')
is "one incident with its snapshot and its analysis" \
    "$(api "/v1/incidents/$id" | jq -c '{n: (.snapshots | length), analyzed}')" \
    '{"n":1,"analyzed":1}'

# A second relay on the same database, a store of its own.
cat >"$T/relay2.conf" <<EOF
[relay]
name = relay2
[listen]
address = 127.0.0.1:5444
ca = $T/pki/ca.pem
cert = $T/pki/relay.pem
key = $T/pki/relay.key
[api]
address = 127.0.0.1:5481
[store]
dir = $T/store2
min_free = 1M
[catalog]
backend = postgresql
conninfo = $TT_PG_CONNINFO
EOF
rm -f "$T/relay2-ready"; mkfifo "$T/relay2-ready"
"$RELAY" -d -v -f "$T/relay2.conf" --ready-fd 3 3>"$T/relay2-ready" \
    >>"$T/relay2.log" 2>&1 &
tt_pids="$tt_pids $!"
[ "$(timeout 20 head -n1 "$T/relay2-ready")" = "READY=1" ] ||
    bail "the second relay did not start: $(tail -3 "$T/relay2.log")"
ok "the second relay, on the existing schema, migrated nothing" \
    sh -c "! grep -q 'schema migrated' '$T/relay2.log'"
is "still one row of the catalog's version" \
    "$(psql_value "select count(*) from tracetrap_schema where part = 'catalog'")" 1
ok "db1 uploads 2 snapshots to the second relay" upload 5444 db1 2
is "the first relay lists the second's" \
    "$(api '/v1/snapshots?node=db1' | jq '.snapshots | length')" 2
is "the second lists the first's" \
    "$(curl -s "http://127.0.0.1:5481/v1/snapshots" | jq '.snapshots | length')" 8

# PostgreSQL stopped under a running relay: refused, never lost.
pg_ctl stop -m fast
: >"$T/upload.log"
upload "$RELAY_PORT" web1 1
is "the upload is refused: catalog, try again" \
    "$(grep -c 'catalog: .*try again' "$T/upload.log")" 1
code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RELAY_API_PORT/v1/snapshots")
ok "the API answers an error, not a hang ($code)" [ "$code" -ge 500 ]
refused=$(api /v1/status | jq .stats.uploads_refused)
pg_ctl start -o "-p 17402 -k $TIER/postgresql/run -c listen_addresses=127.0.0.1 -c fsync=off"
ok "web1 uploads again once PostgreSQL is back" upload "$RELAY_PORT" web1 1
is "the new upload is catalogued after the reconnect" \
    "$(api '/v1/snapshots?node=web1' | jq '.snapshots | length')" 4
is "nothing refused after" "$(api /v1/status | jq .stats.uploads_refused)" "$refused"

# pg_ctl restart while the relays hold connections: reset, retried.
pg_ctl restart -m fast
ok "after a restart, the next upload is stored" upload "$RELAY_PORT" web2 1
is "and listed by the other relay" \
    "$(curl -s "http://127.0.0.1:5481/v1/snapshots?node=web2" | jq '.snapshots | length')" 4

done_testing
