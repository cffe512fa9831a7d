/*
 * listener.c -- the client side.
 *
 * UDP: datagrams are read in batches with recvmmsg() and the replies made
 * while a batch is handled (cache hits, local answers, errors) leave
 * together with sendmmsg(); a reply leaves from the address the query was
 * sent to (IP_PKTINFO), which matters when listening on a wildcard address.
 *
 * TCP (RFC 7766): 2-byte framing, several queries in flight per connection,
 * each answered as soon as it completes (6.2.1, 7), an idle timeout that
 * only a complete message resets (6.2.3), a bound on unread answers, and
 * fairness (6.2.2): one address (an IPv6 /64) may hold only so many
 * connections, counted across the workers, and at the cap the connection
 * idle longest makes room for a new one.  A spare descriptor is kept so
 * that even with every descriptor in use a client is accepted and
 * answered rather than left waiting.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
#include "mono.h"
#include "sa.h"
#include "stats.h"

#define UDP_VLEN	16	/* datagrams per recvmmsg()/sendmmsg() */
#define UDP_ROUNDS	4	/* batches per wakeup, then others' turn */
#define UDP_BUFSIZE	4096	/* largest query read, largest reply batched */
#define TCP_BACKLOG	128
/*
 * A client that pipelines queries but does not read its answers stops
 * being read from once this much waits to be written, so that it cannot
 * make us buffer without bound; the idle timeout then closes it.
 */
#define TCP_OUT_MAX	(64 * 1024)
#define TCP_EVICT_SCAN	64	/* connections looked at for one to close */
#define LIMIT_BUCKETS	1024

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
	TAILQ_ENTRY(tcp_conn)	 entry;		/* idle longest first */
	struct listener		*l;
	struct bufferevent	*bev;
	evutil_socket_t		 fd;		/* ours to close */
	struct event		*ev_idle;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	TAILQ_HEAD(, client)	 pending;
	unsigned int		 npending;
	int			 refused;	/* by the query ACL */
	int			 eof;		/* client done sending */
	int			 freeing;
};

/*
 * Room for one IP_PKTINFO or IPV6_PKTINFO control message, aligned as a
 * cmsghdr.  Not a union with one: its flexible array member would make
 * the structures that hold this variable-sized.
 */
struct pktinfo_buf {
	_Alignas(struct cmsghdr) uint8_t
	    buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};

/* A reply waiting in the send batch. */
struct udp_out {
	struct sockaddr_storage	 peer;
	struct pktinfo_buf	 cmsg;
	struct iovec		 iov;
	uint8_t			 data[UDP_BUFSIZE];
};

struct listener {
	struct worker		*w;
	listener_handler	*handler;
	TAILQ_HEAD(, listen_sock) socks;
	TAILQ_HEAD(, tcp_conn)	 conns;
	unsigned int		 nconns;
	int			 reserve;	/* spare fd, or -1 */
	/* recvmmsg() */
	struct mmsghdr		 in[UDP_VLEN];
	struct iovec		 in_iov[UDP_VLEN];
	struct sockaddr_storage	 in_peer[UDP_VLEN];
	struct pktinfo_buf	 in_cmsg[UDP_VLEN];
	uint8_t			 in_buf[UDP_VLEN][UDP_BUFSIZE];
	/* sendmmsg(): the batch of the socket being read, if any */
	struct listen_sock	*batch_ls;
	struct mmsghdr		 out[UDP_VLEN];
	struct udp_out		 out_msg[UDP_VLEN];
	unsigned int		 nout;
	uint8_t			 tcp_buf[DNS_MSG_MAX];
};

/* One entry per client address (or /64) holding TCP connections. */
struct limit_entry {
	LIST_ENTRY(limit_entry)	 entry;
	uint8_t			 key[9];	/* family, then 4 or 8 bytes */
	unsigned int		 count;
};

struct tcp_limit {
	pthread_mutex_t		 mtx;
	LIST_HEAD(, limit_entry) buckets[LIMIT_BUCKETS];
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

struct tcp_limit *
tcp_limit_new(void)
{
	struct tcp_limit	*tl;
	int			 i;

	if ((tl = calloc(1, sizeof(*tl))) == NULL)
		return (NULL);
	if (pthread_mutex_init(&tl->mtx, NULL) != 0) {
		free(tl);
		return (NULL);
	}
	for (i = 0; i < LIMIT_BUCKETS; i++)
		LIST_INIT(&tl->buckets[i]);
	return (tl);
}

void
tcp_limit_free(struct tcp_limit *tl)
{
	struct limit_entry	*e;
	int			 i;

	if (tl == NULL)
		return;
	for (i = 0; i < LIMIT_BUCKETS; i++)
		while ((e = LIST_FIRST(&tl->buckets[i])) != NULL) {
			LIST_REMOVE(e, entry);
			free(e);
		}
	pthread_mutex_destroy(&tl->mtx);
	free(tl);
}

/*
 * An IPv4 client is its address; an IPv6 client its /64, since one host
 * gets a whole /64 and may use any address in it.
 */
static unsigned int
limit_key(const struct sockaddr *sa, uint8_t *key)
{
	const uint8_t	*addr;
	unsigned int	 h = 0, i;
	int		 af;

	memset(key, 0, 9);
	addr = sa_addr(sa, &af);
	key[0] = af == AF_INET6;
	memcpy(key + 1, addr, af == AF_INET6 ? 8 : 4);
	/* Spread only: a collision merely shares a bucket's list. */
	for (i = 0; i < 9; i++)
		h = h * 31 + key[i];
	return (h % LIMIT_BUCKETS);
}

/* Take one connection for this client; -1 when it has max already. */
static int
limit_take(struct tcp_limit *tl, const struct sockaddr *sa, unsigned int max)
{
	struct limit_entry	*e;
	uint8_t			 key[9];
	unsigned int		 b = limit_key(sa, key);
	int			 rv = 0;

	pthread_mutex_lock(&tl->mtx);
	LIST_FOREACH(e, &tl->buckets[b], entry)
		if (memcmp(e->key, key, sizeof(key)) == 0)
			break;
	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			rv = -1;
		else {
			memcpy(e->key, key, sizeof(key));
			LIST_INSERT_HEAD(&tl->buckets[b], e, entry);
		}
	}
	if (e != NULL) {
		if (e->count >= max)
			rv = -1;
		else
			e->count++;
	}
	pthread_mutex_unlock(&tl->mtx);
	return (rv);
}

static void
limit_release(struct tcp_limit *tl, const struct sockaddr *sa)
{
	struct limit_entry	*e;
	uint8_t			 key[9];
	unsigned int		 b = limit_key(sa, key);

	pthread_mutex_lock(&tl->mtx);
	LIST_FOREACH(e, &tl->buckets[b], entry)
		if (memcmp(e->key, key, sizeof(key)) == 0)
			break;
	if (e != NULL && --e->count == 0) {
		LIST_REMOVE(e, entry);
		free(e);
	}
	pthread_mutex_unlock(&tl->mtx);
}

static int
set_opt(int fd, int level, int name)
{
	int	 on = 1;

	return (setsockopt(fd, level, name, &on, sizeof(on)));
}

/* IP_FREEBIND: bind an address no interface has (yet). */
static int
set_freebind(int fd, int af)
{
#ifdef IPV6_FREEBIND
	if (af == AF_INET6)
		return (set_opt(fd, IPPROTO_IPV6, IPV6_FREEBIND));
#endif
	(void)af;
	return (set_opt(fd, IPPROTO_IP, IP_FREEBIND));
}

/*
 * With SO_REUSEPORT another process of ours could join the port without
 * an error; a plain bind first tells whether anybody holds it already.
 */
static int
probe_free(const struct sockaddr *sa, socklen_t len, int type, int freebind)
{
	int	 fd, rv, saved;

	if ((fd = socket(sa->sa_family, type | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	rv = 0;
	if ((sa->sa_family == AF_INET6 && set_opt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY) == -1) || (freebind && set_freebind(fd,
	    sa->sa_family) == -1) || (type == SOCK_STREAM && set_opt(fd,
	    SOL_SOCKET, SO_REUSEADDR) == -1) || bind(fd, sa, len) == -1)
		rv = -1;
	saved = errno;
	close(fd);
	errno = saved;
	return (rv);
}

static int
open_one(const struct sockaddr *sa, socklen_t len, int type, int freebind,
    int shared)
{
	int	 fd, saved;

	if ((fd = socket(sa->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return (-1);
	if (sa->sa_family == AF_INET6 && set_opt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY) == -1)
		goto fail;
	if (type == SOCK_DGRAM && (sa->sa_family == AF_INET6 ?
	    set_opt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO) :
	    set_opt(fd, IPPROTO_IP, IP_PKTINFO)) == -1)
		goto fail;
	if (type == SOCK_STREAM && set_opt(fd, SOL_SOCKET, SO_REUSEADDR) == -1)
		goto fail;
	if ((shared && set_opt(fd, SOL_SOCKET, SO_REUSEPORT) == -1) ||
	    (freebind && set_freebind(fd, sa->sa_family) == -1))
		goto fail;
	if (bind(fd, sa, len) == -1)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, TCP_BACKLOG) == -1)
		goto fail;
	return (fd);
 fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

int
listener_open(const struct conf_addr *ca, int flags, struct listen_fds *fds)
{
	const struct sockaddr	*sa = (const struct sockaddr *)&ca->ss;
	int			 saved, freebind, shared;

	memset(fds, 0, sizeof(*fds));
	fds->ss = ca->ss;
	fds->sslen = ca->sslen;
	fds->udp = fds->tcp = -1;
	freebind = (flags & LISTENER_FREEBIND) != 0;
	shared = (flags & LISTENER_SHARED) != 0;
	if ((flags & LISTENER_PROBE) && (probe_free(sa, ca->sslen,
	    SOCK_DGRAM, freebind) == -1 || probe_free(sa, ca->sslen,
	    SOCK_STREAM, freebind) == -1))
		return (-1);
	if ((fds->udp = open_one(sa, ca->sslen, SOCK_DGRAM, freebind,
	    shared)) == -1 || (fds->tcp = open_one(sa, ca->sslen, SOCK_STREAM,
	    freebind, shared)) == -1) {
		saved = errno;
		listener_close_fds(fds);
		errno = saved;
		return (-1);
	}
	return (0);
}

void
listener_close_fds(struct listen_fds *fds)
{
	if (fds->udp != -1)
		close(fds->udp);
	if (fds->tcp != -1)
		close(fds->tcp);
	fds->udp = fds->tcp = -1;
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

static void
reserve_take(struct listener *l)
{
	if (l->reserve == -1)
		l->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

struct listener *
listener_new(struct worker *w, listener_handler *handler)
{
	struct listener	*l;
	int		 i;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return (NULL);
	l->w = w;
	l->handler = handler;
	l->reserve = -1;
	TAILQ_INIT(&l->socks);
	TAILQ_INIT(&l->conns);
	for (i = 0; i < UDP_VLEN; i++) {
		l->in_iov[i].iov_base = l->in_buf[i];
		l->in_iov[i].iov_len = UDP_BUFSIZE;
	}
	reserve_take(l);
	return (l);
}

int
listener_add(struct listener *l, struct listen_fds *fds)
{
	struct listen_sock	*ls;
	char			 name[SA_STRLEN];

	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		goto fail;
	ls->l = l;
	ls->ss = fds->ss;
	ls->udp_fd = fds->udp;
	fds->udp = -1;
	ls->wildcard = sa_is_wildcard((struct sockaddr *)&ls->ss);
	TAILQ_INSERT_TAIL(&l->socks, ls, entry);
	if ((ls->ev_udp = event_new(l->w->base, ls->udp_fd,
	    EV_READ | EV_PERSIST, udp_read_cb, ls)) == NULL ||
	    event_add(ls->ev_udp, NULL) == -1 ||
	    (ls->ev_backoff = evtimer_new(l->w->base, tcp_backoff_cb,
	    ls)) == NULL)
		goto fail;
	/* Already listening: a backlog of 0 leaves it alone. */
	if ((ls->tcp = evconnlistener_new(l->w->base, tcp_accept_cb, ls,
	    LEV_OPT_CLOSE_ON_FREE, 0, fds->tcp)) == NULL)
		goto fail;
	fds->tcp = -1;
	evconnlistener_set_error_cb(ls->tcp, tcp_accept_error_cb);
	return (0);
 fail:
	log_warnx("%s: cannot serve %s", __func__, sa_str((struct sockaddr *)
	    &fds->ss, name, sizeof(name)));
	listener_close_fds(fds);
	if (ls != NULL) {
		TAILQ_REMOVE(&l->socks, ls, entry);
		sock_free(ls);
	}
	return (-1);
}

void
listener_remove(struct listener *l, const struct sockaddr *sa)
{
	struct listen_sock	*ls, *next;

	for (ls = TAILQ_FIRST(&l->socks); ls != NULL; ls = next) {
		next = TAILQ_NEXT(ls, entry);
		if (!sa_equal((struct sockaddr *)&ls->ss, sa))
			continue;
		TAILQ_REMOVE(&l->socks, ls, entry);
		sock_free(ls);
	}
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
	if (l->reserve != -1)
		close(l->reserve);
	free(l);
}

void
listener_client_name(struct client *cl)
{
	if (cl->name[0] == '\0')
		sa_str((struct sockaddr *)&cl->peer, cl->name,
		    sizeof(cl->name));
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

/* Only a wildcard socket needs to be told the source address. */
static void
set_pktinfo(struct msghdr *msg, void *buf, const struct client *cl)
{
	struct cmsghdr		*cm;
	struct in_pktinfo	*pi;
	struct in6_pktinfo	*pi6;

	msg->msg_control = NULL;
	msg->msg_controllen = 0;
	if (!cl->ls->wildcard)
		return;
	msg->msg_control = buf;
	if (cl->local.sa.sa_family == AF_INET) {
		msg->msg_controllen = CMSG_SPACE(sizeof(*pi));
		memset(buf, 0, msg->msg_controllen);
		cm = CMSG_FIRSTHDR(msg);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(*pi));
		pi = (struct in_pktinfo *)CMSG_DATA(cm);
		pi->ipi_spec_dst =
		    ((const struct sockaddr_in *)&cl->local)->sin_addr;
	} else if (cl->local.sa.sa_family == AF_INET6) {
		msg->msg_controllen = CMSG_SPACE(sizeof(*pi6));
		memset(buf, 0, msg->msg_controllen);
		cm = CMSG_FIRSTHDR(msg);
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(*pi6));
		pi6 = (struct in6_pktinfo *)CMSG_DATA(cm);
		pi6->ipi6_addr =
		    ((const struct sockaddr_in6 *)&cl->local)->sin6_addr;
		pi6->ipi6_ifindex = cl->ifindex;
	} else
		msg->msg_control = NULL;
}

static void
udp_flush(struct listener *l)
{
	struct listen_sock	*ls = l->batch_ls;
	unsigned int		 done = 0;
	int			 n;

	while (done < l->nout) {
		if ((n = sendmmsg(ls->udp_fd, l->out + done, l->nout - done,
		    0)) == -1) {
			if (errno == EINTR)
				continue;
			/* That reply is lost (the client retries); the rest
			 * may still go. */
			log_debug("udp reply not sent: %s", strerror(errno));
			n = 1;
		}
		done += n;
	}
	l->nout = 0;
}

static void
udp_send(struct client *cl, const uint8_t *wire, size_t len)
{
	struct listener	*l = cl->ls->l;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct udp_out	*o;
	struct pktinfo_buf	 cmsg;

	if (l->batch_ls == cl->ls && len <= UDP_BUFSIZE) {
		if (l->nout == UDP_VLEN)
			udp_flush(l);
		o = &l->out_msg[l->nout];
		memcpy(o->data, wire, len);
		memcpy(&o->peer, &cl->peer, cl->peerlen);
		o->iov.iov_base = o->data;
		o->iov.iov_len = len;
		memset(&l->out[l->nout], 0, sizeof(l->out[l->nout]));
		l->out[l->nout].msg_hdr.msg_name = &o->peer;
		l->out[l->nout].msg_hdr.msg_namelen = cl->peerlen;
		l->out[l->nout].msg_hdr.msg_iov = &o->iov;
		l->out[l->nout].msg_hdr.msg_iovlen = 1;
		set_pktinfo(&l->out[l->nout].msg_hdr, &o->cmsg, cl);
		l->nout++;
		return;
	}
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)wire;
	iov.iov_len = len;
	msg.msg_name = &cl->peer;
	msg.msg_namelen = cl->peerlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	set_pktinfo(&msg, &cmsg, cl);
	if (sendmsg(cl->ls->udp_fd, &msg, 0) == -1) {
		listener_client_name(cl);
		log_debug("%s: reply not sent: %s", cl->name, strerror(errno));
	}
}

static void
udp_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct listen_sock	*ls = arg;
	struct listener		*l = ls->l;
	struct client		 cl;
	struct msghdr		*mh;
	int			 i, n, round;

	(void)events;
	l->batch_ls = ls;
	for (round = 0; round < UDP_ROUNDS; round++) {
		for (i = 0; i < UDP_VLEN; i++) {
			mh = &l->in[i].msg_hdr;
			mh->msg_name = &l->in_peer[i];
			mh->msg_namelen = sizeof(l->in_peer[i]);
			mh->msg_iov = &l->in_iov[i];
			mh->msg_iovlen = 1;
			mh->msg_control = &l->in_cmsg[i];
			mh->msg_controllen = sizeof(l->in_cmsg[i]);
			mh->msg_flags = 0;
		}
		if ((n = recvmmsg(fd, l->in, UDP_VLEN, MSG_DONTWAIT,
		    NULL)) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("%s: recvmmsg", __func__);
			break;
		}
		for (i = 0; i < n; i++) {
			mh = &l->in[i].msg_hdr;
			/*
			 * Longer than any query we answer: not worth one;
			 * and only IPv4 and IPv6 peers are ours.
			 */
			if ((mh->msg_flags & MSG_TRUNC) ||
			    mh->msg_namelen > sizeof(cl.peer)) {
				STATS_INC(l->w->stats.outcome[OUTCOME_DROPPED]);
				continue;
			}
			memset(&cl, 0, sizeof(cl));
			memcpy(&cl.peer, mh->msg_name, mh->msg_namelen);
			cl.peerlen = mh->msg_namelen;
			cl.ls = ls;
			get_pktinfo(mh, &cl);
			l->handler(l->w, &cl, l->in_buf[i], l->in[i].msg_len);
		}
		if (n < UDP_VLEN)
			break;
	}
	udp_flush(l);
	l->batch_ls = NULL;
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
	    bufferevent_write(cl->conn->bev, wire, len) == -1) {
		listener_client_name(cl);
		log_warnx("%s: reply not queued", cl->name);
	}
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

/* This worker's share of tcp-clients. */
static unsigned int
conn_cap(struct listener *l)
{
	unsigned int	 n = l->w->srv->nworkers;

	return ((l->w->conf->tcp_max_clients + n - 1) / n);
}

/*
 * At the connection cap, a new client takes the place of the connection
 * that has been idle longest with no query in flight, a client the query
 * ACL refuses first of all: refused clients still get their REFUSED over
 * TCP, but cannot lock out the clients we serve (RFC 7766 6.2.2).
 */
static int
make_room(struct listener *l, int refused)
{
	struct tcp_conn	*conn, *victim = NULL;
	char		 name[SA_STRLEN];
	int		 n = 0;

	if (l->nconns < conn_cap(l))
		return (1);
	TAILQ_FOREACH(conn, &l->conns, entry) {
		if (conn->refused) {
			victim = conn;
			break;
		}
		if (victim == NULL && conn->npending == 0 && !refused)
			victim = conn;
		if (++n == TCP_EVICT_SCAN && victim != NULL)
			break;
	}
	if (victim == NULL)
		return (0);
	log_debug("%s: tcp connection closed to make room, %u open",
	    sa_str((struct sockaddr *)&victim->peer, name, sizeof(name)),
	    l->nconns);
	STATS_INC(l->w->stats.tcp_closed_cap);
	conn_free(victim);
	return (1);
}

/* Close the connection idle longest with no query in flight, if any. */
static int
close_idle(struct listener *l)
{
	struct tcp_conn	*conn;
	char		 name[SA_STRLEN];
	int		 n = 0;

	TAILQ_FOREACH(conn, &l->conns, entry) {
		if (conn->npending == 0)
			break;
		if (++n == TCP_EVICT_SCAN)
			return (0);
	}
	if (conn == NULL)
		return (0);
	log_debug("%s: tcp connection closed, out of descriptors",
	    sa_str((struct sockaddr *)&conn->peer, name, sizeof(name)));
	STATS_INC(l->w->stats.tcp_closed_cap);
	conn_free(conn);
	return (1);
}

static void
serve_conn(struct listen_sock *ls, evutil_socket_t fd, struct sockaddr *sa,
    int salen)
{
	struct listener	*l = ls->l;
	struct tcp_conn	*conn;
	char		 name[SA_STRLEN];
	int		 refused;

	refused = acl_match_sa(&l->w->conf->query_acl, sa) != ACL_ALLOW;
	if (limit_take(l->w->srv->tcp_limit, sa,
	    l->w->conf->tcp_per_address) == -1) {
		log_debug("%s: tcp connection refused, %u from this client",
		    sa_str(sa, name, sizeof(name)),
		    l->w->conf->tcp_per_address);
		STATS_INC(l->w->stats.tcp_rejected);
		close(fd);
		return;
	}
	if (!make_room(l, refused)) {
		log_debug("%s: tcp connection refused, %u connections open",
		    sa_str(sa, name, sizeof(name)), l->nconns);
		STATS_INC(l->w->stats.tcp_rejected);
		limit_release(l->w->srv->tcp_limit, sa);
		close(fd);
		return;
	}
	if ((conn = calloc(1, sizeof(*conn))) == NULL) {
		log_warnx("%s: out of memory", __func__);
		limit_release(l->w->srv->tcp_limit, sa);
		close(fd);
		return;
	}
	conn->l = l;
	conn->fd = fd;
	conn->refused = refused;
	TAILQ_INIT(&conn->pending);
	memcpy(&conn->peer, sa, salen);
	conn->peerlen = salen;
	/*
	 * Not BEV_OPT_CLOSE_ON_FREE: libevent may close the socket later than
	 * bufferevent_free(), and conn_free() must have the descriptor back at
	 * once to refill the reserve.
	 */
	if ((conn->bev = bufferevent_socket_new(l->w->base, fd, 0)) == NULL) {
		log_warnx("%s: bufferevent_socket_new failed", __func__);
		limit_release(l->w->srv->tcp_limit, sa);
		close(fd);
		free(conn);
		return;
	}
	if ((conn->ev_idle = evtimer_new(l->w->base, tcp_idle_cb, conn)) ==
	    NULL) {
		log_warnx("%s: evtimer_new failed", __func__);
		limit_release(l->w->srv->tcp_limit, sa);
		bufferevent_free(conn->bev);
		close(fd);
		free(conn);
		return;
	}
	TAILQ_INSERT_TAIL(&l->conns, conn, entry);
	l->nconns++;
	STATS_INC(l->w->stats.tcp_accepted);
	STATS_INC(l->w->stats.tcp_open);
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

static void
tcp_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	(void)evl;
	serve_conn(arg, fd, sa, salen);
}

/*
 * accept() failed.  Out of descriptors, the spare one lets us take the
 * client anyway (it gets an answer, if only SERVFAIL, or a clean close)
 * instead of leaving it in the backlog to time out; with the spare in use,
 * the connection idle longest gives its descriptor up (RFC 7766 6.2.2).
 * Without either, or for other errors, the socket would stay readable and
 * accepting again at once would spin: pause for a second, as unwind does.
 */
static void
tcp_accept_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listen_sock	*ls = arg;
	struct listener		*l = ls->l;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct timeval		 tv = { 1, 0 };
	int			 fd;

	if ((errno == EMFILE || errno == ENFILE) &&
	    (l->reserve != -1 || close_idle(l))) {
		if (l->reserve != -1)
			close(l->reserve);
		l->reserve = -1;
		fd = accept4(evconnlistener_get_fd(evl), (struct sockaddr *)&ss,
		    &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1) {
			serve_conn(ls, fd, (struct sockaddr *)&ss, len);
			reserve_take(l);
			return;
		}
	}
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
	reserve_take(ls->l);
	if (evconnlistener_enable(ls->tcp) == -1)
		log_warnx("%s: evconnlistener_enable failed", __func__);
}

static void
conn_free(struct tcp_conn *conn)
{
	struct listener	*l = conn->l;
	struct client	*cl;

	if (conn->freeing)
		return;
	conn->freeing = 1;
	/* RFC 7766 6.2.4: nothing more is sent on a closed connection. */
	while ((cl = TAILQ_FIRST(&conn->pending)) != NULL)
		cl->cancel(cl);
	TAILQ_REMOVE(&l->conns, conn, entry);
	l->nconns--;
	STATS_DEC(l->w->stats.tcp_open);
	limit_release(l->w->srv->tcp_limit, (struct sockaddr *)&conn->peer);
	event_free(conn->ev_idle);
	bufferevent_free(conn->bev);
	close(conn->fd);
	free(conn);
	/* A descriptor is free again: keep one in reserve. */
	reserve_take(l);
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
	uint8_t			 lenbuf[2];
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
		evbuffer_drain(in, 2);
		if (evbuffer_remove(in, l->tcp_buf, len) != (int)len) {
			log_warnx("%s: evbuffer_remove failed", __func__);
			conn_free(conn);
			return;
		}
		memset(&cl, 0, sizeof(cl));
		cl.tcp = 1;
		cl.conn = conn;
		memcpy(&cl.peer, &conn->peer, conn->peerlen < sizeof(cl.peer) ?
		    conn->peerlen : sizeof(cl.peer));
		cl.peerlen = conn->peerlen;
		/* RFC 7766 6.2.3: only a full message resets the timer. */
		if (arm_idle(conn) == -1) {
			conn_free(conn);
			return;
		}
		/* Active: the last to be closed to make room. */
		TAILQ_REMOVE(&l->conns, conn, entry);
		TAILQ_INSERT_TAIL(&l->conns, conn, entry);
		l->handler(l->w, &cl, l->tcp_buf, len);
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
	STATS_INC(conn->l->w->stats.tcp_closed_idle);
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
