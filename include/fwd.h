/*
 * fwd.h -- forwarder health: one table shared by every worker thread.
 *
 * Per forwarder: a smoothed RTT and its variance (RFC 6298, as Unbound's
 * util/rtt.c uses it), and per query group (A, AAAA, other) a state (up or
 * down), a count of consecutive timeouts, a backoff that doubles the
 * timeout after each one, and the time of the next probe while down.
 * Counting per group keeps a forwarder that drops only AAAA queries up for
 * A.  fwd_select() decides which forwarder a try goes to and how long it
 * waits.  All of it behind one mutex; the arithmetic is pure and the tests
 * drive the clock (milliseconds of a monotonic clock, passed in).  A group
 * going down or coming back up is logged once, with log_info():
 * "forwarder 192.0.2.1@53 down for AAAA: 4 timeouts", "forwarder
 * 192.0.2.1@53 up for AAAA".
 *
 * Entries are never removed: fwd_table_add() returns the index of an
 * address already known, so indexes stay valid across reloads and a query
 * that started under the old configuration can still report on its try.
 */
#ifndef FWD_H
#define FWD_H

#include <sys/socket.h>
#include <stdint.h>

#define FWD_MAX			64	/* forwarders ever known */
#define FWD_RTO_MIN		50	/* ms */
#define FWD_RTO_UNKNOWN		376	/* ms, before the first reply */
#define FWD_DOWN_TIMEOUTS	4	/* consecutive, in one group */
#define FWD_DOWN_WAITED		800	/* ms one of them lasted, at least */
#define FWD_DOWN_SILENT		500	/* ms without a reply: or this */
#define FWD_PROBE_FIRST		1000	/* ms after going down */
#define FWD_PROBE_MAX		15000	/* ms between probes, at most */
#define FWD_EXPLORE		20	/* fastest: 1 try in N goes elsewhere */
#define FWD_NEAR_WINDOW		10000	/* ms, for fwd_nearest_ms() */

enum fwd_selection {
	FWD_SELECT_FASTEST,	/* lowest smoothed RTT among those up */
	FWD_SELECT_ORDERED,	/* the first one up, in config order */
	FWD_SELECT_ROUNDROBIN	/* the next one up, in turn */
};

enum fwd_group {
	FWD_GROUP_A,
	FWD_GROUP_AAAA,
	FWD_GROUP_OTHER,
	FWD_NGROUPS
};

struct fwd_table;

/* A snapshot of one forwarder, for status, metrics and tests. */
struct fwd_info {
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 name[64];	/* "addr@port" */
	int			 known;		/* has replied at least once */
	uint32_t		 srtt;		/* ms */
	uint32_t		 rttvar;	/* ms */
	uint32_t		 rto;		/* ms, without backoff */
	int			 up[FWD_NGROUPS];
	unsigned int		 timeouts[FWD_NGROUPS];	/* consecutive */
	uint64_t		 next_probe[FWD_NGROUPS];	/* while down */
	uint64_t		 tries;
	uint64_t		 replies;
	uint64_t		 timeouts_total;
	uint64_t		 errors;	/* ICMP, refused, reset */
	uint64_t		 broken;	/* replies only a broken server
						   sends */
};

struct fwd_table *fwd_table_new(void);
void		 fwd_table_free(struct fwd_table *);
/* The index of this address (and port), added if new; -1 when full. */
int		 fwd_table_add(struct fwd_table *, const struct sockaddr *,
		    socklen_t);
/*
 * Choose where the next try of a query goes.  cand[0..n-1] are table
 * indexes in config order (n <= 64); bit i of tried says cand[i] was tried
 * already by this query.  Returns a position in cand, or -1 when every
 * candidate was tried.  *timeout_ms is the try's timeout: the forwarder's
 * RTO (srtt + 4 * rttvar, FWD_RTO_UNKNOWN before the first reply, at least
 * FWD_RTO_MIN) doubled per consecutive timeout in group, at most max_ms.
 *
 * Forwarders that are up are chosen by sel; with FWD_SELECT_FASTEST one
 * try in FWD_EXPLORE goes to a random other forwarder that is up, so that
 * RTTs stay known.  A forwarder that is down is chosen instead when its
 * probe is due (now >= next_probe) and none is in flight for it in that
 * group: that try is the probe.  When every untried candidate is down and
 * none is due, the one whose probe is due soonest is chosen and
 * *all_down is set, so that the caller makes this its last try.
 */
int		 fwd_select(struct fwd_table *, const int *cand, int n,
		    uint64_t tried, enum fwd_selection sel,
		    enum fwd_group group, uint64_t now, unsigned int max_ms,
		    unsigned int *timeout_ms, int *all_down);
/* A matching reply after rtt_ms: the RTT sample, and the group is up. */
void		 fwd_reply(struct fwd_table *, int idx, enum fwd_group,
		    unsigned int rtt_ms, uint64_t now);
/*
 * A try that waited waited_ms for nothing.  FWD_DOWN_TIMEOUTS in a row in
 * a group, one of them at least FWD_DOWN_WAITED ms (or max_ms, if less) or
 * coming FWD_DOWN_SILENT ms or more after the forwarder's last reply, take
 * the group down; the first probe is due FWD_PROBE_FIRST ms later,
 * each further one twice as late, at most FWD_PROBE_MAX.  A timed-out
 * probe schedules the next one.
 */
void		 fwd_timeout(struct fwd_table *, int idx, enum fwd_group,
		    unsigned int waited_ms, unsigned int max_ms, uint64_t now);
/* A transport error (ICMP unreachable, refused, reset): counted only. */
void		 fwd_error(struct fwd_table *, int idx);
/* A reply only a broken server sends (bad question, unparsable, TC over
   TCP): counted only. */
void		 fwd_broken(struct fwd_table *, int idx);
/*
 * The try ended before its timeout without a reply (the query was answered
 * through another forwarder): a probe mark is cleared, nothing is counted.
 */
void		 fwd_abandon(struct fwd_table *, int idx, enum fwd_group);
/* 0 and a snapshot, or -1 for an unknown index. */
int		 fwd_get_info(struct fwd_table *, int idx, struct fwd_info *);
/* Number of entries. */
int		 fwd_count(struct fwd_table *);
/*
 * The shortest round trip, in whole ms, any forwarder has had over the
 * last FWD_NEAR_WINDOW to 2 * FWD_NEAR_WINDOW ms: how soon an answer can
 * come back at best, whatever the queueing.  UINT_MAX when none is known.
 */
unsigned int	 fwd_nearest_ms(struct fwd_table *, uint64_t now);

#endif /* FWD_H */
