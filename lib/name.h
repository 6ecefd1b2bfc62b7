/*
 * Names that become one path component: node names, snapshot ids,
 * incident ids. [A-Za-z0-9._-], 1 to max_len bytes, not starting with '.'
 * (which also rules out "." and ".." and hidden files). Whatever a peer
 * sends is checked with this before a path is built from it.
 */
#ifndef TT_NAME_H
#define TT_NAME_H

#include <stddef.h>

int	name_is_valid(const char *name, size_t max_len);
/*
 * Valid names joined by single slashes, shorter than PATH_MAX: relative,
 * no "." or ".." component, nothing that escapes the dir it is read in.
 */
int	name_is_valid_path(const char *path, size_t max_len);

#endif
