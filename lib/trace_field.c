/*
 * A trace's field values as our code wants them (trace_reader.h):
 * integers of any width and sign, strings, the value a capture would
 * print, and any field as bounded JSON with its text made valid UTF-8.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "text.h"
#include "trace_reader.h"

#define TRACE_JSON_DEPTH	4
#define TRACE_JSON_ELEMENTS	64
#define TRACE_JSON_STRING	1024

int
trace_field_int(const bt_field *f, int64_t *v)
{
	bt_field_class_type type;

	if (f == NULL)
		return -1;
	type = bt_field_get_class_type(f);
	if (bt_field_class_type_is(type,
	    BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER)) {
		*v = (int64_t)bt_field_integer_unsigned_get_value(f);
		return 0;
	}
	if (bt_field_class_type_is(type, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER)) {
		*v = bt_field_integer_signed_get_value(f);
		return 0;
	}
	if (type == BT_FIELD_CLASS_TYPE_BOOL) {
		*v = bt_field_bool_get_value(f) == BT_TRUE;
		return 0;
	}
	return -1;
}

const char *
trace_field_string(const bt_field *f)
{
	if (f == NULL || bt_field_get_class_type(f) != BT_FIELD_CLASS_TYPE_STRING)
		return NULL;
	return bt_field_string_get_value(f);
}

void
trace_field_format(const bt_field *f, char *buf, size_t len)
{
	bt_field_class_type	 type;
	int64_t			 v;

	buf[0] = '\0';
	if (f == NULL)
		return;
	type = bt_field_get_class_type(f);
	if (bt_field_class_type_is(type, BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER))
		snprintf(buf, len, "%" PRIu64,
		    bt_field_integer_unsigned_get_value(f));
	else if (trace_field_int(f, &v) == 0)
		snprintf(buf, len, "%" PRId64, v);
	else if (type == BT_FIELD_CLASS_TYPE_STRING)
		snprintf(buf, len, "%s", bt_field_string_get_value(f));
	else if (type == BT_FIELD_CLASS_TYPE_DOUBLE_PRECISION_REAL)
		snprintf(buf, len, "%.15g",
		    bt_field_real_double_precision_get_value(f));
	else if (type == BT_FIELD_CLASS_TYPE_SINGLE_PRECISION_REAL)
		snprintf(buf, len, "%.15g",
		    (double)bt_field_real_single_precision_get_value(f));
}

static json_t *
trace_json(const bt_field *f, int depth)
{
	const bt_field_class			*fc;
	const bt_field_class_structure_member	*m;
	bt_field_class_type			 type;
	bt_field_class_enumeration_mapping_label_array labels;
	uint64_t				 i, n, count;
	json_t					*o;
	int64_t					 v;
	const char				*s;
	char					 buf[TRACE_JSON_STRING + 1];

	if (f == NULL)
		return json_null();
	type = bt_field_get_class_type(f);
	if (bt_field_class_type_is(type, BT_FIELD_CLASS_TYPE_ENUMERATION)) {
		count = 0;
		if (bt_field_class_type_is(type,
		    BT_FIELD_CLASS_TYPE_UNSIGNED_ENUMERATION))
			bt_field_enumeration_unsigned_get_mapping_labels(f,
			    &labels, &count);
		else
			bt_field_enumeration_signed_get_mapping_labels(f,
			    &labels, &count);
		if (count > 0)
			return json_string(text_utf8_copy(buf, sizeof(buf),
			    labels[0], strlen(labels[0])));
	}
	if (bt_field_class_type_is(type,
	    BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER)) {
		/* JSON numbers above 2^53 lose digits in browsers. */
		uint64_t u = bt_field_integer_unsigned_get_value(f);
		if (u > (UINT64_C(1) << 53)) {
			snprintf(buf, sizeof(buf), "%" PRIu64, u);
			return json_string(buf);
		}
		return json_integer((json_int_t)u);
	}
	if (trace_field_int(f, &v) == 0)
		return type == BT_FIELD_CLASS_TYPE_BOOL ? json_boolean(v) :
		    json_integer(v);
	switch (type) {
	case BT_FIELD_CLASS_TYPE_STRING:
		s = bt_field_string_get_value(f);
		n = bt_field_string_get_length(f);
		return json_string(text_utf8_copy(buf, sizeof(buf), s, n));
	case BT_FIELD_CLASS_TYPE_DOUBLE_PRECISION_REAL:
		return json_real(bt_field_real_double_precision_get_value(f));
	case BT_FIELD_CLASS_TYPE_SINGLE_PRECISION_REAL:
		return json_real(bt_field_real_single_precision_get_value(f));
	case BT_FIELD_CLASS_TYPE_BIT_ARRAY:
		return json_integer((json_int_t)
		    bt_field_bit_array_get_value_as_integer(f));
	default:
		break;
	}
	if (depth >= TRACE_JSON_DEPTH)
		return json_string("(nested too deep)");
	if (type == BT_FIELD_CLASS_TYPE_STRUCTURE) {
		fc = bt_field_borrow_class_const(f);
		o = json_object();
		n = bt_field_class_structure_get_member_count(fc);
		for (i = 0; i < n && i < TRACE_JSON_ELEMENTS; i++) {
			m = bt_field_class_structure_borrow_member_by_index_const(
			    fc, i);
			s = bt_field_class_structure_member_get_name(m);
			json_object_set_new(o, text_utf8_copy(buf, sizeof(buf),
			    s, strlen(s)),
			    trace_json(bt_field_structure_borrow_member_field_by_index_const(
			    f, i), depth + 1));
		}
		return o;
	}
	if (bt_field_class_type_is(type, BT_FIELD_CLASS_TYPE_ARRAY)) {
		o = json_array();
		n = bt_field_array_get_length(f);
		for (i = 0; i < n && i < TRACE_JSON_ELEMENTS; i++)
			json_array_append_new(o, trace_json(
			    bt_field_array_borrow_element_field_by_index_const(f,
			    i), depth + 1));
		return o;
	}
	if (bt_field_class_type_is(type, BT_FIELD_CLASS_TYPE_OPTION))
		return trace_json(bt_field_option_borrow_field_const(f),
		    depth + 1);
	if (bt_field_class_type_is(type, BT_FIELD_CLASS_TYPE_VARIANT))
		return trace_json(
		    bt_field_variant_borrow_selected_option_field_const(f),
		    depth + 1);
	return json_null();
}

json_t *
trace_field_json(const bt_field *f)
{
	return trace_json(f, 0);
}

json_t *
trace_field_payload(const struct trace_event *ev)
{
	const bt_field *payload = bt_event_borrow_payload_field_const(ev->bt);

	return payload != NULL ? trace_json(payload, 0) : json_object();
}
