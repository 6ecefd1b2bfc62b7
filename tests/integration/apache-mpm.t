#!/bin/bash
# The module under each MPM: prefork (one process per request, children
# forked by the parent), worker and event (threads). In each, a slow
# request's snapshot holds its request_end written by the child that
# served it: every child started its own lttng-ust after the fork. After
# a graceful restart (the module unloaded and loaded again in the parent,
# every child replaced), the new children trace too, and mod_status's
# counts carry over. Under prefork a slow CGI (mod_cgi forks and execs
# from a traced child) is caught the same way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apache-lib.sh"
tt_enter "$@"
tt_apache_check

tt_start_sessiond
tt_config "[limits]
cooldown = 0
burst = 0
coalesce = 0"
tt_start_recorder

mkdir -p "$T/cgi-bin"
cat >"$T/cgi-bin/slow.sh" <<'EOF2'
#!/bin/sh
sleep 0.8
printf 'Content-Type: text/plain\r\n\r\nslow cgi\n'
EOF2
chmod 755 "$T/cgi-bin/slow.sh"

# The manifest of the (only) snapshot whose trigger has URL.
snapshot_with() {
	grep -l "\"url\": \"$1\"" "$T"/spool/*/manifest.json 2>/dev/null | head -1
}

# check_traced MPM URL: the snapshot of URL has its request_end, from the
# child that sent the trigger.
check_traced() {
	local mpm=$1 url=$2 m id end sender
	wait_until 20 "[ -n \"\$(snapshot_with $url)\" ]"
	m=$(snapshot_with "$url")
	ok "$mpm: $url produces a snapshot" test -n "$m"
	[ -n "$m" ] || return
	id=$(jq -r '.triggers[0].labels.request_id' "$m")
	sender=$(jq -r '.triggers[0].sender.pid' "$m")
	end=$(events "$(trace_of "$(dirname "$m")")" request_end "$id")
	is "$mpm: its trace has the request_end, from the sending child" \
	    "$(event_field "$end" uri) $(event_field "$end" vpid)" "$url $sender"
	ok "$mpm: that child ($sender) is not the parent" test "$sender" != "$APACHE_PID"
}

for mpm in prefork worker event; do
	extra="StartServers 2"
	if [ "$mpm" = prefork ]; then
		extra="$extra
LoadModule alias_module $APACHE_MODULES/mod_alias.so
LoadModule cgi_module $APACHE_MODULES/mod_cgi.so
ScriptAlias /cgi-bin/ $T/cgi-bin/"
	fi
	tt_apache_config "$mpm" "$extra
TraceTrapSlowRequest 300ms"
	: >"$T/apache-error.log"
	tt_start_apache
	is "$mpm: a slow request is served" "$(get "/tt/$mpm?sleep=500")" 200
	check_traced "$mpm" "/tt/$mpm"
	if [ "$mpm" = prefork ]; then
		is "prefork: a slow CGI is served" "$(get /cgi-bin/slow.sh)" 200
		check_traced prefork /cgi-bin/slow.sh
	fi

	old=$(apache_children | tr '\n' ' ')
	kill -USR1 "$APACHE_PID"
	wait_until 20 '[ "$(curl -s "$APACHE_URL/server-status?auto" |
	    awk "/^ParentServerConfigGeneration:/ { print \$2 }")" = 2 ]'
	for pid in $old; do
		wait_until 20 "! kill -0 $pid"
	done
	ok "$mpm: the graceful restart replaced every child" \
	    sh -c "for p in $old; do ! kill -0 \$p 2>/dev/null || exit 1; done"
	is "$mpm: after it, a slow request is served" \
	    "$(get "/tt/$mpm-again?sleep=500")" 200
	check_traced "$mpm" "/tt/$mpm-again"
	sent=2
	[ "$mpm" = prefork ] && sent=3
	is "$mpm: mod_status still counts every trigger sent" "$(trap_counter Sent)" "$sent"
	is "$mpm: nothing in Apache's error log" "$(apache_errors)" ""
	tt_stop_apache
done
done_testing
