/*
 * dns64proxy.h -- limits, defaults and the contexts shared by the modules:
 * the server (one per process) and the workers (one per thread).
 */
#ifndef DNS64PROXY_H
#define DNS64PROXY_H

#include <sys/queue.h>
#include <stdatomic.h>
#include <stdint.h>

#include "stats.h"

#define DNS64PROXY_CONF		SYSCONFDIR "/dns64proxy.conf"
#define DNS64PROXY_RESOLV_CONF	"/etc/resolv.conf"

#define DNS_PORT		53
#define DNS_FALLBACK_PORT	5353	/* embedded default when 53 is taken */
#define DNS_UDP_MIN		512	/* RFC 1035 4.2.1, RFC 6891 6.2.5 */
#define DNS_MSG_MAX		65535
#define DNS_EDNS_SIZE		1232	/* DNS flag day 2020 */

struct cache;
struct conf;
struct fwd_table;
struct listener;
struct query;
struct upstream;
struct tcp_limit;
struct worker_ctl;

/*
 * What every worker shares, created once at startup: the cache, the
 * forwarders' health and the TCP per-address counts, each with its own
 * locks.  The configuration is not here: each worker holds a reference
 * to the one it runs with (see struct worker), so that a reload never
 * changes it under a running query.
 */
struct server {
	struct cache		*cache;
	struct fwd_table	*fwd;
	struct tcp_limit	*tcp_limit;
	unsigned int		 nworkers;
	_Atomic unsigned int	 rr_next;	/* round-robin prefix cursor */
};

/*
 * Event priorities of a worker's loop: upstream replies first.  A reply
 * that is already waiting is handled before the timers of the same loop
 * turn (the A query of dns64-parallel auto waits for the AAAA answer) and
 * before new client queries: finishing work comes before taking more.
 */
#define WORKER_PRIORITIES	2
#define WORKER_PRIO_REPLY	0

/*
 * Everything one event loop needs.  Each worker thread has its own and
 * is the only one to touch it, but for the counters, which the main
 * thread reads (stats.h), and the configuration swap, which the main
 * thread hands over through the worker's message pipe (worker.c).
 */
struct worker {
	struct server		*srv;
	unsigned int		 id;
	struct event_base	*base;
	struct conf		*conf;		/* a reference */
	struct listener		*listener;
	struct upstream		*upstream;
	struct stats		 stats;
	struct ldns_struct_buffer *render;	/* scratch for replies */
	TAILQ_HEAD(, query)	 queries;	/* in flight, for shutdown */
	TAILQ_HEAD(, query)	 hedged;	/* A query due soon (query.c) */
	struct event		*ev_hedge;
	struct worker_ctl	*ctl;		/* worker.c's */
};

#endif /* DNS64PROXY_H */
