/*
 * tracetrap fetch ID [-o DIR] [--relay URL] [--token T]
 *
 * Downloads a snapshot's archive from the relay into a temporary file
 * (at most --max-size bytes), extracts it with our own strict reader
 * (untar.c), checks every file against the manifest's sha256, and only
 * then renames it into place as DIR/ID: an interrupted, oversized or
 * corrupt fetch leaves nothing that looks like a trace.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "file.h"
#include "name.h"
#include "units.h"
#include "untar.h"

/* The store's limit on a snapshot id or a path component. */
#define FETCH_NAME_MAX	127
#define FETCH_MAX_SIZE	"8G"		/* --max-size's default */
#define FETCH_OPT_MAX_SIZE	0x200

static void
fetch_usage(void)
{
	fprintf(stderr,
	    "usage: tracetrap fetch ID [-o DIR] [--max-size SIZE] [--relay URL]\n"
	    "                       [--token TOKEN] [--ca FILE --cert FILE "
	    "--key FILE]\n"
	    "Writes the snapshot to DIR/ID (DIR defaults to the current "
	    "directory), refusing\nan archive over SIZE (default "
	    FETCH_MAX_SIZE "); `tracetrap list` shows the IDs;\n"
	    REMOTE_USAGE);
}

/* The sha256 of a file under dir, as lowercase hex. */
static int
fetch_sha256(int dirfd, const char *path, char hex[65], char *err,
    size_t errlen)
{
	int	 fd, ret;

	if ((fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((ret = file_sha256(fd, hex, NULL)) == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	close(fd);
	return ret;
}

/*
 * Every file the manifest lists is there with its sha256, and nothing
 * else is: the archive held the manifest and exactly these files. A path
 * listed twice would let another file of the archive go unchecked.
 */
static int
fetch_verify(const char *dir, const char *id, unsigned files_extracted,
    unsigned *verified, char *err, size_t errlen)
{
	json_t		*manifest, *files, *file, *seen = NULL;
	json_error_t	 jerr;
	const char	*path, *sha256;
	char		 manifest_path[PATH_MAX], hex[65];
	size_t		 i;
	int		 dirfd = -1, ret = -1;

	*verified = 0;
	snprintf(manifest_path, sizeof(manifest_path), "%s/manifest.json",
	    dir);
	if ((manifest = json_load_file(manifest_path, 0, &jerr)) == NULL) {
		snprintf(err, errlen, "manifest.json: %s", jerr.text);
		return -1;
	}
	files = json_object_get(manifest, "files");
	if (!json_is_array(files) || json_string_value(json_object_get(
	    manifest, "id")) == NULL || strcmp(json_string_value(
	    json_object_get(manifest, "id")), id) != 0) {
		snprintf(err, errlen, "manifest.json is not the manifest of "
		    "%s", id);
		goto end;
	}
	if ((seen = json_object()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto end;
	}
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto end;
	}
	json_array_foreach(files, i, file) {
		path = json_string_value(json_object_get(file, "path"));
		sha256 = json_string_value(json_object_get(file, "sha256"));
		if (path == NULL || sha256 == NULL ||
		    !name_is_valid_path(path, FETCH_NAME_MAX)) {
			snprintf(err, errlen, "manifest.json: files[%zu] is "
			    "malformed", i);
			goto end;
		}
		if (json_object_get(seen, path) != NULL) {
			snprintf(err, errlen, "manifest.json lists %s twice",
			    path);
			goto end;
		}
		if (json_object_set_new(seen, path, json_true()) == -1) {
			snprintf(err, errlen, "out of memory");
			goto end;
		}
		if (fetch_sha256(dirfd, path, hex, err, errlen) == -1)
			goto end;
		if (strcmp(hex, sha256) != 0) {
			snprintf(err, errlen, "%s: sha256 %s, the manifest "
			    "says %s", path, hex, sha256);
			goto end;
		}
		(*verified)++;
	}
	if (*verified + 1 != files_extracted) {
		snprintf(err, errlen, "the archive holds %u files besides "
		    "manifest.json, the manifest lists %u", files_extracted - 1,
		    *verified);
		goto end;
	}
	ret = 0;
end:
	if (dirfd != -1)
		close(dirfd);
	json_decref(seen);
	json_decref(manifest);
	return ret;
}

int
fetch_main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "max-size", required_argument, NULL, FETCH_OPT_MAX_SIZE },
		REMOTE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct http_endpoint	 ep;
	struct http_response	 res;
	struct untar_stats	 stats;
	struct stat		 st;
	struct remote_opts	 ro;
	const char		*out = ".", *id;
	char			 dir[PATH_MAX], tmp[PATH_MAX], path[PATH_MAX];
	char			 final[PATH_MAX], target[256], err[1024];
	unsigned		 verified;
	uint64_t		 max_size;
	int			 ch, fd = -1, code = EXIT_USAGE;

	remote_opts_init(&ro);
	if (units_parse_size(FETCH_MAX_SIZE, &max_size, err, sizeof(err)) ==
	    -1)
		abort();
	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:r:t:", options, NULL)) != -1) {
		if (remote_opts_take(&ro, ch, optarg))
			continue;
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case FETCH_OPT_MAX_SIZE:
			if (units_parse_size(optarg, &max_size, err,
			    sizeof(err)) == -1) {
				fprintf(stderr, "tracetrap: fetch: --max-size: "
				    "%s\n", err);
				return EXIT_USAGE;
			}
			break;
		default:
			fetch_usage();
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fetch_usage();
		return EXIT_USAGE;
	}
	id = argv[optind];
	if (!name_is_valid(id, FETCH_NAME_MAX)) {
		fprintf(stderr, "tracetrap: fetch: '%s' is not a snapshot id "
		    "([A-Za-z0-9._-]); `tracetrap list` shows them\n", id);
		return EXIT_USAGE;
	}
	if (remote_open(&ep, &ro) == -1)
		return EXIT_USAGE;
	if (mkdir(out, 0755) == -1 && errno != EEXIST) {
		fprintf(stderr, "tracetrap: fetch: %s: %s\n", out,
		    strerror(errno));
		return EXIT_USAGE;
	}
	if (realpath(out, dir) == NULL) {
		fprintf(stderr, "tracetrap: fetch: %s: %s\n", out,
		    strerror(errno));
		return EXIT_USAGE;
	}
	snprintf(final, sizeof(final), "%s/%s", dir, id);
	if (lstat(final, &st) == 0) {
		fprintf(stderr, "tracetrap: fetch: %s already exists; remove "
		    "it or choose another -o DIR\n", final);
		return EXIT_USAGE;
	}
	/* In DIR, so the last step is a rename on one filesystem. */
	snprintf(tmp, sizeof(tmp), "%s/.tracetrap-fetch-XXXXXX", dir);
	if (mkdtemp(tmp) == NULL) {
		fprintf(stderr, "tracetrap: fetch: cannot create a temporary "
		    "directory in %s: %s\n", dir, strerror(errno));
		return EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "%s/archive.tar", tmp);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		fprintf(stderr, "tracetrap: fetch: %s: %s\n", path,
		    strerror(errno));
		goto end;
	}
	snprintf(target, sizeof(target), "/v1/snapshots/%s/archive", id);
	if (http_download(&ep, target, fd, max_size, &res, err,
	    sizeof(err)) == -1) {
		if (res.status == 200)
			fprintf(stderr, "tracetrap: fetch: the archive of %s "
			    "could not be read: %s\nNothing was written to "
			    "%s.\n", id, err, dir);
		else
			remote_unreachable(&ep, &res, err);
		http_response_free(&res);
		goto end;
	}
	if (res.status != 200) {
		code = remote_failure(&ep, &res, "fetch");
		if (res.status == 404)
			fprintf(stderr, "`tracetrap list` shows the snapshots "
			    "this relay has.\n");
		http_response_free(&res);
		goto end;
	}
	if (lseek(fd, 0, SEEK_SET) == -1 ||
	    untar_extract(fd, tmp, id, &stats, err, sizeof(err)) == -1) {
		fprintf(stderr, "tracetrap: fetch: the archive of %s is "
		    "unusable: %s\n", id, err);
		goto end;
	}
	close(fd);
	fd = -1;
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", tmp, id);
	if (fetch_verify(path, id, stats.files, &verified, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "tracetrap: fetch: %s does not match its "
		    "manifest: %s\nFetch it again; if it fails the same way, "
		    "the relay's copy is damaged.\n", id, err);
		goto end;
	}
	if (rename(path, final) == -1) {
		fprintf(stderr, "tracetrap: fetch: %s: %s\n", final,
		    strerror(errno));
		goto end;
	}
	printf("snapshot %s: %u files, %llu bytes, every checksum verified\n"
	    "  manifest  %s/manifest.json\n  trace     %s/trace\n"
	    "read it with:\n  babeltrace2 %s/trace\n", id, verified,
	    (unsigned long long)stats.bytes, final, final, final);
	code = EXIT_OK;
end:
	if (fd != -1)
		close(fd);
	file_remove_tree(tmp, 0, NULL, 0);
	return code;
}
