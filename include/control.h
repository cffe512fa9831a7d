/*
 * control.h -- the control socket that dns64proxy-control(8) talks to: a
 * unix stream socket served on the main thread's event base.
 *
 * The socket of a configuration is opened in two steps, so that a reload
 * opens the new one before it closes the old one and a failure leaves the
 * running one: control_prepare() opens it (at startup, before privileges
 * are dropped), then control_commit() puts it in place of the old one, or
 * control_abort() closes it.
 */
#ifndef CONTROL_H
#define CONTROL_H

#include <stddef.h>

/* The first word of every request: the protocol and its version. */
#define CONTROL_PROTO		"DNS64P1"
/* Connect and per-connection timeout, seconds. */
#define CONTROL_TIMEOUT		5

struct control;
struct event_base;
struct runstate;

/*
 * The daemon's reload (SIGHUP's too): 0 once the new configuration is in
 * force, -1 with a message in err when the running one is kept.
 */
typedef int	 control_reload_fn(void *, char *, size_t);

struct control	*control_new(struct runstate *, control_reload_fn *, void *);
void		 control_free(struct control *);
/*
 * Open the socket at path (NULL: none) when it differs from the one
 * configured before (nothing to do otherwise), with the group of user
 * (NULL: the daemon's own).  An existing path with a live socket
 * behind it is never taken over; a stale one is replaced.  The default
 * path is best effort: when it cannot be used, a warning says so and the
 * daemon goes on without a control socket; a path of one's own must work.
 * 0, or -1 with a message in err.
 */
int		 control_prepare(struct control *, const char *path,
		    const char *user, char *, size_t);
/* Serve the prepared socket (if any) and close the old one. */
void		 control_commit(struct control *);
/* Close the prepared socket; the old one stays. */
void		 control_abort(struct control *);
/* Serve on this event base from now on (commits a prepared socket). */
void		 control_start(struct control *, struct event_base *);
/* The path being served, or NULL. */
const char	*control_path(const struct control *);

#endif /* CONTROL_H */
