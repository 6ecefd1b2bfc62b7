#!/bin/bash
# mod_tracetrap in a real apache2 (event MPM, with mod_unique_id): a slow
# request produces one snapshot whose manifest carries the request, and
# whose trace holds that request's request_begin and request_end, written
# by the child that served it; fast requests produce nothing. The children
# register with the session daemon themselves, so a recorder restarted
# under a running Apache (a new session) still gets their events.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apache-lib.sh"
tt_enter "$@"
tt_apache_check

tt_start_sessiond
tt_config "[limits]
cooldown = 0
coalesce = 0"
tt_start_recorder
tt_apache_config event "LoadModule unique_id_module $APACHE_MODULES/mod_unique_id.so
TraceTrapSlowRequest 500ms"
tt_start_apache

# Fast requests: nothing is sent.
base=$(access_count)
codes=$(for i in $(seq 20); do get "/tt?n=$i"; echo; done | sort -u)
is "20 fast requests are served" "$codes" 200
wait_access $((base + 20))
is "fast requests send no trigger" "$(trap_counter Sent)" 0
is "the recorder received no datagram" "$(status_field .counters.datagrams)" 0
is "and took no snapshot" "$(spool_count)" 0

# One slow request: one snapshot.
is "the slow request is served" "$(get '/tt/slow?sleep=900')" 200
wait_until 20 '[ "$(spool_count)" -eq 1 ]'
is "a slow request produces a snapshot" "$(spool_count)" 1
dir=$(only_snapshot)
m=$dir/manifest.json
label() { jq -r ".triggers[0].labels.$1" "$m"; }
id=$(awk '$3 == "/tt/slow" { print $1 }' "$T/apache-access.log")
is "the trigger's source is apache" "$(jq -r '.triggers[0].source' "$m")" apache
is "the manifest carries the URL" "$(label url)" /tt/slow
is "and the method" "$(label method)" GET
is "and the status" "$(label status)" 200
is "and the virtual host" "$(label vhost)" 127.0.0.1
duration=$(label duration_us)
ok "and the duration ($duration us >= 900 ms)" test "$duration" -ge 900000
ok "the request id is mod_unique_id's ($id)" test -n "$id" -a "$(label request_id)" = "$id"
ok "the reason says what happened" grep -Eq '^slow request 9[0-9.]+ ms > 500 ms$' \
    <<<"$(jq -r '.triggers[0].reason' "$m")"
is "the sender is Apache's user" "$(jq -r '.triggers[0].sender.uid' "$m")" \
    "$(id -u "$APACHE_USER")"
sender=$(jq -r '.triggers[0].sender.pid' "$m")
ok "sent by a child ($sender), not the parent" test "$sender" != "$APACHE_PID"

trace=$(trace_of "$dir")
begin=$(events "$trace" request_begin "$id")
end=$(events "$trace" request_end "$id")
is "the trace has the request's request_begin" "$(grep -c . <<<"$begin")" 1
is "and its request_end" "$(grep -c . <<<"$end")" 1
is "request_begin has the method, URI and vhost" \
    "$(event_field "$begin" method) $(event_field "$begin" uri) $(event_field "$begin" vhost)" \
    "GET /tt/slow 127.0.0.1"
is "request_end has the manifest's duration" "$(event_field "$end" duration_us)" "$duration"
is "request_end has the status and says it triggered" \
    "$(event_field "$end" status) $(event_field "$end" triggered)" "200 1"
is "the events come from the child that sent the trigger" \
    "$(event_field "$begin" vpid) $(event_field "$end" vpid)" "$sender $sender"
gap=$(awk -v b="$(event_time "$begin")" -v e="$(event_time "$end")" -v d="$duration" \
    'BEGIN { x = (e - b) * 1000000 - d; if (x < 0) x = -x; print int(x) }')
ok "request_end - request_begin matches duration_us (off by $gap us)" test "$gap" -lt 5000
fast=$(grep 'tracetrap_httpd:request_end:' "$trace" | grep -c 'uri = "/tt",.*triggered = 0')
ok "the fast requests are in the trace, not triggered ($fast)" test "$fast" -ge 20

# A new session under a running Apache: the children are registered
# applications of the session daemon, so they join it.
tt_stop_recorder
tt_start_recorder
is "after a recorder restart, a slow request is served" "$(get '/tt/again?sleep=700')" 200
wait_until 20 '[ "$(spool_count)" -eq 2 ]'
dir=$(ls -td "$T"/spool/testnode-* | head -1)
id=$(awk '$3 == "/tt/again" { print $1 }' "$T/apache-access.log")
end=$(events "$(trace_of "$dir")" request_end "$id")
is "its snapshot has its request_end from the sending child" \
    "$(event_field "$end" vpid)" "$(jq -r '.triggers[0].sender.pid' "$dir/manifest.json")"
is "mod_status counts two triggers sent" "$(trap_counter Sent) $(trap_counter Dropped)" "2 0"
is "nothing in Apache's error log" "$(apache_errors)" ""
done_testing
