/*
 * The recorders' side of the relay, inside (relay.h has what the rest of
 * the relay calls). Three files share this:
 *   ingest_listen.c  the listening socket: accepting, the connection caps
 *                    (total, per address), pausing on a descriptor
 *                    shortage, the descriptors kept for everything else
 *   ingest.c         a connection: TLS, its deadlines and timeouts,
 *                    reading frames within the memory budget, writing,
 *                    closing; the budget itself; fan-out sends; status
 *   ingest_upload.c  the frames of a connection that said HELLO, the
 *                    uploads they carry, the disk jobs and their answers
 * The unit tests and the fuzzer drive ingest_upload.c through a
 * connection without a bufferevent (c->bev NULL): its output is c->out,
 * its pauses only flags.
 */
#ifndef TT_INGEST_H
#define TT_INGEST_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "protocol.h"
#include "relay.h"

/*
 * A connection whose jobs hold more than INGEST_QUEUED_HIGH bytes (or
 * INGEST_QUEUED_JOBS jobs) stops being read until they are under the low
 * marks: one connection cannot fill the disk worker's queue. Every job
 * costs its data plus INGEST_JOB_COST, what it takes besides (the job,
 * the worker's item): a flood of empty chunks costs memory too.
 */
#define INGEST_QUEUED_HIGH	(8 * 1024 * 1024)
#define INGEST_QUEUED_LOW	(2 * 1024 * 1024)
#define INGEST_QUEUED_JOBS	4096
#define INGEST_JOB_COST		512
/*
 * Output the peer has not read: past the high mark the connection is not
 * read (no more PONGs or ACKs pile up) until it is under the low one.
 */
#define INGEST_OUTPUT_HIGH	(256 * 1024)
#define INGEST_OUTPUT_LOW	(64 * 1024)
/*
 * The kernel's send buffer of a recorder's socket (SO_SNDBUF; Linux
 * doubles it for its own bookkeeping). The relay sends recorders little:
 * HELLO, PONGs, ACKs, SNAPSHOT_REQUESTs, an ERROR. Left to autotuning, a
 * peer that reads nothing would get megabytes of kernel memory each
 * (tcp_wmem's maximum, 4 MiB by default) before INGEST_OUTPUT_HIGH is
 * ever reached: bounded, a connection holds at most this and the high
 * mark, and a peer that stops reading is seen to stop at once.
 */
#define INGEST_SNDBUF		(64 * 1024)
/* From a frame's header to its end, a frame must be whole within this. */
#define INGEST_FRAME_SECONDS	60
/*
 * What one connection reads per turn of the loop before the others (and
 * the API) get theirs, and OpenSSL's read-ahead with it (one read(2)
 * takes that much, many TLS records): wide while at most
 * INGEST_WIDE_UPLOADS uploads are in progress, narrow under more. Wide
 * reads cost the relay a quarter of the system calls, and of the
 * sender's TCP segments and ACKs it handles per MB; narrow turns keep the
 * loop's turns short when many recorders upload at once. The read-ahead
 * width applies when OpenSSL (re)allocates its buffer, after the buffer
 * ran empty (SSL_MODE_RELEASE_BUFFERS): a connection streaming without
 * a pause keeps the width it started with, 256 KiB at most.
 */
#define INGEST_READ_NARROW	(64 * 1024)
#define INGEST_READ_WIDE	(256 * 1024)
#define INGEST_WIDE_UPLOADS	4

/* Why a connection is not read: a bit each, all clear to read again. */
#define INGEST_PAUSE_QUEUE	0x1	/* its disk jobs are over the mark */
#define INGEST_PAUSE_MEMORY	0x2	/* waiting for the memory budget */
#define INGEST_PAUSE_OUTPUT	0x4	/* the peer does not read */

enum ingest_state {
	INGEST_HANDSHAKE,
	INGEST_HELLO,		/* waiting for the peer's HELLO */
	INGEST_READY,
	INGEST_CLOSING,		/* ERROR queued; close once it is out */
	INGEST_CLOSED,		/* bufferevent gone; jobs still pending */
};

struct ingest_upload;
struct worker_flow;

/* A source address, as the per-address cap compares them. */
struct ingest_addr {
	int		 family;	/* AF_INET, AF_INET6 */
	uint8_t		 bytes[16];
};

struct ingest_conn {
	struct relay		*relay;
	struct bufferevent	*bev;		/* NULL in the unit tests */
	struct evbuffer		*out;		/* bev's output, or the test's */
	enum ingest_state	 state;
	char			 node[64];
	char			 address[64];	/* host:port, for logs */
	struct ingest_addr	 addr;
	int64_t			 accepted_us;	/* monotonic */

	/* The wire: the upload between the peer's BEGIN and its END. */
	struct ingest_upload	*upload;
	unsigned		 uploads;	/* BEGINs so far */

	/* The disk: this connection's jobs, in their own worker flow. */
	struct worker_flow	*flow;
	uint64_t		 queued_bytes;	/* what its jobs cost */
	unsigned		 jobs;		/* submitted, not done */

	/* Reading. */
	unsigned		 paused;	/* INGEST_PAUSE_* bits */
	size_t			 reserved;	/* of the budget, for a frame */
	size_t			 wanted;	/* what it waits for, paused */
	struct event		*deadline;	/* HELLO, or a frame's end */
	struct event		*reader;	/* past the handshake */
	int			 is_yielding;	/* reader's timeout: its turn */
	int			 is_socket_read; /* this turn read the socket */
	int			 is_waiting;	/* in the budget's queue */
	int			 is_free_pending; /* dropped: freed next turn */
	/*
	 * An UPLOAD_CHUNK being read: its header, and its data so far, read
	 * from TLS straight into the buffer the disk worker writes from.
	 */
	struct frame_chunk	 chunk;
	char			*chunk_data;	/* NULL: none being read */
	size_t			 chunk_have;	/* bytes of data in */

	TAILQ_ENTRY(ingest_conn) entry;		/* relay->conns */
	TAILQ_ENTRY(ingest_conn) wait_entry;	/* ingest.waiters */
};
TAILQ_HEAD(ingest_waiters, ingest_conn);

/*
 * The relay-wide part: the memory budget every connection draws from
 * ([listen] max_memory), the listener's state, counts for the status.
 */
struct ingest {
	uint64_t		 memory_max;
	uint64_t		 memory_used;
	uint64_t		 memory_peak;
	struct ingest_waiters	 waiters;	/* first come, first served */
	unsigned		 uploads;	/* BEGIN to stored or dropped */

	unsigned		 max_connections;	/* after the fd limit */
	struct event		*accept_retry;	/* a descriptor shortage */
	unsigned		 accept_backoff_ms;
	int			 is_accept_paused;

	uint64_t		 refused;	/* connections over a cap */
	uint64_t		 evicted;	/* pre-HELLO peers made room */
	uint64_t		 accept_pauses;	/* descriptor shortages */
	uint64_t		 timeouts;	/* handshake, HELLO, frame, write */
	uint64_t		 memory_waits;	/* reads paused for the budget */
	uint64_t		 replaced;	/* a node's older connection */
	uint64_t		 requests_skipped;	/* fan-out to a full peer */

	struct bufpool		*chunks;	/* upload chunks' data */
};

/* ingest.c */
struct ingest	*ingest_new(struct relay *);
/* A connection for an accepted socket (ingest_listen.c calls it). */
void		 ingest_conn_open(struct relay *, evutil_socket_t,
		    const struct sockaddr *, const struct ingest_addr *);
/* Drops the connection now (logged with why); its jobs finish later. */
void		 ingest_drop(struct ingest_conn *, const char *why);
/* ERROR to the peer, then closed once it is out (or the write times out). */
void		 ingest_protocol_error(struct ingest_conn *, const char *);
/* Queues a frame for the peer; takes payload. */
void		 ingest_send(struct ingest_conn *, enum frame_type, json_t *);
/* Reads again, or stops, as c->paused now says. */
void		 ingest_read_update(struct ingest_conn *);
/*
 * What a job costs, charged to the budget: from what the connection
 * reserved for the frame the job comes from, or on top (a job no frame
 * brought: the abort of a closed connection). ingest_uncharge when the
 * job is done.
 */
void		 ingest_charge(struct ingest_conn *, size_t cost);
/*
 * A buffer for an upload chunk's data (FRAME_CHUNK_DATA_MAX bytes), and
 * its return once written: kept for the next chunk. Its bytes are in the
 * memory budget as the chunk's job.
 */
char		*ingest_chunk_buffer(struct relay *);
void		 ingest_chunk_buffer_free(struct relay *, char *);
void		 ingest_uncharge(struct relay *, size_t cost);
/* Frees c once it is closed and its last job is done. */
void		 ingest_conn_release(struct ingest_conn *);
/* The connection's text for logs: node (address), or the address. */
const char	*ingest_who(const struct ingest_conn *);

/* The memory for c's frame: 0, or -1 and c waits its turn (paused). */
int		 ingest_budget_take(struct ingest_conn *, size_t);
/* What c reserved for a frame and did not hand to a job goes back. */
void		 ingest_release_reserved(struct ingest_conn *);
/* A node says HELLO: its older connection, if any, is a dead one. */
void		 ingest_on_hello(struct ingest_conn *, const struct frame *);

/* ingest_read.c */
/* Frames from c's socket (and its input), as long as nothing pauses it. */
void		 ingest_on_read(struct bufferevent *, void *);
/* c's read event: readable, its turn again, or idle for too long. */
void		 ingest_on_readable(evutil_socket_t, short, void *);

/* ingest_listen.c */
int		 ingest_listen_start(struct relay *, char *err, size_t errlen);
void		 ingest_listen_stop(struct relay *);
/*
 * Makes room for a new connection from addr, evicting the oldest peer
 * still before its HELLO when a cap is reached: 0, or -1 (refuse it).
 */
int		 ingest_listen_admit(struct relay *, const struct ingest_addr *);

/* ingest_upload.c */
/* A frame of a connection past HELLO; may end it (protocol error). */
void		 ingest_upload_frame(struct ingest_conn *, const struct frame *);
/* An UPLOAD_CHUNK whose data is in data (ingest_chunk_buffer), now c's. */
void		 ingest_upload_chunk(struct ingest_conn *,
		    const struct frame_chunk *, char *data);
/* The connection is closing: the upload on the wire is given up. */
void		 ingest_upload_close(struct ingest_conn *);
/* Records on the disk, in c's flow, that the relay asked c's node. */
void		 ingest_upload_request(struct ingest_conn *, const char *incident);

/*
 * Text a peer sent, for a log line: cut to len, valid UTF-8, control
 * characters and the marks that reorder a terminal's text as '?'.
 */
const char	*ingest_printable(const char *s, size_t slen, char *buf,
		    size_t len);

#endif
