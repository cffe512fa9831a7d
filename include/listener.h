/*
 * listener.h -- the client side: UDP and TCP sockets on the listen
 * addresses, TCP framing (RFC 7766), and sending replies back.
 *
 * The sockets are opened by the main thread (listener_open), before the
 * workers start and again on a reload, and handed to a worker's listener,
 * which serves them.  Each message goes to the handler the listener was
 * given; the listener knows nothing of queries.
 */
#ifndef LISTENER_H
#define LISTENER_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "sa.h"

struct conf_addr;
struct worker;
struct listener;
struct listen_sock;
struct tcp_conn;
struct tcp_limit;

/* Where a query came from and how to answer it; copied into the query. */
struct client {
	int			 tcp;
	union sa_in		 peer;
	socklen_t		 peerlen;
	struct listen_sock	*ls;		/* UDP: the socket it came in on */
	union sa_in		 local;		/* UDP: the address it was sent to */
	int			 ifindex;
	struct tcp_conn		*conn;		/* TCP */
	TAILQ_ENTRY(client)	 entry;		/* TCP: pending on conn */
	/* The connection closed: whatever waits for it must go. */
	void			(*cancel)(struct client *);
	void			*arg;
	char			 name[SA_STRLEN];	/* "addr@port", see
							   listener_client_name */
};

/* The sockets of one listen address for one worker. */
struct listen_fds {
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 udp;
	int			 tcp;		/* bound and listening */
};

typedef void	 listener_handler(struct worker *, struct client *,
		    const uint8_t *, size_t);

/*
 * Open the UDP and TCP sockets of an address: IP_FREEBIND with
 * LISTENER_FREEBIND, SO_REUSEPORT with LISTENER_SHARED (each worker gets
 * its own pair), and with LISTENER_PROBE a plain bind first, so that an
 * address somebody else already uses is refused even then.  -1 with errno
 * from the call that failed.
 */
#define LISTENER_FREEBIND	0x01
#define LISTENER_SHARED		0x02
#define LISTENER_PROBE		0x04
int		 listener_open(const struct conf_addr *, int,
		    struct listen_fds *);
void		 listener_close_fds(struct listen_fds *);
struct listener	*listener_new(struct worker *, listener_handler *);
void		 listener_free(struct listener *);
/* Serve these sockets from now on (the listener owns them).  -1 on
   failure, with the fds closed. */
int		 listener_add(struct listener *, struct listen_fds *);
/* Stop serving an address; its open TCP connections stay. */
void		 listener_remove(struct listener *, const struct sockaddr *);
/* A TCP query is pending on its connection until listener_detach(). */
void		 listener_attach(struct client *);
void		 listener_detach(struct client *);
/* Send a reply; UDP replies must already fit. */
void		 listener_send(struct client *, const uint8_t *, size_t);
/* Fill cl->name, if it is not yet. */
void		 listener_client_name(struct client *);

/*
 * TCP connections per client address (an IPv6 client: per /64), counted
 * across every worker.
 */
struct tcp_limit *tcp_limit_new(void);
void		 tcp_limit_free(struct tcp_limit *);

#endif /* LISTENER_H */
