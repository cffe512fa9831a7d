/*
 * upstream.c -- the forwarder side.
 *
 * Every try of every upstream query gets its own connected UDP socket bound
 * to a random port and a fresh random ID (RFC 5452 9.2), so a reply can only
 * come from the server we asked (the kernel filters on the connected peer)
 * and must still match ID and question before it is believed (RFC 5452 9.1).
 * A reply with TC=1 is asked again over TCP from the same server.  When a
 * try times out, the next forwarder in the configured order is tried.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
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
#include "conf.h"
#include "dnsmsg.h"
#include "log.h"
#include "sa.h"
#include "stats.h"
#include "upstream.h"

#define BIND_TRIES	10	/* random ports tried before the kernel picks */

struct upstream_req {
	TAILQ_ENTRY(upstream_req) entry;
	struct upstream		*up;
	ldns_rdf		*qname;
	ldns_rr_type		 qtype;
	ldns_rr_class		 qclass;
	unsigned int		 flags;
	const char		*who;		/* the client, for the log */
	ldns_pkt		*query;		/* this try's query */
	const struct conf_addr	*server;
	unsigned int		 tries;
	unsigned int		 maxtries;
	int			 tcp;
	int			 failed;	/* deliver failure from the timer */
	int			 fd;		/* UDP */
	struct event		*ev_read;	/* UDP */
	struct bufferevent	*bev;		/* TCP */
	struct event		*ev_timer;
	void			(*cb)(struct upstream_reply *, void *);
	void			*arg;
};

struct upstream {
	struct worker		*w;
	const struct conf_addr	**servers;
	unsigned int		 nservers;
	TAILQ_HEAD(, upstream_req) reqs;
	uint8_t			 buf[DNS_MSG_MAX];
};

static void	 req_debug(struct upstream_req *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	 try_next(struct upstream_req *);
static void	 timer_cb(evutil_socket_t, short, void *);
static void	 udp_read_cb(evutil_socket_t, short, void *);
static void	 tcp_read_cb(struct bufferevent *, void *);
static void	 tcp_event_cb(struct bufferevent *, short, void *);

/* "<client>: upstream <forwarder>: <message>", at -v. */
static void
req_debug(struct upstream_req *req, const char *fmt, ...)
{
	va_list		 ap;
	char		 msg[256], name[SA_STRLEN];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_debug("%s: upstream %s: %s", req->who, sa_str((const struct
	    sockaddr *)&req->server->ss, name, sizeof(name)), msg);
}

struct upstream *
upstream_new(struct worker *w)
{
	struct upstream		*up;
	struct conf_addr	*ca;
	unsigned int		 n = 0;

	if ((up = calloc(1, sizeof(*up))) == NULL)
		return (NULL);
	up->w = w;
	TAILQ_INIT(&up->reqs);
	TAILQ_FOREACH(ca, &w->conf->forwarders, entry)
		n++;
	if ((up->servers = calloc(n ? n : 1, sizeof(*up->servers))) == NULL) {
		free(up);
		return (NULL);
	}
	TAILQ_FOREACH(ca, &w->conf->forwarders, entry)
		up->servers[up->nservers++] = ca;
	return (up);
}

void
upstream_free(struct upstream *up)
{
	struct upstream_req	*req;

	if (up == NULL)
		return;
	while ((req = TAILQ_FIRST(&up->reqs)) != NULL)
		upstream_cancel(req);
	free(up->servers);
	free(up);
}

/* Close this try's transport; the request itself stays. */
static void
close_try(struct upstream_req *req)
{
	if (req->ev_read != NULL) {
		event_free(req->ev_read);
		req->ev_read = NULL;
	}
	if (req->fd != -1) {
		close(req->fd);
		req->fd = -1;
	}
	if (req->bev != NULL) {
		bufferevent_free(req->bev);
		req->bev = NULL;
	}
	ldns_pkt_free(req->query);
	req->query = NULL;
}

static void
req_free(struct upstream_req *req)
{
	close_try(req);
	if (req->ev_timer != NULL)
		event_free(req->ev_timer);
	ldns_rdf_deep_free(req->qname);
	TAILQ_REMOVE(&req->up->reqs, req, entry);
	free(req);
}

void
upstream_cancel(struct upstream_req *req)
{
	if (req != NULL)
		req_free(req);
}

/* The request is over: free it first so the callback may ask again. */
static void
deliver(struct upstream_req *req, ldns_pkt *pkt)
{
	struct upstream_reply	 r;
	void			(*cb)(struct upstream_reply *, void *) = req->cb;
	void			*arg = req->arg;

	memset(&r, 0, sizeof(r));
	r.pkt = pkt;
	/* conf_addr outlives the request: it belongs to the config. */
	r.server = req->server ? (const struct sockaddr *)&req->server->ss :
	    NULL;
	r.tcp = req->tcp;
	req_free(req);
	cb(&r, arg);
}

static int
arm_timer(struct upstream_req *req, unsigned int ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (evtimer_add(req->ev_timer, &tv) == -1) {
		log_warnx("%s: evtimer_add failed", __func__);
		return (-1);
	}
	return (0);
}

/* RFC 5452 9.2: a random source port, not the listener's. */
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
		port = i < BIND_TRIES ? 1024 + arc4random_uniform(65536 - 1024) :
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

static int
open_udp(struct upstream_req *req, const uint8_t *wire, size_t len)
{
	const struct sockaddr	*sa = (const struct sockaddr *)&req->server->ss;
	char			 name[SA_STRLEN];
	int			 saved;

	if ((req->fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("%s: socket", __func__);
		return (-1);
	}
	if (bind_random_port(req->fd, sa->sa_family) == -1 ||
	    connect(req->fd, sa, req->server->sslen) == -1 ||
	    send(req->fd, wire, len, 0) == -1) {
		saved = errno;
		log_warnx("%s: upstream %s: %s", req->who,
		    sa_str(sa, name, sizeof(name)), strerror(saved));
		return (-1);
	}
	if ((req->ev_read = event_new(req->up->w->base, req->fd,
	    EV_READ | EV_PERSIST, udp_read_cb, req)) == NULL ||
	    event_add(req->ev_read, NULL) == -1) {
		log_warnx("%s: event_new failed", __func__);
		return (-1);
	}
	return (0);
}

static int
open_tcp(struct upstream_req *req, const uint8_t *wire, size_t len)
{
	const struct sockaddr	*sa = (const struct sockaddr *)&req->server->ss;
	uint8_t			 lenbuf[2];

	if ((req->bev = bufferevent_socket_new(req->up->w->base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warnx("%s: bufferevent_socket_new failed", __func__);
		return (-1);
	}
	bufferevent_setcb(req->bev, tcp_read_cb, NULL, tcp_event_cb, req);
	bufferevent_setwatermark(req->bev, EV_READ, 2, 0);
	ldns_write_uint16(lenbuf, len);
	if (bufferevent_write(req->bev, lenbuf, 2) == -1 ||
	    bufferevent_write(req->bev, wire, len) == -1 ||
	    bufferevent_enable(req->bev, EV_READ | EV_WRITE) == -1 ||
	    bufferevent_socket_connect(req->bev, sa, req->server->sslen) ==
	    -1) {
		log_warnx("%s: cannot start a tcp query", __func__);
		return (-1);
	}
	return (0);
}

/*
 * Send this try's query, with a fresh ID, over UDP or TCP, and arm its
 * timer.  -1 after closing whatever was opened.
 */
static int
send_try(struct upstream_req *req, int tcp)
{
	struct upstream	*up = req->up;
	uint8_t		*wire = NULL;
	size_t		 len;
	int		 rv;

	ldns_pkt_free(req->query);
	req->query = dnsmsg_query(req->qname, req->qtype, req->qclass,
	    (req->flags & UPSTREAM_RD) != 0, (req->flags & UPSTREAM_CD) != 0,
	    (req->flags & UPSTREAM_DO) != 0, up->w->conf->edns_buffer_size);
	if (req->query == NULL ||
	    ldns_pkt2wire(&wire, req->query, &len) != LDNS_STATUS_OK) {
		log_warnx("%s: out of memory", __func__);
		rv = -1;
	} else
		rv = tcp ? open_tcp(req, wire, len) : open_udp(req, wire, len);
	free(wire);
	if (rv == 0)
		rv = arm_timer(req, up->w->conf->upstream_timeout);
	if (rv == -1) {
		close_try(req);
		up->w->stats->upstream_errors++;
		return (-1);
	}
	req->tcp = tcp;
	up->w->stats->upstream_queries++;
	return (0);
}

/*
 * Start the next try on the next forwarder.  When no try can be started,
 * the failure is delivered from the timer so that the callback never runs
 * inside upstream_query().
 */
static void
try_next(struct upstream_req *req)
{
	struct upstream	*up = req->up;

	close_try(req);
	req->tcp = 0;
	while (req->tries < req->maxtries) {
		req->server = up->servers[req->tries % up->nservers];
		req->tries++;
		if (send_try(req, 0) == 0)
			return;
	}
	req->failed = 1;
	/* Activating an event cannot fail, unlike adding a timer. */
	event_active(req->ev_timer, EV_TIMEOUT, 1);
}

static void
timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct upstream_req	*req = arg;

	(void)fd;
	(void)events;
	if (req->failed) {
		deliver(req, NULL);
		return;
	}
	req->up->w->stats->upstream_timeouts++;
	req_debug(req, "timed out (%s)", req->tcp ? "tcp" : "udp");
	try_next(req);
}

/* Parse and check a reply; NULL if it is not the answer to our query. */
static ldns_pkt *
accept_reply(struct upstream_req *req, const uint8_t *buf, size_t len)
{
	ldns_pkt	*pkt;

	if (dnsmsg_parse_reply(buf, len, &pkt) != LDNS_STATUS_OK) {
		req_debug(req, "unparsable reply ignored");
		req->up->w->stats->upstream_mismatched++;
		return (NULL);
	}
	if (!dnsmsg_reply_matches(req->query, pkt)) {
		req_debug(req, "reply with wrong id or question ignored");
		req->up->w->stats->upstream_mismatched++;
		ldns_pkt_free(pkt);
		return (NULL);
	}
	return (pkt);
}

static void
udp_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct upstream_req	*req = arg;
	struct upstream		*up = req->up;
	ldns_pkt		*pkt;
	ssize_t			 n;

	(void)events;
	/* Drain everything: forged datagrams must not starve the real one. */
	for (;;) {
		if ((n = recv(fd, up->buf, sizeof(up->buf), 0)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* ICMP unreachable: this forwarder is not there. */
			req_debug(req, "%s", strerror(errno));
			up->w->stats->upstream_errors++;
			evtimer_del(req->ev_timer);
			try_next(req);
			return;
		}
		if ((pkt = accept_reply(req, up->buf, n)) == NULL)
			continue;
		if (ldns_pkt_tc(pkt)) {
			/* RFC 2181 9: ignore a truncated reply, ask over TCP. */
			ldns_pkt_free(pkt);
			close_try(req);
			up->w->stats->upstream_tcp++;
			if (send_try(req, 1) == -1)
				try_next(req);
			return;
		}
		evtimer_del(req->ev_timer);
		deliver(req, pkt);
		return;
	}
}

static void
tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct upstream_req	*req = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	uint8_t			 lenbuf[2], *msg;
	size_t			 len;
	ldns_pkt		*pkt;

	if (evbuffer_copyout(in, lenbuf, 2) != 2)
		return;
	len = ldns_read_uint16(lenbuf);
	if (evbuffer_get_length(in) < len + 2) {
		bufferevent_setwatermark(bev, EV_READ, len + 2, 0);
		return;
	}
	evbuffer_drain(in, 2);
	if ((msg = evbuffer_pullup(in, len)) == NULL && len > 0) {
		log_warnx("%s: evbuffer_pullup failed", __func__);
		evtimer_del(req->ev_timer);
		try_next(req);
		return;
	}
	pkt = accept_reply(req, msg, len);
	/* Our connection, our one query: anything else is a broken server. */
	evtimer_del(req->ev_timer);
	if (pkt == NULL)
		try_next(req);
	else
		deliver(req, pkt);
}

static void
tcp_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct upstream_req	*req = arg;

	(void)bev;
	if (events & BEV_EVENT_CONNECTED)
		return;
	req_debug(req, "tcp connection %s",
	    (events & BEV_EVENT_EOF) ? "closed" : "failed");
	req->up->w->stats->upstream_errors++;
	evtimer_del(req->ev_timer);
	try_next(req);
}

struct upstream_req *
upstream_query(struct upstream *up, const ldns_rdf *qname, ldns_rr_type qtype,
    ldns_rr_class qclass, unsigned int flags, const char *who,
    void (*cb)(struct upstream_reply *, void *), void *arg)
{
	struct upstream_req	*req;

	if ((req = calloc(1, sizeof(*req))) == NULL)
		return (NULL);
	req->up = up;
	req->fd = -1;
	req->qtype = qtype;
	req->qclass = qclass;
	req->flags = flags;
	req->who = who;
	req->cb = cb;
	req->arg = arg;
	/* One forwarder is asked twice, several are asked once each. */
	req->maxtries = up->nservers > 1 ? up->nservers : 2;
	if (up->nservers == 0)
		req->maxtries = 0;
	if ((req->qname = ldns_rdf_clone(qname)) == NULL ||
	    (req->ev_timer = evtimer_new(up->w->base, timer_cb, req)) == NULL) {
		ldns_rdf_deep_free(req->qname);
		free(req);
		return (NULL);
	}
	TAILQ_INSERT_TAIL(&up->reqs, req, entry);
	try_next(req);
	return (req);
}
