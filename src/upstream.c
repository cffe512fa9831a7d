/*
 * upstream.c -- the forwarder side.
 *
 * A fetch is one question put to the forwarders.  Identical questions in
 * flight share one fetch and every waiter gets the answer, so a burst of
 * identical queries costs one upstream query, and a forger gets one chance
 * instead of many (RFC 5452 5).
 *
 * Each try goes to the forwarder fwd_select() picks and waits the timeout
 * it says.  A timed-out try keeps listening while the next one goes out,
 * so a slow answer still counts; the fetch ends with the first good reply,
 * or when the last try times out.  An ICMP error or a reply only a broken
 * server sends (right ID, wrong question; unparsable) ends a try at once.
 *
 * Tries travel on pooled UDP sockets, each connected to one forwarder and
 * bound to a random port from 1024-65535, carrying at most a few queries
 * at once, a few in its life, for a few seconds; each query has a random
 * ID unique on its socket.  The kernel only delivers datagrams from the
 * forwarder's address and port (the socket is connected); a reply is then
 * believed only when ID and question match (RFC 5452 9.1).  A datagram
 * with an unknown ID retires its socket: late replies aside, only a
 * forger who found the port sends one.  The README works out the odds.
 * A reply with TC=1 is asked again over TCP (RFC 2181 9).
 *
 * Replies go into the shared cache (cache.h) as received, for their TTL;
 * upstream_cached() serves them with the TTLs counted down.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <ldns/ldns.h>

#include "dns64proxy.h"
#include "cache.h"
#include "conf.h"
#include "dns64.h"
#include "dnsmsg.h"
#include "fwd.h"
#include "log.h"
#include "mono.h"
#include "policy.h"
#include "rnd.h"
#include "sa.h"
#include "stats.h"
#include "upstream.h"

#define SOCK_QUERIES	8	/* queries in a socket's life */
#define SOCK_AGE	2000	/* ms a socket takes new queries */
#define SOCK_INFLIGHT	4	/* queries on a socket at once */
#define SOCK_SLOTS	64	/* ...when out of sockets */
#define SOCK_SCAN	8	/* unusable sockets moved back, per pick */
#define SOCKS_MAX	4096	/* sockets per worker */
#define BIND_TRIES	10	/* random ports tried before the kernel picks */
#define FETCH_BUCKETS	4096
#define ERROR_TTL	5	/* s a SERVFAIL or REFUSED is cached */
#define STALE_KEEP	86400	/* s an expired answer is kept (RFC 8767) */
#define STALE_TTL	30	/* TTL of a stale answer (RFC 8767 4) */
#define SWEEP_MS	1000

struct fetch;

/* A connected UDP socket of the pool of one forwarder. */
struct usock {
	TAILQ_ENTRY(usock)	 entry;
	struct upstream		*up;
	int			 fwd;
	int			 fd;
	struct event		*ev;
	uint64_t		 born;		/* ms */
	unsigned int		 sent;
	unsigned int		 nout;
	int			 retired;	/* no new queries */
	struct try		*out[SOCK_SLOTS];
};
TAILQ_HEAD(usocklist, usock);

/* One try of a fetch, on a pooled UDP socket or its own TCP connection. */
struct try {
	TAILQ_ENTRY(try)	 entry;
	struct fetch		*f;
	const struct conf_addr	*server;
	struct usock		*us;
	struct bufferevent	*bev;
	uint16_t		 id;
	uint64_t		 sent;		/* us */
	int			 timed_out;	/* still listening */
};

struct upstream_wait {
	TAILQ_ENTRY(upstream_wait) entry;
	struct fetch		*f;
	void			(*cb)(struct upstream_result *, void *);
	void			*arg;
};

struct fetch {
	LIST_ENTRY(fetch)	 entry;		/* in the table, while open */
	int			 in_table;
	struct upstream		*up;
	struct conf		*conf;		/* a reference */
	ldns_rdf		*qname;		/* as the first waiter had it */
	uint16_t		 qtype;
	uint16_t		 qclass;
	unsigned int		 flags;
	uint64_t		 hash;
	uint64_t		 born;		/* ms */
	enum fwd_group		 group;
	uint64_t		 tried;		/* bits of conf->fwdv */
	unsigned int		 ntries;
	unsigned int		 maxtries;
	struct try		*current;	/* its timer is running */
	unsigned int		 timeout;	/* ms, of the current try */
	TAILQ_HEAD(, try)	 tries;
	TAILQ_HEAD(, upstream_wait) waiters;
	unsigned int		 nwaiters;
	int			 delivering;
	int			 lingering;	/* nothing more to send */
	int			 failed;	/* deliver the failure */
	uint64_t		 first_sent;	/* ms */
	enum upstream_status	 status;
	struct event		*timer;
	char			 server[SA_STRLEN + 4];
	char			 who[SA_STRLEN];
};

struct upstream {
	struct worker		*w;
	uint64_t		 seed;
	LIST_HEAD(, fetch)	 table[FETCH_BUCKETS];
	struct usocklist	 pools[FWD_MAX];
	unsigned int		 nsocks;
	struct event		*sweep;
	uint8_t			 buf[DNS_MSG_MAX];
};

static void	 fetch_debug(struct fetch *, const struct conf_addr *,
		    const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	 try_next(struct fetch *);
static void	 timer_cb(evutil_socket_t, short, void *);
static void	 sock_read_cb(evutil_socket_t, short, void *);
static void	 tcp_read_cb(struct bufferevent *, void *);
static void	 tcp_event_cb(struct bufferevent *, short, void *);
static void	 sweep_cb(evutil_socket_t, short, void *);
static void	 replace_with_tcp(struct try *);
static void	 linger(struct fetch *);

/* "<client>: upstream <forwarder>: <message>", at -v. */
static void
fetch_debug(struct fetch *f, const struct conf_addr *server, const char *fmt,
    ...)
{
	va_list		 ap;
	char		 msg[256], name[SA_STRLEN];

	if (log_getverbose() < 1)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_debug("%s: upstream %s: %s", f->who, sa_str((const struct
	    sockaddr *)&server->ss, name, sizeof(name)), msg);
}

static enum fwd_group
group_of(uint16_t qtype)
{
	switch (qtype) {
	case LDNS_RR_TYPE_A:
		return (FWD_GROUP_A);
	case LDNS_RR_TYPE_AAAA:
		return (FWD_GROUP_AAAA);
	default:
		return (FWD_GROUP_OTHER);
	}
}

/*
 * The table of fetches in flight: a hash with a secret basis spreads the
 * names (a client chooses them); equal keys are compared in full.
 */
static uint64_t
fetch_hash(const struct upstream *up, const ldns_rdf *qname, uint16_t qtype,
    uint16_t qclass, unsigned int flags)
{
	const uint8_t	*p = ldns_rdf_data(qname);
	uint64_t	 h = up->seed;
	size_t		 i, n = ldns_rdf_size(qname);

	for (i = 0; i < n; i++)
		h = (h ^ (uint8_t)tolower(p[i])) * 0x100000001b3ULL;
	h = (h ^ qtype) * 0x100000001b3ULL;
	h = (h ^ qclass) * 0x100000001b3ULL;
	h = (h ^ flags) * 0x100000001b3ULL;
	return (h ^ (h >> 29));
}

struct upstream *
upstream_new(struct worker *w)
{
	struct upstream	*up;
	struct timeval	 tv = { SWEEP_MS / 1000, (SWEEP_MS % 1000) * 1000 };
	int		 i;

	if ((up = calloc(1, sizeof(*up))) == NULL)
		return (NULL);
	up->w = w;
	arc4random_buf(&up->seed, sizeof(up->seed));
	for (i = 0; i < FETCH_BUCKETS; i++)
		LIST_INIT(&up->table[i]);
	for (i = 0; i < FWD_MAX; i++)
		TAILQ_INIT(&up->pools[i]);
	if ((up->sweep = event_new(w->base, -1, EV_PERSIST, sweep_cb,
	    up)) == NULL || event_add(up->sweep, &tv) == -1) {
		if (up->sweep != NULL)
			event_free(up->sweep);
		free(up);
		return (NULL);
	}
	return (up);
}

static void
sock_close(struct usock *us)
{
	struct upstream	*up = us->up;

	TAILQ_REMOVE(&up->pools[us->fwd], us, entry);
	up->nsocks--;
	event_free(us->ev);
	close(us->fd);
	free(us);
}

/* A socket that takes no more queries closes with its last reply. */
static void
sock_retire(struct usock *us)
{
	us->retired = 1;
	if (us->nout == 0)
		sock_close(us);
}

/* Takes no new query but when out of sockets: spent or too old. */
static int
sock_spent(const struct usock *us, uint64_t now)
{
	return (us->retired || us->sent >= SOCK_QUERIES ||
	    now - us->born >= SOCK_AGE);
}

static int
sock_usable(const struct usock *us, uint64_t now, unsigned int inflight)
{
	return (!us->retired && us->sent < SOCK_QUERIES &&
	    now - us->born < SOCK_AGE && us->nout < inflight);
}

/* RFC 5452 9.2: a random source port, never the listener's. */
static int
bind_random_port(int fd, int af)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 i;
	uint16_t		 port;

	for (i = 0; i <= BIND_TRIES; i++) {
		/* The last round lets the kernel pick. */
		port = i < BIND_TRIES ? 1024 + rnd_uniform(65536 - 1024) :
		    0;
		memset(&ss, 0, sizeof(ss));
		if (af == AF_INET) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(port);
			len = sizeof(*sin);
		} else {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(port);
			len = sizeof(*sin6);
		}
		if (bind(fd, (struct sockaddr *)&ss, len) == 0)
			return (0);
		if (errno != EADDRINUSE && errno != EACCES)
			return (-1);
	}
	return (-1);
}

static struct usock *
sock_open(struct upstream *up, const struct conf_addr *server)
{
	const struct sockaddr	*sa = (const struct sockaddr *)&server->ss;
	struct usock		*us;
	int			 fd;

	if ((fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return (NULL);
	if (bind_random_port(fd, sa->sa_family) == -1 ||
	    connect(fd, sa, server->sslen) == -1 ||
	    (us = calloc(1, sizeof(*us))) == NULL) {
		close(fd);
		return (NULL);
	}
	us->up = up;
	us->fwd = server->fwd;
	us->fd = fd;
	us->born = mono_ms();
	if ((us->ev = event_new(up->w->base, fd, EV_READ | EV_PERSIST,
	    sock_read_cb, us)) == NULL ||
	    event_priority_set(us->ev, WORKER_PRIO_REPLY) == -1 ||
	    event_add(us->ev, NULL) == -1) {
		if (us->ev != NULL)
			event_free(us->ev);
		close(fd);
		free(us);
		return (NULL);
	}
	TAILQ_INSERT_HEAD(&up->pools[us->fwd], us, entry);
	up->nsocks++;
	return (us);
}

/*
 * A socket for a query to this forwarder: one of the pool with room, or a
 * new one.  Out of sockets (our cap, or the process's), the queries share
 * the sockets there are rather than fail.
 */
/* Does the socket carry a try of this fetch already? */
static int
sock_has(const struct usock *us, const struct fetch *f)
{
	unsigned int	 i;

	for (i = 0; i < SOCK_SLOTS; i++)
		if (us->out[i] != NULL && us->out[i]->f == f)
			return (1);
	return (0);
}

/*
 * The pool keeps the sockets that can take a query in front: a socket
 * goes to the back when it is full, retired or too old, and to the front
 * again when a reply frees a slot, so that picking one does not walk the
 * thousands of full sockets a slow forwarder leaves (sock_get).
 */
static void
sock_sort(struct usock *us, uint64_t now)
{
	struct usocklist	*pool = &us->up->pools[us->fwd];

	TAILQ_REMOVE(pool, us, entry);
	if (sock_usable(us, now, SOCK_INFLIGHT))
		TAILQ_INSERT_HEAD(pool, us, entry);
	else
		TAILQ_INSERT_TAIL(pool, us, entry);
}

static struct usock *
sock_get(struct upstream *up, const struct conf_addr *server,
    const struct fetch *f)
{
	struct usocklist	*pool = &up->pools[server->fwd];
	struct usock		*us, *next, *best = NULL;
	uint64_t		 now = mono_ms();
	int			 moved = 0;

	for (us = TAILQ_FIRST(pool); us != NULL; us = next) {
		next = TAILQ_NEXT(us, entry);
		if (!sock_usable(us, now, SOCK_INFLIGHT)) {
			/* Aged since it was sorted: to the back. */
			if (++moved > SOCK_SCAN || next == NULL)
				break;
			TAILQ_REMOVE(pool, us, entry);
			TAILQ_INSERT_TAIL(pool, us, entry);
			continue;
		}
		/* A retry gets another port: a forger gets no second chance. */
		if (!sock_has(us, f))
			return (us);
	}
	if (up->nsocks < SOCKS_MAX && (us = sock_open(up, server)) != NULL)
		return (us);
	/*
	 * Out of sockets: the least loaded of the first SOCK_SLOTS that are
	 * not retired for cause, spent or old as they may be (a slow
	 * forwarder can hold every socket we may open for seconds), which
	 * then goes to the back, so that the picks go round all of them.  At
	 * most SOCK_SLOTS queries share one port and ID space (README).
	 */
	moved = 0;
	TAILQ_FOREACH(us, pool, entry) {
		if (!us->retired && us->nout < SOCK_SLOTS &&
		    (best == NULL || us->nout < best->nout))
			best = us;
		if (++moved == SOCK_SLOTS)
			break;
	}
	if (best != NULL) {
		TAILQ_REMOVE(pool, best, entry);
		TAILQ_INSERT_TAIL(pool, best, entry);
	}
	return (best);
}

static int
sock_slot(struct usock *us, uint16_t id)
{
	unsigned int	 i;

	for (i = 0; i < SOCK_SLOTS; i++)
		if (us->out[i] != NULL && us->out[i]->id == id)
			return (i);
	return (-1);
}

/* Forget a try: its ID, its socket or connection. */
static void
try_free(struct try *t)
{
	int	 i;

	if (t->us != NULL) {
		if ((i = sock_slot(t->us, t->id)) != -1)
			t->us->out[i] = NULL;
		t->us->nout--;
		if (t->us->nout == 0 && sock_spent(t->us, mono_ms()))
			sock_close(t->us);
		else if (t->us->nout == SOCK_INFLIGHT - 1)
			sock_sort(t->us, mono_ms());
	}
	if (t->bev != NULL)
		bufferevent_free(t->bev);
	TAILQ_REMOVE(&t->f->tries, t, entry);
	if (t->f->current == t)
		t->f->current = NULL;
	free(t);
}

/* Is a UDP try of f still waiting for its reply? */
static int
fetch_awaits_udp(const struct fetch *f)
{
	const struct try	*t;

	TAILQ_FOREACH(t, &f->tries, entry)
		if (t->us != NULL)
			return (1);
	return (0);
}

static void
fetch_unlink(struct fetch *f)
{
	if (f->in_table) {
		LIST_REMOVE(f, entry);
		f->in_table = 0;
	}
}

static void
fetch_free(struct fetch *f)
{
	struct upstream_wait	*wt;
	struct try		*t;

	fetch_unlink(f);
	while ((t = TAILQ_FIRST(&f->tries)) != NULL) {
		/* A probe whose answer we no longer wait for. */
		if (!t->timed_out)
			fwd_abandon(f->up->w->srv->fwd, t->server->fwd,
			    f->group);
		try_free(t);
	}
	while ((wt = TAILQ_FIRST(&f->waiters)) != NULL) {
		TAILQ_REMOVE(&f->waiters, wt, entry);
		free(wt);
	}
	if (f->timer != NULL)
		event_free(f->timer);
	ldns_rdf_deep_free(f->qname);
	conf_unref(f->conf);
	free(f);
}

void
upstream_free(struct upstream *up)
{
	struct fetch	*f;
	struct usock	*us;
	int		 i;

	if (up == NULL)
		return;
	for (i = 0; i < FETCH_BUCKETS; i++)
		while ((f = LIST_FIRST(&up->table[i])) != NULL)
			fetch_free(f);
	for (i = 0; i < FWD_MAX; i++)
		while ((us = TAILQ_FIRST(&up->pools[i])) != NULL)
			sock_close(us);
	event_free(up->sweep);
	free(up);
}

/* Close idle sockets that are too old to take queries. */
static void
sweep_cb(evutil_socket_t fd, short events, void *arg)
{
	struct upstream	*up = arg;
	struct usock	*us, *next;
	uint64_t	 now = mono_ms();
	int		 i;

	(void)fd;
	(void)events;
	for (i = 0; i < FWD_MAX; i++)
		for (us = TAILQ_FIRST(&up->pools[i]); us != NULL; us = next) {
			next = TAILQ_NEXT(us, entry);
			/* Old is not retired: out of sockets, it serves. */
			if (us->nout == 0 && sock_spent(us, now))
				sock_close(us);
		}
}

static void
cache_key(struct cache_key *key, const ldns_rdf *qname, uint16_t qtype,
    uint16_t qclass, unsigned int flags)
{
	memset(key, 0, sizeof(*key));
	key->kind = CACHE_KIND_UPSTREAM;
	key->flags = flags;
	key->qtype = qtype;
	key->qclass = qclass;
	key->name = ldns_rdf_data(qname);
	key->namelen = ldns_rdf_size(qname);
}

/*
 * How long a reply may be cached: the smallest TTL of its answer and
 * authority data; a negative answer for its SOA's negative TTL (RFC 2308
 * 5), not at all without a SOA; a SERVFAIL or REFUSED for a few seconds.
 * 0: not at all.
 */
static uint32_t
cache_ttl(const ldns_pkt *pkt, const struct conf *conf)
{
	const ldns_rr_list	*l[2];
	const ldns_rr		*rr;
	uint32_t		 ttl = UINT32_MAX, t;
	size_t			 i, j;
	int			 rcode = policy_rcode(pkt);

	if (rcode == LDNS_RCODE_SERVFAIL || rcode == LDNS_RCODE_REFUSED)
		return (ERROR_TTL);
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN)
		return (0);
	if (rcode == LDNS_RCODE_NXDOMAIN || ldns_pkt_ancount(pkt) == 0) {
		if (dns64_negative_ttl(pkt, &ttl) == -1)
			return (0);
		return (ttl < conf->cache_max_neg_ttl ? ttl :
		    conf->cache_max_neg_ttl);
	}
	l[0] = ldns_pkt_answer(pkt);
	l[1] = ldns_pkt_authority(pkt);
	for (j = 0; j < 2; j++)
		for (i = 0; i < ldns_rr_list_rr_count(l[j]); i++) {
			rr = ldns_rr_list_rr(l[j], i);
			t = dns64_ttl(ldns_rr_ttl(rr));
			if (t < ttl)
				ttl = t;
		}
	return (ttl < conf->cache_max_ttl ? ttl : conf->cache_max_ttl);
}

static void
cache_store(struct fetch *f, const ldns_pkt *pkt, const uint8_t *wire,
    size_t len)
{
	struct cache_key	 key;
	uint32_t		 ttl;

	if (f->up->w->srv->cache == NULL ||
	    (ttl = cache_ttl(pkt, f->conf)) == 0)
		return;
	cache_key(&key, f->qname, f->qtype, f->qclass, f->flags);
	(void)cache_put(f->up->w->srv->cache, &key, mono_ms(), ttl,
	    f->conf->serve_stale ? STALE_KEEP : 0, wire, len);
}

/* Count a cached reply's TTLs down by age, or set them all to ttl. */
static void
age_ttls(ldns_pkt *pkt, uint32_t age, uint32_t cap, int stale)
{
	ldns_rr_list	*l[3];
	ldns_rr		*rr;
	uint32_t	 t;
	size_t		 i, j;

	l[0] = ldns_pkt_answer(pkt);
	l[1] = ldns_pkt_authority(pkt);
	l[2] = ldns_pkt_additional(pkt);
	for (j = 0; j < 3; j++)
		for (i = 0; i < ldns_rr_list_rr_count(l[j]); i++) {
			rr = ldns_rr_list_rr(l[j], i);
			t = dns64_ttl(ldns_rr_ttl(rr));
			if (t > cap)
				t = cap;
			if (stale)
				t = STALE_TTL;
			else
				t = t > age ? t - age : 0;
			ldns_rr_set_ttl(rr, t);
		}
}

static int
cache_lookup(struct upstream *up, const struct conf *conf,
    const ldns_rdf *qname, uint16_t qtype, uint16_t qclass,
    unsigned int flags, int stale, struct upstream_result *res)
{
	struct cache_key	 key;
	struct cache_meta	 meta;
	uint64_t		 now = mono_ms();
	ssize_t			 n;

	cache_key(&key, qname, qtype, qclass, flags);
	n = cache_get(up->w->srv->cache, &key, now, stale, up->buf,
	    sizeof(up->buf), &meta);
	if (n <= 0 || dnsmsg_parse_reply(up->buf, n, &res->pkt) !=
	    LDNS_STATUS_OK)
		return (0);
	age_ttls(res->pkt, (uint32_t)((now - meta.stored) / 1000),
	    conf->cache_max_ttl, meta.stale);
	res->status = UPSTREAM_OK;
	res->cached = 1;
	res->stale = meta.stale;
	snprintf(res->server, sizeof(res->server), "cache");
	return (1);
}

int
upstream_cached(struct upstream *up, const ldns_rdf *qname, uint16_t qtype,
    uint16_t qclass, unsigned int flags, struct upstream_result *res)
{
	memset(res, 0, sizeof(*res));
	if (up->w->srv->cache == NULL)
		return (0);
	if (cache_lookup(up, up->w->conf, qname, qtype, qclass, flags, 0,
	    res)) {
		STATS_INC(up->w->stats.cache_hits);
		return (1);
	}
	STATS_INC(up->w->stats.cache_misses);
	return (0);
}

/*
 * The fetch is over: it leaves the table first, so that a waiter may ask
 * the same question again, then every waiter gets its own copy of the
 * answer (the last one gets pkt itself).  A waiter's callback may cancel
 * other waiters, which then simply leave the list.
 */
static void
deliver(struct fetch *f, ldns_pkt *pkt)
{
	struct upstream_wait	*wt;
	struct upstream_result	 res;
	int			 stale = 0;

	fetch_unlink(f);
	f->delivering = 1;
	if (pkt == NULL && f->conf->serve_stale &&
	    cache_lookup(f->up, f->conf, f->qname, f->qtype, f->qclass,
	    f->flags, 1, &res)) {
		/* RFC 8767: every forwarder failed; an expired answer. */
		STATS_INC(f->up->w->stats.cache_stale);
		pkt = res.pkt;
		stale = 1;
	}
	while ((wt = TAILQ_FIRST(&f->waiters)) != NULL) {
		TAILQ_REMOVE(&f->waiters, wt, entry);
		f->nwaiters--;
		memset(&res, 0, sizeof(res));
		if (pkt != NULL) {
			res.status = UPSTREAM_OK;
			res.stale = stale;
			if (TAILQ_EMPTY(&f->waiters)) {
				res.pkt = pkt;
				pkt = NULL;
			} else
				res.pkt = ldns_pkt_clone(pkt);
			if (res.pkt == NULL)
				res.status = UPSTREAM_LOCALERR;
		} else
			res.status = f->status;
		snprintf(res.server, sizeof(res.server), "%s", stale ?
		    "cache" : f->server);
		wt->cb(&res, wt->arg);
		free(wt);
	}
	ldns_pkt_free(pkt);
	fetch_free(f);
}

/* The fetch failed; the waiters hear it from the loop. */
static void
fail(struct fetch *f, enum upstream_status status)
{
	f->status = status;
	f->failed = 1;
	if (f->current != NULL)
		f->current = NULL;
	evtimer_del(f->timer);
	/* Activating an event cannot fail, unlike adding a timer. */
	event_active(f->timer, EV_TIMEOUT, 1);
}

static int
arm_timer(struct fetch *f, unsigned int ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (evtimer_add(f->timer, &tv) == -1) {
		log_warnx("%s: evtimer_add failed", __func__);
		return (-1);
	}
	return (0);
}

static uint16_t
unique_id(struct usock *us)
{
	uint16_t	 id;
	int		 i;

	/* RFC 5452 9.2: from a CSPRNG, unique on the socket. */
	for (i = 0; i < 16; i++) {
		id = rnd_uniform(65536);
		if (sock_slot(us, id) == -1)
			break;
	}
	return (id);
}

static int
send_udp(struct try *t, uint8_t *wire, size_t len)
{
	struct fetch	*f = t->f;
	unsigned int	 i;

	if ((t->us = sock_get(f->up, t->server, f)) == NULL)
		return (-1);
	t->id = unique_id(t->us);
	ldns_write_uint16(wire, t->id);
	if (send(t->us->fd, wire, len, 0) == -1) {
		fetch_debug(f, t->server, "%s", strerror(errno));
		sock_retire(t->us);
		t->us = NULL;
		return (-1);
	}
	for (i = 0; i < SOCK_SLOTS && t->us->out[i] != NULL; i++)
		;
	t->us->out[i] = t;
	t->us->nout++;
	t->us->sent++;
	if (!sock_usable(t->us, mono_ms(), SOCK_INFLIGHT))
		sock_sort(t->us, mono_ms());
	return (0);
}

static int
send_tcp(struct try *t, uint8_t *wire, size_t len)
{
	const struct sockaddr	*sa = (const struct sockaddr *)&t->server->ss;
	uint8_t			 lenbuf[2];

	if ((t->bev = bufferevent_socket_new(t->f->up->w->base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		return (-1);
	(void)bufferevent_priority_set(t->bev, WORKER_PRIO_REPLY);
	t->id = rnd_uniform(65536);
	ldns_write_uint16(wire, t->id);
	bufferevent_setcb(t->bev, tcp_read_cb, NULL, tcp_event_cb, t);
	bufferevent_setwatermark(t->bev, EV_READ, 2, 0);
	ldns_write_uint16(lenbuf, len);
	if (bufferevent_write(t->bev, lenbuf, 2) == -1 ||
	    bufferevent_write(t->bev, wire, len) == -1 ||
	    bufferevent_enable(t->bev, EV_READ | EV_WRITE) == -1 ||
	    bufferevent_socket_connect(t->bev, sa, t->server->sslen) == -1) {
		fetch_debug(t->f, t->server, "cannot start a tcp query");
		return (-1);
	}
	return (0);
}

/* Send a try to server; NULL when it could not go out. */
static struct try *
send_try(struct fetch *f, const struct conf_addr *server, int tcp)
{
	struct try	*t;
	uint8_t		 wire[LDNS_HEADER_SIZE + LDNS_MAX_DOMAINLEN + 16];
	size_t		 len;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (NULL);
	t->f = f;
	t->server = server;
	TAILQ_INSERT_TAIL(&f->tries, t, entry);
	len = dnsmsg_query_wire(wire, sizeof(wire), 0, f->qname, f->qtype,
	    f->qclass, f->flags, f->conf->edns_buffer_size);
	if (len == 0 || (tcp ? send_tcp(t, wire, len) :
	    send_udp(t, wire, len)) == -1) {
		STATS_INC(f->up->w->stats.upstream_local_errors);
		try_free(t);
		return (NULL);
	}
	t->sent = mono_us();
	sa_str((const struct sockaddr *)&server->ss, f->server,
	    sizeof(f->server));
	STATS_INC(f->up->w->stats.upstream_queries);
	return (t);
}

/*
 * Nothing more to send.  The tries still out may yet answer: a forwarder
 * slow to recurse is not a dead one, and the RTO that moved on to the next
 * try is only a guess.  They get until upstream-timeout after the first
 * try left; then the fetch fails.
 */
static void
linger(struct fetch *f)
{
	uint64_t	 deadline = f->first_sent + f->conf->upstream_timeout;
	uint64_t	 now = mono_ms();

	if (!f->lingering && !TAILQ_EMPTY(&f->tries) && f->first_sent != 0 &&
	    deadline > now) {
		f->lingering = 1;
		if (arm_timer(f, deadline - now) == 0)
			return;
	}
	fail(f, TAILQ_EMPTY(&f->tries) && f->status == UPSTREAM_OK ?
	    UPSTREAM_LOCALERR : f->status);
}

/*
 * Start the next try on the forwarder fwd_select() picks.  When none can
 * be started, the fetch fails unless a try already out may still answer:
 * then it waits for the current timer.
 */
static void
try_next(struct fetch *f)
{
	struct fwd_table	*fwd = f->up->w->srv->fwd;
	struct try		*t;
	unsigned int		 timeout;
	int			 pos, all_down;

	while (f->ntries < f->maxtries) {
		pos = fwd_select(fwd, f->conf->fwdi, f->conf->nfwd, f->tried,
		    f->conf->fwd_selection, f->group, mono_ms(),
		    f->conf->upstream_timeout, &timeout, &all_down);
		if (pos == -1) {
			/* One forwarder is asked twice. */
			if (f->conf->nfwd == 1 && f->tried != 0) {
				f->tried = 0;
				continue;
			}
			break;
		}
		f->tried |= 1ULL << pos;
		f->ntries++;
		if (all_down)
			f->maxtries = f->ntries;
		/*
		 * With one forwarder the next try goes to the same server: a
		 * retransmission for a lost packet, not a failover.  A
		 * forwarder that takes longer than its RTO to recurse would
		 * only get the question twice, so the first try waits half
		 * of upstream-timeout at least.
		 */
		if (f->conf->nfwd == 1 && f->ntries == 1 &&
		    timeout < f->conf->upstream_timeout / 2)
			timeout = f->conf->upstream_timeout / 2;

		if ((t = send_try(f, f->conf->fwdv[pos], 0)) == NULL) {
			fwd_abandon(fwd, f->conf->fwdi[pos], f->group);
			f->status = UPSTREAM_LOCALERR;
			continue;
		}
		if (arm_timer(f, timeout) == -1) {
			fail(f, UPSTREAM_LOCALERR);
			return;
		}
		f->current = t;
		f->timeout = timeout;
		if (f->first_sent == 0)
			f->first_sent = mono_ms();
		return;
	}
	if (f->current != NULL)
		return;
	linger(f);
}

/* A try ended without an answer (error, broken reply): go on. */
static void
try_failed(struct try *t, enum upstream_status status)
{
	struct fetch	*f = t->f;
	int		 was_current = f->current == t;

	f->status = status;
	try_free(t);
	if (!was_current) {
		/* The last try out failed: no use waiting. */
		if (f->lingering && TAILQ_EMPTY(&f->tries) && !f->failed)
			fail(f, status);
		return;
	}
	evtimer_del(f->timer);
	try_next(f);
	if (f->current == NULL && !f->failed)
		fail(f, status);
}

static void
timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct fetch	*f = arg;
	struct try	*t = f->current;

	(void)fd;
	(void)events;
	if (f->failed) {
		deliver(f, NULL);
		return;
	}
	/* Kept only for its reply (upstream_cancel): no retry for nobody. */
	if (f->nwaiters == 0 && f->up->w->srv->cache == NULL) {
		fetch_free(f);
		return;
	}
	if (f->lingering) {
		fail(f, f->status);
		return;
	}
	if (t != NULL) {
		t->timed_out = 1;
		f->current = NULL;
		f->status = UPSTREAM_TIMEOUT;
		STATS_INC(f->up->w->stats.upstream_timeouts);
		fwd_timeout(f->up->w->srv->fwd, t->server->fwd, f->group,
		    f->timeout, f->conf->upstream_timeout, mono_ms());
		fetch_debug(f, t->server, "timed out after %u ms (%s)",
		    f->timeout, t->bev != NULL ? "tcp" : "udp");
	}
	try_next(f);
}

/* A good reply to try t: the fetch is done. */
static void
answered(struct try *t, ldns_pkt *pkt, const uint8_t *wire, size_t len)
{
	struct fetch	*f = t->f;
	uint64_t	 rtt = mono_us() - t->sent;
	char		 name[SA_STRLEN];

	fwd_reply(f->up->w->srv->fwd, t->server->fwd, f->group,
	    (unsigned int)(rtt / 1000), mono_ms());
	stats_observe(&f->up->w->stats.upstream_rtt, rtt);
	snprintf(f->server, sizeof(f->server), "%s%s",
	    sa_str((const struct sockaddr *)&t->server->ss, name,
	    sizeof(name)), t->bev != NULL ? "/tcp" : "");
	/* Others' answers are no longer awaited. */
	t->timed_out = 1;
	evtimer_del(f->timer);
	f->current = NULL;
	cache_store(f, pkt, wire, len);
	/* With a cache, cache-max-ttl bounds every TTL, the first too. */
	if (f->up->w->srv->cache != NULL)
		age_ttls(pkt, 0, f->conf->cache_max_ttl, 0);
	deliver(f, pkt);
}

/*
 * Check a reply to try t.  A reply that does not parse, or has the right
 * ID but another question, can only come from the forwarder (the socket
 * is connected and a forger would have to guess the ID as well): it is
 * broken, and the try goes elsewhere at once.
 */
static void
check_reply(struct try *t, const uint8_t *wire, size_t len)
{
	struct fetch	*f = t->f;
	ldns_pkt	*pkt;
	int		 tcp = t->bev != NULL;

	if (dnsmsg_parse_reply(wire, len, &pkt) != LDNS_STATUS_OK ||
	    !dnsmsg_reply_is_for(pkt, t->id, f->qname, f->qtype, f->qclass)) {
		ldns_pkt_free(pkt);
		fetch_debug(f, t->server, "broken reply (%s)", pkt == NULL ?
		    "unparsable" : "wrong question");
		STATS_INC(f->up->w->stats.upstream_broken);
		fwd_broken(f->up->w->srv->fwd, t->server->fwd);
		fwd_abandon(f->up->w->srv->fwd, t->server->fwd, f->group);
		try_failed(t, UPSTREAM_BROKEN);
		return;
	}
	if (ldns_pkt_tc(pkt)) {
		ldns_pkt_free(pkt);
		if (tcp) {
			/* A TCP reply cannot be truncated for lack of room. */
			fetch_debug(f, t->server, "broken reply (tc over tcp)");
			STATS_INC(f->up->w->stats.upstream_broken);
			fwd_broken(f->up->w->srv->fwd, t->server->fwd);
			fwd_abandon(f->up->w->srv->fwd, t->server->fwd,
			    f->group);
			try_failed(t, UPSTREAM_BROKEN);
			return;
		}
		/* RFC 2181 9: ignore a truncated reply, ask over TCP. */
		STATS_INC(f->up->w->stats.upstream_tcp);
		fwd_reply(f->up->w->srv->fwd, t->server->fwd, f->group,
		    (unsigned int)((mono_us() - t->sent) / 1000), mono_ms());
		replace_with_tcp(t);
		return;
	}
	answered(t, pkt, wire, len);
}

/* Ask the same forwarder again over TCP; this try's socket is done. */
static void
replace_with_tcp(struct try *t)
{
	struct fetch		*f = t->f;
	const struct conf_addr	*server = t->server;
	struct try		*n;

	if (f->current != NULL && f->current != t) {
		/* It may still answer, but no longer sets the pace. */
		f->current->timed_out = 1;
		fwd_abandon(f->up->w->srv->fwd, f->current->server->fwd,
		    f->group);
	}
	try_free(t);
	evtimer_del(f->timer);
	f->current = NULL;
	if ((n = send_try(f, server, 1)) == NULL ||
	    arm_timer(f, f->conf->upstream_timeout) == -1) {
		if (n != NULL)
			try_free(n);
		f->status = UPSTREAM_LOCALERR;
		try_next(f);
		return;
	}
	f->current = n;
	f->timeout = f->conf->upstream_timeout;
}

/*
 * Drain the socket: forged datagrams must not starve the real one.  A
 * transport error (ICMP unreachable) ends every try on the socket.
 */
static void
sock_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct usock	*us = arg;
	struct upstream	*up = us->up;
	struct try	*t;
	ssize_t		 n;
	int		 i, err;

	(void)events;
	for (;;) {
		if ((n = recv(fd, up->buf, sizeof(up->buf), 0)) == -1) {
			if (errno == EAGAIN || errno == EINTR) {
				if (us->nout == 0 &&
				    sock_spent(us, mono_ms()))
					sock_close(us);
				return;
			}
			err = errno;
			STATS_INC(up->w->stats.upstream_errors);
			fwd_error(up->w->srv->fwd, us->fwd);
			/* The socket may close with its last try. */
			us->retired = 1;
			us->nout++;
			for (i = 0; i < SOCK_SLOTS; i++) {
				if ((t = us->out[i]) == NULL)
					continue;
				fetch_debug(t->f, t->server, "%s",
				    strerror(err));
				fwd_abandon(up->w->srv->fwd, us->fwd,
				    t->f->group);
				try_failed(t, UPSTREAM_NETERR);
			}
			if (--us->nout == 0)
				sock_close(us);
			return;
		}
		if (n < 2 || (i = sock_slot(us, ldns_read_uint16(up->buf))) ==
		    -1) {
			/*
			 * RFC 5452 9.3: a late reply, or a forger who found
			 * the port; either way the port has served enough.
			 */
			STATS_INC(up->w->stats.upstream_unmatched);
			us->retired = 1;
			continue;
		}
		t = us->out[i];
		/* The socket stays while its try is checked. */
		us->nout++;
		check_reply(t, up->buf, n);
		if (--us->nout == 0) {
			if (sock_spent(us, mono_ms()))
				sock_close(us);
			/*
			 * Nothing more is expected: no recv() to hear
			 * EAGAIN.  Anything else that came is read at the
			 * next wakeup (the event is level-triggered).
			 */
			return;
		}
	}
}

static void
tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct try	*t = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	uint8_t		 lenbuf[2], *msg;
	size_t		 len;

	if (evbuffer_copyout(in, lenbuf, 2) != 2)
		return;
	len = ldns_read_uint16(lenbuf);
	if (evbuffer_get_length(in) < len + 2) {
		bufferevent_setwatermark(bev, EV_READ, len + 2, 0);
		return;
	}
	evbuffer_drain(in, 2);
	if ((msg = evbuffer_pullup(in, len)) == NULL) {
		try_failed(t, UPSTREAM_BROKEN);
		return;
	}
	check_reply(t, msg, len);
}

static void
tcp_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct try	*t = arg;
	struct fetch	*f = t->f;

	(void)bev;
	if (events & BEV_EVENT_CONNECTED)
		return;
	fetch_debug(f, t->server, "tcp connection %s",
	    (events & BEV_EVENT_EOF) ? "closed" : "failed");
	STATS_INC(f->up->w->stats.upstream_errors);
	fwd_error(f->up->w->srv->fwd, t->server->fwd);
	fwd_abandon(f->up->w->srv->fwd, t->server->fwd, f->group);
	try_failed(t, UPSTREAM_NETERR);
}

static struct fetch *
fetch_find(struct upstream *up, uint64_t hash, const ldns_rdf *qname,
    uint16_t qtype, uint16_t qclass, unsigned int flags)
{
	struct fetch	*f;
	uint64_t	 now = mono_ms();

	LIST_FOREACH(f, &up->table[hash % FETCH_BUCKETS], entry)
		if (f->hash == hash && f->qtype == qtype &&
		    f->qclass == qclass && f->flags == flags &&
		    ldns_dname_compare(f->qname, qname) == 0 &&
		    /*
		     * One that has waited long already is unlikely to be
		     * answered soon: a new one goes out instead.
		     */
		    now - f->born < f->conf->upstream_timeout * 2 / 3)
			return (f);
	return (NULL);
}

static struct fetch *
fetch_new(struct upstream *up, uint64_t hash, const ldns_rdf *qname,
    uint16_t qtype, uint16_t qclass, unsigned int flags, const char *who)
{
	struct conf		*conf = up->w->conf;
	struct fetch		*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (NULL);
	TAILQ_INIT(&f->tries);
	TAILQ_INIT(&f->waiters);
	if ((f->qname = ldns_rdf_clone(qname)) == NULL ||
	    (f->timer = evtimer_new(up->w->base, timer_cb, f)) == NULL) {
		ldns_rdf_deep_free(f->qname);
		free(f);
		return (NULL);
	}
	f->up = up;
	f->conf = conf_ref(conf);
	f->qtype = qtype;
	f->qclass = qclass;
	f->flags = flags;
	f->hash = hash;
	f->born = mono_ms();
	f->group = group_of(qtype);
	snprintf(f->who, sizeof(f->who), "%s", who);
	/* One forwarder is asked twice, several are asked once each. */
	f->maxtries = conf->nfwd > 1 ? conf->nfwd : 2 * conf->nfwd;
	LIST_INSERT_HEAD(&up->table[hash % FETCH_BUCKETS], f, entry);
	f->in_table = 1;
	return (f);
}

struct upstream_wait *
upstream_fetch(struct upstream *up, const ldns_rdf *qname, uint16_t qtype,
    uint16_t qclass, unsigned int flags, const char *who,
    void (*cb)(struct upstream_result *, void *), void *arg)
{
	struct upstream_wait	*wt;
	struct fetch		*f;
	uint64_t		 hash;
	int			 joined = 1;

	if ((wt = calloc(1, sizeof(*wt))) == NULL)
		return (NULL);
	wt->cb = cb;
	wt->arg = arg;
	hash = fetch_hash(up, qname, qtype, qclass, flags);
	if ((f = fetch_find(up, hash, qname, qtype, qclass, flags)) == NULL) {
		if ((f = fetch_new(up, hash, qname, qtype, qclass, flags,
		    who)) == NULL) {
			free(wt);
			return (NULL);
		}
		joined = 0;
	}
	wt->f = f;
	TAILQ_INSERT_TAIL(&f->waiters, wt, entry);
	f->nwaiters++;
	if (joined)
		STATS_INC(up->w->stats.upstream_coalesced);
	else
		try_next(f);
	return (wt);
}

void
upstream_cancel(struct upstream_wait *wt)
{
	struct fetch	*f;

	if (wt == NULL)
		return;
	f = wt->f;
	TAILQ_REMOVE(&f->waiters, wt, entry);
	f->nwaiters--;
	free(wt);
	/*
	 * Nobody waits any more.  With a cache the answer is still worth
	 * having (the A of a dual-stack name, say); without, stop now, but
	 * for a UDP try out: its reply, due soon, would find no ID to match,
	 * look like a forgery and cost its socket (RFC 5452 9.3).
	 */
	if (f->nwaiters == 0 && !f->delivering && (f->failed ||
	    (f->up->w->srv->cache == NULL && !fetch_awaits_udp(f))))
		fetch_free(f);
}
