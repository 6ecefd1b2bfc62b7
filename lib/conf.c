/*
 * The configuration loaders' shared part (conf.h): the load itself, on a
 * copy; the key table's handler, defaults and lookups; the checks of the
 * whole file. The value types are conf_value.c. The loaders were written
 * one after the other with the same keys in mind, so a path, an address
 * or a duration is checked once, and an operator who has learnt the
 * recorder's messages reads the relay's the same way.
 *
 * Every value is hostile until checked: the fuzzers of both loaders drive
 * this code with any bytes.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ini.h"
#include "units.h"

#define CONF_MESSAGE_MAX	512	/* one parser's message */

void
conf_defaults(const struct conf_table *t, int section, void *base)
{
	const struct conf_key	*k;
	char			 err[CONF_MESSAGE_MAX];
	size_t			 i;

	for (i = 0; i < t->nkeys; i++) {
		k = &t->keys[i];
		if (k->def == NULL || (section != CONF_SECTION_NONE &&
		    k->section != section))
			continue;
		if (k->parse(NULL, k, k->def, (char *)base + k->offset, err,
		    sizeof err) == -1) {
			fprintf(stderr, "the default of key %s is refused: "
			    "%s\n", k->name, err);
			abort();
		}
	}
}

const struct conf_key *
conf_find_key(const struct conf_table *t, int section, const char *name)
{
	size_t	 i;

	for (i = 0; i < t->nkeys; i++) {
		if (t->keys[i].section == section &&
		    strcmp(t->keys[i].name, name) == 0)
			return &t->keys[i];
	}
	return NULL;
}

const char *
conf_section_name(const struct conf_table *t, int section)
{
	size_t	 i;

	for (i = 0; i < t->nsections; i++) {
		if (t->sections[i].section == section)
			return t->sections[i].name;
	}
	return "?";
}

int
conf_section(struct conf_state *cs, unsigned long line, const char *name,
    char *err, size_t errlen)
{
	const struct conf_table	*t = cs->table;
	size_t			 i;

	for (i = 0; i < t->nsections; i++) {
		if (strcmp(name, t->sections[i].name) == 0) {
			cs->section = t->sections[i].section;
			cs->section_line[cs->section] = line;
			return 0;
		}
	}

	/* Keys of a section we refuse are not reported one by one. */
	cs->section = CONF_SECTION_SKIP;
	snprintf(err, errlen, "unknown section [%s] (expected %s)", name,
	    t->expected);
	return -1;
}

/* Lists the section's keys, so that a typo shows next to the right name. */
static void
conf_unknown_key(const struct conf_table *t, int section, const char *name,
    const char *key, char *err, size_t errlen)
{
	size_t	 i, used;
	int	 n, is_first = 1;

	n = snprintf(err, errlen, "[%s] unknown key '%s' (expected", name,
	    key);
	for (i = 0; i < t->nkeys; i++) {
		if (t->keys[i].section != section)
			continue;
		if (n < 0 || (used = n) >= errlen)
			return;
		n = snprintf(err + used, errlen - used, "%s %s",
		    is_first ? "" : ",", t->keys[i].name);
		if (n >= 0)
			n += used;
		is_first = 0;
	}
	if (n >= 0 && (used = n) < errlen)
		snprintf(err + used, errlen - used, ")");
}

int
conf_set(struct conf_state *cs, unsigned long line, const char *section,
    const char *key, const char *value, void *base,
    const struct conf_key **kp, char *err, size_t errlen)
{
	const struct conf_key	*k;
	char			 msg[CONF_MESSAGE_MAX];
	size_t			 index;

	*kp = NULL;
	if (cs->section == CONF_SECTION_SKIP)
		return 0;
	if (cs->section == CONF_SECTION_NONE) {
		snprintf(err, errlen, "key '%s' outside of any [section]", key);
		return -1;
	}
	if ((k = conf_find_key(cs->table, cs->section, key)) == NULL) {
		conf_unknown_key(cs->table, cs->section, section, key, err,
		    errlen);
		return -1;
	}

	index = k - cs->table->keys;
	cs->key_line[index] = line;
	cs->is_key_refused[index] = 1;
	msg[0] = '\0';
	if (k->parse(cs, k, value, (char *)base + k->offset, msg,
	    sizeof msg) == -1) {
		snprintf(err, errlen, "[%s] %s: %s", section, key, msg);
		return -1;
	}
	cs->is_key_refused[index] = 0;
	*kp = k;
	return 0;
}

int
conf_handler(void *state, unsigned long line, const char *section,
    const char *key, const char *value, char *err, size_t errlen)
{
	struct conf_state	*cs = state;
	const struct conf_key	*k;

	if (key == NULL)
		return conf_section(cs, line, section, err, errlen);
	return conf_set(cs, line, section, key, value, cs->conf, &k, err,
	    errlen);
}

int
conf_is_refused(const struct conf_state *cs, const struct conf_key *k)
{
	return cs->is_key_refused[k - cs->table->keys];
}

int
conf_is_set(const struct conf_state *cs, const struct conf_key *k)
{
	return cs->key_line[k - cs->table->keys] != 0;
}

unsigned long
conf_check_line(const struct conf_state *cs, const struct conf_key *k,
    const struct conf_key *fallback)
{
	if (conf_is_set(cs, k))
		return cs->key_line[k - cs->table->keys];
	if (fallback != NULL && conf_is_set(cs, fallback))
		return cs->key_line[fallback - cs->table->keys];
	return cs->section_line[k->section];
}

/*
 * A TLS file must be there when the link or the listener starts, and a
 * private key others can read is no longer private: both are refused at
 * load time, with the line to fix, rather than at the first connection.
 */
int
conf_check_file(const struct conf_state *cs, const struct conf_key *k,
    const struct conf_key *fallback, const void *base, const char *hint,
    const char *name, char *err, size_t errlen)
{
	struct stat	 sb;
	const char	*path = (const char *)base + k->offset, *section;
	unsigned long	 line;
	int		 fd, saved_errno;

	/* A refused line has been reported; its default is not the point. */
	if (conf_is_refused(cs, k))
		return 0;
	if (conf_is_set(cs, k))
		hint = "";
	line = conf_check_line(cs, k, fallback);
	section = conf_section_name(cs->table, k->section);

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1 || fstat(fd, &sb) == -1) {
		saved_errno = errno;
		if (fd != -1)
			close(fd);
		ini_append_error(err, errlen, name, line, "[%s] %s: %s: %s%s",
		    section, k->name, path, strerror(saved_errno), hint);
		return -1;
	}
	close(fd);
	if (!S_ISREG(sb.st_mode)) {
		ini_append_error(err, errlen, name, line, "[%s] %s: %s is not "
		    "a regular file%s", section, k->name, path, hint);
		return -1;
	}
	if ((k->flags & CONF_PRIVATE) &&
	    (sb.st_mode & (S_IRGRP | S_IROTH)) != 0) {
		ini_append_error(err, errlen, name, line, "[%s] %s: %s is "
		    "readable by group or others (chmod 600 it)", section,
		    k->name, path);
		return -1;
	}
	return 0;
}

/* Reads the file at path into *text, which the caller frees. */
static int
conf_read_file(const char *path, char **text, size_t *len, char *err,
    size_t errlen)
{
	char		*buf = NULL, *grown;
	size_t		 used = 0, size = 0;
	ssize_t		 n;
	int		 fd;

	if (errlen > 0)
		err[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (used == size) {
			/* One byte over the limit tells a too large file. */
			if (size == CONF_FILE_MAX + 1) {
				snprintf(err, errlen, "%s: file too large "
				    "(more than %d bytes)\n", path,
				    CONF_FILE_MAX);
				goto fail;
			}
			size = size == 0 ? 8192 : size * 2;
			if (size > CONF_FILE_MAX)
				size = CONF_FILE_MAX + 1;
			if ((grown = realloc(buf, size)) == NULL) {
				snprintf(err, errlen, "%s: %s\n", path,
				    strerror(errno));
				goto fail;
			}
			buf = grown;
		}
		n = read(fd, buf + used, size - used);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s\n", path,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		used += n;
	}
	close(fd);
	*text = buf;
	*len = used;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

int
conf_load_buffer(const struct conf_loader *l, void *conf, const char *name,
    const char *text, size_t len, int flags, char *err, size_t errlen)
{
	struct conf_state	*cs;
	void			*copy;
	int			 nerrors;

	/* Tens of KiB: too much for the stack of a small thread. */
	if ((cs = calloc(1, l->state_size)) == NULL) {
		snprintf(err, errlen, "%s: %s\n", name, strerror(errno));
		return -1;
	}
	copy = (char *)cs + l->conf_offset;
	memcpy(copy, conf, l->conf_size);
	cs->table = l->table;
	cs->conf = copy;
	cs->section = CONF_SECTION_NONE;

	nerrors = ini_parse_buffer_lines(name, text, len, l->handler, cs, err,
	    errlen);
	l->resolve(cs);
	nerrors += l->check(cs, name, flags, err, errlen);
	if (nerrors == 0)
		memcpy(conf, copy, l->conf_size);
	free(cs);
	return nerrors == 0 ? 0 : -1;
}

int
conf_load(const struct conf_loader *l, void *conf, const char *path,
    int flags, char *err, size_t errlen)
{
	char	*text;
	size_t	 len;
	int	 rc;

	if (conf_read_file(path, &text, &len, err, errlen) == -1)
		return -1;
	rc = conf_load_buffer(l, conf, path, text, len, flags, err, errlen);
	free(text);
	return rc;
}
