/*
 * Snapshots in the bucket (s3.h, "s3_store.c"): the layout, the order of
 * writes and deletes that keeps a complete snapshot recognizable, and the
 * orphan sweeper. The keys mirror the local store's paths under a
 * configurable prefix, so an operator finds a snapshot by the same path
 * in either backend.
 *
 * Order: the files first, manifest.json last on PUT; manifest.json first
 * on DELETE. A listing that shows a manifest shows a complete snapshot;
 * a snapshot without one is either in flight or an orphan, and the
 * sweeper tells them apart by the catalog and the objects' age.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "errbuf.h"
#include "s3.h"

#define MANIFEST	"manifest.json"

int
s3_store_key(const char *prefix, const char *path, const char *file,
    char *out, size_t outlen)
{
	int	 n;

	n = snprintf(out, outlen, "%s%s%s%s", prefix != NULL ? prefix : "",
	    path, file != NULL ? "/" : "", file != NULL ? file : "");
	return n < 0 || (size_t)n >= outlen || n > S3_KEY_MAX ? -1 : 0;
}

/* A manifest path relative to the snapshot: no "..", no leading '/'. */
static int
is_relative_path(const char *p)
{
	const char	*c;
	size_t		 len;

	if (*p == '\0' || *p == '/')
		return 0;
	for (c = p; *c != '\0'; c += len + (c[len] == '/')) {
		len = strcspn(c, "/");
		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
	}
	return c[-1] != '/';
}

static enum s3_result
put_file(struct s3_client *c, const char *key, const char *file,
    const char *sha256, uint64_t bytes, char *err, size_t errlen)
{
	struct stat	 st;
	enum s3_result	 result;
	int		 fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		errbuf_set(err, errlen, "%s: %s", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return S3_LOCAL;
	}
	/* The manifest's size and digest were checked on receipt; a file
	 * that changed since is not what the ACK would vouch for. */
	if (sha256 != NULL && (uint64_t)st.st_size != bytes) {
		errbuf_set(err, errlen, "%s: %lld bytes, the manifest says "
		    "%llu", file, (long long)st.st_size,
		    (unsigned long long)bytes);
		close(fd);
		return S3_LOCAL;
	}
	result = s3_put_fd(c, key, fd, (uint64_t)st.st_size, sha256, err,
	    errlen);
	close(fd);
	return result;
}

enum s3_result
s3_store_put_snapshot(struct s3_client *c, const char *prefix,
    const char *path, const char *dir, char *err, size_t errlen)
{
	json_t		*manifest, *files, *file;
	json_error_t	 jerr;
	enum s3_result	 result = S3_LOCAL;
	const char	*rel, *sha256;
	char		 local[4096], key[S3_KEY_MAX + 1];
	size_t		 i;

	snprintf(local, sizeof local, "%s/" MANIFEST, dir);
	if ((manifest = json_load_file(local, 0, &jerr)) == NULL) {
		errbuf_set(err, errlen, "%s: %s", local, jerr.text);
		return S3_LOCAL;
	}
	files = json_object_get(manifest, "files");
	if (!json_is_array(files)) {
		errbuf_set(err, errlen, "%s: no files[]", local);
		goto end;
	}
	json_array_foreach(files, i, file) {
		rel = json_string_value(json_object_get(file, "path"));
		sha256 = json_string_value(json_object_get(file, "sha256"));
		if (rel == NULL || sha256 == NULL || !is_relative_path(rel) ||
		    strcmp(rel, MANIFEST) == 0 ||
		    !json_is_integer(json_object_get(file, "bytes"))) {
			errbuf_set(err, errlen, "%s: files[%zu] malformed",
			    local, i);
			goto end;
		}
		if (s3_store_key(prefix, path, rel, key, sizeof key) < 0 ||
		    (size_t)snprintf(local, sizeof local, "%s/%s", dir, rel) >=
		    sizeof local) {
			errbuf_set(err, errlen, "%s/%s: too long", path, rel);
			goto end;
		}
		result = put_file(c, key, local, sha256, (uint64_t)
		    json_integer_value(json_object_get(file, "bytes")), err,
		    errlen);
		if (result != S3_OK)
			goto end;
	}
	/* Last: its presence marks the snapshot complete. */
	snprintf(local, sizeof local, "%s/" MANIFEST, dir);
	if (s3_store_key(prefix, path, MANIFEST, key, sizeof key) < 0) {
		errbuf_set(err, errlen, "%s: too long", path);
		result = S3_LOCAL;
		goto end;
	}
	result = put_file(c, key, local, NULL, 0, err, errlen);
end:
	json_decref(manifest);
	return result;
}

/* Keys listed for deletion, in listing order. */
struct key_list {
	char	**keys;
	size_t	  count;
	size_t	  size;
};

static int
key_list_add(struct key_list *l, const char *key)
{
	char	**keys;

	if (l->count == l->size) {
		l->size = l->size != 0 ? l->size * 2 : 64;
		if ((keys = realloc(l->keys, l->size * sizeof *keys)) == NULL)
			return -1;
		l->keys = keys;
	}
	if ((l->keys[l->count] = strdup(key)) == NULL)
		return -1;
	l->count++;
	return 0;
}

static void
key_list_truncate(struct key_list *l, size_t count)
{
	while (l->count > count)
		free(l->keys[--l->count]);
}

static enum s3_result
delete_keys(struct s3_client *c, struct key_list *l, size_t from,
    unsigned *deleted, char *err, size_t errlen)
{
	enum s3_result	 result;
	size_t		 i;

	for (i = from; i < l->count; i++) {
		if ((result = s3_delete(c, l->keys[i], err, errlen)) != S3_OK)
			return result;
		if (deleted != NULL)
			(*deleted)++;
	}
	return S3_OK;
}

static int
collect_key(const struct s3_object *object, void *arg)
{
	return key_list_add(arg, object->key);
}

enum s3_result
s3_store_delete_snapshot(struct s3_client *c, const char *prefix,
    const char *path, char *err, size_t errlen)
{
	struct key_list	 keys = { NULL, 0, 0 };
	enum s3_result	 result;
	char		 key[S3_KEY_MAX + 1];

	if (s3_store_key(prefix, path, MANIFEST, key, sizeof key) < 0) {
		errbuf_set(err, errlen, "%s: too long", path);
		return S3_LOCAL;
	}
	if ((result = s3_delete(c, key, err, errlen)) != S3_OK)
		return result;
	/* The rest, found by listing: summary.json and trace/ are not in
	 * the manifest's files[], and a partial upload may have left any. */
	s3_store_key(prefix, path, "", key, sizeof key);
	result = s3_list(c, key, collect_key, &keys, err, errlen);
	if (result == S3_OK)
		result = delete_keys(c, &keys, 0, NULL, err, errlen);
	key_list_truncate(&keys, 0);
	free(keys.keys);
	return result;
}

/* The sweep's state while the listing streams by: keys come sorted, so
 * one snapshot's objects are contiguous. */
struct sweep {
	const char		*prefix;
	size_t			 prefix_len;
	s3_catalogued_cb	 is_catalogued;
	void			*arg;
	time_t			 cutoff;
	struct s3_sweep_stats	*stats;
	struct key_list		 doomed;
	size_t			 group_start;	/* in doomed */
	char			 group[S3_KEY_MAX + 1];
	time_t			 group_newest;
	int			 is_failed;
};

/* "incidents/<i>/<n>/<id>" of a key below the prefix, or -1. */
static int
snapshot_path(const char *rest, char *out, size_t outlen)
{
	const char	*p = rest;
	int		 i;

	if (strncmp(p, "incidents/", 10) != 0)
		return -1;
	p += 10;
	for (i = 0; i < 3; i++) {
		p += strcspn(p, "/");
		if (*p != '/' || p[-1] == '/')
			return -1;
		p++;
	}
	if ((size_t)(p - 1 - rest) >= outlen)
		return -1;
	memcpy(out, rest, (size_t)(p - 1 - rest));
	out[p - 1 - rest] = '\0';
	return 0;
}

static time_t
parse_time(const char *iso)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof tm);
	if (strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return 0;
	return timegm(&tm);
}

/* Decides the group just ended: keep its keys for deletion or drop them. */
static void
close_group(struct sweep *s)
{
	if (s->group[0] == '\0')
		return;
	s->stats->snapshots++;
	if (s->group_newest < s->cutoff &&
	    !s->is_catalogued(s->group, s->arg)) {
		s->stats->orphans++;
		s->group_start = s->doomed.count;
	} else
		key_list_truncate(&s->doomed, s->group_start);
	s->group[0] = '\0';
}

static int
sweep_object(const struct s3_object *object, void *arg)
{
	struct sweep	*s = arg;
	char		 path[S3_KEY_MAX + 1];
	time_t		 t;

	if (snapshot_path(object->key + s->prefix_len, path,
	    sizeof path) < 0) {
		s->stats->foreign++;
		return 0;
	}
	if (strcmp(path, s->group) != 0) {
		close_group(s);
		snprintf(s->group, sizeof s->group, "%s", path);
		s->group_newest = 0;
		s->group_start = s->doomed.count;
	}
	t = parse_time(object->last_modified);
	/* No date: the object counts as new, never swept by mistake. */
	if (t == 0)
		t = s->cutoff;
	if (t > s->group_newest)
		s->group_newest = t;
	if (key_list_add(&s->doomed, object->key) < 0) {
		s->is_failed = 1;
		return -1;
	}
	return 0;
}

enum s3_result
s3_store_sweep(struct s3_client *c, const char *prefix,
    s3_catalogued_cb is_catalogued, void *arg, unsigned min_age_s,
    struct s3_sweep_stats *stats, char *err, size_t errlen)
{
	struct sweep	 s;
	enum s3_result	 result;
	char		 list_prefix[S3_KEY_MAX + 1];

	memset(stats, 0, sizeof *stats);
	memset(&s, 0, sizeof s);
	s.prefix = prefix != NULL ? prefix : "";
	s.prefix_len = strlen(s.prefix);
	s.is_catalogued = is_catalogued;
	s.arg = arg;
	s.cutoff = time(NULL) - (time_t)min_age_s;
	s.stats = stats;
	snprintf(list_prefix, sizeof list_prefix, "%sincidents/", s.prefix);
	result = s3_list(c, list_prefix, sweep_object, &s, err, errlen);
	if (s.is_failed) {
		errbuf_set(err, errlen, "out of memory");
		result = S3_LOCAL;
	}
	if (result == S3_OK) {
		close_group(&s);
		/* Sorted, so each orphan's manifest.json goes before its
		 * summary.json and trace/: never a manifest without files. */
		result = delete_keys(c, &s.doomed, 0, &stats->objects, err,
		    errlen);
	}
	key_list_truncate(&s.doomed, 0);
	free(s.doomed.keys);
	return result;
}
