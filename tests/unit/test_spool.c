/*
 * Unit tests of the node's spool (recorder/spool.c): the index and its
 * eviction order, the scan at open (leftovers in .partial, the upload
 * marker, byte accounting, listing order), the lock, and the disk steps
 * of a snapshot (prepare, hash, publish, manifest rewrite, removal).
 * Everything runs on real directories under a mkdtemp() dir; nothing here
 * needs LTTng.
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

#include <jansson.h>
#include <openssl/evp.h>

#include "file.h"
#include "fs_fixture.h"
#include "spool.h"

struct test_spool {
	char		 top[64];	/* the mkdtemp() dir */
	char		 dir[128];	/* the spool, inside top */
	char		 err[512];
	struct spool	 spool;
	int		 is_open;
};

/* What spool_evict() handed to its callback, in order. */
struct test_victims {
	char		 ids[16][SPOOL_ID_MAX];
	int		 was_uploaded[16];
	unsigned	 count;
	const char	*spool_dir;	/* when set, delete them on disk too */
};

static char *
test_read(const char *dir, const char *rel)
{
	char	 path[PATH_MAX], *buf;
	FILE	*f;
	long	 size;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	return buf;
}

/* Entries of dir other than . and .., or -1. */
static int
test_count_entries(const char *dir, const char *rel)
{
	char		 cmd[PATH_MAX + 64];
	FILE		*f;
	int		 n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s/%s' | wc -l", dir, rel);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &n), 1);
	pclose(f);
	return n;
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

/*
 * A published snapshot as the recorder leaves it: <dir>/<id>/manifest.json
 * with taken_at_us, trace/data of data_bytes, and the relay link's
 * .uploaded marker when is_uploaded. Returns the bytes of its files, which
 * is what the spool should account for it.
 */
static uint64_t
test_make_snapshot(const char *dir, const char *id, int64_t taken_at_us,
    size_t data_bytes, int is_uploaded)
{
	char		 snap[PATH_MAX], manifest[256], *data;
	uint64_t	 bytes = 0;
	int		 len;

	snprintf(snap, sizeof(snap), "%s/%s", dir, id);
	assert_int_equal(mkdir(snap, 0750), 0);
	test_mkdir(snap, "trace");
	len = snprintf(manifest, sizeof(manifest),
	    "{\"id\":\"%s\",\"taken_at_us\":%lld,\"files\":[]}", id,
	    (long long)taken_at_us);
	bytes += test_write(snap, "manifest.json", manifest, (size_t)len);
	data = malloc(data_bytes + 1);
	assert_non_null(data);
	memset(data, 'x', data_bytes);
	bytes += test_write(snap, "trace/data", data, data_bytes);
	free(data);
	if (is_uploaded)
		bytes += test_write(snap, ".uploaded", "", 0);
	return bytes;
}

static void
test_victim(const char *id, int was_uploaded, void *arg)
{
	struct test_victims	*v = arg;

	assert_true(v->count < sizeof(v->ids) / sizeof(v->ids[0]));
	snprintf(v->ids[v->count], sizeof(v->ids[v->count]), "%s", id);
	v->was_uploaded[v->count] = was_uploaded;
	v->count++;
	if (v->spool_dir != NULL)
		assert_int_equal(spool_remove_tree(v->spool_dir, id, 0, NULL,
		    0), 0);
}

static struct spool_entry *
test_find(struct spool *spool, const char *id)
{
	struct spool_entry	*e;

	TAILQ_FOREACH(e, &spool->entries, entry) {
		if (strcmp(e->id, id) == 0)
			return e;
	}
	return NULL;
}

/* The index in order, as "a,b,c", to compare in one assertion. */
static void
test_order(struct spool *spool, char *buf, size_t len)
{
	struct spool_entry	*e;
	size_t			 used = 0;

	buf[0] = '\0';
	TAILQ_FOREACH(e, &spool->entries, entry) {
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    used == 0 ? "" : ",", e->id);
		assert_true(used < len);
	}
}

static void
test_open(struct test_spool *ts, uint64_t max_bytes)
{
	if (spool_open(&ts->spool, ts->dir, max_bytes, ts->err,
	    sizeof(ts->err)) != 0)
		fail_msg("spool_open: %s", ts->err);
	ts->is_open = 1;
}

static void
test_close(struct test_spool *ts)
{
	spool_close(&ts->spool);
	ts->is_open = 0;
}

static int
test_setup(void **state)
{
	struct test_spool	*ts;

	if ((ts = calloc(1, sizeof(*ts))) == NULL)
		return -1;
	snprintf(ts->top, sizeof(ts->top), "/tmp/test_spool.XXXXXX");
	if (mkdtemp(ts->top) == NULL) {
		free(ts);
		return -1;
	}
	snprintf(ts->dir, sizeof(ts->dir), "%s/spool", ts->top);
	*state = ts;
	return 0;
}

static int
test_teardown(void **state)
{
	struct test_spool	*ts = *state;

	if (ts->is_open)
		spool_close(&ts->spool);
	file_remove_tree(ts->top, 0, NULL, 0);
	free(ts);
	return 0;
}

static void
test_valid_id(void **state)
{
	char	 longest[SPOOL_ID_MAX], too_long[SPOOL_ID_MAX + 1];

	(void)state;
	assert_true(spool_is_valid_id("node1-20240102T030405Z-7"));
	assert_true(spool_is_valid_id("a.b_c-D9"));
	assert_false(spool_is_valid_id(""));
	assert_false(spool_is_valid_id("."));
	assert_false(spool_is_valid_id(".."));
	assert_false(spool_is_valid_id(".partial"));
	assert_false(spool_is_valid_id("a/b"));
	assert_false(spool_is_valid_id("../a"));
	assert_false(spool_is_valid_id("a b"));
	assert_false(spool_is_valid_id("caf\xc3\xa9"));
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	assert_true(spool_is_valid_id(longest));
	memset(too_long, 'a', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	assert_false(spool_is_valid_id(too_long));
}

static void
test_open_creates(void **state)
{
	struct test_spool	*ts = *state;
	struct stat		 st;

	/* A spool a few levels below anything that exists. */
	snprintf(ts->dir, sizeof(ts->dir), "%s/var/spool/tracetrap", ts->top);
	test_open(ts, 1000);
	assert_int_equal(stat(ts->dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_true(test_exists(ts->dir, SPOOL_PARTIAL));
	assert_true(test_exists(ts->dir, ".lock"));
	assert_true(TAILQ_EMPTY(&ts->spool.entries));
	assert_int_equal(ts->spool.count, 0);
	assert_int_equal(ts->spool.bytes, 0);
	assert_int_equal(ts->spool.max_bytes, 1000);
	assert_int_equal(ts->spool.evicted, 0);
	assert_int_equal(ts->spool.evicted_not_uploaded, 0);
	assert_string_equal(ts->spool.dir, ts->dir);
	assert_true(ts->spool.lock_fd >= 0);
}

static void
test_open_refuses_second(void **state)
{
	struct test_spool	*ts = *state;
	struct spool		*second;

	test_open(ts, 1000);
	second = calloc(1, sizeof(*second));
	assert_non_null(second);
	assert_int_equal(spool_open(second, ts->dir, 1000, ts->err,
	    sizeof(ts->err)), -1);
	assert_non_null(strstr(ts->err, "another recorder uses this spool"));
	assert_int_equal(second->lock_fd, -1);

	/* Once the first lets go, the spool is free again. */
	test_close(ts);
	assert_int_equal(spool_open(second, ts->dir, 1000, ts->err,
	    sizeof(ts->err)), 0);
	spool_close(second);
	free(second);
}

static void
test_open_removes_partial(void **state)
{
	struct test_spool	*ts = *state;
	uint64_t		 bytes;
	char			 order[256];

	/* A first open makes the layout; then a run "dies" mid-snapshot. */
	test_open(ts, 1 << 20);
	test_close(ts);
	test_mkdir(ts->dir, ".partial/n-20240101T000000Z-3");
	test_mkdir(ts->dir, ".partial/n-20240101T000000Z-3/trace");
	test_mkdir(ts->dir, ".partial/n-20240101T000000Z-3/trace/ust");
	test_write(ts->dir, ".partial/n-20240101T000000Z-3/trace/ust/data",
	    "half", 4);
	/* Even one with a manifest: it was never renamed, so never whole. */
	test_mkdir(ts->dir, ".partial/n-20240101T000000Z-4");
	test_write_text(ts->dir, ".partial/n-20240101T000000Z-4/manifest.json",
	    "{\"id\":\"n-20240101T000000Z-4\",\"taken_at_us\":4}");
	bytes = test_make_snapshot(ts->dir, "n-20240101T000000Z-2", 2, 10, 0);

	test_open(ts, 1 << 20);
	assert_int_equal(test_count_entries(ts->dir, SPOOL_PARTIAL), 0);
	/* Only the published one is indexed; the leftovers are not. */
	test_order(&ts->spool, order, sizeof(order));
	assert_string_equal(order, "n-20240101T000000Z-2");
	assert_int_equal(ts->spool.count, 1);
	assert_int_equal(ts->spool.bytes, bytes);
	assert_true(test_exists(ts->dir, "n-20240101T000000Z-2/trace/data"));
}

static void
test_open_indexes(void **state)
{
	struct test_spool	*ts = *state;
	struct spool_entry	*e;
	uint64_t		 b_old, b_mid, b_tie, b_new;
	char			 order[256];

	assert_int_equal(mkdir(ts->dir, 0750), 0);
	/* Names sort one way, taken_at_us another: the index follows time. */
	b_new = test_make_snapshot(ts->dir, "a-new", 5000, 100, 0);
	b_mid = test_make_snapshot(ts->dir, "z-mid", 3000, 200, 1);
	b_old = test_make_snapshot(ts->dir, "m-old", 1000, 300, 0);
	/* Same time: the id decides, so the order is total. */
	b_tie = test_make_snapshot(ts->dir, "tie-d", 4000, 1, 1);
	b_tie += test_make_snapshot(ts->dir, "tie-b", 4000, 2, 0);
	b_tie += test_make_snapshot(ts->dir, "tie-a", 4000, 3, 0);
	b_tie += test_make_snapshot(ts->dir, "tie-c", 4000, 4, 1);
	/* Not snapshots: no manifest, a bad manifest, hidden, a plain file. */
	test_mkdir(ts->dir, "no-manifest");
	test_write_text(ts->dir, "no-manifest/junk", "0123456789");
	test_mkdir(ts->dir, "bad-manifest");
	test_write_text(ts->dir, "bad-manifest/manifest.json", "{not json");
	test_mkdir(ts->dir, ".hidden");
	test_write_text(ts->dir, ".hidden/manifest.json",
	    "{\"taken_at_us\":1}");
	test_write_text(ts->dir, "README", "not a snapshot");

	test_open(ts, 1 << 20);
	test_order(&ts->spool, order, sizeof(order));
	assert_string_equal(order,
	    "m-old,z-mid,tie-a,tie-b,tie-c,tie-d,a-new");
	assert_int_equal(ts->spool.count, 7);
	assert_int_equal(ts->spool.bytes, b_old + b_mid + b_tie + b_new);

	/* The relay link's marker is what says "uploaded" after a restart. */
	e = test_find(&ts->spool, "m-old");
	assert_non_null(e);
	assert_false(e->is_uploaded);
	assert_int_equal(e->taken_at_us, 1000);
	assert_int_equal(e->bytes, b_old);
	e = test_find(&ts->spool, "z-mid");
	assert_non_null(e);
	assert_true(e->is_uploaded);
	assert_int_equal(e->taken_at_us, 3000);
	assert_int_equal(e->bytes, b_mid);
	e = test_find(&ts->spool, "tie-d");
	assert_non_null(e);
	assert_true(e->is_uploaded);
	e = test_find(&ts->spool, "tie-b");
	assert_non_null(e);
	assert_false(e->is_uploaded);
	e = test_find(&ts->spool, "a-new");
	assert_non_null(e);
	assert_false(e->is_uploaded);
	assert_int_equal(e->bytes, b_new);
	assert_int_equal(e->retry_after_us, 0);

	/* Ignored, not removed: they are the operator's to look at. */
	assert_true(test_exists(ts->dir, "no-manifest/junk"));
	assert_true(test_exists(ts->dir, "bad-manifest/manifest.json"));
	assert_true(test_exists(ts->dir, "README"));
}

static void
test_add(void **state)
{
	struct test_spool	*ts = *state;
	struct spool_entry	*e;
	char			 order[256];

	test_open(ts, 1000);
	spool_add(&ts->spool, "s-1", 100, 10);
	spool_add(&ts->spool, "s-2", 250, 20);
	spool_add(&ts->spool, "s-3", 0, 30);
	test_order(&ts->spool, order, sizeof(order));
	assert_string_equal(order, "s-1,s-2,s-3");
	assert_int_equal(ts->spool.count, 3);
	assert_int_equal(ts->spool.bytes, 350);
	e = TAILQ_LAST(&ts->spool.entries, spool_entries);
	assert_string_equal(e->id, "s-3");
	assert_int_equal(e->taken_at_us, 30);
	assert_int_equal(e->bytes, 0);
	/* A new snapshot is not uploaded until the relay acknowledges it. */
	TAILQ_FOREACH(e, &ts->spool.entries, entry)
		assert_false(e->is_uploaded);
	/* Adding never evicts; spool_evict() does, when asked. */
	spool_add(&ts->spool, "s-4", 5000, 40);
	assert_int_equal(ts->spool.count, 4);
	assert_int_equal(ts->spool.bytes, 5350);
	assert_int_equal(ts->spool.evicted, 0);
}

/* Sets is_uploaded of the entries named in a NULL-terminated list. */
static void
test_mark_uploaded(struct spool *spool, const char *const *ids)
{
	struct spool_entry	*e;

	for (; *ids != NULL; ids++) {
		e = test_find(spool, *ids);
		assert_non_null(e);
		e->is_uploaded = 1;
	}
}

static void
test_evict_uploaded_first(void **state)
{
	static const char *const uploaded[] = { "s-2", "s-4", NULL };
	struct test_spool	*ts = *state;
	struct test_victims	 v;
	char			 order[256];

	memset(&v, 0, sizeof(v));
	test_open(ts, 500);
	/* Oldest first: s-1 (not uploaded) is older than every uploaded one. */
	spool_add(&ts->spool, "s-1", 100, 10);
	spool_add(&ts->spool, "s-2", 100, 20);
	spool_add(&ts->spool, "s-3", 100, 30);
	spool_add(&ts->spool, "s-4", 100, 40);
	spool_add(&ts->spool, "s-5", 100, 50);
	test_mark_uploaded(&ts->spool, uploaded);
	assert_int_equal(spool_evict(&ts->spool, "s-5", test_victim, &v), 0);

	/* 700 of 500 bytes: two must go, and both uploaded ones go first. */
	spool_add(&ts->spool, "s-6", 200, 60);
	assert_int_equal(spool_evict(&ts->spool, "s-6", test_victim, &v), 2);
	assert_int_equal(v.count, 2);
	assert_string_equal(v.ids[0], "s-2");
	assert_true(v.was_uploaded[0]);
	assert_string_equal(v.ids[1], "s-4");
	assert_true(v.was_uploaded[1]);
	test_order(&ts->spool, order, sizeof(order));
	assert_string_equal(order, "s-1,s-3,s-5,s-6");
	assert_int_equal(ts->spool.bytes, 500);
	assert_int_equal(ts->spool.count, 4);
	assert_int_equal(ts->spool.evicted, 2);
	assert_int_equal(ts->spool.evicted_not_uploaded, 0);

	/* No uploaded one left: now the oldest not uploaded, each counted. */
	spool_add(&ts->spool, "s-7", 150, 70);
	assert_int_equal(spool_evict(&ts->spool, "s-7", test_victim, &v), 2);
	assert_int_equal(v.count, 4);
	assert_string_equal(v.ids[2], "s-1");
	assert_false(v.was_uploaded[2]);
	assert_string_equal(v.ids[3], "s-3");
	assert_false(v.was_uploaded[3]);
	test_order(&ts->spool, order, sizeof(order));
	assert_string_equal(order, "s-5,s-6,s-7");
	assert_int_equal(ts->spool.bytes, 450);
	assert_int_equal(ts->spool.count, 3);
	assert_int_equal(ts->spool.evicted, 4);
	assert_int_equal(ts->spool.evicted_not_uploaded, 2);
}

static void
test_evict_uploaded_then_not(void **state)
{
	static const char *const uploaded[] = { "s-3", NULL };
	struct test_spool	*ts = *state;
	struct test_victims	 v;
	char			 order[256];

	/* One eviction pass that needs both kinds: uploaded, then oldest. */
	memset(&v, 0, sizeof(v));
	test_open(ts, 250);
	spool_add(&ts->spool, "s-1", 100, 10);
	spool_add(&ts->spool, "s-2", 100, 20);
	spool_add(&ts->spool, "s-3", 100, 30);
	test_mark_uploaded(&ts->spool, uploaded);
	spool_add(&ts->spool, "s-4", 100, 40);
	assert_int_equal(spool_evict(&ts->spool, "s-4", test_victim, &v), 2);
	assert_string_equal(v.ids[0], "s-3");
	assert_true(v.was_uploaded[0]);
	assert_string_equal(v.ids[1], "s-1");
	assert_false(v.was_uploaded[1]);
	test_order(&ts->spool, order, sizeof(order));
	assert_string_equal(order, "s-2,s-4");
	assert_int_equal(ts->spool.bytes, 200);
	assert_int_equal(ts->spool.evicted, 2);
	assert_int_equal(ts->spool.evicted_not_uploaded, 1);
}

static void
test_evict_bound(void **state)
{
	struct test_spool	*ts = *state;
	struct test_victims	 v;

	memset(&v, 0, sizeof(v));
	test_open(ts, 300);
	spool_add(&ts->spool, "s-1", 100, 10);
	spool_add(&ts->spool, "s-2", 100, 20);
	spool_add(&ts->spool, "s-3", 100, 30);
	/* Exactly full is within the bound. */
	assert_int_equal(spool_evict(&ts->spool, "s-3", test_victim, &v), 0);
	assert_int_equal(ts->spool.count, 3);
	/* One byte over: exactly one goes, the oldest. */
	spool_add(&ts->spool, "s-4", 1, 40);
	assert_int_equal(spool_evict(&ts->spool, "s-4", test_victim, &v), 1);
	assert_string_equal(v.ids[0], "s-1");
	assert_int_equal(ts->spool.bytes, 201);
	assert_int_equal(ts->spool.count, 3);
	assert_int_equal(ts->spool.evicted, 1);
	assert_int_equal(ts->spool.evicted_not_uploaded, 1);
}

static void
test_evict_keeps_new(void **state)
{
	static const char *const uploaded[] = { "s-2", NULL };
	struct test_spool	*ts = *state;
	struct test_victims	 v;
	char			 order[256];

	memset(&v, 0, sizeof(v));
	test_open(ts, 100);
	spool_add(&ts->spool, "s-1", 50, 10);
	spool_add(&ts->spool, "s-2", 50, 20);
	test_mark_uploaded(&ts->spool, uploaded);
	/* The snapshot just taken is bigger than the whole spool. */
	spool_add(&ts->spool, "s-3", 1000, 30);
	assert_int_equal(spool_evict(&ts->spool, "s-3", test_victim, &v), 2);
	assert_string_equal(v.ids[0], "s-2");
	assert_string_equal(v.ids[1], "s-1");
	test_order(&ts->spool, order, sizeof(order));
	assert_string_equal(order, "s-3");
	assert_int_equal(ts->spool.bytes, 1000);
	assert_int_equal(ts->spool.count, 1);
	/* Still over, but the only one left is the one to keep. */
	assert_int_equal(spool_evict(&ts->spool, "s-3", test_victim, &v), 0);
	assert_int_equal(ts->spool.count, 1);

	/* keep_id is kept even when it is the oldest uploaded one. */
	test_mark_uploaded(&ts->spool, (const char *const []){ "s-3", NULL });
	spool_add(&ts->spool, "s-4", 10, 40);
	assert_int_equal(spool_evict(&ts->spool, "s-3", test_victim, &v), 1);
	assert_string_equal(v.ids[2], "s-4");
	test_order(&ts->spool, order, sizeof(order));
	assert_string_equal(order, "s-3");
	assert_int_equal(ts->spool.evicted, 3);
	assert_int_equal(ts->spool.evicted_not_uploaded, 2);
}

/* Scan + marker + eviction + removal, as after a restart with a full disk. */
static void
test_evict_after_restart(void **state)
{
	struct test_spool	*ts = *state;
	struct test_victims	 v;
	uint64_t		 b1, b2, b3, b4;
	char			 order[256];

	memset(&v, 0, sizeof(v));
	assert_int_equal(mkdir(ts->dir, 0750), 0);
	b1 = test_make_snapshot(ts->dir, "n-1", 100, 400, 0);
	b2 = test_make_snapshot(ts->dir, "n-2", 200, 400, 1);
	b3 = test_make_snapshot(ts->dir, "n-3", 300, 400, 0);
	b4 = test_make_snapshot(ts->dir, "n-4", 400, 400, 1);
	/* Room for two of them. */
	test_open(ts, b1 + b3);
	assert_int_equal(ts->spool.bytes, b1 + b2 + b3 + b4);
	v.spool_dir = ts->dir;
	assert_int_equal(spool_evict(&ts->spool, "", test_victim, &v), 2);
	assert_string_equal(v.ids[0], "n-2");
	assert_string_equal(v.ids[1], "n-4");
	test_order(&ts->spool, order, sizeof(order));
	assert_string_equal(order, "n-1,n-3");
	assert_int_equal(ts->spool.bytes, b1 + b3);
	assert_int_equal(ts->spool.evicted, 2);
	assert_int_equal(ts->spool.evicted_not_uploaded, 0);
	assert_false(test_exists(ts->dir, "n-2"));
	assert_false(test_exists(ts->dir, "n-4"));
	assert_true(test_exists(ts->dir, "n-1/trace/data"));
	assert_true(test_exists(ts->dir, "n-3/trace/data"));

	/* What is left is what the next start finds. */
	test_close(ts);
	test_open(ts, b1 + b3);
	test_order(&ts->spool, order, sizeof(order));
	assert_string_equal(order, "n-1,n-3");
	assert_int_equal(ts->spool.bytes, b1 + b3);
	/* Counters are of this run, not of the disk. */
	assert_int_equal(ts->spool.evicted, 0);
}

static void
test_max_sequence(void **state)
{
	struct test_spool	*ts = *state;

	test_open(ts, 1 << 20);
	assert_int_equal(spool_max_sequence(&ts->spool, "node1"), 0);
	spool_add(&ts->spool, "node1-20240101T000000Z-7", 1, 1);
	spool_add(&ts->spool, "node1-20240101T000001Z-12", 1, 2);
	spool_add(&ts->spool, "node1-20240101T000002Z-9", 1, 3);
	/* Another node's ids, and one whose name only starts like ours. */
	spool_add(&ts->spool, "node2-20240101T000000Z-99", 1, 4);
	spool_add(&ts->spool, "node10-20240101T000000Z-50", 1, 5);
	spool_add(&ts->spool, "node1x-20240101T000000Z-60", 1, 6);
	assert_int_equal(spool_max_sequence(&ts->spool, "node1"), 12);
	assert_int_equal(spool_max_sequence(&ts->spool, "node2"), 99);
	assert_int_equal(spool_max_sequence(&ts->spool, "node10"), 50);
	assert_int_equal(spool_max_sequence(&ts->spool, "node3"), 0);
}

static void
test_snapshot_lifecycle(void **state)
{
	struct test_spool	*ts = *state;
	const char		*id = "node1-20240101T000000Z-1";
	char			 trace_dir[PATH_MAX], expect_dir[PATH_MAX];
	char			 hex_meta[65], hex_data[65], rel[PATH_MAX];
	char			 *text;
	json_t			*files, *file;
	uint64_t		 bytes = 0;
	size_t			 i;
	int			 seen_meta = 0, seen_data = 0, seen_empty = 0;
	struct stat		 st;

	test_open(ts, 1 << 20);
	assert_int_equal(spool_prepare(ts->dir, id, trace_dir,
	    sizeof(trace_dir), ts->err, sizeof(ts->err)), 0);
	snprintf(expect_dir, sizeof(expect_dir), "%s/%s/%s/trace", ts->dir,
	    SPOOL_PARTIAL, id);
	assert_string_equal(trace_dir, expect_dir);
	assert_int_equal(stat(trace_dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* Not visible under its id until published. */
	assert_false(test_exists(ts->dir, id));

	/* What the consumer daemon would write. */
	test_mkdir(trace_dir, "ust");
	test_write(trace_dir, "metadata", "CTF metadata", 12);
	test_write(trace_dir, "ust/channel0_0", "event data, cpu 0", 17);
	test_write(trace_dir, "ust/empty", "", 0);
	test_sha256("CTF metadata", 12, hex_meta);
	test_sha256("event data, cpu 0", 17, hex_data);

	files = spool_hash_files(ts->dir, id, &bytes, ts->err,
	    sizeof(ts->err));
	assert_non_null(files);
	assert_int_equal(bytes, 12 + 17);
	assert_int_equal(json_array_size(files), 3);
	json_array_foreach(files, i, file) {
		const char	*path = json_string_value(json_object_get(file,
				    "path"));
		json_int_t	 n = json_integer_value(json_object_get(file,
				    "bytes"));
		const char	*sha = json_string_value(json_object_get(file,
				    "sha256"));

		assert_non_null(path);
		assert_non_null(sha);
		/* Relative to the snapshot dir, as the relay expects. */
		if (strcmp(path, "trace/metadata") == 0) {
			assert_int_equal(n, 12);
			assert_string_equal(sha, hex_meta);
			seen_meta++;
		} else if (strcmp(path, "trace/ust/channel0_0") == 0) {
			assert_int_equal(n, 17);
			assert_string_equal(sha, hex_data);
			seen_data++;
		} else if (strcmp(path, "trace/ust/empty") == 0) {
			assert_int_equal(n, 0);
			assert_string_equal(sha, "e3b0c44298fc1c149afbf4c8996f"
			    "b92427ae41e4649b934ca495991b7852b855");
			seen_empty++;
		} else
			fail_msg("unexpected path %s", path);
	}
	assert_int_equal(seen_meta + seen_data + seen_empty, 3);
	json_decref(files);
	assert_int_equal(spool_sync_files(ts->dir, id, ts->err,
	    sizeof(ts->err)), 0);

	assert_int_equal(spool_publish(ts->dir, id, id,
	    "{\"id\":\"node1-20240101T000000Z-1\",\"taken_at_us\":77}",
	    ts->err, sizeof(ts->err)), 0);
	snprintf(rel, sizeof(rel), "%s/%s", SPOOL_PARTIAL, id);
	assert_false(test_exists(ts->dir, rel));
	snprintf(rel, sizeof(rel), "%s/trace/ust/channel0_0", id);
	text = test_read(ts->dir, rel);
	assert_non_null(text);
	assert_string_equal(text, "event data, cpu 0");
	free(text);
	snprintf(rel, sizeof(rel), "%s/manifest.json", id);
	text = test_read(ts->dir, rel);
	assert_non_null(text);
	assert_string_equal(text,
	    "{\"id\":\"node1-20240101T000000Z-1\",\"taken_at_us\":77}");
	free(text);
	snprintf(rel, sizeof(rel), "%s/manifest.json.tmp", id);
	assert_false(test_exists(ts->dir, rel));

	/* The next start indexes it from its manifest. */
	test_close(ts);
	test_open(ts, 1 << 20);
	assert_int_equal(ts->spool.count, 1);
	assert_string_equal(TAILQ_FIRST(&ts->spool.entries)->id, id);
	assert_int_equal(TAILQ_FIRST(&ts->spool.entries)->taken_at_us, 77);
	assert_false(TAILQ_FIRST(&ts->spool.entries)->is_uploaded);
	assert_int_equal(ts->spool.bytes, 12 + 17 + strlen(
	    "{\"id\":\"node1-20240101T000000Z-1\",\"taken_at_us\":77}"));
}

/*
 * A spare partial dir, made before its record, holds the record and is
 * published under the snapshot's id; one left over is removed quietly
 * at the next start.
 */
static void
test_spare_publish(void **state)
{
	struct test_spool	*ts = *state;
	const char		*id = "node1-20240101T000000Z-2";
	char			 name[SPOOL_ID_MAX], trace_dir[PATH_MAX];
	char			 rel[PATH_MAX], *text;
	json_t			*files;
	uint64_t		 bytes = 0;

	test_open(ts, 1 << 20);
	assert_int_equal(spool_make_spare(ts->dir, 7, name, ts->err,
	    sizeof(ts->err)), 0);
	assert_string_equal(name, "spare.7");
	/* Never taken for a snapshot: ids hold a '-', spares do not. */
	assert_null(strchr(name, '-'));
	snprintf(trace_dir, sizeof(trace_dir), "%s/%s/%s/%s", ts->dir,
	    SPOOL_PARTIAL, name, SPOOL_TRACE);
	test_write(trace_dir, "metadata", "CTF metadata", 12);
	files = spool_hash_files(ts->dir, name, &bytes, ts->err,
	    sizeof(ts->err));
	assert_non_null(files);
	assert_int_equal(bytes, 12);
	json_decref(files);
	assert_int_equal(spool_publish(ts->dir, "../x", id, "{}", ts->err,
	    sizeof(ts->err)), -1);
	assert_non_null(strstr(ts->err, "invalid snapshot id"));
	assert_int_equal(spool_publish(ts->dir, name, id,
	    "{\"taken_at_us\":5}", ts->err, sizeof(ts->err)), 0);
	assert_int_equal(test_count_entries(ts->dir, SPOOL_PARTIAL), 0);
	snprintf(rel, sizeof(rel), "%s/trace/metadata", id);
	text = test_read(ts->dir, rel);
	assert_non_null(text);
	assert_string_equal(text, "CTF metadata");
	free(text);

	/* A spare never taken is gone after a restart, and not indexed. */
	assert_int_equal(spool_make_spare(ts->dir, 8, name, ts->err,
	    sizeof(ts->err)), 0);
	assert_int_equal(test_count_entries(ts->dir, SPOOL_PARTIAL), 1);
	test_close(ts);
	test_open(ts, 1 << 20);
	assert_int_equal(test_count_entries(ts->dir, SPOOL_PARTIAL), 0);
	assert_int_equal(ts->spool.count, 1);
}

static void
test_prepare_refuses(void **state)
{
	struct test_spool	*ts = *state;
	char			 trace_dir[PATH_MAX];

	test_open(ts, 1 << 20);
	trace_dir[0] = '\0';
	assert_int_equal(spool_prepare(ts->dir, "../escape", trace_dir,
	    sizeof(trace_dir), ts->err, sizeof(ts->err)), -1);
	assert_non_null(strstr(ts->err, "invalid snapshot id"));
	assert_false(test_exists(ts->top, "escape"));
	assert_int_equal(spool_prepare(ts->dir, ".hidden", trace_dir,
	    sizeof(trace_dir), ts->err, sizeof(ts->err)), -1);
	assert_int_equal(test_count_entries(ts->dir, SPOOL_PARTIAL), 0);
}

static void
test_hash_refuses_symlink(void **state)
{
	struct test_spool	*ts = *state;
	char			 trace_dir[PATH_MAX], linkpath[PATH_MAX];
	uint64_t		 bytes = 12345;

	test_open(ts, 1 << 20);
	assert_int_equal(spool_prepare(ts->dir, "s-1", trace_dir,
	    sizeof(trace_dir), ts->err, sizeof(ts->err)), 0);
	test_write(trace_dir, "metadata", "m", 1);
	snprintf(linkpath, sizeof(linkpath), "%s/passwd", trace_dir);
	assert_int_equal(symlink("/etc/passwd", linkpath), 0);
	assert_null(spool_hash_files(ts->dir, "s-1", &bytes, ts->err,
	    sizeof(ts->err)));
	assert_non_null(strstr(ts->err, "not a regular file"));
	assert_int_equal(bytes, 12345);

	/* A snapshot whose trace dir is gone cannot be hashed either. */
	assert_int_equal(spool_remove_tree(ts->dir, "s-1", 1, ts->err,
	    sizeof(ts->err)), 0);
	assert_null(spool_hash_files(ts->dir, "s-1", &bytes, ts->err,
	    sizeof(ts->err)));
	assert_non_null(strstr(ts->err, "hashing snapshot"));
}

/* A FIFO in a trace is refused, not opened: that would wait forever. */
static void
test_hash_refuses_fifo(void **state)
{
	struct test_spool	*ts = *state;
	char			 trace_dir[PATH_MAX], fifo[PATH_MAX];
	uint64_t		 bytes = 7;

	test_open(ts, 1 << 20);
	assert_int_equal(spool_prepare(ts->dir, "s-2", trace_dir,
	    sizeof(trace_dir), ts->err, sizeof(ts->err)), 0);
	test_write(trace_dir, "metadata", "m", 1);
	snprintf(fifo, sizeof(fifo), "%s/pipe", trace_dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_null(spool_hash_files(ts->dir, "s-2", &bytes, ts->err,
	    sizeof(ts->err)));
	assert_non_null(strstr(ts->err, "not a regular file"));
	assert_int_equal(bytes, 7);
	/* Nor synced (opening it would wait as well). */
	assert_int_equal(spool_sync_files(ts->dir, "s-2", ts->err,
	    sizeof(ts->err)), -1);
	assert_non_null(strstr(ts->err, "syncing snapshot"));
	assert_non_null(strstr(ts->err, "not a regular file"));
	/* A trace dir that is gone cannot be synced. */
	assert_int_equal(spool_remove_tree(ts->dir, "s-2", 1, ts->err,
	    sizeof(ts->err)), 0);
	assert_int_equal(spool_sync_files(ts->dir, "s-2", ts->err,
	    sizeof(ts->err)), -1);
	assert_non_null(strstr(ts->err, "syncing snapshot"));
}

/*
 * A hashed snapshot is indexed before its publish (the uploader may send
 * it): its partial dir and manifest kept, never evicted until published,
 * gone from the index when its publish fails.
 */
static void
test_partial_entries(void **state)
{
	struct test_spool	*ts = *state;
	struct test_victims	 v;
	struct spool_entry	*e;
	char			 order[256];

	memset(&v, 0, sizeof(v));
	test_open(ts, 100);
	spool_add_partial(&ts->spool, "s-1", "spare.3", "{\"id\":\"s-1\"}",
	    80, 10);
	e = spool_find(&ts->spool, "s-1");
	assert_non_null(e);
	assert_string_equal(e->partial, "spare.3");
	assert_string_equal(e->manifest, "{\"id\":\"s-1\"}");
	assert_int_equal(ts->spool.bytes, 80);
	assert_null(spool_find(&ts->spool, "s-9"));

	/* Over the budget: the one not yet published is not a victim. */
	spool_add_partial(&ts->spool, "s-2", "s-2", "{}", 80, 20);
	assert_int_equal(spool_evict(&ts->spool, "s-2", test_victim, &v), 0);
	test_order(&ts->spool, order, sizeof(order));
	assert_string_equal(order, "s-1,s-2");

	/* Published, it is an ordinary entry: the oldest goes first. */
	assert_ptr_equal(spool_published(&ts->spool, "s-1"), e);
	assert_string_equal(e->partial, "");
	assert_null(e->manifest);
	assert_int_equal(spool_evict(&ts->spool, "s-2", test_victim, &v), 1);
	assert_string_equal(v.ids[0], "s-1");

	/* A failed publish: out of the index, its bytes with it. */
	spool_forget(&ts->spool, "s-2");
	assert_int_equal(ts->spool.count, 0);
	assert_int_equal(ts->spool.bytes, 0);
	spool_forget(&ts->spool, "s-2");	/* twice: harmless */
	assert_null(spool_published(&ts->spool, "s-2"));	/* unknown */
	assert_int_equal(ts->spool.count, 0);
}

static void
test_write_manifest(void **state)
{
	struct test_spool	*ts = *state;
	char			*text;

	assert_int_equal(mkdir(ts->dir, 0750), 0);
	test_make_snapshot(ts->dir, "s-1", 5, 3, 0);
	assert_int_equal(spool_write_manifest(ts->dir, "s-1",
	    "{\"id\":\"s-1\",\"taken_at_us\":5,\"triggers\":[1,2]}", ts->err,
	    sizeof(ts->err)), 0);
	text = test_read(ts->dir, "s-1/manifest.json");
	assert_non_null(text);
	assert_string_equal(text,
	    "{\"id\":\"s-1\",\"taken_at_us\":5,\"triggers\":[1,2]}");
	free(text);
	assert_false(test_exists(ts->dir, "s-1/manifest.json.tmp"));

	assert_int_equal(spool_write_manifest(ts->dir, "../s-1", "{}",
	    ts->err, sizeof(ts->err)), -1);
	assert_non_null(strstr(ts->err, "invalid snapshot id"));
	/* No snapshot of that id: refused, nothing made. */
	assert_int_equal(spool_write_manifest(ts->dir, "s-2", "{}", ts->err,
	    sizeof(ts->err)), -1);
	assert_false(test_exists(ts->dir, "s-2"));
}

static void
test_remove_tree(void **state)
{
	struct test_spool	*ts = *state;
	char			 trace_dir[PATH_MAX], outside[PATH_MAX];

	test_open(ts, 1 << 20);
	test_make_snapshot(ts->dir, "s-1", 1, 10, 1);
	test_make_snapshot(ts->dir, "s-2", 2, 10, 0);
	assert_int_equal(spool_prepare(ts->dir, "s-3", trace_dir,
	    sizeof(trace_dir), ts->err, sizeof(ts->err)), 0);
	test_write(trace_dir, "data", "abc", 3);

	assert_int_equal(spool_remove_tree(ts->dir, "s-1", 0, ts->err,
	    sizeof(ts->err)), 0);
	assert_false(test_exists(ts->dir, "s-1"));
	assert_true(test_exists(ts->dir, "s-2/trace/data"));
	/* The partial flag picks the .partial copy, not a published one. */
	assert_int_equal(spool_remove_tree(ts->dir, "s-2", 1, ts->err,
	    sizeof(ts->err)), 0);
	assert_true(test_exists(ts->dir, "s-2/trace/data"));
	assert_int_equal(spool_remove_tree(ts->dir, "s-3", 1, ts->err,
	    sizeof(ts->err)), 0);
	assert_false(test_exists(ts->dir, ".partial/s-3"));
	assert_true(test_exists(ts->dir, SPOOL_PARTIAL));
	/* Already gone is removed. */
	assert_int_equal(spool_remove_tree(ts->dir, "s-1", 0, ts->err,
	    sizeof(ts->err)), 0);
	assert_int_equal(spool_remove_tree(ts->dir, "s-1", 0, NULL, 0), 0);

	/* An id that is not one path component never reaches the disk. */
	snprintf(outside, sizeof(outside), "%s/victim", ts->top);
	assert_int_equal(mkdir(outside, 0750), 0);
	test_write(outside, "keep", "k", 1);
	assert_int_equal(spool_remove_tree(ts->dir, "../victim", 0, ts->err,
	    sizeof(ts->err)), -1);
	assert_non_null(strstr(ts->err, "invalid snapshot id"));
	assert_int_equal(spool_remove_tree(ts->dir, "..", 0, NULL, 0), -1);
	assert_int_equal(spool_remove_tree(ts->dir, ".partial", 1, NULL, 0),
	    -1);
	assert_true(test_exists(outside, "keep"));
	assert_true(test_exists(ts->dir, "s-2/trace/data"));
	assert_true(test_exists(ts->dir, SPOOL_PARTIAL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_id),
		cmocka_unit_test_setup_teardown(test_partial_entries,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_open_creates, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_second,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_open_removes_partial,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_open_indexes, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_add, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_evict_uploaded_first,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_evict_uploaded_then_not,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_evict_bound, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_evict_keeps_new,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_evict_after_restart,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_max_sequence, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_lifecycle,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_spare_publish,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_prepare_refuses,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_hash_refuses_symlink,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_hash_refuses_fifo,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_write_manifest,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_remove_tree, test_setup,
		    test_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
