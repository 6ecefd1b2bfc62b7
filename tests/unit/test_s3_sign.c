/*
 * Unit tests of relay/s3_sign.c against AWS's published Signature
 * Version 4 examples: the generic test suite (service "service",
 * 20150830T123600Z) and the S3 documentation's four examples
 * (examplebucket, 20130524T000000Z). Data only: the expected signatures
 * are those the documents print.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "s3.h"

#define SUITE_ACCESS	"AKIDEXAMPLE"
#define SUITE_SECRET	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define S3_ACCESS	"AKIAIOSFODNN7EXAMPLE"
#define S3_SECRET	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static const char *
signature_of(const char *authorization)
{
	const char	*p = strstr(authorization, "Signature=");

	assert_non_null(p);
	return p + 10;
}

static void
sign_suite(const char *method, const struct s3_pair *query, size_t count,
    const char *expected)
{
	struct s3_pair		 headers[] = {
		{ "Host", "example.amazonaws.com" },
		{ "X-Amz-Date", "20150830T123600Z" },
	};
	struct s3_sign_request	 r = {
		.method = method, .path = "/", .query = query,
		.query_count = count, .headers = headers, .header_count = 2,
		.payload_sha256 = S3_EMPTY_SHA256, .region = "us-east-1",
		.service = "service", .access_key = SUITE_ACCESS,
		.secret_key = SUITE_SECRET, .amz_date = "20150830T123600Z",
	};
	char			 authorization[512], err[128];

	assert_int_equal(s3_sign(&r, authorization, sizeof authorization,
	    NULL, 0, err, sizeof err), 0);
	assert_string_equal(signature_of(authorization), expected);
	assert_non_null(strstr(authorization, "Credential=AKIDEXAMPLE/"
	    "20150830/us-east-1/service/aws4_request, "
	    "SignedHeaders=host;x-amz-date, "));
}

/* get-vanilla, post-vanilla, get-vanilla-query-order-key-case. */
static void
test_suite_vectors(void **state)
{
	struct s3_pair	 query[] = {
		{ "Param2", "value2" }, { "Param1", "value1" },
	};

	(void)state;
	sign_suite("GET", NULL, 0,
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	sign_suite("POST", NULL, 0,
	    "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
	/* The query arrives unsorted: the canonical one is sorted. */
	sign_suite("GET", query, 2,
	    "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

static void
sign_s3(const char *method, const char *path, const struct s3_pair *query,
    size_t query_count, const struct s3_pair *headers, size_t header_count,
    const char *payload, const char *signed_names, const char *expected)
{
	struct s3_sign_request	 r = {
		.method = method, .path = path, .query = query,
		.query_count = query_count, .headers = headers,
		.header_count = header_count, .payload_sha256 = payload,
		.region = "us-east-1", .service = "s3",
		.access_key = S3_ACCESS, .secret_key = S3_SECRET,
		.amz_date = "20130524T000000Z",
	};
	char			 authorization[512], err[128], want[256];

	assert_int_equal(s3_sign(&r, authorization, sizeof authorization,
	    NULL, 0, err, sizeof err), 0);
	assert_string_equal(signature_of(authorization), expected);
	snprintf(want, sizeof want, "SignedHeaders=%s,", signed_names);
	assert_non_null(strstr(authorization, want));
}

/* S3's "GET Object" example: a Range header among the signed ones. */
static void
test_s3_get_object(void **state)
{
	struct s3_pair	 headers[] = {
		{ "x-amz-date", "20130524T000000Z" },
		{ "Range", "bytes=0-9" },
		{ "x-amz-content-sha256", S3_EMPTY_SHA256 },
		{ "Host", "examplebucket.s3.amazonaws.com" },
	};

	(void)state;
	sign_s3("GET", "/test.txt", NULL, 0, headers, 4, S3_EMPTY_SHA256,
	    "host;range;x-amz-content-sha256;x-amz-date",
	    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

/* S3's "PUT Object": a key to encode ($), a body's digest, a Date. */
static void
test_s3_put_object(void **state)
{
	char		 payload[S3_SHA256_HEX_LEN + 1];
	struct s3_pair	 headers[] = {
		{ "Host", "examplebucket.s3.amazonaws.com" },
		{ "Date", "Fri, 24 May 2013 00:00:00 GMT" },
		{ "x-amz-date", "20130524T000000Z" },
		{ "x-amz-storage-class", "REDUCED_REDUNDANCY" },
		{ "x-amz-content-sha256", payload },
	};

	(void)state;
	s3_sign_sha256_hex("Welcome to Amazon S3.", 21, payload);
	assert_string_equal(payload,
	    "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
	sign_s3("PUT", "/test$file.text", NULL, 0, headers, 5, payload,
	    "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
	    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

/* "GET Bucket Lifecycle": a query name with an empty value (?lifecycle
 * is signed as "lifecycle=", as ?uploads must be). */
static void
test_s3_get_lifecycle(void **state)
{
	struct s3_pair	 query[] = { { "lifecycle", "" } };
	struct s3_pair	 headers[] = {
		{ "Host", "examplebucket.s3.amazonaws.com" },
		{ "x-amz-date", "20130524T000000Z" },
		{ "x-amz-content-sha256", S3_EMPTY_SHA256 },
	};

	(void)state;
	sign_s3("GET", "/", query, 1, headers, 3, S3_EMPTY_SHA256,
	    "host;x-amz-content-sha256;x-amz-date",
	    "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

/* "Get Bucket (List Objects)": two query parameters, sorted. */
static void
test_s3_list_objects(void **state)
{
	struct s3_pair	 query[] = { { "prefix", "J" }, { "max-keys", "2" } };
	struct s3_pair	 headers[] = {
		{ "Host", "examplebucket.s3.amazonaws.com" },
		{ "x-amz-date", "20130524T000000Z" },
		{ "x-amz-content-sha256", S3_EMPTY_SHA256 },
	};

	(void)state;
	sign_s3("GET", "/", query, 2, headers, 3, S3_EMPTY_SHA256,
	    "host;x-amz-content-sha256;x-amz-date",
	    "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

/* The canonical request holds what the documents show, line by line. */
static void
test_canonical_request(void **state)
{
	struct s3_pair		 query[] = { { "uploads", "" } };
	struct s3_pair		 headers[] = {
		{ "host", "h" }, { "x-amz-meta-a-b", "2" },
		{ "x-amz-meta-a", " 1 " }, { "x-amz-date", "20130524T000000Z" },
	};
	struct s3_sign_request	 r = {
		.method = "POST", .path = "/b/k y", .query = query,
		.query_count = 1, .headers = headers, .header_count = 4,
		.payload_sha256 = S3_EMPTY_SHA256, .region = "r",
		.service = "s3", .access_key = "a", .secret_key = "s",
		.amz_date = "20130524T000000Z",
	};
	char			 authorization[512], canonical[2048], err[128];

	(void)state;
	assert_int_equal(s3_sign(&r, authorization, sizeof authorization,
	    canonical, sizeof canonical, err, sizeof err), 0);
	/* Sorted by name alone: x-amz-meta-a before x-amz-meta-a-b, the
	 * order libcurl 7.88's signer gets wrong; values trimmed. */
	assert_non_null(strstr(canonical, "POST\n/b/k%20y\nuploads=\n"
	    "host:h\nx-amz-date:20130524T000000Z\nx-amz-meta-a:1\n"
	    "x-amz-meta-a-b:2\n\nhost;x-amz-date;x-amz-meta-a;x-amz-meta-a-b\n"
	    S3_EMPTY_SHA256 "\n----\nAWS4-HMAC-SHA256\n20130524T000000Z\n"
	    "20130524/r/s3/aws4_request\n"));
}

static void
test_encode(void **state)
{
	char	 out[256];

	(void)state;
	assert_int_equal(s3_sign_encode("incidents/i-1/node_a/x.y~z", 1, out,
	    sizeof out), 26);
	assert_string_equal(out, "incidents/i-1/node_a/x.y~z");
	s3_sign_encode("a b+c=d&e/f", 1, out, sizeof out);
	assert_string_equal(out, "a%20b%2Bc%3Dd%26e/f");
	s3_sign_encode("a b+c=d&e/f", 0, out, sizeof out);
	assert_string_equal(out, "a%20b%2Bc%3Dd%26e%2Ff");
	/* UTF-8 byte by byte, upper-case hex; '*' and '$' encoded. */
	s3_sign_encode("\xc3\xa4*$", 1, out, sizeof out);
	assert_string_equal(out, "%C3%A4%2A%24");
	/* Keys S3 would keep as they are: never normalized. */
	s3_sign_encode("a//b/../c", 1, out, sizeof out);
	assert_string_equal(out, "a//b/../c");
	/* Too small: refused, never cut. */
	assert_int_equal(s3_sign_encode("abc", 1, out, 3), -1);
	assert_int_equal(s3_sign_encode(" ", 1, out, 3), -1);
	assert_int_equal(s3_sign_encode(" ", 1, out, 4), 3);
}

static void
test_query(void **state)
{
	struct s3_pair	 query[] = {
		{ "uploadId", "2~a/b+c" }, { "partNumber", "10" },
		{ "prefix", "" }, { "a", "2" }, { "a", "1" },
	};
	char		 out[256];

	(void)state;
	assert_int_equal(s3_sign_query(query, 5, out, sizeof out), 0);
	assert_string_equal(out,
	    "a=1&a=2&partNumber=10&prefix=&uploadId=2~a%2Fb%2Bc");
	assert_int_equal(s3_sign_query(query, 5, out, 10), -1);
	assert_int_equal(s3_sign_query(NULL, 0, out, sizeof out), 0);
	assert_string_equal(out, "");
}

static void
test_amz_date(void **state)
{
	char	 out[20];

	(void)state;
	s3_sign_amz_date(1440938160, out, sizeof out);
	assert_string_equal(out, "20150830T123600Z");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suite_vectors),
		cmocka_unit_test(test_s3_get_object),
		cmocka_unit_test(test_s3_put_object),
		cmocka_unit_test(test_s3_get_lifecycle),
		cmocka_unit_test(test_s3_list_objects),
		cmocka_unit_test(test_canonical_request),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_amz_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
