/* Names safe as one path component (name.h). */
#include "name.h"

int
name_is_valid(const char *name, size_t max_len)
{
	size_t	 i;
	char	 c;

	if (name == NULL || name[0] == '\0' || name[0] == '.')
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		if (i >= max_len)
			return 0;
		c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}
