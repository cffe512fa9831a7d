/*
 * upstream.h -- forwarding to the recursive resolvers: one fresh socket,
 * source port and ID per try, replies matched per RFC 5452, timeouts with
 * retry on the next forwarder, TC=1 retried over TCP.
 */
#ifndef UPSTREAM_H
#define UPSTREAM_H

#include <sys/socket.h>
#include <ldns/ldns.h>

struct worker;
struct upstream;
struct upstream_req;

#define UPSTREAM_RD	0x01
#define UPSTREAM_CD	0x02
#define UPSTREAM_DO	0x04

struct upstream_reply {
	ldns_pkt		*pkt;		/* owned by the callback; NULL:
						   every try failed */
	const struct sockaddr	*server;	/* answered, or tried last */
	int			 tcp;
};

struct upstream	*upstream_new(struct worker *);
void		 upstream_free(struct upstream *);
/*
 * Ask the forwarders.  The callback runs exactly once, from the event loop
 * and never from inside this call, unless the request is cancelled first.
 * who names the client in log lines and must outlive the request.  NULL on
 * allocation failure.
 */
struct upstream_req *upstream_query(struct upstream *, const ldns_rdf *,
		    ldns_rr_type, ldns_rr_class, unsigned int, const char *,
		    void (*)(struct upstream_reply *, void *), void *);
void		 upstream_cancel(struct upstream_req *);

#endif /* UPSTREAM_H */
