/*
 * libFuzzer target for lib/datagram.c's decoder. Besides not crashing, a
 * parsed trigger must keep the promises of datagram.h, survive trigger_copy()
 * after the original is wiped, and parse again the same once written back
 * out; a refused datagram must come with a printable error message, since
 * the recorder logs it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datagram.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Static: a trigger is about 5 KB, and three of them are used. */
static struct trigger	fuzz_trigger, fuzz_copy, fuzz_again;
static char		fuzz_text[2 * DATAGRAM_MAX];

static void
fuzz_check(int condition)
{
	if (!condition)
		abort();
}

static int
fuzz_is_clean(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	}
	return 1;
}

static int
fuzz_is_in(const char *p, const struct trigger *t)
{
	uintptr_t	at = (uintptr_t)p, base = (uintptr_t)t->text;

	return at >= base && at < base + sizeof t->text;
}

static void
fuzz_check_trigger(const struct trigger *t)
{
	size_t	i;

	fuzz_check(t->source != NULL && t->reason != NULL);
	fuzz_check(strlen(t->source) >= 1 &&
	    strlen(t->source) <= TRIGGER_SOURCE_MAX);
	fuzz_check(strspn(t->source, "abcdefghijklmnopqrstuvwxyz0123456789_-")
	    == strlen(t->source));
	fuzz_check(fuzz_is_clean(t->reason));
	fuzz_check(t->scope == TRIGGER_SCOPE_NODE ||
	    t->scope == TRIGGER_SCOPE_CLUSTER);
	fuzz_check(t->nlabels <= TRIGGER_LABELS_MAX);
	for (i = 0; i < t->nlabels; i++) {
		fuzz_check(fuzz_is_in(t->labels[i].key, t));
		fuzz_check(fuzz_is_in(t->labels[i].value, t));
		fuzz_check(strlen(t->labels[i].key) >= 1 &&
		    strlen(t->labels[i].key) <= TRIGGER_KEY_MAX);
		fuzz_check(fuzz_is_clean(t->labels[i].value));
		/* Keys are unique, so the lookup finds this very label. */
		fuzz_check(trigger_label(t, t->labels[i].key) ==
		    t->labels[i].value);
	}
	fuzz_check(trigger_label(t, "v") == NULL);
	fuzz_check(trigger_label(t, "source") == NULL);
	fuzz_check(trigger_label(t, "reason") == NULL);
	fuzz_check(trigger_label(t, "scope") == NULL);
}

/* Writes t back out as a datagram; returns its length. */
static size_t
fuzz_write(const struct trigger *t)
{
	size_t	len, i;
	int	n;

	n = snprintf(fuzz_text, sizeof fuzz_text,
	    "v=1\nsource=%s\nreason=%s\nscope=%s\n", t->source, t->reason,
	    t->scope == TRIGGER_SCOPE_CLUSTER ? "cluster" : "node");
	fuzz_check(n > 0 && (size_t)n < sizeof fuzz_text);
	len = (size_t)n;
	for (i = 0; i < t->nlabels; i++) {
		n = snprintf(fuzz_text + len, sizeof fuzz_text - len, "%s=%s\n",
		    t->labels[i].key, t->labels[i].value);
		fuzz_check(n > 0 && (size_t)n < sizeof fuzz_text - len);
		len += (size_t)n;
	}
	return len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	err[256];
	size_t	len, i;

	err[0] = '\0';
	if (datagram_parse((const char *)data, size, &fuzz_trigger, err,
	    sizeof err) != 0) {
		fuzz_check(err[0] != '\0');
		for (i = 0; err[i] != '\0'; i++)
			fuzz_check(err[i] >= 0x20 && err[i] < 0x7f);
		return 0;
	}
	fuzz_check_trigger(&fuzz_trigger);

	trigger_copy(&fuzz_copy, &fuzz_trigger);
	memset(fuzz_trigger.text, 0xff, sizeof fuzz_trigger.text);
	fuzz_check_trigger(&fuzz_copy);
	(void)trigger_label(&fuzz_copy, "url");
	(void)trigger_label(&fuzz_copy, "status");

	/* Adding the default fields can push it past the limit. */
	len = fuzz_write(&fuzz_copy);
	if (len > DATAGRAM_MAX)
		return 0;
	fuzz_check(datagram_parse(fuzz_text, len, &fuzz_again, err,
	    sizeof err) == 0);
	fuzz_check(strcmp(fuzz_again.source, fuzz_copy.source) == 0);
	fuzz_check(strcmp(fuzz_again.reason, fuzz_copy.reason) == 0);
	fuzz_check(fuzz_again.scope == fuzz_copy.scope);
	fuzz_check(fuzz_again.nlabels == fuzz_copy.nlabels);
	for (i = 0; i < fuzz_copy.nlabels; i++) {
		fuzz_check(strcmp(fuzz_again.labels[i].key,
		    fuzz_copy.labels[i].key) == 0);
		fuzz_check(strcmp(fuzz_again.labels[i].value,
		    fuzz_copy.labels[i].value) == 0);
	}
	return 0;
}
