/*
 * An S3 client for the relay's object store (DESIGN.md "Scale-out tier"):
 * path-style requests to an S3-compatible endpoint (radosgw, MinIO, AWS),
 * signed with AWS Signature Version 4 by s3_sign.c, carried by libcurl.
 *
 * Every call blocks: they are meant for the relay's worker threads, never
 * its event loop. A client (one libcurl handle, its kept-alive connection)
 * belongs to one thread at a time; make one per worker. Errors go into the
 * caller's buffer, never the log.
 *
 * Retries: a connection error, a stalled transfer, a 5xx or a 429 is
 * tried again after a jittered, doubling delay, up to max_attempts; then
 * the call returns S3_UNAVAILABLE ("store unavailable: ...") so that the
 * relay can refuse the ACK and the recorder keeps its copy. A 4xx is not
 * retried. Every write is idempotent by construction: the key is the
 * caller's (a snapshot's path), a repeated PUT replaces the object with
 * the same bytes, and a repeated DELETE of a missing key succeeds.
 */
#ifndef TT_S3_H
#define TT_S3_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define S3_KEY_MAX		1024	/* S3's own limit, in bytes */
#define S3_PART_SIZE_MIN	(5ULL << 20)	/* S3's minimum but the last */
#define S3_PARTS_MAX		10000
#define S3_CREDENTIAL_MAX	256

enum s3_result {
	S3_OK = 0,
	S3_NOT_FOUND,		/* 404: no such key (or bucket) */
	S3_UNAVAILABLE,		/* unreachable, 5xx, stalled: try later */
	S3_REFUSED,		/* another 4xx: credentials, bucket, request */
	S3_LOCAL,		/* reading the file or the caller's callback */
};

struct s3_config {
	const char	*endpoint;	/* http[s]://host[:port], no path */
	const char	*region;	/* radosgw accepts any name */
	const char	*bucket;
	const char	*access_key;
	const char	*secret_key;
	const char	*ca_file;	/* https: a CA bundle; NULL: system's */
	uint64_t	 part_size;	/* multipart above this; 0: 64 MiB */
	int		 max_attempts;	/* 0: 4 */
	unsigned	 backoff_ms;	/* first retry delay, doubled; 0: 100 */
	unsigned	 connect_timeout_ms;	/* 0: 3000 */
	/* A try is given up when under 1 byte/s for this long: 0: 30. libcurl
	 * averages over its last ~5 s, so a stall after a burst is seen
	 * about 6 s later than this (tests/integration/s3.t measures it). */
	unsigned	 stall_timeout_s;
};

/* What HEAD and LIST tell about one object. */
struct s3_object {
	const char	*key;		/* LIST only */
	uint64_t	 size;
	char		 etag[80];	/* without its quotes */
	char		 last_modified[40];	/* LIST only, as S3 wrote it */
};

/* Receives a GET's body in order; returns 0, or -1 to stop (S3_LOCAL). */
typedef int	(*s3_data_cb)(const void *data, size_t len, void *arg);
/* Receives each listed object; returns 0, or -1 to stop (S3_LOCAL). */
typedef int	(*s3_object_cb)(const struct s3_object *object, void *arg);

struct s3_client;

/*
 * Reads an access key and secret from path: lines `access_key = ...`
 * and `secret_key = ...` (# comments, blank lines). Refuses a file that
 * its group or others can read. Returns 0 or -1.
 */
int	s3_credentials_load(const char *path, char *access_key,
	    char *secret_key, size_t len, char *err, size_t errlen);

/* Copies what it needs from config. Returns NULL with err set. */
struct s3_client *s3_client_new(const struct s3_config *config, char *err,
	    size_t errlen);
void	s3_client_free(struct s3_client *client);

/*
 * Stores size bytes of fd (read with pread from offset 0, so fd's position
 * is untouched) as key: one PUT with Content-Length up to the part size,
 * a multipart upload above it (aborted on failure). sha256_hex is the
 * file's sha256 when the caller knows it already (the relay verified it
 * on receipt); NULL has it computed. Parts' digests are always computed.
 */
enum s3_result s3_put_fd(struct s3_client *client, const char *key, int fd,
	    uint64_t size, const char *sha256_hex, char *err, size_t errlen);
/* The same from memory (a summary, a manifest), always one PUT. */
enum s3_result s3_put_buffer(struct s3_client *client, const char *key,
	    const void *data, size_t len, char *err, size_t errlen);

/*
 * Streams key's bytes to cb, each once: a retry after a cut resumes with
 * a Range and If-Match on the first answer's ETag (an object replaced
 * meanwhile, or a store ignoring the Range, is S3_REFUSED, not spliced).
 */
enum s3_result s3_get(struct s3_client *client, const char *key,
	    s3_data_cb cb, void *arg, char *err, size_t errlen);
enum s3_result s3_head(struct s3_client *client, const char *key,
	    struct s3_object *object, char *err, size_t errlen);
/* A key already missing is S3_OK: deleting is idempotent. */
enum s3_result s3_delete(struct s3_client *client, const char *key,
	    char *err, size_t errlen);
/* Every key under prefix (ListObjectsV2, page after page), in order. */
enum s3_result s3_list(struct s3_client *client, const char *prefix,
	    s3_object_cb cb, void *arg, char *err, size_t errlen);
/* HEAD of the bucket: is the store there and are we let in? */
enum s3_result s3_check(struct s3_client *client, char *err, size_t errlen);

/* The multipart steps s3_put_fd() uses, for tests and for resuming. */
enum s3_result s3_multipart_begin(struct s3_client *client, const char *key,
	    char *upload_id, size_t upload_id_len, char *err, size_t errlen);
enum s3_result s3_multipart_part(struct s3_client *client, const char *key,
	    const char *upload_id, int part_number, int fd, uint64_t offset,
	    uint64_t len, char *etag, size_t etag_len, char *err,
	    size_t errlen);
enum s3_result s3_multipart_complete(struct s3_client *client,
	    const char *key, const char *upload_id, char *const *etags,
	    int parts, char *err, size_t errlen);
enum s3_result s3_multipart_abort(struct s3_client *client, const char *key,
	    const char *upload_id, char *err, size_t errlen);

const char *s3_result_name(enum s3_result result);

/* s3_sign.c: AWS Signature Version 4, on OpenSSL's HMAC and SHA-256. */

#define S3_SHA256_HEX_LEN	64
#define S3_EMPTY_SHA256	\
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3_pair {
	const char	*name;
	const char	*value;
};

struct s3_sign_request {
	const char		*method;
	const char		*path;		/* raw: "/bucket/key" */
	const struct s3_pair	*query;		/* raw names and values */
	size_t			 query_count;
	const struct s3_pair	*headers;	/* all signed; any case */
	size_t			 header_count;
	const char		*payload_sha256;	/* hex */
	const char		*region;
	const char		*service;	/* "s3" */
	const char		*access_key;
	const char		*secret_key;
	const char		*amz_date;	/* yyyymmddThhmmssZ */
};

/*
 * SigV4's URI encoding: A-Z a-z 0-9 - _ . ~ kept, every other byte %XX
 * (upper case), '/' kept when is_path. Returns the length written, or -1
 * when out (with its NUL) is too small.
 */
int	s3_sign_encode(const char *in, int is_path, char *out, size_t outlen);
/*
 * The canonical query string: names and values encoded, sorted by name
 * then value, "name=value" joined by '&' (an empty value gives "name=").
 * It is also the query the request must send. Returns 0 or -1 (too long).
 */
int	s3_sign_query(const struct s3_pair *query, size_t count, char *out,
	    size_t outlen);
/*
 * The Authorization header's value for request; the canonical request and
 * string to sign are written to canonical (if not NULL) for tests and
 * debugging. Returns 0 or -1 with err set.
 */
int	s3_sign(const struct s3_sign_request *request, char *authorization,
	    size_t authorization_len, char *canonical, size_t canonical_len,
	    char *err, size_t errlen);
/* hex of sha256(data): out has S3_SHA256_HEX_LEN + 1 bytes. */
void	s3_sign_sha256_hex(const void *data, size_t len, char *out);
/* x-amz-date for t: yyyymmddThhmmssZ (17 bytes with its NUL). */
void	s3_sign_amz_date(time_t t, char *out, size_t outlen);

/* s3_xml.c: the few answers S3 gives in XML, read without a library. */

/*
 * The text of the first <name> element in body, entities decoded; returns
 * its length, or -1 when absent or longer than outlen - 1.
 */
int	s3_xml_text(const char *body, size_t len, const char *name, char *out,
	    size_t outlen);
/*
 * One ListObjectsV2 page: cb for each <Contents>, *is_truncated and the
 * next continuation token. Returns 0, -1 on a malformed page, or 1 when
 * cb asked to stop.
 */
int	s3_xml_list(const char *body, size_t len, s3_object_cb cb, void *arg,
	    int *is_truncated, char *next_token, size_t next_token_len);

/*
 * s3_store.c: snapshots in the bucket, the layout the relay's S3 backend
 * uses: <prefix>incidents/<incident>/<node>/<id>/{manifest.json,
 * summary.json,trace/...}, the same paths as the local store. In the
 * bucket, manifest.json is written last and deleted first: a snapshot
 * whose manifest is there is complete.
 */
struct s3_sweep_stats {
	unsigned	 snapshots;	/* snapshot paths seen */
	unsigned	 orphans;	/* of them deleted */
	unsigned	 objects;	/* objects deleted */
	unsigned	 foreign;	/* keys outside the layout: left */
};

/* Says whether the catalog holds path (incidents/<i>/<n>/<id>). */
typedef int	(*s3_catalogued_cb)(const char *path, void *arg);

/* <prefix><path>/<file> into out; -1 when it does not fit. */
int	s3_store_key(const char *prefix, const char *path, const char *file,
	    char *out, size_t outlen);
/*
 * Uploads the snapshot whose verified copy is in dir (path is its place,
 * incidents/<i>/<n>/<id>): every file of the manifest's files[] with the
 * sha256 the manifest gives (checked on receipt), multipart above the
 * part size, then manifest.json. Idempotent: a retry rewrites the same
 * keys with the same bytes.
 */
enum s3_result s3_store_put_snapshot(struct s3_client *client,
	    const char *prefix, const char *path, const char *dir, char *err,
	    size_t errlen);
/*
 * Deletes the snapshot's objects, manifest.json first. Retention removes
 * the catalog row before calling this, so that the catalog never lists a
 * snapshot without its objects; what a crash leaves is an orphan, for
 * the sweeper.
 */
enum s3_result s3_store_delete_snapshot(struct s3_client *client,
	    const char *prefix, const char *path, char *err, size_t errlen);
/*
 * Lists <prefix>incidents/ and deletes every snapshot the catalog does
 * not hold (is_catalogued returns 0) whose newest object is older than
 * min_age_s (an upload in flight is not an orphan yet).
 */
enum s3_result s3_store_sweep(struct s3_client *client, const char *prefix,
	    s3_catalogued_cb is_catalogued, void *arg, unsigned min_age_s,
	    struct s3_sweep_stats *stats, char *err, size_t errlen);

#endif
