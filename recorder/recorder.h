/*
 * tracetrap-recorder: state shared by the files of the daemon. Everything
 * here belongs to the main thread (the event loop); the LTTng worker only
 * sees the jobs handed to it (session.h).
 *
 * Where things are:
 *   recorder.c        main() and the lifecycle: start, readiness, the
 *                     session's health check, signals, shutdown
 *   reload.c          SIGHUP: a new configuration, all of it or none
 *   sources.c         the trigger sources (triggers/) wired in: the sink,
 *                     the watchers, the event rules' syncs, their status
 *   trigger_socket.c  trigger.sock; control.c: control.sock (HTTP+JSON);
 *                     unix_socket.c: both sockets' setup and peer checks
 *   snapshot.c        what a trigger becomes: policy, coalescing, delay,
 *                     recording, manifest (policy.c, policy_limits.c)
 *   session.c         the LTTng worker (the session, records) and the
 *                     disk worker (publish, manifests, removal)
 *   spool.c           the spool on disk; relay_link.c: the link to the
 *                     relay; relay_upload.c: its uploader
 *                     (relay_link_int.h between the two)
 *   config.c          recorder.conf (its [trigger.*] sections:
 *                     triggers/trigger_config.c)
 */
#ifndef TT_RECORDER_H
#define TT_RECORDER_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>

#include "clock.h"
#include "config.h"
#include "datagram.h"
#include "policy.h"
#include "session.h"
#include "tracetrap.h"
#include "spool.h"
#include "trigger_sink.h"

#define RECORDER_RECENT_MAX	64	/* snapshots kept for /v1/snapshots */
#define SNAPSHOT_TRIGGERS_MAX	256	/* listed in one manifest */

enum snapshot_state {
	SNAPSHOT_DELAYED,	/* accepted, waiting delay_ms */
	SNAPSHOT_RECORDING,	/* handed to the LTTng worker */
	SNAPSHOT_PUBLISHING,	/* recorded; on the disk worker */
	SNAPSHOT_DONE,
	SNAPSHOT_FAILED,
};

struct snapshot;
struct reload;
typedef void (*snapshot_waiter_cb)(struct snapshot *, void *);

struct snapshot_waiter {
	snapshot_waiter_cb		 cb;
	void				*arg;
	TAILQ_ENTRY(snapshot_waiter)	 entry;
};
TAILQ_HEAD(snapshot_waiters, snapshot_waiter);

struct snapshot {
	char			 id[SPOOL_ID_MAX];
	char			 incident[SPOOL_ID_MAX];	/* "" for none */
	enum snapshot_state	 state;
	json_t			*triggers;	/* manifest triggers[] */
	json_t			*manifest;	/* once DONE */
	size_t			 published_triggers; /* in the manifest file */
	int			 is_manifest_writing;
	int			 is_network;	/* output was net:// */
	int			 is_uploaded;	/* the relay stored it */
	size_t			 triggers_omitted; /* past the cap */
	int64_t			 taken_at_us;	/* CLOCK_REALTIME */
	uint64_t		 accepted_us;	/* CLOCK_MONOTONIC */
	uint64_t		 duration_us;	/* accepted -> published */
	uint64_t		 record_us;
	int64_t			 record_started_at_us;	/* the freeze */
	int64_t			 published_at_us;
	uint64_t		 bytes;
	char			 path[CONFIG_PATH_MAX];
	char			 error[512];
	struct event		*delay_ev;
	struct snapshot_waiters	 waiters;
	TAILQ_ENTRY(snapshot)	 entry;		/* newest first */
};
TAILQ_HEAD(snapshots, snapshot);

struct recorder_stats {
	uint64_t	 datagrams;		/* received on trigger.sock */
	uint64_t	 datagrams_malformed;
	uint64_t	 datagrams_oversized;	/* part of malformed */
	uint64_t	 snapshots_recorded;
	uint64_t	 snapshots_failed;
	uint64_t	 spool_remove_failed;
	uint64_t	 manifest_updates;
	uint64_t	 session_setups;	/* created anew */
	uint64_t	 control_requests;
	uint64_t	 control_denied;
};

struct recorder {
	struct event_base	*base;
	struct config		 conf;
	char			 config_path[CONFIG_PATH_MAX];
	int			 is_config_default;	/* no -f, no file */
	struct policy		*policy;
	struct session		*session;
	struct session_state	 session_state;
	char			 session_error[512];
	int			 is_check_pending;
	int			 is_shutting_down;
	uint64_t		 shutdown_deadline_us;
	struct event		*drain_event;
	int			 ready_fd;
	struct spool		 spool;
	struct snapshot		*open;		/* takes coalesced triggers */
	struct snapshots	 recent;
	unsigned		 nrecent;
	uint64_t		 sequence;
	int64_t			 started_at_us;
	struct recorder_stats	 stats;
	int			 has_control_group;	/* resolved at load */
	gid_t			 control_gid;
	struct control		*control;
	struct trigger_socket	*trigger_socket;
	struct relay_link	*relay_link;	/* NULL: no [relay] address */
	struct trigger_sink	 sink;		/* the sources' triggers */
	struct watchers		*watchers;	/* cpu, memory, psi */
	struct event_rule_set	*rules;		/* [trigger.lttng-event] */
	unsigned		 rules_pending;	/* RULES jobs not done */
	int			 needs_rules_sync; /* sessiond new or away */
	int			 is_setup_answered;	/* first SETUP */
	int			 is_rules_answered;	/* first RULES */
	struct reload		*reload;	/* waits for its rules' sync */
	int			 is_reload_again;	/* SIGHUP meanwhile */
	int			 exit_status;
	int			 has_forwarded;	/* a cluster trigger, once */
	uint64_t		 forwarded_at_us;
};

extern struct recorder *recorder;

/* recorder.c */
void		 recorder_snapshot_uploaded(struct recorder *, const char *);
/* Ready once the session and the event rules had their first answer. */
void		 recorder_maybe_ready(struct recorder *);
void		 recorder_begin_shutdown(struct recorder *);
/* A session job (SETUP, CHECK) for rec->conf; its answer updates rec. */
void		 recorder_submit_session(struct recorder *, enum session_job_type);

/* sources.c: the trigger sources (triggers/), wired in one place */
int		 sources_init(struct recorder *, const char *name, char *err,
		    size_t errlen);
struct watchers	*sources_watchers_new(struct recorder *,
		    const struct trigger_confs *, const char *name, char *err,
		    size_t errlen);
int		 sources_check_rules(struct recorder *, const char *path);
void		 sources_start_rules(struct recorder *);
void		 sources_start_watchers(struct recorder *);
void		 sources_configure_rules(struct recorder *);
void		 sources_counts(const struct recorder *, size_t *nwatchers,
		    size_t *nrules);
struct event_rule_sync_job;
/*
 * A reload's changed rules, registered beside the running ones (all or
 * none): LTTng's answer goes to done.
 */
void		 sources_sync_next(struct recorder *, const struct config *next,
		    void (*done)(struct event_rule_sync_job *, void *));
void		 sources_resync(struct recorder *, const char *previous_session);
unsigned	 sources_log_refused(const struct event_rule_sync_job *,
		    const char *context);
void		 sources_log_synced(const struct event_rule_sync_job *,
		    const char *context);
void		 sources_on_session(struct recorder *,
		    const struct session_state *);
void		 sources_remove(struct recorder *);
void		 sources_stop(struct recorder *);
void		 sources_free(struct recorder *);
json_t		*sources_status(const struct recorder *);
struct evbuffer;
void		 sources_metrics(const struct recorder *, struct evbuffer *);

/* reload.c: SIGHUP */
void		 reload_start(struct recorder *);
void		 reload_free(struct reload *);
/* The session name the pending reload's rules were synced for, or NULL. */
const char	*reload_next_session(const struct reload *);

/* relay_link.c */
struct relay_link *relay_link_open(struct recorder *, char *, size_t);
void		 relay_link_close(struct relay_link *);
void		 relay_link_kick(struct relay_link *);
void		 relay_link_mark_uploaded(struct relay_link *, const char *id);
int		 relay_link_is_ready(const struct relay_link *);
int		 relay_link_cluster_trigger(struct relay_link *, json_t *);
json_t		*relay_link_status(const struct relay_link *);
void		 relay_link_metrics(const struct relay_link *, struct evbuffer *);

/* snapshot.c */
struct policy_decision snapshot_trigger(struct recorder *,
		    const struct trigger *, struct snapshot **);
void		 snapshot_request(struct recorder *, const struct trigger *,
		    const char *incident);
void		 snapshot_wait(struct snapshot *, snapshot_waiter_cb, void *);
void		 snapshot_unwait(struct snapshot *, snapshot_waiter_cb, void *);
int		 snapshot_is_finished(const struct snapshot *);
json_t		*snapshot_json(const struct snapshot *);
json_t		*snapshot_list_json(struct recorder *);
const char	*snapshot_state_name(enum snapshot_state);
void		 snapshot_shutdown(struct recorder *);
void		 snapshot_free_all(struct recorder *);

/* control.c */
struct control	*control_open(struct recorder *, char *, size_t);
void		 control_close(struct control *);
json_t		*control_status_json(struct recorder *);

/* trigger_socket.c */
struct trigger_socket *trigger_socket_open(struct recorder *, char *, size_t);
void		 trigger_socket_close(struct trigger_socket *);

/* unix_socket.c */
int		 unix_socket_listen(const char *path, int type, mode_t mode,
		    const char *group, int is_passcred, char *err,
		    size_t errlen);
int		 unix_socket_peer_is_member(int fd, const struct ucred *,
		    int has_group, gid_t group);
int		 unix_socket_group(const char *name, int *has_group,
		    gid_t *gid, char *err, size_t errlen);

#endif
