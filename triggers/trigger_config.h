/*
 * The configuration of the recorder's own trigger sources (triggers/):
 * the [trigger.cpu.NAME], [trigger.memory.NAME], [trigger.psi.NAME] and
 * [trigger.lttng-event.NAME] sections of recorder.conf, and the [trigger]
 * keys they share (procfs_root, sysfs_root, process_rescan).
 *
 * recorder/config.c hands these sections to trigger_config_section() and
 * trigger_config_set(), which parse them with a key table of their own,
 * and runs trigger_config_check() with the whole file's other checks.
 * Every value is checked here, naming file:line; what only the running
 * system can tell (is that process running, that cgroup readable, does
 * LTTng accept that filter) is checked when the recorder starts the
 * watchers, still naming the line.
 */
#ifndef TT_TRIGGER_CONFIG_H
#define TT_TRIGGER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define TRIGGER_NAME_MAX	33	/* [a-z0-9_-]{1,32} */
#define TRIGGER_PATH_MAX	256
#define TRIGGER_REASON_MAX	160
#define TRIGGER_EVENT_MAX	256
#define TRIGGER_FILTER_MAX	1024
#define TRIGGER_CAPTURE_MAX	256
#define TRIGGER_CAPTURES_MAX	8

#define WATCHERS_MAX		64	/* cpu and memory together */
#define PSI_WATCHERS_MAX	16
#define EVENT_RULES_MAX		16

enum watcher_kind {
	WATCHER_CPU,
	WATCHER_MEMORY,
};

enum watcher_target {
	WATCHER_SYSTEM,		/* /proc/stat, /proc/meminfo */
	WATCHER_PROCESS,	/* every process whose comm is target_arg */
	WATCHER_PIDFILE,	/* the process whose pid is in target_arg */
	WATCHER_CGROUP,		/* a cgroup v2 directory (under sysfs_root) */
};

/* [trigger.cpu.NAME] and [trigger.memory.NAME]. */
struct watcher_conf {
	enum watcher_kind	 kind;
	char			 name[TRIGGER_NAME_MAX];
	unsigned long		 line;		/* its section header */
	unsigned long		 target_line;	/* 0: the default target */
	enum watcher_target	 target;
	char			 target_arg[TRIGGER_PATH_MAX];
	/*
	 * cpu: percent (of all CPUs for the system, of one CPU for a
	 * process or cgroup). memory: bytes, or a percent of MemTotal
	 * (is_percent) for the system's available memory, which fires when
	 * it falls to the threshold; a process's RSS or a cgroup's
	 * memory.current fire when they rise to it.
	 */
	double			 threshold;
	double			 rearm;
	int			 is_percent;
	int			 has_threshold;
	int			 has_rearm;
	uint64_t		 sustain_ms;
	uint64_t		 interval_ms;
	char			 reason[TRIGGER_REASON_MAX];
	int			 is_cluster;
};

enum psi_resource {
	PSI_CPU,
	PSI_MEMORY,
	PSI_IO,
};

/* [trigger.psi.NAME]: a kernel pressure-stall trigger. */
struct psi_conf {
	char			 name[TRIGGER_NAME_MAX];
	unsigned long		 line;
	enum psi_resource	 resource;
	int			 is_full;	/* "full" rather than "some" */
	uint64_t		 stall_ms;
	uint64_t		 window_ms;
	char			 cgroup[TRIGGER_PATH_MAX];	/* "" = system */
	char			 reason[TRIGGER_REASON_MAX];
	int			 is_cluster;
};

/* [trigger.lttng-event.NAME]: an LTTng event-rule-matches trigger. */
struct event_rule_conf {
	char			 name[TRIGGER_NAME_MAX];
	unsigned long		 line;
	char			 event[TRIGGER_EVENT_MAX];	/* name pattern */
	char			 filter[TRIGGER_FILTER_MAX];	/* "" = none */
	unsigned long		 filter_line;
	char			 capture[TRIGGER_CAPTURE_MAX];	/* field list */
	char			 reason[TRIGGER_REASON_MAX];
	int			 is_cluster;
};

struct trigger_confs {
	/* [trigger] */
	char			 procfs_root[TRIGGER_PATH_MAX];	/* "/" */
	char			 sysfs_root[TRIGGER_PATH_MAX];	/* "/" */
	uint64_t		 process_rescan_ms;		/* 10s */

	struct watcher_conf	 watchers[WATCHERS_MAX];
	size_t			 nwatchers;
	struct psi_conf		 psi[PSI_WATCHERS_MAX];
	size_t			 npsi;
	struct event_rule_conf	 rules[EVENT_RULES_MAX];
	size_t			 nrules;
};

/*
 * One load's state: recorder/config.c keeps one in its own and passes it
 * to every call. cs uses this file's key table.
 */
struct trigger_config_state {
	struct conf_state	 cs;
	struct trigger_confs	*confs;		/* in the config being loaded */
	void			*current;	/* the entry keys go into */
	unsigned long		 key_line;	/* of the last key set */
	int			 has_sys_resource;	/* CAP_SYS_RESOURCE */
};

void	trigger_config_defaults(struct trigger_confs *);
void	trigger_config_begin(struct trigger_config_state *,
	    struct trigger_confs *);

/* 1 when section is one of ours ("trigger.KIND.NAME"). */
int	trigger_config_is_section(const char *section);
/* A header of ours: a new entry, or -1 with a message. */
int	trigger_config_section(struct trigger_config_state *,
	    unsigned long line, const char *section, char *err, size_t errlen);
/* A key of the current section of ours. */
int	trigger_config_set(struct trigger_config_state *, unsigned long line,
	    const char *section, const char *key, const char *value, char *err,
	    size_t errlen);
/* Whole-file checks; appends "name:line: .." errors, returns how many. */
int	trigger_config_check(struct trigger_config_state *, const char *name,
	    char *err, size_t errlen);

/* 1 when the two differ in anything a watcher or rule depends on. */
int	trigger_config_watcher_differs(const struct watcher_conf *,
	    const struct watcher_conf *);
const char *trigger_config_target_name(enum watcher_target);
const char *trigger_config_psi_resource(enum psi_resource);

#endif
