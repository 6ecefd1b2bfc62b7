/*
 * What the recorder's and the relay's configuration loaders share
 * (recorder/config.c, relay/relay_config.c): the load itself, on a copy
 * that replaces the caller's config only when the whole file is valid; a
 * key table (each key with its type, default and bounds) that drives the
 * lib/ini.c handler; the parsers of the value types both use, with the
 * same wording for the same mistake in either file (conf_value.c); and
 * the checks of the TLS files a key names (conf.c).
 *
 * A loader keeps its own sections, its own value types and the checks that
 * need its whole file; each of those names its own keys and sections.
 */
#ifndef TT_CONF_H
#define TT_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "ini.h"

#define CONF_FILE_MAX		(1024 * 1024)	/* no real config is larger */
#define CONF_HOST_MAX		256	/* a DNS name (253) with its NUL */
#define CONF_LIST_MAX		4096	/* a list as stored, with its NUL */
#define CONF_KEYS_MAX		64	/* entries of a key table */
#define CONF_SECTIONS_MAX	16	/* section ids, these two included */

/* The section ids every loader has; its own follow. */
#define CONF_SECTION_NONE	0	/* before the first [section] */
#define CONF_SECTION_SKIP	1	/* in a section already reported */

/* conf_key.flags */
#define CONF_POWER_OF_TWO	0x1	/* sizes and integers */
#define CONF_EMPTY_OK		0x2	/* paths and addresses: "" = none */
#define CONF_PRIVATE		0x4	/* conf_check_file(): a private key */

/* conf_list_parse() flags */
#define CONF_LIST_UNIQUE	0x1	/* repeats are dropped */

struct conf_key;

/*
 * Parses value into dst (the key's field). arg is the loader's state, for
 * the value types that need more than the field. Returns 0, or -1 with a
 * message that quotes the value but not the key: the handler adds
 * "[section] key: ".
 */
typedef int (*conf_parser)(void *arg, const struct conf_key *,
    const char *value, void *dst, char *err, size_t errlen);

struct conf_key {
	int		 section;	/* the loader's section id */
	const char	*name;
	conf_parser	 parse;
	size_t		 offset;	/* from conf_set()'s base */
	size_t		 size;		/* strings: buffer size */
	uint64_t	 min;
	uint64_t	 max;		/* paths: the length with its NUL */
	int		 flags;		/* CONF_POWER_OF_TWO.. */
	unsigned	 set;		/* for the loader, unused here */
	/*
	 * The default, as the file would write it (conf_defaults); NULL:
	 * zero, or a value the loader sets itself.
	 */
	const char	*def;
};

/* A conf_key's offset and size, for a field of struct type. */
#define CONF_FIELD(type, f)	.offset = offsetof(type, f),						.size = sizeof(((type *)0)->f)

/*
 * A row of a key table: key of section sect, read by parser into field
 * (a CONF_FIELD) and default_ by default; then .min, .max, .flags and
 * .set as the key needs them. The typed rows below say the same of the
 * value types every loader has.
 */
#define CONF_KEY(sect, key, parser, field, default_, ...)		\
	{ CONF_ROW(sect, key, parser, default_), field, __VA_ARGS__ }
#define CONF_NAME(sect, key, field, default_)				\
	{ CONF_ROW(sect, key, conf_parse_name, default_), field }
#define CONF_PATH(sect, key, field, default_, max_, ...)		\
	{ CONF_ROW(sect, key, conf_parse_path, default_), field,	\
	  .max = (max_), __VA_ARGS__ }
#define CONF_ADDRESS(sect, key, field, default_, ...)			\
	{ CONF_ROW(sect, key, conf_parse_address, default_), field,	\
	  __VA_ARGS__ }
#define CONF_MODE(sect, key, field, default_)				\
	{ CONF_ROW(sect, key, conf_parse_mode, default_), field,	\
	  .max = 0777 }
#define CONF_UINT(sect, key, field, default_, min_, max_, ...)	\
	{ CONF_ROW(sect, key, conf_parse_uint, default_), field,	\
	  .min = (min_), .max = (max_), __VA_ARGS__ }
#define CONF_SIZE(sect, key, field, default_, min_, max_, ...)	\
	{ CONF_ROW(sect, key, conf_parse_size, default_), field,	\
	  .min = (min_), .max = (max_), __VA_ARGS__ }
#define CONF_DURATION(sect, key, field, default_, min_, max_, ...)	\
	{ CONF_ROW(sect, key, conf_parse_duration, default_), field,	\
	  .min = (min_), .max = (max_), __VA_ARGS__ }
#define CONF_BOOL(sect, key, field, default_, ...)			\
	{ CONF_ROW(sect, key, conf_parse_bool, default_), field,	\
	  __VA_ARGS__ }
/* (field goes into the braces as it is: it holds a comma.) */
#define CONF_ROW(sect, key, parser, default_)				\
	.section = (sect), .name = (key), .parse = (parser),		\
	.def = (default_)

/*
 * Defines fn, the parser of a key that takes one of a few words (what
 * names the key in the message): the word's index goes into an int.
 */
#define CONF_CHOICE_PARSER(fn, what, ...)				static int								fn(void *arg, const struct conf_key *k, const char *value, void *dst,	    char *err, size_t errlen)						{										static const char *const names[] = { __VA_ARGS__, NULL };											(void)arg;								(void)k;								return conf_parse_choice(value, names, what, dst, err, errlen);	}

struct conf_section {
	const char	*name;
	int		 section;
};

/* A loader's keys and sections, which its messages list. */
struct conf_table {
	const struct conf_key		*keys;
	size_t				 nkeys;
	const struct conf_section	*sections;
	size_t				 nsections;
	const char			*expected;	/* "a, b or c" */
};

/*
 * One load, the start of a loader's state. By key table index: the line
 * that last set the key (0: none) and whether that line was refused; by
 * section id, the line of its last header. The checks that need the whole
 * file name their line from these.
 */
struct conf_state {
	const struct conf_table	*table;
	void			*conf;		/* the copy being loaded */
	int			 section;	/* CONF_SECTION_NONE.. */
	unsigned long		 key_line[CONF_KEYS_MAX];
	int			 is_key_refused[CONF_KEYS_MAX];
	unsigned long		 section_line[CONF_SECTIONS_MAX];
};

/*
 * A loader. Its state, of state_size bytes, starts with its struct
 * conf_state and holds the config being loaded, conf_size bytes, at
 * conf_offset. handler reads the lines: conf_handler(), or the loader's
 * own on conf_section() and conf_set(). Then resolve fills what follows
 * from the keys and check runs the checks that need the whole file,
 * returning how many failed.
 */
struct conf_loader {
	const struct conf_table	*table;
	ini_line_handler	 handler;
	void			(*resolve)(void *state);
	int			(*check)(void *state, const char *name,
				    int flags, char *err, size_t errlen);
	size_t			 state_size;
	size_t			 conf_offset;
	size_t			 conf_size;
};

/*
 * Loads text over conf, as the loader's *_load_buffer(): 0, or -1 with
 * every error, "name:line: message\n" each, in err and conf untouched.
 * flags go to the loader's check.
 */
int	conf_load_buffer(const struct conf_loader *, void *conf,
	    const char *name, const char *text, size_t len, int flags,
	    char *err, size_t errlen);

/*
 * The same from the file at path, of at most CONF_FILE_MAX bytes; a file
 * that cannot be read is "path: message\n" in err.
 */
int	conf_load(const struct conf_loader *, void *conf, const char *path,
	    int flags, char *err, size_t errlen);

/* Value types. */
int	conf_parse_name(void *, const struct conf_key *, const char *, void *,
	    char *, size_t);
int	conf_parse_text(void *, const struct conf_key *, const char *, void *,
	    char *, size_t);
int	conf_parse_path(void *, const struct conf_key *, const char *, void *,
	    char *, size_t);
int	conf_parse_address(void *, const struct conf_key *, const char *,
	    void *, char *, size_t);
int	conf_parse_mode(void *, const struct conf_key *, const char *, void *,
	    char *, size_t);
int	conf_parse_uint(void *, const struct conf_key *, const char *, void *,
	    char *, size_t);
int	conf_parse_size(void *, const struct conf_key *, const char *, void *,
	    char *, size_t);
int	conf_parse_duration(void *, const struct conf_key *, const char *,
	    void *, char *, size_t);
int	conf_parse_bool(void *, const struct conf_key *, const char *, void *,
	    char *, size_t);

/*
 * A URL key: "" or one of schemes (NULL-terminated, "net://"...) and a
 * non-empty rest of is_char bytes, copied to dst (size bytes). 0, or -1
 * for the caller's message.
 */
int	conf_parse_url(const char *value, const char *const *schemes,
	    int (*is_char)(char), void *dst, size_t size);

/*
 * The index of value in names (NULL-terminated), or -1 with "invalid
 * WHAT 'VALUE' (expected a, b or c)" in err.
 */
int	conf_choice(const char *value, const char *const *names,
	    const char *what, char *err, size_t errlen);
/* The same into the int at dst (CONF_CHOICE_PARSER); 0 or -1. */
int	conf_parse_choice(const char *value, const char *const *names,
	    const char *what, void *dst, char *err, size_t errlen);

/*
 * Sets, in base, every key of section that has a default (every key of
 * the table for CONF_SECTION_NONE), through the key's parser, as if the
 * file said it: the parser of a key with a default must not need the
 * loader's state. A default its parser refuses is a bug in the table:
 * the process aborts, saying which.
 */
void	conf_defaults(const struct conf_table *, int section, void *base);

/*
 * 1 when the len bytes of s are [a-z0-9_-]{1,32}: the NAME of [source.NAME]
 * and [trigger.KIND.NAME] sections, which triggers carry as their source
 * or in their labels.
 */
int	conf_is_section_name(const char *s, size_t len);

/* 1 when the len bytes of s are all [A-Za-z0-9._-] (names, hostnames). */
int	conf_is_name(const char *s, size_t len);

/*
 * Splits "HOST:PORT" or "[IPv6]:PORT" into host (without the brackets) and
 * port; -1 when value is not one of those.
 */
int	conf_split_address(const char *value, char *host, size_t hostlen,
	    uint16_t *port);

/* Writes a duration the way an operator would: "250ms", "2s", "1h". */
void	conf_format_duration(uint64_t ms, char *buf, size_t len);

/*
 * The default of a name key: this host's name, with what a name may not
 * hold replaced by '-', cut to size, "localhost" when there is none.
 */
void	conf_default_name(char *name, size_t size);

/*
 * Comma lists. conf_list_next() walks one: each call gives the next item,
 * trimmed of spaces and tabs and possibly empty, until it returns 0.
 * *cursor starts at the list.
 */
int	conf_list_next(const char **cursor, const char **item, size_t *len);

/* 1 when the comma list (no spaces) holds the len bytes of name. */
int	conf_list_has(const char *list, const char *name, size_t len);

/*
 * Stores the comma list value in dst (size bytes, at most CONF_LIST_MAX)
 * without the spaces around its items, so its users split on ',' alone,
 * and leaves dst alone on an error. Every item must pass is_item, else
 * the message is "invalid WHAT 'ITEM' in 'VALUE' (expected EXPECTED)".
 * "" is stored as it is: a key that refuses it checks first.
 */
int	conf_list_parse(const char *value, char *dst, size_t size,
	    int (*is_item)(const char *, size_t), int flags, const char *what,
	    const char *expected, char *err, size_t errlen);

/*
 * The handler's parts, for a loader's ini_line_handler. conf_section()
 * enters the section of a header, or the skip state with "unknown section
 * [NAME] (expected TABLE'S LIST)". conf_set() parses a key of the current
 * section into base + its offset, and sets *kp to it (NULL when the
 * section is skipped); -1 with the message for the line.
 */
int	conf_section(struct conf_state *, unsigned long line, const char *name,
	    char *err, size_t errlen);
int	conf_set(struct conf_state *, unsigned long line, const char *section,
	    const char *key, const char *value, void *base,
	    const struct conf_key **kp, char *err, size_t errlen);

/*
 * The whole handler of a loader whose keys all go into its config, with
 * nothing to do for a section or after a key.
 */
int	conf_handler(void *state, unsigned long line, const char *section,
	    const char *key, const char *value, char *err, size_t errlen);

const struct conf_key *conf_find_key(const struct conf_table *, int section,
	    const char *name);

/* The name of a section id of the table, "?" for none. */
const char *conf_section_name(const struct conf_table *, int section);

/* 1 when the file set k and the last line that did was refused. */
int	conf_is_refused(const struct conf_state *, const struct conf_key *);

/* 1 when a line of the file set k. */
int	conf_is_set(const struct conf_state *, const struct conf_key *);

/*
 * The line to name for a check on k: the one that set it or, for a key
 * left at its default, the one that set fallback (may be NULL), else the
 * header of k's section; 0 (the file alone) when there is none.
 */
unsigned long conf_check_line(const struct conf_state *,
	    const struct conf_key *k, const struct conf_key *fallback);

/*
 * The file the path key k names (in base) must be a regular file and, for
 * a CONF_PRIVATE key, not readable by group or others. Appends the error,
 * "[section] key: ..." at conf_check_line(), to err; hint follows the
 * messages of a path left at its default. Nothing is checked for a
 * refused line, which has been reported. Returns 0 or -1.
 */
int	conf_check_file(const struct conf_state *, const struct conf_key *k,
	    const struct conf_key *fallback, const void *base,
	    const char *hint, const char *name, char *err, size_t errlen);

#endif
