/*
 * Trigger datagrams (DESIGN.md, trigger.sock): one datagram is one trigger,
 * at most DATAGRAM_MAX bytes of UTF-8 "key=value" lines. One codec, one
 * set of rules: libtracetrap encodes with datagram_encode() (behind
 * tracetrap_format()), the recorder decodes with datagram_parse(), and a
 * trigger the recorder makes itself (the control API, its watchers and
 * event rules, the relay's requests) is encoded and parsed again, so that
 * every trigger enters the policy through one door.
 *
 * Plain C, no library beyond libc: it is linked into libtracetrap (with
 * hidden visibility) as well as into the recorder.
 */
#ifndef TT_DATAGRAM_H
#define TT_DATAGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tracetrap.h"

#define DATAGRAM_MAX		4096
#define TRIGGER_LABELS_MAX	32
#define TRIGGER_SOURCE_MAX	32	/* bytes, [a-z0-9_-] */
#define TRIGGER_KEY_MAX		32	/* bytes, [a-z0-9_.-] */
#define TRIGGER_METHOD_MAX	16	/* bytes, [A-Z] */

_Static_assert(DATAGRAM_MAX == TRACETRAP_DATAGRAM_MAX,
    "the public header and the codec disagree on a datagram's size");

enum trigger_scope {
	TRIGGER_SCOPE_NODE = 0,
	TRIGGER_SCOPE_CLUSTER,
};

struct trigger_label {
	const char	*key;		/* points into trigger.text */
	const char	*value;		/* points into trigger.text */
};

/*
 * A parsed trigger. Strings point into text, a private NUL-separated copy
 * of the datagram, so a trigger is one flat block that can be copied with
 * memcpy only if the pointers are rebased: use trigger_copy().
 */
struct trigger {
	char			 text[DATAGRAM_MAX + 1];
	const char		*source;	/* default "app" */
	const char		*reason;	/* default "" */
	enum trigger_scope	 scope;		/* default node */
	/*
	 * Every key other than v, source, reason and scope, in datagram
	 * order; the known optional keys (url, method, status, duration_us,
	 * request_id, pid) are validated then kept here like the others.
	 */
	struct trigger_label	 labels[TRIGGER_LABELS_MAX];
	size_t			 nlabels;

	/* Filled by the receiver, not by the parser. */
	pid_t			 sender_pid;	/* SCM_CREDENTIALS / SO_PEERCRED */
	uid_t			 sender_uid;
	gid_t			 sender_gid;
	int64_t			 received_at_us; /* CLOCK_REALTIME */
};

/*
 * Writes the datagram of these fields into buf, at most size and
 * DATAGRAM_MAX bytes, and returns its length; 0 when a field breaks a
 * rule below that the encoder cannot mend (a bad source or key, a
 * duplicate key, a checked value out of its syntax, too many labels, or
 * no room for the fixed part). source and reason may be NULL ("app", "").
 * Free-form values are mended, never refused: control characters become
 * spaces, bytes that are not UTF-8 '?', and the longest values are cut at
 * a UTF-8 boundary to share the room. tracetrap_format() is this.
 */
size_t	datagram_encode(char *buf, size_t size, const char *source,
	    const char *reason, enum tracetrap_scope scope,
	    const struct tracetrap_label *labels, size_t nlabels);

/*
 * Parses len bytes of data (need not be NUL-terminated) into t. Returns 0,
 * or -1 with a one-line reason in err naming the offending line. Rules:
 * - len > DATAGRAM_MAX, len == 0, invalid UTF-8, NUL bytes: malformed;
 * - lines end in "\n" (a final line without it is accepted; "\r\n" is not);
 *   empty lines are skipped; every other line is key=value with a key of
 *   [a-z0-9_.-]{1,32} and a value free of control characters (< 0x20, 0x7f);
 * - "v" is required and must be "1"; a key given twice is malformed;
 * - source: [a-z0-9_-]{1,32}; scope: node|cluster; status: 100..999;
 *   duration_us and pid: decimal without sign, fitting in 64 bits;
 *   reason, url, method, request_id: any value (method: [A-Z]{1,16});
 * - more than TRIGGER_LABELS_MAX labels: malformed.
 */
int	datagram_parse(const char *data, size_t len, struct trigger *t,
	    char *err, size_t errlen);

/*
 * A trigger this process makes (watchers, event rules, the relay's
 * requests): encoded and parsed as a datagram, so it enters through the
 * same door, with this process as its sender and now as its arrival.
 * NULL with err when a label does not fit; free() it.
 */
struct trigger *trigger_new(const char *source, const char *reason,
	    enum tracetrap_scope, const struct tracetrap_label *,
	    size_t nlabels, char *err, size_t errlen);

/* Copies src into dst, rebasing the string pointers. */
void	trigger_copy(struct trigger *dst, const struct trigger *src);

/* The value of label key, or NULL. */
const char *trigger_label(const struct trigger *t, const char *key);

#endif
