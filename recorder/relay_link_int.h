/*
 * What the relay link's two files share (relay_link.c: the connection and
 * its frames; relay_upload.c: the uploader). Not for the rest of the
 * recorder, which sees recorder.h's relay_link_*() only.
 */
#ifndef TT_RELAY_LINK_INT_H
#define TT_RELAY_LINK_INT_H

#include <sys/socket.h>
#include <netinet/in.h>

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
#define LINK_READ_BLOCK		(1024 * 1024)	/* read from the spool at once */
#define LINK_SOCKET_WRITE	(512 * 1024)	/* TLS records per write(2) */
#define LINK_OUTPUT_LOW		(256 * 1024)	/* resume */
#define LINK_REFUSED_RETRY_US	(60 * 1000000ULL)
#define LINK_UPLOADED_MARKER	".uploaded"
#define LINK_PEERS_MAX		64	/* addresses the entries give */
#define LINK_FAILED_HOLD_US	(30 * 1000000ULL)	/* set aside for */

enum link_state {
	LINK_DISCONNECTED,	/* waiting for the next attempt */
	LINK_RESOLVING,		/* looking the entries up */
	LINK_CONNECTING,	/* TCP + TLS handshake */
	LINK_HELLO,		/* HELLO sent, waiting for the relay's */
	LINK_READY,
};

struct link_block;

/*
 * One upload in flight. The worker reads a block of the current file
 * (the file stays open from one block to the next); the loop frames it
 * as chunks of chunk_size that refer to the block, which goes back to
 * its pool once TLS has sent them all.
 */
struct link_upload {
	struct relay_link	*link;
	char			 id[SPOOL_ID_MAX];
	char			 dir[CONFIG_PATH_MAX];
	/* Not yet published: its partial dir, which the publish renames. */
	char			 partial[CONFIG_PATH_MAX + SPOOL_ID_MAX];
	json_t			*files;		/* the manifest's files[] */
	size_t			 file_index;
	uint64_t		 offset;	/* within the current file */
	uint64_t		 sent_bytes;
	int			 is_reading;	/* a read job is queued */
	int			 is_ended;	/* END sent, waiting for ACK */
	int			 is_cancelled;	/* link lost: drop on return */

	/* Worker in/out. */
	char			*manifest;	/* BEGIN: read from disk, or
						   the spool entry's */
	int			 dirfd;		/* the snapshot's dir, or -1 */
	int			 fd;		/* the current file's, or -1 */
	size_t			 fd_index;	/* which file fd is */
	struct link_block	*block;		/* what the worker read */
	size_t			 chunk_size;	/* bytes per UPLOAD_CHUNK */
	char			 error[256];
};

/* One address an entry of [relay] address stands for (relay_peers.c). */
struct link_peer {
	size_t			 entry;		/* in relay_link.entries[] */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	char			 text[INET6_ADDRSTRLEN + 8];	/* [::1]:5443 */
	uint64_t		 failed_at_us;	/* monotonic; 0: has not */
};

struct link_lookup;

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
	struct link_upload	*upload;	/* being sent */
	/*
	 * Sent whole (END out), waiting for its ACK while the next one is
	 * sent: the relay's verifying and fsync of one snapshot overlaps
	 * the sending of the next. At most one: a relay that stops
	 * answering stops the link's uploads after two.
	 */
	struct link_upload	*acking;

	/*
	 * [relay] address as the link was opened with (a reload makes a
	 * new link), the lookups of a round and the peers they gave.
	 */
	struct config_relay	 entries[CONFIG_RELAYS_MAX];
	size_t			 nentries;
	char			 entry_errors[CONFIG_RELAYS_MAX][64];
	struct link_lookup	*lookups[CONFIG_RELAYS_MAX];	/* in flight */
	size_t			 nlookups;
	struct link_peer	 found[LINK_PEERS_MAX];	/* the round's */
	size_t			 nfound;
	char			 resolve_error[320];
	struct link_peer	 peers[LINK_PEERS_MAX];
	size_t			 npeers;
	int			 current;	/* in peers[]; -1: none */
	int			 is_new_round;	/* forget the failures */
	char			 last_peer[INET6_ADDRSTRLEN + 8];
	uint64_t		 failovers;
	unsigned		 round_attempts;	/* failed, this round */

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
void	relay_link_resolved(struct relay_link *);

/* relay_peers.c */
void	relay_peers_resolve(struct relay_link *);
void	relay_peers_forget(struct relay_link *);
int	relay_peers_has_eligible(const struct relay_link *);
int	relay_peers_pick(struct relay_link *);
void	relay_peers_fail(struct relay_link *, int);
void	relay_peers_clear(struct relay_link *);

/* relay_upload.c */
void	relay_link_next(struct relay_link *);
void	relay_link_read_chunk(struct relay_link *);
/* The link is lost or closed: both uploads dropped, sent again later. */
void	relay_link_cancel_upload(struct relay_link *);
void	relay_link_on_ack(struct relay_link *, json_t *);

#endif
