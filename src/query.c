/*
 * query.c -- the life of one client query.
 *
 *   query_start()   parse and check (dnsmsg), query ACL, then decide:
 *     ipv4only.arpa        -> answered here (RFC 8880)
 *     AAAA, DNS64 on       -> Q_AAAA: ask upstream for the AAAA
 *     PTR in a prefix      -> Q_PTR: ask for the in-addr.arpa PTR
 *     anything else        -> Q_FORWARD: ask upstream, relay the answer
 *   aaaa_done()     real AAAA -> relay; NXDOMAIN -> relay; NODATA or error
 *                   -> Q_A: ask for the A of the CNAME chain's end
 *   a_done()        A found -> synthesize; else the original answer
 *   ptr_done()      CNAME to in-addr.arpa plus the upstream's answer
 *   query_free()    the only exit, from every path
 *
 * All state of a query lives in struct query, so that several workers (and
 * later, parallel legs) need nothing else.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns64proxy.h"
#include "acl.h"
#include "conf.h"
#include "dns64.h"
#include "dnsmsg.h"
#include "listener.h"
#include "log.h"
#include "query.h"
#include "sa.h"
#include "stats.h"
#include "upstream.h"

enum query_state {
	Q_NEW,
	Q_FORWARD,
	Q_AAAA,
	Q_A,
	Q_PTR
};

#define IPV4ONLY_TTL	3600		/* as BIND's built-in zone */

/* Wire forms of the names RFC 8880 7 makes special. */
static const uint8_t	ipv4only_name[] = "\010ipv4only\004arpa";
static const uint8_t	ipv4only_rev170[] =
    "\003170\0010\0010\003192\007in-addr\004arpa";
static const uint8_t	ipv4only_rev171[] =
    "\003171\0010\0010\003192\007in-addr\004arpa";

struct query {
	struct worker		*w;
	struct client		 cl;
	uint8_t			 hdr[LDNS_HEADER_SIZE];
	TAILQ_ENTRY(query)	 entry;		/* worker's queries */
	ldns_pkt		*req;
	const ldns_rdf		*qname;		/* the client's, with case */
	ldns_rr_type		 qtype;
	ldns_rr_class		 qclass;
	unsigned int		 upflags;
	enum query_state	 state;
	struct upstream_req	*ureq;
	ldns_pkt		*aaaa;		/* the AAAA leg's reply */
	ldns_rdf		*target;	/* end of its CNAME chain, or
						   the in-addr.arpa name */
	int			 aaaa_failed;	/* error or timeout */
	int			 always;	/* always-synthesize */
	int			 dnssec;	/* DO=1, no break-dnssec */
	const char		*outcome;
	int			 rcode;
	char			 upname[SA_STRLEN + 4];
};

static void	 leg_reply_cb(struct upstream_reply *, void *);

static void
dump(const char *what, struct query *q, const ldns_pkt *pkt)
{
	char	*s;

	if (log_getverbose() < 2)
		return;
	if ((s = ldns_pkt2str(pkt)) == NULL)
		return;
	log_debug("%s %s:\n%s", what, q->cl.name, s);
	free(s);
}

/*
 * The 12-bit RCODE (RFC 6891 6.1.3): an upstream BADVERS or BADCOOKIE has
 * 0 in the header's 4 bits and must not pass for NOERROR.
 */
static int
full_rcode(const ldns_pkt *pkt)
{
	return (ldns_pkt_get_rcode(pkt) |
	    ldns_pkt_edns_extended_rcode(pkt) << 4);
}

/* Render within the client's limits and send. Consumes reply. */
static void
send_reply(struct query *q, ldns_pkt *reply, const char *outcome)
{
	uint8_t		*wire = NULL;
	size_t		 len, max;
	ldns_status	 st;

	max = q->cl.tcp ? DNS_MSG_MAX : (q->req ? dnsmsg_udp_limit(q->req,
	    q->w->conf->edns_buffer_size) : DNS_UDP_MIN);
	if ((st = dnsmsg_render(reply, max, &wire, &len)) != LDNS_STATUS_OK) {
		log_warnx("%s: reply not rendered: %s", q->cl.name,
		    ldns_get_errorstr_by_id(st));
		ldns_pkt_free(reply);
		q->outcome = "dropped";
		q->w->stats->dropped++;
		return;
	}
	if (ldns_pkt_tc(reply))
		q->w->stats->truncated++;
	if (strcmp(outcome, "passed") == 0)
		q->w->stats->passed++;
	q->outcome = outcome;
	q->rcode = full_rcode(reply);
	dump("reply to", q, reply);
	listener_send(&q->cl, wire, len);
	free(wire);
	ldns_pkt_free(reply);
}

static void
send_error(struct query *q, int rcode, const char *outcome)
{
	ldns_pkt	*reply;

	switch (rcode) {
	case LDNS_RCODE_FORMERR:
	case DNSMSG_RCODE_BADVERS:
		q->w->stats->formerr++;
		break;
	case LDNS_RCODE_NOTIMPL:
		q->w->stats->notimp++;
		break;
	case LDNS_RCODE_REFUSED:
		q->w->stats->refused++;
		break;
	default:
		q->w->stats->servfail++;
		break;
	}
	if ((reply = dnsmsg_error(q->hdr, q->req, rcode,
	    q->w->conf->edns_buffer_size)) == NULL) {
		log_warnx("%s: out of memory", q->cl.name);
		q->outcome = "dropped";
		return;
	}
	send_reply(q, reply, outcome);
}

/*
 * Relay an upstream reply, or one we built.  Synthesized data is marked with
 * EDE 29 when the client speaks EDNS (RFC 8914 4.30).  Consumes pkt.
 */
static void
relay(struct query *q, ldns_pkt *pkt, const char *outcome, int synthesized)
{
	ldns_pkt	*reply;

	if ((reply = dnsmsg_reply(pkt, q->req,
	    q->w->conf->edns_buffer_size)) == NULL ||
	    (synthesized && ldns_pkt_edns(q->req) &&
	    dnsmsg_add_ede(reply, DNSMSG_EDE_SYNTHESIZED, NULL) == -1)) {
		ldns_pkt_free(reply);
		log_warnx("%s: out of memory", q->cl.name);
		send_error(q, LDNS_RCODE_SERVFAIL, "error");
		return;
	}
	send_reply(q, reply, outcome);
}

static void
ask(struct query *q, enum query_state state, const ldns_rdf *name,
    ldns_rr_type type)
{
	q->state = state;
	q->ureq = upstream_query(q->w->upstream, name, type, q->qclass,
	    q->upflags, q->cl.name, leg_reply_cb, q);
	if (q->ureq == NULL) {
		log_warnx("%s: out of memory", q->cl.name);
		send_error(q, LDNS_RCODE_SERVFAIL, "error");
	}
}

static int
domain_listed(const struct conf_domainlist *list, const ldns_rdf *name)
{
	const struct conf_domain	*d;

	TAILQ_FOREACH(d, list, entry)
		if (dnsmsg_name_in(name, ldns_rdf_data(d->name),
		    ldns_rdf_size(d->name)))
			return (1);
	return (0);
}

static int
prefix_for_client(const struct conf_prefix *cp, const struct sockaddr *peer)
{
	return (TAILQ_EMPTY(&cp->clients) ||
	    acl_match_sa(&cp->clients, peer) == ACL_ALLOW);
}

/*
 * Does DNS64 apply to this client and these flags?  Only for class IN (RFC
 * 6147 5.1), never when the client validates itself (CD, 5.5), and only for
 * the clients that should get it (6.3.3).  ipv4only.arpa asks no more than
 * this; other names also go through the domain lists (dns64_for_query).
 */
static int
dns64_for_client(struct query *q)
{
	const struct conf		*conf = q->w->conf;
	const struct sockaddr		*peer = (struct sockaddr *)&q->cl.peer;
	const struct conf_prefix	*cp;
	int				 af;

	if (q->qclass != LDNS_RR_CLASS_IN || ldns_pkt_cd(q->req))
		return (0);
	if (conf->recursive_only && !ldns_pkt_rd(q->req))
		return (0);
	if (!TAILQ_EMPTY(&conf->dns64_clients) &&
	    acl_match_sa(&conf->dns64_clients, peer) != ACL_ALLOW)
		return (0);
	if (conf->dns64_ipv6_only) {
		(void)sa_addr(peer, &af);
		if (af != AF_INET6)
			return (0);
	}
	TAILQ_FOREACH(cp, &conf->prefixes, entry)
		if (prefix_for_client(cp, peer))
			return (1);
	return (0);
}

static int
dns64_for_query(struct query *q)
{
	return (!domain_listed(&q->w->conf->never_synth, q->qname) &&
	    dns64_for_client(q));
}

/* A signed denial: the client asked for DNSSEC and can check it. */
static int
signed_denial(ldns_pkt *pkt)
{
	ldns_rr_list	*auth = ldns_pkt_authority(pkt);
	ldns_rr_type	 t;
	size_t		 i;

	for (i = 0; i < ldns_rr_list_rr_count(auth); i++) {
		t = ldns_rr_get_type(ldns_rr_list_rr(auth, i));
		if (t == LDNS_RR_TYPE_RRSIG || t == LDNS_RR_TYPE_NSEC ||
		    t == LDNS_RR_TYPE_NSEC3)
			return (1);
	}
	return (0);
}

static void
aaaa_done(struct query *q, ldns_pkt *pkt)
{
	const struct conf	*conf = q->w->conf;
	const ldns_rdf		*target;
	int			 rcode, real;

	if (pkt == NULL) {
		/* RFC 6147 5.1.3: a timeout is a server failure. */
		if (!conf->synth_on_error) {
			send_error(q, LDNS_RCODE_SERVFAIL, "error");
			return;
		}
		q->aaaa_failed = 1;
		ask(q, Q_A, q->qname, LDNS_RR_TYPE_A);
		return;
	}
	rcode = full_rcode(pkt);
	if (rcode == LDNS_RCODE_NXDOMAIN) {		/* RFC 6147 5.1.2 */
		relay(q, pkt, "passed", 0);
		return;
	}
	if (rcode != LDNS_RCODE_NOERROR) {
		/*
		 * RFC 6147 5.1.2: any other RCODE is treated as empty, but a
		 * validation failure (RFC 8914 EDE 6-12) is never papered
		 * over with synthesized data (5.5).
		 */
		if (!conf->synth_on_error || (rcode == LDNS_RCODE_SERVFAIL &&
		    dnsmsg_has_ede(pkt, 6, 12))) {
			relay(q, pkt, "passed", 0);
			return;
		}
		q->aaaa = pkt;
		q->aaaa_failed = 1;
		ask(q, Q_A, q->qname, LDNS_RR_TYPE_A);
		return;
	}
	/* RFC 6147 5.1.5: the AAAA that count are at the chain's end. */
	target = dns64_chain_end(ldns_pkt_answer(pkt), q->qname);
	/* The domain lists apply to the name the chain leads to as well. */
	if (domain_listed(&conf->never_synth, target)) {
		relay(q, pkt, "passed", 0);
		return;
	}
	if (domain_listed(&conf->always_synth, target))
		q->always = 1;
	/* RFC 6147 5.1.4 */
	real = dns64_strip_excluded(ldns_pkt_answer(pkt), target,
	    &conf->exclude_aaaa);
	ldns_pkt_set_ancount(pkt, ldns_rr_list_rr_count(ldns_pkt_answer(pkt)));
	if (real > 0 && !q->always) {
		relay(q, pkt, "passed", 0);		/* RFC 6147 5.1.1 */
		return;
	}
	/* RFC 6147 5.5: a signed denial is the client's to check. */
	if (real == 0 && q->dnssec && signed_denial(pkt)) {
		relay(q, pkt, "passed", 0);
		return;
	}
	/* RFC 6147 5.1.4, 5.1.6: no usable AAAA, so ask for the A. */
	if ((q->target = ldns_rdf_clone(target)) == NULL) {
		ldns_pkt_free(pkt);
		send_error(q, LDNS_RCODE_SERVFAIL, "error");
		return;
	}
	q->aaaa = pkt;
	ask(q, Q_A, q->target, LDNS_RR_TYPE_A);
}

/* The prefixes this client gets, in config order. */
struct prefix_set {
	const struct conf_prefix **p;
	unsigned int		   n;
	unsigned int		   start;	/* round-robin offset */
};

/*
 * Append the synthetic AAAA for one A RR: with every prefix of the set that
 * may map this IPv4 address, or with the first of them from the round-robin
 * offset on.  Returns how many were added, -1 on failure.
 */
static int
synth_one(struct query *q, const ldns_rr *a, uint32_t ttl,
    const struct prefix_set *set, ldns_rr_list *out)
{
	const struct conf		*conf = q->w->conf;
	const struct conf_prefix	*cp;
	const uint8_t			*v4;
	ldns_rr				*aaaa;
	unsigned int			 i;
	int				 added = 0;

	if (ldns_rr_rd_count(a) != 1 || ldns_rdf_size(ldns_rr_rdf(a, 0)) != 4)
		return (0);
	v4 = ldns_rdf_data(ldns_rr_rdf(a, 0));
	if (acl_match(&conf->exclude_a, AF_INET, v4) == ACL_ALLOW)
		return (0);
	for (i = 0; i < set->n; i++) {
		cp = set->p[(set->start + i) % set->n];
		/* RFC 6147 5: separate IPv4 ranges, separate prefixes. */
		if (!TAILQ_EMPTY(&cp->destinations) &&
		    acl_match(&cp->destinations, AF_INET, v4) != ACL_ALLOW)
			continue;
		/* RFC 6052 3.1 */
		if (dns64_prefix_is_wkp(&cp->pfx) && !dns64_ipv4_is_global(v4))
			continue;
		if ((aaaa = dns64_synth_rr(a, &cp->pfx, ttl)) == NULL)
			return (-1);
		if (!ldns_rr_list_push_rr(out, aaaa)) {
			ldns_rr_free(aaaa);
			return (-1);
		}
		added++;
		if (conf->prefix_selection == PREFIX_SELECT_ROUNDROBIN)
			break;
	}
	return (added);
}

/* Append copies of the CNAME/DNAME RRs (and their RRSIGs) of from. */
static int
copy_chain(const ldns_rr_list *from, ldns_rr_list *to)
{
	ldns_rr		*rr;
	size_t		 i;

	for (i = 0; i < ldns_rr_list_rr_count(from); i++) {
		rr = ldns_rr_list_rr(from, i);
		if (!dns64_is_chain_rr(rr))
			continue;
		if ((rr = ldns_rr_clone(rr)) == NULL ||
		    !ldns_rr_list_push_rr(to, rr)) {
			ldns_rr_free(rr);
			return (-1);
		}
	}
	return (0);
}

/* Put the RRs of front before the answer section of pkt; consumes front. */
static int
prepend(ldns_pkt *pkt, ldns_rr_list *front)
{
	ldns_rr_list	*answer = ldns_pkt_answer(pkt);

	if (!ldns_rr_list_cat(front, answer)) {
		ldns_rr_list_deep_free(front);
		return (-1);
	}
	ldns_rr_list_free(answer);
	ldns_pkt_set_answer(pkt, front);
	ldns_pkt_set_ancount(pkt, ldns_rr_list_rr_count(front));
	return (0);
}

/*
 * RFC 6147 5.1.5: the reply built on the A leg starts with the CNAME chain
 * that the AAAA leg followed to get there.
 */
static int
prepend_chain(struct query *q, ldns_pkt *pkt)
{
	ldns_rr_list	*chain;

	if (q->aaaa == NULL || q->aaaa_failed)
		return (0);
	if ((chain = ldns_rr_list_new()) == NULL)
		return (-1);
	if (copy_chain(ldns_pkt_answer(q->aaaa), chain) == -1) {
		ldns_rr_list_deep_free(chain);
		return (-1);
	}
	return (prepend(pkt, chain));
}

/*
 * RFC 6147 5.1.7, 5.4: the answer is the CNAME chain, then the synthetic
 * AAAA in place of the A RRs (whose signatures go too); authority and
 * additional stay those of the A reply.  Returns the number of AAAA made,
 * 0 when no A could be mapped (apkt untouched), -1 on failure.
 */
static int
synthesize(struct query *q, ldns_pkt *apkt, const ldns_rdf *owner)
{
	ldns_rr_list			*answer, *a_answer = ldns_pkt_answer(apkt);
	ldns_rr				*rr;
	uint32_t			 ttl;
	struct prefix_set		 set;
	const struct conf_prefix	*cp;
	const struct sockaddr		*peer = (struct sockaddr *)&q->cl.peer;
	size_t				 i;
	int				 n, total = 0, rv = -1;

	memset(&set, 0, sizeof(set));
	TAILQ_FOREACH(cp, &q->w->conf->prefixes, entry)
		set.n++;
	if ((set.p = calloc(set.n + 1, sizeof(*set.p))) == NULL)
		return (-1);
	set.n = 0;
	TAILQ_FOREACH(cp, &q->w->conf->prefixes, entry)
		if (prefix_for_client(cp, peer))
			set.p[set.n++] = cp;
	/*
	 * Round-robin moves to the client's next prefix with each response;
	 * with "all" every prefix is used, in config order.
	 */
	if (q->w->conf->prefix_selection == PREFIX_SELECT_ROUNDROBIN &&
	    set.n > 0)
		set.start = q->w->rr_next++ % set.n;
	ttl = dns64_synth_ttl(a_answer, owner, q->aaaa_failed ? NULL : q->aaaa);
	if ((answer = ldns_rr_list_new()) == NULL ||
	    copy_chain(a_answer, answer) == -1)
		goto done;
	for (i = 0; i < ldns_rr_list_rr_count(a_answer); i++) {
		rr = ldns_rr_list_rr(a_answer, i);
		if (!dns64_rr_at(rr, owner, LDNS_RR_TYPE_A))
			continue;
		if ((n = synth_one(q, rr, ttl, &set, answer)) == -1)
			goto done;
		total += n;
	}
	if (total == 0) {
		rv = 0;
		goto done;
	}
	ldns_rr_list_deep_free(a_answer);
	ldns_pkt_set_answer(apkt, answer);
	ldns_pkt_set_ancount(apkt, ldns_rr_list_rr_count(answer));
	answer = NULL;
	/* RFC 6147 5.5: synthesized data is never authenticated. */
	ldns_pkt_set_ad(apkt, 0);
	ldns_pkt_set_aa(apkt, 0);
	rv = prepend_chain(q, apkt) == -1 ? -1 : total;
 done:
	ldns_rr_list_deep_free(answer);
	free(set.p);
	return (rv);
}

/*
 * Whether the A answer has an RR of the given type at the chain's end: A
 * records, or their RRSIG (of type covered A).
 */
static int
a_has(ldns_pkt *pkt, const ldns_rdf *owner, ldns_rr_type type)
{
	ldns_rr_list	*answer = ldns_pkt_answer(pkt);
	ldns_rr		*rr;
	size_t		 i;

	for (i = 0; i < ldns_rr_list_rr_count(answer); i++) {
		rr = ldns_rr_list_rr(answer, i);
		/* dns64_rr_is() counts an RRSIG by the type it covers. */
		if (ldns_rr_get_type(rr) == type &&
		    dns64_rr_is(rr, owner, LDNS_RR_TYPE_A))
			return (1);
	}
	return (0);
}

/* The AAAA leg's error, or SERVFAIL when it timed out. */
static void
aaaa_error(struct query *q)
{
	ldns_pkt	*aaaa = q->aaaa;

	if (aaaa == NULL) {
		send_error(q, LDNS_RCODE_SERVFAIL, "error");
		return;
	}
	q->aaaa = NULL;
	relay(q, aaaa, "passed", 0);
}

static void
a_done(struct query *q, ldns_pkt *pkt)
{
	const ldns_rdf	*owner = NULL;
	ldns_pkt	*aaaa;
	int		 rcode, n;

	rcode = pkt ? full_rcode(pkt) : LDNS_RCODE_SERVFAIL;
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		ldns_pkt_free(pkt);
		/* Both legs failed: the AAAA leg's error stands. */
		if (q->aaaa_failed)
			aaaa_error(q);
		else	/* RFC 6147 5.1.6: the error is the basis. */
			send_error(q, LDNS_RCODE_SERVFAIL, "error");
		return;
	}
	n = 0;
	if (rcode == LDNS_RCODE_NOERROR) {
		owner = dns64_chain_end(ldns_pkt_answer(pkt),
		    q->target ? q->target : q->qname);
		/* RFC 6147 5.5: a signed A RRset is not rewritten for a
		 * client that asked for DNSSEC. */
		if (q->dnssec && a_has(pkt, owner, LDNS_RR_TYPE_RRSIG))
			n = 0;
		else if ((n = synthesize(q, pkt, owner)) == -1) {
			ldns_pkt_free(pkt);
			send_error(q, LDNS_RCODE_SERVFAIL, "error");
			return;
		}
	}
	if (n > 0) {
		q->w->stats->synthesized++;
		relay(q, pkt, "synthesized", 1);
		return;
	}
	/*
	 * Nothing synthesized.  A records that were there but may not be
	 * mapped (non-global for the WKP, exclude-a, destinations, a signed
	 * RRset) must not reach an AAAA answer: the client gets the AAAA
	 * leg's own result, as without DNS64.  RFC 6147 5.1.6: an A leg
	 * without A records is the basis of the reply when the AAAA leg
	 * failed or when it is NXDOMAIN at the chain's end (with the chain
	 * in front of it); an empty A answer after a NODATA gives back the
	 * original NODATA.
	 */
	if (q->aaaa_failed && rcode == LDNS_RCODE_NOERROR &&
	    a_has(pkt, owner, LDNS_RR_TYPE_A)) {
		ldns_pkt_free(pkt);
		aaaa_error(q);
		return;
	}
	if (q->aaaa_failed || rcode == LDNS_RCODE_NXDOMAIN) {
		if (prepend_chain(q, pkt) == -1) {
			ldns_pkt_free(pkt);
			send_error(q, LDNS_RCODE_SERVFAIL, "error");
			return;
		}
		relay(q, pkt, "passed", 0);
		return;
	}
	ldns_pkt_free(pkt);
	aaaa = q->aaaa;
	q->aaaa = NULL;
	relay(q, aaaa, "passed", 0);
}

/* An empty reply of ours, to be filled and relayed. */
static ldns_pkt *
local_pkt(int rcode)
{
	ldns_pkt	*pkt;

	if ((pkt = ldns_pkt_new()) == NULL)
		return (NULL);
	ldns_pkt_set_qr(pkt, 1);
	ldns_pkt_set_aa(pkt, 1);
	ldns_pkt_set_ra(pkt, 1);
	ldns_pkt_set_rcode(pkt, rcode);
	return (pkt);
}

/* Append an RR given in presentation format. */
static int
push_str(ldns_pkt *pkt, ldns_pkt_section sec, const char *fmt, ...)
{
	ldns_rr		*rr = NULL;
	char		 buf[512];
	va_list		 ap;
	int		 len;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(buf) ||
	    ldns_rr_new_frm_str(&rr, buf, 0, NULL, NULL) != LDNS_STATUS_OK)
		return (-1);
	if (!ldns_pkt_push_rr(pkt, sec, rr)) {
		ldns_rr_free(rr);
		return (-1);
	}
	return (0);
}

/* An RR at the client's qname, with its case.  Consumes rdata. */
static ldns_rr *
qname_rr(struct query *q, ldns_rr_type type, uint32_t ttl, ldns_rdf *rdata)
{
	ldns_rr		*rr;
	ldns_rdf	*owner;

	if (rdata == NULL || (rr = ldns_rr_new()) == NULL) {
		ldns_rdf_deep_free(rdata);
		return (NULL);
	}
	if ((owner = ldns_rdf_clone(q->qname)) == NULL ||
	    !ldns_rr_push_rdf(rr, rdata)) {
		ldns_rdf_deep_free(owner);
		ldns_rdf_deep_free(rdata);
		ldns_rr_free(rr);
		return (NULL);
	}
	ldns_rr_set_owner(rr, owner);
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	return (rr);
}

/* Append an RR at the client's qname to the answer.  Consumes rdata. */
static int
push_at_qname(struct query *q, ldns_pkt *pkt, ldns_rr_type type, uint32_t ttl,
    ldns_rdf *rdata)
{
	ldns_rr	*rr;

	if ((rr = qname_rr(q, type, ttl, rdata)) == NULL)
		return (-1);
	if (!ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr)) {
		ldns_rr_free(rr);
		return (-1);
	}
	return (0);
}

/* Send a reply we made ourselves, or SERVFAIL if making it failed. */
static void
local_done(struct query *q, ldns_pkt *pkt, int ok, int synthesized)
{
	if (pkt == NULL || !ok) {
		ldns_pkt_free(pkt);
		log_warnx("%s: out of memory", q->cl.name);
		send_error(q, LDNS_RCODE_SERVFAIL, "error");
		return;
	}
	q->w->stats->local++;
	relay(q, pkt, "local", synthesized);
}

/* 1 if name is exactly the wire-form name, case-insensitively. */
static int
name_is(const ldns_rdf *name, const uint8_t *wire, size_t len)
{
	return (ldns_rdf_size(name) == len && dnsmsg_name_in(name, wire, len));
}

static int
ipv4only_soa(ldns_pkt *pkt, ldns_pkt_section sec)
{
	return (push_str(pkt, sec, "ipv4only.arpa. %d IN "
	    "SOA ipv4only.arpa. nobody.invalid. 0 28800 7200 604800 %d",
	    IPV4ONLY_TTL, IPV4ONLY_TTL));
}

/*
 * RFC 7050 2, RFC 8880 7.1, 7.2: ipv4only.arpa is answered here, even with
 * every forwarder down: A 192.0.0.170 and .171, the AAAA synthesized with
 * every prefix this client gets (no mapping rule applies to them), and the
 * PTRs of both addresses.  Returns 0 if the query is not about it.
 */
static int
ipv4only(struct query *q)
{
	static const uint8_t		 wka[2][4] = { { 192, 0, 0, 170 },
					    { 192, 0, 0, 171 } };
	const struct sockaddr		*peer = (struct sockaddr *)&q->cl.peer;
	const struct conf_prefix	*cp;
	ldns_pkt			*pkt;
	ldns_rdf			*rd;
	uint8_t				 in6[16];
	int				 ok = 1, i, synth = 0;

	if (q->qclass != LDNS_RR_CLASS_IN)
		return (0);
	if (q->qtype == LDNS_RR_TYPE_PTR &&
	    (name_is(q->qname, ipv4only_rev170, sizeof(ipv4only_rev170)) ||
	    name_is(q->qname, ipv4only_rev171, sizeof(ipv4only_rev171)))) {
		pkt = local_pkt(LDNS_RCODE_NOERROR);
		ok = pkt != NULL && (rd = ldns_dname_new_frm_str(
		    "ipv4only.arpa.")) != NULL && push_at_qname(q, pkt,
		    LDNS_RR_TYPE_PTR, IPV4ONLY_TTL, rd) == 0;
		local_done(q, pkt, ok, 0);
		return (1);
	}
	if (!dnsmsg_name_in(q->qname, ipv4only_name, sizeof(ipv4only_name)))
		return (0);
	/* RFC 8880 7.1: the zone holds nothing else. */
	if (!name_is(q->qname, ipv4only_name, sizeof(ipv4only_name))) {
		pkt = local_pkt(LDNS_RCODE_NXDOMAIN);
		ok = pkt != NULL &&
		    ipv4only_soa(pkt, LDNS_SECTION_AUTHORITY) == 0;
		local_done(q, pkt, ok, 0);
		return (1);
	}
	if ((pkt = local_pkt(LDNS_RCODE_NOERROR)) == NULL) {
		local_done(q, NULL, 0, 0);
		return (1);
	}
	if (q->qtype == LDNS_RR_TYPE_SOA)
		ok = ipv4only_soa(pkt, LDNS_SECTION_ANSWER) == 0;
	for (i = 0; i < 2 && ok; i++) {
		if (q->qtype == LDNS_RR_TYPE_A) {
			ok = (rd = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4,
			    wka[i])) != NULL && push_at_qname(q, pkt,
			    LDNS_RR_TYPE_A, IPV4ONLY_TTL, rd) == 0;
			continue;
		}
		if (q->qtype != LDNS_RR_TYPE_AAAA || !dns64_for_client(q))
			continue;
		/* RFC 7050 3: every prefix, so hosts can learn them all. */
		TAILQ_FOREACH(cp, &q->w->conf->prefixes, entry) {
			if (!prefix_for_client(cp, peer))
				continue;
			dns64_embed(&cp->pfx, wka[i], in6);
			ok = ok && (rd = ldns_rdf_new_frm_data(
			    LDNS_RDF_TYPE_AAAA, 16, in6)) != NULL &&
			    push_at_qname(q, pkt, LDNS_RR_TYPE_AAAA,
			    IPV4ONLY_TTL, rd) == 0;
			synth = 1;
		}
	}
	if (ok && ldns_pkt_ancount(pkt) == 0)
		ok = ipv4only_soa(pkt, LDNS_SECTION_AUTHORITY) == 0;
	local_done(q, pkt, ok, synth);
	return (1);
}

/* The SOA of a prefix's reverse zone, for our negative answers in it. */
static int
prefix_soa(struct query *q, ldns_pkt *pkt, const struct dns64_prefix *pfx)
{
	ldns_rdf	*rev, *zone = NULL;
	char		*z = NULL;
	uint32_t	 ttl = q->w->conf->reverse_ttl;
	int		 rv = -1;

	/* RFC 6052 lengths are whole nibbles: the zone is a name. */
	if ((rev = dns64_ip6arpa_name(pfx->addr)) != NULL &&
	    (zone = ldns_dname_clone_from(rev, 32 - pfx->plen / 4)) != NULL &&
	    (z = ldns_rdf2str(zone)) != NULL)
		rv = push_str(pkt, LDNS_SECTION_AUTHORITY, "%s %u IN SOA %s "
		    "nobody.invalid. 0 28800 7200 604800 %u", z, ttl, z, ttl);
	free(z);
	ldns_rdf_deep_free(zone);
	ldns_rdf_deep_free(rev);
	return (rv);
}

/*
 * RFC 6147 5.3.1, second option: a PTR query for an address inside one of
 * our prefixes gets a CNAME to the in-addr.arpa name of the IPv4 address,
 * followed by what the forwarder says about that name, so that plain stub
 * resolvers get a usable answer in one round trip.  A name inside a prefix
 * but short of 32 nibbles has no data.  Returns 0 if the name is in none.
 */
static int
ptr_start(struct query *q)
{
	const struct conf_prefix	*cp, *p;
	ldns_pkt			*pkt;
	ldns_rdf			*rev;
	uint8_t				 addr[16], v4[4];
	int				 n, ok;

	if ((n = dns64_ip6arpa_parse(q->qname, addr)) == -1)
		return (0);
	/* The longest prefix wins: shorter ones may contain longer ones. */
	cp = NULL;
	TAILQ_FOREACH(p, &q->w->conf->prefixes, entry)
		if (n * 4 >= p->pfx.plen &&
		    memcmp(addr, p->pfx.addr, p->pfx.plen / 8) == 0 &&
		    (cp == NULL || p->pfx.plen > cp->pfx.plen))
			cp = p;
	if (cp == NULL)
		return (0);		/* RFC 6147 5.3.1: resolve normally */
	if (n < 32) {
		/* NODATA, with the SOA of the prefix's reverse zone. */
		pkt = local_pkt(LDNS_RCODE_NOERROR);
		ok = pkt != NULL && prefix_soa(q, pkt, &cp->pfx) == 0;
		local_done(q, pkt, ok, 0);
		return (1);
	}
	(void)dns64_extract(&cp->pfx, addr, v4);
	if ((q->target = dns64_inaddr_name(v4)) == NULL) {
		local_done(q, NULL, 0, 0);
		return (1);
	}
	/* RFC 8880 7.2: the ipv4only.arpa addresses map back locally. */
	if (q->w->conf->ipv4only_arpa && v4[0] == 192 && v4[1] == 0 &&
	    v4[2] == 0 && (v4[3] == 170 || v4[3] == 171)) {
		pkt = local_pkt(LDNS_RCODE_NOERROR);
		ok = pkt != NULL && (rev = ldns_rdf_clone(q->target)) != NULL &&
		    push_at_qname(q, pkt, LDNS_RR_TYPE_CNAME, IPV4ONLY_TTL,
		    rev) == 0 && push_str(pkt, LDNS_SECTION_ANSWER,
		    "%u.0.0.192.in-addr.arpa. %d IN PTR ipv4only.arpa.",
		    v4[3], IPV4ONLY_TTL) == 0;
		local_done(q, pkt, ok, 1);
		return (1);
	}
	ask(q, Q_PTR, q->target, LDNS_RR_TYPE_PTR);
	return (1);
}

static void
ptr_done(struct query *q, ldns_pkt *pkt)
{
	ldns_rr_list	*answer, *front;
	ldns_rr		*rr;
	uint32_t	 ttl = q->w->conf->reverse_ttl, t;
	size_t		 i;
	int		 rcode, positive = 0;

	if (pkt == NULL) {
		send_error(q, LDNS_RCODE_SERVFAIL, "error");
		return;
	}
	rcode = full_rcode(pkt);
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		relay(q, pkt, "passed", 0);
		return;
	}
	answer = ldns_pkt_answer(pkt);
	for (i = 0; i < ldns_rr_list_rr_count(answer); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(answer, i)) ==
		    LDNS_RR_TYPE_PTR)
			positive = 1;
	/* A negative answer caps the CNAME at its negative TTL. */
	if (!positive && dns64_negative_ttl(pkt, &t) == 0 && t < ttl)
		ttl = t;
	/* The CNAME precedes the data of its target (RFC 1034 3.6.2). */
	if ((front = ldns_rr_list_new()) == NULL)
		goto fail;
	if ((rr = qname_rr(q, LDNS_RR_TYPE_CNAME, ttl,
	    ldns_rdf_clone(q->target))) == NULL ||
	    !ldns_rr_list_push_rr(front, rr)) {
		ldns_rr_free(rr);
		ldns_rr_list_free(front);
		goto fail;
	}
	if (prepend(pkt, front) == -1)
		goto fail;
	ldns_pkt_set_aa(pkt, 0);
	ldns_pkt_set_ad(pkt, 0);
	q->w->stats->ptr_mapped++;
	relay(q, pkt, "mapped", 1);
	return;
 fail:
	ldns_pkt_free(pkt);
	log_warnx("%s: out of memory", q->cl.name);
	send_error(q, LDNS_RCODE_SERVFAIL, "error");
}

static void
leg_reply_cb(struct upstream_reply *r, void *arg)
{
	struct query	*q = arg;
	char		 name[SA_STRLEN];

	q->ureq = NULL;
	if (r->server != NULL) {
		sa_str(r->server, name, sizeof(name));
		snprintf(q->upname, sizeof(q->upname), "%s%s", name,
		    r->tcp ? "/tcp" : "");
	}
	if (r->pkt != NULL)
		dump("upstream reply for", q, r->pkt);
	switch (q->state) {
	case Q_AAAA:
		aaaa_done(q, r->pkt);
		break;
	case Q_A:
		a_done(q, r->pkt);
		break;
	case Q_PTR:
		ptr_done(q, r->pkt);
		break;
	default:
		if (r->pkt != NULL)
			relay(q, r->pkt, "passed", 0);
		else
			send_error(q, LDNS_RCODE_SERVFAIL, "error");
		break;
	}
	if (q->ureq == NULL)
		query_free(q);
}

/* Answer here, or start the first upstream leg. */
static void
dispatch(struct query *q)
{
	const struct conf	*conf = q->w->conf;

	if (conf->ipv4only_arpa && ipv4only(q))
		return;
	if (dns64_for_query(q)) {
		if (q->qtype == LDNS_RR_TYPE_AAAA) {
			q->always = domain_listed(&conf->always_synth,
			    q->qname);
			ask(q, Q_AAAA, q->qname, LDNS_RR_TYPE_AAAA);
			return;
		}
		if (q->qtype == LDNS_RR_TYPE_PTR && ptr_start(q))
			return;
	}
	ask(q, Q_FORWARD, q->qname, q->qtype);
}

void
query_start(struct worker *w, const struct client *cl, const uint8_t *wire,
    size_t len)
{
	struct query		*q;
	const ldns_rr		*question;
	enum dnsmsg_verdict	 verdict;
	int			 rcode;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		w->stats->dropped++;
		return;
	}
	q->w = w;
	TAILQ_INSERT_TAIL(&w->queries, q, entry);
	q->cl = *cl;
	q->cl.query = q;
	q->outcome = "dropped";
	listener_attach(&q->cl);
	verdict = dnsmsg_parse_query(wire, len, &q->req, &rcode);
	/* The query ACL comes first; a refused client learns nothing more. */
	if (verdict != DNSMSG_DROP && acl_match_sa(&w->conf->query_acl,
	    (struct sockaddr *)&cl->peer) != ACL_ALLOW) {
		if (q->req == NULL)
			verdict = DNSMSG_DROP;
		else {
			verdict = DNSMSG_ERROR;
			rcode = LDNS_RCODE_REFUSED;
		}
	}
	if (verdict == DNSMSG_DROP) {
		w->stats->dropped++;
		query_free(q);
		return;
	}
	memcpy(q->hdr, wire, sizeof(q->hdr));
	if (q->req != NULL &&
	    ldns_rr_list_rr_count(ldns_pkt_question(q->req)) > 0) {
		dump("query from", q, q->req);
		question = ldns_rr_list_rr(ldns_pkt_question(q->req), 0);
		q->qname = ldns_rr_owner(question);
		q->qtype = ldns_rr_get_type(question);
		q->qclass = ldns_rr_get_class(question);
	}
	if (verdict == DNSMSG_ERROR) {
		send_error(q, rcode, "error");
		query_free(q);
		return;
	}
	q->upflags = (ldns_pkt_rd(q->req) ? UPSTREAM_RD : 0) |
	    (ldns_pkt_cd(q->req) ? UPSTREAM_CD : 0) |
	    (ldns_pkt_edns_do(q->req) ? UPSTREAM_DO : 0);
	q->dnssec = ldns_pkt_edns_do(q->req) && !w->conf->break_dnssec;
	dispatch(q);
	if (q->ureq == NULL)
		query_free(q);
}

static void
log_query(struct query *q)
{
	ldns_lookup_table	*lt;
	char			*name = NULL, *type = NULL, rc[16];

	if (q->qname != NULL) {
		name = ldns_rdf2str(q->qname);
		type = ldns_rr_type2str(q->qtype);
	}
	/* The IANA names; ldns says NOTIMPL. */
	if (q->rcode == DNSMSG_RCODE_BADVERS)
		strcpy(rc, "BADVERS");
	else if (q->rcode == LDNS_RCODE_NOTIMPL)
		strcpy(rc, "NOTIMP");
	else if ((lt = ldns_lookup_by_id(ldns_rcodes, q->rcode)) != NULL)
		snprintf(rc, sizeof(rc), "%s", lt->name);
	else
		snprintf(rc, sizeof(rc), "RCODE%d", q->rcode);
	log_debug("%s %s %s %s%s%s%s%s", q->cl.name, name ? name : "-",
	    type ? type : "-", q->outcome,
	    strcmp(q->outcome, "dropped") == 0 ? "" : " ",
	    strcmp(q->outcome, "dropped") == 0 ? "" : rc,
	    q->upname[0] ? " upstream " : "", q->upname);
	free(name);
	free(type);
}

void
query_free(struct query *q)
{
	if (log_getverbose() >= 1)
		log_query(q);
	upstream_cancel(q->ureq);
	listener_detach(&q->cl);
	TAILQ_REMOVE(&q->w->queries, q, entry);
	ldns_pkt_free(q->req);
	ldns_pkt_free(q->aaaa);
	ldns_rdf_deep_free(q->target);
	free(q);
}

void
query_free_all(struct worker *w)
{
	struct query	*q;

	while ((q = TAILQ_FIRST(&w->queries)) != NULL)
		query_free(q);
}
