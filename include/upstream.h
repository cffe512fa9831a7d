/*
 * upstream.h -- asking the forwarders.
 *
 * A fetch is one question (name, type, class and the RD, CD and DO flags)
 * put to the forwarders: identical questions in flight are asked once and
 * every waiter gets the answer (RFC 5452 5).  Tries go out on pooled
 * connected UDP sockets bound to random ports, with random IDs, and a reply
 * is believed only when source, ID and question match (RFC 5452 9.1).  The
 * forwarder for each try, and how long it waits, come from the shared
 * health table (fwd.h).  A truncated reply is asked again over TCP.
 * Answers go into the shared cache, which upstream_cached() reads.
 */
#ifndef UPSTREAM_H
#define UPSTREAM_H

#include <stdint.h>
#include <ldns/ldns.h>

#include "sa.h"

struct worker;
struct upstream;
struct upstream_wait;

#define UPSTREAM_RD	0x01
#define UPSTREAM_CD	0x02
#define UPSTREAM_DO	0x04

enum upstream_status {
	UPSTREAM_OK,		/* pkt is the answer */
	UPSTREAM_TIMEOUT,	/* no forwarder answered in time */
	UPSTREAM_NETERR,	/* transport errors: unreachable, refused */
	UPSTREAM_BROKEN,	/* only replies a broken server sends */
	UPSTREAM_LOCALERR	/* nothing could be sent (memory, sockets) */
};

struct upstream_result {
	ldns_pkt		*pkt;		/* the receiver's; NULL unless OK */
	enum upstream_status	 status;
	char			 server[SA_STRLEN + 4];	/* answered or tried
							   last; "cache" */
	int			 cached;	/* from the cache */
	int			 stale;		/* expired (RFC 8767) */
};

struct upstream	*upstream_new(struct worker *);
void		 upstream_free(struct upstream *);
/*
 * A fresh answer from the cache, its TTLs counted down: 1 with *res filled,
 * 0 on a miss.
 */
int		 upstream_cached(struct upstream *, const ldns_rdf *, uint16_t,
		    uint16_t, unsigned int, struct upstream_result *);
/*
 * Ask the forwarders (flags: UPSTREAM_*).  The callback runs exactly once,
 * from the event loop and never from inside this call, unless the wait is
 * cancelled first.  When every forwarder failed and serve-stale is on, an
 * expired answer comes back with stale set.  who names the client in log
 * lines and must outlive the wait.  NULL on allocation failure.
 */
struct upstream_wait *upstream_fetch(struct upstream *, const ldns_rdf *,
		    uint16_t, uint16_t, unsigned int, const char *,
		    void (*)(struct upstream_result *, void *), void *);
void		 upstream_cancel(struct upstream_wait *);

#endif /* UPSTREAM_H */
