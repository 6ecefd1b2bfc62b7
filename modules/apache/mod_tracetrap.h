/*
 * mod_tracetrap's shared declarations: the module, its configuration
 * (trap_config.c: directives, per-directory and per-server records, their
 * merging) and the defaults both halves need.
 */
#ifndef TT_MOD_TRACETRAP_H
#define TT_MOD_TRACETRAP_H

#include <stdint.h>

#include "httpd.h"
#include "http_config.h"

#include "directive.h"

/* Message ids in Apache's style; "AH" numbers belong to httpd itself. */
#define TTLOGNO(n)			"TT" #n ": "

#define TRAP_UNSET			(-1)
#define TRAP_DEFAULT_SLOW_US		(2 * 1000 * 1000)
#define TRAP_DEFAULT_MAX_PER_SECOND	10
#define TRAP_MAX_PER_SECOND_LIMIT	10000
#define TRAP_REASON_MAX			200

/* Built with -fvisibility=hidden: httpd looks this one symbol up. */
extern module AP_MODULE_DECLARE_DATA tracetrap_module
    __attribute__((visibility("default")));

/* Server, virtual host, <Location>, <Directory>: merged, UNSET inherits. */
struct trap_dir {
	int				 enabled;	/* TRAP_UNSET, 0, 1 */
	int64_t				 slow_us;	/* TRAP_UNSET; 0: Off */
	struct directive_statuses	*statuses;	/* NULL: unset */
	int				 is_status_none; /* set by "None" */
	int				 scope;		/* TRAP_UNSET or enum */
	const char			*reason;	/* NULL: say what happened */
};

/* The main server only (GLOBAL_ONLY); virtual hosts inherit it. */
struct trap_server {
	const char	*socket;		/* NULL: the default socket */
	int		 max_per_second;	/* TRAP_UNSET */
	int		 has_events;		/* TRAP_UNSET, 0, 1 */
};

extern const command_rec	trap_config_commands[];

void	*trap_config_create_dir(apr_pool_t *, char *);
void	*trap_config_merge_dir(apr_pool_t *, void *, void *);
void	*trap_config_create_server(apr_pool_t *, server_rec *);
void	*trap_config_merge_server(apr_pool_t *, void *, void *);

struct trap_server	*trap_config_server(const server_rec *);

#endif
