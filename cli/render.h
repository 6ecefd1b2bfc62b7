/*
 * Tables and figures for the terminal: times, durations, counts, and
 * text from nodes made safe to print (no control character from a
 * manifest or a trace ever reaches the terminal).
 */
#ifndef TT_RENDER_H
#define TT_RENDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RENDER_COLS_MAX	12

/* "14:02:12.488" (UTC); with the date when is_dated. */
void	render_time(int64_t ns, int is_dated, char *buf, size_t len);
/* "2.30 s", "12.3 ms", "150 us". */
void	render_duration_us(uint64_t us, char *buf, size_t len);
/*
 * An answer as --json prints it: indented, keys sorted, "{}" when it
 * cannot be encoded. Returns EXIT_OK (0), for the callers' return.
 */
struct json_t;
int	render_json(const struct json_t *);
/* "1,204". */
void	render_count(uint64_t n, char *buf, size_t len);
/* "7.7 MB". */
void	render_bytes(uint64_t n, char *buf, size_t len);
/* Parses integer ns since the epoch or RFC 3339 UTC with a fraction. */
int	render_parse_time(const char *text, int64_t *ns);

struct table;

/* Columns: a header each; a leading '>' in a header aligns right. */
struct table	*table_new(const char *const *headers, size_t ncols);
/* Adds a row of ncols cells (NULL prints "-"); cells are sanitized. */
void		 table_add(struct table *, const char *const *cells);
/* Prints it, each column as wide as its widest cell (at most max_width). */
void		 table_print(struct table *, FILE *, size_t max_width);
void		 table_free(struct table *);

/* Prints text from a node, made safe, cut at max bytes. */
void	render_text(FILE *, const char *text, size_t max);

#endif
