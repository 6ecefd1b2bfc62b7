/*
 * Unix sockets of the recorder, in the OpenSMTPD control.c manner: refuse
 * to start when another instance answers on the path, remove a stale
 * socket, create it under a umask so it is never briefly world-writable,
 * then set its group and mode.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "recorder.h"

static int
unix_socket_address(const char *path, struct sockaddr_un *sun, char *err,
    size_t errlen)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

/* 1 when something listens on path (another recorder), 0 otherwise. */
static int
unix_socket_is_alive(const struct sockaddr_un *sun, int type)
{
	int fd, is_alive;

	if ((fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	is_alive = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return is_alive;
}

int
unix_socket_listen(const char *path, int type, mode_t mode, const char *group,
    int is_passcred, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct group		*gr = NULL;
	char			 dir[sizeof(sun.sun_path)], *slash;
	mode_t			 old_umask;
	int			 fd;

	if (unix_socket_address(path, &sun, err, errlen) == -1)
		return -1;
	if (group[0] != '\0' && (gr = getgrnam(group)) == NULL) {
		snprintf(err, errlen, "%s: unknown group '%s'", path, group);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", dir,
			    strerror(errno));
			return -1;
		}
	}
	if (unix_socket_is_alive(&sun, type)) {
		snprintf(err, errlen, "%s: another recorder is running", path);
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "unlink %s: %s", path, strerror(errno));
		return -1;
	}
	if ((fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0))
	    == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* Before bind: no datagram may arrive without its sender's creds. */
	if (is_passcred && setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &is_passcred,
	    sizeof(is_passcred)) == -1) {
		snprintf(err, errlen, "SO_PASSCRED: %s", strerror(errno));
		goto fail;
	}
	old_umask = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old_umask);
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		goto fail;
	}
	umask(old_umask);
	if ((gr != NULL && chown(path, (uid_t)-1, gr->gr_gid) == -1) ||
	    chmod(path, mode) == -1) {
		snprintf(err, errlen, "chown/chmod %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (type == SOCK_STREAM && listen(fd, 64) == -1) {
		snprintf(err, errlen, "listen %s: %s", path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * Whether a connected peer may mutate: root, or a member of group. The
 * groups come from SO_PEERGROUPS, captured by the kernel at connect(): no
 * pid-reuse race, and no NSS lookup on the event loop.
 */
int
unix_socket_peer_is_member(int fd, const struct ucred *cred, int has_group,
    gid_t group)
{
	gid_t		 groups[1024];
	socklen_t	 len = sizeof(groups);
	size_t		 i;

	if (cred->uid == 0)
		return 1;
	if (!has_group)
		return 0;
	if (cred->gid == group)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1)
		return 0;
	for (i = 0; i < len / sizeof(groups[0]); i++)
		if (groups[i] == group)
			return 1;
	return 0;
}

/* Resolves a group name at (re)load time; "" means no group. */
int
unix_socket_group(const char *name, int *has_group, gid_t *gid, char *err,
    size_t errlen)
{
	struct group *gr;

	*has_group = 0;
	if (name[0] == '\0')
		return 0;
	if ((gr = getgrnam(name)) == NULL) {
		snprintf(err, errlen, "unknown group '%s'", name);
		return -1;
	}
	*has_group = 1;
	*gid = gr->gr_gid;
	return 0;
}
