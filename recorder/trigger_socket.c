/*
 * trigger.sock: fire-and-forget trigger datagrams (DESIGN.md). The sender
 * is known from SCM_CREDENTIALS, which the kernel attaches because the
 * socket has SO_PASSCRED: a sender cannot claim another pid or uid.
 *
 * A malformed datagram is counted and dropped; its reason is logged at
 * most once a second so a broken or hostile sender cannot flood the log.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "recorder.h"
#include "xmalloc.h"

/* Datagrams read per wakeup before other events get a turn. */
#define TRIGGER_SOCKET_BATCH	256

struct trigger_socket {
	struct recorder	*rec;
	int		 fd;
	struct event	*ev;
	uint64_t	 last_log_us;
	uint64_t	 unlogged;	/* malformed since the last log line */
	struct trigger	 trigger;	/* big: kept here, not on the stack */
};

static void
trigger_socket_malformed(struct trigger_socket *ts, pid_t pid, uid_t uid,
    const char *why)
{
	uint64_t now = clock_monotonic_us();

	ts->rec->stats.datagrams_malformed++;
	policy_count(ts->rec->policy, "unknown", POLICY_MALFORMED);
	if (now - ts->last_log_us < 1000000 && ts->last_log_us != 0) {
		ts->unlogged++;
		return;
	}
	if (ts->unlogged > 0)
		log_warnx("trigger.sock: malformed datagram from pid %d uid "
		    "%u: %s (and %llu more since the last report)", (int)pid,
		    (unsigned)uid, why, (unsigned long long)ts->unlogged);
	else
		log_warnx("trigger.sock: malformed datagram from pid %d uid "
		    "%u: %s", (int)pid, (unsigned)uid, why);
	ts->last_log_us = now;
	ts->unlogged = 0;
}

static void
trigger_socket_on_read(evutil_socket_t fd, short events, void *arg)
{
	struct trigger_socket	*ts = arg;
	struct trigger		*t = &ts->trigger;
	struct snapshot		*joined;
	char			 buf[DATAGRAM_MAX + 1], err[256];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(struct ucred))];
	} control;
	struct msghdr		 msg;
	struct iovec		 iov;
	struct cmsghdr		*cmsg;
	struct ucred		 cred;
	ssize_t			 n;
	int			 i;

	(void)events;
	for (i = 0; i < TRIGGER_SOCKET_BATCH; i++) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		if ((n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_TRUNC)) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("trigger.sock: recvmsg");
			return;
		}
		ts->rec->stats.datagrams++;
		/* Without credentials the sender is nobody we know. */
		cred.pid = -1;
		cred.uid = (uid_t)-1;
		cred.gid = (gid_t)-1;
		for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
		    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
			if (cmsg->cmsg_level == SOL_SOCKET &&
			    cmsg->cmsg_type == SCM_CREDENTIALS &&
			    cmsg->cmsg_len == CMSG_LEN(sizeof(cred)))
				memcpy(&cred, CMSG_DATA(cmsg), sizeof(cred));
		}
		/* MSG_TRUNC makes n the real length, even past the buffer. */
		if ((size_t)n > DATAGRAM_MAX) {
			ts->rec->stats.datagrams_oversized++;
			snprintf(err, sizeof(err), "datagram of %zd bytes "
			    "exceeds %d", n, DATAGRAM_MAX);
			trigger_socket_malformed(ts, cred.pid, cred.uid, err);
			continue;
		}
		if (datagram_parse(buf, (size_t)n, t, err, sizeof(err)) == -1) {
			trigger_socket_malformed(ts, cred.pid, cred.uid, err);
			continue;
		}
		t->sender_pid = cred.pid;
		t->sender_uid = cred.uid;
		t->sender_gid = cred.gid;
		t->received_at_us = clock_realtime_us();
		snapshot_trigger(ts->rec, t, &joined);
	}
}

struct trigger_socket *
trigger_socket_open(struct recorder *rec, char *err, size_t errlen)
{
	struct trigger_socket	*ts;
	int			 fd;

	fd = unix_socket_listen(rec->conf.trigger_socket, SOCK_DGRAM,
	    rec->conf.trigger_mode, rec->conf.trigger_group, 1, err, errlen);
	if (fd == -1)
		return NULL;
	ts = xcalloc(1, sizeof(*ts));
	ts->rec = rec;
	ts->fd = fd;
	ts->ev = event_new(rec->base, fd, EV_READ | EV_PERSIST,
	    trigger_socket_on_read, ts);
	event_add(ts->ev, NULL);
	return ts;
}

void
trigger_socket_close(struct trigger_socket *ts)
{
	if (ts == NULL)
		return;
	event_free(ts->ev);
	close(ts->fd);
	unlink(ts->rec->conf.trigger_socket);
	free(ts);
}
