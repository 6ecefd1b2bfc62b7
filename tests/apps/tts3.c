/*
 * tts3: the relay's S3 client (relay/s3.c) from the command line, for the
 * integration tests (tests/integration/s3.t) and bench/s3-anchor.sh.
 *
 *   tts3 put KEY FILE [SHA256]   tts3 get KEY FILE   tts3 head KEY
 *   tts3 delete KEY              tts3 list PREFIX     tts3 check
 *   tts3 snapshot-put PATH DIR   tts3 snapshot-delete PATH
 *   tts3 sweep MIN_AGE_S [FILE]  delete snapshots not listed in FILE
 *   tts3 bench PREFIX FILE[:SHA256]...   PUT each file (as PREFIX0, 1...),
 *                                print MB/s
 *
 * The store comes from the environment, as `conf/tier.sh env` prints it:
 * TT_S3_ENDPOINT, TT_S3_REGION, TT_S3_BUCKET, TT_S3_CREDENTIALS,
 * TT_S3_PREFIX (the snapshot commands' key prefix), and
 * optionally TT_S3_PART_SIZE (5M, 64M...), TT_S3_ATTEMPTS and
 * TT_S3_STALL_S (seconds without a byte moving before a try is given up).
 * Exit status: 0 done, 1 not found, 2 usage, 3 store unavailable,
 * 4 refused, 5 local error.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "s3.h"
#include "units.h"

static int
write_fd(const void *data, size_t len, void *arg)
{
	int		 fd = *(int *)arg;
	const char	*p = data;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
print_object(const struct s3_object *object, void *arg)
{
	(void)arg;
	printf("%s %llu %s %s\n", object->key,
	    (unsigned long long)object->size, object->etag,
	    object->last_modified);
	return 0;
}

static int
exit_code(enum s3_result result)
{
	switch (result) {
	case S3_OK:
		return 0;
	case S3_NOT_FOUND:
		return 1;
	case S3_UNAVAILABLE:
		return 3;
	case S3_REFUSED:
		return 4;
	case S3_LOCAL:
		break;
	}
	return 5;
}

/* The sweep's catalog: the paths in a file, one a line. */
static int
is_listed(const char *path, void *arg)
{
	FILE	*f;
	char	 line[S3_KEY_MAX + 2];
	int	 found = 0;

	if (arg == NULL || (f = fopen(arg, "re")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		found = strcmp(line, path) == 0;
	}
	fclose(f);
	return found;
}

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum s3_result
put_file(struct s3_client *client, const char *key, const char *path,
    const char *sha256, uint64_t *size, char *err, size_t errlen)
{
	struct stat	 st;
	enum s3_result	 result;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: cannot open", path);
		if (fd >= 0)
			close(fd);
		return S3_LOCAL;
	}
	*size = (uint64_t)st.st_size;
	result = s3_put_fd(client, key, fd, *size, sha256, err, errlen);
	close(fd);
	return result;
}

int
main(int argc, char **argv)
{
	struct s3_config	 config;
	struct s3_client	*client;
	struct s3_object	 object;
	enum s3_result		 result = S3_LOCAL;
	const char		*env, *credentials, *prefix;
	char			 access[S3_CREDENTIAL_MAX];
	char			 secret[S3_CREDENTIAL_MAX];
	char			 err[1024] = "", key[S3_KEY_MAX + 1];
	uint64_t		 size, total = 0;
	double			 t0, t;
	int			 fd, i;

	if (argc < 2) {
		fprintf(stderr, "usage: tts3 put|get|head|delete|list|check|"
		    "bench ...\n");
		return 2;
	}
	memset(&config, 0, sizeof config);
	config.endpoint = getenv("TT_S3_ENDPOINT");
	config.region = getenv("TT_S3_REGION");
	config.bucket = getenv("TT_S3_BUCKET");
	credentials = getenv("TT_S3_CREDENTIALS");
	if ((prefix = getenv("TT_S3_PREFIX")) == NULL)
		prefix = "";
	if (config.endpoint == NULL || config.bucket == NULL ||
	    credentials == NULL) {
		fprintf(stderr, "tts3: set TT_S3_ENDPOINT, TT_S3_BUCKET and "
		    "TT_S3_CREDENTIALS (conf/tier.sh env)\n");
		return 2;
	}
	if ((env = getenv("TT_S3_PART_SIZE")) != NULL &&
	    units_parse_size(env, &config.part_size, err, sizeof err) < 0) {
		fprintf(stderr, "tts3: TT_S3_PART_SIZE: %s\n", err);
		return 2;
	}
	if ((env = getenv("TT_S3_ATTEMPTS")) != NULL)
		config.max_attempts = atoi(env);
	if ((env = getenv("TT_S3_STALL_S")) != NULL)
		config.stall_timeout_s = (unsigned)atoi(env);
	if (s3_credentials_load(credentials, access, secret, sizeof access,
	    err, sizeof err) < 0) {
		fprintf(stderr, "tts3: %s\n", err);
		return 2;
	}
	config.access_key = access;
	config.secret_key = secret;
	if ((client = s3_client_new(&config, err, sizeof err)) == NULL) {
		fprintf(stderr, "tts3: %s\n", err);
		return 2;
	}

	if (strcmp(argv[1], "put") == 0 && (argc == 4 || argc == 5)) {
		result = put_file(client, argv[2], argv[3],
		    argc == 5 ? argv[4] : NULL, &size, err, sizeof err);
	} else if (strcmp(argv[1], "get") == 0 && argc == 4) {
		if ((fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0644)) < 0) {
			fprintf(stderr, "tts3: %s: cannot create\n", argv[3]);
			return 5;
		}
		result = s3_get(client, argv[2], write_fd, &fd, err,
		    sizeof err);
		close(fd);
	} else if (strcmp(argv[1], "head") == 0 && argc == 3) {
		result = s3_head(client, argv[2], &object, err, sizeof err);
		if (result == S3_OK)
			printf("%llu %s\n", (unsigned long long)object.size,
			    object.etag);
	} else if (strcmp(argv[1], "delete") == 0 && argc == 3) {
		result = s3_delete(client, argv[2], err, sizeof err);
	} else if (strcmp(argv[1], "list") == 0 && argc == 3) {
		result = s3_list(client, argv[2], print_object, NULL, err,
		    sizeof err);
	} else if (strcmp(argv[1], "check") == 0 && argc == 2) {
		result = s3_check(client, err, sizeof err);
	} else if (strcmp(argv[1], "snapshot-put") == 0 && argc == 4) {
		result = s3_store_put_snapshot(client, prefix, argv[2], argv[3],
		    err, sizeof err);
	} else if (strcmp(argv[1], "snapshot-delete") == 0 && argc == 3) {
		result = s3_store_delete_snapshot(client, prefix, argv[2], err,
		    sizeof err);
	} else if (strcmp(argv[1], "sweep") == 0 && (argc == 3 || argc == 4)) {
		struct s3_sweep_stats	 stats;

		result = s3_store_sweep(client, prefix, is_listed,
		    argc == 4 ? argv[3] : NULL, (unsigned)atoi(argv[2]), &stats,
		    err, sizeof err);
		if (result == S3_OK)
			printf("snapshots %u orphans %u objects %u "
			    "foreign %u\n",
			    stats.snapshots, stats.orphans, stats.objects,
			    stats.foreign);
	} else if (strcmp(argv[1], "bench") == 0 && argc >= 4) {
		t0 = now();
		for (i = 3; i < argc; i++) {
			char	*sha = strchr(argv[i], ':');

			/* FILE:SHA256, the digest known from the upload. */
			if (sha != NULL)
				*sha++ = '\0';
			snprintf(key, sizeof key, "%s%d", argv[2], i - 3);
			result = put_file(client, key, argv[i], sha, &size,
			    err, sizeof err);
			if (result != S3_OK)
				break;
			total += size;
		}
		t = now() - t0;
		if (result == S3_OK)
			printf("%d files, %llu bytes in %.3f s: %.1f MB/s\n",
			    argc - 3, (unsigned long long)total, t,
			    (double)total / t / 1e6);
	} else {
		fprintf(stderr, "tts3: bad arguments\n");
		s3_client_free(client);
		return 2;
	}
	if (result != S3_OK)
		fprintf(stderr, "tts3: %s\n", err);
	s3_client_free(client);
	return exit_code(result);
}
