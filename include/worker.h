/*
 * worker.h -- worker threads: each runs its own event loop with its own
 * listening sockets (SO_REUSEPORT), upstream sockets and queries.  The
 * main thread talks to a worker only through its message pipe.
 */
#ifndef WORKER_H
#define WORKER_H

#include <sys/socket.h>

struct conf;
struct listen_fds;
struct server;
struct worker;

/*
 * A new configuration for a worker: it takes a reference to conf, serves
 * the sockets in add (and owns them), stops serving the addresses in
 * remove, and then signals done.
 */
struct worker_update {
	struct conf		*conf;
	struct listen_fds	*add;
	int			 nadd;
	struct sockaddr_storage	*remove;
	int			 nremove;
};

/*
 * A worker with its event base, listener (serving fds[0..nfds-1], which
 * it then owns) and upstream side, holding a reference to conf.  NULL
 * after logging.
 */
struct worker	*worker_new(struct server *, unsigned int, struct conf *,
		    struct listen_fds *, int);
/* Run it in its own thread.  -1 after logging. */
int		 worker_start(struct worker *);
/*
 * Hand each worker its update and wait (up to a few seconds) until all
 * have applied it.  -1 if one did not answer in time.
 */
int		 worker_update(struct worker **, unsigned int,
		    struct worker_update *);
/* Stop the loop and join the thread; then free it all. */
void		 worker_stop(struct worker *);
void		 worker_free(struct worker *);

#endif /* WORKER_H */
