/*
 * tracetrap-recorder configuration: an INI file (conf/recorder.conf is the
 * annotated reference). Every key has a default; unknown sections or keys
 * and bad values are errors naming file:line, all reported in one pass.
 */
#ifndef TT_CONFIG_H
#define TT_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"
#include "tls_conf.h"
#include "trigger_config.h"

#define CONFIG_DEFAULT_PATH	"/etc/tracetrap/recorder.conf"
#define CONFIG_PATH_MAX		4096
#define CONFIG_NAME_MAX		64
#define CONFIG_LIST_MAX		1024
#define CONFIG_HOST_MAX		256	/* a DNS name (253) with its NUL */
#define CONFIG_ADDRESS_MAX	(CONFIG_HOST_MAX + 8)	/* [HOST]:PORT */
#define CONFIG_RELAYS_MAX	16	/* entries of [relay] address */

/* One entry of [relay] address. */
struct config_relay {
	char		 address[CONFIG_ADDRESS_MAX];	/* as written */
	char		 host[CONFIG_HOST_MAX];	/* without IPv6 brackets */
	uint16_t	 port;
};

struct config {
	/* [node] */
	char		 node_name[CONFIG_NAME_MAX];	/* default: hostname */

	/* [session] */
	char		 session_name[CONFIG_NAME_MAX];	/* "tracetrap" */
	uint64_t	 subbuf_size;		/* bytes, power of 2, >= 4k */
	unsigned	 subbuf_count;		/* power of 2, >= 2 */
	int		 is_per_pid_buffers;	/* buffers = per-uid|per-pid */
	char		 ust_events[CONFIG_LIST_MAX];	/* comma list, "*" */
	char		 kernel_events[CONFIG_LIST_MAX]; /* comma list */
	char		 output[CONFIG_PATH_MAX];	/* "" = spool, net://.. */
	int		 is_keep_session;	/* keep = no: destroy at exit */
	uint64_t	 check_interval_ms;	/* sessiond health check, 2s */

	/* [control] */
	char		 control_socket[CONFIG_PATH_MAX];
	char		 control_group[CONFIG_NAME_MAX];	/* "" = none */
	mode_t		 control_mode;			/* 0660 */

	/* [trigger] */
	char		 trigger_socket[CONFIG_PATH_MAX];
	char		 trigger_group[CONFIG_NAME_MAX];
	mode_t		 trigger_mode;			/* 0660 */

	/* [spool] */
	char		 spool_dir[CONFIG_PATH_MAX];
	uint64_t	 spool_max_bytes;

	/*
	 * [limits] cooldown, burst, refill, max_per_day, coalesce go to
	 * policy.limits / policy.coalesce_ms; [trigger] sources (a comma list:
	 * only these are enabled) sets policy.only_listed; every
	 * [source.NAME] section (enabled, sample, cooldown, burst, refill,
	 * max_per_day) becomes one policy.sources[] entry.
	 */
	struct policy_conf policy;
	uint64_t	 delay_ms;		/* [limits] delay */

	/*
	 * [relay]: "" = no relay, snapshots stay in the spool. When address
	 * is set, ca, cert and key existed at load time and key was not
	 * readable by group or others. address is a comma list of HOST:PORT
	 * or [IPv6]:PORT, stored without the spaces around its entries;
	 * relays[] is that list split (each host without the brackets of an
	 * IPv6 address), what the resolver and the certificate check need.
	 * No two entries name the same host and port.
	 */
	char		 relay_address[CONFIG_RELAYS_MAX * CONFIG_ADDRESS_MAX];
	struct config_relay relays[CONFIG_RELAYS_MAX];
	size_t		 nrelays;			/* 0 without address */
	struct tls_conf	 relay_tls;	/* the fleet CA, this node's (CN=name) */
	uint64_t	 relay_reconnect_min_ms;	/* backoff from 1s */
	uint64_t	 relay_reconnect_max_ms;	/* .. to 60s, >= min */
	uint64_t	 relay_ping_interval_ms;	/* 15s, >= 1s */
	uint64_t	 relay_upload_chunk;		/* 256k, 4k..256k */

	/*
	 * [trigger] procfs_root, sysfs_root, process_rescan and the
	 * [trigger.cpu|memory|psi|lttng-event.NAME] sections: the
	 * recorder's own trigger sources (triggers/trigger_config.h).
	 */
	struct trigger_confs triggers;
};

/* Fills every default (node_name from gethostname()). */
void	config_defaults(struct config *);

/*
 * Loads path over the defaults. Returns 0, or -1 with every error found,
 * one "path:line: message" per line, in err: first those of the lines in
 * their order, then those only the whole file can tell (a relay key file
 * readable by others, reconnect_max below reconnect_min).
 */
int	config_load(struct config *, const char *path, char *err,
	    size_t errlen);

/* Same, from a buffer (used by the fuzzer and the unit tests). */
int	config_load_buffer(struct config *, const char *name,
	    const char *text, size_t len, char *err, size_t errlen);

/*
 * 1 when the LTTng session must be re-created to apply b over a. The
 * output is not part of it: every snapshot names its own output.
 */
int	config_session_differs(const struct config *a, const struct config *b);

/* 1 when any [relay] key differs: the relay link must be reopened. */
int	config_relay_differs(const struct config *a, const struct config *b);
/* The settings config_session_differs() compares, from src into dst. */
void	config_session_copy(struct config *dst, const struct config *src);

#endif
