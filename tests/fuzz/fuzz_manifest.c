/*
 * libFuzzer target: the relay store's reading of a peer's manifest
 * (store_upload_begin() in relay/store.c). Whatever the bytes, an
 * accepted upload names only relative paths of valid components under
 * trace/, and the only thing on disk afterwards is its own staging dir
 * under <store>/.staging, holding nothing but directories and regular
 * files under trace/ that the manifest named; a refused one leaves
 * nothing, and its error is one printable line. After store_upload_free()
 * .staging is empty again.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "store.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_NODE	"node1"

/* An invariant broken: say which, then die so libFuzzer keeps the input. */
#define fuzz_assert(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_manifest: %s:%d: invariant failed: %s " \
		    "(store left in %s)\n", __FILE__, __LINE__, #cond,	\
		    fuzz_top);						\
		abort();						\
	}								\
} while (0)

static char	 fuzz_top[64];		/* mkdtemp(): holds only store/ */
static char	 fuzz_store[128];
static char	 fuzz_staging[160];
static char	 fuzz_incidents[160];

/* What the staging walk compares against; nftw() has no user argument. */
static struct {
	const char	*id;
	char		**paths;	/* the manifest's, sorted */
	size_t		  count;
	int		  uploads;	/* dirs directly in .staging */
	size_t		  upload_len;	/* of ".staging/<name>/" in a path */
} fuzz_walk;

static int
fuzz_remove(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void
fuzz_cleanup(void)
{
	nftw(fuzz_top, fuzz_remove, 16, FTW_DEPTH | FTW_PHYS);
}

/* Entries in dir; with only, each must be one of the names in it. */
static int
fuzz_entries(const char *dir, const char *const *only)
{
	DIR			*d;
	struct dirent		*de;
	const char *const	*name;
	int			 n = 0;

	d = opendir(dir);
	fuzz_assert(d != NULL);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (only != NULL) {
			for (name = only; *name != NULL; name++)
				if (strcmp(*name, de->d_name) == 0)
					break;
			if (*name == NULL)
				fprintf(stderr, "fuzz_manifest: %s/%s should "
				    "not exist\n", dir, de->d_name);
			fuzz_assert(*name != NULL);
		}
		n++;
	}
	closedir(d);
	return n;
}

/* Nothing outside .staging: the top holds the store, the store its two. */
static void
fuzz_check_outside(void)
{
	static const char *const top[] = { "store", NULL };
	static const char *const store[] = { "incidents", ".staging", NULL };

	fuzz_assert(fuzz_entries(fuzz_top, top) == 1);
	fuzz_assert(fuzz_entries(fuzz_store, store) == 2);
	fuzz_assert(fuzz_entries(fuzz_incidents, NULL) == 0);
}

static int
fuzz_is_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* One path component: [A-Za-z0-9._-], not hidden (so not . or ..). */
static void
fuzz_check_name(const char *name, size_t length)
{
	size_t	 i;

	fuzz_assert(length > 0 && length < STORE_NAME_MAX);
	fuzz_assert(name[0] != '.');
	for (i = 0; i < length; i++)
		fuzz_assert(fuzz_is_name_char(name[i]));
}

/* An accepted file path: relative, under trace/, only valid components. */
static void
fuzz_check_path(const char *path)
{
	const char	*p = path, *slash;
	size_t		 length, depth = 0;

	fuzz_assert(path[0] != '/');
	fuzz_assert(strncmp(path, "trace/", 6) == 0);
	for (;;) {
		slash = strchr(p, '/');
		length = slash != NULL ? (size_t)(slash - p) : strlen(p);
		fuzz_check_name(p, length);
		/* Not "..", not ".", whatever the alphabet check said. */
		fuzz_assert(!(length == 2 && p[0] == '.' && p[1] == '.'));
		fuzz_assert(!(length == 1 && p[0] == '.'));
		depth++;
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	fuzz_assert(depth >= 2 && depth <= STORE_PATH_DEPTH_MAX);
}

static int
fuzz_compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Is rel one of the manifest's paths, or (is_dir) a directory of one? */
static int
fuzz_is_named(const char *rel, int is_dir)
{
	size_t	 i, length = strlen(rel);

	if (!is_dir)
		return bsearch(&rel, fuzz_walk.paths, fuzz_walk.count,
		    sizeof(*fuzz_walk.paths), fuzz_compare) != NULL;
	if (strcmp(rel, "trace") == 0)
		return 1;
	for (i = 0; i < fuzz_walk.count; i++)
		if (strncmp(fuzz_walk.paths[i], rel, length) == 0 &&
		    fuzz_walk.paths[i][length] == '/')
			return 1;
	return 0;
}

static int
fuzz_check_staged(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	const char	*name = path + ftw->base, *rel;
	size_t		 id_len, i;

	if (ftw->level == 0)
		return 0;
	/* Only directories and regular files; FTW_PHYS: a link is FTW_SL. */
	fuzz_assert(type == FTW_D || type == FTW_F);
	fuzz_assert(type == FTW_D ? S_ISDIR(st->st_mode) :
	    S_ISREG(st->st_mode));
	if (ftw->level == 1) {
		/* .staging/<id>.<16 hex digits>, the upload's own. */
		fuzz_assert(type == FTW_D);
		fuzz_walk.uploads++;
		id_len = strlen(fuzz_walk.id);
		fuzz_assert(strncmp(name, fuzz_walk.id, id_len) == 0);
		fuzz_assert(name[id_len] == '.');
		fuzz_assert(strlen(name + id_len + 1) == 16);
		for (i = id_len + 1; name[i] != '\0'; i++)
			fuzz_assert((name[i] >= '0' && name[i] <= '9') ||
			    (name[i] >= 'a' && name[i] <= 'f'));
		fuzz_walk.upload_len = (size_t)ftw->base + strlen(name) + 1;
		return 0;
	}
	rel = path + fuzz_walk.upload_len;
	if (!fuzz_is_named(rel, type == FTW_D))
		fprintf(stderr, "fuzz_manifest: staged %s was not in the "
		    "manifest\n", rel);
	fuzz_assert(fuzz_is_named(rel, type == FTW_D));
	return 0;
}

static void
fuzz_check_upload(struct store_upload *up)
{
	json_t		*manifest, *files, *file, *bytes;
	const char	*path;
	char		 expect[3 * STORE_NAME_MAX + 32];
	uint64_t	 total = 0;
	size_t		 i;

	fuzz_check_name(store_upload_id(up), strlen(store_upload_id(up)));
	fuzz_check_name(store_upload_incident(up),
	    strlen(store_upload_incident(up)));
	fuzz_assert(strcmp(store_upload_node(up), FUZZ_NODE) == 0);
	snprintf(expect, sizeof(expect), "incidents/%s/%s/%s",
	    store_upload_incident(up), FUZZ_NODE, store_upload_id(up));
	fuzz_assert(strcmp(store_upload_path(up), expect) == 0);

	/* The stored manifest: the node is ours, the paths are checked. */
	manifest = store_upload_manifest(up);
	fuzz_assert(json_is_object(manifest));
	fuzz_assert(json_is_string(json_object_get(manifest, "node")));
	fuzz_assert(strcmp(json_string_value(json_object_get(manifest,
	    "node")), FUZZ_NODE) == 0);
	fuzz_assert(strcmp(json_string_value(json_object_get(manifest,
	    "id")), store_upload_id(up)) == 0);
	files = json_object_get(manifest, "files");
	fuzz_assert(json_is_array(files));
	fuzz_assert(json_array_size(files) <= STORE_FILES_MAX);
	fuzz_walk.count = json_array_size(files);
	fuzz_walk.paths = calloc(fuzz_walk.count + 1,
	    sizeof(*fuzz_walk.paths));
	fuzz_assert(fuzz_walk.paths != NULL);
	json_array_foreach(files, i, file) {
		path = json_string_value(json_object_get(file, "path"));
		fuzz_assert(path != NULL);
		fuzz_check_path(path);
		fuzz_walk.paths[i] = (char *)path;
		bytes = json_object_get(file, "bytes");
		fuzz_assert(json_is_integer(bytes));
		fuzz_assert(json_integer_value(bytes) >= 0);
		fuzz_assert(total <= UINT64_MAX -
		    (uint64_t)json_integer_value(bytes));
		total += (uint64_t)json_integer_value(bytes);
	}
	fuzz_assert(total == store_upload_bytes(up));
	qsort(fuzz_walk.paths, fuzz_walk.count, sizeof(*fuzz_walk.paths),
	    fuzz_compare);
	for (i = 1; i < fuzz_walk.count; i++)
		fuzz_assert(strcmp(fuzz_walk.paths[i - 1],
		    fuzz_walk.paths[i]) != 0);

	/* On disk: one staging dir, holding only what the manifest named. */
	fuzz_walk.id = store_upload_id(up);
	fuzz_walk.uploads = 0;
	fuzz_assert(nftw(fuzz_staging, fuzz_check_staged, 16, FTW_PHYS) == 0);
	fuzz_assert(fuzz_walk.uploads == 1);
	free(fuzz_walk.paths);
	memset(&fuzz_walk, 0, sizeof(fuzz_walk));
}

/* A refusal is a message the relay logs: one printable line. */
static void
fuzz_check_error(const char *err, size_t errlen)
{
	size_t	 i;

	fuzz_assert(memchr(err, '\0', errlen) != NULL);
	fuzz_assert(err[0] != '\0');
	for (i = 0; err[i] != '\0'; i++)
		fuzz_assert((unsigned char)err[i] >= 0x20 &&
		    (unsigned char)err[i] < 0x7f);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 err[512];

	(void)argc;
	(void)argv;
	/* tmpfs when there is one: an accepted upload makes dirs and files. */
	snprintf(fuzz_top, sizeof(fuzz_top), "/dev/shm/fuzz_manifest.XXXXXX");
	if (mkdtemp(fuzz_top) == NULL) {
		snprintf(fuzz_top, sizeof(fuzz_top),
		    "/tmp/fuzz_manifest.XXXXXX");
		if (mkdtemp(fuzz_top) == NULL)
			abort();
	}
	snprintf(fuzz_store, sizeof(fuzz_store), "%s/store", fuzz_top);
	snprintf(fuzz_staging, sizeof(fuzz_staging), "%s/.staging",
	    fuzz_store);
	snprintf(fuzz_incidents, sizeof(fuzz_incidents), "%s/incidents",
	    fuzz_store);
	if (store_open(fuzz_store, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz_manifest: %s\n", err);
		abort();
	}
	atexit(fuzz_cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_upload	*up;
	char			 err[1024];

	memset(err, 'X', sizeof(err));
	up = store_upload_begin(fuzz_store, FUZZ_NODE, (const char *)data,
	    size, 0, err, sizeof(err));
	if (up == NULL)
		fuzz_check_error(err, sizeof(err));
	else
		fuzz_check_upload(up);
	fuzz_check_outside();
	store_upload_free(up);
	/* A refused or abandoned upload leaves nothing behind. */
	fuzz_assert(fuzz_entries(fuzz_staging, NULL) == 0);
	fuzz_check_outside();
	return 0;
}
