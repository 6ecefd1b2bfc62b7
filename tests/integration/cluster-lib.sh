# Relays sharing cluster triggers through PostgreSQL, for
# cluster-relays.t and bench/fanout-relays.sh. Sourced after lib.sh and
# tt_enter: starts conf/tier.sh's PostgreSQL under $T/tier (stopped on
# exit), and writes and runs relay N with ports 544N (recorders) and 548N
# (API), its store in $T/rN, its log in $T/relayN.log.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	echo "1..0 # SKIP PostgreSQL is not installed (make deps installs it)"
	exit 0
fi
TIER=$T/tier

cluster_cleanup() {
	local status=$?
	"$TT_ROOT/conf/tier.sh" stop "$TIER" >/dev/null 2>&1
	(exit "$status")
	tt_cleanup
}
trap cluster_cleanup EXIT

"$TT_ROOT/conf/tier.sh" start "$TIER" postgresql >"$T/tier.log" 2>&1 ||
    bail "PostgreSQL did not start: $(tail -3 "$T/tier.log")"
eval "$("$TT_ROOT/conf/tier.sh" env "$TIER")"
export PGPASSFILE
sql() { psql "$TT_PG_CONNINFO" -v ON_ERROR_STOP=1 -Atqc "$1"; }

# relay_conf N [FLEET LINES]: $T/rN/relay.conf.
relay_conf() {
	mkdir -p "$T/r$1"
	cat >"$T/r$1/relay.conf" <<EOC
[relay]
name = relay$1
[listen]
address = 127.0.0.1:544$1
ca = $T/pki/ca.pem
cert = $T/pki/relay.pem
key = $T/pki/relay.key
[api]
address = 127.0.0.1:548$1
[store]
dir = $T/r$1/store
min_free = 1M
[catalog]
backend = postgresql
conninfo = "$TT_PG_CONNINFO"
[fleet]
$2
EOC
}

# try_start_relay N: runs relay N, its pid in RELAY_PIDS[N]; fails if it
# does not become ready.
declare -a RELAY_PIDS
try_start_relay() {
	rm -f "$T/r$1/ready"
	mkfifo "$T/r$1/ready"
	"$RELAY" -d -v -f "$T/r$1/relay.conf" --ready-fd 3 3>"$T/r$1/ready" \
	    >>"$T/relay$1.log" 2>&1 &
	RELAY_PIDS[$1]=$!
	tt_pids="$tt_pids $!"
	[ "$(timeout 20 head -n1 "$T/r$1/ready")" = "READY=1" ]
}

# start_relay N: the same, and connected to PostgreSQL, or bail out.
start_relay() {
	try_start_relay "$1" ||
	    bail "relay $1 did not become ready: $(tail -3 "$T/relay$1.log")"
	wait_until 20 "[ \"\$(relay_status $1 .cluster.connected)\" = true ]" ||
	    bail "relay $1 did not connect to PostgreSQL: $(tail -3 "$T/relay$1.log")"
}

# stopped PID: gone, or a zombie this shell has not reaped.
stopped() {
	! kill -0 "$1" 2>/dev/null || [ "$(awk '{ print $3 }' "/proc/$1/stat")" = Z ]
}

# super SQL: as the postgres superuser, over the tier's socket.
PG_PORT=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$TT_PG_CONNINFO")
super() {
	runuser -u postgres -- psql -h "$TIER/postgresql/run" -p "$PG_PORT" \
	    -U postgres -d tracetrap -v ON_ERROR_STOP=1 -Atqc "$1"
}

# hold NAME SQL: a session named NAME runs SQL (a lock) and waits, until
# release NAME; hold returns once SQL is done.
hold() {
	PGAPPNAME=$1 psql "$TT_PG_CONNINFO" -Atqc "begin; $2; select pg_sleep(120)" \
	    >/dev/null 2>&1 &
	tt_pids="$tt_pids $!"
	wait_until 10 "[ \"\$(sql \"select count(*) from pg_stat_activity where application_name = '$1' and wait_event = 'PgSleep'\")\" = 1 ]" ||
	    bail "$1 did not get its lock"
}
release() {
	sql "select pg_terminate_backend(pid) from pg_stat_activity where application_name = '$1'" >/dev/null
}
# waiting: how many relay sessions wait for a lock.
waiting() {
	sql "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and application_name like 'tracetrap-relay %'"
}

# relay_status N JQ: a field of relay N's /v1/status.
relay_status() { curl -s "http://127.0.0.1:548$1/v1/status" | jq -r "$2"; }
