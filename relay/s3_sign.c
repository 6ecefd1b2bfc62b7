/*
 * AWS Signature Version 4 for S3, on OpenSSL's HMAC and SHA-256.
 *
 * Why our own signer rather than libcurl's CURLOPT_AWS_SIGV4 (Debian 12's
 * libcurl 7.88 has it): with curl's, the caller still has to compute and
 * send x-amz-content-sha256, pre-encode the key, sort the query and spell
 * `?uploads=` the way the signature expects, and 7.88 sorts x-amz-meta-a
 * after x-amz-meta-a-b (it compares "name:value" strings, not names), so
 * such a request is refused. What is left for curl's signer is the HMAC
 * chain, the easy part; and a signer inside curl cannot be checked
 * against the published test vectors, while this one is, byte for byte
 * (tests/unit/test_s3_sign.c). libcurl stays the transport (s3.c).
 *
 * The canonical request (S3's variant: the path is encoded once, never
 * normalized, since a key may hold "//" or "..") is:
 *   METHOD \n /encoded/path \n sorted&query \n name:value\n... \n
 *   signed;header;names \n payload-sha256-hex
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <event2/buffer.h>

#include "errbuf.h"
#include "s3.h"

#define S3_SIGN_HEADERS_MAX	32
#define S3_SIGN_QUERY_MAX	32

static int
is_unreserved(unsigned char c)
{
	return (isascii(c) && isalnum(c)) || c == '-' || c == '_' ||
	    c == '.' || c == '~';
}

int
s3_sign_encode(const char *in, int is_path, char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	size_t			 n = 0;

	for (p = (const unsigned char *)in; *p != '\0'; p++) {
		if (is_unreserved(*p) || (is_path && *p == '/')) {
			if (n + 1 >= outlen)
				return -1;
			out[n++] = (char)*p;
			continue;
		}
		if (n + 3 >= outlen)
			return -1;
		out[n++] = '%';
		out[n++] = hex[*p >> 4];
		out[n++] = hex[*p & 0xf];
	}
	if (n >= outlen)
		return -1;
	out[n] = '\0';
	return (int)n;
}

struct encoded_pair {
	char	*name;
	char	*value;
};

static int
compare_encoded_pair(const void *a, const void *b)
{
	const struct encoded_pair	*x = a, *y = b;
	int				 c;

	c = strcmp(x->name, y->name);
	return c != 0 ? c : strcmp(x->value, y->value);
}

static char *
encode_alloc(const char *in)
{
	size_t	 len = strlen(in) * 3 + 1;
	char	*out;

	if ((out = malloc(len)) == NULL)
		return NULL;
	if (s3_sign_encode(in, 0, out, len) < 0) {
		free(out);
		return NULL;
	}
	return out;
}

int
s3_sign_query(const struct s3_pair *query, size_t count, char *out,
    size_t outlen)
{
	struct encoded_pair	 pairs[S3_SIGN_QUERY_MAX];
	size_t			 i, n = 0, done = 0;
	int			 rc = -1, w;

	if (outlen == 0 || count > S3_SIGN_QUERY_MAX)
		return -1;
	out[0] = '\0';
	memset(pairs, 0, sizeof pairs);
	for (i = 0; i < count; i++) {
		pairs[i].name = encode_alloc(query[i].name);
		pairs[i].value = encode_alloc(query[i].value != NULL ?
		    query[i].value : "");
		done++;
		if (pairs[i].name == NULL || pairs[i].value == NULL)
			goto end;
	}
	qsort(pairs, count, sizeof pairs[0], compare_encoded_pair);
	for (i = 0; i < count; i++) {
		w = snprintf(out + n, outlen - n, "%s%s=%s", i > 0 ? "&" : "",
		    pairs[i].name, pairs[i].value);
		if (w < 0 || (size_t)w >= outlen - n)
			goto end;
		n += (size_t)w;
	}
	rc = 0;
end:
	for (i = 0; i < done; i++) {
		free(pairs[i].name);
		free(pairs[i].value);
	}
	return rc;
}

void
s3_sign_sha256_hex(const void *data, size_t len, char *out)
{
	unsigned char	 digest[SHA256_DIGEST_LENGTH];
	int		 i;

	SHA256(data, len, digest);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++)
		sprintf(out + 2 * i, "%02x", digest[i]);
	out[S3_SHA256_HEX_LEN] = '\0';
}

void
s3_sign_amz_date(time_t t, char *out, size_t outlen)
{
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y%m%dT%H%M%SZ", &tm);
}

struct lower_header {
	char		 name[64];
	const char	*value;
	size_t		 value_len;
};

static int
compare_header(const void *a, const void *b)
{
	return strcmp(((const struct lower_header *)a)->name,
	    ((const struct lower_header *)b)->name);
}

static int
hmac(const void *key, size_t key_len, const char *data, unsigned char *out)
{
	unsigned int	 len = SHA256_DIGEST_LENGTH;

	return HMAC(EVP_sha256(), key, (int)key_len,
	    (const unsigned char *)data, strlen(data), out, &len) == NULL ?
	    -1 : 0;
}

int
s3_sign(const struct s3_sign_request *r, char *authorization,
    size_t authorization_len, char *canonical, size_t canonical_len,
    char *err, size_t errlen)
{
	struct lower_header	 headers[S3_SIGN_HEADERS_MAX];
	struct evbuffer		*creq = NULL, *signed_names = NULL;
	unsigned char		 key[SHA256_DIGEST_LENGTH];
	unsigned char		 signature[SHA256_DIGEST_LENGTH];
	char			*path = NULL, *query = NULL, *creq_text;
	char			*names_text, *secret = NULL;
	char			 creq_hash[S3_SHA256_HEX_LEN + 1];
	char			 date[9], scope[160], to_sign[512], hex[65];
	size_t			 i, j, len;
	int			 rc = -1, w;

	if (r->header_count > S3_SIGN_HEADERS_MAX ||
	    strlen(r->amz_date) != 16) {
		errbuf_set(err, errlen, "too many headers or a bad date");
		goto end;
	}
	for (i = 0; i < r->header_count; i++) {
		const char	*v = r->headers[i].value;

		len = strlen(r->headers[i].name);
		if (len == 0 || len >= sizeof headers[i].name) {
			errbuf_set(err, errlen, "bad header name");
			goto end;
		}
		for (j = 0; j <= len; j++)
			headers[i].name[j] = (char)tolower(
			    (unsigned char)r->headers[i].name[j]);
		/* Values are trimmed; ours never hold inner runs of spaces. */
		while (*v == ' ' || *v == '\t')
			v++;
		len = strlen(v);
		while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		headers[i].value = v;
		headers[i].value_len = len;
	}
	/* Sorting by name alone: the order curl 7.88 gets wrong. */
	qsort(headers, r->header_count, sizeof headers[0], compare_header);

	len = strlen(r->path) * 3 + 2;
	path = malloc(len);
	len = 64;
	for (i = 0; i < r->query_count; i++)
		len += 3 * (strlen(r->query[i].name) +
		    (r->query[i].value != NULL ? strlen(r->query[i].value) :
		    0)) + 2;
	query = malloc(len);
	creq = evbuffer_new();
	signed_names = evbuffer_new();
	if (path == NULL || query == NULL || creq == NULL ||
	    signed_names == NULL) {
		errbuf_set(err, errlen, "out of memory");
		goto end;
	}
	if (s3_sign_encode(r->path, 1, path, strlen(r->path) * 3 + 2) < 0 ||
	    s3_sign_query(r->query, r->query_count, query, len) < 0) {
		errbuf_set(err, errlen, "path or query too long to sign");
		goto end;
	}
	evbuffer_add_printf(creq, "%s\n%s\n%s\n", r->method, path, query);
	for (i = 0; i < r->header_count; i++) {
		evbuffer_add_printf(creq, "%s:%.*s\n", headers[i].name,
		    (int)headers[i].value_len, headers[i].value);
		evbuffer_add_printf(signed_names, "%s%s", i > 0 ? ";" : "",
		    headers[i].name);
	}
	evbuffer_add(signed_names, "", 1);
	names_text = (char *)evbuffer_pullup(signed_names, -1);
	evbuffer_add_printf(creq, "\n%s\n%s", names_text, r->payload_sha256);
	len = evbuffer_get_length(creq);
	creq_text = (char *)evbuffer_pullup(creq, -1);
	s3_sign_sha256_hex(creq_text, len, creq_hash);

	memcpy(date, r->amz_date, 8);
	date[8] = '\0';
	w = snprintf(scope, sizeof scope, "%s/%s/%s/aws4_request", date,
	    r->region, r->service);
	if (w < 0 || (size_t)w >= sizeof scope) {
		errbuf_set(err, errlen, "region or service too long");
		goto end;
	}
	snprintf(to_sign, sizeof to_sign, "AWS4-HMAC-SHA256\n%s\n%s\n%s",
	    r->amz_date, scope, creq_hash);
	if (canonical != NULL)
		snprintf(canonical, canonical_len, "%.*s\n----\n%s",
		    (int)len, creq_text, to_sign);

	/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region),
	 * service), "aws4_request") */
	if (asprintf(&secret, "AWS4%s", r->secret_key) < 0) {
		secret = NULL;
		errbuf_set(err, errlen, "out of memory");
		goto end;
	}
	if (hmac(secret, strlen(secret), date, key) < 0 ||
	    hmac(key, sizeof key, r->region, key) < 0 ||
	    hmac(key, sizeof key, r->service, key) < 0 ||
	    hmac(key, sizeof key, "aws4_request", key) < 0 ||
	    hmac(key, sizeof key, to_sign, signature) < 0) {
		errbuf_set(err, errlen, "HMAC failed");
		goto end;
	}
	for (i = 0; i < sizeof signature; i++)
		sprintf(hex + 2 * i, "%02x", signature[i]);
	w = snprintf(authorization, authorization_len,
	    "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
	    "Signature=%s", r->access_key, scope, names_text, hex);
	if (w < 0 || (size_t)w >= authorization_len) {
		errbuf_set(err, errlen, "authorization buffer too small");
		goto end;
	}
	rc = 0;
end:
	if (secret != NULL) {
		OPENSSL_cleanse(secret, strlen(secret));
		free(secret);
	}
	OPENSSL_cleanse(key, sizeof key);
	free(path);
	free(query);
	if (creq != NULL)
		evbuffer_free(creq);
	if (signed_names != NULL)
		evbuffer_free(signed_names);
	return rc;
}
