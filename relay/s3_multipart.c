/*
 * Multipart uploads (s3.h): initiate, upload each part with its own
 * digest, complete, and abort on failure, so that parts are not left
 * behind to cost storage. s3_put_fd() takes this path above the part
 * size; the steps are exported for tests and for resuming.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "errbuf.h"
#include "s3_request.h"

enum s3_result
s3_multipart_begin(struct s3_client *c, const char *key, char *upload_id,
    size_t upload_id_len, char *err, size_t errlen)
{
	static const struct s3_pair	 query[] = { { "uploads", "" } };
	struct s3_request		 r;
	enum s3_result			 result;
	char				 what[256], *body;
	size_t				 len;

	if (s3_request_check_key(key, err, errlen) != S3_OK ||
	    s3_request_begin(&r, "POST", key, err, errlen) < 0)
		return S3_LOCAL;
	r.query = query;
	r.query_count = 1;
	r.body_data = "";
	s3_request_name(what, sizeof what, "POST ?uploads", key);
	result = s3_request_perform(c, &r, what, err, errlen);
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
	s3_request_end(&r);
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
	if (s3_request_hash_range(fd, offset, len, hex) < 0) {
		errbuf_set(err, errlen, "PUT %s part %d: reading the file: %s",
		    key, part_number, strerror(errno));
		return S3_LOCAL;
	}
	if (s3_request_begin(&r, "PUT", key, err, errlen) < 0)
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
	result = s3_request_perform(c, &r, what, err, errlen);
	if (result == S3_OK) {
		if (r.etag[0] == '\0' || (size_t)snprintf(etag, etag_len,
		    "%s", r.etag) >= etag_len) {
			errbuf_set(err, errlen, "%s: no usable ETag", what);
			result = S3_REFUSED;
		}
	}
	s3_request_end(&r);
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
	if (s3_request_begin(&r, "POST", key, err, errlen) < 0)
		goto end;
	query[0] = (struct s3_pair){ "uploadId", upload_id };
	r.query = query;
	r.query_count = 1;
	r.body_data = body;
	r.body_len = len;
	r.body_sha256 = hex;
	r.content_type = "application/xml";
	s3_request_name(what, sizeof what, "POST ?uploadId", key);
	result = s3_request_perform(c, &r, what, err, errlen);
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
	s3_request_end(&r);
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

	if (s3_request_begin(&r, "DELETE", key, err, errlen) < 0)
		return S3_LOCAL;
	query[0] = (struct s3_pair){ "uploadId", upload_id };
	r.query = query;
	r.query_count = 1;
	s3_request_name(what, sizeof what, "DELETE ?uploadId", key);
	result = s3_request_perform(c, &r, what, err, errlen);
	s3_request_end(&r);
	/* Gone already (completed or aborted): nothing left to abort. */
	return result == S3_NOT_FOUND ? S3_OK : result;
}

enum s3_result
s3_multipart_put(struct s3_client *c, const char *key, int fd, uint64_t size,
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
