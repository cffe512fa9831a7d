/*
 * dns64proxy.h -- limits, defaults and the per-worker context shared by
 * every module.
 */
#ifndef DNS64PROXY_H
#define DNS64PROXY_H

#include <sys/queue.h>
#include <stdint.h>

#define DNS64PROXY_CONF		SYSCONFDIR "/dns64proxy.conf"
#define DNS64PROXY_RESOLV_CONF	"/etc/resolv.conf"

#define DNS_PORT		53
#define DNS_FALLBACK_PORT	5353	/* embedded default when 53 is taken */
#define DNS_UDP_MIN		512	/* RFC 1035 4.2.1, RFC 6891 6.2.5 */
#define DNS_MSG_MAX		65535
#define DNS_EDNS_SIZE		1232	/* DNS flag day 2020 */

struct conf;
struct listener;
struct query;
struct upstream;
struct stats;

/*
 * Everything one event loop needs.  Today there is one worker; each future
 * worker thread gets its own, so nothing below may be shared between them
 * except the read-only configuration.
 */
struct worker {
	struct event_base	*base;
	struct conf		*conf;
	struct listener		*listener;
	struct upstream		*upstream;
	struct stats		*stats;
	unsigned int		 rr_next;	/* round-robin prefix cursor */
	TAILQ_HEAD(, query)	 queries;	/* in flight, for shutdown */
};

#endif /* DNS64PROXY_H */
