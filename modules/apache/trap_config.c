/*
 * mod_tracetrap's directives (README.md has the operator's view). Every
 * value is checked here, when the configuration is read, so that
 * `apache2 -t` reports a bad one, naming the directive, and no request
 * ever meets it. Unset fields hold TRAP_UNSET (or NULL) and inherit from
 * the enclosing section when merged; defaults are applied where a value
 * is used, so an inner section that sets nothing changes nothing.
 */
#include <sys/un.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpd.h"
#include "http_config.h"

#include "apr_strings.h"

#include "tracetrap.h"

#include "mod_tracetrap.h"

static const char *
trap_config_error(cmd_parms *cmd, const char *message)
{
	return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, message);
}

void *
trap_config_create_dir(apr_pool_t *pool, char *context)
{
	struct trap_dir	*dir;

	(void)context;
	dir = apr_pcalloc(pool, sizeof *dir);
	dir->enabled = TRAP_UNSET;
	dir->slow_us = TRAP_UNSET;
	dir->scope = TRAP_UNSET;
	return dir;
}

#define TRAP_MERGE(field, unset) \
	merged->field = (add->field != (unset)) ? add->field : base->field

void *
trap_config_merge_dir(apr_pool_t *pool, void *base_config, void *add_config)
{
	struct trap_dir	*base = base_config, *add = add_config, *merged;

	merged = apr_pcalloc(pool, sizeof *merged);
	TRAP_MERGE(enabled, TRAP_UNSET);
	TRAP_MERGE(slow_us, TRAP_UNSET);
	/* A section's list replaces its parent's; "None" empties it. */
	TRAP_MERGE(statuses, NULL);
	TRAP_MERGE(scope, TRAP_UNSET);
	TRAP_MERGE(reason, NULL);
	return merged;
}

void *
trap_config_create_server(apr_pool_t *pool, server_rec *s)
{
	struct trap_server	*server;

	(void)s;
	server = apr_pcalloc(pool, sizeof *server);
	server->max_per_second = TRAP_UNSET;
	server->has_events = TRAP_UNSET;
	return server;
}

void *
trap_config_merge_server(apr_pool_t *pool, void *base_config, void *add_config)
{
	struct trap_server	*base = base_config, *add = add_config, *merged;

	merged = apr_pcalloc(pool, sizeof *merged);
	TRAP_MERGE(socket, NULL);
	TRAP_MERGE(max_per_second, TRAP_UNSET);
	TRAP_MERGE(has_events, TRAP_UNSET);
	return merged;
}

static const char *
trap_set_enabled(cmd_parms *cmd, void *config, int flag)
{
	struct trap_dir	*dir = config;

	(void)cmd;
	dir->enabled = flag;
	return NULL;
}

static const char *
trap_set_slow(cmd_parms *cmd, void *config, const char *arg)
{
	struct trap_dir	*dir = config;
	uint64_t	 us;
	char		 err[256];

	if (strcasecmp(arg, "off") == 0) {
		dir->slow_us = 0;
		return NULL;
	}
	if (directive_parse_duration(arg, &us, err, sizeof err) != 0)
		return trap_config_error(cmd, err);
	dir->slow_us = (int64_t)us;
	return NULL;
}

/* ITERATE: once per word; several lines in one section add up. */
static const char *
trap_set_status(cmd_parms *cmd, void *config, const char *arg)
{
	struct trap_dir	*dir = config;
	char		 err[256];
	int		 is_none;

	is_none = strcasecmp(arg, "none") == 0 || strcasecmp(arg, "off") == 0;
	if (dir->statuses != NULL && is_none != dir->is_status_none)
		return trap_config_error(cmd, "None cannot be combined with statuses");
	if (dir->statuses == NULL) {
		dir->statuses = apr_pcalloc(cmd->pool, sizeof *dir->statuses);
		dir->is_status_none = is_none;
	}
	if (is_none)
		return NULL;
	if (directive_parse_status(arg, dir->statuses, err, sizeof err) != 0)
		return trap_config_error(cmd, err);
	return NULL;
}

static const char *
trap_set_scope(cmd_parms *cmd, void *config, const char *arg)
{
	struct trap_dir	*dir = config;

	if (strcasecmp(arg, "node") == 0)
		dir->scope = TRACETRAP_SCOPE_NODE;
	else if (strcasecmp(arg, "cluster") == 0)
		dir->scope = TRACETRAP_SCOPE_CLUSTER;
	else {
		return trap_config_error(cmd, apr_psprintf(cmd->pool,
		    "'%s' is neither node nor cluster", arg));
	}
	return NULL;
}

static const char *
trap_set_reason(cmd_parms *cmd, void *config, const char *arg)
{
	struct trap_dir	*dir = config;
	size_t		 i;

	if (*arg == '\0')
		return trap_config_error(cmd, "the reason is empty");
	for (i = 0; arg[i] != '\0'; i++) {
		if ((unsigned char)arg[i] < 0x20 || arg[i] == 0x7f)
			return trap_config_error(cmd, "the reason has a control "
			    "character");
	}
	if (i > TRAP_REASON_MAX) {
		return trap_config_error(cmd, apr_psprintf(cmd->pool,
		    "the reason is longer than %d bytes", TRAP_REASON_MAX));
	}
	dir->reason = arg;
	return NULL;
}

struct trap_server *
trap_config_server(const server_rec *s)
{
	return ap_get_module_config(s->module_config, &tracetrap_module);
}

static const char *
trap_set_socket(cmd_parms *cmd, void *config, const char *arg)
{
	struct trap_server	*server = trap_config_server(cmd->server);
	const char		*err;
	char			 path[sizeof ((struct sockaddr_un *)0)->sun_path];

	(void)config;
	if ((err = ap_check_cmd_context(cmd, GLOBAL_ONLY)) != NULL)
		return err;
	if (*arg != '/') {
		return trap_config_error(cmd, apr_psprintf(cmd->pool,
		    "'%s' is not an absolute path", arg));
	}
	if (strlen(arg) >= sizeof path) {
		return trap_config_error(cmd, apr_psprintf(cmd->pool,
		    "the path is longer than the %" APR_SIZE_T_FMT " bytes of "
		    "a Unix socket address", sizeof path - 1));
	}
	server->socket = arg;
	return NULL;
}

static const char *
trap_set_max_per_second(cmd_parms *cmd, void *config, const char *arg)
{
	struct trap_server	*server = trap_config_server(cmd->server);
	const char		*err;
	char			*end;
	long			 value;

	(void)config;
	if ((err = ap_check_cmd_context(cmd, GLOBAL_ONLY)) != NULL)
		return err;
	errno = 0;
	value = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || value < 1 ||
	    value > TRAP_MAX_PER_SECOND_LIMIT) {
		return trap_config_error(cmd, apr_psprintf(cmd->pool,
		    "'%s' is not a number from 1 to %d", arg,
		    TRAP_MAX_PER_SECOND_LIMIT));
	}
	server->max_per_second = (int)value;
	return NULL;
}

static const char *
trap_set_events(cmd_parms *cmd, void *config, int flag)
{
	struct trap_server	*server = trap_config_server(cmd->server);
	const char		*err;

	(void)config;
	if ((err = ap_check_cmd_context(cmd, GLOBAL_ONLY)) != NULL)
		return err;
	server->has_events = flag;
	return NULL;
}

const command_rec trap_config_commands[] = {
	AP_INIT_FLAG("TraceTrap", trap_set_enabled, NULL,
	    RSRC_CONF | ACCESS_CONF,
	    "On or Off: whether requests here may trigger a snapshot "
	    "(default On)"),
	AP_INIT_TAKE1("TraceTrapSlowRequest", trap_set_slow, NULL,
	    RSRC_CONF | ACCESS_CONF,
	    "a duration with a unit (500ms, 2s, 1500us): a longer request "
	    "triggers a snapshot; Off for never (default 2s)"),
	AP_INIT_ITERATE("TraceTrapOnStatus", trap_set_status, NULL,
	    RSRC_CONF | ACCESS_CONF,
	    "statuses, ranges or classes (404, 500-599, 5xx) that trigger a "
	    "snapshot; None for none (default None)"),
	AP_INIT_TAKE1("TraceTrapScope", trap_set_scope, NULL,
	    RSRC_CONF | ACCESS_CONF,
	    "node or cluster: snapshot this node or every node of the "
	    "cluster (default node)"),
	AP_INIT_TAKE1("TraceTrapReason", trap_set_reason, NULL,
	    RSRC_CONF | ACCESS_CONF,
	    "the reason sent with the trigger, at most 200 bytes (default: "
	    "what happened, e.g. \"slow request 2.3 s > 500 ms\")"),
	AP_INIT_TAKE1("TraceTrapSocket", trap_set_socket, NULL, RSRC_CONF,
	    "the recorder's trigger socket, an absolute path (default "
	    TRACETRAP_TRIGGER_SOCKET "; main server only)"),
	AP_INIT_TAKE1("TraceTrapMaxPerSecond", trap_set_max_per_second, NULL,
	    RSRC_CONF,
	    "triggers one child may send per second, 1-10000 (default 10; "
	    "main server only)"),
	AP_INIT_FLAG("TraceTrapEvents", trap_set_events, NULL, RSRC_CONF,
	    "On or Off: load the tracetrap_httpd tracepoints in every child "
	    "(default On; main server only)"),
	{ NULL }
};
