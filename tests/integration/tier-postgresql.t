#!/bin/bash
# conf/tier.sh's PostgreSQL: started as the postgres user on a loopback
# port with a private socket directory, a tracetrap role and database
# reached with the conninfo and password file `tier.sh env` prints, and
# stopped by its pid alone.
. "$(dirname "$0")/lib.sh"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	echo "1..0 # SKIP PostgreSQL is not installed (make deps installs it)"
	exit 0
fi
tt_enter "$@"
TIER=$T/tier

pg_cleanup() {
	local status=$?
	"$TT_ROOT/conf/tier.sh" stop "$TIER" >/dev/null 2>&1
	if [ "$tap_failed" -gt 0 ] || [ "$status" -ne 0 ]; then
		tail -20 "$TIER/postgresql/postgresql.log" "$TIER/log/setup.log" \
		    2>/dev/null | sed 's/^/# /'
	fi
	(exit "$status")
	tt_cleanup
}
trap pg_cleanup EXIT

start=$(date +%s%N)
"$TT_ROOT/conf/tier.sh" start "$TIER" postgresql >"$T/tier.log" 2>&1 ||
    bail "PostgreSQL did not start: $(tail -3 "$T/tier.log")"
echo "# tier (postgresql) started in $(( ($(date +%s%N) - start) / 1000000 )) ms"
eval "$("$TT_ROOT/conf/tier.sh" env "$TIER")"
export PGPASSFILE

is "the password file is 0600" "$(stat -c %a "$PGPASSFILE")" 600
is "the conninfo signs in as tracetrap to its database" \
    "$(psql "$TT_PG_CONNINFO" -Atc 'select current_user, current_database()')" \
    "tracetrap|tracetrap"
ok "the role can create its schema" \
    psql "$TT_PG_CONNINFO" -v ON_ERROR_STOP=1 -qc 'create table t (id int)'
ok "no password, no entry" sh -c \
    "! PGPASSFILE=/dev/null psql -w '$TT_PG_CONNINFO' -c 'select 1'"
is "listening on loopback only" \
    "$(ss -Hltn "sport = :17402" | awk '{ print $4 }' | sort -u)" "127.0.0.1:17402"
ok "status shows it running" sh -c \
    "'$TT_ROOT/conf/tier.sh' status '$TIER' | grep -q '^postgresql *running'"
pid=$(cat "$TIER/run/postgresql.pid")
"$TT_ROOT/conf/tier.sh" stop "$TIER"
ok "stop ends it" sh -c "! kill -0 $pid 2>/dev/null"

echo "1..$tap_count"
[ "$tap_failed" -eq 0 ]
