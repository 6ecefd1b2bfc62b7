/*
 * The S3 client (s3.h): requests signed by s3_sign.c, carried by libcurl.
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
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <event2/buffer.h>

#include "errbuf.h"
#include "s3.h"

#define S3_BODY_MAX		(4 << 20)	/* an XML answer we keep */
#define S3_READ_CHUNK		(1 << 20)
#define S3_DEFAULT_PART_SIZE	(64ULL << 20)
#define S3_UPLOAD_ID_MAX	512

struct s3_client {
	CURL		*curl;
	char		*endpoint;
	char		*host;		/* the Host header: endpoint's authority */
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
	struct evbuffer		*response;
	long			 status;
	char			 etag[80];
	uint64_t		 content_length;
	int			 has_content_length;
	int			 is_head;
};

static pthread_once_t	 curl_once = PTHREAD_ONCE_INIT;
static CURLcode		 curl_init_code;

static void
curl_init(void)
{
	curl_init_code = curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *
s3_result_name(enum s3_result result)
{
	switch (result) {
	case S3_OK:
		return "ok";
	case S3_NOT_FOUND:
		return "not found";
	case S3_UNAVAILABLE:
		return "store unavailable";
	case S3_REFUSED:
		return "refused";
	case S3_LOCAL:
		return "local error";
	}
	return "?";
}

int
s3_credentials_load(const char *path, char *access_key, char *secret_key,
    size_t len, char *err, size_t errlen)
{
	FILE		*f;
	struct stat	 st;
	char		 line[1024], *name, *value, *end;
	int		 lineno = 0, rc = -1;

	access_key[0] = secret_key[0] = '\0';
	if ((f = fopen(path, "re")) == NULL) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) < 0 || (st.st_mode & 077) != 0) {
		errbuf_set(err, errlen, "%s: readable by others (mode %03o); "
		    "chmod 600 it", path, (unsigned)(st.st_mode & 0777));
		goto end;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		name = line + strspn(line, " \t");
		if (*name == '#' || *name == '\n' || *name == '\0')
			continue;
		if ((value = strchr(name, '=')) == NULL) {
			errbuf_set(err, errlen, "%s:%d: expected name = value",
			    path, lineno);
			goto end;
		}
		for (end = value; end > name && (end[-1] == ' ' ||
		    end[-1] == '\t'); end--)
			;
		*end = '\0';
		value++;
		value += strspn(value, " \t");
		value[strcspn(value, " \t\r\n")] = '\0';
		if (strlen(value) >= len || strlen(value) == 0) {
			errbuf_set(err, errlen, "%s:%d: empty or too long value",
			    path, lineno);
			goto end;
		}
		if (strcmp(name, "access_key") == 0)
			snprintf(access_key, len, "%s", value);
		else if (strcmp(name, "secret_key") == 0)
			snprintf(secret_key, len, "%s", value);
		else {
			errbuf_set(err, errlen, "%s:%d: unknown key %s", path,
			    lineno, name);
			goto end;
		}
	}
	if (access_key[0] == '\0' || secret_key[0] == '\0') {
		errbuf_set(err, errlen, "%s: needs access_key and secret_key",
		    path);
		goto end;
	}
	rc = 0;
end:
	OPENSSL_cleanse(line, sizeof line);
	fclose(f);
	return rc;
}

struct s3_client *
s3_client_new(const struct s3_config *config, char *err, size_t errlen)
{
	struct s3_client	*c;
	const char		*authority;
	size_t			 len;

	pthread_once(&curl_once, curl_init);
	if (curl_init_code != CURLE_OK) {
		errbuf_set(err, errlen, "libcurl: %s",
		    curl_easy_strerror(curl_init_code));
		return NULL;
	}
	if (strncmp(config->endpoint, "http://", 7) == 0)
		authority = config->endpoint + 7;
	else if (strncmp(config->endpoint, "https://", 8) == 0)
		authority = config->endpoint + 8;
	else {
		errbuf_set(err, errlen, "endpoint %s: not http:// or https://",
		    config->endpoint);
		return NULL;
	}
	len = strcspn(authority, "/");
	if (len == 0 || authority[len] != '\0') {
		errbuf_set(err, errlen, "endpoint %s: host[:port] only, no path",
		    config->endpoint);
		return NULL;
	}
	if (config->bucket == NULL || config->bucket[0] == '\0' ||
	    strchr(config->bucket, '/') != NULL) {
		errbuf_set(err, errlen, "bad bucket name");
		return NULL;
	}
	if (config->part_size != 0 && config->part_size < S3_PART_SIZE_MIN) {
		errbuf_set(err, errlen, "part size below S3's minimum, 5 MiB");
		return NULL;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	c->curl = curl_easy_init();
	c->endpoint = strdup(config->endpoint);
	c->host = strndup(authority, len);
	c->region = strdup(config->region != NULL ? config->region :
	    "us-east-1");
	c->bucket = strdup(config->bucket);
	c->access_key = strdup(config->access_key);
	c->secret_key = strdup(config->secret_key);
	c->ca_file = config->ca_file != NULL ? strdup(config->ca_file) : NULL;
	if (c->curl == NULL || c->endpoint == NULL || c->host == NULL ||
	    c->region == NULL || c->bucket == NULL || c->access_key == NULL ||
	    c->secret_key == NULL ||
	    (config->ca_file != NULL && c->ca_file == NULL)) {
		errbuf_set(err, errlen, "out of memory");
		s3_client_free(c);
		return NULL;
	}
	c->part_size = config->part_size != 0 ? config->part_size :
	    S3_DEFAULT_PART_SIZE;
	c->max_attempts = config->max_attempts > 0 ? config->max_attempts : 4;
	c->backoff_ms = config->backoff_ms != 0 ? config->backoff_ms : 100;
	c->connect_timeout_ms = config->connect_timeout_ms != 0 ?
	    config->connect_timeout_ms : 3000;
	c->stall_timeout_s = config->stall_timeout_s != 0 ?
	    config->stall_timeout_s : 30;
	return c;
}

void
s3_client_free(struct s3_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	if (c->secret_key != NULL) {
		OPENSSL_cleanse(c->secret_key, strlen(c->secret_key));
		free(c->secret_key);
	}
	free(c->endpoint);
	free(c->host);
	free(c->region);
	free(c->bucket);
	free(c->access_key);
	free(c->ca_file);
	free(c);
}

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
		if (sscanf(line, "HTTP/%d.%d %ld", &major, &minor, &status) == 3 ||
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
	if (r->sink != NULL && r->delivered > 0) {
		snprintf(range, sizeof range, "bytes=%" PRIu64 "-",
		    r->delivered);
		headers[n++] = (struct s3_pair){ "range", range };
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

/* A request with its answer buffer; request_end() frees it. */
static int
request_begin(struct s3_request *r, const char *method, const char *key,
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

static void
request_end(struct s3_request *r)
{
	if (r->response != NULL)
		evbuffer_free(r->response);
	r->response = NULL;
}

/*
 * Runs r with retries; what names the request in messages ("PUT key").
 * S3_OK means a 2xx (its body, if not sunk, in r->response); S3_NOT_FOUND
 * a 404; S3_UNAVAILABLE every attempt failed in a way worth retrying.
 */
static enum s3_result
perform(struct s3_client *c, struct s3_request *r, const char *what,
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

static enum s3_result
check_key(const char *key, char *err, size_t errlen)
{
	size_t	 len = strlen(key);

	if (len == 0 || len > S3_KEY_MAX) {
		errbuf_set(err, errlen, "key of %zu bytes (1 to %d)", len,
		    S3_KEY_MAX);
		return S3_LOCAL;
	}
	return S3_OK;
}

/* sha256 of [offset, offset + len) of fd, by pread. */
static int
hash_range(int fd, uint64_t offset, uint64_t len, char *hex)
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

static int
is_sha256_hex(const char *s)
{
	size_t	 i;

	for (i = 0; i < S3_SHA256_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}

static void
name_request(char *what, size_t len, const char *method, const char *key)
{
	snprintf(what, len, "%s %.200s", method, key);
}

static enum s3_result
put_single(struct s3_client *c, const char *key, int fd, const void *data,
    uint64_t size, const char *sha256_hex, char *err, size_t errlen)
{
	struct s3_request	 r;
	enum s3_result		 result;
	char			 hex[S3_SHA256_HEX_LEN + 1], what[256];

	if (sha256_hex != NULL) {
		if (!is_sha256_hex(sha256_hex)) {
			errbuf_set(err, errlen, "PUT %s: bad sha256", key);
			return S3_LOCAL;
		}
		snprintf(hex, sizeof hex, "%s", sha256_hex);
	} else if (data != NULL)
		s3_sign_sha256_hex(data, (size_t)size, hex);
	else if (hash_range(fd, 0, size, hex) < 0) {
		errbuf_set(err, errlen, "PUT %s: reading the file: %s", key,
		    strerror(errno));
		return S3_LOCAL;
	}
	if (request_begin(&r, "PUT", key, err, errlen) < 0)
		return S3_LOCAL;
	r.body_fd = fd;
	r.body_data = data;
	r.body_len = size;
	r.body_sha256 = hex;
	name_request(what, sizeof what, "PUT", key);
	result = perform(c, &r, what, err, errlen);
	request_end(&r);
	return result;
}

enum s3_result
s3_put_buffer(struct s3_client *c, const char *key, const void *data,
    size_t len, char *err, size_t errlen)
{
	if (check_key(key, err, errlen) != S3_OK)
		return S3_LOCAL;
	return put_single(c, key, -1, len > 0 ? data : "", len, NULL, err,
	    errlen);
}

enum s3_result
s3_multipart_begin(struct s3_client *c, const char *key, char *upload_id,
    size_t upload_id_len, char *err, size_t errlen)
{
	static const struct s3_pair	 query[] = { { "uploads", "" } };
	struct s3_request		 r;
	enum s3_result			 result;
	char				 what[256], *body;
	size_t				 len;

	if (check_key(key, err, errlen) != S3_OK ||
	    request_begin(&r, "POST", key, err, errlen) < 0)
		return S3_LOCAL;
	r.query = query;
	r.query_count = 1;
	r.body_data = "";
	name_request(what, sizeof what, "POST ?uploads", key);
	result = perform(c, &r, what, err, errlen);
	if (result == S3_OK) {
		len = evbuffer_get_length(r.response);
		body = (char *)evbuffer_pullup(r.response, -1);
		if (body == NULL || s3_xml_text(body, len, "UploadId",
		    upload_id, upload_id_len) <= 0) {
			errbuf_set(err, errlen, "%s: no UploadId in the answer",
			    what);
			result = S3_REFUSED;
		}
	}
	request_end(&r);
	return result;
}

enum s3_result
s3_multipart_part(struct s3_client *c, const char *key,
    const char *upload_id, int part_number, int fd, uint64_t offset,
    uint64_t len, char *etag, size_t etag_len, char *err, size_t errlen)
{
	struct s3_request	 r;
	struct s3_pair		 query[2];
	enum s3_result		 result;
	char			 number[16], hex[S3_SHA256_HEX_LEN + 1];
	char			 what[256];

	if (part_number < 1 || part_number > S3_PARTS_MAX) {
		errbuf_set(err, errlen, "part number %d (1 to %d)", part_number,
		    S3_PARTS_MAX);
		return S3_LOCAL;
	}
	if (hash_range(fd, offset, len, hex) < 0) {
		errbuf_set(err, errlen, "PUT %s part %d: reading the file: %s",
		    key, part_number, strerror(errno));
		return S3_LOCAL;
	}
	if (request_begin(&r, "PUT", key, err, errlen) < 0)
		return S3_LOCAL;
	snprintf(number, sizeof number, "%d", part_number);
	query[0] = (struct s3_pair){ "partNumber", number };
	query[1] = (struct s3_pair){ "uploadId", upload_id };
	r.query = query;
	r.query_count = 2;
	r.body_fd = fd;
	r.body_offset = offset;
	r.body_len = len;
	r.body_sha256 = hex;
	snprintf(what, sizeof what, "PUT %.200s part %d", key, part_number);
	result = perform(c, &r, what, err, errlen);
	if (result == S3_OK) {
		if (r.etag[0] == '\0' ||
		    (size_t)snprintf(etag, etag_len, "%s", r.etag) >= etag_len) {
			errbuf_set(err, errlen, "%s: no usable ETag", what);
			result = S3_REFUSED;
		}
	}
	request_end(&r);
	return result;
}

enum s3_result
s3_multipart_complete(struct s3_client *c, const char *key,
    const char *upload_id, char *const *etags, int parts, char *err,
    size_t errlen)
{
	struct s3_request	 r;
	struct s3_pair		 query[1];
	struct evbuffer		*xml;
	enum s3_result		 result = S3_LOCAL;
	char			 hex[S3_SHA256_HEX_LEN + 1], what[256];
	char			 code[128], *body;
	size_t			 len;
	int			 i;

	if ((xml = evbuffer_new()) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return S3_LOCAL;
	}
	evbuffer_add_printf(xml, "<CompleteMultipartUpload>");
	for (i = 0; i < parts; i++)
		evbuffer_add_printf(xml, "<Part><PartNumber>%d</PartNumber>"
		    "<ETag>\"%s\"</ETag></Part>", i + 1, etags[i]);
	evbuffer_add_printf(xml, "</CompleteMultipartUpload>");
	len = evbuffer_get_length(xml);
	body = (char *)evbuffer_pullup(xml, -1);
	s3_sign_sha256_hex(body, len, hex);
	if (request_begin(&r, "POST", key, err, errlen) < 0)
		goto end;
	query[0] = (struct s3_pair){ "uploadId", upload_id };
	r.query = query;
	r.query_count = 1;
	r.body_data = body;
	r.body_len = len;
	r.body_sha256 = hex;
	r.content_type = "application/xml";
	name_request(what, sizeof what, "POST ?uploadId", key);
	result = perform(c, &r, what, err, errlen);
	/* Completing may fail after its 200 has been sent: S3 then puts an
	 * <Error> in the body. */
	if (result == S3_OK) {
		len = evbuffer_get_length(r.response);
		body = (char *)evbuffer_pullup(r.response, -1);
		if (body != NULL && s3_xml_text(body, len, "Code", code,
		    sizeof code) > 0) {
			errbuf_set(err, errlen, "%s: %s", what, code);
			result = strstr(code, "InternalError") != NULL ||
			    strstr(code, "SlowDown") != NULL ?
			    S3_UNAVAILABLE : S3_REFUSED;
		}
	}
	request_end(&r);
end:
	evbuffer_free(xml);
	return result;
}

enum s3_result
s3_multipart_abort(struct s3_client *c, const char *key,
    const char *upload_id, char *err, size_t errlen)
{
	struct s3_request	 r;
	struct s3_pair		 query[1];
	enum s3_result		 result;
	char			 what[256];

	if (request_begin(&r, "DELETE", key, err, errlen) < 0)
		return S3_LOCAL;
	query[0] = (struct s3_pair){ "uploadId", upload_id };
	r.query = query;
	r.query_count = 1;
	name_request(what, sizeof what, "DELETE ?uploadId", key);
	result = perform(c, &r, what, err, errlen);
	request_end(&r);
	/* Gone already (completed or aborted): nothing left to abort. */
	return result == S3_NOT_FOUND ? S3_OK : result;
}

static enum s3_result
put_multipart(struct s3_client *c, const char *key, int fd, uint64_t size,
    char *err, size_t errlen)
{
	char		 upload_id[S3_UPLOAD_ID_MAX], **etags = NULL;
	char		 ignored[256];
	uint64_t	 part_size = c->part_size, offset, len;
	int		 parts, i;
	enum s3_result	 result;

	/* Within S3's 10,000 parts, whatever the configured size. */
	while ((size + part_size - 1) / part_size > S3_PARTS_MAX)
		part_size *= 2;
	parts = (int)((size + part_size - 1) / part_size);
	if ((etags = calloc((size_t)parts, sizeof *etags)) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return S3_LOCAL;
	}
	result = s3_multipart_begin(c, key, upload_id, sizeof upload_id, err,
	    errlen);
	if (result != S3_OK)
		goto end;
	for (i = 0; i < parts; i++) {
		offset = (uint64_t)i * part_size;
		len = size - offset < part_size ? size - offset : part_size;
		if ((etags[i] = malloc(80)) == NULL) {
			errbuf_set(err, errlen, "out of memory");
			result = S3_LOCAL;
			break;
		}
		result = s3_multipart_part(c, key, upload_id, i + 1, fd, offset,
		    len, etags[i], 80, err, errlen);
		if (result != S3_OK)
			break;
	}
	if (result == S3_OK)
		result = s3_multipart_complete(c, key, upload_id, etags, parts,
		    err, errlen);
	/* Parts left behind cost storage until aborted: try once, keep the
	 * first error (the sweeper lists and aborts what this misses). */
	if (result != S3_OK)
		s3_multipart_abort(c, key, upload_id, ignored, sizeof ignored);
end:
	for (i = 0; i < parts; i++)
		free(etags[i]);
	free(etags);
	return result;
}

enum s3_result
s3_put_fd(struct s3_client *c, const char *key, int fd, uint64_t size,
    const char *sha256_hex, char *err, size_t errlen)
{
	if (check_key(key, err, errlen) != S3_OK)
		return S3_LOCAL;
	if (size > c->part_size)
		return put_multipart(c, key, fd, size, err, errlen);
	return put_single(c, key, fd, NULL, size, sha256_hex, err, errlen);
}

enum s3_result
s3_get(struct s3_client *c, const char *key, s3_data_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct s3_request	 r;
	enum s3_result		 result;
	char			 what[256];

	if (check_key(key, err, errlen) != S3_OK ||
	    request_begin(&r, "GET", key, err, errlen) < 0)
		return S3_LOCAL;
	r.sink = cb;
	r.sink_arg = arg;
	name_request(what, sizeof what, "GET", key);
	result = perform(c, &r, what, err, errlen);
	request_end(&r);
	return result;
}

enum s3_result
s3_head(struct s3_client *c, const char *key, struct s3_object *object,
    char *err, size_t errlen)
{
	struct s3_request	 r;
	enum s3_result		 result;
	char			 what[256];

	if (check_key(key, err, errlen) != S3_OK ||
	    request_begin(&r, "HEAD", key, err, errlen) < 0)
		return S3_LOCAL;
	name_request(what, sizeof what, "HEAD", key);
	result = perform(c, &r, what, err, errlen);
	if (result == S3_OK) {
		memset(object, 0, sizeof *object);
		object->size = r.content_length;
		snprintf(object->etag, sizeof object->etag, "%s", r.etag);
	}
	request_end(&r);
	return result;
}

enum s3_result
s3_delete(struct s3_client *c, const char *key, char *err, size_t errlen)
{
	struct s3_request	 r;
	enum s3_result		 result;
	char			 what[256];

	if (check_key(key, err, errlen) != S3_OK ||
	    request_begin(&r, "DELETE", key, err, errlen) < 0)
		return S3_LOCAL;
	name_request(what, sizeof what, "DELETE", key);
	result = perform(c, &r, what, err, errlen);
	request_end(&r);
	return result == S3_NOT_FOUND ? S3_OK : result;
}

enum s3_result
s3_check(struct s3_client *c, char *err, size_t errlen)
{
	struct s3_request	 r;
	enum s3_result		 result;
	char			 what[256];

	if (request_begin(&r, "HEAD", NULL, err, errlen) < 0)
		return S3_LOCAL;
	snprintf(what, sizeof what, "HEAD bucket %s", c->bucket);
	result = perform(c, &r, what, err, errlen);
	request_end(&r);
	return result;
}

enum s3_result
s3_list(struct s3_client *c, const char *prefix, s3_object_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct s3_request	 r;
	struct s3_pair		 query[3];
	enum s3_result		 result;
	char			 token[1024], next[1024], *body;
	size_t			 len, n;
	int			 is_truncated, rc;

	token[0] = '\0';
	do {
		if (request_begin(&r, "GET", NULL, err, errlen) < 0)
			return S3_LOCAL;
		n = 0;
		query[n++] = (struct s3_pair){ "list-type", "2" };
		query[n++] = (struct s3_pair){ "prefix", prefix };
		if (token[0] != '\0')
			query[n++] = (struct s3_pair){ "continuation-token",
			    token };
		r.query = query;
		r.query_count = n;
		result = perform(c, &r, "LIST", err, errlen);
		if (result != S3_OK) {
			request_end(&r);
			return result;
		}
		len = evbuffer_get_length(r.response);
		body = (char *)evbuffer_pullup(r.response, -1);
		rc = body == NULL ? -1 : s3_xml_list(body, len, cb, arg,
		    &is_truncated, next, sizeof next);
		request_end(&r);
		if (rc < 0) {
			errbuf_set(err, errlen, "LIST %s: malformed answer",
			    prefix);
			return S3_REFUSED;
		}
		if (rc > 0) {
			errbuf_set(err, errlen, "LIST %s: stopped by the caller",
			    prefix);
			return S3_LOCAL;
		}
		snprintf(token, sizeof token, "%s", next);
	} while (is_truncated);
	return S3_OK;
}
