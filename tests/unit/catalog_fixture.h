/*
 * The fixture of the catalog's unit tests (test_catalog_summary.c,
 * test_catalog_stored.c): a temporary directory with the catalog's file
 * and a store path, removed whole at teardown, and the catalog the test
 * opened in it (closed there too).
 */
#ifndef TT_CATALOG_FIXTURE_H
#define TT_CATALOG_FIXTURE_H

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "catalog.h"

#define T0	1795000000000000LL	/* 2026-11-18T11:06:40Z */

struct fixture {
	char		 dir[PATH_MAX];
	char		 db[PATH_MAX];
	char		 store[PATH_MAX];
	struct catalog	*catalog;
};

static int
fixture_rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_catalog.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/catalog.db", f->dir);
	snprintf(f->store, sizeof(f->store), "%s/store", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	catalog_close(f->catalog);
	nftw(f->dir, fixture_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

#endif
