/*
 * The S3 client's transport (s3_request.h): one request signed by
 * s3_sign.c, sent by libcurl, tried again after a jittered, doubling delay
 * when the failure is worth it.
 *
 * Why libcurl as the transport and our own signer (s3_sign.c says why not
 * curl's): libcurl gives keep-alive, TLS with the system's or a given CA,
 * connect and stall timeouts and Content-Length uploads from a callback,
 * all of which an HTTP client of our own would have to grow; the relay
 * links OpenSSL already, and so does Debian's libcurl4-openssl.
 *
 * Each request is built once per attempt: the date and signature are
 * fresh, the body is read again from its start (pread on the caller's
 * fd, never its file position), and a GET cut in the middle resumes with
 * a Range from the last byte handed to the caller, so a retried transfer
 * never hands a byte twice. Requests use path-style URLs
 * (endpoint/bucket/key), which radosgw, MinIO and AWS all accept.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "errbuf.h"
#include "s3_request.h"

static size_t
read_body(char *buf, size_t size, size_t nitems, void *arg)
{
	struct s3_request	*r = arg;
	uint64_t		 left = r->body_len - r->body_sent;
	size_t			 want = size * nitems;
	ssize_t			 n;

	if (want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	if (r->body_data != NULL) {
		memcpy(buf, r->body_data + r->body_sent, want);
		n = (ssize_t)want;
	} else {
		do {
			n = pread(r->body_fd, buf, want,
			    (off_t)(r->body_offset + r->body_sent));
		} while (n < 0 && errno == EINTR);
		/* A file shorter than it was said to be is our error. */
		if (n <= 0) {
			r->is_sink_failed = 1;
			return CURL_READFUNC_ABORT;
		}
	}
	r->body_sent += (uint64_t)n;
	return (size_t)n;
}

static size_t
write_body(char *data, size_t size, size_t nitems, void *arg)
{
	struct s3_request	*r = arg;
	size_t			 len = size * nitems;

	/* A resumed GET must get the rest of the same object, or nothing:
	 * a 200 would hand the caller its first bytes twice. */
	if (r->sink != NULL && r->range_from > 0 && r->status >= 200 &&
	    r->status < 300 && r->status != 206) {
		r->is_resume_refused = 1;
		return 0;
	}
	/* An error's XML is kept; a success's body goes to the sink. */
	if (r->sink != NULL && r->status >= 200 && r->status < 300) {
		if (r->sink(data, len, r->sink_arg) != 0) {
			r->is_sink_failed = 1;
			return 0;
		}
		r->delivered += len;
		return len;
	}
	if (evbuffer_get_length(r->response) + len > S3_BODY_MAX)
		return 0;
	evbuffer_add(r->response, data, len);
	return len;
}

static size_t
read_header(char *line, size_t size, size_t nitems, void *arg)
{
	struct s3_request	*r = arg;
	size_t			 len = size * nitems, n;
	char			 value[128], *p;
	int			 major, minor;
	long			 status;

	/* A status line starts each answer (a 100 Continue, then the real). */
	if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
		if (sscanf(line, "HTTP/%d.%d %ld", &major, &minor,
		    &status) == 3 ||
		    sscanf(line, "HTTP/%d %ld", &major, &status) == 2)
			r->status = status;
		return len;
	}
	if ((p = memchr(line, ':', len)) == NULL)
		return len;
	n = len - (size_t)(p + 1 - line);
	if (n >= sizeof value)
		return len;
	memcpy(value, p + 1, n);
	value[n] = '\0';
	p = value + strspn(value, " \t\"");
	p[strcspn(p, "\"\r\n")] = '\0';
	if (strncasecmp(line, "etag:", 5) == 0)
		snprintf(r->etag, sizeof r->etag, "%s", p);
	else if (strncasecmp(line, "content-length:", 15) == 0) {
		r->content_length = strtoull(p, NULL, 10);
		r->has_content_length = 1;
	}
	return len;
}

static void
backoff(struct s3_client *c, int attempt)
{
	struct timespec	 ts;
	uint64_t	 ms = (uint64_t)c->backoff_ms << (attempt - 1);
	unsigned short	 r = 0;

	/* Full jitter over the upper half, so relays don't retry in step. */
	RAND_bytes((unsigned char *)&r, sizeof r);
	ms = ms / 2 + (ms / 2) * r / 65535;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The S3 error's code and message from its XML, for err. */
static void
describe_error(struct s3_request *r, char *out, size_t outlen)
{
	char	 code[128], message[256];
	size_t	 len = evbuffer_get_length(r->response);
	char	*body = (char *)evbuffer_pullup(r->response, -1);

	if (len == 0 || body == NULL ||
	    s3_xml_text(body, len, "Code", code, sizeof code) <= 0) {
		snprintf(out, outlen, "HTTP %ld", r->status);
		return;
	}
	if (s3_xml_text(body, len, "Message", message, sizeof message) > 0)
		snprintf(out, outlen, "HTTP %ld %s: %s", r->status, code,
		    message);
	else
		snprintf(out, outlen, "HTTP %ld %s", r->status, code);
}

/* One attempt; the CURLcode, r->status and r->response tell how it went. */
static CURLcode
attempt(struct s3_client *c, struct s3_request *r, char *err, size_t errlen)
{
	struct curl_slist	*list = NULL;
	struct s3_pair		 headers[8];
	struct s3_sign_request	 sign;
	size_t			 n = 0, url_len;
	char			 amz_date[20], range[48], *path = NULL;
	char			*url = NULL, *encoded = NULL, *query = NULL;
	char			 authorization[512], line[640];
	CURLcode		 rc = CURLE_OUT_OF_MEMORY;
	CURL			*h = c->curl;

	r->status = 0;
	r->etag[0] = '\0';
	r->has_content_length = 0;
	r->body_sent = 0;
	evbuffer_drain(r->response, evbuffer_get_length(r->response));

	url_len = strlen(c->bucket) + (r->key != NULL ? strlen(r->key) : 0) +
	    4;
	if ((path = malloc(url_len)) == NULL ||
	    (encoded = malloc(url_len * 3)) == NULL ||
	    (query = malloc(8192)) == NULL)
		goto end;
	snprintf(path, url_len, "/%s%s%s", c->bucket, r->key != NULL ? "/" : "",
	    r->key != NULL ? r->key : "");
	if (s3_sign_encode(path, 1, encoded, url_len * 3) < 0 ||
	    s3_sign_query(r->query, r->query_count, query, 8192) < 0) {
		errbuf_set(err, errlen, "key or query too long");
		rc = CURLE_URL_MALFORMAT;
		goto end;
	}
	if (asprintf(&url, "%s%s%s%s", c->endpoint, encoded,
	    query[0] != '\0' ? "?" : "", query) < 0) {
		url = NULL;
		goto end;
	}

	s3_sign_amz_date(time(NULL), amz_date, sizeof amz_date);
	headers[n++] = (struct s3_pair){ "host", c->host };
	headers[n++] = (struct s3_pair){ "x-amz-date", amz_date };
	headers[n++] = (struct s3_pair){ "x-amz-content-sha256",
	    r->body_sha256 != NULL ? r->body_sha256 : S3_EMPTY_SHA256 };
	if (r->content_type != NULL)
		headers[n++] = (struct s3_pair){ "content-type",
		    r->content_type };
	r->range_from = 0;
	if (r->sink != NULL && r->delivered > 0) {
		snprintf(range, sizeof range, "bytes=%" PRIu64 "-",
		    r->delivered);
		headers[n++] = (struct s3_pair){ "range", range };
		r->range_from = r->delivered;
		/* The same object, not one written since: 412 otherwise. */
		if (strlen(r->first_etag) > 2)
			headers[n++] = (struct s3_pair){ "if-match",
			    r->first_etag };
	}
	sign = (struct s3_sign_request){
		.method = r->method, .path = path, .query = r->query,
		.query_count = r->query_count, .headers = headers,
		.header_count = n,
		.payload_sha256 = headers[2].value, .region = c->region,
		.service = "s3", .access_key = c->access_key,
		.secret_key = c->secret_key, .amz_date = amz_date,
	};
	if (s3_sign(&sign, authorization, sizeof authorization, NULL, 0, err,
	    errlen) < 0) {
		rc = CURLE_URL_MALFORMAT;
		goto end;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(line, sizeof line, "%s: %s", headers[i].name,
		    headers[i].value);
		list = curl_slist_append(list, line);
	}
	snprintf(line, sizeof line, "Authorization: %s", authorization);
	list = curl_slist_append(list, line);
	/* No 100-continue round trip, and no form type on a POST. */
	list = curl_slist_append(list, "Expect:");
	if (r->content_type == NULL)
		list = curl_slist_append(list, "Content-Type:");
	if (list == NULL)
		goto end;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)c->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)c->stall_timeout_s);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, read_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
	curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (strcmp(r->method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)r->body_len);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_body);
		curl_easy_setopt(h, CURLOPT_READDATA, r);
	} else if (strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)r->body_len);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_body);
		curl_easy_setopt(h, CURLOPT_READDATA, r);
	} else if (strcmp(r->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
end:
	curl_slist_free_all(list);
	OPENSSL_cleanse(authorization, sizeof authorization);
	free(path);
	free(encoded);
	free(query);
	free(url);
	return rc;
}

static int
is_retryable_status(long status)
{
	return status >= 500 || status == 429 || status == 408;
}

/* A request with its answer buffer; s3_request_end() frees it. */
int
s3_request_begin(struct s3_request *r, const char *method, const char *key,
    char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	r->method = method;
	r->key = key;
	r->body_fd = -1;
	if ((r->response = evbuffer_new()) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void
s3_request_end(struct s3_request *r)
{
	if (r->response != NULL)
		evbuffer_free(r->response);
	r->response = NULL;
}

enum s3_result
s3_request_perform(struct s3_client *c, struct s3_request *r, const char *what,
    char *err, size_t errlen)
{
	struct timespec	 t0, t1;
	char		 why[384];
	CURLcode	 rc;
	int		 n;
	uint64_t	 delivered_before;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	why[0] = '\0';
	for (n = 1; n <= c->max_attempts; n++) {
		if (n > 1)
			backoff(c, n - 1);
		delivered_before = r->delivered;
		rc = attempt(c, r, err, errlen);
		if (r->delivered > 0 && r->first_etag[0] == '\0')
			snprintf(r->first_etag, sizeof r->first_etag, "\"%s\"",
			    r->etag);
		if (r->is_resume_refused) {
			errbuf_set(err, errlen, "%s: the store answered a "
			    "resumed GET with the whole object (HTTP %ld)",
			    what, r->status);
			return S3_REFUSED;
		}
		if (r->is_sink_failed) {
			if (r->sink == NULL)
				errbuf_set(err, errlen, "%s: reading the file "
				    "failed (shorter than %" PRIu64 " bytes?)",
				    what, r->body_len);
			else
				errbuf_set(err, errlen, "%s: the receiver "
				    "stopped", what);
			return S3_LOCAL;
		}
		if (rc == CURLE_URL_MALFORMAT)
			return S3_LOCAL;
		if (rc == CURLE_OUT_OF_MEMORY) {
			errbuf_set(err, errlen, "out of memory");
			return S3_LOCAL;
		}
		if (rc != CURLE_OK) {
			snprintf(why, sizeof why, "%s", curl_easy_strerror(rc));
			/* A resumed GET that moved forward earns its tries
			 * back: only cuts without progress count. */
			if (r->delivered > delivered_before)
				n = 1;
			continue;
		}
		if (r->status >= 200 && r->status < 300)
			return S3_OK;
		describe_error(r, why, sizeof why);
		if (r->status == 412 && r->range_from > 0)
			snprintf(why, sizeof why, "the object changed while "
			    "it was read (HTTP 412 on resuming)");
		if (!is_retryable_status(r->status))
			break;
	}
	if (n > c->max_attempts) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		errbuf_set(err, errlen, "store unavailable: %s at %s: %s "
		    "(%d attempt%s in %.1f s)", what, c->endpoint, why,
		    c->max_attempts, c->max_attempts > 1 ? "s" : "",
		    (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		return S3_UNAVAILABLE;
	}
	errbuf_set(err, errlen, "%s: %s", what, why);
	return r->status == 404 ? S3_NOT_FOUND : S3_REFUSED;
}

enum s3_result
s3_request_check_key(const char *key, char *err, size_t errlen)
{
	size_t	 len = strlen(key);

	if (len == 0 || len > S3_KEY_MAX) {
		errbuf_set(err, errlen, "key of %zu bytes (1 to %d)", len,
		    S3_KEY_MAX);
		return S3_LOCAL;
	}
	return S3_OK;
}

int
s3_request_hash_range(int fd, uint64_t offset, uint64_t len, char *hex)
{
	EVP_MD_CTX	*ctx;
	unsigned char	 digest[32];
	char		*buf;
	ssize_t		 n;
	int		 i, rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if ((buf = malloc(S3_READ_CHUNK)) == NULL)
		goto end;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto end;
	while (len > 0) {
		n = pread(fd, buf, len < S3_READ_CHUNK ? (size_t)len :
		    S3_READ_CHUNK, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto end;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		offset += (uint64_t)n;
		len -= (uint64_t)n;
	}
	if (EVP_DigestFinal_ex(ctx, digest, NULL) != 1)
		goto end;
	for (i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", digest[i]);
	rc = 0;
end:
	free(buf);
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
s3_request_is_sha256(const char *s)
{
	size_t	 i;

	for (i = 0; i < S3_SHA256_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}

void
s3_request_name(char *what, size_t len, const char *method, const char *key)
{
	snprintf(what, len, "%s %.200s", method, key);
}
