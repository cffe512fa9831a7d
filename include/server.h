/*
 * server.h -- the process: the shared state every worker uses (struct
 * server in dns64proxy.h), the workers, the running configuration and its
 * replacement on reload.  Only the main thread calls these.
 */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>
#include <ldns/ldns.h>

struct conf;
struct server;
struct stats;

/*
 * Create the shared state and bind every listen address for every worker
 * (the embedded default skips addresses the host lacks and moves to port
 * 5353 when 53 is taken), then drop the resolv.conf forwarders that are
 * ourselves.  The conf becomes the running one (the server takes a
 * reference).  NULL after logging.  Runs before privileges are dropped.
 */
struct server	*server_open(struct conf *, unsigned int);
/* Start the worker threads; -1 after logging. */
int		 server_start(struct server *);
/*
 * Make conf the running configuration: addresses it adds are bound
 * first, so that a failure (logged, and described in err) leaves the old
 * configuration whole; then every worker switches, queries in flight
 * keep the one they started with, and removed addresses are closed.
 * Cached data is dropped when the policy changed.  Settings that need a
 * restart (workers, cache-size, user) keep their running values, with a
 * warning.  0, or -1 with err set.
 */
int		 server_reload(struct server *, struct conf *, char *, size_t);
/* The running configuration (no reference taken). */
struct conf	*server_conf(struct server *);
/* How many times a new configuration went live, counting the first. */
unsigned int	 server_generation(struct server *);
/* The sum of every worker's counters. */
void		 server_stats(struct server *, struct stats *);
/* Drop cached data: all of it, or a name's (wire form). */
size_t		 server_flush(struct server *, const ldns_rdf *);
/* Stop the workers and free everything. */
void		 server_free(struct server *);

#endif /* SERVER_H */
