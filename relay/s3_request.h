/*
 * What the S3 client's files share and nothing else sees: the client,
 * one request as its attempts share it, and the transport (s3_request.c)
 * that signs, sends and retries it. s3.h is the interface.
 */
#ifndef TT_S3_REQUEST_H
#define TT_S3_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <event2/buffer.h>

#include "s3.h"

#define S3_BODY_MAX		(4 << 20)	/* an XML answer we keep */
#define S3_READ_CHUNK		(1 << 20)
#define S3_DEFAULT_PART_SIZE	(64ULL << 20)
#define S3_UPLOAD_ID_MAX	512

struct s3_client {
	CURL		*curl;
	char		*endpoint;
	char		*host;		/* Host: the endpoint's authority */
	char		*region;
	char		*bucket;
	char		*access_key;
	char		*secret_key;
	char		*ca_file;
	uint64_t	 part_size;
	int		 max_attempts;
	unsigned	 backoff_ms;
	unsigned	 connect_timeout_ms;
	unsigned	 stall_timeout_s;
};

/* One request, as its attempts share it. */
struct s3_request {
	const char		*method;
	const char		*key;		/* NULL: the bucket itself */
	const struct s3_pair	*query;
	size_t			 query_count;
	const char		*content_type;

	/* The body: from fd (pread) or from memory. */
	int			 body_fd;
	const char		*body_data;
	uint64_t		 body_offset;
	uint64_t		 body_len;
	const char		*body_sha256;
	uint64_t		 body_sent;

	/* The answer: to sink (a GET's body) or kept in response. */
	s3_data_cb		 sink;
	void			*sink_arg;
	int			 is_sink_failed;
	uint64_t		 delivered;	/* bytes handed to sink */
	uint64_t		 range_from;	/* this try's Range, or 0 */
	/* The first answer's ETag, quoted: a resume's If-Match. */
	char			 first_etag[84];
	int			 is_resume_refused;
	struct evbuffer		*response;
	long			 status;
	char			 etag[80];
	uint64_t		 content_length;
	int			 has_content_length;
};

/* A request with its answer buffer; s3_request_end() frees it. */
int	s3_request_begin(struct s3_request *r, const char *method,
	    const char *key, char *err, size_t errlen);
void	s3_request_end(struct s3_request *r);
/*
 * Runs r with retries; what names the request in messages ("PUT key").
 * S3_OK means a 2xx (its body, if not sunk, in r->response); S3_NOT_FOUND
 * a 404; S3_UNAVAILABLE every attempt failed in a way worth retrying.
 */
enum s3_result s3_request_perform(struct s3_client *c, struct s3_request *r,
	    const char *what, char *err, size_t errlen);
enum s3_result s3_request_check_key(const char *key, char *err,
	    size_t errlen);
/* sha256 of [offset, offset + len) of fd, by pread; -1 with errno. */
int	s3_request_hash_range(int fd, uint64_t offset, uint64_t len,
	    char *hex);
int	s3_request_is_sha256(const char *s);
void	s3_request_name(char *what, size_t len, const char *method,
	    const char *key);

/* s3_multipart.c: size bytes of fd in parts of the client's part size. */
enum s3_result s3_multipart_put(struct s3_client *c, const char *key,
	    int fd, uint64_t size, char *err, size_t errlen);

#endif
