#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_http.h"
#include "histogram.h"
#include "text.h"

#define HTTP_OPEN_SLOTS		(2 * HTTP_OPEN_MAX)	/* a power of two */
#define HTTP_URI_SLOTS		(2 * HTTP_URIS_MAX)
#define HTTP_OTHER_URI		"(other)"

struct http_request {
	char		 id[HTTP_ID_MAX];
	char		 method[HTTP_METHOD_MAX];
	char		 uri[HTTP_URI_MAX];
	char		 vhost[HTTP_VHOST_MAX];
	int		 status;
	uint64_t	 duration_us;
	int64_t		 vpid, vtid;
	int64_t		 begin_vtid;	/* the end may be on another thread */
	int64_t		 begin_ns, end_ns;
	int		 is_triggered;
	int		 has_begin;
};

struct http_uri {
	char			 uri[HTTP_URI_MAX];
	uint64_t		 errors;	/* status >= 500 */
	struct histogram	 durations;
};

struct analyze_http {
	/* Begun, not ended: open addressing on the id, no tombstones. */
	struct http_request	*open[HTTP_OPEN_SLOTS];
	struct http_request	*pool;		/* HTTP_OPEN_MAX entries */
	struct http_request	*free_list[HTTP_OPEN_MAX];
	size_t			 nfree;
	size_t			 nopen;
	/* The slowest completed: a min-heap on duration. */
	struct http_request	 top[HTTP_TOP_MAX];
	size_t			 ntop;
	struct http_request	 triggered[HTTP_TRIGGERED_MAX];
	size_t			 ntriggered;
	struct http_uri		*uris[HTTP_URI_SLOTS];
	size_t			 nuris;
	struct http_uri		*other;
	uint64_t		 status[1000];
	uint64_t		 total;
	uint64_t		 open_dropped;
	uint64_t		 without_begin;
	uint64_t		 triggered_dropped;
	char			**trigger_ids;
	size_t			 ntrigger_ids;
};

static size_t
http_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29));
}

static void
http_copy(char *dst, size_t len, const char *src)
{
	if (src == NULL)
		src = "";
	text_utf8_copy(dst, len, src, strlen(src));
}

struct analyze_http *
analyze_http_new(const char *const *trigger_ids, size_t n)
{
	struct analyze_http	*h;
	size_t			 i;

	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->pool = calloc(HTTP_OPEN_MAX, sizeof(*h->pool))) == NULL ||
	    (h->trigger_ids = calloc(n + 1, sizeof(char *))) == NULL) {
		analyze_http_free(h);
		return NULL;
	}
	for (i = 0; i < HTTP_OPEN_MAX; i++)
		h->free_list[i] = &h->pool[HTTP_OPEN_MAX - 1 - i];
	h->nfree = HTTP_OPEN_MAX;
	for (i = 0; i < n; i++)
		if ((h->trigger_ids[h->ntrigger_ids] = strdup(trigger_ids[i])) !=
		    NULL)
			h->ntrigger_ids++;
	return h;
}

void
analyze_http_free(struct analyze_http *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < HTTP_URI_SLOTS; i++)
		free(h->uris[i]);
	free(h->other);
	for (i = 0; i < h->ntrigger_ids; i++)
		free(h->trigger_ids[i]);
	free(h->trigger_ids);
	free(h->pool);
	free(h);
}

static int
http_is_trigger_id(const struct analyze_http *h, const char *id)
{
	size_t i;

	for (i = 0; i < h->ntrigger_ids; i++)
		if (strcmp(h->trigger_ids[i], id) == 0)
			return 1;
	return 0;
}

/* The slot holding id, or the empty slot where it would go. */
static size_t
http_open_slot(const struct analyze_http *h, const char *id)
{
	size_t i = http_hash(id) & (HTTP_OPEN_SLOTS - 1);

	while (h->open[i] != NULL && strcmp(h->open[i]->id, id) != 0)
		i = (i + 1) & (HTTP_OPEN_SLOTS - 1);
	return i;
}

/* Removes slot i, shifting back the entries its removal would orphan. */
static void
http_open_remove(struct analyze_http *h, size_t i)
{
	size_t j = i, home;

	h->free_list[h->nfree++] = h->open[i];
	h->open[i] = NULL;
	h->nopen--;
	for (;;) {
		j = (j + 1) & (HTTP_OPEN_SLOTS - 1);
		if (h->open[j] == NULL)
			return;
		home = http_hash(h->open[j]->id) & (HTTP_OPEN_SLOTS - 1);
		/* Entry j may move to i if i lies on its probe path. */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			h->open[i] = h->open[j];
			h->open[j] = NULL;
			i = j;
		}
	}
}

void
analyze_http_begin(struct analyze_http *h, const char *id, const char *method,
    const char *uri, const char *vhost, int64_t vpid, int64_t vtid,
    int64_t ts_ns)
{
	struct http_request	*r;
	char			 key[HTTP_ID_MAX];
	size_t			 i;

	http_copy(key, sizeof(key), id);
	i = http_open_slot(h, key);
	if ((r = h->open[i]) == NULL) {
		if (h->nfree == 0) {
			h->open_dropped++;
			return;
		}
		r = h->open[i] = h->free_list[--h->nfree];
		h->nopen++;
	}
	memset(r, 0, sizeof(*r));
	memcpy(r->id, key, sizeof(key));
	http_copy(r->method, sizeof(r->method), method);
	http_copy(r->uri, sizeof(r->uri), uri);
	http_copy(r->vhost, sizeof(r->vhost), vhost);
	r->vpid = vpid;
	r->vtid = r->begin_vtid = vtid;
	r->begin_ns = ts_ns;
	r->has_begin = 1;
}

static void
http_heap_down(struct http_request *heap, size_t n, size_t i)
{
	struct http_request	 tmp;
	size_t			 least, l, r;

	for (;;) {
		least = i;
		l = 2 * i + 1;
		r = l + 1;
		if (l < n && heap[l].duration_us < heap[least].duration_us)
			least = l;
		if (r < n && heap[r].duration_us < heap[least].duration_us)
			least = r;
		if (least == i)
			return;
		tmp = heap[i];
		heap[i] = heap[least];
		heap[least] = tmp;
		i = least;
	}
}

static void
http_heap_up(struct http_request *heap, size_t i)
{
	struct http_request tmp;

	while (i > 0 && heap[(i - 1) / 2].duration_us > heap[i].duration_us) {
		tmp = heap[i];
		heap[i] = heap[(i - 1) / 2];
		heap[(i - 1) / 2] = tmp;
		i = (i - 1) / 2;
	}
}

static struct http_uri *
http_uri_stats(struct analyze_http *h, const char *uri)
{
	size_t i = http_hash(uri) & (HTTP_URI_SLOTS - 1);

	while (h->uris[i] != NULL) {
		if (strcmp(h->uris[i]->uri, uri) == 0)
			return h->uris[i];
		i = (i + 1) & (HTTP_URI_SLOTS - 1);
	}
	if (h->nuris < HTTP_URIS_MAX &&
	    (h->uris[i] = calloc(1, sizeof(struct http_uri))) != NULL) {
		h->nuris++;
		snprintf(h->uris[i]->uri, sizeof(h->uris[i]->uri), "%s", uri);
		return h->uris[i];
	}
	if (h->other == NULL && (h->other = calloc(1, sizeof(*h->other))) !=
	    NULL)
		snprintf(h->other->uri, sizeof(h->other->uri), HTTP_OTHER_URI);
	return h->other;
}

void
analyze_http_end(struct analyze_http *h, const char *id, const char *method,
    const char *uri, const char *vhost, int status, uint64_t duration_us,
    int is_triggered, int64_t vpid, int64_t vtid, int64_t ts_ns)
{
	struct http_request	 done, *r;
	struct http_uri		*u;
	size_t			 i;

	memset(&done, 0, sizeof(done));
	http_copy(done.id, sizeof(done.id), id);
	i = http_open_slot(h, done.id);
	done.begin_vtid = vtid;
	if ((r = h->open[i]) != NULL) {
		done.begin_ns = r->begin_ns;
		done.begin_vtid = r->begin_vtid;
		done.has_begin = 1;
		http_open_remove(h, i);
	} else {
		/* Its begin was overwritten in the ring, or never traced. */
		h->without_begin++;
		done.begin_ns = duration_us < (uint64_t)ts_ns / 1000 ?
		    ts_ns - (int64_t)(duration_us * 1000) : 0;
	}
	http_copy(done.method, sizeof(done.method), method);
	http_copy(done.uri, sizeof(done.uri), uri);
	http_copy(done.vhost, sizeof(done.vhost), vhost);
	done.status = status;
	done.duration_us = duration_us;
	done.vpid = vpid;
	done.vtid = vtid;
	done.end_ns = ts_ns;
	done.is_triggered = is_triggered || http_is_trigger_id(h, done.id);
	h->total++;
	if (status >= 100 && status <= 999)
		h->status[status]++;
	if ((u = http_uri_stats(h, done.uri)) != NULL) {
		histogram_add(&u->durations, duration_us);
		u->errors += status >= 500;
	}
	if (done.is_triggered) {
		if (h->ntriggered < HTTP_TRIGGERED_MAX)
			h->triggered[h->ntriggered++] = done;
		else
			h->triggered_dropped++;
		return;
	}
	if (h->ntop < HTTP_TOP_MAX) {
		h->top[h->ntop] = done;
		http_heap_up(h->top, h->ntop++);
	} else if (duration_us > h->top[0].duration_us) {
		h->top[0] = done;
		http_heap_down(h->top, h->ntop, 0);
	}
}

static json_t *
http_request_json(const struct http_request *r, int is_in_flight)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:b, s:b, s:b}",
	    "request_id", r->id, "method", r->method, "uri", r->uri,
	    "vhost", r->vhost, "status", r->status,
	    "duration_us", (json_int_t)r->duration_us,
	    "vpid", (json_int_t)r->vpid, "vtid", (json_int_t)r->vtid,
	    "begin_vtid", (json_int_t)r->begin_vtid,
	    "begin_ns", (json_int_t)r->begin_ns,
	    "end_ns", (json_int_t)r->end_ns,
	    "triggered", r->is_triggered, "in_flight", is_in_flight,
	    "begin_seen", r->has_begin);
}

static int
http_slowest_first(const void *a, const void *b)
{
	const struct http_request *x = *(const struct http_request *const *)a;
	const struct http_request *y = *(const struct http_request *const *)b;

	if (x->duration_us != y->duration_us)
		return x->duration_us < y->duration_us ? 1 : -1;
	return x->end_ns < y->end_ns ? -1 : x->end_ns > y->end_ns;
}

static int
http_oldest_first(const void *a, const void *b)
{
	const struct http_request *x = *(const struct http_request *const *)a;
	const struct http_request *y = *(const struct http_request *const *)b;

	return x->begin_ns < y->begin_ns ? -1 : x->begin_ns > y->begin_ns;
}

static int
http_busiest_first(const void *a, const void *b)
{
	const struct http_uri *x = *(const struct http_uri *const *)a;
	const struct http_uri *y = *(const struct http_uri *const *)b;

	if (x->durations.count != y->durations.count)
		return x->durations.count < y->durations.count ? 1 : -1;
	return strcmp(x->uri, y->uri);
}

static json_t *
http_uri_json(const struct http_uri *u)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "uri", u->uri,
	    "count", (json_int_t)u->durations.count,
	    "errors", (json_int_t)u->errors,
	    "p50_us", (json_int_t)histogram_quantile(&u->durations, 0.50),
	    "p99_us", (json_int_t)histogram_quantile(&u->durations, 0.99),
	    "max_us", (json_int_t)u->durations.max);
}

void
analyze_http_json(const struct analyze_http *h, int64_t end_ns,
    json_t *summary)
{
	const struct http_request	*sorted[HTTP_TOP_MAX + HTTP_TRIGGERED_MAX +
					    HTTP_IN_FLIGHT_MAX];
	struct http_request		 flying[HTTP_IN_FLIGHT_MAX];
	const struct http_uri		*uris[HTTP_URIS_MAX + 1];
	json_t				*requests, *list, *status;
	const struct http_request	*open[HTTP_OPEN_MAX];
	size_t				 i, n = 0, nflying = 0, nuris = 0, nopen;
	char				 code[8];

	for (i = 0; i < h->ntop; i++)
		sorted[n++] = &h->top[i];
	for (i = 0; i < h->ntriggered; i++)
		sorted[n++] = &h->triggered[i];
	/* In flight at the end, the oldest first: their time so far counts. */
	for (i = 0, nopen = 0; i < HTTP_OPEN_SLOTS; i++)
		if (h->open[i] != NULL)
			open[nopen++] = h->open[i];
	qsort(open, nopen, sizeof(*open), http_oldest_first);
	for (i = 0; i < nopen && nflying < HTTP_IN_FLIGHT_MAX; i++) {
		flying[nflying] = *open[i];
		flying[nflying].end_ns = 0;
		flying[nflying].duration_us = end_ns > open[i]->begin_ns ?
		    (uint64_t)(end_ns - open[i]->begin_ns) / 1000 : 0;
		flying[nflying].is_triggered = http_is_trigger_id(h,
		    open[i]->id);
		sorted[n++] = &flying[nflying++];
	}
	qsort(sorted, n, sizeof(*sorted), http_slowest_first);
	requests = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(requests, http_request_json(sorted[i],
		    sorted[i]->end_ns == 0));
	json_object_set_new(summary, "requests", requests);
	json_object_set_new(summary, "requests_total", json_integer(
	    (json_int_t)h->total));
	json_object_set_new(summary, "requests_in_flight", json_integer(
	    (json_int_t)h->nopen));
	json_object_set_new(summary, "requests_open_dropped", json_integer(
	    (json_int_t)h->open_dropped));
	json_object_set_new(summary, "requests_without_begin", json_integer(
	    (json_int_t)h->without_begin));
	json_object_set_new(summary, "requests_triggered_dropped", json_integer(
	    (json_int_t)h->triggered_dropped));
	for (i = 0; i < HTTP_URI_SLOTS; i++)
		if (h->uris[i] != NULL)
			uris[nuris++] = h->uris[i];
	if (h->other != NULL)
		uris[nuris++] = h->other;
	qsort(uris, nuris, sizeof(*uris), http_busiest_first);
	list = json_array();
	for (i = 0; i < nuris; i++)
		json_array_append_new(list, http_uri_json(uris[i]));
	json_object_set_new(summary, "uris", list);
	status = json_object();
	for (i = 100; i < 1000; i++) {
		if (h->status[i] == 0)
			continue;
		snprintf(code, sizeof(code), "%zu", i);
		json_object_set_new(status, code, json_integer(
		    (json_int_t)h->status[i]));
	}
	json_object_set_new(summary, "status_counts", status);
}
