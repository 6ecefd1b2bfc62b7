#!/bin/bash
# The ecosystem's own checkers, run as an operator would on what we ship
# (issue 14): promtool on both daemons' /metrics, systemd-analyze verify
# on the units, apachectl -t with the module's shipped snippet, shellcheck
# on the shipped scripts. lintian on the packages is in packages.t.
# Each is clean; where a checker is told to look away, the reason is
# written next to it.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

MOD=$BUILD/mod_tracetrap.so
for tool in promtool shellcheck systemd-analyze apache2; do
	command -v "$tool" >/dev/null || bail "$tool is missing (make deps)"
done

# promtool check metrics: HELP and TYPE for every metric, names, units.
# The recorder with watchers and an event rule, so that their metrics are
# there too.
tt_start_sessiond
tt_start_app 0
tt_config "[trigger.cpu.system]
threshold = 100
sustain = 1h
[trigger.lttng-event.never]
event = ttapp:request
filter = \"duration_us > 1000000000000\""
tt_start_recorder
curl -sf --unix-socket "$T/control.sock" http://recorder/metrics \
    >"$T/recorder.metrics"
ok "the recorder serves /metrics" test -s "$T/recorder.metrics"
ok "promtool check metrics: the recorder's" sh -c \
    "promtool check metrics <'$T/recorder.metrics'"
tt_certs testnode
tt_relay_config
tt_start_relay
curl -sf "http://127.0.0.1:$RELAY_API_PORT/metrics" >"$T/relay.metrics"
ok "the relay serves /metrics" test -s "$T/relay.metrics"
ok "promtool check metrics: the relay's" sh -c \
    "promtool check metrics <'$T/relay.metrics'"

# systemd-analyze verify, on the units make install puts in place (the
# packaged ones are checked installed, in packages.t). It wants the
# binaries where ExecStart= names them: copies that name build/'s.
mkdir -p "$T/units"
for unit in "$TT_ROOT"/conf/systemd/*.service; do
	name=$(basename "$unit")
	sed "s|/usr/local/sbin/|$BUILD/|g" "$unit" >"$T/units/$name"
	ok "systemd-analyze verify: conf/systemd/$name" sh -c \
	    "systemd-analyze verify '$T/units/$name' 2>&1 | tee /dev/stderr |
	    grep -q . && exit 1 || exit 0"
done

# apachectl -t: Debian's apache2.conf, the module as tracetrap.load loads
# it, and the shipped tracetrap.conf, linked as a2enmod links them; all in
# a copy of /etc/apache2 (APACHE_CONFDIR) whose envvars put the run, lock
# and log directories under $T: nothing of the machine's is changed.
cp -a /etc/apache2 "$T/apache2"
sed -i -e "s|/var/run/apache2|$T/apache-run|g" \
    -e "s|/var/lock/apache2|$T/apache-run|g" \
    -e "s|/var/log/apache2|$T/apache-run|g" "$T/apache2/envvars"
sed "s|@MODDIR@/mod_tracetrap.so|$MOD|" "$TT_ROOT/conf/apache/tracetrap.load" \
    >"$T/apache2/mods-available/tracetrap.load"
cp "$TT_ROOT/conf/apache/tracetrap.conf" "$T/apache2/mods-available/"
ln -sf ../mods-available/tracetrap.load ../mods-available/tracetrap.conf \
    "$T/apache2/mods-enabled/"
ok "apachectl -t: the module with its shipped tracetrap.conf" env \
    APACHE_CONFDIR="$T/apache2" apache2ctl -t
ok "which loads the module" sh -c "APACHE_CONFDIR='$T/apache2' \
    apache2ctl -M 2>/dev/null | grep -q tracetrap_module"

# shellcheck: every script we ship. conf/ (make-dev-certs.sh, run-local.sh
# and the others), the build's scripts, the Debian packages' maintainer
# scripts (sh, as dpkg runs them) and packaging helpers.
scripts=$(cd "$TT_ROOT" && ls conf/*.sh relay/*.sh debian/make-unit \
    debian/make-recorder-conf debian/changelog.sh 2>/dev/null)
for s in $scripts; do
	ok "shellcheck $s" shellcheck "$TT_ROOT/$s"
done
for s in "$TT_ROOT"/debian/*.postinst "$TT_ROOT"/debian/*.postrm; do
	[ -e "$s" ] || continue
	ok "shellcheck debian/$(basename "$s")" shellcheck -s sh "$s"
done

done_testing
