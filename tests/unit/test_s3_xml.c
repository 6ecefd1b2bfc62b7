/*
 * Unit tests of relay/s3_xml.c: S3's answers as radosgw and AWS write
 * them, entities, and the malformed pages a hostile or broken store
 * could send.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "s3.h"

struct seen {
	int	 count;
	char	 keys[4][64];
	uint64_t sizes[4];
	char	 etags[4][80];
};

static int
collect(const struct s3_object *object, void *arg)
{
	struct seen	*seen = arg;

	if (seen->count < 4) {
		snprintf(seen->keys[seen->count], 64, "%s", object->key);
		seen->sizes[seen->count] = object->size;
		snprintf(seen->etags[seen->count], 80, "%s", object->etag);
	}
	seen->count++;
	return 0;
}

static int
stop(const struct s3_object *object, void *arg)
{
	(void)object;
	(void)arg;
	return -1;
}

#define PAGE_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" \
	"<ListBucketResult " \
	"xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"

static void
test_list_page(void **state)
{
	const char	*page = PAGE_HEAD "<Prefix>x/</Prefix><KeyCount>2"
	    "</KeyCount>"
	    "<IsTruncated>true</IsTruncated><NextContinuationToken>t/1+=</"
	    "NextContinuationToken><Contents><Key>x/a&amp;b &lt;&#x263A;&#65;"
	    "</Key><LastModified>2026-12-07T02:26:36.744Z</LastModified><ETag>"
	    "&quot;33ef2b&quot;</ETag><Size>1000000</Size></Contents><Contents>"
	    "<Key>x/big</Key><ETag>\"3fd7-3\"</ETag><Size>0</Size></Contents>"
	    "</ListBucketResult>";
	struct seen	 seen;
	char		 token[64];
	int		 is_truncated;

	(void)state;
	memset(&seen, 0, sizeof seen);
	assert_int_equal(s3_xml_list(page, strlen(page), collect, &seen,
	    &is_truncated, token, sizeof token), 0);
	assert_int_equal(seen.count, 2);
	assert_string_equal(seen.keys[0], "x/a&b <\xe2\x98\xba" "A");
	assert_int_equal(seen.sizes[0], 1000000);
	assert_string_equal(seen.etags[0], "33ef2b");
	assert_string_equal(seen.keys[1], "x/big");
	assert_string_equal(seen.etags[1], "3fd7-3");
	assert_true(is_truncated);
	assert_string_equal(token, "t/1+=");
	assert_int_equal(s3_xml_list(page, strlen(page), stop, NULL,
	    &is_truncated, token, sizeof token), 1);
}

static void
test_list_empty(void **state)
{
	const char	*page = PAGE_HEAD "<Prefix>none/</Prefix><KeyCount>0"
	    "</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>";
	struct seen	 seen;
	char		 token[64];
	int		 is_truncated;

	(void)state;
	memset(&seen, 0, sizeof seen);
	assert_int_equal(s3_xml_list(page, strlen(page), collect, &seen,
	    &is_truncated, token, sizeof token), 0);
	assert_int_equal(seen.count, 0);
	assert_false(is_truncated);
	assert_string_equal(token, "");
}

static void
test_list_malformed(void **state)
{
	static const char	*bad[] = {
		"",
		"<Error><Code>AccessDenied</Code></Error>",
		/* truncated without a token to go on with */
		PAGE_HEAD "<IsTruncated>true</IsTruncated></ListBucketResult>",
		/* a Contents never closed, no key, a size not a number */
		PAGE_HEAD "<Contents><Key>a</Key><Size>1</Size>",
		PAGE_HEAD "<Contents><Size>1</Size></Contents>",
		PAGE_HEAD "<Contents><Key>a</Key><Size>-1</Size></Contents>",
		PAGE_HEAD "<Contents><Key>a</Key><Size>1x</Size></Contents>",
		/* entities: unknown, unterminated, NUL, surrogate */
		PAGE_HEAD "<Contents><Key>&nbsp;</Key><Size>1</Size>"
		    "</Contents>",
		PAGE_HEAD "<Contents><Key>&amp</Key><Size>1</Size></Contents>",
		PAGE_HEAD "<Contents><Key>&#0;</Key><Size>1</Size></Contents>",
		PAGE_HEAD "<Contents><Key>&#xD800;</Key><Size>1</Size>"
		    "</Contents>",
		PAGE_HEAD "<Contents><Key>&#;</Key><Size>1</Size></Contents>",
	};
	const char	*half_token = PAGE_HEAD "<IsTruncated>true"
	    "</IsTruncated><NextContinuationToken>abc&bad;"
	    "</NextContinuationToken>"
	    "</ListBucketResult>";
	struct seen	 seen;
	char		 token[64];
	int		 is_truncated;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&seen, 0, sizeof seen);
		assert_int_equal(s3_xml_list(bad[i], strlen(bad[i]), collect,
		    &seen, &is_truncated, token, sizeof token), -1);
	}
	/* A token that fails half-way leaves no half token behind (the
	 * fuzzer's find). */
	memset(token, 'x', sizeof token);
	assert_int_equal(s3_xml_list(half_token, strlen(half_token), collect,
	    &seen, &is_truncated, token, sizeof token), -1);
	assert_string_equal(token, "");
}

static void
test_text(void **state)
{
	const char	*error = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey"
	    "</Code><Message>no &lt;key&gt;</Message><CodeX>no</CodeX></Error>";
	const char	*upload = "<InitiateMultipartUploadResult><Bucket>b"
	    "</Bucket><Key>k</Key><UploadId>2~abc</UploadId>"
	    "</InitiateMultipartUploadResult>";
	char		 out[16];

	(void)state;
	assert_int_equal(s3_xml_text(error, strlen(error), "Code", out,
	    sizeof out), 9);
	assert_string_equal(out, "NoSuchKey");
	assert_int_equal(s3_xml_text(error, strlen(error), "Message", out,
	    sizeof out), 8);
	assert_string_equal(out, "no <key>");
	assert_int_equal(s3_xml_text(upload, strlen(upload), "UploadId", out,
	    sizeof out), 5);
	assert_string_equal(out, "2~abc");
	/* Absent, too long for out, or cut before its end. */
	assert_int_equal(s3_xml_text(error, strlen(error), "Key", out,
	    sizeof out), -1);
	assert_int_equal(s3_xml_text(upload, strlen(upload),
	    "InitiateMultipartUploadResult", out, sizeof out), -1);
	assert_int_equal(s3_xml_text(upload, 60, "UploadId", out, sizeof out),
	    -1);
	assert_int_equal(s3_xml_text(error, strlen(error), "Code", out, 9),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_page),
		cmocka_unit_test(test_list_empty),
		cmocka_unit_test(test_list_malformed),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
