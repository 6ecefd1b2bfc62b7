/*
 * ttsend: sends trigger datagrams, for the integration tests and benches.
 *
 *   ttsend -s SOCKET [-n COUNT] [-i INTERVAL_US] [-S src1,src2,..]
 *          [-r REASON] [-c] [-w]
 *       COUNT formatted triggers through libtracetrap, sources taken in
 *       turn from the list; -c sets scope=cluster. Without -w a full socket
 *       drops the trigger (libtracetrap's contract); with -w the sender
 *       waits for room instead, so a benchmark measures the receiver.
 *   ttsend -s SOCKET -R FILE
 *       the bytes of FILE as one raw datagram (malformed-input tests).
 *
 * Prints "sent N dropped M seconds S" on stdout.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tracetrap.h"

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
send_raw(const char *socket_path, const char *file)
{
	static char	 buf[1 << 20];
	struct sockaddr_un sun;
	FILE		*f;
	size_t		 len;
	int		 fd;

	if ((f = fopen(file, "rb")) == NULL) {
		perror(file);
		return 2;
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", socket_path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
	    sendto(fd, buf, len, 0, (struct sockaddr *)&sun, sizeof(sun))
	    == -1) {
		perror("sendto");
		return 1;
	}
	close(fd);
	printf("sent 1 dropped 0 seconds 0\n");
	return 0;
}

int
main(int argc, char **argv)
{
	const char	*socket_path = NULL, *raw = NULL, *reason = "ttsend";
	char		*sources_arg = NULL, *sources[64], *save = NULL, *s;
	char		 buf[TRACETRAP_DATAGRAM_MAX];
	struct sockaddr_un sun;
	unsigned long	 count = 1, interval_us = 0, i, sent = 0, dropped = 0;
	size_t		 nsources = 0, len;
	struct timespec	 pause;
	struct pollfd	 pfd;
	double		 start;
	int		 ch, is_cluster = 0, is_wait = 0, fd;

	while ((ch = getopt(argc, argv, "s:n:i:S:r:cwR:")) != -1) {
		switch (ch) {
		case 's':
			socket_path = optarg;
			break;
		case 'n':
			count = strtoul(optarg, NULL, 10);
			break;
		case 'i':
			interval_us = strtoul(optarg, NULL, 10);
			break;
		case 'S':
			sources_arg = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'c':
			is_cluster = 1;
			break;
		case 'w':
			is_wait = 1;
			break;
		case 'R':
			raw = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (socket_path == NULL)
		goto usage;
	if (raw != NULL)
		return send_raw(socket_path, raw);
	if (sources_arg != NULL)
		for (s = strtok_r(sources_arg, ",", &save); s != NULL &&
		    nsources < 64; s = strtok_r(NULL, ",", &save))
			sources[nsources++] = s;
	if (nsources == 0)
		sources[nsources++] = "app";

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", socket_path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0)) == -1)
		return 2;
	pause.tv_sec = (time_t)(interval_us / 1000000);
	pause.tv_nsec = (long)(interval_us % 1000000) * 1000;
	start = now_seconds();
	for (i = 0; i < count; i++) {
		const char *source = sources[i % nsources];

		if (!is_wait) {
			if (tracetrap_trigger_to(socket_path, source, reason,
			    is_cluster ? TRACETRAP_SCOPE_CLUSTER :
			    TRACETRAP_SCOPE_NODE, NULL, 0) == 0)
				sent++;
			else
				dropped++;
		} else {
			len = tracetrap_format(buf, sizeof(buf), source,
			    reason, is_cluster ? TRACETRAP_SCOPE_CLUSTER :
			    TRACETRAP_SCOPE_NODE, NULL, 0);
			while (sendto(fd, buf, len, 0, (struct sockaddr *)&sun,
			    sizeof(sun)) == -1) {
				if (errno != EAGAIN) {
					perror("sendto");
					return 1;
				}
				pfd.fd = fd;
				pfd.events = POLLOUT;
				poll(&pfd, 1, 100);
			}
			sent++;
		}
		if (interval_us > 0)
			nanosleep(&pause, NULL);
	}
	printf("sent %lu dropped %lu seconds %.6f\n", sent, dropped,
	    now_seconds() - start);
	return 0;
usage:
	fprintf(stderr, "usage: ttsend -s SOCKET [-n N] [-i US] [-S SOURCES] "
	    "[-r REASON] [-c] [-w] | -s SOCKET -R FILE\n");
	return 2;
}
