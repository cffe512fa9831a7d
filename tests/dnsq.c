#include "config.h"

/*
 * dnsq - a small DNS test client for the transport integration tests.
 *
 *	dnsq -s ADDR -p PORT [-b ADDR] [-t] [-T TIMEOUT_MS] [-d DELAY_MS] [-c]
 *	    [-S] [-v] QUERY...
 *	dnsq -s ADDR -p PORT [-b ADDR] -r QPS -n COUNT [-R RETRIES]
 *	    [-T TIMEOUT_MS] QUERY...
 *
 * QUERY is NAME/TYPE[/OPTS], OPTS a comma separated list of
 *	rd, nord		RD flag (default on)
 *	cd, do			CD flag, EDNS DO bit
 *	noedns			no OPT RR (default: OPT, bufsize 1232, version 0)
 *	bufsize=N		EDNS UDP payload size
 *	id=N			message ID (default: random)
 *	ednsver=N		EDNS version
 *	opt=CODE		add an empty EDNS option CODE (repeatable)
 * or raw:HEX, bytes sent exactly as given.  Messages are built with ldns.
 *
 * -b ADDR binds the socket (UDP and TCP) to the local address ADDR, of the
 * server's family, before anything is sent: the query's source address.
 *
 * UDP (default): every query leaves from one unconnected socket; replies are
 * collected until each query has one or TIMEOUT_MS (default 2000) passed.
 * A datagram from another address or port than the server's is reported as
 * "unexpected-source from=ADDR@PORT id=N" and not counted.
 *
 * TCP (-t): one connection; all queries are written back-to-back (one write,
 * 2-byte length framing) before anything is read, then replies are read in
 * arrival order.  -c closes the connection right after writing (RFC 7766
 * 6.2.4); -S writes each message as its length prefix and three chunks,
 * DELAY_MS apart (RFC 7766 8); -d DELAY_MS also sleeps between queries
 * (UDP and TCP).
 *
 * Output, one line per reply in arrival order:
 *	id=N rcode=NAME flags=qr,aa,tc,rd,ra,ad,cd qd=N an=N ns=N ar=N
 *	edns=0|1 ednsver=N bufsize=N do=0|1 ede=CODE,..|- size=BYTES
 *	qname=NAME qtype=TYPE answer=RR;RR
 * (flags "-" when none are set, RRs without class, answer=- when empty; a
 * reply ldns cannot parse gives "id=N unparsable size=BYTES"), then
 * "timeout id=N" for each query without a reply and "closed" when the TCP
 * peer closed the connection.  -v also prints each reply with
 * ldns_pkt2str after its line, unexpected-source datagrams included.  Exit
 * 0 if every query got a reply, 1 if not (or on a network error), 2 on
 * usage errors.
 *
 * Stream mode (-r, UDP only), a stub resolver under a steady load: COUNT
 * queries, cycling through the QUERY list, leave at QPS per second on a
 * fixed schedule (open loop: a late reply does not slow the stream; a
 * sender that falls behind catches up).  Each query times out TIMEOUT_MS
 * after each of its sends and is then sent again, with the same ID as a
 * stub would, up to RETRIES more times (default 0).  IDs are consecutive
 * from a random start, so no two queries in flight share one.  One line per
 * query, when it ends: "seq=N try=K " and the reply line above (K = sends
 * made when the reply came), or "seq=N try=K timeout id=ID"; a reply that
 * matches no query in flight gives "unmatched " and its reply line.  Last,
 * "done queries=N sends=N start_ms=N elapsed_ms=N": queries, datagrams sent
 * (retries included), when the first query left (ms since the epoch; query
 * N left N / QPS s later, give or take the scheduler) and how long it all
 * took.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <ctype.h>
#include <errno.h>
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

#include <ldns/ldns.h>

#define DQ_EXIT_OK	0
#define DQ_EXIT_FAIL	1
#define DQ_EXIT_USAGE	2

#define DQ_MSG_MAX	65535
#define DQ_EDNS_DEFAULT	1232
#define DQ_EDE		15	/* RFC 8914 */
#define DQ_CHUNKS	3	/* -S: message body chunks */

struct dq_query {
	uint8_t		*wire;
	size_t		 len;
	int		 id;		/* -1: too short to have one */
	bool		 answered;
};

/* Stream mode (-r): one query of the stream. */
struct dq_flight {
	int64_t		 deadline;	/* us: the current try times out */
	int		 tries;		/* sends so far */
	uint16_t	 id;
	bool		 done;		/* answered, or out of tries */
};

struct dq_opts {
	const char		*server;
	const char		*port;
	const char		*bind;		/* -b, or NULL */
	bool			 tcp;
	bool			 close_early;
	bool			 split;
	bool			 verbose;
	long			 timeout_ms;
	long			 delay_ms;
	long			 rate;		/* -r, queries per second */
	long			 count;		/* -n */
	long			 retries;	/* -R */
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct sockaddr_storage	 bss;		/* -b */
	socklen_t		 bsslen;
};

static void	usage(void);
static long	parse_num(const char *, long, long, const char *);
static int	parse_hex(const char *, struct dq_query *);
static int	apply_opt(ldns_pkt *, char *, bool *, ldns_edns_option_list *);
static int	build_query(const char *, struct dq_query *);
static int	resolve(struct dq_opts *);
static int	open_socket(const struct dq_opts *, int);
static long	now_ms(void);
static int64_t	now_us(void);
static void	sleep_ms(long);
static const char *
		rcode_name(unsigned int, char *, size_t);
static void	print_flags(const ldns_pkt *);
static void	print_ede(ldns_pkt *);
static void	print_rr(const ldns_rr *);
static void	print_pkt_str(const ldns_pkt *);
static void	print_wire_str(const uint8_t *, size_t);
static int	print_reply(const uint8_t *, size_t, bool);
static int	match_reply(struct dq_query *, size_t, const uint8_t *, size_t,
		    bool);
static bool	same_addr(const struct sockaddr_storage *, socklen_t,
		    const struct sockaddr_storage *);
static void	print_unexpected(const struct sockaddr_storage *, socklen_t,
		    const uint8_t *, size_t, bool);
static void	stream_send(const struct dq_opts *, int, struct dq_query *,
		    uint16_t, struct dq_flight *, int64_t);
static int	run_udp(struct dq_opts *, struct dq_query *, size_t);
static int	run_stream(struct dq_opts *, struct dq_query *, size_t);
static int	write_all(int, const uint8_t *, size_t);
static int	run_tcp(struct dq_opts *, struct dq_query *, size_t);

static void
usage(void)
{
	fprintf(stderr, "usage: dnsq -s addr -p port [-b addr] [-t] "
	    "[-T timeout_ms] [-d delay_ms] [-c] [-S] [-v]\n"
	    "            name/type[/opts] | raw:hex ...\n"
	    "       dnsq -s addr -p port [-b addr] -r qps -n count "
	    "[-R retries] [-T timeout_ms]\n"
	    "            name/type[/opts] | raw:hex ...\n"
	    "opts: rd nord cd do noedns bufsize=N id=N ednsver=N opt=CODE\n");
	exit(DQ_EXIT_USAGE);
}

static long
parse_num(const char *s, long min, long max, const char *what)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "dnsq: bad %s: %s\n", what, s);
		return (-1);
	}
	return (v);
}

static int
parse_hex(const char *s, struct dq_query *q)
{
	size_t	 n = strlen(s), i;
	int	 hi, lo;

	if (n % 2 != 0 || n / 2 > DQ_MSG_MAX) {
		fprintf(stderr, "dnsq: odd or too long hex: %s\n", s);
		return (-1);
	}
	/* malloc(0) may return NULL: always ask for one byte more. */
	if ((q->wire = malloc(n / 2 + 1)) == NULL) {
		perror("dnsq: malloc");
		return (-1);
	}
	for (i = 0; i < n / 2; i++) {
		if (!isxdigit((unsigned char)s[2 * i]) ||
		    !isxdigit((unsigned char)s[2 * i + 1])) {
			fprintf(stderr, "dnsq: bad hex: %s\n", s);
			return (-1);
		}
		hi = ldns_hexdigit_to_int(s[2 * i]);
		lo = ldns_hexdigit_to_int(s[2 * i + 1]);
		q->wire[i] = (uint8_t)(hi << 4 | lo);
	}
	q->len = n / 2;
	q->id = q->len >= 2 ? ldns_read_uint16(q->wire) : -1;
	return (0);
}

/* One word of the /OPTS list. */
static int
apply_opt(ldns_pkt *pkt, char *opt, bool *edns,
    ldns_edns_option_list *list)
{
	ldns_edns_option	*eo;
	long			 v;

	if (strcmp(opt, "rd") == 0)
		ldns_pkt_set_rd(pkt, true);
	else if (strcmp(opt, "nord") == 0)
		ldns_pkt_set_rd(pkt, false);
	else if (strcmp(opt, "cd") == 0)
		ldns_pkt_set_cd(pkt, true);
	else if (strcmp(opt, "do") == 0)
		ldns_pkt_set_edns_do(pkt, true);
	else if (strcmp(opt, "noedns") == 0)
		*edns = false;
	else if (strncmp(opt, "bufsize=", 8) == 0) {
		if ((v = parse_num(opt + 8, 0, 65535, "bufsize")) == -1)
			return (-1);
		ldns_pkt_set_edns_udp_size(pkt, (uint16_t)v);
	} else if (strncmp(opt, "id=", 3) == 0) {
		if ((v = parse_num(opt + 3, 0, 65535, "id")) == -1)
			return (-1);
		ldns_pkt_set_id(pkt, (uint16_t)v);
	} else if (strncmp(opt, "ednsver=", 8) == 0) {
		if ((v = parse_num(opt + 8, 0, 255, "ednsver")) == -1)
			return (-1);
		ldns_pkt_set_edns_version(pkt, (uint8_t)v);
	} else if (strncmp(opt, "opt=", 4) == 0) {
		if ((v = parse_num(opt + 4, 0, 65535, "option code")) == -1)
			return (-1);
		if ((eo = ldns_edns_new((ldns_edns_option_code)v, 0, NULL)) ==
		    NULL) {
			fprintf(stderr, "dnsq: out of memory\n");
			return (-1);
		}
		if (!ldns_edns_option_list_push(list, eo)) {
			ldns_edns_deep_free(eo);
			fprintf(stderr, "dnsq: out of memory\n");
			return (-1);
		}
	} else {
		fprintf(stderr, "dnsq: unknown query option: %s\n", opt);
		return (-1);
	}
	return (0);
}

/* NAME/TYPE[/OPTS] or raw:HEX into q. */
static int
build_query(const char *arg, struct dq_query *q)
{
	ldns_pkt		*pkt = NULL;
	ldns_rdf		*name = NULL;
	ldns_edns_option_list	*list = NULL;
	ldns_rr_type		 type;
	ldns_status		 st;
	char			*copy, *slash, *tname, *opts = NULL, *opt;
	char			*save = NULL;
	bool			 edns = true;
	int			 rc = -1;

	memset(q, 0, sizeof(*q));
	if (strncmp(arg, "raw:", 4) == 0)
		return (parse_hex(arg + 4, q));
	if ((copy = strdup(arg)) == NULL) {
		perror("dnsq: strdup");
		return (-1);
	}
	if ((slash = strrchr(copy, '/')) == NULL || slash == copy) {
		fprintf(stderr, "dnsq: query is not NAME/TYPE: %s\n", arg);
		goto done;
	}
	/* NAME/TYPE/OPTS: the last slash may start the options. */
	*slash = '\0';
	tname = slash + 1;
	if ((slash = strrchr(copy, '/')) != NULL && slash != copy) {
		*slash = '\0';
		opts = tname;
		tname = slash + 1;
	}
	if ((type = ldns_get_rr_type_by_name(tname)) == 0 &&
	    strcasecmp(tname, "TYPE0") != 0) {
		fprintf(stderr, "dnsq: unknown type: %s\n", tname);
		goto done;
	}
	if ((name = ldns_dname_new_frm_str(copy)) == NULL) {
		fprintf(stderr, "dnsq: bad name: %s\n", copy);
		goto done;
	}
	if ((pkt = ldns_pkt_query_new(name, type, LDNS_RR_CLASS_IN,
	    LDNS_RD)) == NULL) {
		ldns_rdf_deep_free(name);
		fprintf(stderr, "dnsq: out of memory\n");
		goto done;
	}
	ldns_pkt_set_id(pkt, (uint16_t)ldns_get_random());
	ldns_pkt_set_edns_udp_size(pkt, DQ_EDNS_DEFAULT);
	if ((list = ldns_edns_option_list_new()) == NULL) {
		fprintf(stderr, "dnsq: out of memory\n");
		goto done;
	}
	if (opts != NULL) {
		for (opt = strtok_r(opts, ",", &save); opt != NULL;
		    opt = strtok_r(NULL, ",", &save))
			if (apply_opt(pkt, opt, &edns, list) == -1)
				goto done;
	}
	if (!edns) {
		ldns_pkt_set_edns_udp_size(pkt, 0);
		ldns_pkt_set_edns_version(pkt, 0);
		ldns_pkt_set_edns_do(pkt, false);
	} else if (ldns_edns_option_list_get_count(list) > 0 ||
	    ldns_pkt_edns_udp_size(pkt) == 0) {
		/* An option list, even empty, makes ldns send the OPT. */
		ldns_pkt_set_edns_option_list(pkt, list);
		list = NULL;
	}
	if (edns && !ldns_pkt_edns(pkt)) {
		fprintf(stderr, "dnsq: ldns cannot send this OPT: %s\n", arg);
		goto done;
	}
	if ((st = ldns_pkt2wire(&q->wire, pkt, &q->len)) != LDNS_STATUS_OK) {
		fprintf(stderr, "dnsq: %s: %s\n", arg,
		    ldns_get_errorstr_by_id(st));
		goto done;
	}
	q->id = ldns_pkt_id(pkt);
	rc = 0;
 done:
	ldns_edns_option_list_deep_free(list);
	ldns_pkt_free(pkt);
	free(copy);
	return (rc);
}

static int
resolve(struct dq_opts *o)
{
	struct addrinfo	 hints, *res;
	int		 error;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = o->tcp ? SOCK_STREAM : SOCK_DGRAM;
	if ((error = getaddrinfo(o->server, o->port, &hints, &res)) != 0) {
		fprintf(stderr, "dnsq: %s port %s: %s\n", o->server, o->port,
		    gai_strerror(error));
		return (-1);
	}
	memcpy(&o->ss, res->ai_addr, res->ai_addrlen);
	o->sslen = res->ai_addrlen;
	freeaddrinfo(res);
	if (o->bind == NULL)
		return (0);
	/* -b: a local address of the server's family, any port. */
	hints.ai_family = o->ss.ss_family;
	hints.ai_flags |= AI_PASSIVE;
	if ((error = getaddrinfo(o->bind, "0", &hints, &res)) != 0) {
		fprintf(stderr, "dnsq: -b %s: %s\n", o->bind,
		    gai_strerror(error));
		return (-1);
	}
	memcpy(&o->bss, res->ai_addr, res->ai_addrlen);
	o->bsslen = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

/* A socket for the server's family, bound to the -b address if any. */
static int
open_socket(const struct dq_opts *o, int type)
{
	int	 fd;

	if ((fd = socket(o->ss.ss_family, type, 0)) == -1) {
		perror("dnsq: socket");
		return (-1);
	}
	if (o->bind != NULL &&
	    bind(fd, (const struct sockaddr *)&o->bss, o->bsslen) == -1) {
		fprintf(stderr, "dnsq: bind %s: %s\n", o->bind,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

static long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int64_t
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

static void
sleep_ms(long ms)
{
	struct timespec	 ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* dig's names, so that the scripts can compare with dig's status. */
static const char *
rcode_name(unsigned int rcode, char *buf, size_t len)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
		"NOTZONE", "RESERVED11", "RESERVED12", "RESERVED13",
		"RESERVED14", "RESERVED15", "BADVERS", "BADKEY", "BADTIME",
		"BADMODE", "BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE"
	};

	if (rcode < sizeof(names) / sizeof(names[0]))
		return (names[rcode]);
	snprintf(buf, len, "RCODE%u", rcode);
	return (buf);
}

static void
print_flags(const ldns_pkt *pkt)
{
	static const struct {
		bool		(*get)(const ldns_pkt *);
		const char	*name;
	} flags[] = {
		{ ldns_pkt_qr, "qr" }, { ldns_pkt_aa, "aa" },
		{ ldns_pkt_tc, "tc" }, { ldns_pkt_rd, "rd" },
		{ ldns_pkt_ra, "ra" }, { ldns_pkt_ad, "ad" },
		{ ldns_pkt_cd, "cd" }
	};
	const char	*sep = "";
	size_t		 i;

	printf(" flags=");
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (flags[i].get(pkt)) {
			printf("%s%s", sep, flags[i].name);
			sep = ",";
		}
	if (*sep == '\0')
		printf("-");
}

/* EDE info codes of the reply's OPT, "-" when there are none. */
static void
print_ede(ldns_pkt *pkt)
{
	ldns_edns_option_list	*list = NULL;
	ldns_edns_option	*eo;
	const char		*sep = "";
	size_t			 i, n;

	printf(" ede=");
	if (ldns_pkt_edns_data(pkt) != NULL &&
	    ldns_rdf_size(ldns_pkt_edns_data(pkt)) > 0)
		list = ldns_pkt_edns_get_option_list(pkt);
	n = list != NULL ? ldns_edns_option_list_get_count(list) : 0;
	for (i = 0; i < n; i++) {
		eo = ldns_edns_option_list_get_option(list, i);
		if (ldns_edns_get_code(eo) != DQ_EDE)
			continue;
		if (ldns_edns_get_size(eo) < 2)
			printf("%s?", sep);
		else
			printf("%s%u", sep, (unsigned int)ldns_read_uint16(
			    ldns_edns_get_data(eo)));
		sep = ",";
	}
	if (*sep == '\0')
		printf("-");
}

/* "owner TTL TYPE rdata", no class. */
static void
print_rr(const ldns_rr *rr)
{
	char	*s, *t;
	size_t	 i;

	if ((s = ldns_rdf2str(ldns_rr_owner(rr))) == NULL ||
	    (t = ldns_rr_type2str(ldns_rr_get_type(rr))) == NULL) {
		free(s);
		printf("?");
		return;
	}
	printf("%s %u %s", s, (unsigned int)ldns_rr_ttl(rr), t);
	free(s);
	free(t);
	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		if ((s = ldns_rdf2str(ldns_rr_rdf(rr, i))) == NULL) {
			printf(" ?");
			continue;
		}
		printf(" %s", s);
		free(s);
	}
}

/* -v: the ldns rendering of a message. */
static void
print_pkt_str(const ldns_pkt *pkt)
{
	char	*s;

	if ((s = ldns_pkt2str(pkt)) != NULL)
		printf("%s", s);
	free(s);
}

/* -v for a datagram that is not a reply line: nothing if unparsable. */
static void
print_wire_str(const uint8_t *wire, size_t len)
{
	ldns_pkt	*pkt = NULL;

	if (len < LDNS_HEADER_SIZE ||
	    ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK)
		return;
	print_pkt_str(pkt);
	ldns_pkt_free(pkt);
}

/* One output line for a reply; returns its ID, -1 if it has none. */
static int
print_reply(const uint8_t *wire, size_t len, bool verbose)
{
	ldns_pkt	*pkt = NULL;
	const ldns_rr	*q;
	ldns_rr_list	*an;
	char		*s, buf[32];
	unsigned int	 rcode, nopt;
	size_t		 i;
	int		 id;

	id = len >= 2 ? ldns_read_uint16(wire) : -1;
	if (len < LDNS_HEADER_SIZE ||
	    ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK) {
		printf("id=%d unparsable size=%zu\n", id, len);
		fflush(stdout);
		return (id);
	}
	/* ldns folds the OPT RR into the header fields: count it back. */
	nopt = (unsigned int)(LDNS_ARCOUNT(wire) - ldns_pkt_arcount(pkt) -
	    (ldns_pkt_tsig(pkt) != NULL));
	rcode = ldns_pkt_get_rcode(pkt);
	if (nopt > 0)
		rcode |= (unsigned int)ldns_pkt_edns_extended_rcode(pkt) << 4;
	printf("id=%d rcode=%s", id, rcode_name(rcode, buf, sizeof(buf)));
	print_flags(pkt);
	printf(" qd=%u an=%u ns=%u ar=%u", (unsigned int)LDNS_QDCOUNT(wire),
	    (unsigned int)LDNS_ANCOUNT(wire), (unsigned int)LDNS_NSCOUNT(wire),
	    (unsigned int)LDNS_ARCOUNT(wire));
	if (nopt > 0)
		printf(" edns=1 ednsver=%u bufsize=%u do=%d",
		    (unsigned int)ldns_pkt_edns_version(pkt),
		    (unsigned int)ldns_pkt_edns_udp_size(pkt),
		    ldns_pkt_edns_do(pkt) ? 1 : 0);
	else
		printf(" edns=0 ednsver=0 bufsize=0 do=0");
	if (nopt > 0)
		print_ede(pkt);
	else
		printf(" ede=-");
	printf(" size=%zu", len);
	if (ldns_rr_list_rr_count(ldns_pkt_question(pkt)) > 0) {
		q = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
		s = ldns_rdf2str(ldns_rr_owner(q));
		printf(" qname=%s", s != NULL ? s : "?");
		free(s);
		s = ldns_rr_type2str(ldns_rr_get_type(q));
		printf(" qtype=%s", s != NULL ? s : "?");
		free(s);
	} else
		printf(" qname=- qtype=-");
	printf(" answer=");
	an = ldns_pkt_answer(pkt);
	for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
		if (i > 0)
			printf(";");
		print_rr(ldns_rr_list_rr(an, i));
	}
	if (ldns_rr_list_rr_count(an) == 0)
		printf("-");
	printf("\n");
	if (verbose)
		print_pkt_str(pkt);
	fflush(stdout);
	ldns_pkt_free(pkt);
	return (id);
}

/* Mark the first unanswered query with the reply's ID. */
static int
match_reply(struct dq_query *qs, size_t nq, const uint8_t *wire, size_t len,
    bool verbose)
{
	size_t	 i;
	int	 id;

	id = print_reply(wire, len, verbose);
	for (i = 0; i < nq; i++)
		if (!qs[i].answered && qs[i].id == id) {
			qs[i].answered = true;
			return (1);
		}
	return (0);
}

static bool
same_addr(const struct sockaddr_storage *a, socklen_t alen,
    const struct sockaddr_storage *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->ss_family != b->ss_family)
		return (false);
	if (a->ss_family == AF_INET && alen >= sizeof(*a4)) {
		a4 = (const struct sockaddr_in *)a;
		b4 = (const struct sockaddr_in *)b;
		return (a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	}
	if (a->ss_family == AF_INET6 && alen >= sizeof(*a6)) {
		a6 = (const struct sockaddr_in6 *)a;
		b6 = (const struct sockaddr_in6 *)b;
		return (a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0);
	}
	return (false);
}

/* The line for a datagram from another address or port than the server's. */
static void
print_unexpected(const struct sockaddr_storage *from, socklen_t fromlen,
    const uint8_t *wire, size_t len, bool verbose)
{
	char	 host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo((const struct sockaddr *)from, fromlen, host,
	    sizeof(host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		strcpy(host, "?");
		strcpy(serv, "?");
	}
	printf("unexpected-source from=%s@%s id=%d\n", host, serv,
	    len >= 2 ? ldns_read_uint16(wire) : -1);
	if (verbose)
		print_wire_str(wire, len);
	fflush(stdout);
}

/* 1 when fd is readable before deadline (ms), 0 on timeout, -1 on error. */
static int
wait_readable(int fd, long deadline)
{
	struct pollfd	 pfd;
	long		 left;
	int		 n;

	pfd.fd = fd;
	pfd.events = POLLIN;
	while ((left = deadline - now_ms()) > 0) {
		if ((n = poll(&pfd, 1, (int)left)) == -1) {
			if (errno == EINTR)
				continue;
			perror("dnsq: poll");
			return (-1);
		}
		return (n > 0);
	}
	return (0);
}

static int
run_udp(struct dq_opts *o, struct dq_query *qs, size_t nq)
{
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	static uint8_t		 buf[DQ_MSG_MAX + 1];
	long			 deadline;
	size_t			 i, pending = nq;
	ssize_t			 n;
	int			 fd;

	if ((fd = open_socket(o, SOCK_DGRAM)) == -1)
		return (-1);
	for (i = 0; i < nq; i++) {
		if (i > 0)
			sleep_ms(o->delay_ms);
		if (sendto(fd, qs[i].wire, qs[i].len, 0,
		    (struct sockaddr *)&o->ss, o->sslen) == -1)
			fprintf(stderr, "dnsq: sendto: %s\n", strerror(errno));
	}
	deadline = now_ms() + o->timeout_ms;
	while (pending > 0 && wait_readable(fd, deadline) == 1) {
		memset(&from, 0, sizeof(from));
		fromlen = sizeof(from);
		if ((n = recvfrom(fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &fromlen)) == -1) {
			/* e.g. ICMP port unreachable from an earlier send */
			fprintf(stderr, "dnsq: recvfrom: %s\n",
			    strerror(errno));
			continue;
		}
		if (!same_addr(&from, fromlen, &o->ss)) {
			print_unexpected(&from, fromlen, buf, (size_t)n,
			    o->verbose);
			continue;
		}
		if (match_reply(qs, nq, buf, (size_t)n, o->verbose))
			pending--;
	}
	close(fd);
	return (0);
}

/* Stream mode: (re)send query f, built from template q, with its ID. */
static void
stream_send(const struct dq_opts *o, int fd, struct dq_query *q,
    uint16_t id, struct dq_flight *f, int64_t now)
{
	ldns_write_uint16(q->wire, id);
	if (sendto(fd, q->wire, q->len, 0, (const struct sockaddr *)&o->ss,
	    o->sslen) == -1)
		fprintf(stderr, "dnsq: sendto: %s\n", strerror(errno));
	f->id = id;
	f->tries++;
	f->deadline = now + o->timeout_ms * 1000;
}

/*
 * Stream mode (see the comment at the top).  Queries [0, next) have been
 * sent, those in [oldest, next) not done may still be in flight; query seq
 * has ID base + seq (mod 2^16), so a reply's ID names its query.
 */
static int
run_stream(struct dq_opts *o, struct dq_query *qs, size_t nq)
{
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	static uint8_t		 buf[DQ_MSG_MAX + 1];
	struct dq_flight	*fl;
	struct pollfd		 pfd;
	struct timespec		 wall;
	int64_t			 start, now, wake;
	size_t			 count = (size_t)o->count, next = 0, oldest = 0;
	size_t			 seq, lost = 0;
	unsigned long		 sends = 0;
	uint16_t		 base, id;
	ssize_t			 n;
	int			 fd = -1, ms, rc = -1;

	for (seq = 0; seq < nq; seq++)
		if (qs[seq].len < LDNS_HEADER_SIZE) {
			fprintf(stderr, "dnsq: -r: query %zu is shorter than "
			    "a DNS header\n", seq + 1);
			return (-1);
		}
	if ((fl = calloc(count, sizeof(*fl))) == NULL) {
		perror("dnsq: calloc");
		return (-1);
	}
	if ((fd = open_socket(o, SOCK_DGRAM)) == -1)
		goto done;
	pfd.fd = fd;
	pfd.events = POLLIN;
	base = (uint16_t)ldns_get_random();
	clock_gettime(CLOCK_REALTIME, &wall);
	start = now_us();
	while (oldest < count) {
		now = now_us();
		/* New queries on schedule, then the tries that timed out. */
		while (next < count &&
		    start + (int64_t)next * 1000000 / o->rate <= now) {
			stream_send(o, fd, &qs[next % nq],
			    (uint16_t)(base + next), &fl[next], now);
			sends++;
			next++;
		}
		for (seq = oldest; seq < next; seq++) {
			if (fl[seq].done || fl[seq].deadline > now)
				continue;
			if (fl[seq].tries > o->retries) {
				printf("seq=%zu try=%d timeout id=%u\n", seq,
				    fl[seq].tries, (unsigned int)fl[seq].id);
				fflush(stdout);
				fl[seq].done = true;
				lost++;
				continue;
			}
			stream_send(o, fd, &qs[seq % nq], fl[seq].id,
			    &fl[seq], now);
			sends++;
		}
		while (oldest < next && fl[oldest].done)
			oldest++;
		if (oldest == count)
			break;
		/* Sleep until the next send or timeout, or a reply. */
		wake = INT64_MAX;
		if (next < count)
			wake = start + (int64_t)next * 1000000 / o->rate;
		for (seq = oldest; seq < next; seq++)
			if (!fl[seq].done && fl[seq].deadline < wake)
				wake = fl[seq].deadline;
		ms = wake <= now ? 0 : (int)((wake - now + 999) / 1000);
		if (poll(&pfd, 1, ms) == -1) {
			if (errno == EINTR)
				continue;
			perror("dnsq: poll");
			goto done;
		}
		if ((pfd.revents & POLLIN) == 0)
			continue;
		/* Every datagram waiting, without blocking. */
		for (;;) {
			memset(&from, 0, sizeof(from));
			fromlen = sizeof(from);
			if ((n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
			    (struct sockaddr *)&from, &fromlen)) == -1) {
				if (errno != EAGAIN && errno != EWOULDBLOCK &&
				    errno != EINTR)
					fprintf(stderr, "dnsq: recvfrom: %s\n",
					    strerror(errno));
				break;
			}
			if (!same_addr(&from, fromlen, &o->ss)) {
				print_unexpected(&from, fromlen, buf,
				    (size_t)n, o->verbose);
				continue;
			}
			seq = next;
			if (n >= 2) {
				id = ldns_read_uint16(buf);
				seq = oldest + (uint16_t)(id - base - oldest);
			}
			if (seq >= next || fl[seq].done) {
				printf("unmatched ");
				print_reply(buf, (size_t)n, o->verbose);
				continue;
			}
			printf("seq=%zu try=%d ", seq, fl[seq].tries);
			print_reply(buf, (size_t)n, o->verbose);
			fl[seq].done = true;
		}
	}
	printf("done queries=%zu sends=%lu start_ms=%lld elapsed_ms=%lld\n",
	    count, sends,
	    (long long)wall.tv_sec * 1000 + wall.tv_nsec / 1000000,
	    (long long)((now_us() - start) / 1000));
	fflush(stdout);
	rc = lost > 0 ? 1 : 0;
 done:
	if (fd != -1)
		close(fd);
	free(fl);
	return (rc);
}

/* Write all of buf; -1 with errno set when the peer is gone. */
static int
write_all(int fd, const uint8_t *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

static int
run_tcp(struct dq_opts *o, struct dq_query *qs, size_t nq)
{
	uint8_t		*out = NULL, *in = NULL, lenbuf[2];
	size_t		 outlen = 0, inlen = 0, i, k, msglen, off, chunk;
	size_t		 pending = nq;
	long		 deadline;
	ssize_t		 n;
	int		 fd, rc = -1;
	bool		 closed = false, batch;

	if ((fd = open_socket(o, SOCK_STREAM)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&o->ss, o->sslen) == -1) {
		fprintf(stderr, "dnsq: connect: %s\n", strerror(errno));
		goto done;
	}
	/* Without -d and -S every query goes out in a single write. */
	batch = o->delay_ms == 0 && !o->split;
	if (batch) {
		for (i = 0; i < nq; i++)
			outlen += qs[i].len + 2;
		if ((out = malloc(outlen + 1)) == NULL) {
			perror("dnsq: malloc");
			goto done;
		}
		for (i = 0, off = 0; i < nq; i++) {
			ldns_write_uint16(out + off, (uint16_t)qs[i].len);
			memcpy(out + off + 2, qs[i].wire, qs[i].len);
			off += qs[i].len + 2;
		}
		if (write_all(fd, out, outlen) == -1) {
			fprintf(stderr, "dnsq: write: %s\n", strerror(errno));
			closed = true;
		}
	}
	for (i = 0; i < nq && !batch && !closed; i++) {
		if (i > 0)
			sleep_ms(o->delay_ms);
		ldns_write_uint16(lenbuf, (uint16_t)qs[i].len);
		if (write_all(fd, lenbuf, 2) == -1) {
			closed = true;
			break;
		}
		if (!o->split) {
			if (write_all(fd, qs[i].wire, qs[i].len) == -1)
				closed = true;
			continue;
		}
		/* RFC 7766 8: the message arrives in pieces. */
		chunk = (qs[i].len + DQ_CHUNKS - 1) / DQ_CHUNKS;
		for (off = 0, k = 0; k < DQ_CHUNKS && !closed; k++) {
			sleep_ms(o->delay_ms);
			n = (ssize_t)(qs[i].len - off < chunk ?
			    qs[i].len - off : chunk);
			if (write_all(fd, qs[i].wire + off, (size_t)n) == -1)
				closed = true;
			off += (size_t)n;
		}
	}
	if (closed)
		fprintf(stderr, "dnsq: write: %s\n", strerror(errno));
	if (o->close_early) {
		/* RFC 7766 6.2.4: leave with the answers pending. */
		rc = 0;
		goto done;
	}
	if ((in = malloc(DQ_MSG_MAX + 2)) == NULL) {
		perror("dnsq: malloc");
		goto done;
	}
	deadline = now_ms() + o->timeout_ms;
	while (pending > 0 && wait_readable(fd, deadline) == 1) {
		if ((n = read(fd, in + inlen, DQ_MSG_MAX + 2 - inlen)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECONNRESET)
				fprintf(stderr, "dnsq: read: %s\n",
				    strerror(errno));
			closed = true;
			break;
		}
		if (n == 0) {
			closed = true;
			break;
		}
		inlen += (size_t)n;
		/* Every complete framed message in the buffer. */
		while (inlen >= 2 && inlen >= 2 + (msglen =
		    ldns_read_uint16(in))) {
			if (match_reply(qs, nq, in + 2, msglen, o->verbose))
				pending--;
			memmove(in, in + 2 + msglen, inlen - 2 - msglen);
			inlen -= 2 + msglen;
		}
	}
	if (closed) {
		if (inlen > 0)
			printf("partial %zu\n", inlen);
		printf("closed\n");
	}
	rc = 0;
 done:
	free(out);
	free(in);
	close(fd);
	return (rc);
}

int
main(int argc, char *argv[])
{
	struct dq_opts	 o;
	struct dq_query	*qs;
	size_t		 nq, i;
	int		 ch, rc, status = DQ_EXIT_OK;
	long		 v;

	memset(&o, 0, sizeof(o));
	o.timeout_ms = 2000;
	o.delay_ms = -1;
	while ((ch = getopt(argc, argv, "b:cd:n:p:r:R:s:StT:v")) != -1) {
		switch (ch) {
		case 'b':
			o.bind = optarg;
			break;
		case 'c':
			o.close_early = true;
			break;
		case 'd':
			if ((v = parse_num(optarg, 0, 60000, "delay")) == -1)
				usage();
			o.delay_ms = v;
			break;
		case 'n':
			if ((v = parse_num(optarg, 1, 10000000, "count")) == -1)
				usage();
			o.count = v;
			break;
		case 'p':
			o.port = optarg;
			break;
		case 'r':
			if ((v = parse_num(optarg, 1, 1000000, "rate")) == -1)
				usage();
			o.rate = v;
			break;
		case 'R':
			if ((v = parse_num(optarg, 0, 10, "retries")) == -1)
				usage();
			o.retries = v;
			break;
		case 's':
			o.server = optarg;
			break;
		case 'S':
			o.split = true;
			break;
		case 't':
			o.tcp = true;
			break;
		case 'T':
			if ((v = parse_num(optarg, 1, 600000, "timeout")) == -1)
				usage();
			o.timeout_ms = v;
			break;
		case 'v':
			o.verbose = true;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (o.server == NULL || o.port == NULL || argc == 0)
		usage();
	if ((o.close_early || o.split) && !o.tcp) {
		fprintf(stderr, "dnsq: -c and -S need -t\n");
		usage();
	}
	if ((o.rate > 0) != (o.count > 0) || (o.retries > 0 && o.rate == 0)) {
		fprintf(stderr, "dnsq: -r and -n go together; -R needs them\n");
		usage();
	}
	if (o.rate > 0 && (o.tcp || o.delay_ms != -1)) {
		fprintf(stderr, "dnsq: -r is UDP only, without -d\n");
		usage();
	}
	/* -S splits with 200 ms pauses unless -d says otherwise. */
	if (o.delay_ms == -1)
		o.delay_ms = o.split ? 200 : 0;
	if (resolve(&o) == -1)
		return (DQ_EXIT_USAGE);
	nq = (size_t)argc;
	if ((qs = calloc(nq, sizeof(*qs))) == NULL) {
		perror("dnsq: calloc");
		return (DQ_EXIT_FAIL);
	}
	for (i = 0; i < nq; i++)
		if (build_query(argv[i], &qs[i]) == -1)
			usage();
	/* A closed TCP peer is reported, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	if (o.rate > 0) {
		if (run_stream(&o, qs, nq) != 0)
			status = DQ_EXIT_FAIL;
	} else {
		rc = o.tcp ? run_tcp(&o, qs, nq) : run_udp(&o, qs, nq);
		for (i = 0; i < nq; i++) {
			if (qs[i].answered)
				continue;
			printf("timeout id=%d\n", qs[i].id);
			status = DQ_EXIT_FAIL;
		}
		if (rc == -1)
			status = DQ_EXIT_FAIL;
	}
	for (i = 0; i < nq; i++)
		free(qs[i].wire);
	free(qs);
	return (status);
}
