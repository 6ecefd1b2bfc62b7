/*
 * Unit tests of the relay's store, through store.h (relay/store.c and
 * store_upload.c): staging, verification, layout, path safety.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "store.h"

struct test_file {
	const char	*path;
	const char	*data;
};

struct test_store {
	char		 dir[64];
	char		 err[512];
};

static int
test_remove_entry(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void
test_rm_rf(const char *path)
{
	nftw(path, test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
test_sha256(const char *data, size_t len, char hex[65])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen, i;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < mdlen; i++)
		snprintf(hex + i * 2, 3, "%02x", md[i]);
}

/* A snapshot id of node, as recorders make them (DESIGN.md). */
#define TEST_ID(node, n)	node "-20260101T000000Z-" #n

/* A manifest for files, with extra top-level members from extra. */
static char *
test_manifest(const char *id, const char *extra, const struct test_file *files,
    size_t count)
{
	json_t	*m, *array;
	char	 hex[65], *text;
	size_t	 i;

	m = extra != NULL ? json_loads(extra, 0, NULL) : json_object();
	assert_non_null(m);
	if (id != NULL)
		json_object_set_new(m, "id", json_string(id));
	/* A recorder's manifest says when; the store refuses one that does not. */
	if (json_object_get(m, "taken_at_us") == NULL)
		json_object_set_new(m, "taken_at_us",
		    json_integer(1767225600000000LL));
	array = json_array();
	for (i = 0; i < count; i++) {
		test_sha256(files[i].data, strlen(files[i].data), hex);
		json_array_append_new(array, json_pack("{s:s, s:I, s:s}",
		    "path", files[i].path,
		    "bytes", (json_int_t)strlen(files[i].data), "sha256", hex));
	}
	json_object_set_new(m, "files", array);
	text = json_dumps(m, 0);
	json_decref(m);
	return text;
}

static struct store_upload *
test_begin(struct test_store *ts, const char *node, const char *manifest)
{
	return store_upload_begin(ts->dir, node, manifest, strlen(manifest),
	    0, ts->err, sizeof(ts->err));
}

/* Sends every non-empty file in one chunk each. */
static void
test_send_all(struct test_store *ts, struct store_upload *up,
    const struct test_file *files, size_t count)
{
	size_t	 i;

	for (i = 0; i < count; i++) {
		if (files[i].data[0] == '\0')
			continue;
		assert_int_equal(store_upload_chunk(up, (uint32_t)i, 0,
		    files[i].data, strlen(files[i].data), ts->err,
		    sizeof(ts->err)), 0);
	}
}

static int
test_count_entries(const char *dir)
{
	char	 cmd[PATH_MAX + 64];
	FILE	*f;
	int	 n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &n), 1);
	pclose(f);
	return n;
}

static char *
test_read(const char *dir, const char *path)
{
	char	 full[PATH_MAX], *buf;
	FILE	*f;
	long	 size;

	snprintf(full, sizeof(full), "%s/%s", dir, path);
	if ((f = fopen(full, "r")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)size + 1);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	return buf;
}

static int
test_setup(void **state)
{
	struct test_store	*ts;

	ts = calloc(1, sizeof(*ts));
	snprintf(ts->dir, sizeof(ts->dir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(ts->dir) == NULL)
		return -1;
	if (store_open(ts->dir, ts->err, sizeof(ts->err)) == -1)
		return -1;
	*state = ts;
	return 0;
}

static int
test_teardown(void **state)
{
	struct test_store	*ts = *state;

	test_rm_rf(ts->dir);
	free(ts);
	return 0;
}

static const struct test_file test_files[] = {
	{ "trace/snap-1/metadata", "CTF metadata" },
	{ "trace/snap-1/ust/uid/0/64-bit/channel0_0", "event data, cpu 0" },
	{ "trace/snap-1/ust/uid/0/64-bit/empty", "" },
	{ "trace/snap-1/ust/uid/0/64-bit/index/channel0_0.idx", "index" },
	{ "trace/last", "" },
};
#define TEST_FILES	(sizeof(test_files) / sizeof(test_files[0]))

#define TEST_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* A manifest of one file, spelled out to say what a builder would not. */
#define TEST_FILE_JSON(path, bytes, sha256) \
	("{\"id\":\"" TEST_ID("n", 1) "\",\"taken_at_us\":1,"	\
	"\"files\":[{\"path\":\"" path \
	"\",\"bytes\":" bytes \
	",\"sha256\":\"" sha256 "\"}]}")

static void
test_happy_path(void **state)
{
	struct test_store	*ts = *state;
	struct store_upload	*up;
	char			*text, *data, path[PATH_MAX];
	json_t			*stored;
	int			 is_duplicate = -1;
	size_t			 i;

	text = test_manifest(TEST_ID("node-a", 1),
	    "{\"node\":\"liar\",\"incident\":null,\"taken_at_us\":42}",
	    test_files, TEST_FILES);
	up = test_begin(ts, "node-a", text);
	free(text);
	assert_non_null(up);
	assert_string_equal(store_upload_id(up), TEST_ID("node-a", 1));
	assert_string_equal(store_upload_incident(up), TEST_ID("node-a", 1));
	assert_string_equal(store_upload_node(up), "node-a");
	assert_string_equal(store_upload_path(up),
	    "incidents/" TEST_ID("node-a", 1) "/node-a/" TEST_ID("node-a", 1));
	assert_int_equal(store_upload_bytes(up), 12 + 17 + 5);
	test_send_all(ts, up, test_files, TEST_FILES);
	assert_int_equal(store_upload_end(up, &is_duplicate, ts->err,
	    sizeof(ts->err)), 0);
	assert_int_equal(is_duplicate, 0);
	store_upload_free(up);

	snprintf(path, sizeof(path), "%s/incidents/" TEST_ID("node-a", 1)
	    "/node-a/" TEST_ID("node-a", 1), ts->dir);
	for (i = 0; i < TEST_FILES; i++) {
		data = test_read(path, test_files[i].path);
		assert_non_null(data);
		assert_string_equal(data, test_files[i].data);
		free(data);
	}
	data = test_read(path, "manifest.json");
	assert_non_null(data);
	/* JSON_INDENT(2) | JSON_SORT_KEYS */
	assert_non_null(strstr(data, "{\n  \"files\": ["));
	stored = json_loads(data, 0, NULL);
	free(data);
	assert_string_equal(json_string_value(json_object_get(stored,
	    "node")), "node-a");
	assert_string_equal(json_string_value(json_object_get(stored,
	    "incident")), TEST_ID("node-a", 1));
	assert_true(json_integer_value(json_object_get(stored,
	    "received_at_us")) > 1600000000LL * 1000000);
	assert_int_equal(json_integer_value(json_object_get(stored,
	    "taken_at_us")), 42);
	assert_int_equal(json_array_size(json_object_get(stored, "files")),
	    TEST_FILES);
	json_decref(stored);

	snprintf(path, sizeof(path), "%s/.staging", ts->dir);
	assert_int_equal(test_count_entries(path), 0);
}

static void
test_incident_from_manifest(void **state)
{
	struct test_store	*ts = *state;
	struct store_upload	*up;
	char			*text, path[PATH_MAX];
	int			 is_duplicate;
	struct stat		 st;

	text = test_manifest(TEST_ID("node-b", 2), "{\"incident\":\"inc-42\"}",
	    test_files, TEST_FILES);
	up = test_begin(ts, "node-b", text);
	free(text);
	assert_non_null(up);
	assert_string_equal(store_upload_incident(up), "inc-42");
	test_send_all(ts, up, test_files, TEST_FILES);
	assert_int_equal(store_upload_end(up, &is_duplicate, ts->err,
	    sizeof(ts->err)), 0);
	store_upload_free(up);
	snprintf(path, sizeof(path),
	    "%s/incidents/inc-42/node-b/" TEST_ID("node-b", 2) "/manifest.json",
	    ts->dir);
	assert_int_equal(stat(path, &st), 0);

	/* An unsafe incident is ignored: the snapshot is its own incident. */
	text = test_manifest(TEST_ID("node-b", 3), "{\"incident\":\"../etc\"}",
	    test_files, TEST_FILES);
	up = test_begin(ts, "node-b", text);
	free(text);
	assert_non_null(up);
	assert_string_equal(store_upload_incident(up), TEST_ID("node-b", 3));
	assert_string_equal(json_string_value(json_object_get(
	    store_upload_manifest(up), "incident")), TEST_ID("node-b", 3));
	store_upload_free(up);
}

static void
test_chunked(void **state)
{
	struct test_store	*ts = *state;
	static const struct test_file file = { "trace/big", "0123456789abcdef" };
	struct store_upload	*up;
	char			*text, *data;
	int			 is_duplicate;
	size_t			 offset;

	text = test_manifest(TEST_ID("n", 4), NULL, &file, 1);
	up = test_begin(ts, "n", text);
	free(text);
	assert_non_null(up);
	for (offset = 0; offset < 16; offset += 5) {
		assert_int_equal(store_upload_chunk(up, 0, offset,
		    file.data + offset, offset + 5 > 16 ? 16 - offset : 5,
		    ts->err, sizeof(ts->err)), 0);
	}
	assert_int_equal(store_upload_end(up, &is_duplicate, ts->err,
	    sizeof(ts->err)), 0);
	store_upload_free(up);
	data = test_read(ts->dir, "incidents/" TEST_ID("n", 4) "/n/"
	    TEST_ID("n", 4) "/trace/big");
	assert_string_equal(data, file.data);
	free(data);
}

static void
test_order(void **state)
{
	struct test_store	*ts = *state;
	struct store_upload	*up;
	char			*text;

	text = test_manifest(TEST_ID("n", 5), NULL, test_files, TEST_FILES);

	up = test_begin(ts, "n", text);
	assert_int_equal(store_upload_chunk(up, 0, 1, "M", 1, ts->err,
	    sizeof(ts->err)), -1);
	assert_non_null(strstr(ts->err, "offset 1"));
	/* A refusal fails the upload for good. */
	assert_int_equal(store_upload_chunk(up, 0, 0, "C", 1, ts->err,
	    sizeof(ts->err)), -1);
	assert_non_null(strstr(ts->err, "failed"));
	store_upload_free(up);

	up = test_begin(ts, "n", text);
	assert_int_equal(store_upload_chunk(up, 1, 0, "e", 1, ts->err,
	    sizeof(ts->err)), -1);
	assert_non_null(strstr(ts->err, "expected file 0"));
	store_upload_free(up);

	/* The empty file 2 is skipped over: after file 1 comes file 3. */
	up = test_begin(ts, "n", text);
	test_send_all(ts, up, test_files, 2);
	assert_int_equal(store_upload_chunk(up, 2, 0, "x", 1, ts->err,
	    sizeof(ts->err)), -1);
	assert_non_null(strstr(ts->err, "expected file 3"));
	store_upload_free(up);

	up = test_begin(ts, "n", text);
	assert_int_equal(store_upload_chunk(up, 99, 0, "x", 1, ts->err,
	    sizeof(ts->err)), -1);
	store_upload_free(up);
	free(text);
}

static void
test_too_many_bytes(void **state)
{
	struct test_store	*ts = *state;
	static const struct test_file file = { "trace/f", "abc" };
	struct store_upload	*up;
	char			*text;

	text = test_manifest(TEST_ID("n", 6), NULL, &file, 1);
	up = test_begin(ts, "n", text);
	free(text);
	assert_int_equal(store_upload_chunk(up, 0, 0, "ab", 2, ts->err,
	    sizeof(ts->err)), 0);
	assert_int_equal(store_upload_chunk(up, 0, 2, "cd", 2, ts->err,
	    sizeof(ts->err)), -1);
	assert_non_null(strstr(ts->err, "more than the 3 bytes"));
	store_upload_free(up);
}

static void
test_checksum_mismatch(void **state)
{
	struct test_store	*ts = *state;
	static const struct test_file files[] = {
		{ "trace/a", "good" }, { "trace/b", "bad!" },
	};
	struct store_upload	*up;
	char			*text, path[PATH_MAX];
	int			 is_duplicate;

	text = test_manifest(TEST_ID("n", 7), NULL, files, 2);
	up = test_begin(ts, "n", text);
	free(text);
	assert_int_equal(store_upload_chunk(up, 0, 0, "good", 4, ts->err,
	    sizeof(ts->err)), 0);
	assert_int_equal(store_upload_chunk(up, 1, 0, "BAD!", 4, ts->err,
	    sizeof(ts->err)), -1);
	assert_string_equal(ts->err, "checksum mismatch for trace/b");
	assert_int_equal(store_upload_end(up, &is_duplicate, ts->err,
	    sizeof(ts->err)), -1);
	snprintf(path, sizeof(path), "%s/.staging", ts->dir);
	assert_int_equal(test_count_entries(path), 1);
	store_upload_free(up);
	assert_int_equal(test_count_entries(path), 0);
	snprintf(path, sizeof(path), "%s/incidents", ts->dir);
	assert_int_equal(test_count_entries(path), 0);
}

static void
test_empty_file_checksum(void **state)
{
	struct test_store	*ts = *state;
	const char		*text = TEST_FILE_JSON("trace/e", "0",
	    "0000000000000000000000000000000000000000000000000000000000000000");

	assert_null(test_begin(ts, "n", text));
	assert_string_equal(ts->err, "checksum mismatch for trace/e");
}

static void
test_bad_paths(void **state)
{
	struct test_store	*ts = *state;
	static const char	*paths[] = {
		"../x", "/etc/passwd", "trace/../../x", "trace//x", "trace/.",
		"trace/..", "notrace/x", "trace", "trace/", "trace/x/",
		"trace/a b", "trace/\xc3\xa9t\xc3\xa9", "trace/a\\b",
		"trace/a:b", "trace/a\nb", "trace/.hidden", "./trace/x",
		"trace/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p",
	};
	struct store_upload	*up;
	struct test_file	 file;
	char			*text, path[PATH_MAX], name[200];
	size_t			 i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		file.path = paths[i];
		file.data = "x";
		text = test_manifest(TEST_ID("n", 8), NULL, &file, 1);
		assert_null(test_begin(ts, "n", text));
		assert_non_null(strstr(ts->err, "manifest: path"));
		free(text);
	}
	/* 16 deep is the limit, not an error. */
	file.path = "trace/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o";
	text = test_manifest(TEST_ID("n", 8), NULL, &file, 1);
	up = test_begin(ts, "n", text);
	free(text);
	assert_non_null(up);
	store_upload_free(up);

	memset(name, 'a', sizeof(name));
	snprintf(name, sizeof(name), "trace/%0*d", 128, 0);
	file.path = name;
	text = test_manifest(TEST_ID("n", 8), NULL, &file, 1);
	assert_null(test_begin(ts, "n", text));
	free(text);

	/* An embedded NUL is not a shorter name. */
	text = TEST_FILE_JSON("trace/a\\u0000b", "0", TEST_EMPTY_SHA256);
	assert_null(test_begin(ts, "n", text));

	snprintf(path, sizeof(path), "%s/.staging", ts->dir);
	assert_int_equal(test_count_entries(path), 0);
}

static void
test_bad_manifests(void **state)
{
	struct test_store	*ts = *state;
	static const struct test_file dup[] = {
		{ "trace/a", "1" }, { "trace/b", "2" }, { "trace/a", "3" },
	};
	static const struct test_file nested[] = {
		{ "trace/a", "1" }, { "trace/a-", "2" }, { "trace/a/b", "3" },
	};
	static const char *bad[] = {
		"[]", "{", "{\"id\":\"" TEST_ID("n", 1) "\"}",
		"{\"id\":\"" TEST_ID("n", 1) "\",\"files\":{}}",
		"{\"files\":[]}",
		"{\"id\":\"" TEST_ID("n", 1) "\",\"id\":\"" TEST_ID("n", 2)
		    "\",\"files\":[]}",
		TEST_FILE_JSON("trace/a", "-1", TEST_EMPTY_SHA256),
		TEST_FILE_JSON("trace/a", "1.5", TEST_EMPTY_SHA256),
		TEST_FILE_JSON("trace/a", "0", "E3B0C44298FC1C149AFBF4C8996FB9"
		    "2427AE41E4649B934CA495991B7852B855"),
		TEST_FILE_JSON("trace/a", "0", "e3b0"),
		"{\"id\":\"" TEST_ID("n", 1) "\",\"files\":[\"trace/a\"]}",
	};
	char			*text, big[600];
	json_t			*m, *files;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(test_begin(ts, "n", bad[i]));

	text = test_manifest(TEST_ID("n", 1), NULL, dup, 3);
	assert_null(test_begin(ts, "n", text));
	assert_string_equal(ts->err, "manifest: duplicate path trace/a");
	free(text);
	text = test_manifest(TEST_ID("n", 1), NULL, nested, 3);
	assert_null(test_begin(ts, "n", text));
	assert_non_null(strstr(ts->err, "both a file and a directory"));
	free(text);

	/* Three files of 2^63-1 bytes overflow a 64-bit sum. */
	snprintf(big, sizeof(big), "{\"id\":\"" TEST_ID("n", 1)
	    "\",\"files\":[");
	for (i = 0; i < 3; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big),
		    "%s{\"path\":\"trace/%zu\",\"bytes\":9223372036854775807,"
		    "\"sha256\":\"" TEST_EMPTY_SHA256 "\"}", i ? "," : "", i);
	snprintf(big + strlen(big), sizeof(big) - strlen(big), "]}");
	assert_null(test_begin(ts, "n", big));
	assert_non_null(strstr(ts->err, "overflow"));

	/* STORE_FILES_MAX + 1 files */
	m = json_pack("{s:s}", "id", TEST_ID("n", 15));
	files = json_array();
	for (i = 0; i <= STORE_FILES_MAX; i++)
		json_array_append_new(files, json_pack("{s:s}", "path", "x"));
	json_object_set_new(m, "files", files);
	text = json_dumps(m, 0);
	json_decref(m);
	assert_null(test_begin(ts, "n", text));
	assert_non_null(strstr(ts->err, "at most 4096"));
	free(text);
}

/* A node may only send its own snapshots: ids start with its name. */
static void
test_foreign_ids(void **state)
{
	struct test_store	*ts = *state;
	static const char	*foreign[] = {
		TEST_ID("node-b", 1),		/* another node's */
		"n-x-20260101T000000Z-1",	/* node "n-x"'s, not "n"'s */
		"n-20260101T000000Z",		/* no sequence */
		"n-20260101T000000Z-",
		"n-2026010T1000000Z-1",
		"n-20260101T000000-1",
		"n-20260101T000000Z-1x",
		"n20260101T000000Z-1",
	};
	struct store_upload	*up;
	char			*text;
	size_t			 i;

	for (i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		text = test_manifest(foreign[i], NULL, test_files, TEST_FILES);
		assert_null(test_begin(ts, "n", text));
		assert_non_null(strstr(ts->err, "is not a snapshot of node n"));
		free(text);
	}
	text = test_manifest(TEST_ID("n", 123456), NULL, test_files,
	    TEST_FILES);
	assert_non_null(up = test_begin(ts, "n", text));
	store_upload_free(up);
	free(text);
}

static void
test_bad_names(void **state)
{
	struct test_store	*ts = *state;
	static const char	*bad[] = {
		"../b", "a/b", "", ".", "..", ".hidden", "a b", "a\tb",
		"\xc3\xa9",
	};
	char			*text, name[200];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(store_is_valid_name(bad[i]));
		text = test_manifest("ok", NULL, test_files, TEST_FILES);
		assert_null(test_begin(ts, bad[i], text));
		assert_non_null(strstr(ts->err, "invalid node name"));
		free(text);
		text = test_manifest(bad[i], NULL, test_files, TEST_FILES);
		assert_null(test_begin(ts, "n", text));
		assert_non_null(strstr(ts->err, "invalid id"));
		free(text);
	}
	assert_true(store_is_valid_name("node-1.example_com"));
	memset(name, 'a', sizeof(name));
	name[127] = '\0';
	assert_true(store_is_valid_name(name));
	name[127] = 'a';
	name[128] = '\0';
	assert_false(store_is_valid_name(name));
	assert_null(test_begin(ts, NULL, "{}"));

	/* Paths: valid names joined by single slashes (lib/name.c). */
	assert_true(store_is_valid_path("trace/ust/uid/0/64-bit/metadata"));
	assert_true(store_is_valid_path("inc/node1/id"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (strchr(bad[i], '/') == NULL)
			assert_false(store_is_valid_path(bad[i]));
	}
	assert_false(store_is_valid_path("/etc/shadow"));
	assert_false(store_is_valid_path("trace/../../etc"));
	assert_false(store_is_valid_path("trace//a"));
	assert_false(store_is_valid_path("trace/"));
	assert_false(store_is_valid_path("trace/./a"));
	assert_false(store_is_valid_path(NULL));
	name[128] = 'a';
	name[150] = '\0';
	assert_false(store_is_valid_path(name));	/* a component too long */
}

static void
test_duplicate(void **state)
{
	struct test_store	*ts = *state;
	struct store_upload	*up;
	char			*text, path[PATH_MAX];
	int			 round, is_duplicate;

	text = test_manifest(TEST_ID("n", 9), NULL, test_files, TEST_FILES);
	for (round = 0; round < 2; round++) {
		up = test_begin(ts, "n", text);
		assert_non_null(up);
		test_send_all(ts, up, test_files, TEST_FILES);
		assert_int_equal(store_upload_end(up, &is_duplicate, ts->err,
		    sizeof(ts->err)), 0);
		assert_int_equal(is_duplicate, round);
		store_upload_free(up);
	}
	free(text);
	snprintf(path, sizeof(path), "%s/.staging", ts->dir);
	assert_int_equal(test_count_entries(path), 0);
	snprintf(path, sizeof(path), "%s/incidents/" TEST_ID("n", 9) "/n/"
	    TEST_ID("n", 9), ts->dir);
	assert_int_equal(test_count_entries(path), 2);
}

static void
test_incomplete(void **state)
{
	struct test_store	*ts = *state;
	struct store_upload	*up;
	char			*text;
	int			 is_duplicate;

	text = test_manifest(TEST_ID("n", 10), NULL, test_files, TEST_FILES);
	up = test_begin(ts, "n", text);
	free(text);
	test_send_all(ts, up, test_files, 1);
	assert_int_equal(store_upload_chunk(up, 1, 0, "event", 5, ts->err,
	    sizeof(ts->err)), 0);
	assert_int_equal(store_upload_end(up, &is_duplicate, ts->err,
	    sizeof(ts->err)), -1);
	assert_string_equal(ts->err, "upload incomplete: file 2 of 5 "
	    "(trace/snap-1/ust/uid/0/64-bit/channel0_0) has 5 of 17 bytes");
	assert_int_equal(store_upload_end(up, &is_duplicate, ts->err,
	    sizeof(ts->err)), -1);
	store_upload_free(up);
}

static void
test_open_cleans_staging(void **state)
{
	struct test_store	*ts = *state;
	struct store_upload	*up;
	char			*text, path[PATH_MAX], outside[PATH_MAX];
	struct stat		 st;

	text = test_manifest(TEST_ID("n", 11), NULL, test_files, TEST_FILES);
	up = test_begin(ts, "n", text);
	free(text);
	test_send_all(ts, up, test_files, 2);

	/* A symlink left there is removed, never followed. */
	snprintf(outside, sizeof(outside), "%s/outside", ts->dir);
	assert_int_equal(mkdir(outside, 0700), 0);
	snprintf(path, sizeof(path), "%s/outside/keep", ts->dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	snprintf(path, sizeof(path), "%s/.staging/link", ts->dir);
	assert_int_equal(symlink(outside, path), 0);

	snprintf(path, sizeof(path), "%s/.staging", ts->dir);
	assert_int_equal(test_count_entries(path), 2);
	/* As after a crash: the upload was never freed. */
	assert_int_equal(store_open(ts->dir, ts->err, sizeof(ts->err)), 0);
	assert_int_equal(test_count_entries(path), 0);
	snprintf(path, sizeof(path), "%s/outside/keep", ts->dir);
	assert_int_equal(stat(path, &st), 0);
	store_upload_free(up);

	/* store_open makes the whole path. */
	snprintf(path, sizeof(path), "%s/a/b/store", ts->dir);
	assert_int_equal(store_open(path, ts->err, sizeof(ts->err)), 0);
	snprintf(path, sizeof(path), "%s/a/b/store/incidents", ts->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

static void
test_store_full(void **state)
{
	struct test_store	*ts = *state;
	char			*text;

	text = test_manifest(TEST_ID("n", 12), NULL, test_files, TEST_FILES);
	assert_null(store_upload_begin(ts->dir, "n", text, strlen(text),
	    UINT64_MAX / 2, ts->err, sizeof(ts->err)));
	assert_true(strncmp(ts->err, "store full: ", 12) == 0);
	assert_non_null(strstr(ts->err, "upload needs"));
	assert_null(store_upload_begin(ts->dir, "n", text, strlen(text),
	    UINT64_MAX, ts->err, sizeof(ts->err)));
	assert_true(strncmp(ts->err, "store full: ", 12) == 0);
	free(text);
}

static void
test_symlinked_incident(void **state)
{
	struct test_store	*ts = *state;
	struct store_upload	*up;
	char			*text, path[PATH_MAX], outside[PATH_MAX];
	int			 is_duplicate;

	snprintf(outside, sizeof(outside), "%s/elsewhere", ts->dir);
	assert_int_equal(mkdir(outside, 0700), 0);
	snprintf(path, sizeof(path), "%s/incidents/evil", ts->dir);
	assert_int_equal(symlink(outside, path), 0);
	text = test_manifest(TEST_ID("n", 13), "{\"incident\":\"evil\"}", test_files,
	    TEST_FILES);
	up = test_begin(ts, "n", text);
	free(text);
	test_send_all(ts, up, test_files, TEST_FILES);
	assert_int_equal(store_upload_end(up, &is_duplicate, ts->err,
	    sizeof(ts->err)), -1);
	store_upload_free(up);
	assert_int_equal(test_count_entries(outside), 0);
	snprintf(path, sizeof(path), "%s/.staging", ts->dir);
	assert_int_equal(test_count_entries(path), 0);
}

static void
test_remove_incident(void **state)
{
	struct test_store	*ts = *state;
	struct store_upload	*up;
	char			*text, path[PATH_MAX], outside[PATH_MAX];
	int			 is_duplicate;
	struct stat		 st;

	text = test_manifest(TEST_ID("n", 14), "{\"incident\":\"gone\"}", test_files,
	    TEST_FILES);
	up = test_begin(ts, "n", text);
	free(text);
	test_send_all(ts, up, test_files, TEST_FILES);
	assert_int_equal(store_upload_end(up, &is_duplicate, ts->err,
	    sizeof(ts->err)), 0);
	store_upload_free(up);

	/* A symlink inside goes, what it points to stays. */
	snprintf(outside, sizeof(outside), "%s/keep", ts->dir);
	close(open(outside, O_CREAT | O_WRONLY, 0600));
	snprintf(path, sizeof(path), "%s/incidents/gone/link", ts->dir);
	assert_int_equal(symlink(outside, path), 0);

	assert_int_equal(store_remove_incident(ts->dir, "gone", ts->err,
	    sizeof(ts->err)), 0);
	snprintf(path, sizeof(path), "%s/incidents/gone", ts->dir);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(stat(outside, &st), 0);
	assert_int_equal(store_remove_incident(ts->dir, "gone", ts->err,
	    sizeof(ts->err)), 0);
	assert_int_equal(store_remove_incident(ts->dir, "..", ts->err,
	    sizeof(ts->err)), -1);
	assert_int_equal(store_remove_incident(ts->dir, "a/b", ts->err,
	    sizeof(ts->err)), -1);
	assert_int_equal(store_remove_incident(ts->dir, "", ts->err,
	    sizeof(ts->err)), -1);
	snprintf(path, sizeof(path), "%s/incidents", ts->dir);
	assert_int_equal(stat(path, &st), 0);
}

/* What a manifest's triggers may carry, and its taken_at_us. */
static void
test_manifest_bounds(void **state)
{
	struct test_store	*ts = *state;
	static const struct {
		const char	*extra;
		const char	*error;
	} bad[] = {
		{ "{\"taken_at_us\":null}", "taken_at_us" },
		{ "{\"taken_at_us\":\"1\"}", "taken_at_us" },
		{ "{\"taken_at_us\":-1}", "taken_at_us" },
		{ "{\"taken_at_us\":253402300800000000}", "taken_at_us" },
		{ "{\"triggers\":{}}", "triggers is not an array" },
		{ "{\"triggers\":[1]}", "triggers[0]: not an object" },
		{ "{\"triggers\":[{\"a\":[1]}]}", "triggers[0]: an array" },
		{ "{\"triggers\":[{},{\"labels\":{\"k\":{}}}]}",
		    "triggers[1]: a label that is not a string" },
	};
	struct store_upload	*up;
	json_t			*m, *triggers, *labels;
	char			*text, *reason, key[80];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		text = test_manifest(TEST_ID("n", 1), bad[i].extra, test_files,
		    TEST_FILES);
		assert_null(test_begin(ts, "n", text));
		if (strstr(ts->err, bad[i].error) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].extra,
			    ts->err, bad[i].error);
		free(text);
	}

	/* 256 triggers of 4096-byte reasons and 64 labels: a recorder's max. */
	assert_non_null(reason = calloc(1, STORE_TEXT_MAX + 2));
	memset(reason, 'r', STORE_TEXT_MAX);
	m = json_object();
	triggers = json_array();
	labels = json_object();
	for (i = 0; i < STORE_LABELS_MAX - 1; i++) {
		snprintf(key, sizeof(key), "label_%zu", i);
		json_object_set_new(labels, key, json_string("v"));
	}
	memset(key, 'k', STORE_KEY_MAX);
	key[STORE_KEY_MAX] = '\0';
	json_object_set_new(labels, key, json_string("longest key"));
	for (i = 0; i < STORE_TRIGGERS_MAX; i++)
		json_array_append_new(triggers, json_pack("{s:s, s:s, s:O, "
		    "s:{s:i}}", "source", "app", "reason", reason, "labels",
		    labels, "sender", "pid", 1));
	json_object_set_new(m, "triggers", triggers);
	text = json_dumps(m, 0);
	free(reason);
	reason = test_manifest(TEST_ID("n", 2), text, test_files, TEST_FILES);
	free(text);
	assert_true(strlen(reason) < 1024 * 1024 + 512 * 1024);
	up = test_begin(ts, "n", reason);
	if (up == NULL)
		fail_msg("%s", ts->err);
	store_upload_free(up);
	free(reason);

	/* One more of anything is refused, and says what. */
	json_array_append(triggers, json_array_get(triggers, 0));
	text = json_dumps(m, 0);
	reason = test_manifest(TEST_ID("n", 3), text, test_files, TEST_FILES);
	assert_null(test_begin(ts, "n", reason));
	assert_string_equal(ts->err, "manifest: 257 triggers, at most 256");
	free(text);
	free(reason);
	json_array_remove(triggers, STORE_TRIGGERS_MAX);
	json_object_set_new(labels, "one_too_many", json_string("v"));
	text = json_dumps(m, 0);
	reason = test_manifest(TEST_ID("n", 4), text, test_files, TEST_FILES);
	assert_null(test_begin(ts, "n", reason));
	assert_non_null(strstr(ts->err, "triggers[0]: more than 64 labels"));
	free(text);
	free(reason);
	json_object_del(labels, "one_too_many");
	json_object_del(labels, key);
	strcat(key, "k");
	json_object_set_new(labels, key, json_string("v"));
	text = json_dumps(m, 0);
	reason = test_manifest(TEST_ID("n", 5), text, test_files, TEST_FILES);
	assert_null(test_begin(ts, "n", reason));
	assert_non_null(strstr(ts->err, "a key longer than 64 bytes"));
	free(text);
	free(reason);
	json_object_del(labels, key);
	assert_non_null(reason = calloc(1, STORE_TEXT_MAX + 2));
	memset(reason, 'r', STORE_TEXT_MAX + 1);
	json_object_set_new(json_array_get(triggers, 7), "reason",
	    json_string(reason));
	free(reason);
	text = json_dumps(m, 0);
	reason = test_manifest(TEST_ID("n", 6), text, test_files, TEST_FILES);
	assert_null(test_begin(ts, "n", reason));
	assert_non_null(strstr(ts->err, "triggers[7]: a value longer than "
	    "4096 bytes"));
	free(text);
	free(reason);
	json_decref(labels);
	json_decref(m);
}

/* What the relay measures itself, and what it finds already stored. */
static void
test_stored_figures(void **state)
{
	struct test_store	*ts = *state;
	struct store_upload	*up;
	char			*text, path[PATH_MAX];
	int			 is_duplicate;
	uint64_t		 bytes;

	text = test_manifest(TEST_ID("n", 21), "{\"bytes\":0}", test_files,
	    TEST_FILES);
	up = test_begin(ts, "n", text);
	assert_non_null(up);
	assert_true(store_upload_received_at(up) > 1600000000LL * 1000000);
	assert_int_equal(store_upload_is_stored(up), 0);
	test_send_all(ts, up, test_files, TEST_FILES);
	assert_int_equal(store_upload_end(up, &is_duplicate, ts->err,
	    sizeof(ts->err)), 0);
	snprintf(path, sizeof(path), "%s/%s", ts->dir, store_upload_path(up));
	assert_int_equal(store_disk_bytes(path, &bytes), 0);
	/* Declared 0: on disk, its files, directories and manifest. */
	assert_int_equal(store_upload_stored_bytes(up), bytes);
	assert_true(bytes >= 12 + 17 + 5);
	store_upload_free(up);

	/* The next upload of it knows before a byte is sent. */
	up = test_begin(ts, "n", text);
	assert_non_null(up);
	assert_int_equal(store_upload_is_stored(up), 1);
	store_upload_free(up);
	free(text);
}

/* An incident this relay did not ask for: the snapshot is its own. */
static void
test_own_incident(void **state)
{
	struct test_store	*ts = *state;
	struct store_upload	*up;
	char			*text, *stored, path[PATH_MAX];
	int			 is_duplicate;
	json_t			*m;

	text = test_manifest(TEST_ID("n", 31),
	    "{\"incident\":\"incident-20260101T000000Z-1\"}", test_files,
	    TEST_FILES);
	up = test_begin(ts, "n", text);
	free(text);
	assert_non_null(up);
	assert_string_equal(store_upload_claimed_incident(up),
	    "incident-20260101T000000Z-1");
	store_upload_keep_own_incident(up);
	assert_string_equal(store_upload_incident(up), TEST_ID("n", 31));
	assert_string_equal(store_upload_path(up), "incidents/"
	    TEST_ID("n", 31) "/n/" TEST_ID("n", 31));
	test_send_all(ts, up, test_files, TEST_FILES);
	assert_int_equal(store_upload_end(up, &is_duplicate, ts->err,
	    sizeof(ts->err)), 0);
	store_upload_free(up);
	snprintf(path, sizeof(path), "%s/incidents/" TEST_ID("n", 31) "/n/"
	    TEST_ID("n", 31), ts->dir);
	assert_non_null(stored = test_read(path, "manifest.json"));
	m = json_loads(stored, 0, NULL);
	free(stored);
	assert_string_equal(json_string_value(json_object_get(m, "incident")),
	    TEST_ID("n", 31));
	assert_string_equal(json_string_value(json_object_get(m,
	    "claimed_incident")), "incident-20260101T000000Z-1");
	json_decref(m);
	snprintf(path, sizeof(path), "%s/incidents/incident-20260101T000000Z-1",
	    ts->dir);
	assert_int_equal(access(path, F_OK), -1);

	/* Its own id, or none: nothing claimed. */
	text = test_manifest(TEST_ID("n", 32), "{\"incident\":\""
	    TEST_ID("n", 32) "\"}", test_files, TEST_FILES);
	up = test_begin(ts, "n", text);
	free(text);
	assert_null(store_upload_claimed_incident(up));
	store_upload_free(up);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_manifest_bounds,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_stored_figures,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_own_incident,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_happy_path, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_incident_from_manifest,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_chunked, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_order, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_too_many_bytes,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_checksum_mismatch,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_empty_file_checksum,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_bad_paths, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_bad_manifests, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_foreign_ids, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_duplicate, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_incomplete, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_open_cleans_staging,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_store_full, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_symlinked_incident,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_remove_incident,
		    test_setup, test_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
