/*
 * The relay link's uploader (relay_link_int.h): every snapshot in the
 * spool, oldest first, one at a time; marked uploaded (an ".uploaded"
 * marker, so a restart remembers) only after the relay's ACK "stored".
 * File reads happen on a worker thread, and the next chunk is read only
 * when the TLS output buffer has room, so a large snapshot never sits in
 * memory and the loop never blocks on the disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "log.h"
#include "relay_link_int.h"
#include "xmalloc.h"

void
relay_link_cancel_upload(struct relay_link *link)
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
	json_decref(up->files);
	free(up->manifest);
	free(up->chunk);
	free(up);
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
	relay_link_cancel_upload(link);
}

/* A snapshot the spool cannot give whole waits before it is tried again. */
static void
relay_link_defer(struct relay_link *link, const char *id)
{
	struct spool_entry *e;

	TAILQ_FOREACH(e, &link->rec->spool.entries, entry)
		if (strcmp(e->id, id) == 0)
			e->retry_after_us = clock_monotonic_us() +
			    LINK_REFUSED_RETRY_US;
}

/* Worker: reads the manifest, or the next chunk of the current file. */
static void
relay_link_read(void *arg)
{
	struct link_upload	*up = arg;
	char			 path[CONFIG_PATH_MAX * 2];
	const char		*rel;
	json_t			*file;
	ssize_t			 n;
	int			 fd;

	up->error[0] = '\0';
	if (up->manifest == NULL && up->files == NULL) {
		snprintf(path, sizeof(path), "%s/manifest.json", up->dir);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
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
	snprintf(path, sizeof(path), "%s/%s", up->dir, rel != NULL ? rel : "");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		goto fail;
	n = pread(fd, up->chunk, up->chunk_size, (off_t)up->offset);
	close(fd);
	if (n < 0)
		goto fail;
	up->chunk_length = (size_t)n;
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

/* Event loop: frames what the worker read, and asks for more if room. */
static void
relay_link_on_read_done(void *arg)
{
	struct link_upload	*up = arg;
	struct relay_link	*link = up->link;
	struct evbuffer		*out;
	json_t			*manifest;
	json_error_t		 jerr;

	up->is_reading = 0;
	if (up->is_cancelled) {
		up->link = NULL;
		json_decref(up->files);
		free(up->manifest);
		free(up->chunk);
		free(up);
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
	out = bufferevent_get_output(link->bev);
	if (up->files == NULL) {
		if ((manifest = json_loads(up->manifest, 0, &jerr)) == NULL ||
		    !json_is_array(json_object_get(manifest, "files"))) {
			log_warnx("relay: %s/manifest.json is unreadable: %s; "
			    "retrying in %llu s", up->dir, jerr.text,
			    LINK_REFUSED_RETRY_US / 1000000);
			json_decref(manifest);
			relay_link_defer(link, up->id);
			relay_link_cancel_upload(link);
			relay_link_next(link);
			return;
		}
		up->files = json_incref(json_object_get(manifest, "files"));
		relay_link_send(link, FRAME_UPLOAD_BEGIN, manifest);
		log_debug("relay: uploading %s (%zu files)", up->id,
		    json_array_size(up->files));
	} else if (up->chunk_length > 0) {
		frame_push_chunk(out, (uint32_t)up->file_index, up->offset,
		    up->chunk, up->chunk_length);
		up->offset += up->chunk_length;
		up->sent_bytes += up->chunk_length;
		link->bytes_sent += up->chunk_length;
	} else if (up->offset < relay_link_file_bytes(up)) {
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
		if (!e->is_uploaded && now >= e->retry_after_us)
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
	up->chunk_size = link->rec->conf.relay_upload_chunk;
	up->chunk = xmalloc(up->chunk_size);
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

void
relay_link_on_ack(struct relay_link *link, json_t *o)
{
	struct link_upload	*up = link->upload;
	struct spool_entry	*e;
	const char		*id = json_string_value(json_object_get(o, "id"));
	const char		*status = json_string_value(json_object_get(o,
				    "status"));
	const char		*message = json_string_value(json_object_get(o,
				    "message"));

	if (up == NULL || id == NULL || strcmp(id, up->id) != 0) {
		log_warnx("relay: ack for %s, which is not being uploaded",
		    id != NULL ? id : "(no id)");
		return;
	}
	TAILQ_FOREACH(e, &link->rec->spool.entries, entry)
		if (strcmp(e->id, id) == 0)
			break;
	if (status != NULL && strcmp(status, "stored") == 0) {
		link->uploads++;
		log_info("snapshot %s: stored on the relay (%llu bytes sent)",
		    id, (unsigned long long)up->sent_bytes);
		if (e != NULL) {
			e->is_uploaded = 1;
			worker_submit(link->reader, relay_link_mark,
			    relay_link_on_marked, strdup(up->dir));
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
	relay_link_abandon_upload(link);
	relay_link_next(link);
}
