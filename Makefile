# tracetrap — build, test, run. See README.md.
#
#   make            build everything (warnings are errors)
#   make check      install missing Debian packages, build, run all tests
#   make run        install, build, run a recorder on a private sessiond
#   make bench      print the benchmark figures (never pass/fail)
#   make install    install binaries, library, headers, configs

VERSION		= 0.1.0
PREFIX		?= /usr/local
BUILD		?= build
CC		?= cc
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 10
# What make check builds and fuzzes side by side: one per CPU.
JOBS		?= $(shell nproc)

PKGS		= lttng-ctl libevent libevent_pthreads libevent_openssl jansson \
		  openssl sqlite3 libcurl libpq
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) babeltrace2 2>/dev/null)
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# libbabeltrace2: only the programs that read traces (relay, CLI).
BT_LIBS		:= $(shell pkg-config --libs babeltrace2 2>/dev/null)

WARN		= -Wall -Wextra -Werror -Wformat=2 -Wshadow \
		  -Wstrict-prototypes -Wmissing-prototypes -Wno-format-truncation
CFLAGS		?= -O2 -g
ALL_CFLAGS	= $(CFLAGS) -std=gnu11 -D_GNU_SOURCE -pthread $(WARN) \
		  -DTRACETRAP_VERSION='"$(VERSION)"' -Iinclude -Ilib $(PKG_CFLAGS)
# What a folder's files may include besides include/ and lib/, so that a
# wrong include fails to compile: the recorder wires its trigger sources,
# which see lib/ alone, and no program sees another's headers. Tests,
# fuzzers and test apps see everything.
INCLUDES_lib	=
INCLUDES_recorder = -Irecorder -Itriggers
INCLUDES_triggers = -Itriggers
INCLUDES_relay	= -Irelay
INCLUDES_cli	= -Icli
INCLUDES_tests	= -Irecorder -Itriggers -Irelay -Icli
folder_includes	= $(INCLUDES_$(firstword $(subst /, ,$(1))))
LIBS		= $(PKG_LIBS) -pthread
SAN_FLAGS	= -fsanitize=address,undefined -fno-omit-frame-pointer \
		  -fno-sanitize-recover=undefined

# Debian packages the build, the tests and `make run` need.
DEB_PKGS	= build-essential pkg-config clang lttng-tools \
		  liblttng-ctl-dev liblttng-ust-dev babeltrace2 \
		  libbabeltrace2-dev libevent-dev \
		  libssl-dev libcmocka-dev libjansson-dev libsqlite3-dev sqlite3 jq curl python3 \
		  python3-bt2 chromium hyperfine \
		  util-linux iproute2 procps time python3-fusepy strace systemd

UTIL_SRCS	= lib/log.c lib/units.c lib/ini.c lib/worker.c lib/name.c \
		  lib/errbuf.c lib/conf.c lib/conf_value.c lib/frame.c lib/tls.c lib/tls_conf.c \
		  lib/bufpool.c \
		  lib/clock.c lib/daemon.c lib/http_json.c lib/file.c \
		  lib/xmalloc.c lib/http_deferred.c lib/metrics.c
# libtracetrap: the client API and the datagram codec it shares with the
# recorder, plain C only (no libevent, OpenSSL or jansson).
CLIENT_SRCS	= lib/tracetrap.c lib/datagram.c lib/errbuf.c lib/clock.c \
		  lib/units.c
# The snapshot analyzer (libbabeltrace2), shared by the relay and the CLI.
ANALYZE_SRCS	= lib/analyze.c lib/analyze_http.c lib/analyze_json.c \
		  lib/analyze_kernel.c lib/analyze_rules.c lib/ctf_dir.c \
		  lib/trace_reader.c lib/trace_field.c lib/trace_events.c \
		  lib/histogram.c \
		  lib/text.c lib/isolate.c
CORE_SRCS	= $(filter-out recorder/recorder.c,$(wildcard recorder/*.c)) \
		  $(wildcard triggers/*.c)
RELAY_SRCS	= $(filter-out relay/relay.c,$(wildcard relay/*.c))
CLI_SRCS	= $(filter-out cli/tracetrap.c,$(wildcard cli/*.c))
UNIT_SRCS	= $(wildcard tests/unit/test_*.c)
FUZZ_SRCS	= $(wildcard tests/fuzz/fuzz_*.c)

obj		= $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))
UTIL_OBJS	= $(call obj,o,$(UTIL_SRCS))
ANALYZE_OBJS	= $(call obj,o,$(ANALYZE_SRCS))
CLIENT_OBJS	= $(call obj,pic,$(CLIENT_SRCS))
CORE_OBJS	= $(call obj,o,$(CORE_SRCS))
RELAY_OBJS	= $(call obj,o,$(RELAY_SRCS))
CLI_OBJS	= $(call obj,o,$(CLI_SRCS))
SAN_OBJS	= $(call obj,san,$(UTIL_SRCS) $(CLIENT_SRCS) $(CORE_SRCS) \
		  $(RELAY_SRCS) $(CLI_SRCS) $(ANALYZE_SRCS))

RECORDER	= $(BUILD)/tracetrap-recorder
RELAY		= $(BUILD)/tracetrap-relay
CLI		= $(BUILD)/tracetrap
LIBTT_SO	= $(BUILD)/libtracetrap.so.0
LIBTT_A		= $(BUILD)/libtracetrap.a
TTAPP		= $(BUILD)/tests/ttapp
TTSEND		= $(BUILD)/tests/ttsend
TTS3		= $(BUILD)/tests/tts3
UNIT_BINS	= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
UNIT_SAN_BINS	= $(patsubst tests/unit/%.c,$(BUILD)/tests/san/%,$(UNIT_SRCS))
FUZZ_BINS	= $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

.PHONY: all deps check unit unit-san integration fuzz run bench install clean \
	browser-deps

all: $(RECORDER) $(RELAY) $(CLI) $(LIBTT_SO) $(LIBTT_A) $(BUILD)/tracetrap.pc

$(BUILD)/o/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(call folder_includes,$<) -MMD -MP -c -o $@ $<

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(call folder_includes,$<) -fPIC \
	    -fvisibility=hidden -MMD -MP -c -o $@ $<

$(BUILD)/san/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(call folder_includes,$<) $(SAN_FLAGS) -MMD -MP \
	    -c -o $@ $<

$(BUILD)/libttutil.a: $(UTIL_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/libttanalyze.a: $(ANALYZE_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

$(LIBTT_A): $(CLIENT_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

$(LIBTT_SO): $(CLIENT_OBJS)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libtracetrap.so.0 -o $@ $^
	ln -sf libtracetrap.so.0 $(BUILD)/libtracetrap.so

$(BUILD)/tracetrap.pc: lib/tracetrap.pc.in Makefile
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

$(BUILD)/librecorder.a: $(CORE_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/librelay.a: $(RELAY_OBJS) $(BUILD)/o/gen/web_assets.o
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/libcli.a: $(CLI_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/librecorder-san.a: $(SAN_OBJS) $(BUILD)/o/gen/web_assets.o
	rm -f $@ && $(AR) rcs $@ $^

$(RECORDER): $(BUILD)/o/recorder/recorder.o $(BUILD)/librecorder.a \
    $(LIBTT_A) $(BUILD)/libttutil.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# The recorder under ASan and LSan: tests that drive its sockets hard
# look for leaks in its log when it exits (control-clients.t).
RECORDER_SAN	= $(BUILD)/san/tracetrap-recorder
$(RECORDER_SAN): $(BUILD)/san/recorder/recorder.o \
    $(BUILD)/librecorder-san.a
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS) $(BT_LIBS)

$(RELAY): $(BUILD)/o/relay/relay.o $(BUILD)/librelay.a \
    $(BUILD)/libttanalyze.a $(BUILD)/libttutil.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(BT_LIBS)

# The relay's web pages, built into it (relay/web.h).
WEB_FILES	= $(sort $(wildcard relay/web/*.html relay/web/*.js \
		  relay/web/*.css relay/web/*.svg))
$(BUILD)/gen/web_assets.c: $(WEB_FILES) relay/embed-web.sh
	@mkdir -p $(@D)
	relay/embed-web.sh $@ $(WEB_FILES)
$(BUILD)/o/gen/web_assets.o: $(BUILD)/gen/web_assets.c relay/web.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Irelay -c -o $@ $<

$(CLI): $(BUILD)/o/cli/tracetrap.o $(BUILD)/libcli.a $(LIBTT_A) \
    $(BUILD)/libttanalyze.a $(BUILD)/libttutil.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(BT_LIBS)

# Unit tests link the daemons' and the CLI's logic without their main().
$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/librecorder.a \
    $(BUILD)/librelay.a $(BUILD)/libcli.a $(LIBTT_A) $(BUILD)/libttanalyze.a \
    $(BUILD)/libttutil.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(INCLUDES_tests) -o $@ $^ $(LIBS) $(BT_LIBS) \
	    -lcmocka

$(BUILD)/tests/san/test_%: tests/unit/test_%.c $(BUILD)/librecorder-san.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(INCLUDES_tests) $(SAN_FLAGS) -o $@ $^ $(LIBS) \
	    $(BT_LIBS) -lcmocka

# ttreq: HTTP requests into the trace as mod_tracetrap writes them.
TTREQ		= $(BUILD)/tests/ttreq
$(TTREQ): tests/apps/ttreq.c tests/apps/ttreq_tp.c tests/apps/ttreq_tp.h \
    modules/apache/tracetrap_httpd_tp.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wall -Wextra -Itests/apps -Imodules/apache -o $@ \
	    tests/apps/ttreq.c tests/apps/ttreq_tp.c -llttng-ust -ldl -pthread

# The real lttng-ust application the integration tests trace.
$(TTAPP): tests/apps/ttapp.c tests/apps/ttapp_tp.c tests/apps/ttapp_tp.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wall -Wextra -Itests/apps -o $@ tests/apps/ttapp.c \
	    tests/apps/ttapp_tp.c -llttng-ust -ldl

# tts3: the S3 client from the command line (tests, bench/s3-anchor.sh).
$(TTS3): tests/apps/tts3.c $(BUILD)/librelay.a $(BUILD)/libttutil.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(INCLUDES_tests) -o $@ $^ $(LIBS)
integration: $(TTS3)

# ttcatalog: a catalog filled through its own code (bench/catalog-pg.sh).
TTCATALOG	= $(BUILD)/tests/ttcatalog
$(TTCATALOG): tests/apps/ttcatalog.c $(BUILD)/librelay.a \
    $(BUILD)/libttanalyze.a $(BUILD)/libttutil.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(INCLUDES_tests) -o $@ $^ $(LIBS) $(BT_LIBS)

# Each fuzzer links only the parser it drives.
FUZZ_datagram	= lib/datagram.c lib/errbuf.c lib/clock.c lib/units.c
FUZZ_config	= recorder/config.c lib/conf.c lib/conf_value.c lib/ini.c lib/units.c \
		  triggers/trigger_config.c triggers/watch.c lib/tls.c lib/tls_conf.c \
		  lib/name.c
FUZZ_frame	= lib/frame.c
FUZZ_relay_config = relay/relay_config.c lib/conf.c lib/conf_value.c lib/ini.c lib/units.c \
		  lib/tls.c lib/tls_conf.c lib/name.c
FUZZ_untar	= cli/untar.c lib/name.c
FUZZ_manifest	= relay/store.c relay/store_upload.c relay/store_manifest.c \
		  lib/errbuf.c lib/name.c \
		  lib/clock.c lib/file.c
FUZZ_s3_xml	= relay/s3_xml.c
FUZZ_analyze	= $(ANALYZE_SRCS) lib/errbuf.c lib/file.c

.SECONDEXPANSION:
$(TTSEND): tests/apps/ttsend.c $(LIBTT_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(INCLUDES_tests) -o $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_$$*)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(filter-out -Werror -Wno-format-truncation,$(ALL_CFLAGS)) \
	    $(INCLUDES_tests) -g -O1 \
	    -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS) $(BT_LIBS)

deps:
	@missing=$$(for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q 'ok installed' || echo $$p; done); \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	    sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	    echo "installing:" $$missing; \
	    $$sudo apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
	        $$missing >/dev/null; \
	fi

# Some unit tests record real traces with these applications.
UNIT_APPS	= $(TTAPP) $(TTREQ)

unit: $(UNIT_BINS) $(UNIT_APPS)
	@set -e; for t in $(UNIT_BINS); do TT_BUILD=$(abspath $(BUILD)) $$t; done

unit-san: $(UNIT_SAN_BINS) $(UNIT_APPS)
	@set -e; for t in $(UNIT_SAN_BINS); do \
	    TT_BUILD=$(abspath $(BUILD)) ASAN_OPTIONS=detect_leaks=1 \
	    LSAN_OPTIONS=suppressions=$(abspath tests/fuzz/lsan.supp) \
	    LIBBABELTRACE2_NO_DLCLOSE=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; \
	done

fuzz: $(FUZZ_BINS)
	@printf '%s\n' $(FUZZ_BINS) | \
	    xargs -P $(JOBS) -I{} tests/fuzz/run.sh {} $(FUZZ_SECONDS)

# The browser test's driver, puppeteer-core pinned by package-lock.json:
# it never downloads a browser; Debian's chromium is the browser.
BROWSER_MODULES	= tests/browser/node_modules/puppeteer-core/package.json
browser-deps: $(BROWSER_MODULES)
$(BROWSER_MODULES): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit \
	    --no-fund --loglevel=error
	touch $@

# Two lanes. The second holds tests that spend most of their time
# waiting (on Ceph and PostgreSQL starting, on a relay's timeouts, on a
# FUSE disk): they run beside the others (each test has its own network
# and mount namespaces: nothing of theirs can meet), and their report
# follows the others'. Either lane failing fails the target; --timer says
# what each test took.
SCALE_TESTS	= $(addprefix tests/integration/,s3.t relay-s3.t tier.t \
		  catalog-postgresql.t cluster-relays.t tier-postgresql.t \
		  relay-closing.t relay-fsync.t relay-eio.t relay-cert-checks.t \
		  relay-cert-names.t cli-hostile.t relay-flood.t)
integration: all $(TTAPP) $(TTSEND) $(TTREQ) $(BROWSER_MODULES) \
    $(RECORDER_SAN)
	@BUILD=$(abspath $(BUILD)) prove -f --timer $(SCALE_TESTS) \
	    >$(BUILD)/integration-scale.log 2>&1 & scale=$$!; \
	BUILD=$(abspath $(BUILD)) prove -f --timer $(filter-out \
	    $(SCALE_TESTS), $(wildcard tests/integration/*.t)); rest=$$?; \
	wait $$scale; scale_rc=$$?; \
	echo "---- the tests run beside the others:"; \
	cat $(BUILD)/integration-scale.log; \
	[ $$rest -eq 0 ] && [ $$scale_rc -eq 0 ]

check: deps
	$(MAKE) -j$(JOBS) all
	$(MAKE) -j$(JOBS) unit
	$(MAKE) -j$(JOBS) unit-san
	@if command -v $(FUZZ_CC) >/dev/null; then $(MAKE) -j$(JOBS) fuzz; \
	    else echo "fuzz: skipped, $(FUZZ_CC) not installed"; fi
	$(MAKE) integration

run: deps
	$(MAKE) all $(TTAPP) $(TTSEND)
	./conf/run-local.sh $(abspath $(BUILD))

bench: deps
	$(MAKE) all $(TTAPP) $(TTSEND) $(TTREQ) $(TTS3) $(TTCATALOG) \
	    $(BROWSER_MODULES)
	@for b in $(filter-out bench/lib.sh,$(wildcard bench/*.sh)); do \
	    BUILD=$(abspath $(BUILD)) $$b; done

# The S3 client (relay/s3*.c), and the scale-out tier (conf/tier.sh): a
# one-node Ceph with radosgw and a PostgreSQL cluster, for its tests and
# `make tier`.
TIER_PKGS	= ceph-mon ceph-osd ceph-common radosgw uuid-runtime \
		  postgresql libpq-dev
DEB_PKGS	+= libcurl4-openssl-dev $(TIER_PKGS)

# A local scale-out tier to try (README.md "Scaling out"); TIER_DIR and
# TIER_PORT choose where and on which loopback ports.
TIER_DIR	?= /tmp/tracetrap-tier
.PHONY: tier tier-stop
tier: deps
	$(MAKE) all $(TTAPP)
	BUILD=$(abspath $(BUILD)) TIER_DIR=$(TIER_DIR) ./conf/tier.sh start
	@TIER_DIR=$(TIER_DIR) ./conf/tier.sh env

tier-stop:
	TIER_DIR=$(TIER_DIR) ./conf/tier.sh stop

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
	    $(DESTDIR)/etc/tracetrap
	install -m 755 $(RECORDER) $(RELAY) $(DESTDIR)$(PREFIX)/sbin/
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(LIBTT_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBTT_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libtracetrap.so.0 $(DESTDIR)$(PREFIX)/lib/libtracetrap.so
	install -m 644 include/tracetrap.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(BUILD)/tracetrap.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	[ -e $(DESTDIR)/etc/tracetrap/recorder.conf ] || \
	    install -m 644 conf/recorder.conf $(DESTDIR)/etc/tracetrap/
	[ -e $(DESTDIR)/etc/tracetrap/relay.conf ] || \
	    install -m 640 conf/relay.conf $(DESTDIR)/etc/tracetrap/
	install -d $(DESTDIR)/etc/systemd/system $(DESTDIR)/etc/sysctl.d \
	    $(DESTDIR)$(PREFIX)/share/doc/tracetrap
	install -m 644 conf/systemd/tracetrap-recorder.service \
	    conf/systemd/tracetrap-relay.service $(DESTDIR)/etc/systemd/system/
	install -m 644 conf/sysctl.d/60-tracetrap.conf $(DESTDIR)/etc/sysctl.d/
	install -d $(DESTDIR)/etc/sysusers.d
	install -m 644 conf/sysusers.d/tracetrap-relay.conf \
	    $(DESTDIR)/etc/sysusers.d/
	@# The relay's user now, not at the next boot; it reads relay.conf
	@# (0640, for the API token) through its group, and owns its key.
	if [ -z "$(DESTDIR)" ]; then \
	    systemd-sysusers /etc/sysusers.d/tracetrap-relay.conf && \
	    chgrp tracetrap-relay /etc/tracetrap/relay.conf && \
	    { [ ! -e /etc/tracetrap/relay.key ] || \
	      chown tracetrap-relay: /etc/tracetrap/relay.key; }; \
	fi
	install -m 644 README.md $(DESTDIR)$(PREFIX)/share/doc/tracetrap/

clean:
	rm -rf $(BUILD)

# Debian packages (debian/; README.md, "Installing from packages"), made
# in a copy of the tree under $(BUILD)/deb: dpkg-buildpackage writes into
# the parent of the tree it builds, and its clean step would remove build/.
# Made again only when a file they are built from changed.
DEB_PKGS	+= debhelper dpkg-dev lintian prometheus shellcheck
DEB_DIR		= $(BUILD)/deb
DEB_TREE	= Makefile README.md include lib recorder triggers relay cli \
		  modules conf debian
DEB_SRC_FILES	:= $(shell find $(DEB_TREE) -type f 2>/dev/null)
DEB_STAMP	= $(DEB_DIR)/tracetrap_$(VERSION).built

.PHONY: deb
deb: deps
	$(MAKE) $(DEB_STAMP)

$(DEB_STAMP): $(DEB_SRC_FILES)
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/tracetrap-$(VERSION)
	tar -cf - $(DEB_TREE) | tar -xf - -C $(DEB_DIR)/tracetrap-$(VERSION)
	debian/changelog.sh $(VERSION) \
	    >$(DEB_DIR)/tracetrap-$(VERSION)/debian/changelog
	cd $(DEB_DIR)/tracetrap-$(VERSION) && \
	    DEB_BUILD_OPTIONS="parallel=2 $(DEB_BUILD_OPTIONS)" \
	    dpkg-buildpackage -b -us -uc
	rm -rf $(DEB_DIR)/tracetrap-$(VERSION)
	touch $@

integration: deb

# Components with their own build rules (the Apache module: apxs) bring a
# module.mk that adds to all, install, DEB_PKGS and the tests' needs.
include $(wildcard modules/*/module.mk)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
