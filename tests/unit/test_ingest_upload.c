/*
 * Unit tests of the ingest state machine (relay/ingest_upload.c): frames
 * of connections without a socket (c->bev NULL, their output in c->out)
 * against a real store and catalog, with a manual disk worker, so each
 * test chooses the order of every disk step and of every result's
 * arrival on the loop.
 *   - the early-ACK race (issue 10, item 6): a duplicate or a refusal
 *     answered before its END was handled, the next BEGIN right behind,
 *     other nodes' jobs in between, in many interleavings;
 *   - accounting (item 4): every job costs memory, empty chunks and
 *     BEGINs of abandoned uploads included, and a connection past its
 *     share stops being read;
 *   - a property test driving random frame sequences over two
 *     connections of one CN: whatever the peers send and whatever the
 *     order of the disk's results, every upload gets at most one ACK, an
 *     ACK "stored" means the snapshot is in the store and the catalog,
 *     nothing partial is visible, and the budget is whole again after;
 *   - node text in log lines is made printable (item 7).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "catalog.h"
#include "ingest.h"
#include "protocol.h"
#include "relay.h"
#include "store.h"
#include "worker.h"

#define FILE_BYTES	3000
#define NFILES		2

struct fixture {
	char			 dir[PATH_MAX];
	struct relay		 relay;
};

/* A made-up snapshot: its manifest and its files' contents. */
struct snap {
	char	 id[64];
	char	*manifest;
	uint8_t	 data[NFILES][FILE_BYTES];
	int	 is_corrupt;	/* a file's bytes differ from its sha256 */
};

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)type;
	(void)f;
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture	*fx = calloc(1, sizeof(*fx));
	struct relay	*r = &fx->relay;
	char		 db[PATH_MAX + 16], err[512];
	int		 was_rebuilt;

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_ingest_upload.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	r->base = event_base_new();
	relay_config_defaults(&r->conf);
	snprintf(r->conf.store_dir, sizeof(r->conf.store_dir), "%s", fx->dir);
	r->conf.store_min_free = 0;
	if (store_open(fx->dir, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	snprintf(db, sizeof(db), "%s/catalog.db", fx->dir);
	r->catalog_writer = catalog_open(db, fx->dir, &was_rebuilt, err,
	    sizeof(err));
	if (r->catalog_writer == NULL)
		fail_msg("%s", err);
	r->disk = worker_start_manual(r->base);
	TAILQ_INIT(&r->conns);
	r->ingest = ingest_new(r);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*fx = *state;
	struct relay	*r = &fx->relay;

	worker_stop(r->disk);
	catalog_close(r->catalog_writer);
	ingest_free(r);
	event_base_free(r->base);
	nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static struct ingest_conn *
conn_new(struct fixture *fx, const char *node)
{
	struct ingest_conn *c = calloc(1, sizeof(*c));

	c->relay = &fx->relay;
	c->out = evbuffer_new();
	c->state = INGEST_READY;
	snprintf(c->node, sizeof(c->node), "%s", node);
	snprintf(c->address, sizeof(c->address), "127.0.0.1:1");
	c->flow = worker_flow_new(fx->relay.disk);
	return c;
}

static void
conn_free(struct ingest_conn *c)
{
	assert_int_equal(c->jobs, 0);
	worker_flow_free(c->flow);
	evbuffer_free(c->out);
	free(c);
}

static void
sha256_hex(const uint8_t *data, size_t len, char out[65])
{
	uint8_t		 md[32];
	unsigned	 mdlen, i;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static void
snap_make(struct snap *s, const char *id, const char *incident,
    int is_corrupt)
{
	json_t	*files = json_array(), *m;
	char	 hex[65], path[32];
	int	 i, j;

	snprintf(s->id, sizeof(s->id), "%s", id);
	for (i = 0; i < NFILES; i++) {
		for (j = 0; j < FILE_BYTES; j++)
			s->data[i][j] = (uint8_t)(rand() & 0xff);
		sha256_hex(s->data[i], FILE_BYTES, hex);
		snprintf(path, sizeof(path), "trace/f%d", i);
		json_array_append_new(files, json_pack("{s:s, s:i, s:s}",
		    "path", path, "bytes", FILE_BYTES, "sha256", hex));
	}
	m = json_pack("{s:s, s:s, s:I, s:i, s:[{s:s, s:s}], s:o}", "id", id,
	    "node", "whatever", "taken_at_us", (json_int_t)1795000000000000LL,
	    "bytes", NFILES * FILE_BYTES, "triggers", "source", "test",
	    "reason", "made up", "files", files);
	if (incident != NULL)
		json_object_set_new(m, "incident", json_string(incident));
	s->manifest = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	s->is_corrupt = is_corrupt;
	if (is_corrupt)
		s->data[0][10] ^= 0xff;
}

/* One frame into the state machine, as ingest_on_read hands it over. */
static void
feed(struct ingest_conn *c, struct evbuffer *b)
{
	struct frame	 f;
	char		 err[256];

	assert_int_equal(frame_pull(b, &f, err, sizeof(err)), 1);
	ingest_upload_frame(c, &f);
	evbuffer_drain(b, FRAME_HEADER_SIZE + f.length);
	assert_int_equal(evbuffer_get_length(b), 0);
}

static void
send_begin_raw(struct ingest_conn *c, const char *manifest)
{
	struct evbuffer	*b = evbuffer_new();
	uint8_t		 h[FRAME_HEADER_SIZE];

	assert_int_equal(frame_header(h, FRAME_UPLOAD_BEGIN,
	    strlen(manifest)), 0);
	evbuffer_add(b, h, sizeof(h));
	evbuffer_add(b, manifest, strlen(manifest));
	feed(c, b);
	evbuffer_free(b);
}

static void
send_chunk(struct ingest_conn *c, uint32_t file, uint64_t offset,
    const void *data, size_t len)
{
	struct evbuffer *b = evbuffer_new();

	assert_int_equal(frame_push_chunk(b, file, offset, data, len), 0);
	feed(c, b);
	evbuffer_free(b);
}

static void
send_end(struct ingest_conn *c, const char *id, int is_abandoned)
{
	struct evbuffer	*b = evbuffer_new();
	json_t		*o = json_pack("{s:s, s:b}", "id", id, "abandoned",
			    is_abandoned);

	assert_int_equal(frame_push_json(b, FRAME_UPLOAD_END, o), 0);
	json_decref(o);
	feed(c, b);
	evbuffer_free(b);
}

/* BEGIN, every file in 1000-byte chunks, END: what a recorder sends. */
static void
send_upload(struct ingest_conn *c, const struct snap *s)
{
	int	 i, off;

	send_begin_raw(c, s->manifest);
	for (i = 0; i < NFILES; i++)
		for (off = 0; off < FILE_BYTES; off += 1000)
			send_chunk(c, (uint32_t)i, (uint64_t)off,
			    s->data[i] + off, 1000);
	send_end(c, s->id, 0);
}

/* The frames the relay sent c: "ack ID STATUS" or "error", one a line. */
static void
answers(struct ingest_conn *c, char *text, size_t len)
{
	struct frame	 f;
	char		 err[256];
	json_t		*o;
	size_t		 used = strlen(text);

	while (frame_pull(c->out, &f, err, sizeof(err)) == 1) {
		o = frame_json(&f, err, sizeof(err));
		assert_non_null(o);
		if (f.type == FRAME_ACK)
			used += (size_t)snprintf(text + used, len - used,
			    "ack %s %s\n", json_string_value(json_object_get(
			    o, "id")), json_string_value(json_object_get(o,
			    "status")));
		else if (f.type == FRAME_ERROR)
			used += (size_t)snprintf(text + used, len - used,
			    "error %s\n", json_string_value(json_object_get(
			    o, "message")));
		json_decref(o);
		evbuffer_drain(c->out, FRAME_HEADER_SIZE + f.length);
		assert_true(used < len);
	}
}

/*
 * Runs the disk worker and delivers its results in an order rand()
 * picks: a job done, or a done callback run, at each step.
 */
static void
drain_shuffled(struct relay *r)
{
	int	 can_run = 1, can_complete = 1;

	while (can_run || can_complete) {
		if (can_run && (!can_complete || rand() % 2 == 0)) {
			can_run = worker_run_next(r->disk);
			can_complete = 1;
		} else
			can_complete = worker_complete_next(r->disk);
	}
	assert_int_equal(worker_pending(r->disk), 0);
}

static int
is_stored(struct fixture *fx, const char *incident, const char *node,
    const char *id)
{
	char		 path[PATH_MAX * 2];
	struct stat	 st;

	snprintf(path, sizeof(path), "%s/incidents/%s/%s/%s/manifest.json",
	    fx->dir, incident, node, id);
	return stat(path, &st) == 0;
}

static int
staging_entries(struct fixture *fx)
{
	char		 path[PATH_MAX + 16];
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	snprintf(path, sizeof(path), "%s/.staging", fx->dir);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * Item 6: a small snapshot's frames come together; its early ACK (a
 * duplicate, or a refusal) goes out before the disk reaches its END,
 * and the next BEGIN is already there. With two other nodes' uploads
 * queued in between, in 200 orders of the disk's results: no protocol
 * error, one ACK per upload, in the order they were sent.
 */
static void
test_early_ack_race(void **state)
{
	struct fixture		*fx = *state;
	struct relay		*r = &fx->relay;
	struct ingest_conn	*a, *b, *c;
	struct snap		 first, dup_next, bad, others[2];
	char			 text[4096], want[4096], id[64];
	int			 round;

	srand(1);
	a = conn_new(fx, "n1");
	snap_make(&first, "n1-20261118T110640Z-1", NULL, 0);
	send_upload(a, &first);
	drain_shuffled(r);
	text[0] = '\0';
	answers(a, text, sizeof(text));
	assert_string_equal(text, "ack n1-20261118T110640Z-1 stored\n");

	for (round = 0; round < 200; round++) {
		b = conn_new(fx, "n2");
		c = conn_new(fx, "n3");
		snprintf(id, sizeof(id), "n1-20261118T110640Z-%d", 1000 + round);
		snap_make(&dup_next, id, NULL, 0);
		snprintf(id, sizeof(id), "n1-20261118T110640Z-%d", 2000 + round);
		snap_make(&bad, id, NULL, 1);
		snprintf(id, sizeof(id), "n2-20261118T110640Z-%d", round);
		snap_make(&others[0], id, NULL, 0);
		snprintf(id, sizeof(id), "n3-20261118T110640Z-%d", round);
		snap_make(&others[1], id, NULL, 0);
		/* Interleaved on the wire as on the worker's queue. */
		send_begin_raw(b, others[0].manifest);
		send_upload(a, &first);		/* a duplicate: early ACK */
		send_upload(c, &others[1]);
		send_upload(a, &bad);		/* refused at the first chunk */
		send_chunk(b, 0, 0, others[0].data[0], FILE_BYTES);
		send_upload(a, &dup_next);
		send_chunk(b, 1, 0, others[0].data[1], FILE_BYTES);
		send_end(b, others[0].id, 0);
		drain_shuffled(r);

		text[0] = '\0';
		answers(a, text, sizeof(text));
		snprintf(want, sizeof(want), "ack n1-20261118T110640Z-1 stored\n"
		    "ack %s refused\nack %s stored\n", bad.id, dup_next.id);
		assert_string_equal(text, want);
		text[0] = '\0';
		answers(b, text, sizeof(text));
		answers(c, text, sizeof(text));
		snprintf(want, sizeof(want), "ack %s stored\nack %s stored\n",
		    others[0].id, others[1].id);
		assert_string_equal(text, want);
		assert_int_equal(a->state, INGEST_READY);
		assert_true(is_stored(fx, dup_next.id, "n1", dup_next.id));
		assert_false(is_stored(fx, bad.id, "n1", bad.id));
		assert_int_equal(catalog_has_snapshot(r->catalog_writer,
		    dup_next.id), 1);
		assert_int_equal(r->ingest->memory_used, 0);
		free(dup_next.manifest);
		free(bad.manifest);
		free(others[0].manifest);
		free(others[1].manifest);
		conn_free(b);
		conn_free(c);
	}
	assert_int_equal(staging_entries(fx), 0);
	assert_int_equal(a->queued_bytes, 0);
	free(first.manifest);
	conn_free(a);
}

/*
 * Item 4: every queued job is charged, whatever it carries. Empty chunks
 * and the BEGINs of abandoned uploads fill a connection's share as data
 * does: past it the connection is not read; once the disk catches up it
 * is read again and the budget is whole.
 */
static void
test_every_job_is_charged(void **state)
{
	struct fixture		*fx = *state;
	struct relay		*r = &fx->relay;
	struct ingest_conn	*c = conn_new(fx, "n1");
	struct snap		 s;
	char			*big;
	json_t			*m;
	int			 i;

	snap_make(&s, "n1-20261118T110640Z-1", NULL, 0);
	send_begin_raw(c, s.manifest);
	for (i = 0; i < INGEST_QUEUED_JOBS; i++) {
		assert_int_equal(c->paused & INGEST_PAUSE_QUEUE, 0);
		send_chunk(c, 0, 0, "", 0);
	}
	assert_int_equal(c->jobs, INGEST_QUEUED_JOBS + 1);
	assert_true(c->paused & INGEST_PAUSE_QUEUE);
	assert_true(r->ingest->memory_used >=
	    (uint64_t)INGEST_QUEUED_JOBS * INGEST_JOB_COST);
	send_end(c, s.id, 1);
	drain_shuffled(r);
	assert_int_equal(c->paused, 0);
	assert_int_equal(r->ingest->memory_used, 0);

	/* Big manifests, each abandoned at once: their bytes count. */
	m = json_loads(s.manifest, 0, NULL);
	big = calloc(1, 200 * 1024);
	memset(big, 'x', 200 * 1024 - 1);
	json_object_set_new(m, "padding", json_string(big));
	free(big);
	big = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	for (i = 0; i < 60 && !(c->paused & INGEST_PAUSE_QUEUE); i++) {
		send_begin_raw(c, big);
		send_end(c, s.id, 1);
	}
	assert_true(c->paused & INGEST_PAUSE_QUEUE);
	assert_true(i < 50);
	assert_true(c->queued_bytes > INGEST_QUEUED_HIGH);
	assert_true(r->ingest->memory_used >= c->queued_bytes);
	drain_shuffled(r);
	assert_int_equal(c->paused, 0);
	assert_int_equal(r->ingest->memory_used, 0);
	assert_int_equal(staging_entries(fx), 0);
	free(big);
	free(s.manifest);
	conn_free(c);
}

/* A connection closed mid-upload leaves nothing behind, on disk or in the budget. */
static void
test_close_mid_upload(void **state)
{
	struct fixture		*fx = *state;
	struct relay		*r = &fx->relay;
	struct ingest_conn	*c = conn_new(fx, "n1");
	struct snap		 s;
	char			 text[256] = "";

	snap_make(&s, "n1-20261118T110640Z-1", NULL, 0);
	send_begin_raw(c, s.manifest);
	/* In progress from its BEGIN: the analysis gives way to it. */
	assert_int_equal(r->ingest->uploads, 1);
	send_chunk(c, 0, 0, s.data[0], FILE_BYTES);
	worker_run_next(r->disk);
	worker_run_next(r->disk);
	ingest_upload_close(c);
	drain_shuffled(r);
	assert_int_equal(r->ingest->uploads, 0);
	answers(c, text, sizeof(text));
	assert_string_equal(text, "");
	assert_int_equal(staging_entries(fx), 0);
	assert_false(is_stored(fx, s.id, "n1", s.id));
	assert_int_equal(r->ingest->memory_used, 0);
	free(s.manifest);
	conn_free(c);
}

/* What one random peer did, for the invariants. */
struct model {
	struct ingest_conn	*c;
	int			 is_open;	/* between BEGIN and END */
	int			 is_dead;	/* protocol error sent */
	int			 begins, abandoned, violations;
	struct snap		*snap;		/* the upload on the wire */
	int			 next_file, next_offset;
};

/*
 * The property test: random frames from two connections of one node
 * ("n1", as after a reconnect the old one lingers), snapshot ids drawn
 * from a small pool so the two race on the same one, random disk order.
 */
static void
test_random_sequences(void **state)
{
	struct fixture	*fx = *state;
	struct relay	*r = &fx->relay;
	struct model	 m[2];
	struct snap	 pool[4];
	char		 text[65536], *line, *save, name[64];
	int		 step, i, k, acks, errors, seed, stored = 0;
	json_t		*o;

	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "n1-20261118T110640Z-%d", 100 + i);
		snap_make(&pool[i], name, NULL, i == 3);
	}
	for (seed = 1; seed <= 30; seed++) {
		srand((unsigned)seed);
		memset(m, 0, sizeof(m));
		m[0].c = conn_new(fx, "n1");
		m[1].c = conn_new(fx, "n1");
		for (step = 0; step < 300; step++) {
			struct model *p = &m[rand() % 2];
			int op = rand() % 12;

			/*
			 * Mostly what a recorder would send next, sometimes
			 * anything (1 in 50 a frame out of place): enough
			 * uploads get through to race, a few peers break.
			 */
			if (op < 9 && rand() % 50 != 0) {
				if (!p->is_open)
					op = rand() % 2;
				else if (p->snap != NULL &&
				    p->next_file < NFILES && op != 5 &&
				    op != 8)
					op = 2;
				else if (op != 5 && op != 8)
					op = 6;
			}

			if (op >= 9) {		/* the disk moves */
				if (op == 9)
					worker_run_next(r->disk);
				else
					worker_complete_next(r->disk);
				continue;
			}
			if (p->is_dead)
				continue;
			switch (op) {
			case 0:		/* BEGIN, maybe while one is open */
			case 1:
				if (p->is_open)
					p->violations++;
				p->snap = &pool[rand() % 4];
				send_begin_raw(p->c, rand() % 8 == 0 ?
				    "{\"id\":\"n1-20261118T110640Z-9\"}" : p->snap->manifest);
				p->begins++;
				p->is_open = 1;
				p->next_file = p->next_offset = 0;
				break;
			case 2:		/* the next chunk, in order */
			case 3:
			case 4:
				if (!p->is_open)
					p->violations++;
				if (p->snap == NULL || p->next_file >= NFILES) {
					send_chunk(p->c, 0, 0, "", 0);
					break;
				}
				send_chunk(p->c, (uint32_t)p->next_file,
				    (uint64_t)p->next_offset,
				    p->snap->data[p->next_file] +
				    p->next_offset, 1500);
				if ((p->next_offset += 1500) == FILE_BYTES) {
					p->next_file++;
					p->next_offset = 0;
				}
				break;
			case 5:		/* a chunk out of order, or empty */
				if (!p->is_open)
					p->violations++;
				if (rand() % 2)
					send_chunk(p->c, 1, 0, "", 0);
				else
					send_chunk(p->c, (uint32_t)(rand() % 3),
					    (uint64_t)(rand() % 4000), "abc", 3);
				break;
			case 6:		/* END */
			case 7:
				if (!p->is_open)
					p->violations++;
				send_end(p->c, p->snap != NULL ? p->snap->id :
				    "x", 0);
				p->is_open = 0;
				break;
			case 8:		/* END abandoned */
				if (!p->is_open)
					p->violations++;
				else
					p->abandoned++;
				send_end(p->c, "x", 1);
				p->is_open = 0;
				break;
			}
			if (p->c->state == INGEST_CLOSING)
				p->is_dead = 1;
		}
		for (k = 0; k < 2; k++)
			ingest_upload_close(m[k].c);
		drain_shuffled(r);

		for (k = 0; k < 2; k++) {
			text[0] = '\0';
			answers(m[k].c, text, sizeof(text));
			acks = errors = 0;
			for (line = strtok_r(text, "\n", &save); line != NULL;
			    line = strtok_r(NULL, "\n", &save)) {
				if (strncmp(line, "error", 5) == 0) {
					errors++;
					continue;
				}
				acks++;
				/* Nothing follows a protocol error. */
				assert_int_equal(errors, 0);
				if (strstr(line, " stored") != NULL) {
					stored++;
					sscanf(line, "ack %63s", name);
					assert_int_equal(catalog_has_snapshot(
					    r->catalog_writer, name), 1);
					assert_true(is_stored(fx, name, "n1",
					    name));
				}
			}
			/* A protocol error exactly when the peer broke it. */
			if (errors != (m[k].violations > 0))
				fail_msg("seed %d conn %d: %d errors, %d "
				    "violations", seed, k, errors,
				    m[k].violations);
			assert_int_equal(errors, m[k].violations > 0);
			assert_true(acks <= m[k].begins - m[k].abandoned +
			    1);
			assert_int_equal(m[k].c->queued_bytes, 0);
			conn_free(m[k].c);
		}
		assert_int_equal(r->ingest->memory_used, 0);
		/* Stored, refused, abandoned or cut off: none in progress. */
		assert_int_equal(r->ingest->uploads, 0);
		assert_int_equal(staging_entries(fx), 0);
		/* What is stored is whole: the corrupt one never is. */
		assert_false(is_stored(fx, pool[3].id, "n1", pool[3].id));
		for (i = 0; i < 3; i++) {
			if (!is_stored(fx, pool[i].id, "n1", pool[i].id))
				continue;
			o = catalog_snapshot(r->catalog_writer, pool[i].id);
			assert_non_null(o);
			json_decref(o);
		}
	}
	/* The sequences did reach the store, not only errors. */
	assert_true(stored >= 10);
	for (i = 0; i < 4; i++)
		free(pool[i].manifest);
}

/* Item 7: a node's text in a log line cannot move the cursor or forge lines. */
static void
test_printable(void **state)
{
	char	 buf[128];
	const char *s = "boom\n2026-01-01 relay: forged\x1b[2J\x1b]52;c;eA==\x07"
		    "\xe2\x80\xae";

	(void)state;
	ingest_printable(s, strlen(s), buf, sizeof(buf));
	assert_null(strchr(buf, '\n'));
	assert_null(strchr(buf, '\x1b'));
	assert_null(strchr(buf, '\x07'));
	assert_null(strstr(buf, "\xe2\x80\xae"));
	assert_non_null(strstr(buf, "forged"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_early_ack_race, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_every_job_is_charged,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_mid_upload, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_random_sequences, setup,
		    teardown),
		cmocka_unit_test(test_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
