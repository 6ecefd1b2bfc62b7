#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"

#define HTTP_RESPONSE_MAX	(16 * 1024 * 1024)

static int
http_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
http_request(const char *socket_path, const char *method, const char *target,
    const char *body, struct http_response *res, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	char			 head[1024], *buf = NULL, *p;
	size_t			 len = 0, cap = 0, body_len;
	ssize_t			 n;
	int			 fd, ret = -1;

	memset(res, 0, sizeof(*res));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(socket_path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", socket_path);
		return -1;
	}
	strcpy(sun.sun_path, socket_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		snprintf(err, errlen, "cannot reach the recorder at %s: %s",
		    socket_path, strerror(errno));
		goto end;
	}
	body_len = body != NULL ? strlen(body) : 0;
	snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n", method, target, body_len);
	if (http_write_all(fd, head, strlen(head)) == -1 ||
	    (body_len > 0 && http_write_all(fd, body, body_len) == -1)) {
		snprintf(err, errlen, "write: %s", strerror(errno));
		goto end;
	}
	for (;;) {
		if (cap - len < 4096) {
			cap = cap == 0 ? 8192 : cap * 2;
			if (cap > HTTP_RESPONSE_MAX ||
			    (buf = realloc(buf, cap)) == NULL) {
				snprintf(err, errlen, "response too large");
				goto end;
			}
		}
		if ((n = read(fd, buf + len, cap - len - 1)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "read: %s", strerror(errno));
			goto end;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (buf == NULL || len == 0) {
		snprintf(err, errlen, "the recorder closed the connection "
		    "without answering");
		goto end;
	}
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &res->status) != 1 ||
	    (p = strstr(buf, "\r\n\r\n")) == NULL) {
		snprintf(err, errlen, "malformed HTTP response");
		goto end;
	}
	p += 4;
	res->len = len - (size_t)(p - buf);
	if ((res->body = strdup(p)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto end;
	}
	ret = 0;
end:
	free(buf);
	close(fd);
	return ret;
}

void
http_response_free(struct http_response *res)
{
	free(res->body);
	res->body = NULL;
}
