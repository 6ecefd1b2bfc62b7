/*
 * The API's investigation endpoints (investigate.c): an incident with
 * every snapshot's summary, a snapshot's summary, and the drill-down.
 * Each answers later, from the analysis's query threads.
 */
#ifndef TT_INVESTIGATE_H
#define TT_INVESTIGATE_H

#include <event2/http.h>

struct relay;

void	investigate_incident(struct relay *, struct evhttp_request *,
	    const char *id);
void	investigate_summary(struct relay *, struct evhttp_request *,
	    const char *id);
void	investigate_events(struct relay *, struct evhttp_request *,
	    const char *id);

#endif
