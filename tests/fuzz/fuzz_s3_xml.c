/* libFuzzer target: S3's XML answers (a ListObjectsV2 page, an error). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "s3.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
check_object(const struct s3_object *object, void *arg)
{
	(void)arg;
	if (strlen(object->key) > S3_KEY_MAX ||
	    memchr(object->etag, '\0', sizeof object->etag) == NULL)
		__builtin_trap();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 token[64], text[32];
	int	 is_truncated, n;

	s3_xml_list((const char *)data, size, check_object, NULL,
	    &is_truncated, token, sizeof token);
	if (memchr(token, '\0', sizeof token) == NULL)
		__builtin_trap();
	n = s3_xml_text((const char *)data, size, "Code", text, sizeof text);
	if (n >= (int)sizeof text || (n >= 0 && strlen(text) != (size_t)n))
		__builtin_trap();
	return 0;
}
