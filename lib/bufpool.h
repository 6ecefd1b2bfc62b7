/*
 * Fixed-size buffers kept for reuse: the relay's upload chunks. A fresh
 * 256 KiB malloc is an mmap (or heap the allocator trims back), so every
 * chunk used to fault its pages in again, one host fault per page on a
 * VM whose balloon takes freed memory back; a kept buffer is already
 * mapped. What the pool keeps idle is bounded (keep buffers); what is in
 * use is bounded by whoever takes them (the ingest memory budget).
 * Buffers may be taken and given back on any thread.
 */
#ifndef TT_BUFPOOL_H
#define TT_BUFPOOL_H

#include <stddef.h>

struct bufpool;

struct bufpool	*bufpool_new(size_t size, size_t keep);
/* A buffer of the pool's size; never NULL (xmalloc). */
void		*bufpool_get(struct bufpool *);
/* Gives p back: kept for the next get, or freed past keep. p may be NULL. */
void		 bufpool_put(struct bufpool *, void *p);
size_t		 bufpool_size(const struct bufpool *);
/* Frees what is kept; every buffer must have been given back. */
void		 bufpool_free(struct bufpool *);

#endif
