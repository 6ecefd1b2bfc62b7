#!/bin/bash
# A complete local scale-out tier for trying it and for the tests: a
# single-node Ceph (one monitor, one memstore OSD, radosgw with its beast
# frontend) and a PostgreSQL 15 cluster, all under one state directory, on
# loopback ports only. See README.md, "Scaling out".
#
#   conf/tier.sh start  [DIR] [ceph|postgresql|nodes]...
#                                                    start (default: all)
#   conf/tier.sh stop   [DIR]                        stop what start started
#   conf/tier.sh status [DIR]                        what runs, with pids
#   conf/tier.sh env    [DIR]                        shell assignments
#   conf/tier.sh stop-rgw | start-rgw [DIR]          radosgw alone (the
#                                                    tests' "store away")
#
# DIR defaults to $TIER_DIR or /tmp/tracetrap-tier. Ports: TIER_PORT (the
# base, default 17400): the monitor on BASE, radosgw on BASE+1, PostgreSQL
# on BASE+2, the OSD's messenger between BASE+10 and BASE+39; relay-1
# listens for recorders on BASE+3 (API BASE+4), relay-2 on BASE+5 (API
# BASE+6).
#
# The nodes part needs ceph and postgresql up and a built tree (BUILD,
# default the checkout's build/): dev certificates in DIR/pki, two relays
# on the bucket and the PostgreSQL catalog, and two recorders (node-a,
# node-b), each in its own mount namespace with its own lttng-sessiond
# and a demo app, listing both relays (node-a relay-1 first, node-b
# relay-2 first) so that either fails over to the other.
#
# Why these choices, learned from Ceph's own one-node scripts (vstart.sh,
# go-ceph's micro-osd.sh): `auth ... = none` because the tier listens on
# loopback only and cephx keyrings would add nothing but steps; with auth
# off the messenger v2 cannot run its "secure" mode (there is no session
# key), hence every `ms ... mode = crc`; memstore because it needs no disk
# format and starts in a second; no mgr, because radosgw and the
# monitor's commands work without one. Each daemon writes its pid file in
# DIR/run; stop kills those pids only, after checking that each is still
# the program it was (a pid can be reused), never anything by name.
set -u

cmd=${1:-}
[ $# -gt 0 ] && shift
DIR=${TIER_DIR:-/tmp/tracetrap-tier}
if [ $# -gt 0 ] && [ "${1#/}" != "$1" ]; then
	DIR=$1
	shift
fi
BASE=${TIER_PORT:-17400}
MON_PORT=$BASE
RGW_PORT=$((BASE + 1))
PG_PORT=$((BASE + 2))
REGION=${TIER_REGION:-default}
BUCKET=${TIER_BUCKET:-tracetrap}
PG_USER_OS=${TIER_PG_OS_USER:-postgres}
CONF=$DIR/ceph/ceph.conf
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
RELAYS="relay-1 relay-2"
NODES="node-a node-b"
PG_BIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin \
    2>/dev/null | sort -V | tail -1)

die() { echo "tier.sh: $*" >&2; exit 1; }
say() { echo "tier.sh: $*" >&2; }

ceph_cli() { timeout 20 ceph -c "$CONF" --connect-timeout 10 "$@"; }

# pid_of NAME: the pid in DIR/run/NAME.pid if it is alive and still the
# program named EXE (argv[0]'s base name).
pid_of() {
	local name=$1 exe=$2 pid
	pid=$(cat "$DIR/run/$name.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	[ "$(basename "$(tr '\0' '\n' <"/proc/$pid/cmdline" | head -1)")" = \
	    "$exe" ] || return 1
	echo "$pid"
}

stop_pid() {
	local name=$1 exe=$2 pid _
	pid=$(pid_of "$name" "$exe") || { rm -f "$DIR/run/$name.pid"; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	rm -f "$DIR/run/$name.pid"
}

port_free() {
	! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# wait_until SECONDS COMMAND...
wait_until() {
	local deadline=$(( $(date +%s) + $1 ))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || die "$c is missing (make deps installs it)"
	done
}

write_ceph_conf() {
	cat >"$CONF" <<EOF
# Written by conf/tier.sh: a one-node test cluster, loopback only.
[global]
fsid = $(cat "$DIR/ceph/fsid")
mon host = v2:127.0.0.1:$MON_PORT
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind ipv6 = false
ms bind port min = $((BASE + 10))
ms bind port max = $((BASE + 39))
auth cluster required = none
auth service required = none
auth client required = none
ms cluster mode = crc
ms service mode = crc
ms client mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
ms mon client mode = crc
keyring = $DIR/ceph/keyring
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
log to stderr = false
err to stderr = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail crit = 0
mon data avail warn = 0
mon allow pool delete = true
# This host's clock is the cluster's only clock.
mon clock drift allowed = 1

[mon.a]
public addr = v2:127.0.0.1:$MON_PORT
mon data = $DIR/ceph/mon
chdir = ""

[osd.0]
osd data = $DIR/ceph/osd
osd objectstore = memstore
memstore device bytes = ${TIER_MEMSTORE_BYTES:-4294967296}
chdir = ""
osd class load list = *
osd class default list = *

[client.rgw.tier]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw dns name = 127.0.0.1
EOF
}

start_ceph() {
	local uuid t0=$SECONDS
	need ceph-mon ceph-osd radosgw radosgw-admin ceph curl uuidgen
	for p in $MON_PORT $RGW_PORT; do
		port_free "$p" || die "port $p is in use (set TIER_PORT)"
	done
	pid_of mon.a ceph-mon >/dev/null && die "ceph already running in $DIR"
	rm -rf "$DIR/ceph"
	mkdir -p "$DIR/ceph/mon" "$DIR/ceph/osd" "$DIR/run" "$DIR/log"
	: >"$DIR/ceph/keyring"
	uuidgen >"$DIR/ceph/fsid"
	write_ceph_conf

	ceph-mon -c "$CONF" -i a --mkfs >>"$DIR/log/setup.log" 2>&1 ||
	    die "ceph-mon --mkfs failed: $(tail -3 "$DIR/log/setup.log")"
	ceph-mon -c "$CONF" -i a >>"$DIR/log/setup.log" 2>&1 ||
	    die "ceph-mon did not start: $(tail -3 "$DIR/log/mon.a.log")"
	wait_until 30 ceph_cli mon stat ||
	    die "the monitor does not answer: $(tail -3 "$DIR/log/mon.a.log")"

	uuid=$(uuidgen)
	[ "$(ceph_cli osd new "$uuid" 2>>"$DIR/log/setup.log")" = 0 ] ||
	    die "ceph osd new failed"
	ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$uuid" \
	    >>"$DIR/log/setup.log" 2>&1 ||
	    die "ceph-osd --mkfs failed: $(tail -3 "$DIR/log/setup.log")"
	ceph-osd -c "$CONF" -i 0 >>"$DIR/log/setup.log" 2>&1 ||
	    die "ceph-osd did not start: $(tail -3 "$DIR/log/osd.0.log")"
	wait_until 60 sh -c "ceph -c '$CONF' --connect-timeout 5 osd stat |
	    grep -q '1 up'" ||
	    die "the OSD did not come up: $(tail -3 "$DIR/log/osd.0.log")"
	start_rgw
	create_s3_user
	say "ceph + radosgw ready in $((SECONDS - t0)) s" \
	    "(http://127.0.0.1:$RGW_PORT, bucket $BUCKET)"
}

start_rgw() {
	pid_of client.rgw.tier radosgw >/dev/null && return 0
	port_free "$RGW_PORT" || die "port $RGW_PORT is in use"
	radosgw -c "$CONF" -n client.rgw.tier >>"$DIR/log/setup.log" 2>&1 ||
	    die "radosgw did not start: $(tail -3 "$DIR/log/client.rgw.tier.log")"
	# radosgw creates its pools before it listens: answering means ready.
	wait_until 90 curl -sf -o /dev/null "http://127.0.0.1:$RGW_PORT/" ||
	    die "radosgw does not answer: $(tail -3 "$DIR/log/client.rgw.tier.log")"
}

create_s3_user() {
	local access secret
	access=TT$(openssl rand -hex 9 | tr a-f A-F)
	secret=$(openssl rand -base64 30 | tr -d '\n/+=' | cut -c1-40)
	radosgw-admin -c "$CONF" -n client.rgw.tier user create \
	    --uid tracetrap --display-name "tracetrap relays" \
	    --access-key "$access" --secret-key "$secret" \
	    >>"$DIR/log/setup.log" 2>&1 || die "radosgw-admin user create failed"
	# The relay's [store] s3_credentials format: two keys, mode 0600.
	( umask 077
	  printf 'access_key = %s\nsecret_key = %s\n' "$access" "$secret" \
	      >"$DIR/s3-credentials" )
	curl -sf -X PUT --aws-sigv4 "aws:amz:$REGION:s3" \
	    --user "$access:$secret" \
	    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
	    "http://127.0.0.1:$RGW_PORT/$BUCKET" >>"$DIR/log/setup.log" 2>&1 ||
	    die "creating bucket $BUCKET failed"
}

pg_run() { runuser -u "$PG_USER_OS" -- "$@"; }

start_postgresql() {
	local t0=$SECONDS pass
	[ -x "$PG_BIN/initdb" ] || die "PostgreSQL is missing (make deps installs it)"
	id "$PG_USER_OS" >/dev/null 2>&1 ||
	    die "no user $PG_USER_OS to run PostgreSQL as (set TIER_PG_OS_USER)"
	port_free "$PG_PORT" || die "port $PG_PORT is in use (set TIER_PORT)"
	[ -f "$DIR/postgresql/data/postmaster.pid" ] &&
	    pid_of postgresql postgres >/dev/null &&
	    die "postgresql already running in $DIR"
	rm -rf "$DIR/postgresql"
	mkdir -p "$DIR/postgresql/run" "$DIR/run" "$DIR/log"
	chown "$PG_USER_OS" "$DIR/postgresql" "$DIR/postgresql/run"
	chmod 0700 "$DIR/postgresql/run"
	pg_run test -x "$DIR/postgresql" ||
	    die "$PG_USER_OS cannot enter $DIR: make it and its parents searchable"
	pass=$(openssl rand -hex 16)
	( umask 077; echo "$pass" >"$DIR/postgresql/pwfile" )
	chown "$PG_USER_OS" "$DIR/postgresql/pwfile"
	# The superuser and the tracetrap role sign in with a password over
	# TCP (scram); the OS user postgres alone may use peer on the socket.
	pg_run "$PG_BIN/initdb" -D "$DIR/postgresql/data" -U postgres \
	    --auth-local=peer --auth-host=scram-sha-256 \
	    --pwfile="$DIR/postgresql/pwfile" -E UTF8 --locale=C.UTF-8 \
	    >>"$DIR/log/setup.log" 2>&1 || die "initdb failed"
	pg_run "$PG_BIN/pg_ctl" -D "$DIR/postgresql/data" -w -t 60 \
	    -l "$DIR/postgresql/postgresql.log" \
	    -o "-p $PG_PORT -k $DIR/postgresql/run -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=32MB" \
	    start >>"$DIR/log/setup.log" 2>&1 ||
	    die "PostgreSQL did not start: $(tail -3 "$DIR/postgresql/postgresql.log")"
	head -1 "$DIR/postgresql/data/postmaster.pid" >"$DIR/run/postgresql.pid"
	pg_run psql -q -h "$DIR/postgresql/run" -p "$PG_PORT" -U postgres \
	    -d postgres -v ON_ERROR_STOP=1 >>"$DIR/log/setup.log" 2>&1 <<EOF ||
CREATE ROLE tracetrap LOGIN PASSWORD '$pass';
CREATE DATABASE tracetrap OWNER tracetrap;
EOF
	    die "creating the tracetrap role and database failed"
	( umask 077
	  printf '127.0.0.1:%s:tracetrap:tracetrap:%s\n' "$PG_PORT" "$pass" \
	      >"$DIR/pgpass" )
	rm -f "$DIR/postgresql/pwfile"
	say "postgresql ready in $((SECONDS - t0)) s (127.0.0.1:$PG_PORT)"
}

stop_postgresql() {
	local pid
	pid=$(pid_of postgresql postgres) || { rm -f "$DIR/run/postgresql.pid"; return 0; }
	# SIGINT is PostgreSQL's fast shutdown.
	kill -INT "$pid" 2>/dev/null
	wait_until 30 sh -c "! kill -0 $pid" || kill -KILL "$pid"
	rm -f "$DIR/run/postgresql.pid"
}

# relay_port NAME: where relay-N listens for recorders (its API is +1).
relay_port() { echo $((BASE + 1 + 2 * ${1#relay-})); }

# wait_ready FIFO LOG: the READY=1 a daemon writes once it serves.
wait_ready() {
	[ "$(timeout 30 head -n1 "$1")" = "READY=1" ] ||
	    die "$(basename "$(dirname "$1")") did not become ready: $(tail -3 "$2")"
}

start_relay() {
	local name=$1 dir=$DIR/$1 port
	port=$(relay_port "$name")
	if ! port_free "$port" || ! port_free $((port + 1)); then
		die "port $port or $((port + 1)) is in use (set TIER_PORT)"
	fi
	mkdir -p "$dir/staging"
	cat >"$dir/relay.conf" <<EOF
# Written by conf/tier.sh; conf/relay.conf documents every key.
[node]
name = $name
[listen]
address = 127.0.0.1:$port
ca = $DIR/pki/ca.pem
cert = $DIR/pki/relay.pem
key = $DIR/pki/relay.key
[api]
address = 127.0.0.1:$((port + 1))
[store]
dir = $dir/staging
min_free = 0
backend = s3
s3_endpoint = http://127.0.0.1:$RGW_PORT
s3_region = $REGION
s3_bucket = $BUCKET
s3_credentials = $DIR/s3-credentials
[catalog]
backend = postgresql
conninfo = host=127.0.0.1 port=$PG_PORT dbname=tracetrap user=tracetrap
[fleet]
cooldown = 10s
EOF
	rm -f "$dir/ready"
	mkfifo "$dir/ready"
	PGPASSFILE=$DIR/pgpass setsid "$BUILD/tracetrap-relay" -d -f \
	    "$dir/relay.conf" --ready-fd 3 3<>"$dir/ready" \
	    >>"$dir/relay.log" 2>&1 </dev/null &
	echo $! >"$DIR/run/$name.pid"
	wait_ready "$dir/ready" "$dir/relay.log"
}

# A recorder in a mount namespace of its own: its /run/lttng and
# /dev/shm are private, so its lttng-sessiond is its own.
start_recorder() {
	local name=$1 dir=$DIR/$1 first=$2 second=$3
	mkdir -p "$dir/home"
	cat >"$dir/recorder.conf" <<EOF
# Written by conf/tier.sh; conf/recorder.conf documents every key.
[node]
name = $name
[session]
subbuf_size = 256k
subbuf_count = 4
[control]
socket = $dir/control.sock
mode = 0666
[trigger]
socket = $dir/trigger.sock
mode = 0666
[spool]
dir = $dir/spool
[limits]
cooldown = 2s
[relay]
address = 127.0.0.1:$(relay_port "$first"), 127.0.0.1:$(relay_port "$second")
ca = $DIR/pki/ca.pem
cert = $DIR/pki/$name.pem
key = $DIR/pki/$name.key
reconnect_min = 100ms
reconnect_max = 2s
EOF
	rm -f "$dir/ready"
	mkfifo "$dir/ready"
	# shellcheck disable=SC2016 # expanded by the inner shell
	setsid unshare -m --propagation private bash -c '
		mount -t tmpfs -o mode=0755 tmpfs /run/lttng
		mount -t tmpfs -o mode=1777 tmpfs /dev/shm
		export LTTNG_HOME=$1/home
		lttng-sessiond --daemonize --no-kernel >>"$1/sessiond.log" 2>&1
		for pid in $(pgrep -x lttng-sessiond); do
			[ "$(readlink /proc/$pid/ns/mnt)" = \
			    "$(readlink /proc/self/ns/mnt)" ] && echo "$pid"
		done >"$3/$4-sessiond.pid"
		"$2/tests/ttapp" 0 "$1/app.state" >>"$1/app.log" 2>&1 &
		echo $! >"$3/$4-app.pid"
		echo $$ >"$3/$4.pid"
		exec "$2/tracetrap-recorder" -d -f "$1/recorder.conf" \
		    --ready-fd 3 3<>"$1/ready" >>"$1/recorder.log" 2>&1
	' node "$dir" "$BUILD" "$DIR/run" "$name" </dev/null >/dev/null 2>&1 &
	wait_ready "$dir/ready" "$dir/recorder.log"
}

start_nodes() {
	local t0=$SECONDS name exe file
	for exe in tracetrap-relay tracetrap-recorder tests/ttapp; do
		[ -x "$BUILD/$exe" ] ||
		    die "build first: make all $BUILD/tests/ttapp (or make tier)"
	done
	for file in s3-credentials pgpass; do
		[ -f "$DIR/$file" ] ||
		    die "the nodes need ceph and postgresql: conf/tier.sh start $DIR"
	done
	need lttng-sessiond unshare setsid
	[ "$(id -u)" = 0 ] || die "the recorders' mount namespaces need root"
	# shellcheck disable=SC2086 # two names
	"$ROOT/conf/make-dev-certs.sh" "$DIR/pki" $NODES >>"$DIR/log/setup.log" \
	    2>&1 || die "making certificates failed"
	for name in $RELAYS; do
		pid_of "$name" tracetrap-relay >/dev/null &&
		    die "$name already running in $DIR"
		start_relay "$name"
	done
	start_recorder node-a relay-1 relay-2
	start_recorder node-b relay-2 relay-1
	say "2 relays + 2 recorders ready in $((SECONDS - t0)) s" \
	    "(APIs http://127.0.0.1:$(( $(relay_port relay-1) + 1 ))/ and" \
	    "http://127.0.0.1:$(( $(relay_port relay-2) + 1 ))/)"
}

stop_nodes() {
	local name
	for name in $NODES; do
		stop_pid "$name" tracetrap-recorder
		stop_pid "$name-app" ttapp
		stop_pid "$name-sessiond" lttng-sessiond
	done
	for name in $RELAYS; do
		stop_pid "$name" tracetrap-relay
	done
}

print_env() {
	if [ -f "$DIR/s3-credentials" ]; then
		cat <<EOF
TIER_DIR=$DIR
TT_S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
TT_S3_REGION=$REGION
TT_S3_BUCKET=$BUCKET
TT_S3_CREDENTIALS=$DIR/s3-credentials
EOF
	fi
	if [ -f "$DIR/pgpass" ]; then
		cat <<EOF
TT_PG_CONNINFO='host=127.0.0.1 port=$PG_PORT dbname=tracetrap user=tracetrap'
PGPASSFILE=$DIR/pgpass
EOF
	fi
	if [ -f "$DIR/relay-1/relay.conf" ]; then
		cat <<EOF
TT_RELAY_1_API=http://127.0.0.1:$(( $(relay_port relay-1) + 1 ))
TT_RELAY_2_API=http://127.0.0.1:$(( $(relay_port relay-2) + 1 ))
TT_NODE_A_SOCKET=$DIR/node-a/control.sock
TT_NODE_B_SOCKET=$DIR/node-b/control.sock
EOF
	fi
}

show_status() {
	local name exe pid state=0
	for name in mon.a:ceph-mon osd.0:ceph-osd client.rgw.tier:radosgw \
	    postgresql:postgres relay-1:tracetrap-relay relay-2:tracetrap-relay \
	    node-a:tracetrap-recorder node-b:tracetrap-recorder; do
		exe=${name#*:}
		name=${name%%:*}
		if pid=$(pid_of "$name" "$exe"); then
			printf '%-16s running  pid %-8s rss %s kB\n' "$name" "$pid" \
			    "$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")"
		else
			printf '%-16s stopped\n' "$name"
			state=3
		fi
	done
	return $state
}

case $cmd in
start)
	t_start=$SECONDS
	mkdir -p "$DIR"
	chmod 0755 "$DIR"
	parts=${*:-ceph postgresql nodes}
	for part in $parts; do
		case $part in
		ceph) start_ceph ;;
		postgresql) start_postgresql ;;
		nodes) start_nodes ;;
		*) die "unknown part $part (ceph, postgresql, nodes)" ;;
		esac
	done
	print_env >"$DIR/tier.env"
	say "tier ready in $((SECONDS - t_start)) s; conf/tier.sh env $DIR"
	;;
stop)
	stop_nodes
	stop_pid client.rgw.tier radosgw
	stop_pid osd.0 ceph-osd
	stop_pid mon.a ceph-mon
	stop_postgresql
	;;
stop-rgw)
	stop_pid client.rgw.tier radosgw
	;;
start-rgw)
	[ -f "$CONF" ] || die "no tier in $DIR"
	start_rgw
	;;
status)
	show_status
	;;
env)
	[ -f "$DIR/tier.env" ] || die "no tier in $DIR (conf/tier.sh start)"
	print_env
	;;
*)
	sed -n '2,15s/^# \{0,1\}//p' "$0" >&2
	exit 2
	;;
esac
