#!/bin/bash
# Every directive's bad value fails `apache2 -t` with a message naming the
# directive and what was wrong, on the right line; server-wide directives
# are refused inside a <VirtualHost> or <Location>; a configuration using
# every directive well, and the shipped conf/apache/tracetrap.conf, pass.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apache-lib.sh"
tt_enter "$@"
tt_apache_check

# bad DIRECTIVE-TEXT EXPECTED-MESSAGE: apache2 -t refuses it, saying so.
bad() {
	local out status line
	tt_apache_config event "$1" "$T/bad.conf"
	out=$(apache2 -t -f "$T/bad.conf" 2>&1)
	status=$?
	is "refused: ${1//$'\n'/ }" "$status" 1
	ok "  with: $2" grep -qF -- "$2" <<<"$out"
	line=$(grep -n '^TraceTrap' "$T/bad.conf" | tail -1 | cut -d: -f1)
	ok "  on the directive's line ($line)" \
	    grep -q "Syntax error on line $line of $T/bad.conf" <<<"$out"
}

bad "TraceTrap maybe" "TraceTrap must be On or Off"
bad "TraceTrapSlowRequest 500" "TraceTrapSlowRequest: '500' needs a unit: us, ms or s"
bad "TraceTrapSlowRequest fast" "TraceTrapSlowRequest: 'fast' is not a duration"
bad "TraceTrapSlowRequest 0ms" "TraceTrapSlowRequest: '0ms' is zero; use Off to disable"
bad "TraceTrapSlowRequest 2d" "TraceTrapSlowRequest: '2d' is not a duration"
bad "TraceTrapSlowRequest 90000s" "TraceTrapSlowRequest: '90000s' is longer than a day"
bad "TraceTrapSlowRequest 0.5us" "TraceTrapSlowRequest: '0.5us' is finer than a microsecond"
bad "TraceTrapSlowRequest 1s 2s" "TraceTrapSlowRequest takes one argument"
bad "TraceTrapOnStatus 600" "TraceTrapOnStatus: '600': statuses are 100-599"
bad "TraceTrapOnStatus 500-599 99" "TraceTrapOnStatus: '99' is not a status"
bad "TraceTrapOnStatus 599-500" "TraceTrapOnStatus: '599-500' runs backwards"
bad "TraceTrapOnStatus 5x" "TraceTrapOnStatus: '5x' is not a status, a range or a class"
bad "TraceTrapOnStatus None 500" "TraceTrapOnStatus: None cannot be combined with statuses"
bad "TraceTrapOnStatus" "TraceTrapOnStatus requires at least one argument"
bad "TraceTrapScope planet" "TraceTrapScope: 'planet' is neither node nor cluster"
bad 'TraceTrapReason ""' "TraceTrapReason takes one argument"
bad "TraceTrapReason $(printf 'x%.0s' $(seq 201))" "TraceTrapReason: the reason is longer than 200 bytes"
bad "TraceTrapSocket trigger.sock" "TraceTrapSocket: 'trigger.sock' is not an absolute path"
bad "TraceTrapSocket /$(printf 'd%.0s' $(seq 120))" "TraceTrapSocket: the path is longer than the 107 bytes"
bad "TraceTrapMaxPerSecond 0" "TraceTrapMaxPerSecond: '0' is not a number from 1 to 10000"
bad "TraceTrapMaxPerSecond 10001" "TraceTrapMaxPerSecond: '10001' is not a number from 1 to 10000"
bad "TraceTrapMaxPerSecond lots" "TraceTrapMaxPerSecond: 'lots' is not a number from 1 to 10000"
bad "TraceTrapEvents sometimes" "TraceTrapEvents must be On or Off"
bad "<IfModule mod_tracetrap.c>
TraceTrapSlowRequest 500
</IfModule>" "TraceTrapSlowRequest: '500' needs a unit"
bad "<VirtualHost *:$APACHE_PORT>
TraceTrapSocket /run/x.sock
</VirtualHost>" "TraceTrapSocket cannot occur within <VirtualHost> section"
bad "<VirtualHost *:$APACHE_PORT>
TraceTrapMaxPerSecond 5
</VirtualHost>" "TraceTrapMaxPerSecond cannot occur within <VirtualHost> section"
bad "<Location /x>
TraceTrapEvents Off
</Location>" "TraceTrapEvents not allowed in <Location> context"

tt_apache_config event "TraceTrap On
TraceTrapSlowRequest 1.5s
TraceTrapOnStatus 500-599 404 4xx
TraceTrapScope cluster
TraceTrapReason \"web front\"
TraceTrapSocket /run/tracetrap/trigger.sock
TraceTrapMaxPerSecond 50
TraceTrapEvents Off
<VirtualHost *:$APACHE_PORT>
    ServerName a.example
    TraceTrapSlowRequest 1500us
    TraceTrapOnStatus None
    <Location /b>
        TraceTrap Off
        TraceTrapSlowRequest Off
        TraceTrapScope node
    </Location>
</VirtualHost>
<Directory $T/htdocs>
    TraceTrapSlowRequest 250ms
    TraceTrapOnStatus 503
</Directory>" "$T/good.conf"
out=$(apache2 -t -f "$T/good.conf" 2>&1)
is "every directive in every context: apache2 -t passes" "$?" 0
ok "  Syntax OK" grep -q "Syntax OK" <<<"$out"

tt_apache_config event "Include $TT_ROOT/conf/apache/tracetrap.conf" "$T/shipped.conf"
out=$(apache2 -t -f "$T/shipped.conf" 2>&1)
is "the shipped tracetrap.conf passes apache2 -t" "$?" 0
ok "  Syntax OK" grep -q "Syntax OK" <<<"$out"
sed "s|@MODDIR@|$(dirname "$MOD_TRACETRAP")|" "$TT_ROOT/conf/apache/tracetrap.load" \
    >"$T/tracetrap.load"
grep -v '^LoadModule tracetrap_module' "$T/shipped.conf" >"$T/load.conf"
echo "Include $T/tracetrap.load" >>"$T/load.conf"
out=$(apache2 -t -f "$T/load.conf" 2>&1)
is "tracetrap.load loads the module (with its path filled in)" "$?" 0
done_testing
