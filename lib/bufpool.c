/*
 * Fixed-size buffers kept for reuse (bufpool.h): a stack of idle
 * buffers under a mutex, the last given back the first taken, since it
 * is the likeliest still in the cache.
 */
#include <pthread.h>
#include <stdlib.h>

#include "bufpool.h"
#include "xmalloc.h"

struct bufpool {
	pthread_mutex_t	 lock;
	size_t		 size;
	size_t		 keep;
	size_t		 idle;
	void		**stack;	/* keep slots, idle of them used */
};

struct bufpool *
bufpool_new(size_t size, size_t keep)
{
	struct bufpool *pool;

	pool = xcalloc(1, sizeof(*pool));
	pthread_mutex_init(&pool->lock, NULL);
	pool->size = size;
	pool->keep = keep;
	pool->stack = xcalloc(keep > 0 ? keep : 1, sizeof(*pool->stack));
	return pool;
}

void *
bufpool_get(struct bufpool *pool)
{
	void	*p = NULL;

	pthread_mutex_lock(&pool->lock);
	if (pool->idle > 0)
		p = pool->stack[--pool->idle];
	pthread_mutex_unlock(&pool->lock);
	return p != NULL ? p : xmalloc(pool->size);
}

void
bufpool_put(struct bufpool *pool, void *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	if (pool->idle < pool->keep) {
		pool->stack[pool->idle++] = p;
		p = NULL;
	}
	pthread_mutex_unlock(&pool->lock);
	free(p);
}

size_t
bufpool_size(const struct bufpool *pool)
{
	return pool->size;
}

void
bufpool_free(struct bufpool *pool)
{
	if (pool == NULL)
		return;
	while (pool->idle > 0)
		free(pool->stack[--pool->idle]);
	free(pool->stack);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}
