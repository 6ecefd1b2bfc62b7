/*
 * Strict ustar extraction (see untar.h). Directories are walked with
 * openat(O_NOFOLLOW | O_DIRECTORY) one component at a time and files
 * created with O_EXCL | O_NOFOLLOW, so even a symlink planted in the
 * destination while we extract cannot redirect a write.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "name.h"
#include "untar.h"

#define UNTAR_BLOCK		512
#define UNTAR_NAME_MAX		257	/* prefix + '/' + name + NUL */
#define UNTAR_COMPONENT_MAX	128	/* the store's name limit, NUL in */

/* Header fields used here: offset and length. */
#define UNTAR_NAME_OFF		0
#define UNTAR_NAME_LEN		100
#define UNTAR_MODE_OFF		100
#define UNTAR_SIZE_OFF		124
#define UNTAR_MTIME_OFF		136
#define UNTAR_NUMBER_LEN	12
#define UNTAR_CHECKSUM_OFF	148
#define UNTAR_CHECKSUM_LEN	8
#define UNTAR_TYPE_OFF		156
#define UNTAR_MAGIC_OFF		257
#define UNTAR_PREFIX_OFF	345
#define UNTAR_PREFIX_LEN	155

struct untar_member {
	char		 name[UNTAR_NAME_MAX];
	char		*parts[UNTAR_DEPTH_MAX];
	int		 nparts;
	int		 is_directory;
	uint64_t	 size;
	int64_t		 mtime;
};

/* 0 with a full block, 1 at EOF before any byte, -1 otherwise. */
static int
untar_read_block(int fd, unsigned char *block, char *err, size_t errlen)
{
	size_t	 done = 0;
	ssize_t	 n;

	while (done < UNTAR_BLOCK) {
		n = read(fd, block + done, UNTAR_BLOCK - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "read: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			if (done == 0)
				return 1;
			snprintf(err, errlen, "archive truncated in a block");
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/*
 * An octal field: optional leading spaces, digits, then NULs or spaces to
 * the end. Base-256 (a GNU extension for large values) is refused.
 */
static int
untar_octal(const unsigned char *field, size_t len, uint64_t *value)
{
	size_t	 i = 0;
	int	 has_digit = 0;

	*value = 0;
	while (i < len && field[i] == ' ')
		i++;
	for (; i < len && field[i] >= '0' && field[i] <= '7'; i++) {
		if (*value > (UINT64_MAX >> 3))
			return -1;
		*value = (*value << 3) | (uint64_t)(field[i] - '0');
		has_digit = 1;
	}
	for (; i < len; i++)
		if (field[i] != '\0' && field[i] != ' ')
			return -1;
	return has_digit ? 0 : -1;
}

static int
untar_is_zero(const unsigned char *block)
{
	size_t i;

	for (i = 0; i < UNTAR_BLOCK; i++)
		if (block[i] != 0)
			return 0;
	return 1;
}

static int
untar_checksum_ok(const unsigned char *block)
{
	uint64_t	 expected;
	unsigned	 sum = 0;
	int		 signed_sum = 0;
	size_t		 i;

	if (untar_octal(block + UNTAR_CHECKSUM_OFF, UNTAR_CHECKSUM_LEN,
	    &expected) == -1)
		return 0;
	for (i = 0; i < UNTAR_BLOCK; i++) {
		if (i >= UNTAR_CHECKSUM_OFF &&
		    i < UNTAR_CHECKSUM_OFF + UNTAR_CHECKSUM_LEN) {
			sum += ' ';
			signed_sum += ' ';
		} else {
			sum += block[i];
			signed_sum += (signed char)block[i];
		}
	}
	/* Some old writers summed signed chars; both are in the wild. */
	return expected == sum || (int64_t)expected == signed_sum;
}

/* A fixed-size field that may fill its whole length without a NUL. */
static size_t
untar_field_len(const unsigned char *field, size_t len)
{
	const unsigned char *nul = memchr(field, '\0', len);

	return nul != NULL ? (size_t)(nul - field) : len;
}

static int
untar_parse(const unsigned char *block, const char *root,
    struct untar_member *m, char *err, size_t errlen)
{
	size_t		 prefix_len, name_len, len;
	uint64_t	 mtime;
	char		*p, *slash, type = (char)block[UNTAR_TYPE_OFF];

	memset(m, 0, sizeof(*m));
	if (memcmp(block + UNTAR_MAGIC_OFF, "ustar\0" "00", 8) != 0) {
		snprintf(err, errlen, "not a POSIX ustar archive");
		return -1;
	}
	if (!untar_checksum_ok(block)) {
		snprintf(err, errlen, "header checksum mismatch");
		return -1;
	}
	prefix_len = untar_field_len(block + UNTAR_PREFIX_OFF,
	    UNTAR_PREFIX_LEN);
	name_len = untar_field_len(block + UNTAR_NAME_OFF, UNTAR_NAME_LEN);
	len = 0;
	if (prefix_len > 0) {
		memcpy(m->name, block + UNTAR_PREFIX_OFF, prefix_len);
		m->name[prefix_len] = '/';
		len = prefix_len + 1;
	}
	memcpy(m->name + len, block + UNTAR_NAME_OFF, name_len);
	m->name[len + name_len] = '\0';

	switch (type) {
	case '0':
	case '\0':
		break;
	case '5':
		m->is_directory = 1;
		break;
	case '1':
	case '2':
		snprintf(err, errlen, "%s: links are refused", m->name);
		return -1;
	case '3':
	case '4':
	case '6':
		snprintf(err, errlen, "%s: devices and FIFOs are refused",
		    m->name);
		return -1;
	default:
		snprintf(err, errlen, "%s: member type '%c' is refused "
		    "(directories and regular files only)", m->name,
		    type >= ' ' && type <= '~' ? type : '?');
		return -1;
	}
	if (untar_octal(block + UNTAR_SIZE_OFF, UNTAR_NUMBER_LEN,
	    &m->size) == -1 ||
	    untar_octal(block + UNTAR_MTIME_OFF, UNTAR_NUMBER_LEN,
	    &mtime) == -1) {
		snprintf(err, errlen, "%s: malformed size or time", m->name);
		return -1;
	}
	m->mtime = (int64_t)(mtime & INT64_MAX);
	if (m->is_directory && m->size != 0) {
		snprintf(err, errlen, "%s: a directory with data", m->name);
		return -1;
	}

	/* Only a directory's name may end with '/'. */
	len = strlen(m->name);
	if (m->is_directory && len > 0 && m->name[len - 1] == '/')
		m->name[--len] = '\0';
	for (p = m->name; p != NULL; p = slash) {
		if ((slash = strchr(p, '/')) != NULL)
			*slash++ = '\0';
		if (!name_is_valid(p, UNTAR_COMPONENT_MAX - 1) ||
		    m->nparts == UNTAR_DEPTH_MAX) {
			snprintf(err, errlen, "member name refused: component "
			    "'%s' (absolute, '..', hidden, too deep or not "
			    "[A-Za-z0-9._-])", p);
			return -1;
		}
		m->parts[m->nparts++] = p;
	}
	if (strcmp(m->parts[0], root) != 0) {
		snprintf(err, errlen, "member outside %s/: %s...", root,
		    m->parts[0]);
		return -1;
	}
	return 0;
}

/*
 * Opens the directory holding the member's last component, creating the
 * missing ones. Never follows a symlink.
 */
static int
untar_parent(int dirfd, const struct untar_member *m, char *err,
    size_t errlen)
{
	int	 fd = dup(dirfd), next, i;

	if (fd == -1) {
		snprintf(err, errlen, "dup: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < m->nparts - 1; i++) {
		next = openat(fd, m->parts[i], O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (next == -1 && errno == ENOENT) {
			if (mkdirat(fd, m->parts[i], 0755) == -1 &&
			    errno != EEXIST)
				goto fail;
			next = openat(fd, m->parts[i], O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next == -1)
			goto fail;
		close(fd);
		fd = next;
	}
	return fd;
fail:
	snprintf(err, errlen, "%s: component %s: %s", m->name, m->parts[i],
	    errno == ELOOP || errno == ENOTDIR ? "not a directory (a "
	    "symlink?)" : strerror(errno));
	close(fd);
	return -1;
}

static int
untar_directory(int parent, const struct untar_member *m, char *err,
    size_t errlen)
{
	struct stat	 st;
	const char	*last = m->parts[m->nparts - 1];

	if (mkdirat(parent, last, 0755) == 0)
		return 0;
	/* Made already as a parent of an earlier member: fine. */
	if (errno == EEXIST && fstatat(parent, last, &st,
	    AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
		return 0;
	snprintf(err, errlen, "%s: %s", m->name, errno == EEXIST ?
	    "exists and is not a directory" : strerror(errno));
	return -1;
}

/* Writes the member's data, then skips its padding. */
static int
untar_file(int fd, int parent, const struct untar_member *m, char *err,
    size_t errlen)
{
	struct timespec	 times[2];
	char		 buf[65536];
	uint64_t	 data_left = m->size, left;
	size_t		 n, keep;
	ssize_t		 got;
	int		 out, ret = -1;

	/* The data, then zeros up to the next block. */
	left = m->size + (UNTAR_BLOCK - m->size % UNTAR_BLOCK) % UNTAR_BLOCK;
	out = openat(parent, m->parts[m->nparts - 1], O_WRONLY | O_CREAT |
	    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out == -1) {
		snprintf(err, errlen, "%s: %s", m->name, errno == EEXIST ?
		    "listed twice in the archive" : strerror(errno));
		return -1;
	}
	while (left > 0) {
		n = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		got = read(fd, buf, n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0) {
			snprintf(err, errlen, "%s: archive truncated in its "
			    "data%s%s", m->name, got == -1 ? ": " : "",
			    got == -1 ? strerror(errno) : "");
			goto end;
		}
		keep = data_left < (uint64_t)got ? (size_t)data_left :
		    (size_t)got;
		if (keep > 0 && write(out, buf, keep) != (ssize_t)keep) {
			snprintf(err, errlen, "%s: write: %s", m->name,
			    strerror(errno));
			goto end;
		}
		data_left -= keep;
		left -= (uint64_t)got;
	}
	times[0].tv_sec = times[1].tv_sec = (time_t)m->mtime;
	times[0].tv_nsec = times[1].tv_nsec = 0;
	futimens(out, times);
	ret = 0;
end:
	close(out);
	return ret;
}

int
untar_extract(int fd, const char *dir, const char *root,
    struct untar_stats *stats, char *err, size_t errlen)
{
	unsigned char		 block[UNTAR_BLOCK];
	struct untar_member	 m;
	int			 dirfd, parent, rc, ret = -1;

	memset(stats, 0, sizeof(*stats));
	if (!name_is_valid(root, UNTAR_COMPONENT_MAX - 1)) {
		snprintf(err, errlen, "invalid archive root '%s'", root);
		return -1;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (;;) {
		if ((rc = untar_read_block(fd, block, err, errlen)) != 0) {
			if (rc == 1)
				snprintf(err, errlen, "archive truncated: no "
				    "end-of-archive blocks");
			goto end;
		}
		if (untar_is_zero(block)) {
			/* The end is two zero blocks. */
			if ((rc = untar_read_block(fd, block, err,
			    errlen)) != 0 || !untar_is_zero(block)) {
				if (rc >= 0)
					snprintf(err, errlen, "archive "
					    "truncated or corrupt at its end");
				goto end;
			}
			break;
		}
		if (untar_parse(block, root, &m, err, errlen) == -1)
			goto end;
		if (m.nparts == 1 && !m.is_directory) {
			snprintf(err, errlen, "%s: a file where the %s/ "
			    "directory belongs", m.name, root);
			goto end;
		}
		if ((parent = untar_parent(dirfd, &m, err, errlen)) == -1)
			goto end;
		if (m.is_directory) {
			rc = untar_directory(parent, &m, err, errlen);
			stats->directories++;
		} else {
			rc = untar_file(fd, parent, &m, err, errlen);
			stats->files++;
			stats->bytes += m.size;
		}
		close(parent);
		if (rc == -1)
			goto end;
	}
	ret = 0;
end:
	close(dirfd);
	return ret;
}
