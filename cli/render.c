#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "render.h"
#include "text.h"

struct table {
	size_t	 ncols;
	char	*headers[RENDER_COLS_MAX];
	int	 is_right[RENDER_COLS_MAX];
	char	**cells;	/* rows * ncols */
	size_t	 nrows;
	size_t	 cap;
};

void
render_time(int64_t ns, int is_dated, char *buf, size_t len)
{
	time_t		 sec = (time_t)(ns / 1000000000);
	struct tm	 tm;
	char		 day[32];

	if (ns <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	gmtime_r(&sec, &tm);
	strftime(day, sizeof(day), is_dated ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S",
	    &tm);
	snprintf(buf, len, "%s.%03d", day, (int)(ns % 1000000000 / 1000000));
}

void
render_duration_us(uint64_t us, char *buf, size_t len)
{
	if (us >= 10000000)
		snprintf(buf, len, "%.1f s", (double)us / 1e6);
	else if (us >= 1000000)
		snprintf(buf, len, "%.2f s", (double)us / 1e6);
	else if (us >= 10000)
		snprintf(buf, len, "%.1f ms", (double)us / 1e3);
	else if (us >= 1000)
		snprintf(buf, len, "%.2f ms", (double)us / 1e3);
	else
		snprintf(buf, len, "%llu us", (unsigned long long)us);
}

void
render_count(uint64_t n, char *buf, size_t len)
{
	char	 digits[32];
	size_t	 i, nd, at = 0;

	nd = (size_t)snprintf(digits, sizeof(digits), "%llu",
	    (unsigned long long)n);
	for (i = 0; i < nd && at + 2 < len; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			buf[at++] = ',';
		buf[at++] = digits[i];
	}
	buf[at] = '\0';
}

void
render_bytes(uint64_t n, char *buf, size_t len)
{
	if (n >= 1000000000)
		snprintf(buf, len, "%.1f GB", (double)n / 1e9);
	else if (n >= 1000000)
		snprintf(buf, len, "%.1f MB", (double)n / 1e6);
	else if (n >= 1000)
		snprintf(buf, len, "%.1f kB", (double)n / 1e3);
	else
		snprintf(buf, len, "%llu B", (unsigned long long)n);
}

int
render_parse_time(const char *text, int64_t *ns)
{
	struct tm	 tm;
	const char	*p;
	char		*end;
	int64_t		 frac = 0, scale = 100000000;

	if (strspn(text, "0123456789") == strlen(text) && text[0] != '\0') {
		*ns = strtoll(text, &end, 10);
		return *end == '\0' ? 0 : -1;
	}
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (strcmp(p, "Z") != 0)
		return -1;
	*ns = (int64_t)timegm(&tm) * 1000000000 + frac;
	return 0;
}

struct table *
table_new(const char *const *headers, size_t ncols)
{
	struct table	*t;
	size_t		 i;

	if (ncols > RENDER_COLS_MAX || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ncols = ncols;
	for (i = 0; i < ncols; i++) {
		t->is_right[i] = headers[i][0] == '>';
		t->headers[i] = strdup(headers[i] + t->is_right[i]);
	}
	return t;
}

void
table_add(struct table *t, const char *const *cells)
{
	char	**grown;
	size_t	 i, cap;

	if (t == NULL)
		return;
	if (t->nrows == t->cap) {
		cap = t->cap ? 2 * t->cap : 16;
		grown = realloc(t->cells, cap * t->ncols * sizeof(char *));
		if (grown == NULL)
			return;
		t->cells = grown;
		t->cap = cap;
	}
	for (i = 0; i < t->ncols; i++) {
		t->cells[t->nrows * t->ncols + i] = strdup(cells[i] != NULL &&
		    cells[i][0] != '\0' ? cells[i] : "-");
		if (t->cells[t->nrows * t->ncols + i] != NULL)
			text_terminal_safe(t->cells[t->nrows * t->ncols + i]);
	}
	t->nrows++;
}

/* Display width: code points, not bytes (no wide characters assumed). */
static size_t
render_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The byte length of the first max display columns of s. */
static size_t
render_cut(const char *s, size_t max)
{
	size_t i, cols = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && cols++ == max)
			break;
	}
	return i;
}

void
table_print(struct table *t, FILE *out, size_t max_width)
{
	size_t	 width[RENDER_COLS_MAX], r, c, w, n;
	char	*cell;

	if (t == NULL)
		return;
	for (c = 0; c < t->ncols; c++)
		width[c] = render_width(t->headers[c]);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			cell = t->cells[r * t->ncols + c];
			w = cell ? render_width(cell) : 1;
			if (w > max_width)
				w = max_width;
			if (w > width[c])
				width[c] = w;
		}
	for (r = 0; r <= t->nrows; r++) {
		fputs("  ", out);
		for (c = 0; c < t->ncols; c++) {
			cell = r == 0 ? t->headers[c] :
			    t->cells[(r - 1) * t->ncols + c];
			if (cell == NULL)
				cell = "-";
			n = render_cut(cell, max_width);
			w = render_width(cell);
			if (w > max_width)
				w = max_width;
			if (t->is_right[c])
				fprintf(out, "%*s", (int)(width[c] - w), "");
			fwrite(cell, 1, n, out);
			if (c + 1 < t->ncols)
				fprintf(out, "%*s", (int)(t->is_right[c] ? 2 :
				    width[c] - w + 2), "");
		}
		fputc('\n', out);
	}
}

void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	for (i = 0; i < t->ncols; i++)
		free(t->headers[i]);
	free(t->cells);
	free(t);
}

void
render_text(FILE *out, const char *text, size_t max)
{
	char *copy;

	if (text == NULL)
		text = "";
	if ((copy = strndup(text, max)) == NULL)
		return;
	text_utf8_copy(copy, strlen(copy) + 1, text, strlen(copy));
	text_terminal_safe(copy);
	fputs(copy, out);
	free(copy);
}

int
render_json(const json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	printf("%s\n", text != NULL ? text : "{}");
	free(text);
	return 0;
}
