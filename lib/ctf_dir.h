/*
 * The CTF traces of a snapshot, as files: which directories hold a trace
 * (a `metadata` file), which data stream files each has, and the packets
 * of each stream file, read from their headers.
 *
 * LTTng writes no packet index for snapshots, so the packets are found by
 * walking the headers: every LTTng packet starts with the same header and
 * context (magic, uuid, stream ids, then timestamp_begin, timestamp_end,
 * content_size, packet_size, packet_seq_num), whichever tracer wrote it.
 * A stream file whose headers do not read that way (another tracer, a
 * damaged file) is marked unindexed: callers then decode it whole with
 * libbabeltrace2, which remains the only judge of what a trace holds.
 *
 * Two uses: the sequence numbers tell whether a ring overflowed (a first
 * packet numbered N > 0 means N older packets were overwritten), and a
 * time range can be read by decoding only the packets that overlap it
 * (ctf_dir_write_subset() writes those packets as a trace of their own).
 */
#ifndef TT_CTF_DIR_H
#define TT_CTF_DIR_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define CTF_DIR_MAX_TRACES	64
#define CTF_DIR_MAX_STREAMS	4096	/* stream files in all traces */
#define CTF_DIR_MAX_DEPTH	8

struct ctf_packet {
	uint64_t	 offset;	/* bytes into the file */
	uint64_t	 size;		/* bytes, as the header says */
	uint64_t	 ts_begin;	/* raw clock cycles */
	uint64_t	 ts_end;
	uint64_t	 seq;		/* packet_seq_num */
};

struct ctf_stream_file {
	char			 name[NAME_MAX + 1];	/* file name */
	uint64_t		 bytes;
	int			 is_indexed;	/* packets[] is the whole file */
	char			 why_not[128];	/* when not indexed */
	struct ctf_packet	*packets;
	size_t			 npackets;
};

struct ctf_trace_dir {
	char			 path[PATH_MAX];	/* absolute or as given */
	char			 rel[PATH_MAX];		/* relative to the root */
	struct ctf_stream_file	*streams;
	size_t			 nstreams;
};

struct ctf_dir {
	struct ctf_trace_dir	*traces;
	size_t			 ntraces;
	uint64_t		 bytes;		/* of every stream file */
};

/*
 * Finds the traces under root (root itself may be one) and indexes their
 * stream files. Symbolic links are not followed. Returns -1 with err set
 * when root cannot be read or holds no trace at all.
 */
int	ctf_dir_scan(const char *root, struct ctf_dir *, char *err,
	    size_t errlen);
void	ctf_dir_free(struct ctf_dir *);

/* The stream file at path (a trace's path, '/', a file name), or NULL. */
const struct ctf_stream_file *ctf_dir_find_stream(const struct ctf_dir *,
	    const char *path, const struct ctf_trace_dir **trace);

/*
 * Indexes one stream file's packets from its bytes (exposed for the
 * fuzzer and the unit tests). Returns 0 and fills f->packets, or -1 with
 * f->why_not set.
 */
int	ctf_dir_index_stream(int fd, uint64_t size, struct ctf_stream_file *f);

/*
 * Writes under out (an empty directory) a copy of each trace's metadata
 * and, of each stream file, the packets keep() says yes to, so that
 * libbabeltrace2 decodes only those. An unindexed stream file is copied
 * whole. Returns the bytes written, or -1 with err set.
 */
typedef int (*ctf_packet_filter)(const struct ctf_trace_dir *,
    const struct ctf_stream_file *, const struct ctf_packet *, void *arg);
int64_t	ctf_dir_write_subset(const struct ctf_dir *, const char *out,
	    ctf_packet_filter keep, void *arg, uint64_t max_bytes, char *err,
	    size_t errlen);

#endif
