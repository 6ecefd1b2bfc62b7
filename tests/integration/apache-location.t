#!/bin/bash
# Configuration merging: the server's threshold applies everywhere it is
# not overridden; a <Location> threshold overrides it; TraceTrap Off in a
# <Location> never fires (not even on a listed status), and a deeper
# <Location> may turn it back on; a <VirtualHost> has its own threshold
# and is named in the trigger.
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
tt_apache_config prefork "StartServers 2
TraceTrapSlowRequest 10s
TraceTrapOnStatus 5xx
<Location /tt/fast>
    TraceTrapSlowRequest 200ms
</Location>
<Location /tt/quiet>
    TraceTrap Off
    TraceTrapSlowRequest 1ms
</Location>
<Location /tt/quiet/loud>
    TraceTrap On
</Location>
<VirtualHost *:$APACHE_PORT>
    ServerName 127.0.0.1
</VirtualHost>
<VirtualHost *:$APACHE_PORT>
    ServerName slow.example
    TraceTrapSlowRequest 100ms
</VirtualHost>"
tt_start_apache

urls() {
	jq -r '.triggers[] | "\(.labels.vhost)\(.labels.url)"' \
	    "$T"/spool/*/manifest.json 2>/dev/null | sort | tr '\n' ' '
}

base=$(access_count)
is "/tt/default, 400 ms: served" "$(get '/tt/default?sleep=400')" 200
is "/tt/fast, 400 ms: served" "$(get '/tt/fast?sleep=400')" 200
is "/tt/quiet, 400 ms and a 500: served" "$(get '/tt/quiet?sleep=400&status=500')" 500
is "/tt/quiet/loud, 400 ms: served" "$(get '/tt/quiet/loud?sleep=400')" 200
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: slow.example' \
    "$APACHE_URL/tt/default?sleep=400")
is "slow.example /tt/default, 400 ms: served" "$code" 200
wait_access $((base + 5))
wait_until 20 '[ "$(status_field .counters.datagrams)" -ge 3 ]'
is "exactly three triggers were sent" "$(trap_counter Sent)" 3
is "the recorder received three" "$(status_field .counters.datagrams)" 3
is "from the overriding Location, the re-enabled one and the vhost" "$(urls)" \
    "127.0.0.1/tt/fast 127.0.0.1/tt/quiet/loud slow.example/tt/default "
is "the reason shows the Location's threshold" \
    "$(jq -r '.triggers[] | select(.labels.url == "/tt/fast") | .reason' \
    "$T"/spool/*/manifest.json | sed -E 's/[0-9.]+ ms >/N ms >/')" \
    "slow request N ms > 200 ms"
is "the deeper Location inherits the 1ms threshold" \
    "$(jq -r '.triggers[] | select(.labels.url == "/tt/quiet/loud") | .reason' \
    "$T"/spool/*/manifest.json | sed -E 's/[0-9.]+ ms >/N ms >/')" \
    "slow request N ms > 1 ms"
is "nothing in Apache's error log" "$(apache_errors)" ""
done_testing
