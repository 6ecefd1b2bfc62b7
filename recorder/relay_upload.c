/*
 * The relay link's uploader (relay_link_int.h): every snapshot in the
 * spool, oldest first, one sent at a time; marked uploaded (an
 * ".uploaded" marker, so a restart remembers) only after the relay's ACK
 * "stored". While the relay verifies and syncs the last one sent, the
 * next one goes out (link->acking): the wait for an ACK, a disk's fsync
 * on the relay, no longer leaves the link idle.
 * File reads happen on a worker thread, and the next block is read only
 * when the TLS output buffer has room, so a large snapshot never sits in
 * memory and the loop never blocks on the disk.
 *
 * A block is LINK_READ_BLOCK bytes read at once, not a chunk: each
 * hand-off to the worker and back costs two thread wake-ups, and each
 * open of the file a lookup. Its chunks go out by reference, not copied
 * into the output buffer, and the block's memory comes back to a pool:
 * a fresh megabyte would fault its pages in again every time.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "bufpool.h"
#include "log.h"
#include "name.h"
#include "relay_link_int.h"
#include "xmalloc.h"

#define LINK_BLOCKS_KEPT	4	/* idle blocks the pool keeps */

/* A block and the chunks in the output buffer that still refer to it. */
struct link_block {
	uint8_t		*data;
	size_t		 length;
	unsigned	 refs;
};

/*
 * Process-wide: an evbuffer gives a block back whenever TLS has sent its
 * last chunk, which may be after the link or the upload is gone.
 */
static struct bufpool	*link_blocks;
static pthread_once_t	 link_blocks_once = PTHREAD_ONCE_INIT;

static void
relay_link_blocks_init(void)
{
	link_blocks = bufpool_new(LINK_READ_BLOCK, LINK_BLOCKS_KEPT);
}

static struct link_block *
relay_link_block_new(void)
{
	struct link_block *b;

	pthread_once(&link_blocks_once, relay_link_blocks_init);
	b = xcalloc(1, sizeof(*b));
	b->data = bufpool_get(link_blocks);
	b->refs = 1;
	return b;
}

static void
relay_link_block_unref(struct link_block *b)
{
	if (b == NULL || --b->refs > 0)
		return;
	bufpool_put(link_blocks, b->data);
	free(b);
}

/* evbuffer cleanup: a chunk of the block went out (or the link closed). */
static void
relay_link_block_sent(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	relay_link_block_unref(arg);
}

/* The upload's spool side: its open file and its unsent block. */
static void
relay_link_upload_free(struct link_upload *up)
{
	if (up->fd != -1)
		close(up->fd);
	if (up->dirfd != -1)
		close(up->dirfd);
	relay_link_block_unref(up->block);
	json_decref(up->files);
	free(up->manifest);
	free(up);
}

/* Drops the upload being sent, not the one waiting for its ACK. */
static void
relay_link_drop_upload(struct relay_link *link)
{
	struct link_upload *up = link->upload;

	if (up == NULL)
		return;
	link->upload = NULL;
	/* A read job still holds it: the job's done frees it. */
	if (up->is_reading) {
		up->is_cancelled = 1;
		return;
	}
	relay_link_upload_free(up);
}

void
relay_link_cancel_upload(struct relay_link *link)
{
	/* Its ACK will not come on another connection: sent again, whole. */
	if (link->acking != NULL)
		relay_link_upload_free(link->acking);
	link->acking = NULL;
	relay_link_drop_upload(link);
}

/*
 * Ends the upload in progress before its last chunk: after the relay's
 * early ACK (refused, or already stored), or when the spool copy cannot
 * be read. Once BEGIN is out the relay expects an END before the next
 * BEGIN, so it gets one, marked abandoned: it drops what it has and the
 * link carries on. Not for a lost link: there is no one to tell.
 */
static void
relay_link_abandon_upload(struct relay_link *link)
{
	struct link_upload *up = link->upload;

	if (up != NULL && up->files != NULL && !up->is_ended)
		relay_link_send(link, FRAME_UPLOAD_END, json_pack("{s:s, s:b}",
		    "id", up->id, "abandoned", 1));
	relay_link_drop_upload(link);
}

/* A snapshot the spool cannot give whole waits before it is tried again. */
static void
relay_link_defer(struct relay_link *link, const char *id)
{
	struct spool_entry *e;

	if ((e = spool_find(&link->rec->spool, id)) != NULL)
		e->retry_after_us = clock_monotonic_us() +
		    LINK_REFUSED_RETRY_US;
}

static uint64_t	relay_link_file_bytes(const struct link_upload *);

/*
 * Worker: the snapshot's directory, read through a descriptor that
 * follows the rename a publish under way makes: its partial dir while
 * it is there, else its place in the spool.
 */
static int
relay_link_open_dir(struct link_upload *up, char *path, size_t len)
{
	int	 flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

	if (up->partial[0] != '\0') {
		snprintf(path, len, "%s", up->partial);
		if ((up->dirfd = open(up->partial, flags)) != -1)
			return 0;
		if (errno != ENOENT)
			return -1;
		/* Gone: published (renamed) since, or failed (removed). */
		up->partial[0] = '\0';
	}
	snprintf(path, len, "%s", up->dir);
	up->dirfd = open(up->dir, flags);
	return up->dirfd == -1 ? -1 : 0;
}

/*
 * Worker: reads the manifest (unless the spool gave it: not yet
 * published), or the next block of the current file (never past the
 * bytes its manifest says it has: the relay checks those against the
 * sha256).
 */
static void
relay_link_read(void *arg)
{
	struct link_upload	*up = arg;
	struct link_block	*b;
	char			 path[CONFIG_PATH_MAX * 2];
	const char		*rel, *dir;
	json_t			*file;
	uint64_t		 left;
	ssize_t			 n;
	int			 fd;

	up->error[0] = '\0';
	if (up->dirfd == -1 && relay_link_open_dir(up, path,
	    sizeof(path)) == -1)
		goto fail;
	/* Error messages name the dir read: partial until published. */
	dir = up->partial[0] != '\0' ? up->partial : up->dir;
	if (up->files == NULL) {
		if (up->manifest != NULL)
			return;
		snprintf(path, sizeof(path), "%s/manifest.json", dir);
		if ((fd = openat(up->dirfd, "manifest.json",
		    O_RDONLY | O_CLOEXEC)) == -1)
			goto fail;
		up->manifest = calloc(1, 1024 * 1024 + 1);
		n = read(fd, up->manifest, 1024 * 1024);
		close(fd);
		if (n <= 0)
			goto fail;
		return;
	}
	file = json_array_get(up->files, up->file_index);
	rel = json_string_value(json_object_get(file, "path"));
	if (rel == NULL)
		rel = "";
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	/* As the spool wrote it: nothing that leaves the snapshot's dir. */
	if (!name_is_valid_path(rel, SPOOL_ID_MAX - 1)) {
		snprintf(up->error, sizeof(up->error), "%s: a path outside "
		    "the snapshot", path);
		return;
	}
	if (up->fd != -1 && up->fd_index != up->file_index) {
		close(up->fd);
		up->fd = -1;
	}
	if (up->fd == -1) {
		if ((up->fd = openat(up->dirfd, rel, O_RDONLY | O_CLOEXEC))
		    == -1)
			goto fail;
		up->fd_index = up->file_index;
	}
	b = up->block = relay_link_block_new();
	left = relay_link_file_bytes(up) - up->offset;
	while (b->length < LINK_READ_BLOCK && left > 0) {
		n = pread(up->fd, b->data + b->length, left < LINK_READ_BLOCK -
		    b->length ? (size_t)left : LINK_READ_BLOCK - b->length,
		    (off_t)(up->offset + b->length));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;		/* short: the loop says so */
		b->length += (size_t)n;
		left -= (uint64_t)n;
	}
	return;
fail:
	snprintf(up->error, sizeof(up->error), "%s: %s", path,
	    strerror(errno != 0 ? errno : EIO));
}

static uint64_t
relay_link_file_bytes(const struct link_upload *up)
{
	json_t *file = json_array_get(up->files, up->file_index);

	return (uint64_t)json_integer_value(json_object_get(file, "bytes"));
}

/*
 * The block as UPLOAD_CHUNKs: each one's header copied, its data a
 * reference into the block, which each reference keeps.
 */
static void
relay_link_push_block(struct relay_link *link, struct link_upload *up)
{
	struct evbuffer		*out = bufferevent_get_output(link->bev);
	struct link_block	*b = up->block;
	uint8_t			 header[FRAME_HEADER_SIZE +
				    FRAME_CHUNK_HEADER_SIZE];
	size_t			 off, n;

	for (off = 0; off < b->length; off += n) {
		n = b->length - off < up->chunk_size ? b->length - off :
		    up->chunk_size;
		if (frame_header(header, FRAME_UPLOAD_CHUNK,
		    FRAME_CHUNK_HEADER_SIZE + n) == -1)
			fatalx("upload chunk of %zu bytes", n);
		frame_chunk_header(header + FRAME_HEADER_SIZE,
		    (uint32_t)up->file_index, up->offset);
		b->refs++;
		if (evbuffer_add(out, header, sizeof(header)) == -1 ||
		    evbuffer_add_reference(out, b->data + off, n,
		    relay_link_block_sent, b) == -1)
			fatalx("evbuffer_add_reference");
		up->offset += n;
		up->sent_bytes += n;
		link->bytes_sent += n;
	}
	up->block = NULL;
	relay_link_block_unref(b);
}

/* Event loop: frames what the worker read, and asks for more if room. */
static void
relay_link_on_read_done(void *arg)
{
	struct link_upload	*up = arg;
	struct relay_link	*link = up->link;
	json_t			*manifest;
	json_error_t		 jerr;

	up->is_reading = 0;
	if (up->is_cancelled) {
		up->link = NULL;
		relay_link_upload_free(up);
		return;
	}
	if (up->error[0] != '\0') {
		log_warnx("relay: upload %s: %s; retrying in %llu s", up->id,
		    up->error, LINK_REFUSED_RETRY_US / 1000000);
		relay_link_defer(link, up->id);
		relay_link_abandon_upload(link);
		relay_link_next(link);
		return;
	}
	if (up->files == NULL) {
		if ((manifest = json_loads(up->manifest, 0, &jerr)) == NULL ||
		    !json_is_array(json_object_get(manifest, "files"))) {
			log_warnx("relay: %s/manifest.json is unreadable: %s; "
			    "retrying in %llu s", up->dir, jerr.text,
			    LINK_REFUSED_RETRY_US / 1000000);
			json_decref(manifest);
			relay_link_defer(link, up->id);
			relay_link_drop_upload(link);
			relay_link_next(link);
			return;
		}
		up->files = json_incref(json_object_get(manifest, "files"));
		relay_link_send(link, FRAME_UPLOAD_BEGIN, manifest);
		log_debug("relay: uploading %s (%zu files)", up->id,
		    json_array_size(up->files));
	} else if (up->block->length > 0) {
		relay_link_push_block(link, up);
	} else {
		relay_link_block_unref(up->block);
		up->block = NULL;
		/* Nothing read, yet relay_link_read_chunk asked: it is short. */
		log_warnx("relay: upload %s: file %zu shorter than its "
		    "manifest says; retrying in %llu s", up->id,
		    up->file_index, LINK_REFUSED_RETRY_US / 1000000);
		relay_link_defer(link, up->id);
		relay_link_abandon_upload(link);
		relay_link_next(link);
		return;
	}
	relay_link_read_chunk(link);
}

/*
 * The upload being sent is whole: it waits for its ACK aside, if the
 * place is free, and the next one starts.
 */
static void
relay_link_await_ack(struct relay_link *link)
{
	struct link_upload *up = link->upload;

	if (up == NULL || !up->is_ended || link->acking != NULL)
		return;
	link->acking = up;
	link->upload = NULL;
	relay_link_next(link);
}

/* Queues the next read, or END when every file has been sent. */
void
relay_link_read_chunk(struct relay_link *link)
{
	struct link_upload *up = link->upload;

	if (up == NULL || up->is_reading || up->is_ended ||
	    link->state != LINK_READY)
		return;
	if (evbuffer_get_length(bufferevent_get_output(link->bev)) >
	    LINK_OUTPUT_HIGH)
		return;		/* the write callback calls again */
	if (up->files != NULL) {
		while (up->file_index < json_array_size(up->files) &&
		    up->offset >= relay_link_file_bytes(up)) {
			up->file_index++;
			up->offset = 0;
		}
		if (up->file_index == json_array_size(up->files)) {
			up->is_ended = 1;
			relay_link_send(link, FRAME_UPLOAD_END,
			    json_pack("{s:s}", "id", up->id));
			relay_link_await_ack(link);
			return;
		}
	}
	up->is_reading = 1;
	worker_submit(link->reader, relay_link_read, relay_link_on_read_done,
	    up);
}

static struct spool_entry *
relay_link_pick(struct relay_link *link)
{
	struct spool_entry	*e;
	uint64_t		 now = clock_monotonic_us();

	TAILQ_FOREACH(e, &link->rec->spool.entries, entry) {
		if (!e->is_uploaded && now >= e->retry_after_us &&
		    (link->acking == NULL || strcmp(e->id,
		    link->acking->id) != 0))
			return e;
	}
	return NULL;
}

/* Starts uploading the oldest snapshot not yet on the relay. */
void
relay_link_next(struct relay_link *link)
{
	struct spool_entry	*e;
	struct link_upload	*up;

	if (link->state != LINK_READY || link->upload != NULL)
		return;
	if ((e = relay_link_pick(link)) == NULL)
		return;
	up = xcalloc(1, sizeof(*up));
	up->link = link;
	snprintf(up->id, sizeof(up->id), "%s", e->id);
	snprintf(up->dir, sizeof(up->dir), "%s/%s", link->rec->spool.dir,
	    e->id);
	if (e->partial[0] != '\0') {
		snprintf(up->partial, sizeof(up->partial), "%s/%s/%s",
		    link->rec->spool.dir, SPOOL_PARTIAL, e->partial);
		up->manifest = xstrdup(e->manifest);
	}
	up->chunk_size = link->rec->conf.relay_upload_chunk;
	up->dirfd = -1;
	up->fd = -1;
	link->upload = up;
	relay_link_read_chunk(link);
}

/* Worker: the marker that survives a restart. */
static void
relay_link_mark(void *arg)
{
	char	*dir = arg, path[CONFIG_PATH_MAX + 32];
	int	 fd;

	snprintf(path, sizeof(path), "%s/%s", dir, LINK_UPLOADED_MARKER);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640)) != -1)
		close(fd);
}

static void
relay_link_on_marked(void *arg)
{
	free(arg);
}

/*
 * The marker of a snapshot in the spool the relay has stored. One not yet
 * published gets it once it is (snapshot.c): written into its partial
 * dir, it would race the removal of a publish that fails. Without a link
 * (a reload just removed the relay) it is not written: after a restart
 * the snapshot goes again, and the relay, which has it, says so at once.
 */
void
relay_link_mark_uploaded(struct relay_link *link, const char *id)
{
	char	 dir[CONFIG_PATH_MAX + SPOOL_ID_MAX];

	if (link == NULL)
		return;
	snprintf(dir, sizeof(dir), "%s/%s", link->rec->spool.dir, id);
	worker_submit(link->reader, relay_link_mark, relay_link_on_marked,
	    xstrdup(dir));
}

void
relay_link_on_ack(struct relay_link *link, json_t *o)
{
	struct link_upload	*up;
	struct spool_entry	*e;
	const char		*id = json_string_value(json_object_get(o, "id"));
	const char		*status = json_string_value(json_object_get(o,
				    "status"));
	const char		*message = json_string_value(json_object_get(o,
				    "message"));
	int			 is_acking;

	/* The relay answers in order: the one aside first, if any. */
	if (id != NULL && link->acking != NULL &&
	    strcmp(id, link->acking->id) == 0)
		up = link->acking;
	else if (id != NULL && link->upload != NULL &&
	    strcmp(id, link->upload->id) == 0)
		up = link->upload;
	else {
		log_warnx("relay: ack for %s, which is not being uploaded",
		    id != NULL ? id : "(no id)");
		return;
	}
	is_acking = up == link->acking;
	e = spool_find(&link->rec->spool, id);
	if (status != NULL && strcmp(status, "stored") == 0) {
		link->uploads++;
		log_info("snapshot %s: stored on the relay (%llu bytes sent)",
		    id, (unsigned long long)up->sent_bytes);
		if (e != NULL) {
			e->is_uploaded = 1;
			if (e->partial[0] == '\0')
				relay_link_mark_uploaded(link, id);
		}
		recorder_snapshot_uploaded(link->rec, id);
	} else {
		link->refused++;
		log_warnx("snapshot %s: refused by the relay: %s; retrying in "
		    "%llu s", id, message != NULL ? message : "no reason",
		    LINK_REFUSED_RETRY_US / 1000000);
		if (e != NULL)
			e->retry_after_us = clock_monotonic_us() +
			    LINK_REFUSED_RETRY_US;
	}
	if (is_acking) {
		link->acking = NULL;
		relay_link_upload_free(up);
		/* One sent whole meanwhile takes its place. */
		relay_link_await_ack(link);
	} else
		relay_link_abandon_upload(link);
	relay_link_next(link);
}
