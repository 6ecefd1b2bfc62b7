/*
 * The S3 client (s3.h): its configuration and credentials, and the
 * object operations — PUT, GET, HEAD, DELETE, LIST — each one request
 * through the transport (s3_request.c); multipart uploads are in
 * s3_multipart.c, snapshots' layout in the bucket in s3_store.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "errbuf.h"
#include "s3_request.h"

#define S3_BODY_MAX		(4 << 20)	/* an XML answer we keep */
#define S3_READ_CHUNK		(1 << 20)
#define S3_DEFAULT_PART_SIZE	(64ULL << 20)
#define S3_UPLOAD_ID_MAX	512

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
			errbuf_set(err, errlen, "%s:%d: empty or too long "
			    "value", path, lineno);
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
		errbuf_set(err, errlen, "endpoint %s: host[:port] only, no "
		    "path", config->endpoint);
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

static enum s3_result
put_single(struct s3_client *c, const char *key, int fd, const void *data,
    uint64_t size, const char *sha256_hex, char *err, size_t errlen)
{
	struct s3_request	 r;
	enum s3_result		 result;
	char			 hex[S3_SHA256_HEX_LEN + 1], what[256];

	if (sha256_hex != NULL) {
		if (!s3_request_is_sha256(sha256_hex)) {
			errbuf_set(err, errlen, "PUT %s: bad sha256", key);
			return S3_LOCAL;
		}
		snprintf(hex, sizeof hex, "%s", sha256_hex);
	} else if (data != NULL)
		s3_sign_sha256_hex(data, (size_t)size, hex);
	else if (s3_request_hash_range(fd, 0, size, hex) < 0) {
		errbuf_set(err, errlen, "PUT %s: reading the file: %s", key,
		    strerror(errno));
		return S3_LOCAL;
	}
	if (s3_request_begin(&r, "PUT", key, err, errlen) < 0)
		return S3_LOCAL;
	r.body_fd = fd;
	r.body_data = data;
	r.body_len = size;
	r.body_sha256 = hex;
	s3_request_name(what, sizeof what, "PUT", key);
	result = s3_request_perform(c, &r, what, err, errlen);
	s3_request_end(&r);
	return result;
}

enum s3_result
s3_put_buffer(struct s3_client *c, const char *key, const void *data,
    size_t len, char *err, size_t errlen)
{
	if (s3_request_check_key(key, err, errlen) != S3_OK)
		return S3_LOCAL;
	return put_single(c, key, -1, len > 0 ? data : "", len, NULL, err,
	    errlen);
}

enum s3_result
s3_put_fd(struct s3_client *c, const char *key, int fd, uint64_t size,
    const char *sha256_hex, char *err, size_t errlen)
{
	if (s3_request_check_key(key, err, errlen) != S3_OK)
		return S3_LOCAL;
	if (size > c->part_size)
		return s3_multipart_put(c, key, fd, size, err, errlen);
	return put_single(c, key, fd, NULL, size, sha256_hex, err, errlen);
}

enum s3_result
s3_get(struct s3_client *c, const char *key, s3_data_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct s3_request	 r;
	enum s3_result		 result;
	char			 what[256];

	if (s3_request_check_key(key, err, errlen) != S3_OK ||
	    s3_request_begin(&r, "GET", key, err, errlen) < 0)
		return S3_LOCAL;
	r.sink = cb;
	r.sink_arg = arg;
	s3_request_name(what, sizeof what, "GET", key);
	result = s3_request_perform(c, &r, what, err, errlen);
	s3_request_end(&r);
	return result;
}

enum s3_result
s3_head(struct s3_client *c, const char *key, struct s3_object *object,
    char *err, size_t errlen)
{
	struct s3_request	 r;
	enum s3_result		 result;
	char			 what[256];

	if (s3_request_check_key(key, err, errlen) != S3_OK ||
	    s3_request_begin(&r, "HEAD", key, err, errlen) < 0)
		return S3_LOCAL;
	s3_request_name(what, sizeof what, "HEAD", key);
	result = s3_request_perform(c, &r, what, err, errlen);
	if (result == S3_OK) {
		memset(object, 0, sizeof *object);
		object->size = r.content_length;
		snprintf(object->etag, sizeof object->etag, "%s", r.etag);
	}
	s3_request_end(&r);
	return result;
}

enum s3_result
s3_delete(struct s3_client *c, const char *key, char *err, size_t errlen)
{
	struct s3_request	 r;
	enum s3_result		 result;
	char			 what[256];

	if (s3_request_check_key(key, err, errlen) != S3_OK ||
	    s3_request_begin(&r, "DELETE", key, err, errlen) < 0)
		return S3_LOCAL;
	s3_request_name(what, sizeof what, "DELETE", key);
	result = s3_request_perform(c, &r, what, err, errlen);
	s3_request_end(&r);
	return result == S3_NOT_FOUND ? S3_OK : result;
}

enum s3_result
s3_check(struct s3_client *c, char *err, size_t errlen)
{
	struct s3_request	 r;
	enum s3_result		 result;
	char			 what[256];

	if (s3_request_begin(&r, "HEAD", NULL, err, errlen) < 0)
		return S3_LOCAL;
	snprintf(what, sizeof what, "HEAD bucket %s", c->bucket);
	result = s3_request_perform(c, &r, what, err, errlen);
	s3_request_end(&r);
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
		if (s3_request_begin(&r, "GET", NULL, err, errlen) < 0)
			return S3_LOCAL;
		n = 0;
		query[n++] = (struct s3_pair){ "list-type", "2" };
		query[n++] = (struct s3_pair){ "prefix", prefix };
		if (token[0] != '\0')
			query[n++] = (struct s3_pair){ "continuation-token",
			    token };
		r.query = query;
		r.query_count = n;
		result = s3_request_perform(c, &r, "LIST", err, errlen);
		if (result != S3_OK) {
			s3_request_end(&r);
			return result;
		}
		len = evbuffer_get_length(r.response);
		body = (char *)evbuffer_pullup(r.response, -1);
		rc = body == NULL ? -1 : s3_xml_list(body, len, cb, arg,
		    &is_truncated, next, sizeof next);
		s3_request_end(&r);
		if (rc < 0) {
			errbuf_set(err, errlen, "LIST %s: malformed answer",
			    prefix);
			return S3_REFUSED;
		}
		if (rc > 0) {
			errbuf_set(err, errlen, "LIST %s: stopped by the "
			    "caller", prefix);
			return S3_LOCAL;
		}
		snprintf(token, sizeof token, "%s", next);
	} while (is_truncated);
	return S3_OK;
}
