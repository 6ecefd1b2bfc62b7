/*
 * The cluster connection's hosts, resolved off the event loop
 * (cluster_target.c); pure but for cluster_target_resolve() and the
 * lookup, so that the rewriting is unit-tested.
 */
#ifndef TT_CLUSTER_TARGET_H
#define TT_CLUSTER_TARGET_H

#include <stddef.h>

#include <event2/event.h>

#define CLUSTER_TARGET_HOSTS_MAX	16
#define CLUSTER_TARGET_ADDRS_MAX	8

struct cluster_target {
	char	*hosts;		/* conninfo's host list, split in place */
	char	*ports;
	size_t	 n;
	char	*names[CLUSTER_TARGET_HOSTS_MAX];
	char	*port_of[CLUSTER_TARGET_HOSTS_MAX];	/* NULL: default */
	int	 is_name[CLUSTER_TARGET_HOSTS_MAX];	/* to resolve */
	char	*addrs[CLUSTER_TARGET_HOSTS_MAX][CLUSTER_TARGET_ADDRS_MAX];
	size_t	 naddrs[CLUSTER_TARGET_HOSTS_MAX];
	char	 error[300];	/* the first name that failed, and why */
};
struct cluster_target_lookup;

int	 cluster_target_parse(struct cluster_target *, const char *conninfo,
	    char *err, size_t errlen);
void	 cluster_target_resolve(struct cluster_target *);
size_t	 cluster_target_params(const struct cluster_target *, char **host,
	    char **hostaddr, char **port);
void	 cluster_target_free(struct cluster_target *);

struct cluster_target_lookup *cluster_target_lookup_start(
	    struct event_base *, struct cluster_target *, event_callback_fn,
	    void *, char *err, size_t errlen);
const struct cluster_target *cluster_target_lookup_target(
	    const struct cluster_target_lookup *);
void	 cluster_target_lookup_abandon(struct cluster_target_lookup *);

#endif
