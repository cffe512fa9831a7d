#include "config.h"

/*
 * fakeup - a scriptable fake upstream DNS server for the integration tests.
 *
 *	fakeup -a ADDR -p PORT -r RULEFILE -l LOGFILE
 *
 * Listens on UDP and TCP on ADDR:PORT and answers every query from the
 * first entry of RULEFILE that matches it (see below).  Writes "ready" to
 * stderr once listening, appends one line per query to LOGFILE, exits 0 on
 * SIGTERM/SIGINT, 1 on usage or rule file errors and 2 if the address cannot
 * be bound (the test harness then retries with another port).
 *
 * Rule file (entries matched in file order, first match wins; lines whose
 * first non-blank character is '#' are comments, and so is everything from
 * a word starting with '#' on a line that does not carry an RR):
 *
 *	match QNAME QTYPE	QNAME absolute, case-insensitive, or "*" for
 *				any name; QTYPE a mnemonic (A, TYPE65, ANY...)
 *				or "*" for any type
 *	  transport udp|tcp	entry only matches queries over that transport
 *	  rcode NAME		NOERROR (default), NXDOMAIN, SERVFAIL, ... or 0-15
 *	  flags [aa] [ra] [ad] [tc]   header flags (default: ra)
 *	  answer RR		repeatable, in order; RR in presentation format
 *	  authority RR		repeatable
 *	  additional RR		repeatable
 *	  delay MS		reply after MS milliseconds (asynchronously)
 *	  drop			never reply (forged replies are still sent)
 *	  noopt			no OPT RR in the reply
 *	  ede CODE [TEXT]	RFC 8914 EDE option in the reply's OPT (only
 *				when the reply has an OPT)
 *	  forge id|qname|qtype|port   repeatable; UDP only: on receipt, send
 *				one forged reply of that kind before the real one
 *	  forge-answer RR	answer section of the forged replies
 *	end
 *
 * Replies copy ID, opcode and question (with its case) from the query, set
 * QR, copy RD and CD and carry an OPT (udp size 4096, version 0, DO echoed)
 * iff the query had one.  Queries matching no entry get REFUSED.  fakeup
 * never truncates on its own: what the entry says is sent.  Forged replies
 * are the entry's reply with rcode NOERROR, the forge-answer RRs as the only
 * section and one of: ID + 1 (id), "forged." prepended to the question name
 * (qname), question type A, or AAAA if the query was for A (qtype), or the
 * correct reply sent from another UDP socket on the same address (port).
 *
 * Log line per query that could be parsed (others are dropped, with a note
 * on stderr):
 *	udp|tcp SRCADDR SRCPORT id=ID qname=QNAME qtype=TYPE rd=0|1 cd=0|1
 *	    edns=0|1 do=0|1 bufsize=N opts=CODE,CODE|- match=LINE|none
 * bufsize is 0 without EDNS; opts is "?" if the OPT rdata is malformed.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <ldns/ldns.h>

#define FU_EXIT_OK		0
#define FU_EXIT_USAGE		1
#define FU_EXIT_BIND		2

#define FU_EDNS_SIZE		4096
#define FU_TCP_IDLE_SEC		30
#define FU_MAX_FORGE		16
#define FU_UDP_BATCH		64
#define FU_MAX_MSG		65535
#define FU_MAX_DELAY_MS		3600000L

#define FU_FLAG_AA		0x01
#define FU_FLAG_RA		0x02
#define FU_FLAG_AD		0x04
#define FU_FLAG_TC		0x08

enum fu_transport {
	FU_TR_ANY = 0,
	FU_TR_UDP,
	FU_TR_TCP
};

enum fu_forge {
	FU_FORGE_NONE = -1,
	FU_FORGE_ID = 0,
	FU_FORGE_QNAME,
	FU_FORGE_QTYPE,
	FU_FORGE_PORT
};

enum fu_section {
	FU_SEC_ANSWER = 0,
	FU_SEC_AUTHORITY,
	FU_SEC_ADDITIONAL,
	FU_SEC_COUNT
};

struct fu_rule {
	unsigned long		 line;
	ldns_rdf		*qname;		/* NULL: any name */
	bool			 anytype;
	ldns_rr_type		 qtype;
	enum fu_transport	 transport;
	uint8_t			 rcode;
	unsigned int		 flags;
	ldns_rr_list		*sect[FU_SEC_COUNT];
	ldns_rr_list		*forge_answer;
	long			 delay_ms;
	bool			 drop;
	bool			 noopt;
	bool			 has_ede;
	uint16_t		 ede_code;
	char			*ede_text;
	enum fu_forge		 forge[FU_MAX_FORGE];
	size_t			 nforge;
};

struct fu_ctx;
struct fu_conn;

/* A reply waiting for its delay to expire. */
struct fu_pending {
	struct fu_ctx		*ctx;
	struct fu_conn		*conn;		/* NULL: UDP */
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	uint8_t			*wire;
	size_t			 len;
	struct event		*ev;
	struct fu_pending	*prev;
	struct fu_pending	*next;
};

struct fu_conn {
	struct fu_ctx		*ctx;
	struct bufferevent	*bev;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	unsigned int		 npending;
	bool			 closing;
	struct fu_conn		*prev;
	struct fu_conn		*next;
};

struct fu_ctx {
	struct event_base	*base;
	const char		*rulefile;
	struct fu_rule		*rules;
	size_t			 nrules;
	FILE			*log;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	evutil_socket_t		 udp_fd;
	evutil_socket_t		 udp2_fd;	/* source of "forge port" */
	struct event		*udp_ev;
	struct evconnlistener	*listener;
	struct event		*sig_term;
	struct event		*sig_int;
	struct fu_pending	*pending;
	struct fu_conn		*conns;
	uint8_t			 buf[FU_MAX_MSG + 1];
};

static void	usage(void);
static int	parse_addr(struct fu_ctx *, const char *, const char *);
static void	rule_init(struct fu_rule *, unsigned long);
static void	rule_free(struct fu_rule *);
static int	rule_error(const struct fu_ctx *, unsigned long, const char *,
		    const char *);
static int	parse_rr(const struct fu_ctx *, unsigned long, const char *,
		    ldns_rr_list *);
static int	parse_directive(struct fu_ctx *, struct fu_rule *,
		    unsigned long, const char *, char *);
static int	load_rules(struct fu_ctx *);
static const struct fu_rule *
		find_rule(const struct fu_ctx *, const ldns_rr *,
		    enum fu_transport);
static void	log_query(struct fu_ctx *, enum fu_transport,
		    const struct sockaddr *, socklen_t, ldns_pkt *,
		    const ldns_rr *, const struct fu_rule *);
static int	push_clones(ldns_pkt *, ldns_pkt_section,
		    const ldns_rr_list *);
static int	set_opt(ldns_pkt *, const ldns_pkt *, const struct fu_rule *);
static uint8_t	*build_reply(const struct fu_rule *, const ldns_pkt *,
		    enum fu_forge, size_t *);
static void	send_udp(evutil_socket_t, const struct sockaddr *, socklen_t,
		    const uint8_t *, size_t);
static void	send_tcp(struct fu_conn *, const uint8_t *, size_t);
static void	pending_free(struct fu_pending *);
static void	pending_cb(evutil_socket_t, short, void *);
static int	schedule_reply(struct fu_ctx *, struct fu_conn *,
		    const struct sockaddr *, socklen_t, uint8_t *, size_t,
		    long);
static void	handle_query(struct fu_ctx *, struct fu_conn *,
		    const struct sockaddr *, socklen_t, const uint8_t *,
		    size_t);
static void	udp_cb(evutil_socket_t, short, void *);
static void	conn_free(struct fu_conn *);
static void	conn_maybe_close(struct fu_conn *);
static void	conn_read_cb(struct bufferevent *, void *);
static void	conn_write_cb(struct bufferevent *, void *);
static void	conn_event_cb(struct bufferevent *, short, void *);
static void	accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	signal_cb(evutil_socket_t, short, void *);
static int	open_sockets(struct fu_ctx *);
static void	ctx_free(struct fu_ctx *);

static void
usage(void)
{
	fprintf(stderr, "usage: fakeup -a addr -p port -r rulefile "
	    "-l logfile\n");
	exit(FU_EXIT_USAGE);
}

static int
parse_addr(struct fu_ctx *ctx, const char *addr, const char *port)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	char *end;
	long p;

	errno = 0;
	p = strtol(port, &end, 10);
	if (errno != 0 || *port == '\0' || *end != '\0' || p < 1 || p > 65535) {
		fprintf(stderr, "fakeup: bad port: %s\n", port);
		return (-1);
	}
	memset(&ctx->addr, 0, sizeof(ctx->addr));
	sin = (struct sockaddr_in *)&ctx->addr;
	sin6 = (struct sockaddr_in6 *)&ctx->addr;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		ctx->addrlen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		ctx->addrlen = sizeof(*sin6);
	} else {
		fprintf(stderr, "fakeup: bad address: %s\n", addr);
		return (-1);
	}
	return (0);
}

static void
rule_init(struct fu_rule *r, unsigned long line)
{
	memset(r, 0, sizeof(*r));
	r->line = line;
	r->rcode = LDNS_RCODE_NOERROR;
	r->flags = FU_FLAG_RA;
	r->transport = FU_TR_ANY;
}

static void
rule_free(struct fu_rule *r)
{
	int i;

	ldns_rdf_deep_free(r->qname);
	for (i = 0; i < FU_SEC_COUNT; i++)
		ldns_rr_list_deep_free(r->sect[i]);
	ldns_rr_list_deep_free(r->forge_answer);
	free(r->ede_text);
	memset(r, 0, sizeof(*r));
}

static int
rule_error(const struct fu_ctx *ctx, unsigned long line, const char *msg,
    const char *arg)
{
	fprintf(stderr, "fakeup: %s:%lu: %s%s%s\n", ctx->rulefile, line, msg,
	    arg != NULL ? ": " : "", arg != NULL ? arg : "");
	return (-1);
}

static int
parse_rr(const struct fu_ctx *ctx, unsigned long line, const char *text,
    ldns_rr_list *list)
{
	ldns_rdf *origin;
	ldns_rr *rr;
	ldns_status st;

	if (*text == '\0')
		return (rule_error(ctx, line, "missing RR", NULL));
	origin = ldns_dname_new_frm_str(".");
	if (origin == NULL)
		return (rule_error(ctx, line, "out of memory", NULL));
	rr = NULL;
	st = ldns_rr_new_frm_str(&rr, text, 3600, origin, NULL);
	ldns_rdf_deep_free(origin);
	if (st != LDNS_STATUS_OK || rr == NULL) {
		fprintf(stderr, "fakeup: %s:%lu: bad RR \"%s\": %s\n",
		    ctx->rulefile, line, text, ldns_get_errorstr_by_id(st));
		ldns_rr_free(rr);
		return (-1);
	}
	if (!ldns_rr_list_push_rr(list, rr)) {
		ldns_rr_free(rr);
		return (rule_error(ctx, line, "out of memory", NULL));
	}
	return (0);
}

/*
 * Handle one line inside an entry.  kw is the keyword, rest the remainder of
 * the line (trimmed; modified in place).
 */
static int
parse_directive(struct fu_ctx *ctx, struct fu_rule *r, unsigned long line,
    const char *kw, char *rest)
{
	char *args[8], *save, *tok, *end;
	ldns_lookup_table *lt;
	size_t nargs, i, len;
	long v;

	if (strcmp(kw, "answer") == 0)
		return (parse_rr(ctx, line, rest, r->sect[FU_SEC_ANSWER]));
	if (strcmp(kw, "authority") == 0)
		return (parse_rr(ctx, line, rest, r->sect[FU_SEC_AUTHORITY]));
	if (strcmp(kw, "additional") == 0)
		return (parse_rr(ctx, line, rest, r->sect[FU_SEC_ADDITIONAL]));
	if (strcmp(kw, "forge-answer") == 0)
		return (parse_rr(ctx, line, rest, r->forge_answer));

	if (strcmp(kw, "ede") == 0) {
		errno = 0;
		v = strtol(rest, &end, 10);
		if (errno != 0 || end == rest || v < 0 || v > 65535 ||
		    (*end != '\0' && *end != ' ' && *end != '\t'))
			return (rule_error(ctx, line, "bad EDE code", rest));
		if (r->has_ede)
			return (rule_error(ctx, line, "duplicate ede", NULL));
		r->has_ede = true;
		r->ede_code = (uint16_t)v;
		end += strspn(end, " \t");
		len = strlen(end);
		if (len >= 2 && end[0] == '"' && end[len - 1] == '"') {
			end[len - 1] = '\0';
			end++;
		}
		if (*end != '\0') {
			r->ede_text = strdup(end);
			if (r->ede_text == NULL)
				return (rule_error(ctx, line, "out of memory",
				    NULL));
		}
		return (0);
	}

	nargs = 0;
	for (tok = strtok_r(rest, " \t", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t", &save)) {
		if (tok[0] == '#')
			break;
		if (nargs == sizeof(args) / sizeof(args[0]))
			return (rule_error(ctx, line, "too many arguments",
			    NULL));
		args[nargs++] = tok;
	}

	if (strcmp(kw, "transport") == 0) {
		if (nargs != 1)
			return (rule_error(ctx, line, "usage: transport udp|tcp",
			    NULL));
		if (strcasecmp(args[0], "udp") == 0)
			r->transport = FU_TR_UDP;
		else if (strcasecmp(args[0], "tcp") == 0)
			r->transport = FU_TR_TCP;
		else
			return (rule_error(ctx, line, "bad transport",
			    args[0]));
	} else if (strcmp(kw, "rcode") == 0) {
		if (nargs != 1)
			return (rule_error(ctx, line, "usage: rcode NAME",
			    NULL));
		errno = 0;
		v = strtol(args[0], &end, 10);
		if (errno == 0 && *end == '\0' && v >= 0 && v <= 15)
			r->rcode = (uint8_t)v;
		else if ((lt = ldns_lookup_by_name(ldns_rcodes, args[0])) !=
		    NULL && lt->id >= 0 && lt->id <= 15)
			r->rcode = (uint8_t)lt->id;
		else
			return (rule_error(ctx, line, "bad rcode", args[0]));
	} else if (strcmp(kw, "flags") == 0) {
		r->flags = 0;
		for (i = 0; i < nargs; i++) {
			if (strcasecmp(args[i], "aa") == 0)
				r->flags |= FU_FLAG_AA;
			else if (strcasecmp(args[i], "ra") == 0)
				r->flags |= FU_FLAG_RA;
			else if (strcasecmp(args[i], "ad") == 0)
				r->flags |= FU_FLAG_AD;
			else if (strcasecmp(args[i], "tc") == 0)
				r->flags |= FU_FLAG_TC;
			else
				return (rule_error(ctx, line, "bad flag",
				    args[i]));
		}
	} else if (strcmp(kw, "delay") == 0) {
		if (nargs != 1)
			return (rule_error(ctx, line, "usage: delay MS", NULL));
		errno = 0;
		v = strtol(args[0], &end, 10);
		if (errno != 0 || *end != '\0' || v < 0 || v > FU_MAX_DELAY_MS)
			return (rule_error(ctx, line, "bad delay", args[0]));
		r->delay_ms = v;
	} else if (strcmp(kw, "drop") == 0 || strcmp(kw, "noopt") == 0) {
		if (nargs != 0)
			return (rule_error(ctx, line, "unexpected argument",
			    args[0]));
		if (kw[0] == 'd')
			r->drop = true;
		else
			r->noopt = true;
	} else if (strcmp(kw, "forge") == 0) {
		if (nargs != 1)
			return (rule_error(ctx, line,
			    "usage: forge id|qname|qtype|port", NULL));
		if (r->nforge == FU_MAX_FORGE)
			return (rule_error(ctx, line, "too many forge lines",
			    NULL));
		if (strcasecmp(args[0], "id") == 0)
			r->forge[r->nforge++] = FU_FORGE_ID;
		else if (strcasecmp(args[0], "qname") == 0)
			r->forge[r->nforge++] = FU_FORGE_QNAME;
		else if (strcasecmp(args[0], "qtype") == 0)
			r->forge[r->nforge++] = FU_FORGE_QTYPE;
		else if (strcasecmp(args[0], "port") == 0)
			r->forge[r->nforge++] = FU_FORGE_PORT;
		else
			return (rule_error(ctx, line, "bad forge kind",
			    args[0]));
	} else
		return (rule_error(ctx, line, "unknown keyword", kw));
	return (0);
}

static int
load_rules(struct fu_ctx *ctx)
{
	FILE *fp;
	struct fu_rule *r, *nr;
	char *line, *p, *kw, *rest, *save, *qn, *qt, *extra;
	size_t cap, len;
	ssize_t n;
	unsigned long lineno;
	int i, ret;

	if ((fp = fopen(ctx->rulefile, "r")) == NULL) {
		fprintf(stderr, "fakeup: %s: %s\n", ctx->rulefile,
		    strerror(errno));
		return (-1);
	}
	line = NULL;
	cap = 0;
	lineno = 0;
	r = NULL;
	ret = -1;
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		len = (size_t)n;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r' || line[len - 1] == ' ' ||
		    line[len - 1] == '\t'))
			line[--len] = '\0';
		p = line + strspn(line, " \t");
		if (*p == '\0' || *p == '#')
			continue;
		kw = p;
		p += strcspn(p, " \t");
		if (*p != '\0')
			*p++ = '\0';
		rest = p + strspn(p, " \t");

		if (strcmp(kw, "match") == 0) {
			if (r != NULL) {
				rule_error(ctx, lineno, "match inside an "
				    "entry (missing end?)", NULL);
				goto out;
			}
			qn = strtok_r(rest, " \t", &save);
			qt = qn != NULL ? strtok_r(NULL, " \t", &save) : NULL;
			extra = qt != NULL ? strtok_r(NULL, " \t", &save) :
			    NULL;
			if (qn == NULL || qt == NULL ||
			    (extra != NULL && extra[0] != '#')) {
				rule_error(ctx, lineno,
				    "usage: match QNAME QTYPE", NULL);
				goto out;
			}
			nr = reallocarray(ctx->rules, ctx->nrules + 1,
			    sizeof(*ctx->rules));
			if (nr == NULL) {
				rule_error(ctx, lineno, "out of memory", NULL);
				goto out;
			}
			ctx->rules = nr;
			r = &ctx->rules[ctx->nrules++];
			rule_init(r, lineno);
			for (i = 0; i < FU_SEC_COUNT; i++)
				if ((r->sect[i] = ldns_rr_list_new()) == NULL) {
					rule_error(ctx, lineno, "out of memory",
					    NULL);
					goto out;
				}
			if ((r->forge_answer = ldns_rr_list_new()) == NULL) {
				rule_error(ctx, lineno, "out of memory", NULL);
				goto out;
			}
			if (strcmp(qn, "*") != 0) {
				r->qname = ldns_dname_new_frm_str(qn);
				if (r->qname == NULL) {
					rule_error(ctx, lineno, "bad name", qn);
					goto out;
				}
				if (!ldns_dname_absolute(r->qname)) {
					rule_error(ctx, lineno,
					    "name must be absolute", qn);
					goto out;
				}
			}
			if (strcmp(qt, "*") == 0)
				r->anytype = true;
			else if ((r->qtype = ldns_get_rr_type_by_name(qt)) ==
			    0) {
				rule_error(ctx, lineno, "bad type", qt);
				goto out;
			}
		} else if (strcmp(kw, "end") == 0) {
			if (r == NULL) {
				rule_error(ctx, lineno, "end without match",
				    NULL);
				goto out;
			}
			if (r->nforge > 0 && r->transport == FU_TR_TCP) {
				rule_error(ctx, lineno,
				    "forge needs UDP (transport tcp)", NULL);
				goto out;
			}
			r = NULL;
		} else if (r == NULL) {
			rule_error(ctx, lineno, "directive outside an entry",
			    kw);
			goto out;
		} else if (parse_directive(ctx, r, lineno, kw, rest) == -1)
			goto out;
	}
	if (ferror(fp)) {
		fprintf(stderr, "fakeup: %s: %s\n", ctx->rulefile,
		    strerror(errno));
		goto out;
	}
	if (r != NULL) {
		rule_error(ctx, lineno, "missing end at end of file", NULL);
		goto out;
	}
	ret = 0;
out:
	free(line);
	fclose(fp);
	return (ret);
}

static const struct fu_rule *
find_rule(const struct fu_ctx *ctx, const ldns_rr *q, enum fu_transport tr)
{
	const struct fu_rule *r;
	size_t i;

	for (i = 0; i < ctx->nrules; i++) {
		r = &ctx->rules[i];
		if (r->transport != FU_TR_ANY && r->transport != tr)
			continue;
		if (!r->anytype && r->qtype != ldns_rr_get_type(q))
			continue;
		if (r->qname != NULL &&
		    ldns_dname_compare(r->qname, ldns_rr_owner(q)) != 0)
			continue;
		return (r);
	}
	return (NULL);
}

static void
log_query(struct fu_ctx *ctx, enum fu_transport tr,
    const struct sockaddr *peer, socklen_t peerlen, ldns_pkt *q,
    const ldns_rr *qrr, const struct fu_rule *r)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	char *qname, *qtype;
	ldns_edns_option_list *opts;
	ldns_rdf *edata;
	size_t i, n;
	bool edns;

	if (getnameinfo(peer, peerlen, host, sizeof(host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		strcpy(host, "?");
		strcpy(serv, "?");
	}
	qname = ldns_rdf2str(ldns_rr_owner(qrr));
	qtype = ldns_rr_type2str(ldns_rr_get_type(qrr));
	edns = ldns_pkt_edns(q);
	fprintf(ctx->log, "%s %s %s id=%u qname=%s qtype=%s rd=%d cd=%d "
	    "edns=%d do=%d bufsize=%u opts=",
	    tr == FU_TR_TCP ? "tcp" : "udp", host, serv,
	    (unsigned int)ldns_pkt_id(q), qname != NULL ? qname : "?",
	    qtype != NULL ? qtype : "?", ldns_pkt_rd(q) ? 1 : 0,
	    ldns_pkt_cd(q) ? 1 : 0, edns ? 1 : 0,
	    edns && ldns_pkt_edns_do(q) ? 1 : 0,
	    edns ? (unsigned int)ldns_pkt_edns_udp_size(q) : 0);
	free(qname);
	free(qtype);

	edata = ldns_pkt_edns_data(q);
	opts = NULL;
	if (edns && edata != NULL && ldns_rdf_size(edata) > 0) {
		opts = ldns_pkt_edns_get_option_list(q);
		if (opts == NULL)
			fputs("?", ctx->log);
	} else
		fputs("-", ctx->log);
	if (opts != NULL) {
		n = ldns_edns_option_list_get_count(opts);
		for (i = 0; i < n; i++)
			fprintf(ctx->log, "%s%u", i > 0 ? "," : "",
			    (unsigned int)ldns_edns_get_code(
			    ldns_edns_option_list_get_option(opts, i)));
		if (n == 0)
			fputs("-", ctx->log);
	}
	if (r != NULL)
		fprintf(ctx->log, " match=%lu\n", r->line);
	else
		fputs(" match=none\n", ctx->log);
	fflush(ctx->log);
}

static int
push_clones(ldns_pkt *p, ldns_pkt_section s, const ldns_rr_list *list)
{
	ldns_rr *rr;
	size_t i;

	if (list == NULL)
		return (0);
	for (i = 0; i < ldns_rr_list_rr_count(list); i++) {
		if ((rr = ldns_rr_clone(ldns_rr_list_rr(list, i))) == NULL)
			return (-1);
		if (!ldns_pkt_push_rr(p, s, rr)) {
			ldns_rr_free(rr);
			return (-1);
		}
	}
	return (0);
}

static int
set_opt(ldns_pkt *p, const ldns_pkt *q, const struct fu_rule *r)
{
	ldns_edns_option_list *list;
	ldns_edns_option *opt;
	uint8_t *data;
	size_t tlen;

	if (!ldns_pkt_edns(q) || (r != NULL && r->noopt))
		return (0);
	ldns_pkt_set_edns_udp_size(p, FU_EDNS_SIZE);
	ldns_pkt_set_edns_version(p, 0);
	ldns_pkt_set_edns_do(p, ldns_pkt_edns_do(q));
	if (r == NULL || !r->has_ede)
		return (0);

	tlen = r->ede_text != NULL ? strlen(r->ede_text) : 0;
	if (tlen > 1024)
		tlen = 1024;
	if ((data = malloc(2 + tlen)) == NULL)
		return (-1);
	ldns_write_uint16(data, r->ede_code);
	if (tlen > 0)
		memcpy(data + 2, r->ede_text, tlen);
	opt = ldns_edns_new_from_data(LDNS_EDNS_EDE, 2 + tlen, data);
	free(data);
	if (opt == NULL)
		return (-1);
	if ((list = ldns_edns_option_list_new()) == NULL) {
		ldns_edns_deep_free(opt);
		return (-1);
	}
	if (!ldns_edns_option_list_push(list, opt)) {
		ldns_edns_deep_free(opt);
		ldns_edns_option_list_deep_free(list);
		return (-1);
	}
	ldns_pkt_set_edns_option_list(p, list);
	return (0);
}

/*
 * Build the wire form of the reply to q from entry r (NULL: no entry
 * matched, REFUSED), or of a forged reply of the given kind.  Returns a
 * malloc'ed buffer or NULL.
 */
static uint8_t *
build_reply(const struct fu_rule *r, const ldns_pkt *q, enum fu_forge forge,
    size_t *lenp)
{
	ldns_pkt *p;
	ldns_rr *qrr;
	ldns_rdf *name;
	uint8_t *wire;
	ldns_status st;
	unsigned int flags;

	wire = NULL;
	qrr = NULL;
	if ((p = ldns_pkt_new()) == NULL)
		return (NULL);
	ldns_pkt_set_id(p, ldns_pkt_id(q));
	if (forge == FU_FORGE_ID)
		ldns_pkt_set_id(p, (uint16_t)(ldns_pkt_id(q) + 1));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_opcode(p, ldns_pkt_get_opcode(q));
	ldns_pkt_set_rd(p, ldns_pkt_rd(q));
	ldns_pkt_set_cd(p, ldns_pkt_cd(q));
	flags = r != NULL ? r->flags : FU_FLAG_RA;
	ldns_pkt_set_aa(p, (flags & FU_FLAG_AA) != 0);
	ldns_pkt_set_ra(p, (flags & FU_FLAG_RA) != 0);
	ldns_pkt_set_ad(p, (flags & FU_FLAG_AD) != 0);
	ldns_pkt_set_tc(p, (flags & FU_FLAG_TC) != 0);
	if (r == NULL)
		ldns_pkt_set_rcode(p, LDNS_RCODE_REFUSED);
	else if (forge != FU_FORGE_NONE)
		ldns_pkt_set_rcode(p, LDNS_RCODE_NOERROR);
	else
		ldns_pkt_set_rcode(p, r->rcode);

	qrr = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(q), 0));
	if (qrr == NULL)
		goto fail;
	if (forge == FU_FORGE_QNAME) {
		if ((name = ldns_dname_new_frm_str("forged.")) == NULL)
			goto fail;
		if (ldns_dname_cat(name, ldns_rr_owner(qrr)) !=
		    LDNS_STATUS_OK || ldns_rdf_size(name) > LDNS_MAX_DOMAINLEN) {
			ldns_rdf_deep_free(name);
			goto fail;
		}
		ldns_rdf_deep_free(ldns_rr_owner(qrr));
		ldns_rr_set_owner(qrr, name);
	} else if (forge == FU_FORGE_QTYPE)
		ldns_rr_set_type(qrr, ldns_rr_get_type(qrr) == LDNS_RR_TYPE_A ?
		    LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A);
	if (!ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, qrr))
		goto fail;
	qrr = NULL;

	if (r != NULL && forge != FU_FORGE_NONE) {
		if (push_clones(p, LDNS_SECTION_ANSWER, r->forge_answer) == -1)
			goto fail;
	} else if (r != NULL) {
		if (push_clones(p, LDNS_SECTION_ANSWER,
		    r->sect[FU_SEC_ANSWER]) == -1 ||
		    push_clones(p, LDNS_SECTION_AUTHORITY,
		    r->sect[FU_SEC_AUTHORITY]) == -1 ||
		    push_clones(p, LDNS_SECTION_ADDITIONAL,
		    r->sect[FU_SEC_ADDITIONAL]) == -1)
			goto fail;
	}
	if (set_opt(p, q, r) == -1)
		goto fail;

	st = ldns_pkt2wire(&wire, p, lenp);
	if (st != LDNS_STATUS_OK) {
		fprintf(stderr, "fakeup: cannot build reply: %s\n",
		    ldns_get_errorstr_by_id(st));
		free(wire);
		wire = NULL;
	} else if (*lenp > FU_MAX_MSG) {
		fprintf(stderr, "fakeup: reply too large (%zu)\n", *lenp);
		free(wire);
		wire = NULL;
	}
	ldns_pkt_free(p);
	return (wire);
fail:
	fprintf(stderr, "fakeup: cannot build reply (out of memory?)\n");
	ldns_rr_free(qrr);
	ldns_pkt_free(p);
	return (NULL);
}

static void
send_udp(evutil_socket_t fd, const struct sockaddr *peer, socklen_t peerlen,
    const uint8_t *wire, size_t len)
{
	if (sendto(fd, wire, len, 0, peer, peerlen) == -1)
		fprintf(stderr, "fakeup: sendto: %s\n", strerror(errno));
}

static void
send_tcp(struct fu_conn *c, const uint8_t *wire, size_t len)
{
	uint8_t hdr[2];

	if (c->bev == NULL)
		return;
	ldns_write_uint16(hdr, (uint16_t)len);
	if (bufferevent_write(c->bev, hdr, sizeof(hdr)) == -1 ||
	    bufferevent_write(c->bev, wire, len) == -1)
		fprintf(stderr, "fakeup: cannot queue TCP reply\n");
}

static void
pending_free(struct fu_pending *pd)
{
	struct fu_ctx *ctx = pd->ctx;

	if (pd->prev != NULL)
		pd->prev->next = pd->next;
	else
		ctx->pending = pd->next;
	if (pd->next != NULL)
		pd->next->prev = pd->prev;
	if (pd->conn != NULL)
		pd->conn->npending--;
	if (pd->ev != NULL)
		event_free(pd->ev);
	free(pd->wire);
	free(pd);
}

static void
pending_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fu_pending *pd = arg;
	struct fu_conn *c;

	(void)fd;
	(void)what;
	c = pd->conn;
	if (c != NULL)
		send_tcp(c, pd->wire, pd->len);
	else
		send_udp(pd->ctx->udp_fd, (struct sockaddr *)&pd->peer,
		    pd->peerlen, pd->wire, pd->len);
	pending_free(pd);
	if (c != NULL)
		conn_maybe_close(c);
}

/* Send wire (which this takes over) now or after delay_ms. */
static int
schedule_reply(struct fu_ctx *ctx, struct fu_conn *c,
    const struct sockaddr *peer, socklen_t peerlen, uint8_t *wire, size_t len,
    long delay_ms)
{
	struct fu_pending *pd;
	struct timeval tv;

	if (delay_ms <= 0) {
		if (c != NULL)
			send_tcp(c, wire, len);
		else
			send_udp(ctx->udp_fd, peer, peerlen, wire, len);
		free(wire);
		return (0);
	}
	if ((pd = calloc(1, sizeof(*pd))) == NULL) {
		free(wire);
		return (-1);
	}
	pd->ctx = ctx;
	pd->conn = c;
	memcpy(&pd->peer, peer, peerlen);
	pd->peerlen = peerlen;
	pd->wire = wire;
	pd->len = len;
	pd->next = ctx->pending;
	if (pd->next != NULL)
		pd->next->prev = pd;
	ctx->pending = pd;
	if (c != NULL)
		c->npending++;
	if ((pd->ev = evtimer_new(ctx->base, pending_cb, pd)) == NULL) {
		pending_free(pd);
		return (-1);
	}
	tv.tv_sec = delay_ms / 1000;
	tv.tv_usec = (delay_ms % 1000) * 1000;
	if (evtimer_add(pd->ev, &tv) == -1) {
		pending_free(pd);
		return (-1);
	}
	return (0);
}

static void
handle_query(struct fu_ctx *ctx, struct fu_conn *c,
    const struct sockaddr *peer, socklen_t peerlen, const uint8_t *buf,
    size_t len)
{
	const struct fu_rule *r;
	enum fu_transport tr;
	ldns_pkt *q;
	ldns_rr *qrr;
	ldns_status st;
	uint8_t *wire;
	size_t wlen, i;

	tr = c != NULL ? FU_TR_TCP : FU_TR_UDP;
	q = NULL;
	st = ldns_wire2pkt(&q, buf, len);
	if (st != LDNS_STATUS_OK || q == NULL) {
		fprintf(stderr, "fakeup: dropping malformed %s message (%zu "
		    "bytes): %s\n", tr == FU_TR_TCP ? "tcp" : "udp", len,
		    ldns_get_errorstr_by_id(st));
		return;
	}
	if (ldns_pkt_qr(q) || ldns_pkt_qdcount(q) != 1 ||
	    ldns_rr_list_rr_count(ldns_pkt_question(q)) != 1) {
		fprintf(stderr, "fakeup: dropping %s message that is not a "
		    "query with one question\n", tr == FU_TR_TCP ? "tcp" :
		    "udp");
		ldns_pkt_free(q);
		return;
	}
	qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	r = find_rule(ctx, qrr, tr);
	log_query(ctx, tr, peer, peerlen, q, qrr, r);

	if (r != NULL && tr == FU_TR_UDP) {
		for (i = 0; i < r->nforge; i++) {
			if ((wire = build_reply(r, q, r->forge[i], &wlen)) ==
			    NULL)
				continue;
			send_udp(r->forge[i] == FU_FORGE_PORT ? ctx->udp2_fd :
			    ctx->udp_fd, peer, peerlen, wire, wlen);
			free(wire);
		}
	}
	if (r == NULL || !r->drop) {
		if ((wire = build_reply(r, q, FU_FORGE_NONE, &wlen)) != NULL &&
		    schedule_reply(ctx, c, peer, peerlen, wire, wlen,
		    r != NULL ? r->delay_ms : 0) == -1)
			fprintf(stderr, "fakeup: cannot schedule reply\n");
	}
	ldns_pkt_free(q);
}

static void
udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fu_ctx *ctx = arg;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	ssize_t n;
	int i;

	(void)what;
	for (i = 0; i < FU_UDP_BATCH; i++) {
		peerlen = sizeof(peer);
		n = recvfrom(fd, ctx->buf, sizeof(ctx->buf), 0,
		    (struct sockaddr *)&peer, &peerlen);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				fprintf(stderr, "fakeup: recvfrom: %s\n",
				    strerror(errno));
			return;
		}
		handle_query(ctx, NULL, (struct sockaddr *)&peer, peerlen,
		    ctx->buf, (size_t)n);
	}
}

static void
conn_free(struct fu_conn *c)
{
	struct fu_ctx *ctx = c->ctx;
	struct fu_pending *pd, *next;

	for (pd = ctx->pending; pd != NULL; pd = next) {
		next = pd->next;
		if (pd->conn == c)
			pending_free(pd);
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ctx->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	free(c);
}

/* Close a connection the client has finished with once all is sent. */
static void
conn_maybe_close(struct fu_conn *c)
{
	if (c->closing && c->npending == 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct fu_conn *c = arg;
	struct evbuffer *in;
	uint8_t hdr[2];
	size_t mlen;

	in = bufferevent_get_input(bev);
	while (evbuffer_get_length(in) >= 2) {
		if (evbuffer_copyout(in, hdr, 2) != 2)
			return;
		mlen = ldns_read_uint16(hdr);
		if (evbuffer_get_length(in) < 2 + mlen)
			return;
		if (evbuffer_drain(in, 2) == -1 ||
		    evbuffer_remove(in, c->ctx->buf, mlen) != (int)mlen) {
			fprintf(stderr, "fakeup: evbuffer error\n");
			conn_free(c);
			return;
		}
		if (mlen == 0)
			continue;
		handle_query(c->ctx, c, (struct sockaddr *)&c->peer,
		    c->peerlen, c->ctx->buf, mlen);
	}
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct fu_conn *c = arg;

	(void)bev;
	conn_maybe_close(c);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct fu_conn *c = arg;

	if ((what & BEV_EVENT_TIMEOUT) != 0) {
		/* Idle only if nothing is pending either. */
		if (c->npending > 0 && !c->closing) {
			bufferevent_enable(bev, EV_READ);
			return;
		}
		conn_free(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) != 0 && (what & BEV_EVENT_READING) != 0) {
		/* Client closed (or half-closed): finish what is pending. */
		c->closing = true;
		bufferevent_disable(bev, EV_READ);
		conn_maybe_close(c);
		return;
	}
	conn_free(c);
}

static void
accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct fu_ctx *ctx = arg;
	struct fu_conn *c;
	struct timeval idle;

	(void)lis;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c->ctx = ctx;
	if (salen > 0 && (size_t)salen <= sizeof(c->peer)) {
		memcpy(&c->peer, sa, (size_t)salen);
		c->peerlen = (socklen_t)salen;
	}
	c->bev = bufferevent_socket_new(ctx->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	c->next = ctx->conns;
	if (c->next != NULL)
		c->next->prev = c;
	ctx->conns = c;
	idle.tv_sec = FU_TCP_IDLE_SEC;
	idle.tv_usec = 0;
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	if (bufferevent_set_timeouts(c->bev, &idle, NULL) == -1 ||
	    bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1) {
		fprintf(stderr, "fakeup: cannot set up TCP connection\n");
		conn_free(c);
	}
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct fu_ctx *ctx = arg;

	(void)sig;
	(void)what;
	event_base_loopbreak(ctx->base);
}

static int
open_sockets(struct fu_ctx *ctx)
{
	struct sockaddr_storage any;
	evutil_socket_t tfd;
	int af, on;

	af = ctx->addr.ss_family;
	on = 1;
	ctx->udp_fd = socket(af, SOCK_DGRAM, 0);
	ctx->udp2_fd = socket(af, SOCK_DGRAM, 0);
	tfd = socket(af, SOCK_STREAM, 0);
	if (ctx->udp_fd == -1 || ctx->udp2_fd == -1 || tfd == -1) {
		fprintf(stderr, "fakeup: socket: %s\n", strerror(errno));
		if (tfd != -1)
			close(tfd);
		return (FU_EXIT_USAGE);
	}
	if (af == AF_INET6 && (setsockopt(ctx->udp_fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1 || setsockopt(ctx->udp2_fd,
	    IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1 ||
	    setsockopt(tfd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)) {
		fprintf(stderr, "fakeup: IPV6_V6ONLY: %s\n", strerror(errno));
		close(tfd);
		return (FU_EXIT_USAGE);
	}
	/* Only TCP gets SO_REUSEADDR (TIME_WAIT); on UDP it would share. */
	if (setsockopt(tfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1) {
		fprintf(stderr, "fakeup: SO_REUSEADDR: %s\n", strerror(errno));
		close(tfd);
		return (FU_EXIT_USAGE);
	}
	if (bind(ctx->udp_fd, (struct sockaddr *)&ctx->addr,
	    ctx->addrlen) == -1) {
		fprintf(stderr, "fakeup: bind udp: %s\n", strerror(errno));
		close(tfd);
		return (FU_EXIT_BIND);
	}
	if (bind(tfd, (struct sockaddr *)&ctx->addr, ctx->addrlen) == -1 ||
	    listen(tfd, 64) == -1) {
		fprintf(stderr, "fakeup: bind tcp: %s\n", strerror(errno));
		close(tfd);
		return (FU_EXIT_BIND);
	}
	/* Second UDP socket: same address, kernel-chosen port. */
	memcpy(&any, &ctx->addr, sizeof(any));
	if (af == AF_INET)
		((struct sockaddr_in *)&any)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&any)->sin6_port = 0;
	if (bind(ctx->udp2_fd, (struct sockaddr *)&any, ctx->addrlen) == -1) {
		fprintf(stderr, "fakeup: bind udp (forge port): %s\n",
		    strerror(errno));
		close(tfd);
		return (FU_EXIT_BIND);
	}
	if (evutil_make_socket_nonblocking(ctx->udp_fd) == -1 ||
	    evutil_make_socket_nonblocking(ctx->udp2_fd) == -1 ||
	    evutil_make_socket_nonblocking(tfd) == -1 ||
	    evutil_make_socket_closeonexec(ctx->udp_fd) == -1 ||
	    evutil_make_socket_closeonexec(ctx->udp2_fd) == -1 ||
	    evutil_make_socket_closeonexec(tfd) == -1) {
		fprintf(stderr, "fakeup: cannot set socket flags\n");
		close(tfd);
		return (FU_EXIT_USAGE);
	}
	ctx->listener = evconnlistener_new(ctx->base, accept_cb, ctx,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, tfd);
	if (ctx->listener == NULL) {
		fprintf(stderr, "fakeup: evconnlistener_new failed\n");
		close(tfd);
		return (FU_EXIT_USAGE);
	}
	ctx->udp_ev = event_new(ctx->base, ctx->udp_fd, EV_READ | EV_PERSIST,
	    udp_cb, ctx);
	if (ctx->udp_ev == NULL || event_add(ctx->udp_ev, NULL) == -1) {
		fprintf(stderr, "fakeup: cannot add UDP event\n");
		return (FU_EXIT_USAGE);
	}
	return (FU_EXIT_OK);
}

static void
ctx_free(struct fu_ctx *ctx)
{
	size_t i;

	while (ctx->conns != NULL)
		conn_free(ctx->conns);
	while (ctx->pending != NULL)
		pending_free(ctx->pending);
	if (ctx->listener != NULL)
		evconnlistener_free(ctx->listener);
	if (ctx->udp_ev != NULL)
		event_free(ctx->udp_ev);
	if (ctx->sig_term != NULL)
		event_free(ctx->sig_term);
	if (ctx->sig_int != NULL)
		event_free(ctx->sig_int);
	if (ctx->udp_fd != -1)
		close(ctx->udp_fd);
	if (ctx->udp2_fd != -1)
		close(ctx->udp2_fd);
	for (i = 0; i < ctx->nrules; i++)
		rule_free(&ctx->rules[i]);
	free(ctx->rules);
	if (ctx->log != NULL)
		fclose(ctx->log);
	if (ctx->base != NULL)
		event_base_free(ctx->base);
	free(ctx);
}

int
main(int argc, char *argv[])
{
	struct fu_ctx *ctx;
	const char *addr, *port, *logfile;
	int ch, ret;

	addr = port = logfile = NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		fprintf(stderr, "fakeup: out of memory\n");
		return (FU_EXIT_USAGE);
	}
	ctx->udp_fd = ctx->udp2_fd = -1;
	while ((ch = getopt(argc, argv, "a:l:p:r:")) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'l':
			logfile = optarg;
			break;
		case 'p':
			port = optarg;
			break;
		case 'r':
			ctx->rulefile = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || addr == NULL || port == NULL ||
	    ctx->rulefile == NULL || logfile == NULL)
		usage();

	ret = FU_EXIT_USAGE;
	if (parse_addr(ctx, addr, port) == -1 || load_rules(ctx) == -1)
		goto out;
	if ((ctx->log = fopen(logfile, "a")) == NULL) {
		fprintf(stderr, "fakeup: %s: %s\n", logfile, strerror(errno));
		goto out;
	}
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		fprintf(stderr, "fakeup: signal: %s\n", strerror(errno));
		goto out;
	}
	if ((ctx->base = event_base_new()) == NULL) {
		fprintf(stderr, "fakeup: event_base_new failed\n");
		goto out;
	}
	ctx->sig_term = evsignal_new(ctx->base, SIGTERM, signal_cb, ctx);
	ctx->sig_int = evsignal_new(ctx->base, SIGINT, signal_cb, ctx);
	if (ctx->sig_term == NULL || ctx->sig_int == NULL ||
	    evsignal_add(ctx->sig_term, NULL) == -1 ||
	    evsignal_add(ctx->sig_int, NULL) == -1) {
		fprintf(stderr, "fakeup: cannot install signal handlers\n");
		goto out;
	}
	if ((ret = open_sockets(ctx)) != FU_EXIT_OK)
		goto out;

	fprintf(stderr, "ready\n");
	fflush(stderr);
	if (event_base_dispatch(ctx->base) == -1) {
		fprintf(stderr, "fakeup: event loop failed\n");
		ret = FU_EXIT_USAGE;
	}
out:
	ctx_free(ctx);
	return (ret);
}
