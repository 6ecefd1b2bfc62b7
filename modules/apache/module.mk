# mod_tracetrap for Apache httpd (issue 4), included by the Makefile.
#
# apxs tells how Debian built httpd (its CFLAGS, CPPFLAGS, include
# directories); the objects are compiled with those and the project's
# warnings into $(BUILD), rather than by `apxs -c`, whose libtool writes
# .lo/.la files next to the sources.
#
#   $(BUILD)/mod_tracetrap.so          the module (libtracetrap linked in)
#   $(BUILD)/tracetrap_httpd_tp.so     its lttng-ust probes, loaded by the
#                                      module in each child (mod_tracetrap.c)
#   $(BUILD)/tests/mod_tttest.so       the tests' and benchmark's handler

DEB_PKGS	+= apache2 apache2-dev apache2-utils wrk

APXS		?= apxs
apxs_query	= $(shell $(APXS) -q $(1) 2>/dev/null)
HTTPD_CFLAGS	:= $(call apxs_query,CFLAGS) $(call apxs_query,CPPFLAGS) \
		   $(call apxs_query,EXTRA_CPPFLAGS) \
		   -I$(call apxs_query,INCLUDEDIR) \
		   -I$(call apxs_query,APR_INCLUDEDIR) \
		   -I$(call apxs_query,APU_INCLUDEDIR)
APACHE_MODDIR	?= $(call apxs_query,LIBEXECDIR)
APACHE_CONFDIR	?= /etc/apache2

MOD_CFLAGS	= $(HTTPD_CFLAGS) -std=gnu11 $(WARN) -fPIC \
		  -fvisibility=hidden -Iinclude -Imodules/apache

MOD_TRACETRAP	= $(BUILD)/mod_tracetrap.so
TRAP_PROVIDER	= $(BUILD)/tracetrap_httpd_tp.so
MOD_TTTEST	= $(BUILD)/tests/mod_tttest.so
MOD_SRCS	= modules/apache/mod_tracetrap.c modules/apache/trap_config.c \
		  modules/apache/directive.c
MOD_HDRS	= modules/apache/mod_tracetrap.h modules/apache/directive.h \
		  modules/apache/tracetrap_httpd_tp.h include/tracetrap.h

.PHONY: apache install-apache

all: apache
apache: $(MOD_TRACETRAP) $(TRAP_PROVIDER)

# libtracetrap's symbols stay inside the module (--exclude-libs): another
# module linking its own copy must not resolve to ours.
$(MOD_TRACETRAP): $(MOD_SRCS) $(MOD_HDRS) $(LIBTT_A) modules/apache/module.mk
	@mkdir -p $(@D)
	$(CC) $(MOD_CFLAGS) -shared -o $@ $(MOD_SRCS) $(LIBTT_A) \
	    -Wl,--exclude-libs,ALL -Wl,-z,relro -Wl,-z,now

$(TRAP_PROVIDER): modules/apache/tracetrap_httpd_tp.c \
    modules/apache/tracetrap_httpd_tp.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -std=gnu11 $(WARN) -fPIC -Imodules/apache -shared \
	    -o $@ $< -llttng-ust -Wl,-z,relro -Wl,-z,now

$(MOD_TTTEST): tests/apps/mod_tttest.c
	@mkdir -p $(@D)
	$(CC) $(MOD_CFLAGS) -fvisibility=default -shared -o $@ $<

# The directive parsers' unit tests: their own rules, since they link
# the module's parser rather than the daemons' libraries.
$(BUILD)/tests/test_directive: tests/unit/test_directive.c \
    modules/apache/directive.c modules/apache/directive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Imodules/apache -o $@ $< modules/apache/directive.c \
	    -lcmocka

$(BUILD)/tests/san/test_directive: tests/unit/test_directive.c \
    modules/apache/directive.c modules/apache/directive.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -Imodules/apache -o $@ $< \
	    modules/apache/directive.c -lcmocka

integration: apache $(MOD_TTTEST)
bench: $(MOD_TTTEST)

# Installs the module next to Debian's, and the a2enmod files: then
# `a2enmod tracetrap`. An existing tracetrap.conf is an operator's: kept.
install: install-apache
install-apache: apache
	install -d $(DESTDIR)$(APACHE_MODDIR) \
	    $(DESTDIR)$(APACHE_CONFDIR)/mods-available
	install -m 644 $(MOD_TRACETRAP) $(TRAP_PROVIDER) \
	    $(DESTDIR)$(APACHE_MODDIR)/
	sed 's|@MODDIR@|$(APACHE_MODDIR)|' conf/apache/tracetrap.load \
	    >$(DESTDIR)$(APACHE_CONFDIR)/mods-available/tracetrap.load
	[ -e $(DESTDIR)$(APACHE_CONFDIR)/mods-available/tracetrap.conf ] || \
	    install -m 644 conf/apache/tracetrap.conf \
	    $(DESTDIR)$(APACHE_CONFDIR)/mods-available/
