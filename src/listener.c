/*
 * listener.c -- the client side.
 *
 * UDP: one socket per listen address; datagrams are read in batches and the
 * reply leaves from the address the query was sent to (IP_PKTINFO), which
 * matters when listening on a wildcard address.
 *
 * TCP (RFC 7766): 2-byte framing, several queries in flight per connection,
 * each answered as soon as it completes (6.2.1, 7), an idle timeout that
 * only a complete message resets (6.2.3), a cap on connections that clients
 * the query ACL refuses cannot use up, and a bound on unread answers.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <ldns/ldns.h>

#include "dns64proxy.h"
#include "acl.h"
#include "conf.h"
#include "listener.h"
#include "log.h"
#include "query.h"
#include "sa.h"
#include "stats.h"

#define UDP_BATCH	64	/* datagrams read per wakeup */
#define TCP_BACKLOG	128
/*
 * A client that pipelines queries but does not read its answers stops
 * being read from once this much waits to be written, so that it cannot
 * make us buffer without bound; the idle timeout then closes it.
 */
#define TCP_OUT_MAX	(64 * 1024)

struct listen_sock {
	TAILQ_ENTRY(listen_sock) entry;
	struct listener		*l;
	struct sockaddr_storage	 ss;
	int			 udp_fd;
	int			 wildcard;
	struct event		*ev_udp;
	struct evconnlistener	*tcp;
	struct event		*ev_backoff;	/* accept paused */
};

struct tcp_conn {
	TAILQ_ENTRY(tcp_conn)	 entry;
	struct listener		*l;
	struct bufferevent	*bev;
	struct event		*ev_idle;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	TAILQ_HEAD(, client)	 pending;
	unsigned int		 npending;
	int			 refused;	/* by the query ACL */
	int			 eof;		/* client done sending */
	int			 freeing;
};

struct listener {
	struct worker		*w;
	TAILQ_HEAD(, listen_sock) socks;
	TAILQ_HEAD(, tcp_conn)	 conns;
	unsigned int		 nconns;
	uint8_t			 buf[DNS_MSG_MAX];
};

static void	 udp_read_cb(evutil_socket_t, short, void *);
static void	 tcp_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	 tcp_read_cb(struct bufferevent *, void *);
static void	 tcp_write_cb(struct bufferevent *, void *);
static void	 tcp_event_cb(struct bufferevent *, short, void *);
static void	 tcp_idle_cb(evutil_socket_t, short, void *);
static void	 tcp_accept_error_cb(struct evconnlistener *, void *);
static void	 tcp_backoff_cb(evutil_socket_t, short, void *);
static void	 conn_free(struct tcp_conn *);

static int
open_udp(struct listen_sock *ls, socklen_t len)
{
	const struct sockaddr	*sa = (const struct sockaddr *)&ls->ss;
	int			 on = 1;

	if ((ls->udp_fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (sa->sa_family == AF_INET6) {
		if (setsockopt(ls->udp_fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on)) == -1 || setsockopt(ls->udp_fd, IPPROTO_IPV6,
		    IPV6_RECVPKTINFO, &on, sizeof(on)) == -1)
			return (-1);
	} else if (setsockopt(ls->udp_fd, IPPROTO_IP, IP_PKTINFO, &on,
	    sizeof(on)) == -1)
		return (-1);
	return (bind(ls->udp_fd, sa, len));
}

static int
open_tcp(struct listen_sock *ls, socklen_t len)
{
	const struct sockaddr	*sa = (const struct sockaddr *)&ls->ss;
	int			 fd, on = 1, saved;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
	    bind(fd, sa, len) == -1)
		goto fail;
	if ((ls->tcp = evconnlistener_new(ls->l->w->base, tcp_accept_cb, ls,
	    LEV_OPT_CLOSE_ON_FREE, TCP_BACKLOG, fd)) == NULL)
		goto fail;
	evconnlistener_set_error_cb(ls->tcp, tcp_accept_error_cb);
	if ((ls->ev_backoff = evtimer_new(ls->l->w->base, tcp_backoff_cb,
	    ls)) == NULL)
		return (-1);
	return (0);
 fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

static void
sock_free(struct listen_sock *ls)
{
	if (ls->ev_udp != NULL)
		event_free(ls->ev_udp);
	if (ls->udp_fd != -1)
		close(ls->udp_fd);
	if (ls->tcp != NULL)
		evconnlistener_free(ls->tcp);
	if (ls->ev_backoff != NULL)
		event_free(ls->ev_backoff);
	free(ls);
}

struct listener *
listener_new(struct worker *w)
{
	struct listener		*l;
	struct listen_sock	*ls;
	struct conf_addr	*ca;
	char			 name[SA_STRLEN];
	int			 saved;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return (NULL);
	l->w = w;
	TAILQ_INIT(&l->socks);
	TAILQ_INIT(&l->conns);
	TAILQ_FOREACH(ca, &w->conf->listen, entry) {
		sa_str((struct sockaddr *)&ca->ss, name, sizeof(name));
		if ((ls = calloc(1, sizeof(*ls))) == NULL)
			goto fail;
		ls->l = l;
		ls->ss = ca->ss;
		ls->udp_fd = -1;
		ls->wildcard = sa_is_wildcard((struct sockaddr *)&ca->ss);
		TAILQ_INSERT_TAIL(&l->socks, ls, entry);
		if (open_udp(ls, ca->sslen) == -1) {
			log_warn("listen on %s (udp)", name);
			goto fail;
		}
		if (open_tcp(ls, ca->sslen) == -1) {
			log_warn("listen on %s (tcp)", name);
			goto fail;
		}
		if ((ls->ev_udp = event_new(w->base, ls->udp_fd,
		    EV_READ | EV_PERSIST, udp_read_cb, ls)) == NULL ||
		    event_add(ls->ev_udp, NULL) == -1) {
			log_warnx("%s: event_new failed", __func__);
			goto fail;
		}
		log_info("listening on %s", name);
	}
	return (l);
 fail:
	saved = errno;
	listener_free(l);
	errno = saved;
	return (NULL);
}

void
listener_free(struct listener *l)
{
	struct listen_sock	*ls;
	struct tcp_conn		*conn;

	if (l == NULL)
		return;
	while ((conn = TAILQ_FIRST(&l->conns)) != NULL)
		conn_free(conn);
	while ((ls = TAILQ_FIRST(&l->socks)) != NULL) {
		TAILQ_REMOVE(&l->socks, ls, entry);
		sock_free(ls);
	}
	free(l);
}

/* Remember which address the datagram was sent to (IP_PKTINFO). */
static void
get_pktinfo(struct msghdr *msg, struct client *cl)
{
	struct cmsghdr		*cm;
	struct in_pktinfo	*pi;
	struct in6_pktinfo	*pi6;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&cl->local;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&cl->local;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO) {
			pi = (struct in_pktinfo *)CMSG_DATA(cm);
			sin->sin_family = AF_INET;
			sin->sin_addr = pi->ipi_addr;
			cl->ifindex = pi->ipi_ifindex;
		} else if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_PKTINFO) {
			pi6 = (struct in6_pktinfo *)CMSG_DATA(cm);
			sin6->sin6_family = AF_INET6;
			sin6->sin6_addr = pi6->ipi6_addr;
			cl->ifindex = pi6->ipi6_ifindex;
		}
	}
}

static void
udp_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct listen_sock	*ls = arg;
	struct listener		*l = ls->l;
	struct client		 cl;
	struct msghdr		 msg;
	struct iovec		 iov;
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	}			 cmsg;
	ssize_t			 n;
	int			 i;

	(void)events;
	for (i = 0; i < UDP_BATCH; i++) {
		memset(&cl, 0, sizeof(cl));
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = l->buf;
		iov.iov_len = sizeof(l->buf);
		msg.msg_name = &cl.peer;
		msg.msg_namelen = sizeof(cl.peer);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = &cmsg;
		msg.msg_controllen = sizeof(cmsg);
		if ((n = recvmsg(fd, &msg, 0)) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("%s: recvmsg", __func__);
			return;
		}
		cl.peerlen = msg.msg_namelen;
		cl.ls = ls;
		get_pktinfo(&msg, &cl);
		sa_str((struct sockaddr *)&cl.peer, cl.name, sizeof(cl.name));
		l->w->stats->queries_udp++;
		query_start(l->w, &cl, l->buf, n);
	}
}

static void
udp_send(struct client *cl, const uint8_t *wire, size_t len)
{
	struct msghdr		 msg;
	struct iovec		 iov;
	struct cmsghdr		*cm;
	struct in_pktinfo	*pi;
	struct in6_pktinfo	*pi6;
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	}			 cmsg;

	memset(&msg, 0, sizeof(msg));
	memset(&cmsg, 0, sizeof(cmsg));
	iov.iov_base = (void *)wire;
	iov.iov_len = len;
	msg.msg_name = &cl->peer;
	msg.msg_namelen = cl->peerlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	/* Only a wildcard socket needs to be told the source address. */
	if (cl->ls->wildcard && cl->local.ss_family == AF_INET) {
		msg.msg_control = &cmsg;
		msg.msg_controllen = CMSG_SPACE(sizeof(*pi));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(*pi));
		pi = (struct in_pktinfo *)CMSG_DATA(cm);
		pi->ipi_spec_dst =
		    ((struct sockaddr_in *)&cl->local)->sin_addr;
	} else if (cl->ls->wildcard && cl->local.ss_family == AF_INET6) {
		msg.msg_control = &cmsg;
		msg.msg_controllen = CMSG_SPACE(sizeof(*pi6));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(*pi6));
		pi6 = (struct in6_pktinfo *)CMSG_DATA(cm);
		pi6->ipi6_addr =
		    ((struct sockaddr_in6 *)&cl->local)->sin6_addr;
		pi6->ipi6_ifindex = cl->ifindex;
	}
	if (sendmsg(cl->ls->udp_fd, &msg, 0) == -1)
		log_debug("%s: reply not sent: %s", cl->name, strerror(errno));
}

void
listener_send(struct client *cl, const uint8_t *wire, size_t len)
{
	uint8_t	 lenbuf[2];

	if (!cl->tcp) {
		udp_send(cl, wire, len);
		return;
	}
	ldns_write_uint16(lenbuf, len);
	if (bufferevent_write(cl->conn->bev, lenbuf, 2) == -1 ||
	    bufferevent_write(cl->conn->bev, wire, len) == -1)
		log_warnx("%s: reply not queued", cl->name);
}

/* A connection without a working idle timer could stay forever. */
static int
arm_idle(struct tcp_conn *conn)
{
	unsigned int	 ms = conn->l->w->conf->tcp_idle_timeout;
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (evtimer_add(conn->ev_idle, &tv) == -1) {
		log_warnx("%s: evtimer_add failed", __func__);
		return (-1);
	}
	return (0);
}

/*
 * At the connection cap, a client the query ACL allows takes the place of
 * the oldest connection from a refused one: refused clients still get their
 * REFUSED over TCP, but cannot lock out the clients we serve (RFC 7766
 * 6.2.2).
 */
static int
make_room(struct listener *l, int refused)
{
	struct tcp_conn	*conn;
	char		 name[SA_STRLEN];

	if (l->nconns < l->w->conf->tcp_max_clients)
		return (1);
	if (refused)
		return (0);
	TAILQ_FOREACH(conn, &l->conns, entry)
		if (conn->refused) {
			log_debug("%s: refused client's tcp connection closed "
			    "at the cap of %u", sa_str((struct sockaddr *)
			    &conn->peer, name, sizeof(name)), l->nconns);
			l->w->stats->tcp_closed_cap++;
			conn_free(conn);
			return (1);
		}
	return (0);
}

static void
tcp_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listen_sock	*ls = arg;
	struct listener		*l = ls->l;
	struct tcp_conn		*conn;
	char			 name[SA_STRLEN];
	int			 refused;

	(void)evl;
	refused = acl_match_sa(&l->w->conf->query_acl, sa) != ACL_ALLOW;
	if (!make_room(l, refused)) {
		log_debug("%s: tcp connection refused, %u connections open",
		    sa_str(sa, name, sizeof(name)), l->nconns);
		l->w->stats->tcp_rejected_cap++;
		close(fd);
		return;
	}
	if ((conn = calloc(1, sizeof(*conn))) == NULL) {
		log_warnx("%s: out of memory", __func__);
		close(fd);
		return;
	}
	conn->l = l;
	conn->refused = refused;
	TAILQ_INIT(&conn->pending);
	memcpy(&conn->peer, sa, salen);
	conn->peerlen = salen;
	if ((conn->bev = bufferevent_socket_new(l->w->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warnx("%s: bufferevent_socket_new failed", __func__);
		close(fd);
		free(conn);
		return;
	}
	if ((conn->ev_idle = evtimer_new(l->w->base, tcp_idle_cb, conn)) ==
	    NULL) {
		log_warnx("%s: evtimer_new failed", __func__);
		bufferevent_free(conn->bev);
		free(conn);
		return;
	}
	TAILQ_INSERT_TAIL(&l->conns, conn, entry);
	l->nconns++;
	l->w->stats->tcp_accepted++;
	bufferevent_setcb(conn->bev, tcp_read_cb, tcp_write_cb, tcp_event_cb,
	    conn);
	bufferevent_setwatermark(conn->bev, EV_READ, 2, 0);
	bufferevent_setwatermark(conn->bev, EV_WRITE, TCP_OUT_MAX / 2, 0);
	if (bufferevent_enable(conn->bev, EV_READ | EV_WRITE) == -1 ||
	    arm_idle(conn) == -1) {
		log_warnx("%s: cannot serve the connection", __func__);
		conn_free(conn);
	}
}

/*
 * accept() failed, most likely out of file descriptors.  The socket stays
 * readable, so accepting again at once would spin: pause for a second, as
 * unwind does, while the connections we have drain.
 */
static void
tcp_accept_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listen_sock	*ls = arg;
	struct timeval		 tv = { 1, 0 };

	log_warn("tcp accept");
	/* Without the timer, keep accepting rather than stop for good. */
	if (evtimer_add(ls->ev_backoff, &tv) == 0)
		evconnlistener_disable(evl);
}

static void
tcp_backoff_cb(evutil_socket_t fd, short events, void *arg)
{
	struct listen_sock	*ls = arg;

	(void)fd;
	(void)events;
	if (evconnlistener_enable(ls->tcp) == -1)
		log_warnx("%s: evconnlistener_enable failed", __func__);
}

static void
conn_free(struct tcp_conn *conn)
{
	struct client	*cl;

	if (conn->freeing)
		return;
	conn->freeing = 1;
	/* RFC 7766 6.2.4: nothing more is sent on a closed connection. */
	while ((cl = TAILQ_FIRST(&conn->pending)) != NULL)
		query_free(cl->query);
	TAILQ_REMOVE(&conn->l->conns, conn, entry);
	conn->l->nconns--;
	event_free(conn->ev_idle);
	bufferevent_free(conn->bev);
	free(conn);
}

/* Close once the client is done and every answer has been written. */
static int
conn_finished(struct tcp_conn *conn)
{
	return (conn->eof && conn->npending == 0 &&
	    evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0);
}

static int
conn_may_read(struct tcp_conn *conn)
{
	return (conn->npending < conn->l->w->conf->tcp_max_pipeline &&
	    evbuffer_get_length(bufferevent_get_output(conn->bev)) <
	    TCP_OUT_MAX);
}

/* Read again once answers are written or queries done. */
static void
conn_resume(struct tcp_conn *conn)
{
	if (conn->eof || (bufferevent_get_enabled(conn->bev) & EV_READ) ||
	    !conn_may_read(conn))
		return;
	if (bufferevent_enable(conn->bev, EV_READ) == -1) {
		log_warnx("%s: bufferevent_enable failed", __func__);
		conn_free(conn);
		return;
	}
	/* Messages may already wait in the buffer. */
	tcp_read_cb(conn->bev, conn);
}

static void
tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct tcp_conn		*conn = arg;
	struct listener		*l = conn->l;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct client		 cl;
	uint8_t			 lenbuf[2], *msg;
	size_t			 len;

	while (evbuffer_copyout(in, lenbuf, 2) == 2) {
		len = ldns_read_uint16(lenbuf);
		if (len < LDNS_HEADER_SIZE) {
			log_debug("tcp client sent a %zu byte message, closing",
			    len);
			conn_free(conn);
			return;
		}
		if (evbuffer_get_length(in) < len + 2) {
			bufferevent_setwatermark(bev, EV_READ, len + 2, 0);
			return;
		}
		if (!conn_may_read(conn)) {
			/* Resumed by conn_resume(). */
			bufferevent_disable(bev, EV_READ);
			return;
		}
		if ((msg = evbuffer_pullup(in, len + 2)) == NULL) {
			log_warnx("%s: evbuffer_pullup failed", __func__);
			conn_free(conn);
			return;
		}
		memset(&cl, 0, sizeof(cl));
		cl.tcp = 1;
		cl.conn = conn;
		memcpy(&cl.peer, &conn->peer, conn->peerlen);
		cl.peerlen = conn->peerlen;
		sa_str((struct sockaddr *)&cl.peer, cl.name, sizeof(cl.name));
		memcpy(l->buf, msg + 2, len);
		evbuffer_drain(in, len + 2);
		/* RFC 7766 6.2.3: only a full message resets the timer. */
		if (arm_idle(conn) == -1) {
			conn_free(conn);
			return;
		}
		l->w->stats->queries_tcp++;
		query_start(l->w, &cl, l->buf, len);
	}
	bufferevent_setwatermark(bev, EV_READ, 2, 0);
}

static void
tcp_write_cb(struct bufferevent *bev, void *arg)
{
	struct tcp_conn	*conn = arg;

	(void)bev;
	if (conn_finished(conn))
		conn_free(conn);
	else
		conn_resume(conn);
}

static void
tcp_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct tcp_conn	*conn = arg;

	if ((events & BEV_EVENT_EOF) && (events & BEV_EVENT_READING)) {
		/* A half close: answer what is pending, then close. */
		conn->eof = 1;
		bufferevent_disable(bev, EV_READ);
		if (conn_finished(conn))
			conn_free(conn);
		return;
	}
	conn_free(conn);
}

static void
tcp_idle_cb(evutil_socket_t fd, short events, void *arg)
{
	struct tcp_conn	*conn = arg;

	(void)fd;
	(void)events;
	if (conn->npending > 0) {
		if (arm_idle(conn) == -1)
			conn_free(conn);
		return;
	}
	conn->l->w->stats->tcp_closed_idle++;
	conn_free(conn);
}

void
listener_attach(struct client *cl)
{
	if (!cl->tcp)
		return;
	TAILQ_INSERT_TAIL(&cl->conn->pending, cl, entry);
	cl->conn->npending++;
}

void
listener_detach(struct client *cl)
{
	struct tcp_conn	*conn = cl->conn;

	if (!cl->tcp)
		return;
	TAILQ_REMOVE(&conn->pending, cl, entry);
	conn->npending--;
	if (conn->freeing)
		return;
	if (conn_finished(conn))
		conn_free(conn);
	else
		conn_resume(conn);
}
