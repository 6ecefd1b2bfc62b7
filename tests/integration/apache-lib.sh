# Helpers of the Apache tests (apache-*.t), sourced after lib.sh.
#
# Each test runs its own apache2 from a complete configuration of its own
# ($T/httpd.conf: ServerRoot, PidFile, logs and runtime dir under $T), in
# the foreground, on a port of its own inside the test's network
# namespace. It loads mod_tracetrap and the tests' handler (mod_tttest:
# /tt?sleep=MS&status=N) from $BUILD, and sends its triggers to the test
# recorder's socket. Children run as www-data, as on Debian.

MOD_TRACETRAP=$BUILD/mod_tracetrap.so
MOD_TTTEST=$BUILD/tests/mod_tttest.so
APACHE_MODULES=/usr/lib/apache2/modules
APACHE_PORT=18080
APACHE_URL=http://127.0.0.1:$APACHE_PORT
APACHE_USER=www-data

tt_apache_check() {
	command -v apache2 >/dev/null || bail "apache2 is not installed (make deps)"
	[ -f "$MOD_TRACETRAP" ] || bail "$MOD_TRACETRAP is not built (make apache)"
	[ -f "$MOD_TTTEST" ] || bail "$MOD_TTTEST is not built"
}

# tt_apache_config MPM [EXTRA CONFIG TEXT] [FILE]: writes $T/httpd.conf
# (or FILE). MPM is event, worker or prefork. Logs: $T/apache-error.log,
# $T/apache-access.log ("<request id> <status> <path>" per request).
tt_apache_config() {
	local mpm=$1 extra=$2 file=${3:-$T/httpd.conf}
	mkdir -p "$T/apache/run" "$T/htdocs"
	echo "static page" >"$T/htdocs/index.html"
	cat >"$file" <<EOF
ServerRoot $T/apache
ServerName 127.0.0.1
Listen 127.0.0.1:$APACHE_PORT
PidFile $T/apache/run/httpd.pid
DefaultRuntimeDir $T/apache/run
User $APACHE_USER
Group $APACHE_USER
ErrorLog $T/apache-error.log
LogLevel warn
LoadModule mpm_${mpm}_module $APACHE_MODULES/mod_mpm_${mpm}.so
LoadModule authz_core_module $APACHE_MODULES/mod_authz_core.so
LoadModule mime_module $APACHE_MODULES/mod_mime.so
LoadModule status_module $APACHE_MODULES/mod_status.so
LoadModule tttest_module $MOD_TTTEST
LoadModule tracetrap_module $MOD_TRACETRAP
TypesConfig /etc/mime.types
DocumentRoot $T/htdocs
LogFormat "%{UNIQUE_ID}e %>s %U" tt
CustomLog $T/apache-access.log tt
<Directory />
    Require all granted
</Directory>
<Location /tt>
    SetHandler tttest
</Location>
<Location /server-status>
    SetHandler server-status
    TraceTrap Off
</Location>
TraceTrapSocket $T/trigger.sock
$extra
EOF
}

# tt_start_apache [CONFIG]: apache2 in the foreground (its pid is
# APACHE_PID), ready when it answers. In a session of its own: prefork
# stops its children with killpg(), which would hit this test too.
tt_start_apache() {
	local conf=${1:-$T/httpd.conf}
	setsid apache2 -f "$conf" -DFOREGROUND >>"$T/apache-stderr.log" 2>&1 &
	APACHE_PID=$!
	tt_pids="$tt_pids $APACHE_PID"
	# A bad configuration ends the process: say so instead of waiting.
	wait_until 20 'curl -sf -o /dev/null "$APACHE_URL/server-status?auto" ||
	    ! kill -0 $APACHE_PID' && kill -0 "$APACHE_PID" 2>/dev/null ||
	    bail "apache2 did not start: $(tail -3 "$T/apache-error.log" "$T/apache-stderr.log" 2>/dev/null)"
}

tt_stop_apache() {
	kill -TERM "$APACHE_PID" 2>/dev/null
	wait "$APACHE_PID" 2>/dev/null
}

# The children of the test's apache2 (never the host's).
apache_children() { pgrep -P "$APACHE_PID" -x apache2; }

# get PATH: the status code of one request.
get() { curl -s -o /dev/null -w '%{http_code}' "$APACHE_URL$1"; }

# Lines in the access log: mod_tracetrap has handled a request (and sent
# its trigger, if any) before its line is written.
access_count() { wc -l <"$T/apache-access.log" 2>/dev/null || echo 0; }

# wait_access N: until the access log has N lines.
wait_access() { wait_until 20 "[ \"\$(access_count)\" -ge $1 ]"; }

# A counter of mod_tracetrap in /server-status?auto: Sent, Dropped, Limited.
trap_counter() {
	curl -s "$APACHE_URL/server-status?auto" |
	    awk -v k="TraceTrap$1:" '$1 == k { print $2 }'
}

# Apache's error log without the lines every start and stop write.
apache_errors() {
	grep -E '\[[a-z_]+:(warn|error|crit|alert|emerg)\]' \
	    "$T/apache-error.log" 2>/dev/null
}

# The one snapshot in the spool (its directory), or nothing.
only_snapshot() {
	find "${TT_SPOOL:-$T/spool}" -mindepth 1 -maxdepth 1 -type d \
	    ! -name .partial | head -1
}

# trace_of DIR: babeltrace2's text of a snapshot, into $T/<id>.trace.txt;
# prints that file's name.
trace_of() {
	local out=$T/$(basename "$1").trace.txt
	babeltrace2 --clock-seconds "$1/trace" >"$out" 2>"$out.log"
	echo "$out"
}

# event_field LINE NAME: a field's value in one line of babeltrace2's text.
event_field() {
	sed -nE "s/.*(\{ |, )$2 = \"?([^\",}]*)\"?.*/\2/p" <<<"$1" | head -1 | sed "s/ *$//"
}

# event_time LINE: its timestamp in seconds (babeltrace2 --clock-seconds).
event_time() { sed -nE 's/^\[([0-9.]+)\].*/\1/p' <<<"$1"; }

# events TRACE NAME REQUEST_ID: the lines of that event for that request.
events() {
	grep "tracetrap_httpd:$2:" "$1" | grep -F "request_id = \"$3\""
}
