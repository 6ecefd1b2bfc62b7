/*
 * libtracetrap: the client side of trigger.sock (DESIGN.md).
 *
 * This code runs inside other people's hot paths (an Apache request, a
 * signal of distress in an application), so the send path allocates
 * nothing, takes no lock, and never waits: a trigger the recorder cannot
 * take right now is dropped and counted.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracetrap.h"

/* The library is built with -fvisibility=hidden; this is the API. */
#define TT_EXPORT	__attribute__((visibility("default")))

/* The recorder's limits (recorder/datagram.h); a client may not exceed. */
#define TRACETRAP_LABELS_MAX	32
#define TRACETRAP_KEY_MAX	32
#define TRACETRAP_SOURCE_MAX	32
#define TRACETRAP_METHOD_MAX	16

/* One value per truncatable string: the reason and every label. */
#define TRACETRAP_VALUES_MAX	(TRACETRAP_LABELS_MAX + 1)

/*
 * The process's socket and the pid that created it, packed in one word so
 * that both change together in a single compare-and-swap: pid in the high
 * half, descriptor in the low half, 0 for none (no process has pid 0).
 * A forked child sees its parent's pid here and makes its own socket.
 */
static _Atomic uint64_t		tracetrap_socket;
static atomic_ulong		tracetrap_dropped_count;

static uint64_t
tracetrap_socket_pack(pid_t pid, int fd)
{
	return ((uint64_t)(uint32_t)pid << 32) | (uint32_t)fd;
}

static pid_t
tracetrap_socket_pid(uint64_t word)
{
	return (pid_t)(word >> 32);
}

static int
tracetrap_socket_fd(uint64_t word)
{
	return (int)(uint32_t)word;
}

/*
 * Returns this process's datagram socket, creating it on first use. Two
 * threads may race to create it: the loser closes its own and uses the
 * winner's. The socket inherited from a parent is not closed in the child:
 * a daemon may have closed it already and reused the number for a file of
 * its own. It is close-on-exec, so at worst one descriptor per forked
 * child is kept until exec or exit.
 */
static int
tracetrap_socket_get(void)
{
	uint64_t	current, word;
	pid_t		pid;
	int		fd;

	pid = getpid();
	current = atomic_load(&tracetrap_socket);
	for (;;) {
		if (current != 0 && tracetrap_socket_pid(current) == pid)
			return tracetrap_socket_fd(current);
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
		if (fd == -1)
			return -1;
		word = tracetrap_socket_pack(pid, fd);
		if (atomic_compare_exchange_strong(&tracetrap_socket, &current,
		    word))
			return fd;
		/* Lost the race; current now holds the winner. */
		close(fd);
	}
}

/*
 * Forgets the socket when it is no longer ours (the application closed
 * the descriptor), so that the next send creates a new one. It is not
 * closed here for the same reason a parent's socket is not.
 */
static void
tracetrap_socket_forget(int fd)
{
	uint64_t	word;

	word = tracetrap_socket_pack(getpid(), fd);
	atomic_compare_exchange_strong(&tracetrap_socket, &word, 0);
}

/* Counts a dropped trigger and returns -1 with errno as it was. */
static int
tracetrap_drop(int error)
{
	atomic_fetch_add(&tracetrap_dropped_count, 1);
	errno = error;
	return -1;
}

/*
 * Returns the length of the well-formed UTF-8 sequence at the start of the
 * NUL-terminated string p, or 0: overlong forms, surrogates and values
 * above U+10FFFF are refused, as the recorder refuses them. The NUL is not
 * a continuation byte, so this never reads past the end of p.
 */
static size_t
tracetrap_utf8_length(const unsigned char *p)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return n;
}

/*
 * Copies value into out, at most max bytes, made acceptable to the
 * recorder: control characters become spaces and each byte that is not
 * part of valid UTF-8 becomes '?'. Both replacements keep the length, and
 * the copy stops before a sequence that would not fit whole, so a cut
 * value is still valid UTF-8. Returns the bytes written.
 */
static size_t
tracetrap_copy_value(char *out, const char *value, size_t max)
{
	const unsigned char	*p = (const unsigned char *)value;
	size_t			 written = 0, n;

	while (*p != '\0') {
		n = tracetrap_utf8_length(p);
		if (n == 0 ? written + 1 > max : written + n > max)
			break;
		if (n == 0) {
			out[written++] = '?';
			p++;
		} else if (n == 1 && (*p < 0x20 || *p == 0x7f)) {
			out[written++] = ' ';
			p++;
		} else {
			memcpy(out + written, p, n);
			written += n;
			p += n;
		}
	}
	return written;
}

static int
tracetrap_is_key_char(char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.' || c == '-');
}

static int
tracetrap_is_key(const char *key)
{
	size_t	i;

	if (key == NULL)
		return 0;
	for (i = 0; key[i] != '\0'; i++) {
		if (i == TRACETRAP_KEY_MAX || !tracetrap_is_key_char(key[i]))
			return 0;
	}
	if (i == 0)
		return 0;
	/* These four are fields of the datagram, not labels. */
	return (strcmp(key, "v") != 0 && strcmp(key, "source") != 0 &&
	    strcmp(key, "reason") != 0 && strcmp(key, "scope") != 0);
}

static int
tracetrap_is_source(const char *source)
{
	size_t	i;

	for (i = 0; source[i] != '\0'; i++) {
		if (i == TRACETRAP_SOURCE_MAX || source[i] == '.' ||
		    !tracetrap_is_key_char(source[i]))
			return 0;
	}
	return i > 0;
}

/* An unsigned decimal that fits in 64 bits, as the recorder wants. */
static int
tracetrap_is_u64(const char *value, uint64_t *out)
{
	uint64_t	v = 0;
	unsigned	digit;
	size_t		i;

	for (i = 0; value[i] != '\0'; i++) {
		if (value[i] < '0' || value[i] > '9')
			return 0;
		digit = (unsigned)(value[i] - '0');
		if (v > (UINT64_MAX - digit) / 10)
			return 0;
		v = v * 10 + digit;
	}
	*out = v;
	return i > 0;
}

/*
 * Some keys have a syntax the recorder checks (recorder/datagram.h).
 * Returns -1 when the value breaks it, since the recorder would drop the
 * whole datagram; 1 when the key is one of these (its value is short and
 * must not be cut); 0 for a free-form value.
 */
static int
tracetrap_check_known(const char *key, const char *value)
{
	uint64_t	v = 0;
	size_t		i;

	if (strcmp(key, "status") == 0) {
		if (!tracetrap_is_u64(value, &v) || v < 100 || v > 999)
			return -1;
		return 1;
	}
	if (strcmp(key, "duration_us") == 0 || strcmp(key, "pid") == 0)
		return tracetrap_is_u64(value, &v) ? 1 : -1;
	if (strcmp(key, "method") == 0) {
		for (i = 0; value[i] != '\0'; i++) {
			if (i == TRACETRAP_METHOD_MAX || value[i] < 'A' ||
			    value[i] > 'Z')
				return -1;
		}
		return i > 0 ? 1 : -1;
	}
	return 0;
}

/*
 * Shares budget bytes between values of lengths length[0..n-1] and sets
 * cap[i] to the bytes value i may use. Values shorter than an equal share
 * keep all their bytes and leave the rest to the longer ones, so only the
 * longest values are cut.
 */
static void
tracetrap_share(const size_t *length, size_t *cap, size_t n, size_t budget)
{
	int	is_capped[TRACETRAP_VALUES_MAX] = { 0 };
	size_t	left = n, share, i;
	int	has_progress;

	while (left > 0) {
		share = budget / left;
		has_progress = 0;
		for (i = 0; i < n; i++) {
			if (is_capped[i] || length[i] > share)
				continue;
			cap[i] = length[i];
			is_capped[i] = 1;
			budget -= length[i];
			left--;
			has_progress = 1;
		}
		if (has_progress)
			continue;
		for (i = 0; i < n; i++) {
			if (!is_capped[i])
				cap[i] = share;
		}
		break;
	}
}

static size_t
tracetrap_append(char *buf, size_t at, const char *text)
{
	size_t	len = strlen(text);

	memcpy(buf + at, text, len);
	return at + len;
}

TT_EXPORT size_t
tracetrap_format(char *buf, size_t size, const char *source,
    const char *reason, enum tracetrap_scope scope,
    const struct tracetrap_label *labels, size_t nlabels)
{
	size_t		 length[TRACETRAP_VALUES_MAX];
	size_t		 cap[TRACETRAP_VALUES_MAX];
	int		 is_fixed[TRACETRAP_LABELS_MAX];
	const char	*scope_name, *value;
	size_t		 limit, fixed, nvalues, at, i, j;
	int		 known;

	if (buf == NULL || (labels == NULL && nlabels > 0))
		return 0;
	if (source == NULL)
		source = "app";
	if (reason == NULL)
		reason = "";
	if (!tracetrap_is_source(source))
		return 0;
	if (scope == TRACETRAP_SCOPE_NODE)
		scope_name = "node";
	else if (scope == TRACETRAP_SCOPE_CLUSTER)
		scope_name = "cluster";
	else
		return 0;
	if (nlabels > TRACETRAP_LABELS_MAX)
		return 0;
	limit = size < TRACETRAP_DATAGRAM_MAX ? size : TRACETRAP_DATAGRAM_MAX;

	/*
	 * First what cannot be cut: the lines' keys and punctuation, and
	 * the short checked values. A value is measured only up to the
	 * limit, so a huge string costs no more than a small one.
	 */
	fixed = strlen("v=1\nsource=\nreason=\nscope=\n") + strlen(source) +
	    strlen(scope_name);
	length[0] = strnlen(reason, limit + 1);
	nvalues = 1;
	for (i = 0; i < nlabels; i++) {
		if (!tracetrap_is_key(labels[i].key))
			return 0;
		for (j = 0; j < i; j++) {
			if (strcmp(labels[j].key, labels[i].key) == 0)
				return 0;
		}
		value = labels[i].value != NULL ? labels[i].value : "";
		if ((known = tracetrap_check_known(labels[i].key, value)) < 0)
			return 0;
		is_fixed[i] = known;
		fixed += strlen(labels[i].key) + strlen("=\n");
		if (is_fixed[i])
			fixed += strlen(value);
		else
			length[nvalues++] = strnlen(value, limit + 1);
	}
	if (fixed > limit)
		return 0;
	tracetrap_share(length, cap, nvalues, limit - fixed);

	at = tracetrap_append(buf, 0, "v=1\nsource=");
	at = tracetrap_append(buf, at, source);
	at = tracetrap_append(buf, at, "\nreason=");
	at += tracetrap_copy_value(buf + at, reason, cap[0]);
	at = tracetrap_append(buf, at, "\nscope=");
	at = tracetrap_append(buf, at, scope_name);
	at = tracetrap_append(buf, at, "\n");
	nvalues = 1;
	for (i = 0; i < nlabels; i++) {
		value = labels[i].value != NULL ? labels[i].value : "";
		at = tracetrap_append(buf, at, labels[i].key);
		at = tracetrap_append(buf, at, "=");
		if (is_fixed[i])
			at = tracetrap_append(buf, at, value);
		else {
			at += tracetrap_copy_value(buf + at, value,
			    cap[nvalues++]);
		}
		at = tracetrap_append(buf, at, "\n");
	}
	return at;
}

TT_EXPORT int
tracetrap_send(const char *socket_path, const char *buf, size_t len)
{
	struct sockaddr_un	 addr;
	size_t			 pathlen;
	ssize_t			 sent;
	int			 fd, error;

	if (socket_path == NULL || buf == NULL || len == 0)
		return tracetrap_drop(EINVAL);
	if (len > TRACETRAP_DATAGRAM_MAX)
		return tracetrap_drop(EMSGSIZE);
	pathlen = strnlen(socket_path, sizeof addr.sun_path);
	if (pathlen == 0 || pathlen == sizeof addr.sun_path)
		return tracetrap_drop(EINVAL);

	memset(&addr, 0, sizeof addr);
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, socket_path, pathlen);

	if ((fd = tracetrap_socket_get()) == -1)
		return tracetrap_drop(errno);
	/*
	 * Unconnected, so that a recorder restarted on the same path is
	 * found again by the next trigger.
	 */
	sent = sendto(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL,
	    (struct sockaddr *)&addr,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + pathlen + 1));
	if (sent == -1) {
		error = errno;
		if (error == EBADF || error == ENOTSOCK)
			tracetrap_socket_forget(fd);
		return tracetrap_drop(error);
	}
	return 0;
}

TT_EXPORT int
tracetrap_trigger_to(const char *socket_path, const char *source,
    const char *reason, enum tracetrap_scope scope,
    const struct tracetrap_label *labels, size_t nlabels)
{
	char	buf[TRACETRAP_DATAGRAM_MAX];
	size_t	len;

	len = tracetrap_format(buf, sizeof buf, source, reason, scope, labels,
	    nlabels);
	if (len == 0)
		return tracetrap_drop(EINVAL);
	return tracetrap_send(socket_path, buf, len);
}

TT_EXPORT int
tracetrap_trigger(const char *source, const char *reason,
    enum tracetrap_scope scope, const struct tracetrap_label *labels,
    size_t nlabels)
{
	const char	*path;

	path = getenv(TRACETRAP_SOCKET_ENV);
	if (path == NULL || *path == '\0')
		path = TRACETRAP_TRIGGER_SOCKET;
	return tracetrap_trigger_to(path, source, reason, scope, labels,
	    nlabels);
}

TT_EXPORT unsigned long
tracetrap_dropped(void)
{
	return atomic_load(&tracetrap_dropped_count);
}
