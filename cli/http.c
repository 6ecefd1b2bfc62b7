/*
 * The CLI's blocking HTTP/1.1 client (http.h): one request per connection
 * to the recorder's control socket or the relay's API, and the response
 * read whole (Content-Length, chunked or EOF), within fixed bounds.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "file.h"
#include "http.h"
#include "tls.h"

#define HTTP_RESPONSE_MAX	(16 * 1024 * 1024)	/* kept in memory */
#define HTTP_LINE_MAX		8192
#define HTTP_HEADERS_MAX	100
/*
 * A relay that accepts but never answers must not hang the CLI forever.
 * (On Linux the send timeout bounds connect() too.) The control socket
 * keeps no timeout: snapshot --wait legitimately waits.
 */
#define HTTP_CONNECT_SECONDS	10
/*
 * Nor may one that drips: from the relay, the status line and headers
 * must arrive within the endpoint's timeout (each read too), and a body
 * must bring at least HTTP_RATE_MIN bytes per second over every half of
 * it.
 */
#define HTTP_RATE_MIN		4096

/* A connection: a socket, and TLS over it for https://. */
struct http_conn {
	int		 fd;
	SSL_CTX		*ctx;
	SSL		*ssl;
};

struct http_reader {
	struct http_conn *conn;
	char		 buf[16384];
	size_t		 start;
	size_t		 end;
	int		 is_paced;	/* the drip checks apply */
	int		 is_body;
	uint64_t	 window_us;	/* this window's start */
	uint64_t	 window_bytes;
	int		 is_too_slow;
	uint64_t	 timeout_ms;
};

/* Where a body goes: a file descriptor, or memory; at most max bytes. */
struct http_sink {
	int		 fd;
	char		*buf;
	size_t		 len;
	size_t		 cap;
	uint64_t	 total;
	uint64_t	 max;
};

int
http_endpoint_unix(struct http_endpoint *ep, const char *path, char *err,
    size_t errlen)
{
	memset(ep, 0, sizeof(*ep));
	if (strlen(path) >= sizeof(ep->path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -1;
	}
	ep->is_unix = 1;
	strcpy(ep->path, path);
	snprintf(ep->host, sizeof(ep->host), "localhost");
	snprintf(ep->name, sizeof(ep->name), "%s", path);
	return 0;
}

int
http_endpoint_url(struct http_endpoint *ep, const char *url, char *err,
    size_t errlen)
{
	const char	*p, *host_end, *slash;
	size_t		 len;

	memset(ep, 0, sizeof(*ep));
	ep->timeout_ms = HTTP_TIMEOUT_DEFAULT_MS;
	snprintf(ep->name, sizeof(ep->name), "%s", url);
	if (strncasecmp(url, "https://", 8) == 0) {
		ep->is_tls = 1;
		p = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		p = url + 7;
	} else {
		snprintf(err, errlen, "%s: expected http://HOST[:PORT] or "
		    "https://HOST[:PORT]", url);
		return -1;
	}
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = p + strlen(p);
	if (*p == '[') {
		if ((host_end = memchr(p, ']', (size_t)(slash - p))) == NULL)
			goto bad;
		len = (size_t)(host_end - p - 1);
		p++;
		host_end++;
	} else {
		host_end = memchr(p, ':', (size_t)(slash - p));
		if (host_end == NULL)
			host_end = slash;
		len = (size_t)(host_end - p);
	}
	if (len == 0 || len >= sizeof(ep->host))
		goto bad;
	memcpy(ep->host, p, len);
	ep->host[len] = '\0';
	if (*host_end == ':') {
		len = (size_t)(slash - host_end - 1);
		if (len == 0 || len >= sizeof(ep->port) ||
		    strspn(host_end + 1, "0123456789") < len)
			goto bad;
		memcpy(ep->port, host_end + 1, len);
		ep->port[len] = '\0';
	} else if (host_end != slash)
		goto bad;
	else
		snprintf(ep->port, sizeof(ep->port), "%s", ep->is_tls ? "443" :
		    "80");
	len = strlen(slash);
	while (len > 0 && slash[len - 1] == '/')
		len--;
	if (len >= sizeof(ep->base) || memchr(slash, '?', len) != NULL ||
	    memchr(slash, '#', len) != NULL)
		goto bad;
	memcpy(ep->base, slash, len);
	ep->base[len] = '\0';
	return 0;
bad:
	snprintf(err, errlen, "%s: not a URL of the form "
	    "http[s]://HOST[:PORT]", url);
	return -1;
}

int
http_endpoint_tls(struct http_endpoint *ep, const char *ca, const char *cert,
    const char *key, char *err, size_t errlen)
{
	if ((ca != NULL && strlen(ca) >= sizeof(ep->ca)) ||
	    (cert != NULL && strlen(cert) >= sizeof(ep->cert)) ||
	    (key != NULL && strlen(key) >= sizeof(ep->key))) {
		snprintf(err, errlen, "certificate path too long");
		return -1;
	}
	if ((cert != NULL && cert[0] != '\0') != (key != NULL &&
	    key[0] != '\0')) {
		snprintf(err, errlen, "a client certificate needs its key, and "
		    "a key its certificate (--cert and --key)");
		return -1;
	}
	snprintf(ep->ca, sizeof(ep->ca), "%s", ca ? ca : "");
	snprintf(ep->cert, sizeof(ep->cert), "%s", cert ? cert : "");
	snprintf(ep->key, sizeof(ep->key), "%s", key ? key : "");
	return 0;
}

int
http_endpoint_token(struct http_endpoint *ep, const char *token, char *err,
    size_t errlen)
{
	/* It goes into a header line: no line breaks, nothing invisible. */
	if (token[0] == '\0' || strlen(token) >= HTTP_TOKEN_MAX ||
	    token[strcspn(token, " \t\r\n")] != '\0') {
		snprintf(err, errlen, "the token must be 1 to %d characters, "
		    "without spaces", HTTP_TOKEN_MAX - 1);
		return -1;
	}
	snprintf(ep->authorization, sizeof(ep->authorization), "Bearer %s",
	    token);
	return 0;
}

static int
http_conn_write_all(struct http_conn *c, const char *buf, size_t len)
{
	int n;

	if (c->ssl == NULL)
		return file_write_all(c->fd, buf, len);
	while (len > 0) {
		n = SSL_write(c->ssl, buf, len > INT32_MAX ? INT32_MAX :
		    (int)len);
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t
http_conn_read(struct http_conn *c, char *buf, size_t len)
{
	ssize_t	 n;
	int	 ret;

	if (c->ssl == NULL) {
		do
			n = read(c->fd, buf, len);
		while (n == -1 && errno == EINTR);
		return n;
	}
	errno = 0;
	ret = SSL_read(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (ret > 0)
		return ret;
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		/* SO_RCVTIMEO ran out. */
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_SYSCALL:
		/* A peer that closes without close_notify: an EOF all the same. */
		return errno == 0 ? 0 : -1;
	default:
		errno = EPROTO;
		return -1;
	}
}

static void
http_conn_close(struct http_conn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->ssl = NULL;
	c->ctx = NULL;
}

/* TLS 1.3 over the connected socket; the server's name is checked. */
static int
http_tls_start(struct http_conn *c, const struct http_endpoint *ep,
    char *err, size_t errlen)
{
	X509_VERIFY_PARAM	*param;
	int			 is_ip;
	unsigned char		 addr[16];
	long			 verify;

	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail_tls;
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (ep->ca[0] != '\0' ? SSL_CTX_load_verify_locations(c->ctx, ep->ca,
	    NULL) != 1 : SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
		snprintf(err, errlen, "CA %s: %s", ep->ca[0] ? ep->ca :
		    "(system)", tls_error());
		return -1;
	}
	if (ep->cert[0] != '\0' &&
	    (SSL_CTX_use_certificate_chain_file(c->ctx, ep->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(c->ctx, ep->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(c->ctx) != 1)) {
		snprintf(err, errlen, "client certificate %s / key %s: %s",
		    ep->cert, ep->key, tls_error());
		return -1;
	}
	if ((c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1)
		goto fail_tls;
	is_ip = inet_pton(AF_INET, ep->host, addr) == 1 ||
	    inet_pton(AF_INET6, ep->host, addr) == 1;
	param = SSL_get0_param(c->ssl);
	if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, ep->host) != 1 :
	    (SSL_set_tlsext_host_name(c->ssl, ep->host) != 1 ||
	    SSL_set1_host(c->ssl, ep->host) != 1))
		goto fail_tls;
	if (SSL_connect(c->ssl) != 1) {
		verify = SSL_get_verify_result(c->ssl);
		if (verify != X509_V_OK)
			snprintf(err, errlen, "TLS with %s: the relay's "
			    "certificate is not trusted: %s%s", ep->name,
			    X509_verify_cert_error_string(verify), ep->ca[0] ?
			    "" : " (give the fleet CA: --ca or $"
			    "TRACETRAP_RELAY_CA)");
		else
			snprintf(err, errlen, "TLS with %s: %s%s", ep->name,
			    tls_error(), ep->cert[0] ? "" : " (the relay "
			    "may require a client certificate: --cert and "
			    "--key, or $TRACETRAP_RELAY_CERT and _KEY)");
		return -1;
	}
	return 0;
fail_tls:
	snprintf(err, errlen, "TLS: %s", tls_error());
	return -1;
}

static int
http_connect_unix(const struct http_endpoint *ep, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, ep->path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		snprintf(err, errlen, "cannot connect to %s: %s", ep->path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
http_connect_tcp(const struct http_endpoint *ep, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	struct timeval	 send_tv = { HTTP_CONNECT_SECONDS, 0 };
	struct timeval	 recv_tv = {
		(time_t)(ep->timeout_ms / 1000),
		(suseconds_t)(ep->timeout_ms % 1000 * 1000)
	};
	int		 fd = -1, error, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((error = getaddrinfo(ep->host, ep->port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", ep->host, gai_strerror(error));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_tv,
		    sizeof(send_tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &recv_tv,
		    sizeof(recv_tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		snprintf(err, errlen, "cannot connect to %s: %s", ep->name,
		    saved == EINPROGRESS || saved == EAGAIN ?
		    "timed out" : strerror(saved));
	return fd;
}

static int
http_send(struct http_conn *c, const struct http_endpoint *ep, const char *method,
    const char *target, const char *body, char *err, size_t errlen)
{
	char	 head[2048], auth[HTTP_TOKEN_MAX + 64];
	size_t	 body_len = body != NULL ? strlen(body) : 0;
	int	 n;

	auth[0] = '\0';
	if (ep->authorization[0] != '\0')
		snprintf(auth, sizeof(auth), "Authorization: %s\r\n",
		    ep->authorization);
	n = snprintf(head, sizeof(head), "%s %s%s HTTP/1.1\r\nHost: %s%s%s\r\n"
	    "Connection: close\r\nUser-Agent: tracetrap/%s\r\n%s%s"
	    "Content-Length: %zu\r\n\r\n", method, ep->base, target,
	    strchr(ep->host, ':') != NULL ? "[" : "", ep->host,
	    strchr(ep->host, ':') != NULL ? "]" : "", TRACETRAP_VERSION, auth,
	    body != NULL ? "Content-Type: application/json\r\n" : "", body_len);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		snprintf(err, errlen, "request target too long");
		return -1;
	}
	if (http_conn_write_all(c, head, (size_t)n) == -1 ||
	    (body_len > 0 && http_conn_write_all(c, body, body_len) == -1)) {
		snprintf(err, errlen, "write to %s: %s", ep->name,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Whether a paced reader is still on time: the head within the timeout
 * of the request, the body at HTTP_RATE_MIN.
 */
static int
http_on_time(struct http_reader *r, size_t got)
{
	uint64_t now, window;

	if (!r->is_paced)
		return 1;
	now = clock_monotonic_us();
	r->window_bytes += got;
	window = r->timeout_ms * 1000;
	if (r->is_body)
		window = window / 2 > 1000000 ? window / 2 : 1000000;
	if (now - r->window_us < window)
		return 1;
	if (!r->is_body || r->window_bytes <
	    HTTP_RATE_MIN * window / 1000000) {
		r->is_too_slow = 1;
		return 0;
	}
	r->window_us = now;
	r->window_bytes = 0;
	return 1;
}

/* The body starts: its own rate, from now. */
static void
http_body_starts(struct http_reader *r)
{
	r->is_body = 1;
	r->window_us = clock_monotonic_us();
	r->window_bytes = 0;
}

/*
 * Reads more into the buffer: bytes added, 0 at EOF, -1 on error
 * (ETIMEDOUT: the peer is too slow).
 */
static ssize_t
http_fill(struct http_reader *r)
{
	ssize_t n;

	if (r->start == r->end)
		r->start = r->end = 0;
	if (r->end == sizeof(r->buf)) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	n = http_conn_read(r->conn, r->buf + r->end, sizeof(r->buf) - r->end);
	if (n > 0)
		r->end += (size_t)n;
	if (!http_on_time(r, n > 0 ? (size_t)n : 0)) {
		errno = ETIMEDOUT;
		return -1;
	}
	return n;
}

/* One line without its CRLF; -1 at EOF, on error or when too long. */
static int
http_read_line(struct http_reader *r, char *line, size_t len)
{
	char	*nl;
	size_t	 n;

	for (;;) {
		nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl != NULL)
			break;
		if (r->end - r->start >= len || http_fill(r) <= 0)
			return -1;
	}
	n = (size_t)(nl - (r->buf + r->start));
	if (n >= len)
		return -1;
	memcpy(line, r->buf + r->start, n);
	r->start += n + 1;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	return 0;
}

static int
http_sink_write(struct http_sink *s, const char *data, size_t len,
    char *err, size_t errlen)
{
	char	*buf;
	size_t	 cap;

	if (len > s->max - s->total) {
		snprintf(err, errlen, "the body is larger than %llu bytes",
		    (unsigned long long)s->max);
		return -1;
	}
	s->total += len;
	if (s->fd >= 0) {
		if (file_write_all(s->fd, data, len) == -1) {
			snprintf(err, errlen, "write: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	if (s->len + len + 1 > s->cap) {
		cap = s->cap == 0 ? 8192 : s->cap;
		while (cap < s->len + len + 1)
			cap *= 2;
		if ((buf = realloc(s->buf, cap)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		s->buf = buf;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return 0;
}

/* Copies exactly len body bytes (or up to EOF when is_to_eof). */
static int
http_copy(struct http_reader *r, struct http_sink *s, uint64_t len,
    int is_to_eof, char *err, size_t errlen)
{
	uint64_t	 done = 0;
	size_t		 n;
	ssize_t		 got;

	while (is_to_eof || done < len) {
		if (r->start == r->end) {
			if ((got = http_fill(r)) == -1) {
				snprintf(err, errlen, "read: %s",
				    errno == EAGAIN ? "timed out" :
				    errno == ETIMEDOUT ? "too slow (under "
				    "4 KiB/s)" : strerror(errno));
				return -1;
			}
			if (got == 0) {
				if (is_to_eof)
					return 0;
				snprintf(err, errlen, "connection closed after "
				    "%llu of %llu body bytes",
				    (unsigned long long)done,
				    (unsigned long long)len);
				return -1;
			}
		}
		n = r->end - r->start;
		if (!is_to_eof && n > len - done)
			n = (size_t)(len - done);
		if (http_sink_write(s, r->buf + r->start, n, err, errlen) == -1)
			return -1;
		r->start += n;
		done += n;
	}
	return 0;
}

static int
http_read_chunked(struct http_reader *r, struct http_sink *s, char *err,
    size_t errlen)
{
	char			 line[HTTP_LINE_MAX], *end;
	unsigned long long	 size;

	for (;;) {
		if (http_read_line(r, line, sizeof(line)) == -1)
			goto bad;
		errno = 0;
		size = strtoull(line, &end, 16);
		if (end == line || errno != 0 || (*end != '\0' && *end != ';'))
			goto bad;
		if (size == 0)
			break;
		if (http_copy(r, s, size, 0, err, errlen) == -1 ||
		    http_read_line(r, line, sizeof(line)) == -1 ||
		    line[0] != '\0')
			goto bad;
	}
	/* Trailers, up to the empty line. */
	do {
		if (http_read_line(r, line, sizeof(line)) == -1)
			goto bad;
	} while (line[0] != '\0');
	return 0;
bad:
	if (err[0] == '\0')
		snprintf(err, errlen, r->is_too_slow ? "read: too slow (under "
		    "4 KiB/s)" : "malformed chunked body");
	return -1;
}

/* After a failure on TLS without a client certificate: what may be missing. */
static void
http_hint_certificate(const struct http_conn *c, const struct http_endpoint *ep,
    char *err, size_t errlen)
{
	size_t len = strlen(err);

	if (c->ssl != NULL && ep->cert[0] == '\0' && len < errlen)
		snprintf(err + len, errlen - len, " (the relay may require a "
		    "client certificate: --cert and --key, or "
		    "$TRACETRAP_RELAY_CERT and _KEY)");
}

static int
http_exchange(const struct http_endpoint *ep, const char *method,
    const char *target, const char *body, int out_fd, uint64_t max,
    struct http_response *res, char *err, size_t errlen)
{
	struct http_reader	*r = NULL;
	struct http_conn	 conn = { -1, NULL, NULL };
	struct http_sink	 sink;
	char			 line[HTTP_LINE_MAX], *value, *end;
	unsigned long long	 length = 0;
	int			 ret = -1, has_length = 0, is_chunked = 0;
	int			 headers = 0;

	memset(res, 0, sizeof(*res));
	memset(&sink, 0, sizeof(sink));
	sink.fd = -1;
	err[0] = '\0';
	conn.fd = ep->is_unix ? http_connect_unix(ep, err, errlen) :
	    http_connect_tcp(ep, err, errlen);
	if (conn.fd == -1)
		return -1;
	res->is_connected = 1;
	if (ep->is_tls && http_tls_start(&conn, ep, err, errlen) == -1)
		goto end;
	if (http_send(&conn, ep, method, target, body, err, errlen) == -1) {
		http_hint_certificate(&conn, ep, err, errlen);
		goto end;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto end;
	}
	r->conn = &conn;
	r->is_paced = !ep->is_unix;
	r->timeout_ms = ep->timeout_ms;
	r->window_us = clock_monotonic_us();
	if (http_read_line(r, line, sizeof(line)) == -1) {
		/* TLS 1.3: a refused client certificate shows here. */
		snprintf(err, errlen, "%s closed the connection without "
		    "answering%s%s%s", ep->name, errno == EAGAIN ||
		    r->is_too_slow ? " (timed out)" : "",
		    conn.ssl != NULL ? ": " : "",
		    conn.ssl != NULL ? tls_error() : "");
		http_hint_certificate(&conn, ep, err, errlen);
		goto end;
	}
	if (sscanf(line, "HTTP/1.%*d %d", &res->status) != 1) {
		snprintf(err, errlen, "%s: malformed HTTP response", ep->name);
		goto end;
	}
	for (;;) {
		if (http_read_line(r, line, sizeof(line)) == -1 ||
		    ++headers > HTTP_HEADERS_MAX) {
			snprintf(err, errlen, "%s: %s", ep->name,
			    r->is_too_slow ? "no complete HTTP headers within "
			    "the timeout" : "malformed HTTP headers");
			goto end;
		}
		if (line[0] == '\0')
			break;
		if ((value = strchr(line, ':')) == NULL)
			continue;
		*value++ = '\0';
		value += strspn(value, " \t");
		if (strcasecmp(line, "Content-Length") == 0) {
			errno = 0;
			length = strtoull(value, &end, 10);
			if (end == value || *end != '\0' || errno != 0) {
				snprintf(err, errlen, "%s: bad Content-Length",
				    ep->name);
				goto end;
			}
			has_length = 1;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0 &&
		    strcasestr(value, "chunked") != NULL)
			is_chunked = 1;
	}
	sink.max = HTTP_RESPONSE_MAX;
	if (res->status == 200 && out_fd >= 0) {
		sink.fd = out_fd;
		sink.max = max;
	}
	/* Refused before a byte of it is read. */
	if (!is_chunked && has_length && length > sink.max) {
		snprintf(err, errlen, "%s: the answer would be %llu bytes, "
		    "over the limit of %llu", ep->name, length,
		    (unsigned long long)sink.max);
		goto end;
	}
	http_body_starts(r);
	if (is_chunked)
		ret = http_read_chunked(r, &sink, err, errlen);
	else
		ret = http_copy(r, &sink, length, !has_length, err, errlen);
	if (ret == -1)
		goto end;
	res->len = (size_t)sink.total;
	if (sink.fd < 0) {
		if (sink.buf == NULL && (sink.buf = strdup("")) == NULL) {
			snprintf(err, errlen, "out of memory");
			ret = -1;
			goto end;
		}
		res->body = sink.buf;
		sink.buf = NULL;
	}
end:
	free(sink.buf);
	free(r);
	http_conn_close(&conn);
	return ret;
}

int
http_request(const struct http_endpoint *ep, const char *method,
    const char *target, const char *body, struct http_response *res,
    char *err, size_t errlen)
{
	return http_exchange(ep, method, target, body, -1, 0, res, err,
	    errlen);
}

int
http_download(const struct http_endpoint *ep, const char *target, int fd,
    uint64_t max, struct http_response *res, char *err, size_t errlen)
{
	return http_exchange(ep, "GET", target, NULL, fd, max, res, err,
	    errlen);
}

void
http_response_free(struct http_response *res)
{
	free(res->body);
	res->body = NULL;
}
