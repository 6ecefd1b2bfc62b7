/*
 * Figures a daemon shows twice: in its JSON status and as Prometheus text
 * on /metrics (metrics.c). One table says both, so the two cannot drift
 * apart and no metric goes without its HELP and TYPE lines.
 */
#ifndef TT_METRICS_H
#define TT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct evbuffer;

/* One figure: a uint64_t at offset in the struct the table describes. */
struct metric {
	const char	*key;		/* in the status object; NULL: none */
	const char	*name;		/* for /metrics; NULL: status only */
	const char	*labels;	/* `result="stored"`, or NULL */
	int		 is_gauge;	/* else a counter */
	const char	*help;		/* once per name: on its first row */
	size_t		 offset;
};

#define METRIC_COUNTER(type, field, name, labels, help) \
	{ #field, name, labels, 0, help, offsetof(type, field) }
#define METRIC_GAUGE(type, field, name, labels, help) \
	{ #field, name, labels, 1, help, offsetof(type, field) }

/* A table and its length, as the calls below take them. */
#define METRICS(table)	(table), (sizeof(table) / sizeof((table)[0]))

/* Adds each row's key to status (an object) with its value in base. */
void	metrics_json(json_t *status, const struct metric *, size_t n,
	    const void *base);
/*
 * Appends the rows with a name as Prometheus text: HELP and TYPE before
 * the first row of each name (rows of one name are adjacent).
 */
void	metrics_text(struct evbuffer *, const struct metric *, size_t n,
	    const void *base);
/* The HELP and TYPE lines of a metric whose rows are written apart. */
void	metrics_head(struct evbuffer *, const char *name, int is_gauge,
	    const char *help);

#endif
