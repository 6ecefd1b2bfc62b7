/*
 * The manifest's triggers in the summary (analyze_run.h), and the event
 * behind each LTTng event-rule trigger located in the trace: of the events
 * its rule's pattern names whose fields match its captures, the latest
 * before the recorder received the notification.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_run.h"
#include "text.h"

static int
an_captures_match(const struct an_rule *r, const struct trace_event *ev)
{
	const bt_field	*f;
	char		 value[256];
	size_t		 i;
	int		 index;

	for (i = 0; i < r->ncaptures; i++) {
		if ((index = trace_class_member(ev->cls,
		    r->captures[i].field)) == -1)
			return 0;
		f = trace_event_member(ev, index);
		trace_field_format(f, value, sizeof(value));
		if (strcmp(value, r->captures[i].value) != 0)
			return 0;
	}
	return 1;
}

/*
 * The event a notification was about happened before the recorder
 * received it: the latest candidate up to then (plus slack for clock
 * skew between the trace's clock and the recorder's), else the first
 * one after.
 */
void
analyze_rules_candidate(struct an_rule *r, const struct trace_event *ev)
{
	int is_before = ev->ts_ns <= r->received_ns + AN_MATCH_SLACK_NS;

	if (ev->ts_ns < r->received_ns - AN_MATCH_BEFORE_NS)
		return;
	/* Events come in time order: a later one before is better. */
	if ((!is_before && r->best != NULL) || !an_captures_match(r, ev))
		return;
	if (r->best != NULL)
		bt_message_put_ref(r->best);
	bt_message_get_ref(ev->msg);
	r->best = ev->msg;
	r->best_ns = ev->ts_ns;
	r->best_ev = *ev;
	analyze_copy(r->best_procname, sizeof(r->best_procname), ev->procname);
}

/* Turns the candidates held into JSON while their graph is alive. */
void
analyze_rules_end(void *arg)
{
	struct analyze_run *a = arg;
	struct an_rule	*r;
	const char	*name;
	char		 clean[256];
	size_t		 i;

	for (i = 0; i < a->nrules; i++) {
		r = &a->rules[i];
		if (r->best == NULL)
			continue;
		/* Only the event itself is read: its class entry may have moved. */
		r->best_ev.bt = bt_message_event_borrow_event_const(r->best);
		r->best_ev.cls = NULL;
		name = bt_event_class_get_name(bt_event_borrow_class_const(
		    r->best_ev.bt));
		text_utf8_copy(clean, sizeof(clean), name ? name : "",
		    name ? strlen(name) : 0);
		r->found = json_pack("{s:I, s:s, s:I, s:I, s:I, s:s, s:o}",
		    "ts_ns", (json_int_t)r->best_ns, "name", clean,
		    "cpu", (json_int_t)r->best_ev.cpu,
		    "vpid", (json_int_t)r->best_ev.vpid,
		    "vtid", (json_int_t)r->best_ev.vtid,
		    "procname", r->best_procname,
		    "fields", trace_field_payload(&r->best_ev));
		bt_message_put_ref(r->best);
		r->best = NULL;
	}
}

static int64_t
an_received_ns(const json_t *trigger)
{
	json_int_t us = json_integer_value(json_object_get(trigger,
	    "received_at_us"));

	/* A manifest's number: bounded before it is scaled. */
	if (us <= 0 || us > INT64_MAX / 1000)
		return 0;
	return (int64_t)us * 1000;
}

/* The manifest's LTTng triggers become rules to locate in the trace. */
void
analyze_rules_from(struct analyze_run *a, const json_t *triggers)
{
	struct an_rule	*r;
	const json_t	*t, *labels, *v;
	const char	*key, *source, *event;
	size_t		 i;

	json_array_foreach(triggers, i, t) {
		if (i >= AN_TRIGGERS_MAX || a->nrules >= AN_RULES_MAX)
			break;
		source = json_string_value(json_object_get(t, "source"));
		labels = json_object_get(t, "labels");
		event = json_string_value(json_object_get(labels, "event"));
		if (source == NULL || strcmp(source, "lttng") != 0 ||
		    event == NULL)
			continue;
		r = &a->rules[a->nrules++];
		r->trigger = i;
		snprintf(r->pattern, sizeof(r->pattern), "%s", event);
		r->received_ns = an_received_ns(t);
		json_object_foreach((json_t *)labels, key, v) {
			if (strncmp(key, "capture.", 8) != 0 ||
			    !json_is_string(v) ||
			    r->ncaptures >= AN_CAPTURES_MAX ||
			    strcmp(json_string_value(v), "(unavailable)") == 0)
				continue;
			snprintf(r->captures[r->ncaptures].field,
			    sizeof(r->captures[0].field), "%s", key + 8);
			snprintf(r->captures[r->ncaptures].value,
			    sizeof(r->captures[0].value), "%s",
			    json_string_value(v));
			r->ncaptures++;
		}
	}
}

json_t *
analyze_rules_json(const struct analyze_run *a, const json_t *triggers,
    const json_t *requests)
{
	const json_t	*t, *labels, *req;
	const char	*id, *source;
	json_t		*list = json_array(), *o;
	size_t		 i, j;

	json_array_foreach(triggers, i, t) {
		if (i >= AN_TRIGGERS_MAX)
			break;
		labels = json_object_get(t, "labels");
		source = json_string_value(json_object_get(t, "source"));
		o = json_pack("{s:O?, s:O?, s:O?, s:I, s:O?, s:O?}",
		    "source", json_object_get(t, "source"),
		    "reason", json_object_get(t, "reason"),
		    "scope", json_object_get(t, "scope"),
		    "received_at_ns", (json_int_t)an_received_ns(t),
		    "labels", labels, "after_freeze",
		    json_object_get(t, "after_freeze"));
		if (o == NULL)
			continue;
		if ((id = json_string_value(json_object_get(labels,
		    "request_id"))) != NULL) {
			json_object_set_new(o, "request_id", json_string(id));
			json_object_set_new(o, "request_found", json_false());
			json_array_foreach(requests, j, req)
				if (strcmp(json_string_value(json_object_get(
				    req, "request_id")) ?: "", id) == 0) {
					json_object_set_new(o, "request_found",
					    json_true());
					break;
				}
		}
		if (source != NULL && strcmp(source, "lttng") == 0) {
			json_object_set_new(o, "event", json_null());
			for (j = 0; a != NULL && j < a->nrules; j++)
				if (a->rules[j].trigger == i &&
				    a->rules[j].found != NULL)
					json_object_set(o, "event",
					    a->rules[j].found);
			if (json_object_get(labels, "event") == NULL)
				json_object_set_new(o, "event_note", json_string(
				    "the trigger does not name its event"));
		}
		json_array_append_new(list, o);
	}
	return list;
}
