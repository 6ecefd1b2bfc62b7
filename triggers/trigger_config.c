/*
 * [trigger.cpu.NAME], [trigger.memory.NAME], [trigger.psi.NAME] and
 * [trigger.lttng-event.NAME] (trigger_config.h). One key table drives the
 * parsing, as lib/conf.c does for the rest of recorder.conf; the checks
 * that need a whole section (defaults that depend on the target, rearm
 * against threshold, PSI windows) run once the file is read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ini.h"
#include "trigger_config.h"
#include "units.h"
#include "watch.h"

#define TRIGGER_HOUR_MS		(3600ULL * 1000)
#define TRIGGER_DAY_MS		(24 * TRIGGER_HOUR_MS)
#define TRIGGER_COMM_MAX	15	/* TASK_COMM_LEN - 1 */
/* The kernel's PSI window bounds (kernel/sched/psi.c). */
#define PSI_WINDOW_MIN_MS	500
#define PSI_WINDOW_MAX_MS	10000
#define PSI_UNPRIVILEGED_STEP_MS 2000

enum trigger_section {
	TRIGGER_SECTION_CPU = CONF_SECTION_SKIP + 1,
	TRIGGER_SECTION_MEMORY,
	TRIGGER_SECTION_PSI,
	TRIGGER_SECTION_RULE,
};

static const struct {
	const char	*prefix;
	int		 section;
} trigger_kinds[] = {
	{ "trigger.cpu.",		TRIGGER_SECTION_CPU },
	{ "trigger.memory.",		TRIGGER_SECTION_MEMORY },
	{ "trigger.psi.",		TRIGGER_SECTION_PSI },
	{ "trigger.lttng-event.",	TRIGGER_SECTION_RULE },
};

/* No control characters, no "..": what a path to open may hold. */
static int
trigger_is_safe_path(const char *s)
{
	const char	*p;

	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	}
	for (p = s; (p = strstr(p, "..")) != NULL; p += 2) {
		if ((p == s || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return 0;
	}
	return 1;
}

/*
 * target = system | process:COMM | pidfile:PATH | cgroup:PATH. A cgroup
 * path is relative to /sys/fs/cgroup (an absolute one must be under it).
 */
static int
trigger_parse_target(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	struct trigger_config_state	*st = arg;
	struct watcher_conf		*w = st->current;
	const char			*colon = strchr(value, ':');
	const char			*what = colon != NULL ? colon + 1 : "";
	size_t				 kind_len;

	(void)k;
	(void)dst;
	kind_len = colon != NULL ? (size_t)(colon - value) : strlen(value);
	if (strcmp(value, "system") == 0) {
		w->target = WATCHER_SYSTEM;
		w->target_arg[0] = '\0';
	} else if (kind_len == 7 && strncmp(value, "process", 7) == 0) {
		if (*what == '\0' || strlen(what) > TRIGGER_COMM_MAX ||
		    strchr(what, '/') != NULL || !trigger_is_safe_path(what)) {
			snprintf(err, errlen, "invalid process name '%s' "
			    "(expected the command name as ps -o comm shows "
			    "it: 1 to %d characters, no '/')", what,
			    TRIGGER_COMM_MAX);
			return -1;
		}
		w->target = WATCHER_PROCESS;
	} else if (kind_len == 7 && strncmp(value, "pidfile", 7) == 0) {
		if (*what != '/' || !trigger_is_safe_path(what)) {
			snprintf(err, errlen, "invalid pid file '%s' (expected "
			    "an absolute path without '..')", what);
			return -1;
		}
		w->target = WATCHER_PIDFILE;
	} else if (kind_len == 6 && strncmp(value, "cgroup", 6) == 0) {
		if (*what == '\0' || !trigger_is_safe_path(what) ||
		    (*what == '/' && strncmp(what, "/sys/fs/cgroup/", 15) != 0)) {
			snprintf(err, errlen, "invalid cgroup '%s' (expected a "
			    "path under /sys/fs/cgroup, e.g. "
			    "system.slice/nginx.service, without '..')", what);
			return -1;
		}
		if (*what == '/')
			what += 15;
		w->target = WATCHER_CGROUP;
	} else {
		snprintf(err, errlen, "invalid target '%s' (expected system, "
		    "process:NAME, pidfile:PATH or cgroup:PATH)", value);
		return -1;
	}
	if (strlen(what) >= sizeof(w->target_arg)) {
		snprintf(err, errlen, "target '%s' is too long (at most %zu "
		    "bytes)", value, sizeof(w->target_arg) - 1);
		return -1;
	}
	if (w->target != WATCHER_SYSTEM)
		snprintf(w->target_arg, sizeof(w->target_arg), "%s", what);
	w->target_line = st->key_line;
	return 0;
}

/* "90", "90%", "12.5": a decimal percent from k->min to k->max. */
static int
trigger_parse_percent_value(const char *value, double *out, uint64_t max,
    char *err, size_t errlen)
{
	const char	*p = value;
	double		 v = 0, scale = 0.1;
	int		 ndigits = 0;

	for (; *p >= '0' && *p <= '9'; p++, ndigits++) {
		if (v <= (double)max)
			v = v * 10 + (*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, ndigits++) {
			v += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == '%')
		p++;
	if (ndigits == 0 || *p != '\0' || v > (double)max) {
		snprintf(err, errlen, "invalid percent '%s' (expected 0 to "
		    "%llu, e.g. 90 or 12.5%%)", value, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

static int
trigger_parse_percent(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	struct trigger_config_state *st = arg;

	if (trigger_parse_percent_value(value, dst, k->max, err, errlen) == -1)
		return -1;
	/* threshold and rearm: which one the file set. */
	if (strcmp(k->name, "threshold") == 0)
		((struct watcher_conf *)st->current)->has_threshold = 1;
	else
		((struct watcher_conf *)st->current)->has_rearm = 1;
	return 0;
}

/* Memory: a size ("512M") or a percent of MemTotal ("10%"). */
static int
trigger_parse_amount(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	struct trigger_config_state	*st = arg;
	struct watcher_conf		*w = st->current;
	size_t				 len = strlen(value);
	uint64_t			 bytes;
	int				 is_percent;

	is_percent = len > 0 && value[len - 1] == '%';
	if (is_percent) {
		if (trigger_parse_percent_value(value, dst, 100, err,
		    errlen) == -1)
			return -1;
	} else {
		if (units_parse_size(value, &bytes, err, errlen) == -1)
			return -1;
		*(double *)dst = (double)bytes;
	}
	/* Both keys in the same unit: checked once the section is read. */
	if (strcmp(k->name, "threshold") == 0) {
		w->has_threshold = 1;
		w->is_percent = is_percent;
	} else
		w->has_rearm = is_percent ? 2 : 1;
	return 0;
}

CONF_CHOICE_PARSER(trigger_parse_scope, "scope", "node", "cluster")

/* In enum psi_resource's order. */
CONF_CHOICE_PARSER(trigger_parse_resource, "resource", "cpu", "memory", "io")
_Static_assert(sizeof(enum psi_resource) == sizeof(int),
    "conf_parse_choice() writes an int");

CONF_CHOICE_PARSER(trigger_parse_kind, "kind", "some", "full")

static int
trigger_parse_cgroup(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	(void)arg;
	if (!trigger_is_safe_path(value) || (*value == '/' &&
	    strncmp(value, "/sys/fs/cgroup/", 15) != 0)) {
		snprintf(err, errlen, "invalid cgroup '%s' (expected a path "
		    "under /sys/fs/cgroup, without '..')", value);
		return -1;
	}
	if (*value == '/')
		value += 15;
	if (strlen(value) >= k->size) {
		snprintf(err, errlen, "too long (at most %zu bytes)",
		    k->size - 1);
		return -1;
	}
	snprintf(dst, k->size, "%s", value);
	return 0;
}

/* An LTTng event name pattern: letters, digits, "_:.-" and '*'. */
static int
trigger_parse_event(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	const char *p;

	(void)arg;
	for (p = value; *p != '\0'; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == ':' ||
		    *p == '*' || *p == '.' || *p == '-'))
			break;
	}
	if (*value == '\0' || *p != '\0' || strlen(value) >= k->size) {
		snprintf(err, errlen, "invalid event '%s' (expected a UST "
		    "event name or pattern, e.g. myapp:request_end or "
		    "myapp:*)", value);
		return -1;
	}
	memcpy(dst, value, strlen(value) + 1);
	return 0;
}

static int
trigger_parse_filter(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	struct trigger_config_state *st = arg;

	if (conf_parse_text(arg, k, value, dst, err, errlen) == -1)
		return -1;
	((struct event_rule_conf *)st->current)->filter_line = st->key_line;
	return 0;
}

/* A payload field name, as a filter names it: [A-Za-z_][A-Za-z0-9_]*. */
static int
trigger_is_field(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || !((s[0] >= 'A' && s[0] <= 'Z') ||
	    (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (i = 1; i < len; i++) {
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	}
	return 1;
}

static int
trigger_parse_capture(void *arg, const struct conf_key *k, const char *value,
    void *dst, char *err, size_t errlen)
{
	const char	*cursor, *item;
	size_t		 len, n = 0;

	(void)arg;
	if (conf_list_parse(value, dst, k->size, trigger_is_field,
	    CONF_LIST_UNIQUE, "field", "payload field names, e.g. "
	    "duration_us,url", err, errlen) == -1)
		return -1;
	for (cursor = dst; conf_list_next(&cursor, &item, &len);)
		n++;
	if (n > TRIGGER_CAPTURES_MAX) {
		snprintf(err, errlen, "%zu fields (at most %d)", n,
		    TRIGGER_CAPTURES_MAX);
		*(char *)dst = '\0';
		return -1;
	}
	return 0;
}

#define W(f)	CONF_FIELD(struct watcher_conf, f)
#define P(f)	CONF_FIELD(struct psi_conf, f)
#define R(f)	CONF_FIELD(struct event_rule_conf, f)

/*
 * The keys of each kind of section, with their defaults (applied to each
 * new section); a watcher's target defaults to the system, and the
 * defaults that depend on the target or on other keys follow the whole
 * section (trigger_check_watcher, trigger_default_reasons).
 */
static const struct conf_key trigger_keys[] = {
	CONF_KEY(TRIGGER_SECTION_CPU, "target", trigger_parse_target,
	    W(target), NULL),
	CONF_KEY(TRIGGER_SECTION_CPU, "threshold", trigger_parse_percent,
	    W(threshold), NULL, .max = 100 * 1024),
	CONF_KEY(TRIGGER_SECTION_CPU, "rearm", trigger_parse_percent,
	    W(rearm), NULL, .max = 100 * 1024),
	CONF_DURATION(TRIGGER_SECTION_CPU, "sustain", W(sustain_ms), "10s",
	    0, TRIGGER_DAY_MS),
	CONF_DURATION(TRIGGER_SECTION_CPU, "interval", W(interval_ms), "1s",
	    100, TRIGGER_HOUR_MS),
	CONF_KEY(TRIGGER_SECTION_CPU, "reason", conf_parse_text,
	    W(reason), NULL),
	CONF_KEY(TRIGGER_SECTION_CPU, "scope", trigger_parse_scope,
	    W(is_cluster), NULL),

	CONF_KEY(TRIGGER_SECTION_MEMORY, "target", trigger_parse_target,
	    W(target), NULL),
	CONF_KEY(TRIGGER_SECTION_MEMORY, "threshold", trigger_parse_amount,
	    W(threshold), NULL),
	CONF_KEY(TRIGGER_SECTION_MEMORY, "rearm", trigger_parse_amount,
	    W(rearm), NULL),
	CONF_DURATION(TRIGGER_SECTION_MEMORY, "sustain", W(sustain_ms), "10s",
	    0, TRIGGER_DAY_MS),
	CONF_DURATION(TRIGGER_SECTION_MEMORY, "interval", W(interval_ms),
	    "1s", 100, TRIGGER_HOUR_MS),
	CONF_KEY(TRIGGER_SECTION_MEMORY, "reason", conf_parse_text,
	    W(reason), NULL),
	CONF_KEY(TRIGGER_SECTION_MEMORY, "scope", trigger_parse_scope,
	    W(is_cluster), NULL),

	CONF_KEY(TRIGGER_SECTION_PSI, "resource", trigger_parse_resource,
	    P(resource), "memory"),
	CONF_KEY(TRIGGER_SECTION_PSI, "kind", trigger_parse_kind, P(is_full),
	    NULL),
	CONF_DURATION(TRIGGER_SECTION_PSI, "stall", P(stall_ms), "150ms", 1,
	    PSI_WINDOW_MAX_MS),
	CONF_DURATION(TRIGGER_SECTION_PSI, "window", P(window_ms), "2s",
	    PSI_WINDOW_MIN_MS, PSI_WINDOW_MAX_MS),
	CONF_KEY(TRIGGER_SECTION_PSI, "cgroup", trigger_parse_cgroup,
	    P(cgroup), NULL),
	CONF_KEY(TRIGGER_SECTION_PSI, "reason", conf_parse_text,
	    P(reason), NULL),
	CONF_KEY(TRIGGER_SECTION_PSI, "scope", trigger_parse_scope,
	    P(is_cluster), NULL),

	CONF_KEY(TRIGGER_SECTION_RULE, "event", trigger_parse_event,
	    R(event), NULL),
	CONF_KEY(TRIGGER_SECTION_RULE, "filter", trigger_parse_filter,
	    R(filter), NULL),
	CONF_KEY(TRIGGER_SECTION_RULE, "capture", trigger_parse_capture,
	    R(capture), NULL),
	CONF_KEY(TRIGGER_SECTION_RULE, "reason", conf_parse_text,
	    R(reason), NULL),
	CONF_KEY(TRIGGER_SECTION_RULE, "scope", trigger_parse_scope,
	    R(is_cluster), NULL),
};

_Static_assert(sizeof trigger_keys / sizeof trigger_keys[0] <= CONF_KEYS_MAX,
    "conf_state.key_line[] is too small for trigger_keys[]");

static const struct conf_table trigger_table = {
	trigger_keys, sizeof trigger_keys / sizeof trigger_keys[0], NULL, 0,
	"trigger.cpu.NAME, trigger.memory.NAME, trigger.psi.NAME or "
	"trigger.lttng-event.NAME"
};

void
trigger_config_defaults(struct trigger_confs *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->procfs_root, sizeof(c->procfs_root), "/");
	snprintf(c->sysfs_root, sizeof(c->sysfs_root), "/");
	c->process_rescan_ms = 10 * 1000;
}

/* CAP_SYS_RESOURCE (24) in our effective set, from /proc/self/status. */
static int
trigger_has_sys_resource(void)
{
	char		 line[256];
	FILE		*f;
	unsigned long long caps = 0;

	if ((f = fopen("/proc/self/status", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	}
	fclose(f);
	return (caps >> 24) & 1;
}

void
trigger_config_begin(struct trigger_config_state *st,
    struct trigger_confs *confs)
{
	memset(st, 0, sizeof(*st));
	st->cs.table = &trigger_table;
	st->cs.section = CONF_SECTION_NONE;
	st->confs = confs;
	st->has_sys_resource = trigger_has_sys_resource();
}

int
trigger_config_is_section(const char *section)
{
	size_t	 i;

	for (i = 0; i < sizeof(trigger_kinds) / sizeof(trigger_kinds[0]); i++)
		if (strncmp(section, trigger_kinds[i].prefix,
		    strlen(trigger_kinds[i].prefix)) == 0)
			return 1;
	/* A [trigger.X.NAME] of an unknown kind is ours to refuse. */
	return strncmp(section, "trigger.", 8) == 0;
}

/* 1 when name is taken by another section of the same kind. */
static int
trigger_is_duplicate(const struct trigger_confs *c, int section,
    const char *name)
{
	size_t	 i;

	switch (section) {
	case TRIGGER_SECTION_CPU:
	case TRIGGER_SECTION_MEMORY:
		for (i = 0; i < c->nwatchers; i++)
			if (strcmp(c->watchers[i].name, name) == 0)
				return 1;
		break;
	case TRIGGER_SECTION_PSI:
		for (i = 0; i < c->npsi; i++)
			if (strcmp(c->psi[i].name, name) == 0)
				return 1;
		break;
	case TRIGGER_SECTION_RULE:
		for (i = 0; i < c->nrules; i++)
			if (strcmp(c->rules[i].name, name) == 0)
				return 1;
		break;
	}
	return 0;
}

/* A new entry for a section, with its defaults; NULL when full. */
static void *
trigger_new_entry(struct trigger_confs *c, int section, const char *name,
    unsigned long line)
{
	struct watcher_conf	*w;
	struct psi_conf		*p;
	struct event_rule_conf	*r;

	switch (section) {
	case TRIGGER_SECTION_CPU:
	case TRIGGER_SECTION_MEMORY:
		if (c->nwatchers == WATCHERS_MAX)
			return NULL;
		w = &c->watchers[c->nwatchers++];
		memset(w, 0, sizeof(*w));
		w->kind = section == TRIGGER_SECTION_CPU ? WATCHER_CPU :
		    WATCHER_MEMORY;
		w->target = WATCHER_SYSTEM;
		conf_defaults(&trigger_table, section, w);
		snprintf(w->name, sizeof(w->name), "%s", name);
		w->line = line;
		return w;
	case TRIGGER_SECTION_PSI:
		if (c->npsi == PSI_WATCHERS_MAX)
			return NULL;
		p = &c->psi[c->npsi++];
		memset(p, 0, sizeof(*p));
		conf_defaults(&trigger_table, section, p);
		snprintf(p->name, sizeof(p->name), "%s", name);
		p->line = line;
		return p;
	case TRIGGER_SECTION_RULE:
		if (c->nrules == EVENT_RULES_MAX)
			return NULL;
		r = &c->rules[c->nrules++];
		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "%s", name);
		r->line = line;
		return r;
	}
	return NULL;
}

int
trigger_config_section(struct trigger_config_state *st, unsigned long line,
    const char *section, char *err, size_t errlen)
{
	const char	*name = NULL;
	int		 id = 0;
	size_t		 i;

	/* Keys of a section we refuse are not reported one by one. */
	st->cs.section = CONF_SECTION_SKIP;
	st->current = NULL;
	for (i = 0; i < sizeof(trigger_kinds) / sizeof(trigger_kinds[0]); i++) {
		if (strncmp(section, trigger_kinds[i].prefix,
		    strlen(trigger_kinds[i].prefix)) == 0) {
			name = section + strlen(trigger_kinds[i].prefix);
			id = trigger_kinds[i].section;
		}
	}
	if (name == NULL) {
		snprintf(err, errlen, "unknown section [%s] (expected %s)",
		    section, trigger_table.expected);
		return -1;
	}
	if (!conf_is_section_name(name, strlen(name))) {
		snprintf(err, errlen, "invalid name '%s' in [%s] (expected 1 "
		    "to %d characters a-z, 0-9, '_' or '-')", name, section,
		    TRIGGER_NAME_MAX - 1);
		return -1;
	}
	if (trigger_is_duplicate(st->confs, id, name)) {
		snprintf(err, errlen, "[%s] is given twice", section);
		return -1;
	}
	if ((st->current = trigger_new_entry(st->confs, id, name,
	    line)) == NULL) {
		snprintf(err, errlen, "[%s]: too many sections of this kind "
		    "(at most %d)", section, id == TRIGGER_SECTION_PSI ?
		    PSI_WATCHERS_MAX : id == TRIGGER_SECTION_RULE ?
		    EVENT_RULES_MAX : WATCHERS_MAX);
		return -1;
	}
	st->cs.section = id;
	return 0;
}

int
trigger_config_set(struct trigger_config_state *st, unsigned long line,
    const char *section, const char *key, const char *value, char *err,
    size_t errlen)
{
	const struct conf_key *k;

	st->key_line = line;
	return conf_set(&st->cs, line, section, key, value, st->current, &k,
	    err, errlen);
}

/* The reason a watcher's trigger carries when the file gives none. */
static void
trigger_default_reasons(struct trigger_confs *c)
{
	struct watcher_conf	*w;
	size_t			 i;

	for (i = 0; i < c->nwatchers; i++) {
		w = &c->watchers[i];
		if (w->reason[0] == '\0')
			snprintf(w->reason, sizeof(w->reason), "%s watcher %s",
			    w->kind == WATCHER_CPU ? "cpu" : "memory",
			    w->name);
	}
	for (i = 0; i < c->npsi; i++)
		if (c->psi[i].reason[0] == '\0')
			snprintf(c->psi[i].reason, sizeof(c->psi[i].reason),
			    "%s pressure (psi watcher %s)",
			    trigger_config_psi_resource(c->psi[i].resource),
			    c->psi[i].name);
	for (i = 0; i < c->nrules; i++)
		if (c->rules[i].reason[0] == '\0')
			snprintf(c->rules[i].reason, sizeof(c->rules[i].reason),
			    "lttng event rule %s", c->rules[i].name);
}

/*
 * Fills the defaults that depend on the rest of a section, and checks
 * what only the whole section can tell. Returns the number of errors.
 */
static int
trigger_check_watcher(struct watcher_conf *w, const char *name, char *err,
    size_t errlen)
{
	struct watch_limits	 limits;
	const char		*problem;
	int			 is_below;

	is_below = w->kind == WATCHER_MEMORY && w->target == WATCHER_SYSTEM;
	if (w->kind == WATCHER_CPU) {
		if (!w->has_threshold)
			w->threshold = 90;
		if (w->target == WATCHER_SYSTEM && w->threshold > 100) {
			ini_append_error(err, errlen, name, w->line,
			    "[trigger.cpu.%s] threshold: %g%% of all CPUs is "
			    "more than they have (at most 100)", w->name,
			    w->threshold);
			return 1;
		}
		/* 10 points under, or half of a threshold under 20. */
		if (!w->has_rearm)
			w->rearm = w->threshold >= 20 ? w->threshold - 10 :
			    w->threshold / 2;
	} else {
		if (!w->has_threshold) {
			if (!is_below) {
				ini_append_error(err, errlen, name, w->line,
				    "[trigger.memory.%s] threshold: required "
				    "for a process or cgroup (e.g. 2G)",
				    w->name);
				return 1;
			}
			w->threshold = 10;
			w->is_percent = 1;
		}
		if (w->is_percent && !is_below) {
			ini_append_error(err, errlen, name, w->line,
			    "[trigger.memory.%s] threshold: a percent is for "
			    "the system's available memory; give a process "
			    "or cgroup a size (e.g. 2G)", w->name);
			return 1;
		}
		if (w->has_rearm && (w->has_rearm == 2) != w->is_percent) {
			ini_append_error(err, errlen, name, w->line,
			    "[trigger.memory.%s] rearm: give it in the unit "
			    "of threshold (%s)", w->name, w->is_percent ?
			    "a percent" : "a size");
			return 1;
		}
		if (!w->has_rearm)
			w->rearm = is_below ? w->threshold * 1.25 :
			    w->threshold * 0.9;
		/* Available memory is never above all of it. */
		if (is_below && w->is_percent && w->rearm > 99.9) {
			if (w->has_rearm || w->threshold >= 99.9) {
				ini_append_error(err, errlen, name, w->line,
				    "[trigger.memory.%s] rearm: %g%% of "
				    "MemTotal available can never be reached "
				    "(at most 99.9)", w->name, w->rearm);
				return 1;
			}
			w->rearm = 99.9;
		}
	}
	limits.direction = is_below ? WATCH_BELOW : WATCH_ABOVE;
	limits.threshold = w->threshold;
	limits.rearm = w->rearm;
	limits.sustain_ms = w->sustain_ms;
	if (*(problem = watch_limits_check(&limits)) != '\0') {
		ini_append_error(err, errlen, name, w->line, "[trigger.%s.%s] "
		    "%s", w->kind == WATCHER_CPU ? "cpu" : "memory", w->name,
		    problem);
		return 1;
	}
	return 0;
}

static int
trigger_check_psi(const struct trigger_config_state *st,
    const struct psi_conf *p, const char *name, char *err, size_t errlen)
{
	if (p->stall_ms > p->window_ms) {
		ini_append_error(err, errlen, name, p->line, "[trigger.psi.%s] "
		    "stall (%llums) is longer than window (%llums)", p->name,
		    (unsigned long long)p->stall_ms,
		    (unsigned long long)p->window_ms);
		return 1;
	}
	if (!st->has_sys_resource &&
	    p->window_ms % PSI_UNPRIVILEGED_STEP_MS != 0) {
		ini_append_error(err, errlen, name, p->line, "[trigger.psi.%s] "
		    "window: %llums is not a multiple of 2s, which the kernel "
		    "requires of a process without CAP_SYS_RESOURCE (this "
		    "one lacks it)", p->name, (unsigned long long)p->window_ms);
		return 1;
	}
	return 0;
}

int
trigger_config_check(struct trigger_config_state *st, const char *name,
    char *err, size_t errlen)
{
	struct trigger_confs	*c = st->confs;
	size_t			 i;
	int			 nerrors = 0;

	for (i = 0; i < c->nwatchers; i++)
		nerrors += trigger_check_watcher(&c->watchers[i], name, err,
		    errlen);
	for (i = 0; i < c->npsi; i++)
		nerrors += trigger_check_psi(st, &c->psi[i], name, err,
		    errlen);
	for (i = 0; i < c->nrules; i++) {
		if (c->rules[i].event[0] == '\0') {
			ini_append_error(err, errlen, name, c->rules[i].line,
			    "[trigger.lttng-event.%s] event: required (the "
			    "UST event to match, e.g. myapp:request_end)",
			    c->rules[i].name);
			nerrors++;
		}
	}
	trigger_default_reasons(c);
	return nerrors;
}

int
trigger_config_watcher_differs(const struct watcher_conf *a,
    const struct watcher_conf *b)
{
	/* Lines do not matter: an edit above a section moves them. */
	return (a->kind != b->kind || strcmp(a->name, b->name) != 0 ||
	    a->target != b->target ||
	    strcmp(a->target_arg, b->target_arg) != 0 ||
	    a->threshold != b->threshold || a->rearm != b->rearm ||
	    a->is_percent != b->is_percent ||
	    a->sustain_ms != b->sustain_ms ||
	    a->interval_ms != b->interval_ms ||
	    strcmp(a->reason, b->reason) != 0 ||
	    a->is_cluster != b->is_cluster);
}

const char *
trigger_config_target_name(enum watcher_target target)
{
	switch (target) {
	case WATCHER_SYSTEM:
		return "system";
	case WATCHER_PROCESS:
		return "process";
	case WATCHER_PIDFILE:
		return "pidfile";
	case WATCHER_CGROUP:
		return "cgroup";
	}
	return "?";
}

const char *
trigger_config_psi_resource(enum psi_resource resource)
{
	switch (resource) {
	case PSI_CPU:
		return "cpu";
	case PSI_MEMORY:
		return "memory";
	case PSI_IO:
		return "io";
	}
	return "?";
}
