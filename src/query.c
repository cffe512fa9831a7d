/*
 * query.c -- the life of one client query.
 *
 *   query_handle()   a message from the listener.  A plain query whose
 *                    reply is in the reply cache is answered at once, on
 *                    the wire (wire.c); anything else becomes a query.
 *   query_start()    parse and check (dnsmsg), query ACL, then the plan
 *                    (policy_plan):
 *     PLAN_LOCAL        answered here: ipv4only.arpa, reverse zones
 *     PLAN_DNS64        the AAAA leg, and with dns64-parallel the A leg
 *                       with it (RFC 6147 5.1.8)
 *     PLAN_REVERSE_MAP  the in-addr.arpa leg, answered behind a CNAME
 *     PLAN_FORWARD      one leg, relayed
 *   step()           runs after every leg that completes and does what
 *                    the verdicts (policy_aaaa, policy_a) say: relay,
 *                    start the A leg, synthesize (synth.c), or fail.
 *   query_free()     the only exit, from every path.
 *
 * A leg is one question put to the forwarders (upstream.c), answered from
 * the cache when it can be.  All state of a query lives in struct query.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "dns64proxy.h"
#include "acl.h"
#include "cache.h"
#include "conf.h"
#include "dns64.h"
#include "dnsmsg.h"
#include "fwd.h"
#include "listener.h"
#include "local.h"
#include "log.h"
#include "mono.h"
#include "policy.h"
#include "query.h"
#include "sa.h"
#include "stats.h"
#include "synth.h"
#include "upstream.h"
#include "wire.h"

#define FAST_BUFSIZE	4096		/* replies served by the lean path */
/*
 * dns64-parallel auto: the A query leaves when the AAAA answer has not
 * come within this time.  A forwarder that answers from its cache (on the
 * same host or LAN) is faster, so names with AAAA records cost one
 * upstream query, not two; one that must recurse, or is far away, gets
 * the A query a moment after the AAAA query, and a name without AAAA
 * still costs about one round trip.
 */
#define HEDGE_US	1000

enum leg_state {
	LEG_IDLE,
	LEG_PENDING,
	LEG_DONE
};

struct query;

/* One question to the forwarders and what came of it. */
struct leg {
	struct query		*q;
	enum leg_state		 state;
	struct upstream_wait	*wait;
	ldns_pkt		*pkt;		/* NULL when it failed */
	enum upstream_status	 status;
	const ldns_rdf		*name;
	uint16_t		 type;
	int			 stale;
	char			 server[SA_STRLEN + 4];
};

/* What query_handle() learnt of a plain query, for the reply cache. */
struct plain {
	struct wire_query	 wq;
	uint32_t		 mask;
	unsigned int		 rr_start;
	uint64_t		 view;
};

struct query {
	struct worker		*w;
	struct conf		*conf;		/* a reference */
	struct client		 cl;
	TAILQ_ENTRY(query)	 entry;		/* worker's queries */
	uint8_t			 hdr[LDNS_HEADER_SIZE];
	ldns_pkt		*req;
	struct policy_query	 pq;
	unsigned int		 upflags;
	uint32_t		 mask;		/* the client's prefixes */
	unsigned int		 rr_start;
	enum policy_plan	 plan;
	struct policy_reverse	 rev;
	ldns_rdf		*target;	/* in-addr.arpa name to ask */
	struct leg		 main;		/* AAAA leg with DNS64 */
	struct leg		 a;
	int			 decided;	/* policy_aaaa() has spoken */
	enum policy_aaaa	 av;
	const ldns_rdf		*aaaa_target;
	int			 aaaa_failed;
	int			 a_for_target;	/* the A leg follows the chain */
	TAILQ_ENTRY(query)	 hedge_entry;	/* worker's hedged */
	uint64_t		 hedge_at;	/* us; 0: not waiting */
	uint64_t		 start_us;
	int			 keyed;		/* a plain query: view is set */
	int			 synthesized;	/* EDE 29 for EDNS clients */
	uint64_t		 view;
	int			 cacheable;
	enum outcome		 outcome;
	int			 rcode;
	char			 upname[SA_STRLEN + 4];
	char			*note;		/* why, for -v (and an EDE) */
	/*
	 * While a query waits for the forwarders its parsed request is
	 * dropped, and parsed again from wire when it goes on: 50,000
	 * queries in flight must fit in a few tens of MiB.
	 */
	uint8_t			*wire;
	size_t			 wirelen;
	ldns_rdf		*qname;		/* the client's, with its case */
};

static void	 step(struct query *);

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

static int
family(const struct client *cl)
{
	int	 af;

	(void)sa_addr((const struct sockaddr *)&cl->peer, &af);
	return (af == AF_INET6);
}

static void
count_query(struct worker *w, const struct client *cl, uint16_t qtype)
{
	STATS_INC(w->stats.queries[cl->tcp][family(cl)][stats_qtype(qtype)]);
}

static void
count_reply(struct worker *w, enum outcome o, int rcode, uint64_t start_us)
{
	STATS_INC(w->stats.outcome[o]);
	if (o == OUTCOME_DROPPED)
		return;
	/* 0-15 and BADVERS (16): the only ones we send. */
	STATS_INC(w->stats.rcode[rcode >= 0 && rcode < STATS_RCODE_MAX ?
	    rcode : STATS_RCODE_MAX - 1]);
	stats_observe(&w->stats.latency, mono_us() - start_us);
}

/* The IANA name of an RCODE; ldns says NOTIMPL. */
static void
rcode_name(int rcode, char *buf, size_t len)
{
	ldns_lookup_table	*lt;

	if (rcode == DNSMSG_RCODE_BADVERS)
		snprintf(buf, len, "BADVERS");
	else if (rcode == LDNS_RCODE_NOTIMPL)
		snprintf(buf, len, "NOTIMP");
	else if ((lt = ldns_lookup_by_id(ldns_rcodes, rcode)) != NULL)
		snprintf(buf, len, "%s", lt->name);
	else
		snprintf(buf, len, "RCODE%d", rcode);
}

/* The -v line: client, name, type, outcome, RCODE, upstream, note. */
static void
log_line(const char *client, const ldns_rdf *qname, uint16_t qtype,
    enum outcome o, int rcode, const char *upname, const char *note)
{
	char	*name = NULL, *type = NULL, rc[16];

	if (qname != NULL) {
		name = ldns_rdf2str(qname);
		type = ldns_rr_type2str(qtype);
	}
	rcode_name(rcode, rc, sizeof(rc));
	log_debug("%s %s %s %s%s%s%s%s%s%s%s", client, name ? name : "-",
	    type ? type : "-", stats_outcome_name(o),
	    o == OUTCOME_DROPPED ? "" : " ", o == OUTCOME_DROPPED ? "" : rc,
	    upname[0] ? " upstream " : "", upname, note ? " (" : "",
	    note ? note : "", note ? ")" : "");
	free(name);
	free(type);
}

/* A cache key for replies: the flags, the client's view, the question. */
static void
reply_key(struct cache_key *key, const struct wire_query *wq,
    const uint8_t *name, size_t namelen, uint64_t view)
{
	key->kind = CACHE_KIND_REPLY;
	key->flags = (wq->rd ? UPSTREAM_RD : 0) | (wq->cd ? UPSTREAM_CD : 0) |
	    (wq->dobit ? UPSTREAM_DO : 0);
	key->qtype = wq->qtype;
	key->qclass = wq->qclass;
	key->view = view;
	key->name = name;
	key->namelen = namelen;
}

/*
 * The reply a client gets depends on its query and, through the prefixes
 * it gets (and the round-robin turn), on who it is: the view is part of
 * the key, with the configuration's generation, so that a reload never
 * serves a reply built under another policy.
 */
static uint64_t
make_view(const struct conf *conf, uint32_t mask, unsigned int rr_start)
{
	return ((uint64_t)conf->generation << 40 |
	    (uint64_t)(rr_start & 0xff) << 32 | mask);
}

/* The round-robin turn of this query: only synthesis uses it. */
static unsigned int
rr_turn(struct worker *w, const struct conf *conf, uint32_t mask,
    uint16_t qtype)
{
	int	 n = __builtin_popcount(mask);

	if (conf->prefix_selection != PREFIX_SELECT_ROUNDROBIN || n < 2 ||
	    qtype != LDNS_RR_TYPE_AAAA)
		return (0);
	/* Shared by the workers, so that the turns go round. */
	return (atomic_fetch_add_explicit(&w->srv->rr_next, 1,
	    memory_order_relaxed) % n);
}

static size_t
udp_limit(const struct wire_query *wq, uint16_t ours)
{
	size_t	 theirs;

	if (!wq->edns)
		return (DNS_UDP_MIN);
	theirs = wq->udpsize < DNS_UDP_MIN ? DNS_UDP_MIN : wq->udpsize;
	return (theirs < ours ? theirs : ours);
}

/*
 * The lean path: 1 if the query was answered from the reply cache.  Fills
 * *pl for the full path when it is a plain query that missed.
 */
static int
fast(struct worker *w, struct client *cl, const uint8_t *wire, size_t len,
    struct plain *pl, int *plain)
{
	const struct conf	*conf = w->conf;
	struct policy_query	 pq;
	struct cache_key	 key;
	struct cache_meta	 meta;
	uint8_t			 val[FAST_BUFSIZE], out[FAST_BUFSIZE], outcome;
	uint64_t		 now, start = 0;
	ssize_t			 n, olen;
	size_t			 max;
	int			 rcode;

	*plain = 0;
	if (w->srv->cache == NULL || wire_query_parse(wire, len, &pl->wq) == -1)
		return (0);
	if (acl_match_sa(&conf->query_acl, (struct sockaddr *)&cl->peer) !=
	    ACL_ALLOW)
		return (0);
	if (log_getverbose() >= 1)
		start = mono_us();
	memset(&pq, 0, sizeof(pq));
	pq.peer = (struct sockaddr *)&cl->peer;
	pq.qtype = pl->wq.qtype;
	pq.qclass = pl->wq.qclass;
	pq.rd = pl->wq.rd;
	pq.cd = pl->wq.cd;
	pl->mask = policy_prefixes(conf, &pq);
	pl->rr_start = rr_turn(w, conf, pl->mask, pl->wq.qtype);
	pl->view = make_view(conf, pl->mask, pl->rr_start);
	*plain = 1;
	reply_key(&key, &pl->wq, pl->wq.qname, pl->wq.qnamelen, pl->view);
	now = mono_ms();
	if ((n = cache_get(w->srv->cache, &key, now, 0, val, sizeof(val),
	    &meta)) <= 0)
		return (0);
	max = cl->tcp ? DNS_MSG_MAX : udp_limit(&pl->wq,
	    conf->edns_buffer_size);
	if ((olen = wire_entry_reply(val, n, &pl->wq,
	    (uint32_t)((now - meta.stored) / 1000), conf->edns_buffer_size,
	    max, out, sizeof(out), &outcome, &rcode)) == -1)
		return (0);
	listener_send(cl, out, olen);
	count_query(w, cl, pl->wq.qtype);
	STATS_INC(w->stats.cache_reply_hits);
	if (start == 0)
		start = mono_us();
	count_reply(w, outcome, rcode, start);
	if (log_getverbose() >= 1) {
		ldns_rdf	*qname;

		listener_client_name(cl);
		qname = ldns_dname_new_frm_data(pl->wq.qnamelen,
		    pl->wq.qname);
		log_line(cl->name, qname, pl->wq.qtype, outcome, rcode,
		    "cache", NULL);
		ldns_rdf_deep_free(qname);
	}
	return (1);
}

/* Store the reply the full path sent, for the lean path. */
static void
cache_reply(struct query *q, const uint8_t *wire, size_t len,
    uint32_t negttl)
{
	struct cache_key	 key;
	struct wire_query	 wq;
	uint8_t			 buf[FAST_BUFSIZE];
	uint32_t		 ttl, cap;
	ssize_t			 n;

	if (!q->keyed || !q->cacheable || q->w->srv->cache == NULL ||
	    (q->rcode != LDNS_RCODE_NOERROR &&
	    q->rcode != LDNS_RCODE_NXDOMAIN))
		return;
	cap = q->rcode == LDNS_RCODE_NXDOMAIN || LDNS_ANCOUNT(wire) == 0 ?
	    q->conf->cache_max_neg_ttl : q->conf->cache_max_ttl;
	/* RFC 2308 5: a negative answer lives min(SOA TTL, MINIMUM). */
	if (negttl < cap)
		cap = negttl;
	if ((n = wire_entry_make(wire, len, cap, q->outcome, q->synthesized ?
	    WIRE_ENTRY_SYNTH : 0, buf, sizeof(buf), &ttl)) == -1 || ttl == 0)
		return;
	memset(&wq, 0, sizeof(wq));
	wq.rd = ldns_pkt_rd(q->req);
	wq.cd = ldns_pkt_cd(q->req);
	wq.dobit = ldns_pkt_edns_do(q->req);
	wq.qtype = q->pq.qtype;
	wq.qclass = q->pq.qclass;
	reply_key(&key, &wq, ldns_rdf_data(q->pq.qname),
	    ldns_rdf_size(q->pq.qname), q->view);
	(void)cache_put(q->w->srv->cache, &key, mono_ms(), ttl, 0, buf, n);
}

/*
 * Render within the client's limits and send; consumes reply.  The reply
 * is rendered whole first: what fits goes to the reply cache too; what
 * does not is rendered again, trimmed for this client.
 */
static void
send_reply(struct query *q, ldns_pkt *reply, enum outcome outcome)
{
	ldns_buffer	*buf = q->w->render;
	size_t		 max;
	ldns_status	 st;
	uint32_t	 negttl = UINT32_MAX;
	int		 trimmed = 0;

	max = q->cl.tcp ? DNS_MSG_MAX : (q->req ? dnsmsg_udp_limit(q->req,
	    q->conf->edns_buffer_size) : DNS_UDP_MIN);
	if ((st = dnsmsg_render_buf(reply, DNS_MSG_MAX, buf)) ==
	    LDNS_STATUS_OK && ldns_buffer_position(buf) > max) {
		trimmed = 1;
		st = dnsmsg_render_buf(reply, max, buf);
	}
	if (st != LDNS_STATUS_OK) {
		log_warnx("%s: reply not rendered: %s", q->cl.name,
		    ldns_get_errorstr_by_id(st));
		ldns_pkt_free(reply);
		q->outcome = OUTCOME_DROPPED;
		return;
	}
	if (ldns_pkt_tc(reply))
		STATS_INC(q->w->stats.truncated);
	q->outcome = outcome;
	q->rcode = policy_rcode(reply);
	if (q->rcode == LDNS_RCODE_NXDOMAIN || ldns_pkt_ancount(reply) == 0)
		(void)dns64_negative_ttl(reply, &negttl);
	dump("reply to", q, reply);
	listener_send(&q->cl, ldns_buffer_begin(buf),
	    ldns_buffer_position(buf));
	if (!trimmed)
		cache_reply(q, ldns_buffer_begin(buf),
		    ldns_buffer_position(buf), negttl);
	ldns_pkt_free(reply);
}

static void
send_error(struct query *q, int rcode, enum outcome outcome,
    uint16_t ede, const char *text)
{
	ldns_pkt	*reply;

	if ((reply = dnsmsg_error(q->hdr, q->req, rcode,
	    q->conf->edns_buffer_size)) == NULL || (text != NULL &&
	    q->req != NULL && ldns_pkt_edns(q->req) &&
	    dnsmsg_add_ede(reply, ede, text) == -1)) {
		ldns_pkt_free(reply);
		log_warnx("%s: out of memory", q->cl.name);
		q->outcome = OUTCOME_DROPPED;
		return;
	}
	q->cacheable = 0;
	send_reply(q, reply, outcome);
}

/*
 * Relay an upstream reply, or one we built; consumes pkt.  Synthesized
 * data is marked with EDE 29 when the client speaks EDNS (RFC 8914 4.30);
 * an EDE with ede_text (code ede) says more.  Stale data gets EDE 3 (RFC
 * 8767 4).
 */
static void
relay(struct query *q, ldns_pkt *pkt, enum outcome outcome, int synthesized,
    uint16_t ede, const char *ede_text, int stale)
{
	ldns_pkt	*reply;
	int		 edns = ldns_pkt_edns(q->req);

	/* Upstream EDE texts are per answer: not for the reply cache. */
	if (stale || ede_text != NULL || dnsmsg_has_ede(pkt, 0, 0xffff))
		q->cacheable = 0;
	q->synthesized = synthesized;
	if ((reply = dnsmsg_reply(pkt, q->req,
	    q->conf->edns_buffer_size)) == NULL ||
	    (edns && synthesized && dnsmsg_add_ede(reply,
	    DNSMSG_EDE_SYNTHESIZED, NULL) == -1) ||
	    (edns && stale && dnsmsg_add_ede(reply, DNSMSG_EDE_STALE,
	    NULL) == -1) ||
	    (edns && ede_text != NULL && dnsmsg_add_ede(reply, ede,
	    ede_text) == -1)) {
		ldns_pkt_free(reply);
		log_warnx("%s: out of memory", q->cl.name);
		send_error(q, LDNS_RCODE_SERVFAIL, OUTCOME_ERROR, 0, NULL);
		return;
	}
	send_reply(q, reply, outcome);
}

/*
 * Our own SERVFAIL after a leg failed says why (RFC 8914): 22 No
 * Reachable Authority after timeouts, 23 Network Error after transport
 * errors or broken replies, naming the forwarder.
 */
static void
leg_failed(struct query *q, const struct leg *leg)
{
	char	 text[SA_STRLEN + 48];
	uint16_t ede = DNSMSG_EDE_NETWORK_ERROR;

	switch (leg->status) {
	case UPSTREAM_TIMEOUT:
		ede = DNSMSG_EDE_NO_REACHABLE_AUTHORITY;
		snprintf(text, sizeof(text), "forwarder %s timed out",
		    leg->server[0] ? leg->server : "-");
		break;
	case UPSTREAM_NETERR:
		snprintf(text, sizeof(text), "forwarder %s unreachable",
		    leg->server[0] ? leg->server : "-");
		break;
	case UPSTREAM_BROKEN:
		snprintf(text, sizeof(text), "forwarder %s sent broken "
		    "replies", leg->server[0] ? leg->server : "-");
		break;
	default:
		send_error(q, LDNS_RCODE_SERVFAIL, OUTCOME_ERROR, 0, NULL);
		return;
	}
	send_error(q, LDNS_RCODE_SERVFAIL, OUTCOME_ERROR, ede, text);
}

/* Hand over a leg's answer: it belongs to the reply from now on. */
static ldns_pkt *
leg_take(struct leg *leg)
{
	ldns_pkt	*pkt = leg->pkt;

	leg->pkt = NULL;
	return (pkt);
}

static void
leg_set(struct leg *leg, struct upstream_result *res)
{
	struct query	*q = leg->q;

	leg->wait = NULL;
	leg->state = LEG_DONE;
	leg->pkt = res->pkt;
	leg->status = res->status;
	leg->stale = res->stale;
	snprintf(leg->server, sizeof(leg->server), "%s", res->server);
	if (res->server[0] != '\0')
		snprintf(q->upname, sizeof(q->upname), "%s", res->server);
	if (leg->pkt != NULL)
		dump("upstream reply for", q, leg->pkt);
}

static void
leg_cb(struct upstream_result *res, void *arg)
{
	struct leg	*leg = arg;

	leg_set(leg, res);
	step(leg->q);
}

/*
 * Make sure the leg runs: 1 when its answer is there (possibly from the
 * cache, just now), 0 while it is in flight.
 */
static int
leg_run(struct query *q, struct leg *leg, const ldns_rdf *name, uint16_t type)
{
	struct upstream_result	 res;

	if (leg->state == LEG_DONE)
		return (1);
	if (leg->state == LEG_PENDING)
		return (0);
	leg->q = q;
	leg->name = name;
	leg->type = type;
	if (upstream_cached(q->w->upstream, name, type, q->pq.qclass,
	    q->upflags, &res)) {
		leg_set(leg, &res);
		return (1);
	}
	if ((leg->wait = upstream_fetch(q->w->upstream, name, type,
	    q->pq.qclass, q->upflags, q->cl.name, leg_cb, leg)) == NULL) {
		log_warnx("%s: out of memory", q->cl.name);
		leg->state = LEG_DONE;
		leg->status = UPSTREAM_LOCALERR;
		return (1);
	}
	leg->state = LEG_PENDING;
	return (0);
}

static void
leg_cancel(struct leg *leg)
{
	if (leg->state == LEG_PENDING)
		upstream_cancel(leg->wait);
	leg->wait = NULL;
	ldns_pkt_free(leg->pkt);
	leg->pkt = NULL;
}

static void
local_done(struct query *q)
{
	ldns_pkt	*pkt;
	int		 synth;

	if ((pkt = local_answer(q->conf, &q->pq, q->mask, &q->rev,
	    &synth)) == NULL) {
		log_warnx("%s: out of memory", q->cl.name);
		send_error(q, LDNS_RCODE_SERVFAIL, OUTCOME_ERROR, 0, NULL);
		return;
	}
	relay(q, pkt, OUTCOME_LOCAL, synth, 0, NULL, 0);
}

static void
forward_done(struct query *q)
{
	struct leg	*leg = &q->main;

	if (leg->pkt == NULL) {
		leg_failed(q, leg);
		return;
	}
	relay(q, leg_take(leg), OUTCOME_PASSED, 0, 0, NULL, leg->stale);
}

/*
 * RFC 6147 5.3.1, second option: a PTR query for an address inside one of
 * our prefixes gets a CNAME to the in-addr.arpa name of the IPv4 address,
 * followed by what the forwarder says about that name, so that plain stub
 * resolvers get a usable answer in one round trip.
 */
static void
reverse_done(struct query *q)
{
	struct leg	*leg = &q->main;
	ldns_pkt	*pkt;
	int		 rcode;

	if (leg->pkt == NULL) {
		leg_failed(q, leg);
		return;
	}
	rcode = policy_rcode(leg->pkt);
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		relay(q, leg_take(leg), OUTCOME_PASSED, 0, 0, NULL,
		    leg->stale);
		return;
	}
	pkt = leg_take(leg);
	if (synth_ptr_cname(pkt, q->pq.qname, q->target,
	    q->conf->reverse_ttl) == -1) {
		ldns_pkt_free(pkt);
		log_warnx("%s: out of memory", q->cl.name);
		send_error(q, LDNS_RCODE_SERVFAIL, OUTCOME_ERROR, 0, NULL);
		return;
	}
	relay(q, pkt, OUTCOME_MAPPED, 1, 0, NULL, leg->stale);
}

/* The original AAAA answer, without its excluded AAAA. */
static ldns_pkt *
aaaa_stripped(struct query *q)
{
	ldns_pkt	*pkt = leg_take(&q->main);
	int		 n;

	n = ldns_rr_list_rr_count(ldns_pkt_answer(pkt));
	(void)dns64_strip_excluded(ldns_pkt_answer(pkt), q->aaaa_target,
	    &q->conf->exclude_aaaa);
	ldns_pkt_set_ancount(pkt, ldns_rr_list_rr_count(ldns_pkt_answer(pkt)));
	STATS_ADD(q->w->stats.aaaa_excluded,
	    n - (int)ldns_pkt_ancount(pkt));
	return (pkt);
}

/* The AAAA leg's error stands, or SERVFAIL when it failed outright. */
static void
aaaa_error(struct query *q)
{
	if (q->main.pkt == NULL) {
		leg_failed(q, &q->main);
		return;
	}
	relay(q, leg_take(&q->main), OUTCOME_PASSED, 0, 0, NULL,
	    q->main.stale);
}

/* Why, for the -v line; nothing is lost but the note when memory is. */
static void
set_note(struct query *q, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	free(q->note);
	q->note = s;
}

static void
explain(struct query *q, const struct synth_result *res)
{
	set_note(q, "%u.%u.%u.%u not mapped: %s", res->v4[0], res->v4[1],
	    res->v4[2], res->v4[3], synth_why_text(res->why));
	STATS_INC(q->w->stats.a_unmapped);
}

static void
a_done(struct query *q)
{
	struct synth_result	 res;
	const ldns_rdf		*owner;
	ldns_pkt		*pkt, *aaaa;
	enum policy_a		 av;
	const char		*text = NULL;

	av = policy_a(q->a.pkt, q->aaaa_failed, q->a.name, &owner);
	if (av == A_SYNTHESIZE) {
		if (synth_aaaa(q->conf, q->mask, q->rr_start, q->pq.dnssec,
		    q->a.pkt, owner, q->aaaa_failed ? NULL : q->main.pkt,
		    &res) == -1)
			goto oom;
		if (res.made > 0) {
			pkt = leg_take(&q->a);
			/* RFC 6147 5.1.5: the chain that led to the A. */
			if (q->a_for_target &&
			    synth_prepend_chain(pkt, q->main.pkt) == -1) {
				ldns_pkt_free(pkt);
				goto oom;
			}
			STATS_ADD(q->w->stats.synthesized_rrs, res.made);
			relay(q, pkt, OUTCOME_SYNTHESIZED, 1, 0, NULL,
			    q->a.stale);
			return;
		}
		/* Say why: the first trap of every NAT64 lab. */
		explain(q, &res);
		text = q->note;
		av = policy_unmapped(q->aaaa_failed);
	}
	switch (av) {
	case A_RELAY_A:
		pkt = leg_take(&q->a);
		if (q->a_for_target &&
		    synth_prepend_chain(pkt, q->main.pkt) == -1) {
			ldns_pkt_free(pkt);
			goto oom;
		}
		relay(q, pkt, OUTCOME_PASSED, 0, 0, NULL, q->a.stale);
		break;
	case A_RELAY_AAAA:
		/*
		 * RFC 2308 2.2: the NODATA carries a SOA, the A answer's
		 * when the AAAA answer had none (all its AAAA excluded).
		 */
		aaaa = aaaa_stripped(q);
		if (synth_nodata_soa(aaaa, q->a.pkt) == -1) {
			ldns_pkt_free(aaaa);
			goto oom;
		}
		relay(q, aaaa, OUTCOME_PASSED, 0, 0, text, q->main.stale);
		break;
	case A_AAAA_ERROR:
		if (text != NULL && q->main.pkt != NULL) {
			relay(q, leg_take(&q->main), OUTCOME_PASSED, 0, 0,
			    text, q->main.stale);
			break;
		}
		aaaa_error(q);
		break;
	default:
		if (q->a.pkt == NULL)
			leg_failed(q, &q->a);
		else	/* RFC 6147 5.1.6: the error is the basis. */
			send_error(q, LDNS_RCODE_SERVFAIL, OUTCOME_ERROR, 0,
			    NULL);
		break;
	}
	return;
 oom:
	log_warnx("%s: out of memory", q->cl.name);
	send_error(q, LDNS_RCODE_SERVFAIL, OUTCOME_ERROR, 0, NULL);
}

static void
hedge_cancel(struct query *q)
{
	if (q->hedge_at == 0)
		return;
	TAILQ_REMOVE(&q->w->hedged, q, hedge_entry);
	q->hedge_at = 0;
}

static int
hedge_arm_timer(struct worker *w, uint64_t at, uint64_t now)
{
	struct timeval	 tv;
	uint64_t	 us = at > now ? at - now : 0;

	tv.tv_sec = us / 1000000;
	tv.tv_usec = us % 1000000;
	return (evtimer_add(w->ev_hedge, &tv));
}

/* The A queries whose wait for the AAAA answer is over leave now. */
static void
hedge_cb(evutil_socket_t fd, short events, void *arg)
{
	struct worker	*w = arg;
	struct query	*q;
	uint64_t	 now = mono_us();

	(void)fd;
	(void)events;
	while ((q = TAILQ_FIRST(&w->hedged)) != NULL && q->hedge_at <= now) {
		hedge_cancel(q);
		if (q->main.state == LEG_PENDING && q->a.state == LEG_IDLE)
			(void)leg_run(q, &q->a, q->pq.qname, LDNS_RR_TYPE_A);
	}
	if (q != NULL && hedge_arm_timer(w, q->hedge_at, now) == -1)
		log_warnx("%s: evtimer_add failed", __func__);
}

/*
 * RFC 6147 5.1.8: the A query leaves with the AAAA query, so that a name
 * without AAAA costs one round trip; the decision still waits for the
 * AAAA answer.  With "auto" it waits HEDGE_US for that answer first, as
 * long as an answer can come back that soon: when even the nearest
 * forwarder is farther away, waiting saves no A query and costs HEDGE_US.
 * All waits have the same length, so the worker's list is in the order
 * they end.
 */
static void
start_parallel_a(struct query *q)
{
	struct worker	*w = q->w;
	uint64_t	 now;
	unsigned int	 near;

	if (q->a.state != LEG_IDLE || q->hedge_at != 0)
		return;
	switch (q->conf->dns64_parallel) {
	case DNS64_PARALLEL_NO:
		return;
	case DNS64_PARALLEL_YES:
		(void)leg_run(q, &q->a, q->pq.qname, LDNS_RR_TYPE_A);
		return;
	case DNS64_PARALLEL_AUTO:
		near = fwd_nearest_ms(w->srv->fwd, mono_ms());
		if (near != UINT_MAX && near * 1000ULL >= HEDGE_US) {
			(void)leg_run(q, &q->a, q->pq.qname, LDNS_RR_TYPE_A);
			return;
		}
		break;
	}
	now = mono_us();
	q->hedge_at = now + HEDGE_US;
	if (TAILQ_EMPTY(&w->hedged) &&
	    hedge_arm_timer(w, q->hedge_at, now) == -1) {
		/* No timer: better now than never. */
		q->hedge_at = 0;
		(void)leg_run(q, &q->a, q->pq.qname, LDNS_RR_TYPE_A);
		return;
	}
	TAILQ_INSERT_TAIL(&w->hedged, q, hedge_entry);
}

int
query_init(struct worker *w)
{
	TAILQ_INIT(&w->hedged);
	if ((w->ev_hedge = evtimer_new(w->base, hedge_cb, w)) == NULL)
		return (-1);
	return (0);
}

void
query_fini(struct worker *w)
{
	if (w->ev_hedge != NULL)
		event_free(w->ev_hedge);
	w->ev_hedge = NULL;
}

static void
dns64_step(struct query *q)
{
	const ldns_rdf	*aname;

	if (!leg_run(q, &q->main, q->pq.qname, LDNS_RR_TYPE_AAAA)) {
		start_parallel_a(q);
		return;
	}
	hedge_cancel(q);
	if (!q->decided) {
		q->av = policy_aaaa(q->conf, &q->pq, q->main.pkt,
		    &q->aaaa_target, &q->aaaa_failed);
		q->decided = 1;
	}
	switch (q->av) {
	case AAAA_RELAY:
		relay(q, leg_take(&q->main), OUTCOME_PASSED, 0, 0, NULL,
		    q->main.stale);
		return;
	case AAAA_RELAY_STRIPPED:
		relay(q, aaaa_stripped(q), OUTCOME_PASSED, 0, 0, NULL,
		    q->main.stale);
		return;
	case AAAA_SERVFAIL:
		leg_failed(q, &q->main);
		return;
	case AAAA_NEED_A:
		break;
	}
	if (q->a.state == LEG_IDLE) {
		/* RFC 6147 5.1.5: ask for the A at the chain's end. */
		aname = q->aaaa_failed ? q->pq.qname : q->aaaa_target;
		q->a_for_target = !q->aaaa_failed &&
		    ldns_dname_compare(aname, q->pq.qname) != 0;
	} else
		aname = q->a.name;
	if (!leg_run(q, &q->a, aname, LDNS_RR_TYPE_A))
		return;
	/*
	 * The A query that left with the AAAA query asked for the query
	 * name.  Behind a CNAME chain its answer must lead where the AAAA
	 * answer's did; a forwarder that does not follow chains for A (or
	 * chains that changed in between) gets the sequential query for the
	 * chain's end, so that both modes answer alike.
	 */
	if (!q->aaaa_failed && !q->a_for_target &&
	    ldns_dname_compare(q->aaaa_target, q->pq.qname) != 0 &&
	    !policy_a_reaches(q->a.pkt, q->pq.qname, q->aaaa_target)) {
		leg_cancel(&q->a);
		memset(&q->a, 0, sizeof(q->a));
		q->a_for_target = 1;
		if (!leg_run(q, &q->a, q->aaaa_target, LDNS_RR_TYPE_A))
			return;
	}
	a_done(q);
}

/* Parse the request again after a wait; -1 after answering SERVFAIL. */
static int
unpark(struct query *q)
{
	int	 rcode;

	if (q->req != NULL)
		return (0);
	if (dnsmsg_parse_query(q->wire, q->wirelen, &q->req, &rcode) !=
	    DNSMSG_OK) {
		/* It parsed before: only memory can be short now. */
		ldns_pkt_free(q->req);
		q->req = NULL;
		log_warnx("%s: out of memory", q->cl.name);
		send_error(q, LDNS_RCODE_SERVFAIL, OUTCOME_ERROR, 0, NULL);
		return (-1);
	}
	return (0);
}

/* Do what can be done now; the query ends here once it is answered. */
static void
step(struct query *q)
{
	if (unpark(q) == -1) {
		query_free(q);
		return;
	}
	switch (q->plan) {
	case PLAN_LOCAL:
		local_done(q);
		break;
	case PLAN_FORWARD:
		if (leg_run(q, &q->main, q->pq.qname, q->pq.qtype))
			forward_done(q);
		break;
	case PLAN_REVERSE_MAP:
		if (leg_run(q, &q->main, q->target, q->pq.qtype))
			reverse_done(q);
		break;
	case PLAN_DNS64:
		dns64_step(q);
		break;
	}
	/* Still waiting for a leg unless an outcome is known. */
	if (q->outcome != OUTCOME_MAX) {
		query_free(q);
		return;
	}
	/* Parked until a leg comes back (see struct query). */
	ldns_pkt_free(q->req);
	q->req = NULL;
}

/* The client's TCP connection closed: nothing more is sent for it. */
static void
cancel_cb(struct client *cl)
{
	query_free(cl->arg);
}

static void
query_start(struct worker *w, const struct client *cl, const uint8_t *wire,
    size_t len, const struct plain *pl)
{
	struct query		*q;
	const struct acl_entry	*rule;
	const ldns_rr		*question;
	enum dnsmsg_verdict	 verdict;
	int			 rcode;
	char			 net[64];

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		STATS_INC(w->stats.outcome[OUTCOME_DROPPED]);
		return;
	}
	q->w = w;
	q->conf = conf_ref(w->conf);
	q->start_us = mono_us();
	q->outcome = OUTCOME_MAX;
	q->cacheable = 1;
	TAILQ_INSERT_TAIL(&w->queries, q, entry);
	STATS_INC(w->stats.inflight);
	q->cl = *cl;
	q->cl.cancel = cancel_cb;
	q->cl.arg = q;
	listener_client_name(&q->cl);
	listener_attach(&q->cl);
	verdict = dnsmsg_parse_query(wire, len, &q->req, &rcode);
	if (q->req != NULL &&
	    ldns_rr_list_rr_count(ldns_pkt_question(q->req)) > 0) {
		question = ldns_rr_list_rr(ldns_pkt_question(q->req), 0);
		q->pq.qname = ldns_rr_owner(question);
		q->pq.qtype = ldns_rr_get_type(question);
		q->pq.qclass = ldns_rr_get_class(question);
	}
	/* The query ACL comes first; a refused client learns nothing more. */
	if (verdict != DNSMSG_DROP) {
		count_query(w, &q->cl, q->pq.qtype);
		rule = acl_lookup_sa(&q->conf->query_acl,
		    (struct sockaddr *)&cl->peer);
		if (rule == NULL || rule->action != ACL_ALLOW) {
			/* Say which rule: the first question of a lab. */
			if (rule != NULL)
				set_note(q, "by deny %s", acl_net_str(
				    &rule->net, net, sizeof(net)));
			else
				set_note(q, "by no allow");
			if (q->req == NULL)
				verdict = DNSMSG_DROP;
			else {
				verdict = DNSMSG_ERROR;
				rcode = LDNS_RCODE_REFUSED;
			}
		}
	}
	if (verdict == DNSMSG_DROP) {
		q->outcome = OUTCOME_DROPPED;
		query_free(q);
		return;
	}
	memcpy(q->hdr, wire, sizeof(q->hdr));
	if (q->req != NULL)
		dump("query from", q, q->req);
	if (verdict == DNSMSG_ERROR) {
		send_error(q, rcode, rcode == LDNS_RCODE_REFUSED ?
		    OUTCOME_REFUSED : OUTCOME_ERROR, 0, NULL);
		query_free(q);
		return;
	}
	/* Kept for parking the request (see struct query). */
	if ((q->wire = malloc(len)) == NULL ||
	    (q->qname = ldns_rdf_clone(q->pq.qname)) == NULL) {
		log_warnx("%s: out of memory", q->cl.name);
		send_error(q, LDNS_RCODE_SERVFAIL, OUTCOME_ERROR, 0, NULL);
		query_free(q);
		return;
	}
	memcpy(q->wire, wire, len);
	q->wirelen = len;
	q->pq.qname = q->qname;
	q->pq.peer = (struct sockaddr *)&q->cl.peer;
	q->pq.rd = ldns_pkt_rd(q->req);
	q->pq.cd = ldns_pkt_cd(q->req);
	q->pq.dnssec = ldns_pkt_edns_do(q->req) && !q->conf->break_dnssec;
	q->upflags = (q->pq.rd ? UPSTREAM_RD : 0) |
	    (q->pq.cd ? UPSTREAM_CD : 0) |
	    (ldns_pkt_edns_do(q->req) ? UPSTREAM_DO : 0);
	if (pl != NULL) {
		q->mask = pl->mask;
		q->rr_start = pl->rr_start;
		q->view = pl->view;
		q->keyed = 1;
	} else {
		q->mask = policy_prefixes(q->conf, &q->pq);
		q->rr_start = rr_turn(w, q->conf, q->mask, q->pq.qtype);
	}
	q->plan = policy_plan(q->conf, &q->pq, q->mask, &q->rev);
	if (q->plan == PLAN_REVERSE_MAP &&
	    (q->target = dns64_inaddr_name(q->rev.v4)) == NULL) {
		send_error(q, LDNS_RCODE_SERVFAIL, OUTCOME_ERROR, 0, NULL);
		query_free(q);
		return;
	}
	step(q);
}

void
query_handle(struct worker *w, struct client *cl, const uint8_t *wire,
    size_t len)
{
	struct plain	 pl;
	int		 plain;

	if (fast(w, cl, wire, len, &pl, &plain))
		return;
	query_start(w, cl, wire, len, plain ? &pl : NULL);
}

void
query_free(struct query *q)
{
	struct worker	*w = q->w;

	if (q->outcome == OUTCOME_MAX)
		q->outcome = OUTCOME_DROPPED;
	count_reply(w, q->outcome, q->rcode, q->start_us);
	if (log_getverbose() >= 1)
		log_line(q->cl.name, q->pq.qname, q->pq.qtype, q->outcome,
		    q->rcode, q->upname, q->note);
	hedge_cancel(q);
	leg_cancel(&q->main);
	leg_cancel(&q->a);
	listener_detach(&q->cl);
	TAILQ_REMOVE(&w->queries, q, entry);
	STATS_DEC(w->stats.inflight);
	ldns_pkt_free(q->req);
	ldns_rdf_deep_free(q->target);
	ldns_rdf_deep_free(q->qname);
	free(q->wire);
	free(q->note);
	conf_unref(q->conf);
	free(q);
}

void
query_free_all(struct worker *w)
{
	struct query	*q;

	while ((q = TAILQ_FIRST(&w->queries)) != NULL)
		query_free(q);
}
