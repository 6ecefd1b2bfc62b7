/*
 * The API's catalog reads, off the event loop (api_read.c): run(catalog,
 * arg, answer) on one of API_READ_THREADS threads, each with its own
 * catalog connection; then, on the loop, the answer is sent, or done(req,
 * arg, answer) answers it some other way (a download, a status built
 * from the loop's own counters) when the client is still there.
 */
#ifndef TT_API_READ_H
#define TT_API_READ_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#define API_READ_THREADS	2
#define API_READS_MAX		64	/* waiting or running: then 503 */

struct catalog;
struct relay;

struct api_answer {
	int	 status;
	char	*text;		/* JSON made by api_answer_json, or NULL */
	size_t	 len;
	char	 error[32];	/* when text is NULL */
	char	 message[512];
	int64_t	 value;		/* a figure for done() */
};

typedef void	(*api_read_run)(struct catalog *, void *arg,
		    struct api_answer *);
typedef void	(*api_read_done)(struct evhttp_request *, void *arg,
		    struct api_answer *);

void	api_read_start(struct event_base *);
/* Runs what is queued, then joins the threads (after the loop ends). */
void	api_read_stop(void);

/*
 * Queues run for req; done may be NULL (send the answer). free_arg(arg),
 * if not NULL, runs when all is over, also when the read is refused
 * (503 past API_READS_MAX: answered here).
 */
void	api_read(struct relay *, struct evhttp_request *, api_read_run run,
	    api_read_done done, void *arg, void (*free_arg)(void *));

/* On the read thread: status with body (encoded; its reference taken). */
void	api_answer_json(struct api_answer *, int status, json_t *body);
/* On the read thread: an error answer {"error", "message"}. */
void	api_answer_error(struct api_answer *, int status, const char *error,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
