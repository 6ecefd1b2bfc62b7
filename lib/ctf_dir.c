#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctf_dir.h"
#include "errbuf.h"
#include "file.h"

#define CTF_PACKET_MAGIC	0xc1fc1fc1U
/* Header (magic, uuid, stream_id, stream_instance_id) + five u64s. */
#define CTF_PACKET_HEAD		72
#define CTF_MAX_PACKETS		(1U << 20)

struct ctf_walk {
	struct ctf_dir	*dir;
	size_t		 streams;
	char		*err;
	size_t		 errlen;
};

static uint64_t
ctf_u64(const unsigned char *p, int is_big_endian)
{
	uint64_t v = 0;
	int	 i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[is_big_endian ? 7 - i : i] << (8 * i);
	return v;
}

static int
ctf_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ctf_stream_file *)a)->name,
	    ((const struct ctf_stream_file *)b)->name);
}

static int
ctf_trace_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ctf_trace_dir *)a)->rel,
	    ((const struct ctf_trace_dir *)b)->rel);
}

int
ctf_dir_index_stream(int fd, uint64_t size, struct ctf_stream_file *f)
{
	unsigned char		 head[CTF_PACKET_HEAD];
	struct ctf_packet	*p, *grown;
	uint64_t		 off = 0, content_bits, size_bits;
	uint32_t		 magic;
	int			 is_big_endian = -1, this_big;
	size_t			 cap = 0;

	f->packets = NULL;
	f->npackets = 0;
	f->is_indexed = 0;
	if (size == 0) {
		f->is_indexed = 1;
		return 0;
	}
	while (off < size) {
		if (size - off < CTF_PACKET_HEAD) {
			snprintf(f->why_not, sizeof(f->why_not),
			    "packet at %llu: cut short", (unsigned long long)off);
			goto fail;
		}
		/* Packets are sub-buffers (4 KiB and up): grow as they come. */
		if (f->npackets == cap) {
			if (cap >= CTF_MAX_PACKETS) {
				snprintf(f->why_not, sizeof(f->why_not),
				    "more than %u packets", CTF_MAX_PACKETS);
				goto fail;
			}
			cap = cap ? 2 * cap : 64;
			if ((grown = realloc(f->packets, cap *
			    sizeof(*grown))) == NULL) {
				snprintf(f->why_not, sizeof(f->why_not),
				    "out of memory");
				goto fail;
			}
			f->packets = grown;
		}
		if (pread(fd, head, sizeof(head), (off_t)off) !=
		    (ssize_t)sizeof(head)) {
			snprintf(f->why_not, sizeof(f->why_not),
			    "packet at %llu: read: %s", (unsigned long long)off,
			    strerror(errno));
			goto fail;
		}
		magic = (uint32_t)head[0] | (uint32_t)head[1] << 8 |
		    (uint32_t)head[2] << 16 | (uint32_t)head[3] << 24;
		if (magic == CTF_PACKET_MAGIC)
			this_big = 0;
		else if (__builtin_bswap32(magic) == CTF_PACKET_MAGIC)
			this_big = 1;
		else {
			snprintf(f->why_not, sizeof(f->why_not),
			    "packet at %llu: no CTF magic",
			    (unsigned long long)off);
			goto fail;
		}
		if (is_big_endian != -1 && this_big != is_big_endian) {
			snprintf(f->why_not, sizeof(f->why_not),
			    "packet at %llu: byte order changed",
			    (unsigned long long)off);
			goto fail;
		}
		is_big_endian = this_big;
		p = &f->packets[f->npackets];
		p->offset = off;
		p->ts_begin = ctf_u64(head + 32, is_big_endian);
		p->ts_end = ctf_u64(head + 40, is_big_endian);
		content_bits = ctf_u64(head + 48, is_big_endian);
		size_bits = ctf_u64(head + 56, is_big_endian);
		p->seq = ctf_u64(head + 64, is_big_endian);
		p->size = size_bits / 8;
		if (size_bits % 8 != 0 || content_bits > size_bits ||
		    p->size < CTF_PACKET_HEAD || p->size > size - off ||
		    content_bits < CTF_PACKET_HEAD * 8 ||
		    p->ts_end < p->ts_begin) {
			snprintf(f->why_not, sizeof(f->why_not),
			    "packet at %llu: header does not read as LTTng's",
			    (unsigned long long)off);
			goto fail;
		}
		off += p->size;
		f->npackets++;
	}
	f->is_indexed = 1;
	if ((grown = realloc(f->packets, f->npackets * sizeof(*grown))) != NULL)
		f->packets = grown;
	return 0;
fail:
	free(f->packets);
	f->packets = NULL;
	f->npackets = 0;
	return -1;
}

static int
ctf_add_stream(struct ctf_walk *w, struct ctf_trace_dir *t, int dfd,
    const char *name)
{
	struct ctf_stream_file	*f, *grown;
	struct stat		 st;
	int			 fd;

	if (w->streams >= CTF_DIR_MAX_STREAMS) {
		errbuf_set(w->err, w->errlen, "more than %d stream files",
		    CTF_DIR_MAX_STREAMS);
		return -1;
	}
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;	/* a link or a vanished file: not a stream */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	grown = realloc(t->streams, (t->nstreams + 1) * sizeof(*t->streams));
	if (grown == NULL) {
		close(fd);
		errbuf_set(w->err, w->errlen, "out of memory");
		return -1;
	}
	t->streams = grown;
	f = &t->streams[t->nstreams++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->bytes = (uint64_t)st.st_size;
	ctf_dir_index_stream(fd, f->bytes, f);
	close(fd);
	w->dir->bytes += f->bytes;
	w->streams++;
	return 0;
}

static int
ctf_walk_dir(struct ctf_walk *w, const char *path, const char *rel, int depth)
{
	struct ctf_trace_dir	*t, *grown;
	struct dirent		*de;
	struct stat		 st;
	DIR			*d;
	char			 sub[PATH_MAX], subrel[PATH_MAX];
	int			 fd, ret = 0;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		errbuf_set(w->err, w->errlen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (fstatat(fd, "metadata", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode)) {
		if (w->dir->ntraces >= CTF_DIR_MAX_TRACES) {
			errbuf_set(w->err, w->errlen, "more than %d traces",
			    CTF_DIR_MAX_TRACES);
			closedir(d);
			return -1;
		}
		grown = realloc(w->dir->traces, (w->dir->ntraces + 1) *
		    sizeof(*grown));
		if (grown == NULL) {
			closedir(d);
			errbuf_set(w->err, w->errlen, "out of memory");
			return -1;
		}
		w->dir->traces = grown;
		t = &grown[w->dir->ntraces++];
		memset(t, 0, sizeof(*t));
		snprintf(t->path, sizeof(t->path), "%s", path);
		snprintf(t->rel, sizeof(t->rel), "%s", rel[0] ? rel : ".");
		while (ret == 0 && (de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' ||
			    strcmp(de->d_name, "metadata") == 0)
				continue;
			ret = ctf_add_stream(w, t, fd, de->d_name);
		}
		if (t->nstreams > 1)
			qsort(t->streams, t->nstreams, sizeof(*t->streams),
			    ctf_name_cmp);
		closedir(d);
		return ret;
	}
	while (ret == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (depth >= CTF_DIR_MAX_DEPTH)
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
		    de->d_name) >= sizeof(sub) ||
		    (size_t)snprintf(subrel, sizeof(subrel), "%s%s%s", rel,
		    rel[0] ? "/" : "", de->d_name) >= sizeof(subrel))
			continue;
		ret = ctf_walk_dir(w, sub, subrel, depth + 1);
	}
	closedir(d);
	return ret;
}

int
ctf_dir_scan(const char *root, struct ctf_dir *dir, char *err, size_t errlen)
{
	struct ctf_walk	 w = { dir, 0, err, errlen };
	char		 real[PATH_MAX];

	memset(dir, 0, sizeof(*dir));
	/*
	 * libbabeltrace2 names streams by their absolute, clean path: the
	 * traces' paths must be the same to be matched against them.
	 */
	if (realpath(root, real) == NULL) {
		errbuf_set(err, errlen, "%s: %s", root, strerror(errno));
		return -1;
	}
	if (ctf_walk_dir(&w, real, "", 0) == -1) {
		ctf_dir_free(dir);
		return -1;
	}
	if (dir->ntraces == 0) {
		errbuf_set(err, errlen, "%s: no CTF trace (no metadata file)",
		    root);
		return -1;
	}
	qsort(dir->traces, dir->ntraces, sizeof(*dir->traces), ctf_trace_cmp);
	return 0;
}

void
ctf_dir_free(struct ctf_dir *dir)
{
	size_t i, j;

	for (i = 0; i < dir->ntraces; i++) {
		for (j = 0; j < dir->traces[i].nstreams; j++)
			free(dir->traces[i].streams[j].packets);
		free(dir->traces[i].streams);
	}
	free(dir->traces);
	memset(dir, 0, sizeof(*dir));
}

const struct ctf_stream_file *
ctf_dir_find_stream(const struct ctf_dir *dir, const char *path,
    const struct ctf_trace_dir **trace)
{
	size_t i, j, n;

	for (i = 0; i < dir->ntraces; i++) {
		n = strlen(dir->traces[i].path);
		if (strncmp(path, dir->traces[i].path, n) != 0 || path[n] != '/')
			continue;
		for (j = 0; j < dir->traces[i].nstreams; j++)
			if (strcmp(path + n + 1,
			    dir->traces[i].streams[j].name) == 0) {
				if (trace != NULL)
					*trace = &dir->traces[i];
				return &dir->traces[i].streams[j];
			}
	}
	return NULL;
}

/* The same with read and write, where copy_file_range() cannot go. */
static int
ctf_copy_slow(int in, int out, uint64_t off, uint64_t len)
{
	char	 buf[65536];
	ssize_t	 n;

	while (len > 0) {
		n = pread(in, buf, len < sizeof(buf) ? len : sizeof(buf),
		    (off_t)off);
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (n == 0)
				errno = EIO;	/* the file shrank */
			return -1;
		}
		if (file_write_all(out, buf, (size_t)n) == -1)
			return -1;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* Copies len bytes at off of in to the end of out. */
static int
ctf_copy(int in, int out, uint64_t off, uint64_t len)
{
	loff_t	 from = (loff_t)off;
	ssize_t	 n;

	while (len > 0) {
		n = copy_file_range(in, &from, out, NULL, len, 0);
		if (n == -1 && (errno == EXDEV || errno == EINVAL ||
		    errno == ENOSYS || errno == EOPNOTSUPP))
			/* Across filesystems (a store on disk, /tmp on tmpfs). */
			return ctf_copy_slow(in, out, (uint64_t)from, len);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* the file shrank */
			return -1;
		}
		len -= (uint64_t)n;
	}
	return 0;
}

static int
ctf_mkdirs(const char *path)
{
	char	 tmp[PATH_MAX], *p;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0700) == -1 && errno != EEXIST ? -1 : 0;
}

static int
ctf_open_pair(const char *from_dir, const char *to_dir, const char *name,
    int *in, int *out)
{
	char	 path[PATH_MAX];

	*in = *out = -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", from_dir, name) >=
	    sizeof(path) || (*in = open(path, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", to_dir, name) >=
	    sizeof(path) || (*out = open(path, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		close(*in);
		*in = -1;
		return -1;
	}
	return 0;
}

int64_t
ctf_dir_write_subset(const struct ctf_dir *dir, const char *out,
    ctf_packet_filter keep, void *arg, uint64_t max_bytes, char *err,
    size_t errlen)
{
	const struct ctf_trace_dir	*t;
	const struct ctf_stream_file	*f;
	struct stat			 st;
	char				 to[PATH_MAX];
	uint64_t			 total = 0, want;
	size_t				 i, j, k, kept;
	int				 in, fd;

	for (i = 0; i < dir->ntraces; i++) {
		t = &dir->traces[i];
		/* What this trace keeps decides whether it is written. */
		for (want = 0, j = 0; j < t->nstreams; j++) {
			f = &t->streams[j];
			if (!f->is_indexed) {
				want += f->bytes;
				continue;
			}
			for (k = 0; k < f->npackets; k++)
				if (keep(t, f, &f->packets[k], arg))
					want += f->packets[k].size;
		}
		if (want == 0)
			continue;
		if (total + want > max_bytes) {
			errbuf_set(err, errlen, "the range covers more than "
			    "%llu MiB of packets: narrow it",
			    (unsigned long long)(max_bytes >> 20));
			return -1;
		}
		if ((size_t)snprintf(to, sizeof(to), "%s/%s", out, t->rel) >=
		    sizeof(to) || ctf_mkdirs(to) == -1)
			goto fail;
		if (ctf_open_pair(t->path, to, "metadata", &in, &fd) == -1)
			goto fail;
		if (fstat(in, &st) == -1 ||
		    ctf_copy(in, fd, 0, (uint64_t)st.st_size) == -1) {
			close(in);
			close(fd);
			goto fail;
		}
		close(in);
		close(fd);
		for (j = 0; j < t->nstreams; j++) {
			f = &t->streams[j];
			for (kept = 0, k = 0; f->is_indexed && k < f->npackets;
			    k++)
				kept += keep(t, f, &f->packets[k], arg) != 0;
			if (f->is_indexed && kept == 0)
				continue;
			if (ctf_open_pair(t->path, to, f->name, &in, &fd) == -1)
				goto fail;
			if (!f->is_indexed) {
				if (ctf_copy(in, fd, 0, f->bytes) == -1)
					goto fail_files;
			} else {
				for (k = 0; k < f->npackets; k++)
					if (keep(t, f, &f->packets[k], arg) &&
					    ctf_copy(in, fd,
					    f->packets[k].offset,
					    f->packets[k].size) == -1)
						goto fail_files;
			}
			close(in);
			close(fd);
		}
		total += want;
	}
	return (int64_t)total;
fail_files:
	close(in);
	close(fd);
fail:
	errbuf_set(err, errlen, "writing the packets of the range under %s: "
	    "%s", out, strerror(errno));
	return -1;
}
