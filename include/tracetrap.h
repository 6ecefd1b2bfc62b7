/*
 * libtracetrap: ask the local tracetrap-recorder for a snapshot.
 *
 * tracetrap_trigger() formats one datagram (DESIGN.md: "v=1\nsource=..")
 * and sends it to the recorder's trigger socket with MSG_DONTWAIT. It never
 * blocks and never waits for an answer: when the recorder is absent or its
 * socket is full the trigger is dropped, counted (tracetrap_dropped()) and
 * -1 is returned with errno set. Safe to call from any thread, and from
 * forked children (the socket is created per process on first use).
 */
#ifndef TRACETRAP_H
#define TRACETRAP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TRACETRAP_TRIGGER_SOCKET	"/run/tracetrap/trigger.sock"
#define TRACETRAP_SOCKET_ENV		"TRACETRAP_TRIGGER_SOCKET"
#define TRACETRAP_DATAGRAM_MAX		4096

enum tracetrap_scope {
	TRACETRAP_SCOPE_NODE = 0,
	TRACETRAP_SCOPE_CLUSTER = 1,
};

struct tracetrap_label {
	const char	*key;	/* [a-z0-9_.-], 1..32 bytes */
	const char	*value;	/* UTF-8; control characters become spaces */
};

/*
 * Sends a trigger to the socket named by $TRACETRAP_TRIGGER_SOCKET, or
 * TRACETRAP_TRIGGER_SOCKET. source and reason may be NULL ("app", "").
 * Returns 0 when the datagram was queued to the recorder, -1 otherwise.
 */
int	tracetrap_trigger(const char *source, const char *reason,
	    enum tracetrap_scope scope, const struct tracetrap_label *labels,
	    size_t nlabels);

/* The same, to an explicit socket path. */
int	tracetrap_trigger_to(const char *socket_path, const char *source,
	    const char *reason, enum tracetrap_scope scope,
	    const struct tracetrap_label *labels, size_t nlabels);

/*
 * Formats the datagram into buf. Returns its length, or 0 when an argument
 * is invalid (bad key, or the result would not fit TRACETRAP_DATAGRAM_MAX or
 * size). Overlong values are truncated at a UTF-8 boundary, not rejected.
 */
size_t	tracetrap_format(char *buf, size_t size, const char *source,
	    const char *reason, enum tracetrap_scope scope,
	    const struct tracetrap_label *labels, size_t nlabels);

/* Sends an already formatted datagram; never blocks. */
int	tracetrap_send(const char *socket_path, const char *buf, size_t len);

/* Triggers this process failed to hand to the recorder. */
unsigned long	tracetrap_dropped(void);

#ifdef __cplusplus
}
#endif

#endif
