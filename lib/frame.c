/*
 * Frame header encoding and decoding (protocol.h). Everything read from
 * a peer is size-checked here before anyone looks at a payload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "protocol.h"

static uint32_t
frame_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
frame_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

const char *
frame_type_name(enum frame_type type)
{
	switch (type) {
	case FRAME_HELLO:
		return "hello";
	case FRAME_PING:
		return "ping";
	case FRAME_PONG:
		return "pong";
	case FRAME_ERROR:
		return "error";
	case FRAME_UPLOAD_BEGIN:
		return "upload_begin";
	case FRAME_UPLOAD_CHUNK:
		return "upload_chunk";
	case FRAME_UPLOAD_END:
		return "upload_end";
	case FRAME_ACK:
		return "ack";
	case FRAME_CLUSTER_TRIGGER:
		return "cluster_trigger";
	case FRAME_SNAPSHOT_REQUEST:
		return "snapshot_request";
	}
	return "unknown";
}

size_t
frame_type_max(int type)
{
	switch (type) {
	case FRAME_HELLO:
	case FRAME_PING:
	case FRAME_PONG:
	case FRAME_ERROR:
	case FRAME_UPLOAD_END:
	case FRAME_ACK:
	case FRAME_CLUSTER_TRIGGER:
	case FRAME_SNAPSHOT_REQUEST:
		return FRAME_CONTROL_MAX;
	case FRAME_UPLOAD_BEGIN:
		return FRAME_MANIFEST_MAX;
	case FRAME_UPLOAD_CHUNK:
		return FRAME_CHUNK_HEADER_SIZE + FRAME_CHUNK_DATA_MAX;
	}
	return 0;
}

int
frame_parse(const uint8_t *buf, size_t len, struct frame *f, char *err,
    size_t errlen)
{
	uint32_t	length;
	size_t		max;

	if (len < FRAME_HEADER_SIZE)
		return 0;
	length = frame_get32(buf);
	if ((max = frame_type_max(buf[4])) == 0) {
		snprintf(err, errlen, "unknown frame type %u", buf[4]);
		return -1;
	}
	if (buf[5] != 0 || buf[6] != 0 || buf[7] != 0) {
		snprintf(err, errlen, "%s frame with reserved bits set",
		    frame_type_name(buf[4]));
		return -1;
	}
	if (length > max) {
		snprintf(err, errlen, "%s frame of %u bytes exceeds %zu",
		    frame_type_name(buf[4]), length, max);
		return -1;
	}
	if (len - FRAME_HEADER_SIZE < length)
		return 0;
	f->type = buf[4];
	f->length = length;
	f->payload = buf + FRAME_HEADER_SIZE;
	return 1;
}

int
frame_header(uint8_t out[FRAME_HEADER_SIZE], enum frame_type type,
    size_t length)
{
	if (length > frame_type_max(type))
		return -1;
	frame_put32(out, (uint32_t)length);
	out[4] = (uint8_t)type;
	out[5] = out[6] = out[7] = 0;
	return 0;
}

int
frame_chunk_decode(const struct frame *f, struct frame_chunk *c, char *err,
    size_t errlen)
{
	if (f->type != FRAME_UPLOAD_CHUNK ||
	    f->length < FRAME_CHUNK_HEADER_SIZE) {
		snprintf(err, errlen, "upload_chunk of %u bytes is shorter "
		    "than its header", f->length);
		return -1;
	}
	c->file_index = frame_get32(f->payload);
	c->offset = (uint64_t)frame_get32(f->payload + 4) << 32 |
	    frame_get32(f->payload + 8);
	c->data = f->payload + FRAME_CHUNK_HEADER_SIZE;
	c->length = f->length - FRAME_CHUNK_HEADER_SIZE;
	return 0;
}

void
frame_chunk_header(uint8_t out[FRAME_CHUNK_HEADER_SIZE], uint32_t file_index,
    uint64_t offset)
{
	frame_put32(out, file_index);
	frame_put32(out + 4, (uint32_t)(offset >> 32));
	frame_put32(out + 8, (uint32_t)offset);
}

int
frame_pull(struct evbuffer *in, struct frame *f, char *err, size_t errlen)
{
	uint8_t		 header[FRAME_HEADER_SIZE];
	const uint8_t	*buf;
	size_t		 len = evbuffer_get_length(in), need;
	int		 ret;

	if (len < FRAME_HEADER_SIZE)
		return 0;
	evbuffer_copyout(in, header, sizeof(header));
	/* The header is checked before any payload is made contiguous. */
	if ((ret = frame_parse(header, sizeof(header), f, err, errlen)) == -1)
		return -1;
	need = FRAME_HEADER_SIZE + ((size_t)header[0] << 24 |
	    (size_t)header[1] << 16 | (size_t)header[2] << 8 | header[3]);
	if (len < need)
		return 0;
	if ((buf = evbuffer_pullup(in, (ssize_t)need)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return frame_parse(buf, need, f, err, errlen);
}

int
frame_push_json(struct evbuffer *out, enum frame_type type, json_t *payload)
{
	uint8_t	 header[FRAME_HEADER_SIZE];
	char	*text;
	size_t	 len;
	int	 ret = -1;

	if ((text = json_dumps(payload, JSON_COMPACT)) == NULL)
		return -1;
	len = strlen(text);
	if (frame_header(header, type, len) == 0 &&
	    evbuffer_add(out, header, sizeof(header)) == 0 &&
	    evbuffer_add(out, text, len) == 0)
		ret = 0;
	free(text);
	return ret;
}

int
frame_push_chunk(struct evbuffer *out, uint32_t file_index, uint64_t offset,
    const void *data, size_t length)
{
	uint8_t	 header[FRAME_HEADER_SIZE + FRAME_CHUNK_HEADER_SIZE];

	if (frame_header(header, FRAME_UPLOAD_CHUNK,
	    FRAME_CHUNK_HEADER_SIZE + length) == -1)
		return -1;
	frame_chunk_header(header + FRAME_HEADER_SIZE, file_index, offset);
	if (evbuffer_add(out, header, sizeof(header)) == -1 ||
	    evbuffer_add(out, data, length) == -1)
		return -1;
	return 0;
}

json_t *
frame_json(const struct frame *f, char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*o;

	o = json_loadb((const char *)f->payload, f->length, 0, &jerr);
	if (o == NULL || !json_is_object(o)) {
		snprintf(err, errlen, "%s frame: payload is not a JSON object%s"
		    "%s", frame_type_name(f->type), o == NULL ? ": " : "",
		    o == NULL ? jerr.text : "");
		json_decref(o);
		return NULL;
	}
	return o;
}
