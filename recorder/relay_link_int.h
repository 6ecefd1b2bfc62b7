/*
 * What the relay link's two files share (relay_link.c: the connection and
 * its frames; relay_upload.c: the uploader). Not for the rest of the
 * recorder, which sees recorder.h's relay_link_*() only.
 */
#ifndef TT_RELAY_LINK_INT_H
#define TT_RELAY_LINK_INT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "protocol.h"
#include "recorder.h"
#include "worker.h"

#define LINK_OUTPUT_HIGH	(1024 * 1024)	/* stop reading chunks */
#define LINK_OUTPUT_LOW		(256 * 1024)	/* resume */
#define LINK_REFUSED_RETRY_US	(60 * 1000000ULL)
#define LINK_UPLOADED_MARKER	".uploaded"

enum link_state {
	LINK_DISCONNECTED,	/* waiting for the next attempt */
	LINK_CONNECTING,	/* TCP + TLS handshake */
	LINK_HELLO,		/* HELLO sent, waiting for the relay's */
	LINK_READY,
};

/* One upload in flight; the worker fills the chunk buffer. */
struct link_upload {
	struct relay_link	*link;
	char			 id[SPOOL_ID_MAX];
	char			 dir[CONFIG_PATH_MAX];
	json_t			*files;		/* the manifest's files[] */
	size_t			 file_index;
	uint64_t		 offset;	/* within the current file */
	uint64_t		 sent_bytes;
	int			 is_reading;	/* a read job is queued */
	int			 is_ended;	/* END sent, waiting for ACK */
	int			 is_cancelled;	/* link lost: drop on return */

	/* Worker in/out. */
	char			*manifest;	/* BEGIN: read from disk */
	uint8_t			*chunk;
	size_t			 chunk_size;
	size_t			 chunk_length;
	char			 error[256];
};

struct relay_link {
	struct recorder		*rec;
	SSL_CTX			*ssl;
	struct evdns_base	*dns;
	struct bufferevent	*bev;
	struct worker		*reader;
	enum link_state		 state;
	struct event		*retry_ev;
	struct event		*ping_ev;
	uint64_t		 backoff_ms;
	struct link_upload	*upload;
	char			 host[256];
	char			 port[16];
	char			 name[64];	/* what the relay calls us */
	char			 last_error[256];
	int64_t			 connected_at_us;
	uint64_t		 connects;
	uint64_t		 uploads;
	uint64_t		 refused;
	uint64_t		 bytes_sent;
};

/* relay_link.c */
void	relay_link_send(struct relay_link *, enum frame_type, json_t *);

/* relay_upload.c */
void	relay_link_next(struct relay_link *);
void	relay_link_read_chunk(struct relay_link *);
void	relay_link_cancel_upload(struct relay_link *);
void	relay_link_on_ack(struct relay_link *, json_t *);

#endif
