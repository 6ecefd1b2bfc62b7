/*
 * What a manifest may say (store.h): its files[], each a path the store
 * can create without leaving the upload's directory, and bounds on the
 * parts the catalog
 * indexes and the API and pages show, checked when an upload begins, so
 * that one node cannot make every listing slow (24,000 triggers fit in
 * the 1 MiB a manifest may weigh) or feed a page a megabyte of reason.
 * A recorder stays far inside them: it lists at most 256 triggers, each
 * from one datagram of at most 4096 bytes and 32 labels.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store.h"
#include "store_fs.h"
#include "errbuf.h"

/* 9999-12-31T23:59:59.999999Z: what a UTC date can still say. */
#define STORE_TAKEN_AT_MAX	253402300799999999LL

static int
store_compare_paths(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * No path twice, and no path that is also another's directory: either
 * would only fail halfway through the upload otherwise.
 */
static int
store_check_conflicts(const struct store_file *files, size_t count, char *err,
    size_t errlen)
{
	char	**sorted, prefix[STORE_PATH_MAX], *key = prefix, *slash;
	size_t	  i;
	int	  ret = -1;

	if (count == 0)
		return 0;
	if ((sorted = calloc(count, sizeof(*sorted))) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < count; i++)
		sorted[i] = files[i].path;
	qsort(sorted, count, sizeof(*sorted), store_compare_paths);
	for (i = 1; i < count; i++) {
		if (strcmp(sorted[i - 1], sorted[i]) == 0) {
			errbuf_set(err, errlen, "manifest: duplicate path %s",
			    sorted[i]);
			goto end;
		}
	}
	for (i = 0; i < count; i++) {
		snprintf(prefix, sizeof(prefix), "%s", files[i].path);
		while ((slash = strrchr(prefix, '/')) != NULL) {
			*slash = '\0';
			if (bsearch(&key, sorted, count,
			    sizeof(*sorted), store_compare_paths) != NULL) {
				errbuf_set(err, errlen, "manifest: %s is both "
				    "a file and a directory", prefix);
				goto end;
			}
		}
	}
	ret = 0;
end:
	free(sorted);
	return ret;
}

int
store_manifest_files(json_t *files, struct store_file **out, size_t *count,
    uint64_t *total, char *err, size_t errlen)
{
	struct store_file *parsed;
	json_t		*file, *path, *bytes, *sha256;
	const char	*why;
	char		 printable[80];
	size_t		 i;
	uint64_t	 value;

	if (!json_is_array(files)) {
		errbuf_set(err, errlen, "manifest: files is not an array");
		return -1;
	}
	if (json_array_size(files) > STORE_FILES_MAX) {
		errbuf_set(err, errlen, "manifest: %zu files, at most %d",
		    json_array_size(files), STORE_FILES_MAX);
		return -1;
	}
	parsed = calloc(json_array_size(files) + 1, sizeof(*parsed));
	if ((*out = parsed) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return -1;
	}
	json_array_foreach(files, i, file) {
		path = json_object_get(file, "path");
		bytes = json_object_get(file, "bytes");
		sha256 = json_object_get(file, "sha256");
		if (!json_is_string(path)) {
			errbuf_set(err, errlen, "manifest: files[%zu] has no "
			    "path", i);
			return -1;
		}
		if ((why = store_check_path(json_string_value(path))) != NULL) {
			errbuf_set(err, errlen, "manifest: path \"%s\": %s",
			    store_printable(json_string_value(path), printable,
			    sizeof(printable)), why);
			return -1;
		}
		if (!json_is_integer(bytes) || json_integer_value(bytes) < 0) {
			errbuf_set(err, errlen, "manifest: %s: bytes is not a "
			    "non-negative integer", json_string_value(path));
			return -1;
		}
		if (!json_is_string(sha256) ||
		    !store_is_sha256(json_string_value(sha256))) {
			errbuf_set(err, errlen, "manifest: %s: sha256 is not "
			    "64 lowercase hex digits", json_string_value(path));
			return -1;
		}
		value = (uint64_t)json_integer_value(bytes);
		if (*total > UINT64_MAX - value) {
			errbuf_set(err, errlen, "manifest: declared bytes "
			    "overflow");
			return -1;
		}
		*total += value;
		if ((parsed[i].path = strdup(json_string_value(path))) ==
		    NULL) {
			errbuf_set(err, errlen, "out of memory");
			return -1;
		}
		parsed[i].bytes = value;
		memcpy(parsed[i].sha256, json_string_value(sha256),
		    sizeof(parsed[i].sha256));
		*count = i + 1;
	}
	return store_check_conflicts(parsed, *count, err, errlen);
}

/* A string, number, boolean or null. */
static int
store_is_scalar(const json_t *value)
{
	return !json_is_object(value) && !json_is_array(value);
}

/* Why a string is refused, or NULL. */
static const char *
store_check_text(const char *key, const json_t *value)
{
	if (strlen(key) > STORE_KEY_MAX)
		return "a key longer than " STORE_STRINGIFY(STORE_KEY_MAX)
		    " bytes";
	if (json_is_string(value) &&
	    json_string_length(value) > STORE_TEXT_MAX)
		return "a value longer than " STORE_STRINGIFY(STORE_TEXT_MAX)
		    " bytes";
	return NULL;
}

/*
 * An object of scalars (a trigger's labels, its sender), at most
 * STORE_LABELS_MAX of them. NULL, or why not.
 */
static const char *
store_check_flat(const json_t *object)
{
	const char	*key, *why;
	json_t		*value;

	if (json_object_size(object) > STORE_LABELS_MAX)
		return "more than " STORE_STRINGIFY(STORE_LABELS_MAX)
		    " labels";
	json_object_foreach((json_t *)object, key, value) {
		if (!store_is_scalar(value))
			return "a label that is not a string or a number";
		if ((why = store_check_text(key, value)) != NULL)
			return why;
	}
	return NULL;
}

/* One trigger: an object of scalars and flat objects. NULL, or why not. */
static const char *
store_check_trigger(const json_t *trigger)
{
	const char	*key, *why;
	json_t		*value;

	if (!json_is_object(trigger))
		return "not an object";
	if (json_object_size(trigger) > STORE_LABELS_MAX)
		return "more than " STORE_STRINGIFY(STORE_LABELS_MAX)
		    " members";
	json_object_foreach((json_t *)trigger, key, value) {
		if ((why = store_check_text(key, value)) != NULL)
			return why;
		if (json_is_array(value))
			return "an array";
		if (json_is_object(value) &&
		    (why = store_check_flat(value)) != NULL)
			return why;
	}
	return NULL;
}

int
store_manifest_check(const json_t *manifest, char *err, size_t errlen)
{
	const json_t	*triggers, *taken;
	const char	*why;
	size_t		 i;

	taken = json_object_get(manifest, "taken_at_us");
	if (!json_is_integer(taken) || json_integer_value(taken) < 0 ||
	    json_integer_value(taken) > STORE_TAKEN_AT_MAX) {
		errbuf_set(err, errlen, "manifest: taken_at_us is not a time "
		    "in microseconds since 1970 (an integer, 0 to the year "
		    "9999)");
		return -1;
	}
	triggers = json_object_get(manifest, "triggers");
	if (triggers == NULL)
		return 0;
	if (!json_is_array(triggers)) {
		errbuf_set(err, errlen, "manifest: triggers is not an array");
		return -1;
	}
	if (json_array_size(triggers) > STORE_TRIGGERS_MAX) {
		errbuf_set(err, errlen, "manifest: %zu triggers, at most %d",
		    json_array_size(triggers), STORE_TRIGGERS_MAX);
		return -1;
	}
	for (i = 0; i < json_array_size(triggers); i++) {
		if ((why = store_check_trigger(json_array_get(triggers,
		    i))) != NULL) {
			errbuf_set(err, errlen, "manifest: triggers[%zu]: %s",
			    i, why);
			return -1;
		}
	}
	return 0;
}
