/*
 * POSIX ustar (IEEE Std 1003.1, "pax" interchange format's ustar subset),
 * written by hand: the relay needs a dozen lines of format and a streaming
 * reader of a directory tree, not an archiving library.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tar.h"

/* Field offsets and lengths of a ustar header block. */
#define TAR_NAME_OFF		0
#define TAR_NAME_LEN		100
#define TAR_MODE_OFF		100
#define TAR_UID_OFF		108
#define TAR_GID_OFF		116
#define TAR_ID_LEN		8
#define TAR_SIZE_OFF		124
#define TAR_MTIME_OFF		136
#define TAR_NUMBER_LEN		12
#define TAR_CHECKSUM_OFF	148
#define TAR_CHECKSUM_LEN	8
#define TAR_TYPE_OFF		156
#define TAR_MAGIC_OFF		257
#define TAR_VERSION_OFF		263
#define TAR_PREFIX_OFF		345
#define TAR_PREFIX_LEN		155

enum tar_phase {
	TAR_PHASE_HEADER,
	TAR_PHASE_DATA,
	TAR_PHASE_PADDING,
	TAR_PHASE_TRAILER,
	TAR_PHASE_DONE,
};

struct tar_member {
	char		*path;		/* under the stream's dir; "" for it */
	char		*name;		/* in the archive */
	enum tar_type	 type;
	uint64_t	 size;
	int64_t		 mtime;
};

struct tar_stream {
	char			*dir;
	struct tar_member	*members;
	size_t			 count;
	size_t			 allocated;
	uint64_t		 size;
	int64_t			 mtime;		/* every member's; -1 own */

	/* Where reading stands. */
	size_t			 index;
	enum tar_phase		 phase;
	unsigned char		 block[TAR_BLOCK_SIZE];
	uint64_t		 done;		/* bytes of the current phase */
	int			 fd;
};

/* Writes value in octal, zero-padded, into len - 1 digits and a NUL. */
static int
tar_octal(unsigned char *field, size_t len, uint64_t value)
{
	size_t i = len - 1;

	field[i] = '\0';
	while (i > 0) {
		field[--i] = (unsigned char)('0' + (value & 7));
		value >>= 3;
	}
	return value == 0 ? 0 : -1;
}

/*
 * Where to cut a long name between prefix and name: the first '/' after
 * which at most 100 bytes remain, as long as what is before fits the
 * prefix. A later slash would only lengthen the prefix. The trailing '/'
 * of a directory cannot be the cut: the name field would be empty.
 */
static int
tar_split(const char *name, size_t len, size_t *cut)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (name[i] != '/' || len - i - 1 > TAR_NAME_LEN)
			continue;
		if (i == 0 || i > TAR_PREFIX_LEN)
			return -1;
		*cut = i;
		return 0;
	}
	return -1;
}

int
tar_header(unsigned char block[TAR_BLOCK_SIZE], const char *name,
    enum tar_type type, unsigned mode, uint64_t size, int64_t mtime,
    char *err, size_t errlen)
{
	size_t		 len = strlen(name), cut, i;
	unsigned	 sum = 0;

	memset(block, 0, TAR_BLOCK_SIZE);
	if (len == 0) {
		snprintf(err, errlen, "empty member name");
		return -1;
	}
	if (len <= TAR_NAME_LEN)
		memcpy(block + TAR_NAME_OFF, name, len);
	else if (len < TAR_NAME_MAX && tar_split(name, len, &cut) == 0) {
		memcpy(block + TAR_PREFIX_OFF, name, cut);
		memcpy(block + TAR_NAME_OFF, name + cut + 1, len - cut - 1);
	} else {
		snprintf(err, errlen, "%s: name too long for ustar (at most "
		    "%d bytes, split at a '/' into 155 + 100)", name,
		    TAR_NAME_MAX - 1);
		return -1;
	}
	if (type == TAR_DIRECTORY)
		size = 0;
	if (size > TAR_SIZE_MAX) {
		snprintf(err, errlen, "%s: %llu bytes, more than ustar can "
		    "record", name, (unsigned long long)size);
		return -1;
	}
	/* A time before 1970 or past 2242 is not worth refusing a file. */
	if (mtime < 0)
		mtime = 0;
	if ((uint64_t)mtime > TAR_SIZE_MAX)
		mtime = (int64_t)TAR_SIZE_MAX;
	tar_octal(block + TAR_MODE_OFF, TAR_ID_LEN, mode & 07777);
	tar_octal(block + TAR_UID_OFF, TAR_ID_LEN, 0);
	tar_octal(block + TAR_GID_OFF, TAR_ID_LEN, 0);
	tar_octal(block + TAR_SIZE_OFF, TAR_NUMBER_LEN, size);
	tar_octal(block + TAR_MTIME_OFF, TAR_NUMBER_LEN, (uint64_t)mtime);
	block[TAR_TYPE_OFF] = type == TAR_DIRECTORY ? '5' : '0';
	memcpy(block + TAR_MAGIC_OFF, "ustar", 6);	/* with its NUL */
	memcpy(block + TAR_VERSION_OFF, "00", 2);

	/* The checksum is taken with its own field read as spaces. */
	memset(block + TAR_CHECKSUM_OFF, ' ', TAR_CHECKSUM_LEN);
	for (i = 0; i < TAR_BLOCK_SIZE; i++)
		sum += block[i];
	tar_octal(block + TAR_CHECKSUM_OFF, 7, sum);
	block[TAR_CHECKSUM_OFF + 7] = ' ';
	return 0;
}

size_t
tar_padding(uint64_t size)
{
	return (size_t)((TAR_BLOCK_SIZE - size % TAR_BLOCK_SIZE) %
	    TAR_BLOCK_SIZE);
}

static int
tar_stream_add(struct tar_stream *ts, const char *path, const char *prefix,
    enum tar_type type, const struct stat *st, char *err, size_t errlen)
{
	unsigned char		 block[TAR_BLOCK_SIZE];
	struct tar_member	*m;
	size_t			 n;
	char			 name[TAR_NAME_MAX + 2];
	int64_t			 mtime;
	int			 len;

	len = snprintf(name, sizeof(name), "%s/%s%s", prefix, path,
	    type == TAR_DIRECTORY && path[0] != '\0' ? "/" : "");
	if (len < 0 || (size_t)len >= sizeof(name)) {
		snprintf(err, errlen, "%s/%s: name too long for ustar", prefix,
		    path);
		return -1;
	}
	/* Checked now, so reading can never fail on a name. */
	mtime = ts->mtime >= 0 ? ts->mtime : (int64_t)st->st_mtime;
	if (tar_header(block, name, type, 0, (uint64_t)st->st_size,
	    mtime, err, errlen) == -1)
		return -1;
	if (ts->count == ts->allocated) {
		n = ts->allocated == 0 ? 32 : ts->allocated * 2;
		if ((m = reallocarray(ts->members, n, sizeof(*m))) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		ts->members = m;
		ts->allocated = n;
	}
	m = &ts->members[ts->count];
	m->type = type;
	m->size = type == TAR_FILE ? (uint64_t)st->st_size : 0;
	m->mtime = mtime;
	m->path = strdup(path);
	m->name = strdup(name);
	if (m->path == NULL || m->name == NULL) {
		free(m->path);
		free(m->name);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ts->count++;
	ts->size += TAR_BLOCK_SIZE + m->size + tar_padding(m->size);
	return 0;
}

static int
tar_compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the members under path (relative to ts->dir), sorted by name. */
static int
tar_stream_walk(struct tar_stream *ts, const char *path, const char *prefix,
    int depth, int depth_max, char *err, size_t errlen)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		 full[8192], child[8192], **names = NULL, **more;
	size_t		 count = 0, allocated = 0, i;
	int		 ret = -1;

	if (depth > depth_max) {
		snprintf(err, errlen, "%s: deeper than %d directories", path,
		    depth_max);
		return -1;
	}
	snprintf(full, sizeof(full), "%s/%s", ts->dir, path);
	if ((d = opendir(full)) == NULL) {
		snprintf(err, errlen, "%s: %s", full, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		/*
		 * A snapshot's archive is what its node sent: manifest.json
		 * and trace/, not the relay's summary.json beside them.
		 */
		if (path[0] == '\0' && strcmp(de->d_name, "manifest.json") != 0 &&
		    strcmp(de->d_name, "trace") != 0)
			continue;
		if (count == allocated) {
			allocated = allocated == 0 ? 16 : allocated * 2;
			more = reallocarray(names, allocated, sizeof(*names));
			if (more == NULL)
				goto nomem;
			names = more;
		}
		if ((names[count] = strdup(de->d_name)) == NULL)
			goto nomem;
		count++;
	}
	qsort(names, count, sizeof(*names), tar_compare_names);
	for (i = 0; i < count; i++) {
		if ((size_t)snprintf(child, sizeof(child), "%s%s%s", path,
		    path[0] != '\0' ? "/" : "", names[i]) >= sizeof(child)) {
			snprintf(err, errlen, "%s/%s: path too long", path,
			    names[i]);
			goto end;
		}
		snprintf(full, sizeof(full), "%s/%s", ts->dir, child);
		if (lstat(full, &st) == -1) {
			snprintf(err, errlen, "%s: %s", full, strerror(errno));
			goto end;
		}
		if (S_ISDIR(st.st_mode)) {
			if (tar_stream_add(ts, child, prefix, TAR_DIRECTORY,
			    &st, err, errlen) == -1 ||
			    tar_stream_walk(ts, child, prefix, depth + 1,
			    depth_max, err, errlen) == -1)
				goto end;
		} else if (S_ISREG(st.st_mode)) {
			if (tar_stream_add(ts, child, prefix, TAR_FILE, &st,
			    err, errlen) == -1)
				goto end;
		}
	}
	ret = 0;
	goto end;
nomem:
	snprintf(err, errlen, "out of memory");
end:
	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return ret;
}

struct tar_stream *
tar_stream_open(const char *dir, const char *prefix, int depth_max,
    int64_t mtime, char *err, size_t errlen)
{
	struct tar_stream	*ts;
	struct stat		 st;

	if (prefix[0] == '\0' || prefix[0] == '/' ||
	    prefix[strlen(prefix) - 1] == '/') {
		snprintf(err, errlen, "invalid archive prefix '%s'", prefix);
		return NULL;
	}
	if (lstat(dir, &st) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return NULL;
	}
	if ((ts = calloc(1, sizeof(*ts))) == NULL ||
	    (ts->dir = strdup(dir)) == NULL) {
		free(ts);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ts->fd = -1;
	ts->mtime = mtime;
	if (tar_stream_add(ts, "", prefix, TAR_DIRECTORY, &st, err,
	    errlen) == -1 ||
	    tar_stream_walk(ts, "", prefix, 1, depth_max, err, errlen) == -1) {
		tar_stream_free(ts);
		return NULL;
	}
	ts->size += TAR_TRAILER_SIZE;
	return ts;
}

uint64_t
tar_stream_size(const struct tar_stream *ts)
{
	return ts->size;
}

size_t
tar_stream_members(const struct tar_stream *ts)
{
	return ts->count;
}

/* Opens the current member's file, checking it is still what was walked. */
static int
tar_stream_open_file(struct tar_stream *ts, const struct tar_member *m,
    char *err, size_t errlen)
{
	struct stat	 st;
	char		 full[8192];

	snprintf(full, sizeof(full), "%s/%s", ts->dir, m->path);
	/* O_NOFOLLOW: a symlink swapped in since the walk is not followed. */
	ts->fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (ts->fd == -1) {
		snprintf(err, errlen, "%s: %s", full, strerror(errno));
		return -1;
	}
	if (fstat(ts->fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: no longer a regular file", full);
		return -1;
	}
	return 0;
}

ssize_t
tar_stream_read(struct tar_stream *ts, void *buf, size_t len, char *err,
    size_t errlen)
{
	unsigned char		*out = buf;
	struct tar_member	*m;
	size_t			 used = 0, n;
	uint64_t		 left;
	ssize_t			 got;

	while (used < len && ts->phase != TAR_PHASE_DONE) {
		m = ts->index < ts->count ? &ts->members[ts->index] : NULL;
		switch (ts->phase) {
		case TAR_PHASE_HEADER:
			if (m == NULL) {
				ts->phase = TAR_PHASE_TRAILER;
				ts->done = 0;
				break;
			}
			if (ts->done == 0 && tar_header(ts->block, m->name,
			    m->type, m->type == TAR_DIRECTORY ? 0755 : 0644,
			    m->size, m->mtime, err, errlen) == -1)
				return -1;
			n = TAR_BLOCK_SIZE - (size_t)ts->done;
			if (n > len - used)
				n = len - used;
			memcpy(out + used, ts->block + ts->done, n);
			used += n;
			ts->done += n;
			if (ts->done == TAR_BLOCK_SIZE) {
				ts->phase = TAR_PHASE_DATA;
				ts->done = 0;
			}
			break;
		case TAR_PHASE_DATA:
			if (m->size == 0) {
				ts->phase = TAR_PHASE_PADDING;
				break;
			}
			if (ts->fd == -1 &&
			    tar_stream_open_file(ts, m, err, errlen) == -1)
				return -1;
			left = m->size - ts->done;
			n = len - used < left ? len - used : (size_t)left;
			got = read(ts->fd, out + used, n);
			if (got == -1 && errno == EINTR)
				break;
			if (got <= 0) {
				snprintf(err, errlen, "%s/%s: %s", ts->dir,
				    m->path, got == 0 ? "shorter than when "
				    "the archive started" : strerror(errno));
				return -1;
			}
			used += (size_t)got;
			ts->done += (uint64_t)got;
			if (ts->done == m->size) {
				close(ts->fd);
				ts->fd = -1;
				ts->phase = TAR_PHASE_PADDING;
				ts->done = 0;
			}
			break;
		case TAR_PHASE_PADDING:
			n = tar_padding(m->size) - (size_t)ts->done;
			if (n > len - used)
				n = len - used;
			memset(out + used, 0, n);
			used += n;
			ts->done += n;
			if (ts->done == tar_padding(m->size)) {
				ts->index++;
				ts->phase = TAR_PHASE_HEADER;
				ts->done = 0;
			}
			break;
		case TAR_PHASE_TRAILER:
			n = TAR_TRAILER_SIZE - (size_t)ts->done;
			if (n > len - used)
				n = len - used;
			memset(out + used, 0, n);
			used += n;
			ts->done += n;
			if (ts->done == TAR_TRAILER_SIZE)
				ts->phase = TAR_PHASE_DONE;
			break;
		case TAR_PHASE_DONE:
			break;
		}
	}
	return (ssize_t)used;
}

void
tar_stream_free(struct tar_stream *ts)
{
	size_t i;

	if (ts == NULL)
		return;
	if (ts->fd != -1)
		close(ts->fd);
	for (i = 0; i < ts->count; i++) {
		free(ts->members[i].path);
		free(ts->members[i].name);
	}
	free(ts->members);
	free(ts->dir);
	free(ts);
}
