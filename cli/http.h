/*
 * A minimal blocking HTTP/1.1 client for the CLI: the recorder's control
 * socket (Unix) and the relay's API (TCP: http://, or https:// with the
 * fleet's CA and a client certificate, TLS 1.3, the server's name
 * checked). One request per connection (Connection: close); bodies framed
 * by Content-Length, chunked encoding or EOF. Bounded: an answer kept in
 * memory is at most 16 MiB, a download at most what the caller says; from
 * the relay (not the local control socket, where --wait waits), headers
 * within the endpoint's timeout (60 s unless set) and a body at 4 KiB/s
 * or better over every half of it.
 */
#ifndef TT_HTTP_H
#define TT_HTTP_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_TOKEN_MAX		256
#define HTTP_TIMEOUT_DEFAULT_MS	60000

struct http_endpoint {
	int	 is_unix;
	char	 path[108];		/* the socket, when is_unix */
	char	 host[256];		/* without an IPv6 address's [] */
	char	 port[8];
	char	 base[256];		/* a URL's path, without its last / */
	char	 name[400];		/* for messages: the URL or socket */
	char	 authorization[HTTP_TOKEN_MAX + 16];	/* "" = none */
	int	 is_tls;		/* https:// */
	char	 ca[PATH_MAX];		/* "" = the system's CAs */
	char	 cert[PATH_MAX];	/* client certificate, "" = none */
	char	 key[PATH_MAX];
	/* TCP: each read, and the head; a body's rate is judged over half. */
	uint64_t timeout_ms;
};

struct http_response {
	int	 status;
	char	*body;		/* NUL-terminated, malloc'd; NULL if in a fd */
	size_t	 len;		/* body bytes, wherever they went */
	int	 is_connected;	/* on failure: the failure came after connect */
};

/* Returns 0, or -1 with err when the path does not fit. */
int	http_endpoint_unix(struct http_endpoint *, const char *path,
	    char *err, size_t errlen);
/*
 * http[s]://HOST[:PORT][/PATH], HOST a name, an IPv4 or an [IPv6]
 * address.
 */
int	http_endpoint_url(struct http_endpoint *, const char *url,
	    char *err, size_t errlen);
/* For https://: the CA to trust and the client certificate and key. */
int	http_endpoint_tls(struct http_endpoint *, const char *ca,
	    const char *cert, const char *key, char *err, size_t errlen);
/* Sends "Authorization: Bearer token" with every request. */
int	http_endpoint_token(struct http_endpoint *, const char *token,
	    char *err, size_t errlen);

/*
 * Returns 0 with the response filled, or -1 with a message in err when the
 * endpoint cannot be reached or the answer is not HTTP. The target is
 * appended to the endpoint's base path.
 */
int	http_request(const struct http_endpoint *, const char *method,
	    const char *target, const char *body, struct http_response *,
	    char *err, size_t errlen);

/*
 * GET target; a 200's body is written to fd as it arrives, up to max
 * bytes (any other status's body is kept in the response, for its error
 * message). A body cut short or over max is an error.
 */
int	http_download(const struct http_endpoint *, const char *target,
	    int fd, uint64_t max, struct http_response *, char *err,
	    size_t errlen);

void	http_response_free(struct http_response *);

#endif
