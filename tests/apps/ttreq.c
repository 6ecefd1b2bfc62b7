/*
 * ttreq: a real lttng-ust application that writes HTTP requests into the
 * trace exactly as mod_tracetrap does (the tracetrap_httpd provider), on
 * the threads and in the order a test script says, so the analyzer's
 * tests know what the trace holds.
 *
 * usage: ttreq SCRIPT STATEFILE [LINGER_SECONDS [GOFILE]]
 *
 * SCRIPT lines (tokens percent-decoded, so any byte can be sent):
 *   begin T ID METHOD URI VHOST
 *   end T ID METHOD URI VHOST STATUS DURATION_US TRIGGERED
 *   work T ID STEP WHAT
 *   sleep MS
 * T is the thread: 0 (main) or 1 (a second thread of the process), so a
 * request may begin on one thread and end on another. With GOFILE, the
 * script starts only once that file exists (a test creates it when its
 * session records). When the script is done, "done" goes to STATEFILE
 * and the app stays registered with the session daemon for
 * LINGER_SECONDS.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LTTNG_UST_TRACEPOINT_DEFINE
#include "ttreq_tp.h"
#include "tracetrap_httpd_tp.h"

#define MAX_TOKENS	10

struct command {
	char	*tok[MAX_TOKENS];
	int	 ntok;
};

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cond = PTHREAD_COND_INITIALIZER;
static struct command	*pending;	/* for thread 1 */
static int		 is_done_running;

static void
decode(char *s)
{
	char	*out = s;
	unsigned v;

	for (; *s != '\0'; s++) {
		if (*s == '%' && s[1] && s[2] && sscanf(s + 1, "%2x", &v) == 1) {
			*out++ = (char)v;
			s += 2;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

static void
run(const struct command *c)
{
	char * const *t = c->tok;

	if (strcmp(t[0], "begin") == 0 && c->ntok == 6)
		lttng_ust_tracepoint(tracetrap_httpd, request_begin, t[2], t[3],
		    t[4], t[5]);
	else if (strcmp(t[0], "end") == 0 && c->ntok == 9)
		lttng_ust_tracepoint(tracetrap_httpd, request_end, t[2], t[3],
		    t[4], t[5], atoi(t[6]), strtoull(t[7], NULL, 10),
		    atoi(t[8]));
	else if (strcmp(t[0], "work") == 0 && c->ntok == 5)
		lttng_ust_tracepoint(ttreq, work, t[2], atoi(t[3]), t[4]);
	else
		fprintf(stderr, "ttreq: bad line: %s (%d tokens)\n", t[0],
		    c->ntok);
}

static void *
second_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		while (pending == NULL)
			pthread_cond_wait(&cond, &lock);
		run(pending);
		pending = NULL;
		is_done_running = 1;
		pthread_cond_broadcast(&cond);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct command	 c;
	struct timespec	 ts;
	pthread_t	 th;
	FILE		*f, *state;
	char		 line[8192], *save, *tok;
	long		 ms;

	if (argc < 3) {
		fprintf(stderr, "usage: ttreq SCRIPT STATEFILE [LINGER]\n");
		return 2;
	}
	if ((f = fopen(argv[1], "r")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	pthread_create(&th, NULL, second_thread, NULL);
	while (argc > 4 && access(argv[4], F_OK) == -1) {
		ts.tv_sec = 0;
		ts.tv_nsec = 10 * 1000000;
		nanosleep(&ts, NULL);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		c.ntok = 0;
		for (tok = strtok_r(line, " ", &save); tok && c.ntok < MAX_TOKENS;
		    tok = strtok_r(NULL, " ", &save)) {
			decode(tok);
			c.tok[c.ntok++] = tok;
		}
		if (c.ntok == 0 || c.tok[0][0] == '#')
			continue;
		if (strcmp(c.tok[0], "sleep") == 0 && c.ntok == 2) {
			ms = atol(c.tok[1]);
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (ms % 1000) * 1000000;
			nanosleep(&ts, NULL);
			continue;
		}
		if (c.ntok < 2 || strcmp(c.tok[1], "1") != 0) {
			run(&c);
			continue;
		}
		pthread_mutex_lock(&lock);
		is_done_running = 0;
		pending = &c;
		pthread_cond_broadcast(&cond);
		while (!is_done_running)
			pthread_cond_wait(&cond, &lock);
		pthread_mutex_unlock(&lock);
	}
	fclose(f);
	if ((state = fopen(argv[2], "w")) != NULL) {
		fprintf(state, "done %ld\n", (long)getpid());
		fclose(state);
	}
	sleep(argc > 3 ? (unsigned)atoi(argv[3]) : 0);
	return 0;
}
