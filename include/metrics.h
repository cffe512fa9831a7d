/*
 * metrics.h -- Prometheus metrics over HTTP (libevent's evhttp) at
 * /metrics on the metrics-listen addresses, served on the main thread's
 * event base.  Off when no address is configured.
 *
 * As with the control socket, the sockets of a configuration are opened
 * first (metrics_prepare: at startup before privileges are dropped, on a
 * reload before anything changes), then put in place (metrics_commit)
 * or closed (metrics_abort).  Unchanged addresses keep their sockets.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>

struct conf;
struct event_base;
struct evbuffer;
struct metrics;
struct report;
struct runstate;

struct metrics	*metrics_new(struct runstate *);
void		 metrics_free(struct metrics *);
/*
 * Open the sockets of conf's addresses that are not served yet
 * (IPV6_V6ONLY, IP_FREEBIND with freebind).  0, or -1 with a message in
 * err and nothing changed.
 */
int		 metrics_prepare(struct metrics *, const struct conf *, char *,
		    size_t);
/* Serve the prepared sockets; close those conf no longer has. */
void		 metrics_commit(struct metrics *);
void		 metrics_abort(struct metrics *);
/* Serve on this event base from now on (commits).  -1 after logging. */
int		 metrics_start(struct metrics *, struct event_base *);
/* The text exposition format 0.0.4 of a report. */
void		 metrics_render(const struct report *, struct evbuffer *);

#endif /* METRICS_H */
