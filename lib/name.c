/* Names safe as one path component (name.h). */
#include <limits.h>
#include <string.h>

#include "name.h"

/* The len bytes at name, as one component. */
static int
name_is_valid_part(const char *name, size_t len, size_t max_len)
{
	size_t	 i;
	char	 c;

	if (len == 0 || len > max_len || name[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int
name_is_valid(const char *name, size_t max_len)
{
	return name != NULL &&
	    name_is_valid_part(name, strnlen(name, max_len + 1), max_len);
}

int
name_is_valid_path(const char *path, size_t max_len)
{
	const char	*slash;

	if (path == NULL || strnlen(path, PATH_MAX) == PATH_MAX)
		return 0;
	for (;;) {
		slash = strchr(path, '/');
		if (!name_is_valid_part(path, slash != NULL ?
		    (size_t)(slash - path) : strlen(path), max_len))
			return 0;
		if (slash == NULL)
			return 1;
		path = slash + 1;
	}
}
