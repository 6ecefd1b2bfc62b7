/*
 * Unit tests of relay/s3.c without a store: the credentials file, the
 * configuration checks, and the retry policy against a scripted server
 * on a loopback socket (a thread answering each connection with one
 * canned reply and recording the request). The real store is exercised
 * by tests/integration/s3.t against radosgw.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s3.h"

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void
test_credentials(void **state)
{
	char	 dir[] = "/tmp/test_s3.XXXXXX", path[64];
	char	 access[S3_CREDENTIAL_MAX], secret[S3_CREDENTIAL_MAX], err[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/creds", dir);
	write_file(path, "# the tier's user\naccess_key = AK1\n\n"
	    "secret_key=s/e+c=\n", 0600);
	assert_int_equal(s3_credentials_load(path, access, secret,
	    sizeof access, err, sizeof err), 0);
	assert_string_equal(access, "AK1");
	assert_string_equal(secret, "s/e+c=");

	/* Readable by the group: refused, with what to do. */
	chmod(path, 0640);
	assert_int_equal(s3_credentials_load(path, access, secret,
	    sizeof access, err, sizeof err), -1);
	assert_non_null(strstr(err, "chmod 600"));

	write_file(path, "access_key = AK1\n", 0600);
	assert_int_equal(s3_credentials_load(path, access, secret,
	    sizeof access, err, sizeof err), -1);
	assert_non_null(strstr(err, "secret_key"));
	write_file(path, "access_key = AK1\nsecret = x\n", 0600);
	assert_int_equal(s3_credentials_load(path, access, secret,
	    sizeof access, err, sizeof err), -1);
	assert_non_null(strstr(err, ":2: unknown key secret"));
	unlink(path);
	assert_int_equal(s3_credentials_load(path, access, secret,
	    sizeof access, err, sizeof err), -1);
	rmdir(dir);
}

static struct s3_config
config_for(const char *endpoint)
{
	struct s3_config	 config = {
		.endpoint = endpoint, .region = "default", .bucket = "b",
		.access_key = "a", .secret_key = "s", .max_attempts = 3,
		.backoff_ms = 10, .connect_timeout_ms = 1000,
	};

	return config;
}

static void
test_config_checks(void **state)
{
	struct s3_config	 config = config_for("http://127.0.0.1:1");
	struct s3_client	*client;
	char			 err[256];

	(void)state;
	client = s3_client_new(&config, err, sizeof err);
	assert_non_null(client);
	s3_client_free(client);
	config.endpoint = "ftp://x";
	assert_null(s3_client_new(&config, err, sizeof err));
	config.endpoint = "http://x/path";
	assert_null(s3_client_new(&config, err, sizeof err));
	config.endpoint = "http://x";
	config.bucket = "a/b";
	assert_null(s3_client_new(&config, err, sizeof err));
	config.bucket = "b";
	config.part_size = 1 << 20;
	assert_null(s3_client_new(&config, err, sizeof err));
	assert_non_null(strstr(err, "5 MiB"));
}

/* The scripted server: connection i gets replies[i] (the last one
 * repeats), then is closed; the first two requests are kept. */
struct server {
	int		 fd;
	int		 port;
	const char	*replies[4];
	int		 reply_count;
	int		 connections;
	char		 first_request[2048];
	char		 second_request[2048];
	pthread_t	 thread;
};

static void *
serve(void *arg)
{
	struct server	*s = arg;
	char		 buf[8192];
	const char	*reply;
	ssize_t		 n;
	size_t		 have;
	int		 c;

	while ((c = accept(s->fd, NULL, NULL)) >= 0) {
		have = 0;
		while (have < sizeof buf - 1 && (n = read(c, buf + have,
		    sizeof buf - 1 - have)) > 0) {
			have += (size_t)n;
			buf[have] = '\0';
			if (strstr(buf, "\r\n\r\n") != NULL)
				break;
		}
		buf[have] = '\0';
		reply = s->replies[s->connections < s->reply_count ?
		    s->connections : s->reply_count - 1];
		if (s->connections == 0)
			snprintf(s->first_request, sizeof s->first_request,
			    "%s", buf);
		else if (s->connections == 1)
			snprintf(s->second_request, sizeof s->second_request,
			    "%s", buf);
		s->connections++;
		if (write(c, reply, strlen(reply)) < 0)
			break;
		close(c);
	}
	return NULL;
}

static void
server_start(struct server *s, const char *reply)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;

	memset(s, 0, sizeof *s);
	s->replies[0] = reply;
	s->reply_count = 1;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(s->fd, 8), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sin, &len), 0);
	s->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void
server_stop(struct server *s)
{
	shutdown(s->fd, SHUT_RDWR);
	close(s->fd);
	pthread_join(s->thread, NULL);
}

static struct s3_client *
client_for(struct server *s)
{
	struct s3_config	 config;
	char			 endpoint[64], err[256];
	struct s3_client	*client;

	snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", s->port);
	config = config_for(endpoint);
	client = s3_client_new(&config, err, sizeof err);
	assert_non_null(client);
	return client;
}

static void
test_unavailable_after_retries(void **state)
{
	struct server		 s;
	struct s3_client	*client;
	char			 err[512];

	(void)state;
	server_start(&s, "HTTP/1.1 503 Slow Down\r\nContent-Length: 58\r\n"
	    "Connection: close\r\n\r\n"
	    "<Error><Code>SlowDown</Code><Message>m</Message></Error>\r\n");
	client = client_for(&s);
	assert_int_equal(s3_put_buffer(client, "incidents/i/n/id/manifest.json",
	    "{}", 2, err, sizeof err), S3_UNAVAILABLE);
	assert_int_equal(s.connections, 3);
	assert_non_null(strstr(err, "store unavailable: PUT incidents/i/n/id/"
	    "manifest.json at http://127.0.0.1:"));
	assert_non_null(strstr(err, "HTTP 503 SlowDown: m (3 attempts"));
	/* What was sent: the path encoded once, the payload's digest, and
	 * the signature over exactly these headers. */
	assert_non_null(strstr(s.first_request,
	    "PUT /b/incidents/i/n/id/manifest.json HTTP/1.1\r\n"));
	assert_non_null(strstr(s.first_request, "x-amz-content-sha256: "
	    "44136fa355b3678a1146ad16f7e8649e"
	    "94fb4fc21fe77e8310c060f61caaff8a"));
	assert_non_null(strstr(s.first_request, "SignedHeaders=host;"
	    "x-amz-content-sha256;x-amz-date, Signature="));
	assert_non_null(strstr(s.first_request, "Content-Length: 2\r\n"));
	assert_null(strstr(s.first_request, "Expect:"));
	s3_client_free(client);
	server_stop(&s);
}

static void
test_not_found_not_retried(void **state)
{
	struct server		 s;
	struct s3_client	*client;
	struct s3_object	 object;
	char			 err[512];

	(void)state;
	server_start(&s, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n");
	client = client_for(&s);
	assert_int_equal(s3_head(client, "a b/c", &object, err, sizeof err),
	    S3_NOT_FOUND);
	assert_int_equal(s.connections, 1);
	assert_non_null(strstr(s.first_request, "HEAD /b/a%20b/c HTTP/1.1"));
	/* Deleting what is not there is done already. */
	assert_int_equal(s3_delete(client, "a b/c", err, sizeof err), S3_OK);
	s3_client_free(client);
	server_stop(&s);
}

static void
test_refused_not_retried(void **state)
{
	struct server		 s;
	struct s3_client	*client;
	char			 id[64], err[512];

	(void)state;
	server_start(&s, "HTTP/1.1 403 Forbidden\r\nContent-Length: 54\r\n"
	    "Connection: close\r\n\r\n"
	    "<Error><Code>SignatureDoesNotMatch</Code></Error>\r\n\r\n\r\n");
	client = client_for(&s);
	assert_int_equal(s3_multipart_begin(client, "k", id, sizeof id, err,
	    sizeof err), S3_REFUSED);
	assert_int_equal(s.connections, 1);
	assert_non_null(strstr(err, "HTTP 403 SignatureDoesNotMatch"));
	assert_non_null(strstr(s.first_request, "POST /b/k?uploads= HTTP/1.1"));
	s3_client_free(client);
	server_stop(&s);
}

static int
collect_body(const void *data, size_t len, void *arg)
{
	char	*body = arg;

	if (strlen(body) + len >= 64)
		return -1;
	strncat(body, data, len);
	return 0;
}

/* A GET cut after 5 of its 10 bytes resumes with a Range on the same
 * ETag: the caller gets each byte once. */
static void
test_get_resumes(void **state)
{
	struct server		 s;
	struct s3_client	*client;
	char			 body[64] = "", err[512];

	(void)state;
	server_start(&s, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
	    "ETag: \"e1\"\r\n\r\n01234");
	s.replies[1] = "HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\n"
	    "Content-Range: bytes 5-9/10\r\nETag: \"e1\"\r\n\r\n56789";
	s.reply_count = 2;
	client = client_for(&s);
	assert_int_equal(s3_get(client, "k", collect_body, body, err,
	    sizeof err), S3_OK);
	assert_string_equal(body, "0123456789");
	assert_int_equal(s.connections, 2);
	assert_null(strstr(s.first_request, "range:"));
	assert_non_null(strstr(s.second_request, "range: bytes=5-\r\n"));
	assert_non_null(strstr(s.second_request, "if-match: \"e1\"\r\n"));
	assert_non_null(strstr(s.second_request, "SignedHeaders=host;"
	    "if-match;range;x-amz-content-sha256;x-amz-date,"));
	s3_client_free(client);
	server_stop(&s);
}

/* A store that answers the resume with the whole object again would
 * hand the first bytes twice: refused instead. */
static void
test_get_resume_refused(void **state)
{
	struct server		 s;
	struct s3_client	*client;
	char			 body[64] = "", err[512];

	(void)state;
	server_start(&s, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
	    "ETag: \"e1\"\r\n\r\n01234");
	s.replies[1] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
	    "ETag: \"e1\"\r\n\r\n0123456789";
	s.reply_count = 2;
	client = client_for(&s);
	assert_int_equal(s3_get(client, "k", collect_body, body, err,
	    sizeof err), S3_REFUSED);
	assert_string_equal(body, "01234");
	assert_non_null(strstr(err, "resumed GET with the whole object"));
	s3_client_free(client);
	server_stop(&s);
}

static void
test_nothing_listening(void **state)
{
	struct server		 s;
	struct s3_client	*client;
	char			 err[512];

	(void)state;
	/* A port that was just free: connection refused, at once. */
	server_start(&s, "");
	server_stop(&s);
	client = client_for(&s);
	assert_int_equal(s3_check(client, err, sizeof err), S3_UNAVAILABLE);
	assert_non_null(strstr(err, "store unavailable: HEAD bucket b"));
	s3_client_free(client);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_config_checks),
		cmocka_unit_test(test_unavailable_after_retries),
		cmocka_unit_test(test_not_found_not_retried),
		cmocka_unit_test(test_refused_not_retried),
		cmocka_unit_test(test_get_resumes),
		cmocka_unit_test(test_get_resume_refused),
		cmocka_unit_test(test_nothing_listening),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
