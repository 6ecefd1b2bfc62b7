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
    char *err, size_t errlen)
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
 * Group membership of a peer, read from /proc/<pid>/status: the groups
 * the process really has, without an NSS lookup that could block.
 */
int
unix_socket_peer_is_member(pid_t pid, uid_t uid, gid_t gid, const char *group)
{
	struct group	*gr;
	char		 path[64], line[4096], *p, *end;
	FILE		*f;
	int		 is_member = 0;

	if (uid == 0)
		return 1;
	if (group[0] == '\0' || (gr = getgrnam(group)) == NULL)
		return 0;
	if (gid == gr->gr_gid)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (p = line + 7; *p != '\0'; p = end) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			if ((gid_t)g == gr->gr_gid)
				is_member = 1;
		}
	}
	fclose(f);
	return is_member;
}
