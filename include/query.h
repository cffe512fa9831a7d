/*
 * query.h -- the life of one client query, from the listener to the reply.
 */
#ifndef QUERY_H
#define QUERY_H

#include <stddef.h>
#include <stdint.h>

struct worker;
struct client;
struct query;

/*
 * Handle one message from a client (the listener's handler).  cl is
 * copied when the query outlives the call.
 */
void	query_handle(struct worker *, struct client *, const uint8_t *,
	    size_t);
/* A worker's part of the query module: -1 when it cannot be set up. */
int	query_init(struct worker *);
void	query_fini(struct worker *);
/* The only way a query ends: cancels its upstream work, frees it. */
void	query_free(struct query *);
/* At shutdown: every query still in flight, unanswered. */
void	query_free_all(struct worker *);

#endif /* QUERY_H */
