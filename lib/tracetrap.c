/*
 * libtracetrap: the client side of trigger.sock (DESIGN.md). The
 * datagram itself is written by the codec the recorder reads it with
 * (datagram.c, linked in with hidden visibility); this file sends it.
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

#include "datagram.h"
#include "tracetrap.h"

/* The library is built with -fvisibility=hidden; this is the API. */
#define TT_EXPORT	__attribute__((visibility("default")))

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

/* The datagram's rules are the recorder's own: one codec (datagram.c). */
TT_EXPORT size_t
tracetrap_format(char *buf, size_t size, const char *source,
    const char *reason, enum tracetrap_scope scope,
    const struct tracetrap_label *labels, size_t nlabels)
{
	return datagram_encode(buf, size, source, reason, scope, labels,
	    nlabels);
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
