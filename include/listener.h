/*
 * listener.h -- the client side: UDP and TCP sockets on the listen
 * addresses, TCP framing (RFC 7766), and sending replies back.
 */
#ifndef LISTENER_H
#define LISTENER_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "sa.h"

struct worker;
struct listener;
struct listen_sock;
struct tcp_conn;
struct query;

/* Where a query came from and how to answer it; embedded in the query. */
struct client {
	int			 tcp;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	struct listen_sock	*ls;		/* UDP: the socket it came in on */
	struct sockaddr_storage	 local;		/* UDP: the address it was sent to */
	int			 ifindex;
	struct tcp_conn		*conn;		/* TCP */
	TAILQ_ENTRY(client)	 entry;		/* TCP: pending on conn */
	struct query		*query;
	char			 name[SA_STRLEN];	/* "addr@port" */
};

/*
 * Bind every listen address of the config.  NULL after logging, with errno
 * from the failing bind().
 */
struct listener	*listener_new(struct worker *);
void		 listener_free(struct listener *);
/* A TCP query is pending on its connection until listener_detach(). */
void		 listener_attach(struct client *);
void		 listener_detach(struct client *);
/* Send a reply; UDP replies must already fit. */
void		 listener_send(struct client *, const uint8_t *, size_t);

#endif /* LISTENER_H */
