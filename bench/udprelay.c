/*
 * udprelay - a UDP DNS relay that adds delay or goes silent, for the
 * benchmarks (this kernel has no netem).
 *
 *	udprelay -a ADDR -p PORT -u UPADDR -P UPPORT [-d MS] [-x] [-L LOGFILE]
 *
 * Listens on ADDR:PORT (UDP) and relays every query to UPADDR:UPPORT, each
 * after MS milliseconds (-d, default 0: the upstream then looks MS ms
 * further away), and the replies straight back to whoever asked.  Queries
 * leave through a few connected sockets with their ID rewritten to a slot
 * number, so many clients and many outstanding queries (up to 262144) need
 * no per-client state but one slot.
 *
 * -x starts silent: every query is dropped, as by a firewall (no reply, no
 * ICMP).  SIGUSR1 makes it silent, SIGUSR2 makes it relay again.
 * -L appends one line per query to LOGFILE: "MS fwd" or "MS drop", MS the
 * wall clock in milliseconds since the epoch (compare with date +%s%3N).
 *
 * Writes "ready" to stderr once listening.  On SIGHUP, and on SIGTERM or
 * SIGINT before exiting 0, prints "received N forwarded N replies N dropped
 * N overflow N stray N peak N" to stderr: peak is the most queries relayed
 * and not yet answered at once since the last such line.  Exits 1 on usage
 * errors and 2 if ADDR:PORT cannot be bound.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define UR_EXIT_USAGE	1
#define UR_EXIT_BIND	2
#define UR_NSOCK	4		/* upstream sockets */
#define UR_NID		65536		/* slots (DNS IDs) per socket */
#define UR_NSLOT	(UR_NSOCK * UR_NID)
#define UR_SLOT_LIFE	60000		/* ms before an unanswered slot is reused */
#define UR_BURST	64		/* packets read per wakeup and socket */
#define UR_BUFSIZE	(4 * 1024 * 1024)

union ur_addr {
	struct sockaddr		sa;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
};

struct ur_slot {
	union ur_addr	client;
	socklen_t	clen;
	uint16_t	id;		/* the client's ID */
	bool		used;
	int64_t		since;		/* ms, monotonic */
};

/* A query waiting out its delay; the queue is FIFO since the delay is. */
struct ur_pkt {
	int64_t		due;
	int		sock;
	size_t		len;
	unsigned char	data[];
};

struct ur_relay {
	int		 lfd;
	int		 ufd[UR_NSOCK];
	struct ur_slot	*slots;
	size_t		 cursor;
	struct ur_pkt	**queue;
	size_t		 qhead, qlen, qcap;
	int		 delay;
	bool		 silent;
	FILE		*log;
	uint64_t	 received, forwarded, replies, dropped, overflow, stray;
	uint64_t	 inflight, peak;
};

static volatile sig_atomic_t ur_quit, ur_go_silent, ur_go_loud, ur_report;

static void
ur_sig(int sig)
{
	switch (sig) {
	case SIGUSR1:
		ur_go_silent = 1;
		break;
	case SIGUSR2:
		ur_go_loud = 1;
		break;
	case SIGHUP:
		ur_report = 1;
		break;
	default:
		ur_quit = 1;
		break;
	}
}

static int64_t
ur_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
usage(void)
{
	fprintf(stderr, "usage: udprelay -a addr -p port -u upaddr -P upport"
	    " [-d ms] [-x] [-L logfile]\n");
	exit(UR_EXIT_USAGE);
}

static int
ur_num(const char *s, int min, int max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < min || v > max)
		usage();
	return ((int)v);
}

static socklen_t
ur_parse_addr(const char *s, int port, union ur_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->sin.sin_addr) == 1) {
		a->sin.sin_family = AF_INET;
		a->sin.sin_port = htons(port);
		return (sizeof(a->sin));
	}
	if (inet_pton(AF_INET6, s, &a->sin6.sin6_addr) == 1) {
		a->sin6.sin6_family = AF_INET6;
		a->sin6.sin6_port = htons(port);
		return (sizeof(a->sin6));
	}
	fprintf(stderr, "udprelay: invalid address %s\n", s);
	exit(UR_EXIT_USAGE);
}

static int
ur_socket(int family)
{
	int fd, sz = UR_BUFSIZE;

	if ((fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0)) == -1) {
		perror("udprelay: socket");
		exit(UR_EXIT_USAGE);
	}
	/* Bursts of thousands of queries must not overflow the defaults. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	return (fd);
}

static void
ur_counters(struct ur_relay *r)
{
	fprintf(stderr, "received %" PRIu64 " forwarded %" PRIu64
	    " replies %" PRIu64 " dropped %" PRIu64 " overflow %" PRIu64
	    " stray %" PRIu64 " peak %" PRIu64 "\n", r->received, r->forwarded,
	    r->replies, r->dropped, r->overflow, r->stray, r->peak);
	r->peak = r->inflight;
}

static void
ur_log(struct ur_relay *r, const char *what)
{
	if (r->log != NULL)
		fprintf(r->log, "%" PRId64 " %s\n", ur_ms(CLOCK_REALTIME), what);
}

/* A free slot, or one whose query was never answered; -1 if none. */
static long
ur_slot_get(struct ur_relay *r, int64_t now)
{
	size_t	n, i;

	for (n = 0; n < UR_NSLOT; n++) {
		i = r->cursor;
		r->cursor = (r->cursor + 1) % UR_NSLOT;
		if (!r->slots[i].used ||
		    now - r->slots[i].since > UR_SLOT_LIFE)
			return ((long)i);
	}
	return (-1);
}

static void
ur_enqueue(struct ur_relay *r, struct ur_pkt *p)
{
	struct ur_pkt	**nq;
	size_t		  i, ncap;

	if (r->qlen == r->qcap) {
		ncap = r->qcap == 0 ? 1024 : r->qcap * 2;
		if ((nq = calloc(ncap, sizeof(*nq))) == NULL) {
			free(p);
			r->overflow++;
			return;
		}
		for (i = 0; i < r->qlen; i++)
			nq[i] = r->queue[(r->qhead + i) % r->qcap];
		free(r->queue);
		r->queue = nq;
		r->qcap = ncap;
		r->qhead = 0;
	}
	r->queue[(r->qhead + r->qlen) % r->qcap] = p;
	r->qlen++;
}

static void
ur_send_due(struct ur_relay *r, int64_t now)
{
	struct ur_pkt *p;

	while (r->qlen > 0) {
		p = r->queue[r->qhead];
		if (p->due > now)
			break;
		r->qhead = (r->qhead + 1) % r->qcap;
		r->qlen--;
		/* Lost sends are lost packets: the client times out. */
		(void)send(r->ufd[p->sock], p->data, p->len, 0);
		free(p);
	}
}

static void
ur_query(struct ur_relay *r, unsigned char *buf, size_t len,
    const union ur_addr *from, socklen_t flen)
{
	struct ur_slot	*s;
	struct ur_pkt	*p;
	int64_t		 now;
	long		 i;
	int		 sock;

	r->received++;
	if (len < 12)
		return;
	if (r->silent) {
		r->dropped++;
		ur_log(r, "drop");
		return;
	}
	now = ur_ms(CLOCK_MONOTONIC);
	if ((i = ur_slot_get(r, now)) == -1) {
		r->overflow++;
		return;
	}
	s = &r->slots[i];
	if (!s->used && ++r->inflight > r->peak)
		r->peak = r->inflight;
	s->client = *from;
	s->clen = flen;
	s->id = (uint16_t)(buf[0] << 8 | buf[1]);
	s->used = true;
	s->since = now;
	sock = (int)(i / UR_NID);
	buf[0] = (unsigned char)((i % UR_NID) >> 8);
	buf[1] = (unsigned char)(i % UR_NID);
	r->forwarded++;
	ur_log(r, "fwd");
	if (r->delay == 0) {
		(void)send(r->ufd[sock], buf, len, 0);
		return;
	}
	if ((p = malloc(sizeof(*p) + len)) == NULL) {
		r->overflow++;
		return;
	}
	p->due = now + r->delay;
	p->sock = sock;
	p->len = len;
	memcpy(p->data, buf, len);
	ur_enqueue(r, p);
}

static void
ur_reply(struct ur_relay *r, int sock, unsigned char *buf, size_t len)
{
	struct ur_slot	*s;
	size_t		 i;

	if (len < 12) {
		r->stray++;
		return;
	}
	i = (size_t)sock * UR_NID + (size_t)(buf[0] << 8 | buf[1]);
	s = &r->slots[i];
	if (!s->used) {
		r->stray++;
		return;
	}
	buf[0] = (unsigned char)(s->id >> 8);
	buf[1] = (unsigned char)s->id;
	(void)sendto(r->lfd, buf, len, 0, &s->client.sa, s->clen);
	s->used = false;
	r->inflight--;
	r->replies++;
}

static void
ur_loop(struct ur_relay *r, const sigset_t *unblocked)
{
	struct pollfd	 pfd[1 + UR_NSOCK];
	struct timespec	 ts, *tsp;
	union ur_addr	 from;
	socklen_t	 flen;
	unsigned char	 buf[65536];
	ssize_t		 n;
	int64_t		 now, wait;
	int		 i, k;

	pfd[0].fd = r->lfd;
	for (i = 0; i < UR_NSOCK; i++)
		pfd[1 + i].fd = r->ufd[i];
	while (!ur_quit) {
		if (ur_go_silent) {
			ur_go_silent = 0;
			r->silent = true;
		}
		if (ur_go_loud) {
			ur_go_loud = 0;
			r->silent = false;
		}
		if (ur_report) {
			ur_report = 0;
			ur_counters(r);
		}
		now = ur_ms(CLOCK_MONOTONIC);
		ur_send_due(r, now);
		tsp = NULL;
		if (r->qlen > 0) {
			wait = r->queue[r->qhead]->due - now;
			if (wait < 0)
				wait = 0;
			ts.tv_sec = wait / 1000;
			ts.tv_nsec = (wait % 1000) * 1000000;
			tsp = &ts;
		}
		for (i = 0; i < 1 + UR_NSOCK; i++)
			pfd[i].events = POLLIN;
		/* Buffered lines reach the file whenever the relay idles. */
		if (r->log != NULL)
			fflush(r->log);
		if (ppoll(pfd, 1 + UR_NSOCK, tsp, unblocked) == -1) {
			if (errno == EINTR)
				continue;
			perror("udprelay: ppoll");
			exit(UR_EXIT_USAGE);
		}
		for (k = 0; k < UR_BURST && (pfd[0].revents & POLLIN); k++) {
			flen = sizeof(from);
			n = recvfrom(r->lfd, buf, sizeof(buf), 0, &from.sa,
			    &flen);
			if (n < 0)
				break;
			ur_query(r, buf, (size_t)n, &from, flen);
		}
		for (i = 0; i < UR_NSOCK; i++) {
			for (k = 0; k < UR_BURST &&
			    (pfd[1 + i].revents & POLLIN); k++) {
				n = recv(r->ufd[i], buf, sizeof(buf), 0);
				if (n < 0)
					break;
				ur_reply(r, i, buf, (size_t)n);
			}
		}
	}
}

int
main(int argc, char *argv[])
{
	struct ur_relay		 r;
	struct sigaction	 sa;
	union ur_addr		 laddr, uaddr;
	socklen_t		 llen, ulen;
	sigset_t		 block, old;
	const char		*addr = NULL, *upaddr = NULL, *logfile = NULL;
	int			 ch, i, port = -1, upport = -1;

	memset(&r, 0, sizeof(r));
	while ((ch = getopt(argc, argv, "a:d:L:p:P:u:x")) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'd':
			r.delay = ur_num(optarg, 0, 600000);
			break;
		case 'L':
			logfile = optarg;
			break;
		case 'p':
			port = ur_num(optarg, 1, 65535);
			break;
		case 'P':
			upport = ur_num(optarg, 1, 65535);
			break;
		case 'u':
			upaddr = optarg;
			break;
		case 'x':
			r.silent = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || addr == NULL || upaddr == NULL || port == -1 ||
	    upport == -1)
		usage();
	llen = ur_parse_addr(addr, port, &laddr);
	ulen = ur_parse_addr(upaddr, upport, &uaddr);
	if (logfile != NULL) {
		if ((r.log = fopen(logfile, "a")) == NULL) {
			perror(logfile);
			exit(UR_EXIT_USAGE);
		}
	}
	if ((r.slots = calloc(UR_NSLOT, sizeof(*r.slots))) == NULL) {
		perror("udprelay: calloc");
		exit(UR_EXIT_USAGE);
	}

	/* Signals arrive only inside ppoll(), so none is ever missed. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ur_sig;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	r.lfd = ur_socket(laddr.sa.sa_family);
	if (bind(r.lfd, &laddr.sa, llen) == -1) {
		fprintf(stderr, "udprelay: bind %s port %d: %s\n", addr, port,
		    strerror(errno));
		exit(UR_EXIT_BIND);
	}
	for (i = 0; i < UR_NSOCK; i++) {
		r.ufd[i] = ur_socket(uaddr.sa.sa_family);
		if (connect(r.ufd[i], &uaddr.sa, ulen) == -1) {
			perror("udprelay: connect");
			exit(UR_EXIT_USAGE);
		}
	}
	fprintf(stderr, "ready\n");
	ur_loop(&r, &old);
	ur_counters(&r);
	if (r.log != NULL)
		fclose(r.log);
	return (0);
}
