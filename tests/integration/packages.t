#!/bin/bash
# The Debian packages (debian/, made by `make deb` into $BUILD/deb):
# lintian finds no error and no warning; then they are installed with
# dpkg -i on this machine, used (the recorder checks the shipped config and
# serves the installed CLI, www-data sends a trigger through the installed
# libtracetrap, Apache takes the module with a2enmod, the relay runs from
# its unit's command line as its own user), installed again, and purged:
# afterwards no file they made is left.
#
# The machine as others see it is never touched: /etc, /usr, /var and /run
# are overlays in this test's private mount namespace (lib.sh), whose
# upper layers live in a tmpfs that goes with the namespace. dpkg, the
# maintainer scripts, a2enmod and systemd-sysusers write there, so a test
# that fails halfway leaves no /etc/tracetrap, user or a2enmod state
# behind for the tests that use build/'s binaries, and a concurrent
# apt-get does not meet this test's dpkg lock.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

PACKAGES="tracetrap-recorder tracetrap-relay libapache2-mod-tracetrap
libtracetrap0 libtracetrap-dev tracetrap"
changes=$(ls "$BUILD"/deb/tracetrap_*.changes 2>/dev/null | head -1)
[ -n "$changes" ] || bail "no packages in $BUILD/deb: run make deb"
version=$(basename "$changes" | cut -d_ -f2)
arch=$(dpkg --print-architecture)
debs=""
for p in $PACKAGES; do
	debs="$debs $BUILD/deb/${p}_${version}_$arch.deb"
done

# lintian, on every package of the build (the -dbgsym ones too).
# --show-overrides prints each override with its reason (and makes
# --fail-on count them too): the verdict is read from the tags instead.
# Its status is 1 when lintian itself failed.
lintian --show-overrides "$changes" >"$T/lintian.out" 2>&1
lintian_status=$?
ok "lintian runs (status $lintian_status)" test "$lintian_status" != 1
grep -v 'running with root privileges' "$T/lintian.out" | sed 's/^/# lintian: /'
is "lintian: no error, no warning (overrides have their reasons)" \
    "$(grep -c '^[EW]: ' "$T/lintian.out")" 0

# shellcheck on the maintainer scripts as built, debhelper's parts in.
# Excluded, in dh_apache2's part only (libapache2-mod-tracetrap's prerm
# and postrm): SC1091, it sources apache2-maintscript-helper, which
# shellcheck is not given; SC2043, its loop over the package's modules
# has one module to go over.
for p in $PACKAGES; do
	mkdir -p "$T/control/$p"
	dpkg-deb -e "$BUILD/deb/${p}_${version}_$arch.deb" "$T/control/$p"
	for s in preinst postinst prerm postrm; do
		[ -e "$T/control/$p/$s" ] || continue
		exclude=
		[ "$p" = libapache2-mod-tracetrap ] && exclude=--exclude=SC1091,SC2043
		ok "shellcheck: $p's $s, as built" \
		    shellcheck -s sh $exclude "$T/control/$p/$s"
	done
done

# The private system: every write below lands in $T/ovl.
mkdir -p "$T/ovl"
mount -t tmpfs -o mode=0755 tmpfs "$T/ovl"
for d in etc usr var run; do
	mkdir -p "$T/ovl/$d" "$T/ovl/$d.work"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$T/ovl/$d,workdir=$T/ovl/$d.work" "/$d" ||
	    bail "cannot overlay /$d"
done
# The overlay on /run hides lib.sh's private /run/lttng: a new one.
mount -t tmpfs -o mode=0755 tmpfs /run/lttng
# Not the man-db trigger's minute of indexing: nothing here reads man pages.
echo 'man-db man-db/auto-update boolean false' | debconf-set-selections

# What the packages may add to: everything but logs and caches, and the
# backups that tools which rewrite a file leave of it.
listing() {
	find /etc /usr /var /run -xdev \
	    -path /var/log -prune -o -path /var/cache -prune -o \
	    -path /var/lib/dpkg/triggers -prune -o \
	    -path /var/lib/dpkg/updates -prune -o \
	    -path '/var/lib/dpkg/*-old' -prune -o -path '/etc/*-' -prune -o \
	    -print | sort
}
# Left by the test's own a2enmod and apache2ctl, not by the packages:
# apache2's empty state and run directories, which it keeps for every
# module (/var/lib/apache2/module/*_by_*) and makes at each apache2ctl.
apache_own() {
	local f
	while read -r f; do
		case $f in
		/var/lib/apache2/module*|/run/apache2*|/run/lock/apache2)
			[ -d "$f" ] && continue ;;
		esac
		echo "$f"
	done
}
listing | apache_own >"$T/before.list"
getent group tracetrap >/dev/null && had_group=1
getent passwd tracetrap-relay >/dev/null && had_user=1

ok "dpkg -i installs the six packages" dpkg -i $debs
installed=0
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}\n' "$p" | grep -q 'ok installed' &&
	    installed=$((installed + 1))
done
is "all six are installed" "$installed" 6
ok "a second dpkg -i (an upgrade to the same version) runs the maintainer scripts again" \
    dpkg -i $debs

# What the recorder's package made.
ok "the installed recorder takes the shipped config (tracetrap-recorder -n)" \
    /usr/sbin/tracetrap-recorder -n
ok "recorder.conf is a conffile" sh -c \
    "dpkg-query -W -f='\${Conffiles}' tracetrap-recorder | grep -q /etc/tracetrap/recorder.conf"
ok "the tracing group exists" getent group tracing
is "the trigger socket's group is tracetrap" \
    "$(sed -n '/^\[trigger\]/,/^\[/s/^group = //p' /etc/tracetrap/recorder.conf)" \
    tracetrap
ok "www-data is in the group tracetrap (libapache2-mod-tracetrap)" sh -c \
    "id -nG www-data | tr ' ' '\n' | grep -qx tracetrap"
ok "/run/tracetrap and the spool exist" \
    test -d /run/tracetrap -a -d /var/lib/tracetrap/spool
is "net.unix.max_dgram_qlen is set" "$(sysctl -n net.unix.max_dgram_qlen)" 1024
ok "the recorder's unit is enabled" \
    test -L /etc/systemd/system/multi-user.target.wants/tracetrap-recorder.service
ok "and waits for the node's key" grep -qx \
    'ConditionPathExists=/etc/tracetrap/node.key' \
    /lib/systemd/system/tracetrap-recorder.service

# What the relay's package made.
ok "the user tracetrap-relay exists, with no login" sh -c \
    "getent passwd tracetrap-relay | grep -q ':/usr/sbin/nologin\$'"
is "it owns the store" "$(stat -c '%U:%G %a' /var/lib/tracetrap/store)" \
    "tracetrap-relay:tracetrap-relay 750"
is "its group reads relay.conf, others do not" \
    "$(stat -c '%U:%G %a' /etc/tracetrap/relay.conf)" "root:tracetrap-relay 640"
ok "the relay's unit is enabled" \
    test -L /etc/systemd/system/multi-user.target.wants/tracetrap-relay.service
for unit in tracetrap-recorder tracetrap-relay; do
	ok "systemd-analyze verify: the installed $unit.service" sh -c \
	    "systemd-analyze verify /lib/systemd/system/$unit.service 2>&1 |
	    tee /dev/stderr | grep -q . && exit 1 || exit 0"
done

# Apache.
ok "a2enmod tracetrap" a2enmod -q tracetrap
ok "apache2ctl -t with the module and its shipped tracetrap.conf" apache2ctl -t

# The installed recorder, its shipped config, the installed CLI.
tt_start_sessiond
rm -f "$T/ready"
mkfifo "$T/ready"
/usr/sbin/tracetrap-recorder -d -v --ready-fd 3 3>"$T/ready" \
    >>"$T/recorder.log" 2>&1 &
RECORDER_PID=$!
tt_pids="$tt_pids $RECORDER_PID"
[ "$(timeout 30 head -n1 "$T/ready")" = "READY=1" ] ||
    bail "the installed recorder did not start: $(tail -3 "$T/recorder.log")"
is "the installed CLI reads its status" \
    "$(/usr/bin/tracetrap status --json | jq -r .session.name)" tracetrap
is "the trigger socket belongs to tracetrap" \
    "$(stat -c %G /run/tracetrap/trigger.sock)" tracetrap
ok "the installed CLI takes a snapshot into the spool" \
    /usr/bin/tracetrap snapshot --wait --reason packages
ok "which holds it" sh -c \
    "find /var/lib/tracetrap/spool -name manifest.json | grep -q ."

# libtracetrap-dev: a program built with pkg-config, run as www-data.
cat >"$T/app.c" <<'EOF'
#include <stdio.h>
#include <tracetrap.h>

int
main(void)
{
	if (tracetrap_trigger("apache", "from www-data", TRACETRAP_SCOPE_NODE,
	    NULL, 0) != 0) {
		perror("tracetrap_trigger");
		return 1;
	}
	return 0;
}
EOF
ok "a program builds against libtracetrap-dev (pkg-config tracetrap)" sh -c \
    "cc -o '$T/app' '$T/app.c' \$(pkg-config --cflags --libs tracetrap)"
ok "it links the installed libtracetrap.so.0" sh -c \
    "ldd '$T/app' | grep -q 'libtracetrap.so.0 => /.*lib/.*/libtracetrap.so.0'"
ok "and, run as www-data, sends a trigger" \
    setpriv --reuid=www-data --regid=www-data --init-groups "$T/app"
ok "which the recorder counts" wait_until 10 'curl -sf --unix-socket \
    /run/tracetrap/control.sock http://recorder/metrics |
    grep -q "^tracetrap_triggers_total{source=\"apache\",.*} [1-9]"'
ok "an empty static library is not what -dev ships" sh -c \
    "ar t /usr/lib/*/libtracetrap.a | grep -q tracetrap.o"
kill -TERM "$RECORDER_PID"
wait "$RECORDER_PID" 2>/dev/null

# The installed relay, from its unit's command line, as its user: with a
# dev fleet's TLS files where relay.conf looks for them.
"$MAKE_CERTS" "$T/pki" >>"$T/certs.log" 2>&1 || bail "make-dev-certs.sh failed"
install -m 644 "$T/pki/ca.pem" "$T/pki/relay.pem" /etc/tracetrap/
install -m 600 -o tracetrap-relay -g tracetrap-relay "$T/pki/relay.key" \
    /etc/tracetrap/
unit=/lib/systemd/system/tracetrap-relay.service
user=$(sed -n 's/^User=//p' "$unit")
is "the unit runs the relay as tracetrap-relay" "$user" tracetrap-relay
as_user() {
	setpriv --reuid="$user" --regid="$user" --init-groups --no-new-privs -- "$@"
}
# shellcheck disable=SC2046 # the unit's command line, split as systemd does
ok "its ExecStartPre (-n) passes" as_user $(sed -n 's/^ExecStartPre=//p' "$unit")
rm -f "$T/relay-ready"
mkfifo "$T/relay-ready"
# shellcheck disable=SC2046
setpriv --reuid="$user" --regid="$user" --init-groups --no-new-privs -- \
    $(sed -n 's/^ExecStart=//p' "$unit") --ready-fd 3 3>"$T/relay-ready" \
    >>"$T/relay.log" 2>&1 &
RELAY_PID=$!
tt_pids="$tt_pids $RELAY_PID"
[ "$(timeout 30 head -n1 "$T/relay-ready")" = "READY=1" ] ||
    bail "the installed relay did not start: $(tail -3 "$T/relay.log")"
is "it runs as tracetrap-relay" "$(ps -o user= -p "$RELAY_PID")" tracetrap-relay
is "its catalog in the store is its own" \
    "$(stat -c %U /var/lib/tracetrap/store/catalog.db)" tracetrap-relay
ok "its API answers" curl -sf http://127.0.0.1:5480/v1/incidents
kill -TERM "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null
# The operator's files, not the packages'.
rm -f /etc/tracetrap/ca.pem /etc/tracetrap/relay.pem /etc/tracetrap/relay.key

# Purge.
# shellcheck disable=SC2086
dpkg --purge $PACKAGES >"$T/purge.log" 2>&1
is "dpkg --purge removes the six" "$?" 0
sed 's/^/# /' "$T/purge.log" | grep -i 'kept\|warning'
left=0
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'installed' &&
	    left=$((left + 1))
done
is "none is left" "$left" 0
ok "www-data left the group tracetrap" sh -c \
    "! id -nG www-data | tr ' ' '\n' | grep -qx tracetrap"
ok "the spool's snapshot stays (collected data), and purge said so" sh -c \
    "find /var/lib/tracetrap/spool -name manifest.json | grep -q . &&
    grep -q 'holds snapshots: kept' '$T/purge.log'"
listing | apache_own >"$T/after-purge.list"
is "apart from it, nothing the packages made is left" \
    "$(comm -13 "$T/before.list" "$T/after-purge.list" |
    grep -v '^/var/lib/tracetrap/spool/[^/]' | tr '\n' ' ')" \
    "/var/lib/tracetrap /var/lib/tracetrap/spool "
rm -r /var/lib/tracetrap
listing | apache_own >"$T/after.list"
ok "once it is removed, the file listing is the one before dpkg -i" \
    diff "$T/before.list" "$T/after.list"
# Users and groups stay after a purge, as Debian's do (their files may
# outlive the package); the test's are gone with its overlay.
[ -n "$had_group" ] || echo "# the group tracetrap stays until the overlay goes"
[ -n "$had_user" ] || echo "# the user tracetrap-relay stays until the overlay goes"

done_testing
