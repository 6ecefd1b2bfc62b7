/*
 * The relay link protocol: recorder <-> tracetrap-relay over mutually
 * authenticated TLS 1.3. tmux-protocol.h style: a version, numbered frame
 * types, and fixed rules a peer checks before it uses a byte.
 *
 * Every frame is an 8-byte header then its payload:
 *
 *	uint32_t	length;		payload bytes, big-endian
 *	uint8_t		type;		enum frame_type
 *	uint8_t		flags;		0 (reserved)
 *	uint16_t	reserved;	0
 *
 * A length above the type's maximum, an unknown type, non-zero reserved
 * bits or a frame out of order is a protocol error: the receiver sends
 * FRAME_ERROR if it can and drops the connection. Control payloads are
 * UTF-8 JSON objects; UPLOAD_CHUNK carries binary data after a fixed
 * header.
 *
 * Conversation:
 *	both	HELLO {"version":1,"software":"tracetrap 0.1.0"} first; the
 *		relay answers with {"version":1,"node":<name from the peer's
 *		certificate>} so a recorder learns what the relay calls it.
 *	rec	UPLOAD_BEGIN: the manifest itself (manifest.json's object,
 *		with its "id" and "files"), then UPLOAD_CHUNK
 *		frames for files[0], files[1], .. in manifest order, each
 *		file's chunks in offset order, then UPLOAD_END {"id":..}.
 *		One upload at a time per connection; once BEGIN is sent, an
 *		END always follows before the next BEGIN, even after an
 *		early ACK. END {"id":..,"abandoned":true} gives the upload
 *		up (the spool copy could not be read): nothing is kept and
 *		nothing acknowledged.
 *	relay	ACK {"id":..,"status":"stored"} once the snapshot is durable
 *		(verified, fsync'd, renamed), or {"status":"refused",
 *		"message":..} (bad manifest, checksum mismatch, store full):
 *		the recorder keeps the snapshot and retries later. A BEGIN for
 *		a snapshot the relay already stores is acknowledged "stored"
 *		at once, so a lost ACK never duplicates a snapshot.
 *	rec	CLUSTER_TRIGGER {"source":..,"reason":..,"labels":{..}}
 *	relay	SNAPSHOT_REQUEST {"incident":..,"reason":..,"source":..}
 *		to every recorder of an accepted cluster incident.
 *	both	PING {} / PONG {} keep the link alive and measure it.
 *	both	ERROR {"error":CODE,"message":TEXT} before closing.
 */
#ifndef TT_PROTOCOL_H
#define TT_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PROTOCOL_VERSION	1

#define FRAME_HEADER_SIZE	8
#define FRAME_CONTROL_MAX	(64 * 1024)	/* JSON control frames */
#define FRAME_MANIFEST_MAX	(1024 * 1024)	/* UPLOAD_BEGIN */
#define FRAME_CHUNK_DATA_MAX	(256 * 1024)	/* data in one chunk */
#define FRAME_CHUNK_HEADER_SIZE	12		/* file index + offset */
#define FRAME_PAYLOAD_MAX	FRAME_MANIFEST_MAX

enum frame_type {
	FRAME_HELLO = 1,
	FRAME_PING = 2,
	FRAME_PONG = 3,
	FRAME_ERROR = 4,
	FRAME_UPLOAD_BEGIN = 10,
	FRAME_UPLOAD_CHUNK = 11,	/* u32 file index, u64 offset, data */
	FRAME_UPLOAD_END = 12,
	FRAME_ACK = 13,
	FRAME_CLUSTER_TRIGGER = 20,
	FRAME_SNAPSHOT_REQUEST = 21,
};

struct frame {
	enum frame_type	 type;
	uint32_t	 length;
	const uint8_t	*payload;	/* points into the caller's buffer */
};

struct frame_chunk {
	uint32_t	 file_index;
	uint64_t	 offset;
	const uint8_t	*data;
	size_t		 length;
};

/*
 * Reads one frame from the start of buf. Returns 1 with f filled when a
 * whole frame is there (it spans FRAME_HEADER_SIZE + f->length bytes), 0
 * when more bytes are needed, -1 with err on a protocol error. It checks
 * the header only; the payload is checked by the decoders below.
 */
int		 frame_parse(const uint8_t *buf, size_t len, struct frame *f,
		    char *err, size_t errlen);

/* Writes a header for a payload of length bytes; returns -1 if too big. */
int		 frame_header(uint8_t out[FRAME_HEADER_SIZE],
		    enum frame_type, size_t length);

/* Splits an UPLOAD_CHUNK payload; -1 with err when malformed. */
int		 frame_chunk_decode(const struct frame *,
		    struct frame_chunk *, char *err, size_t errlen);
/* Writes the 12-byte chunk header. */
void		 frame_chunk_header(uint8_t out[FRAME_CHUNK_HEADER_SIZE],
		    uint32_t file_index, uint64_t offset);

/*
 * Event-loop side, on libevent buffers. frame_pull() makes the first whole
 * frame of in contiguous and describes it (1), says more bytes are needed
 * (0) or reports a protocol error (-1); after handling a frame, drain
 * FRAME_HEADER_SIZE + f->length bytes. frame_push_json() appends a control
 * frame; frame_push_chunk() an UPLOAD_CHUNK.
 */
struct evbuffer;
int		 frame_pull(struct evbuffer *in, struct frame *f, char *err,
		    size_t errlen);
int		 frame_push_json(struct evbuffer *out, enum frame_type,
		    json_t *payload);
int		 frame_push_chunk(struct evbuffer *out, uint32_t file_index,
		    uint64_t offset, const void *data, size_t length);
/* Parses a control frame's JSON object payload; NULL with err if not. */
json_t		*frame_json(const struct frame *, char *err, size_t errlen);

const char	*frame_type_name(enum frame_type);
/* The largest payload a type may carry; 0 for an unknown type. */
size_t		 frame_type_max(int type);

#endif
