/*
 * A minimal blocking HTTP/1.1 client for the recorder's control socket.
 * One request per connection (Connection: close), body read to EOF.
 */
#ifndef TT_HTTP_H
#define TT_HTTP_H

#include <stddef.h>

struct http_response {
	int	 status;
	char	*body;		/* NUL-terminated, malloc'd */
	size_t	 len;
};

/*
 * Returns 0 with the response filled, or -1 with a message in err when the
 * socket cannot be reached or the answer is not HTTP.
 */
int	http_request(const char *socket_path, const char *method,
	    const char *target, const char *body, struct http_response *,
	    char *err, size_t errlen);
void	http_response_free(struct http_response *);

#endif
