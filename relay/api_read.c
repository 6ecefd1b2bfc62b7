/*
 * The API's catalog reads, off the event loop (api_read.h). The loop
 * also reads every recorder's uploads and answers their PINGs: a
 * listing, however big its page, must not hold them up. So a handler
 * checks its request on the loop, a read thread queries the catalog
 * through a connection of its own (catalog_reader()) and encodes the
 * answer, and the loop only sends it (lib/http_deferred.c: the client
 * may be gone by then).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/http.h>

#include "api_read.h"
#include "catalog.h"
#include "http_deferred.h"
#include "http_json.h"
#include "log.h"
#include "relay.h"
#include "worker.h"

struct api_read {
	struct http_deferred	*reply;
	char			 catalog_path[RELAY_CONFIG_PATH_MAX];
	api_read_run		 run;
	api_read_done		 done;
	void			*arg;
	void			(*free_arg)(void *);
	struct api_answer	 answer;
};

static struct worker	*api_read_worker;
static unsigned		 api_read_pending;

void
api_read_start(struct event_base *base)
{
	api_read_worker = worker_start_threads(base, API_READ_THREADS,
	    "tt-api-read");
}

void
api_read_stop(void)
{
	worker_stop(api_read_worker);
	api_read_worker = NULL;
}

void
api_answer_json(struct api_answer *ans, int status, json_t *body)
{
	if (body == NULL ||
	    (ans->text = http_json_encode(body, &ans->len)) == NULL) {
		api_answer_error(ans, 500, "internal", "cannot encode the "
		    "answer");
	} else
		ans->status = status;
	json_decref(body);
}

void
api_answer_error(struct api_answer *ans, int status, const char *error,
    const char *fmt, ...)
{
	va_list ap;

	free(ans->text);
	ans->text = NULL;
	ans->status = status;
	snprintf(ans->error, sizeof(ans->error), "%s", error);
	va_start(ap, fmt);
	vsnprintf(ans->message, sizeof(ans->message), fmt, ap);
	va_end(ap);
}

/* Read thread. */
static void
api_read_run_one(void *arg)
{
	struct api_read	*r = arg;
	struct catalog	*c;
	char		 err[512];

	/* A PostgreSQL catalog down or restarting: a moment's outage. */
	if ((c = catalog_reader(r->catalog_path, err, sizeof(err))) == NULL) {
		log_warnx("api: %s", err);
		api_answer_error(&r->answer, 503, "unavailable", "the catalog "
		    "cannot be read; see the relay's log");
		return;
	}
	r->run(c, r->arg, &r->answer);
}

/* Event loop. */
static void
api_read_done_one(void *arg)
{
	struct api_read		*r = arg;
	struct api_answer	*ans = &r->answer;
	struct evhttp_request	*req;

	api_read_pending--;
	if (r->done != NULL) {
		if ((req = http_deferred_finish(r->reply)) != NULL)
			r->done(req, r->arg, ans);
	} else if (ans->text != NULL) {
		http_deferred_send(r->reply, ans->status, ans->text, ans->len);
		ans->text = NULL;
	} else
		http_deferred_error(r->reply, ans->status, ans->error,
		    ans->message);
	free(ans->text);
	if (r->free_arg != NULL)
		r->free_arg(r->arg);
	free(r);
}

void
api_read(struct relay *relay, struct evhttp_request *req, api_read_run run,
    api_read_done done, void *arg, void (*free_arg)(void *))
{
	struct api_read *r;

	if (api_read_pending >= API_READS_MAX) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "1");
		http_json_error(req, 503, "busy", "too many API requests at "
		    "once; retry in a moment");
		goto refused;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->reply = http_deferred_new(req)) == NULL) {
		free(r);
		http_json_error(req, 500, "internal", "out of memory");
		goto refused;
	}
	/* A copy: a reload may replace the configuration meanwhile. */
	snprintf(r->catalog_path, sizeof(r->catalog_path), "%s",
	    relay->catalog_path);
	r->run = run;
	r->done = done;
	r->arg = arg;
	r->free_arg = free_arg;
	r->answer.status = 500;
	api_read_pending++;
	worker_submit(api_read_worker, api_read_run_one, api_read_done_one, r);
	return;
refused:
	if (free_arg != NULL)
		free_arg(arg);
}
