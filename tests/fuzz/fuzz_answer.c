/*
 * fuzz_answer.c -- fuzz harness: the answer path of src/query.c, from a
 * client's query and the forwarder's replies to the octets sent back, and
 * the lean path that replays them from the reply cache.
 *
 * The input is
 *	octet 0		option bits (OPT_* below)
 *	octet 1		the round-robin turn
 *	octet 2		the age, in seconds, of the reply when replayed
 *	octet 3		added (plus 1) to the ID of the replayed query; when
 *			odd, the replayed query's name has its case flipped
 * then three chunks, each a 16-bit length and as many octets (cut short
 * by the end of the input): the client's query, the reply to the first
 * leg (the AAAA query with DNS64, else the forwarded or the in-addr.arpa
 * question) and the reply to the A leg.  A reply that does not parse, or
 * has QR=0, another opcode or TC=1, is a leg that failed; one that parses
 * is the reply to the leg's question whatever question it carries, since
 * upstream.c passes on only the replies that match.
 *
 * The configuration is fuzz_conf()'s, the /64 prefix for ::1 only, the
 * /56 one for destinations in 198.51.100.0/24, exclude-a 10.0.0.0/8,
 * never-synthesize never.t.example, always-synthesize always.t.example.
 *
 * What happens is what query_start(), step(), dns64_step(), a_done(),
 * reverse_done(), local_done(), relay() and send_reply() do, without I/O:
 * dnsmsg_parse_query(), policy_prefixes(), policy_plan(), then
 *   PLAN_LOCAL        local_answer();
 *   PLAN_FORWARD      the first reply relayed;
 *   PLAN_REVERSE_MAP  synth_ptr_cname() on the first reply;
 *   PLAN_DNS64        policy_aaaa() on the first reply, the AAAA excluded
 *                     stripped, policy_a() on the second (asked for the
 *                     chain's end, or for the query name as with
 *                     dns64-parallel and then policy_a_reaches()),
 *                     synth_aaaa(),
 *                     synth_prepend_chain(), policy_unmapped(),
 *                     synth_nodata_soa();
 * each reply through dnsmsg_reply() and dnsmsg_render_buf() at 65535,
 * the client's limit and 512 octets.  Checked: what is sent parses (with
 * dnsmsg_parse_reply() too), fits, has the client's ID and question;
 * synthesized AAAA lie in a prefix the client gets and map one of the A
 * records that may be mapped, with a TTL no higher than the A records'
 * and the negative answer's; nothing is synthesized from signed data for
 * a validating client; no excluded AAAA is relayed.
 *
 * The lean path (fast(), cache_reply()): wire_query_parse() must agree
 * with dnsmsg_parse_query(); the reply sent whole becomes a cache entry
 * (wire_entry_make()), goes through cache_put() and cache_get(), and
 * wire_entry_reply() to the same query with another ID (and case) must
 * give the octets the full path sent, with that ID and name and the TTLs
 * capped and counted down by the age.  The raw first reply goes through
 * wire_entry_make() and wire_entry_reply() as well: bounds and ID only.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns64proxy.h"
#include "acl.h"
#include "cache.h"
#include "conf.h"
#include "dns64.h"
#include "dnsmsg.h"
#include "local.h"
#include "policy.h"
#include "stats.h"
#include "synth.h"
#include "upstream.h"
#include "wire.h"
#include "fuzz.h"

#define OPT_NO_IPV4ONLY	0x01	/* ipv4only-arpa no */
#define OPT_IPV6_ONLY	0x02	/* dns64-ipv6-only yes */
#define OPT_ROUNDROBIN	0x04	/* prefix-selection round-robin */
#define OPT_NO_SOE	0x08	/* synthesize-on-error no */
#define OPT_BREAK	0x10	/* break-dnssec yes */
#define OPT_PARALLEL	0x20	/* the A leg asks for the query name */
#define OPT_TCP		0x40	/* the client came over TCP */
#define OPT_IPV6	0x80	/* the client is ::1, else 127.0.0.1 */

#define HDR_LEN		4
#define FAST_BUFSIZE	4096	/* as src/query.c */
#define NOW_MS		1000000	/* the cache's clock at cache_put() */

/* One query and what is known of it, as struct query has it. */
struct run {
	struct conf		*conf;
	const uint8_t		*wire;		/* the client's query */
	size_t			 len;
	ldns_pkt		*req;
	const ldns_rr		*question;	/* req's first, or NULL */
	struct sockaddr_storage	 peer;
	struct policy_query	 pq;
	uint32_t		 mask;
	unsigned int		 rr_start;
	int			 tcp;
	int			 keyed;		/* a plain query */
	struct wire_query	 wq;
	int			 cacheable;
	int			 synthesized;
	uint8_t			 age;
	uint8_t			 idadd;
};

static void
add_net(struct acl *acl, const char *s)
{
	struct acl_net	 net;
	const char	*errstr;

	FUZZ_CHECK(acl_net_parse(s, &net, &errstr) == 0);
	FUZZ_CHECK(acl_add(acl, &net, ACL_ALLOW) == 0);
}

static void
add_domain(struct conf_domainlist *list, const char *s)
{
	struct conf_domain	*d;

	FUZZ_CHECK((d = calloc(1, sizeof(*d))) != NULL);
	FUZZ_CHECK((d->name = ldns_dname_new_frm_str(s)) != NULL);
	TAILQ_INSERT_TAIL(list, d, entry);
}

static struct conf *
answer_conf(uint8_t opts)
{
	struct conf		*conf;
	struct conf_prefix	*cp;

	conf = fuzz_conf();
	conf->ipv4only_arpa = !(opts & OPT_NO_IPV4ONLY);
	conf->dns64_ipv6_only = (opts & OPT_IPV6_ONLY) != 0;
	conf->prefix_selection = (opts & OPT_ROUNDROBIN) ?
	    PREFIX_SELECT_ROUNDROBIN : PREFIX_SELECT_ALL;
	conf->synth_on_error = !(opts & OPT_NO_SOE);
	conf->break_dnssec = (opts & OPT_BREAK) != 0;
	TAILQ_FOREACH(cp, &conf->prefixes, entry) {
		if (cp->pfx.plen == 64)
			add_net(&cp->clients, "::1/128");
		if (cp->pfx.plen == 56)
			add_net(&cp->destinations, "198.51.100.0/24");
	}
	add_net(&conf->exclude_a, "10.0.0.0/8");
	add_domain(&conf->never_synth, "never.t.example.");
	add_domain(&conf->always_synth, "always.t.example.");
	return (conf);
}

/* The next chunk of the input: a 16-bit length, then the octets. */
static void
chunk(const uint8_t **p, size_t *left, const uint8_t **c, size_t *clen)
{
	size_t	 n;

	*c = *p;
	*clen = 0;
	if (*left < 2) {
		*p += *left;
		*left = 0;
		return;
	}
	n = ldns_read_uint16(*p);
	*p += 2;
	*left -= 2;
	if (n > *left)
		n = *left;
	*c = *p;
	*clen = n;
	*p += n;
	*left -= n;
}

/*
 * The reply a leg gets for (name, type, class): NULL when the chunk is
 * what upstream.c would not pass on (a failed leg).
 */
static ldns_pkt *
leg_reply(const uint8_t *w, size_t len, const ldns_rdf *name, uint16_t type,
    uint16_t class)
{
	ldns_pkt	*pkt;
	ldns_rr_list	*ql;
	ldns_rr		*q;
	ldns_rdf	*owner;

	if (dnsmsg_parse_reply(w, len, &pkt) != LDNS_STATUS_OK) {
		FUZZ_CHECK(pkt == NULL);
		return (NULL);
	}
	if (!ldns_pkt_qr(pkt) || ldns_pkt_get_opcode(pkt) !=
	    LDNS_PACKET_QUERY || ldns_pkt_tc(pkt)) {
		ldns_pkt_free(pkt);
		return (NULL);
	}
	FUZZ_CHECK((q = ldns_rr_new()) != NULL);
	FUZZ_CHECK((owner = ldns_rdf_clone(name)) != NULL);
	ldns_rr_set_owner(q, owner);
	ldns_rr_set_type(q, type);
	ldns_rr_set_class(q, class);
	ldns_rr_set_question(q, true);
	FUZZ_CHECK((ql = ldns_rr_list_new()) != NULL);
	FUZZ_CHECK(ldns_rr_list_push_rr(ql, q));
	ldns_rr_list_deep_free(ldns_pkt_question(pkt));
	ldns_pkt_set_question(pkt, ql);
	ldns_pkt_set_qdcount(pkt, 1);
	FUZZ_CHECK(dnsmsg_reply_is_for(pkt, ldns_pkt_id(pkt), name, type,
	    class));
	return (pkt);
}

static int
has_soa(const ldns_pkt *pkt)
{
	const ldns_rr_list	*l = ldns_pkt_authority(pkt);
	size_t			 i;

	for (i = 0; i < ldns_rr_list_rr_count(l); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) ==
		    LDNS_RR_TYPE_SOA)
			return (1);
	return (0);
}

static size_t
count_chain(const ldns_rr_list *l)
{
	size_t	 i, n = 0;

	for (i = 0; i < ldns_rr_list_rr_count(l); i++)
		if (dns64_is_chain_rr(ldns_rr_list_rr(l, i)))
			n++;
	return (n);
}

/* Skip a name on the wire (our own messages: well formed). */
static void
skip_name(const uint8_t *w, size_t len, size_t *pos)
{
	for (;;) {
		FUZZ_CHECK(*pos < len);
		if (w[*pos] == 0) {
			(*pos)++;
			return;
		}
		if ((w[*pos] & 0xc0) == 0xc0) {
			*pos += 2;
			return;
		}
		*pos += 1 + w[*pos];
	}
}

/*
 * The TTLs of msg as the lean path replays them: the top bit means 0
 * (RFC 2181 8), at most cap, less age.  The OPT RR's is its flags.
 */
static void
age_ttls(uint8_t *w, size_t len, uint32_t cap, uint32_t age)
{
	size_t		 pos = LDNS_HEADER_SIZE;
	unsigned int	 i, total;
	uint32_t	 ttl;

	skip_name(w, len, &pos);
	pos += 4;
	total = LDNS_ANCOUNT(w) + LDNS_NSCOUNT(w) + LDNS_ARCOUNT(w);
	for (i = 0; i < total; i++) {
		skip_name(w, len, &pos);
		FUZZ_CHECK(pos + 10 <= len);
		if (ldns_read_uint16(w + pos) != LDNS_RR_TYPE_OPT) {
			ttl = dns64_ttl(ldns_read_uint32(w + pos + 4));
			if (ttl > cap)
				ttl = cap;
			ldns_write_uint32(w + pos + 4, ttl > age ? ttl - age : 0);
		}
		pos += 10 + ldns_read_uint16(w + pos + 8);
	}
	FUZZ_CHECK(pos == len);
}

/* udp_limit() of src/query.c. */
static size_t
wire_udp_limit(const struct wire_query *wq, uint16_t ours)
{
	size_t	 theirs;

	if (!wq->edns)
		return (DNS_UDP_MIN);
	theirs = wq->udpsize < DNS_UDP_MIN ? DNS_UDP_MIN : wq->udpsize;
	return (theirs < ours ? theirs : ours);
}

static void
reply_key(struct cache_key *key, const struct wire_query *wq, uint64_t view)
{
	memset(key, 0, sizeof(*key));
	key->kind = CACHE_KIND_REPLY;
	key->flags = (wq->rd ? UPSTREAM_RD : 0) | (wq->cd ? UPSTREAM_CD : 0) |
	    (wq->dobit ? UPSTREAM_DO : 0);
	key->qtype = wq->qtype;
	key->qclass = wq->qclass;
	key->view = view;
	key->name = wq->qname;
	key->namelen = wq->qnamelen;
}

/*
 * cache_reply() and then fast() for the same query with another ID:
 * the lean path must send what the full path sent.
 */
static void
replay(struct run *r, const uint8_t *full, size_t len, enum outcome o,
    int rcode, uint32_t negttl)
{
	struct cache		*cache;
	struct cache_key	 key;
	struct cache_meta	 meta;
	struct wire_query	 wq;
	uint8_t			 entry[FAST_BUFSIZE], val[FAST_BUFSIZE];
	uint8_t			 out[FAST_BUFSIZE], *q2, *expect, oc;
	uint64_t		 view;
	uint32_t		 cap, ttl;
	uint16_t		 id;
	ssize_t			 n, got, olen;
	size_t			 i;
	int			 orc;

	if (!r->keyed || !r->cacheable || (rcode != LDNS_RCODE_NOERROR &&
	    rcode != LDNS_RCODE_NXDOMAIN))
		return;
	cap = rcode == LDNS_RCODE_NXDOMAIN || LDNS_ANCOUNT(full) == 0 ?
	    r->conf->cache_max_neg_ttl : r->conf->cache_max_ttl;
	if (negttl < cap)
		cap = negttl;
	if ((n = wire_entry_make(full, len, cap, o, r->synthesized ?
	    WIRE_ENTRY_SYNTH : 0, entry, sizeof(entry), &ttl)) == -1 ||
	    ttl == 0)
		return;
	FUZZ_CHECK(n > 0 && (size_t)n <= sizeof(entry) && ttl <= cap);
	/* make_view(), generation 0. */
	view = (uint64_t)(r->rr_start & 0xff) << 32 | r->mask;
	FUZZ_CHECK((cache = cache_new((size_t)1 << 20, 1)) != NULL);
	reply_key(&key, &r->wq, view);
	FUZZ_CHECK(cache_put(cache, &key, NOW_MS, ttl, 0, entry, n) == 0);

	/* Another client's query: another ID, maybe another case. */
	FUZZ_CHECK((q2 = malloc(r->len)) != NULL);
	memcpy(q2, r->wire, r->len);
	id = r->wq.id + 1 + r->idadd;
	ldns_write_uint16(q2, id);
	if (r->idadd & 1)
		for (i = LDNS_HEADER_SIZE; i < LDNS_HEADER_SIZE +
		    r->wq.qnamelen; i++)
			if ((q2[i] | 0x20) >= 'a' && (q2[i] | 0x20) <= 'z')
				q2[i] ^= 0x20;
	FUZZ_CHECK(wire_query_parse(q2, r->len, &wq) == 0);
	FUZZ_CHECK(wq.id == id && wq.qnamelen == r->wq.qnamelen &&
	    wq.qtype == r->wq.qtype && wq.qclass == r->wq.qclass &&
	    wq.edns == r->wq.edns && wq.dobit == r->wq.dobit);
	reply_key(&key, &wq, view ^ 1);
	FUZZ_CHECK(cache_get(cache, &key, NOW_MS, 0, val, sizeof(val),
	    &meta) == 0);
	reply_key(&key, &wq, view);
	got = cache_get(cache, &key, NOW_MS + (uint64_t)r->age * 1000, 0, val,
	    sizeof(val), &meta);
	if (r->age >= ttl) {
		FUZZ_CHECK(got == 0);
		goto done;
	}
	FUZZ_CHECK(got == n && memcmp(val, entry, n) == 0);
	FUZZ_CHECK(meta.stored == NOW_MS && meta.ttl == ttl && !meta.stale);
	olen = wire_entry_reply(val, got, &wq, r->age,
	    r->conf->edns_buffer_size, r->tcp ? DNS_MSG_MAX :
	    wire_udp_limit(&wq, r->conf->edns_buffer_size), out, sizeof(out),
	    &oc, &orc);
	/* What the full path sent fitted: so does the replay. */
	FUZZ_CHECK(olen >= 0 && (size_t)olen == len);
	FUZZ_CHECK(oc == o && orc == rcode);
	FUZZ_CHECK((expect = malloc(len)) != NULL);
	memcpy(expect, full, len);
	ldns_write_uint16(expect, id);
	memcpy(expect + LDNS_HEADER_SIZE, wq.qname, wq.qnamelen);
	age_ttls(expect, len, cap, r->age);
	FUZZ_CHECK(memcmp(out, expect, len) == 0);
	free(expect);
 done:
	free(q2);
	cache_free(cache);
}

/*
 * The first reply as it came from the forwarder, made a cache entry and
 * replayed: whatever it holds, the replay stays within its bounds.
 */
static void
replay_raw(struct run *r, const uint8_t *w, size_t len)
{
	uint8_t		 entry[FAST_BUFSIZE], out[FAST_BUFSIZE], oc;
	uint32_t	 ttl;
	ssize_t		 n, olen;
	size_t		 max;
	int		 orc;

	if (!r->keyed || (n = wire_entry_make(w, len, r->conf->cache_max_ttl,
	    OUTCOME_PASSED, 0, entry, sizeof(entry), &ttl)) == -1)
		return;
	FUZZ_CHECK(n > 0 && (size_t)n <= sizeof(entry));
	FUZZ_CHECK(ttl <= r->conf->cache_max_ttl);
	max = r->tcp ? DNS_MSG_MAX : wire_udp_limit(&r->wq,
	    r->conf->edns_buffer_size);
	if ((olen = wire_entry_reply(entry, n, &r->wq, r->age,
	    r->conf->edns_buffer_size, max, out, sizeof(out), &oc, &orc)) ==
	    -1)
		return;
	FUZZ_CHECK((size_t)olen <= max && (size_t)olen <= sizeof(out));
	FUZZ_CHECK(olen >= LDNS_HEADER_SIZE);
	FUZZ_CHECK(LDNS_ID_WIRE(out) == r->wq.id);
	FUZZ_CHECK(memcmp(out + LDNS_HEADER_SIZE, r->wq.qname,
	    r->wq.qnamelen) == 0);
	FUZZ_CHECK(oc == OUTCOME_PASSED && orc == (int)LDNS_RCODE_WIRE(w));
}

/* What goes to the client: within max, parsable, ours. */
static void
check_sent(const struct run *r, const uint8_t *w, size_t len, size_t max)
{
	ldns_pkt	*back = NULL;
	const ldns_rr	*bq;

	FUZZ_CHECK(len >= LDNS_HEADER_SIZE && len <= max);
	FUZZ_CHECK(LDNS_ID_WIRE(w) == LDNS_ID_WIRE(r->wire));
	FUZZ_CHECK(LDNS_QR_WIRE(w));
	FUZZ_CHECK(ldns_wire2pkt(&back, w, len) == LDNS_STATUS_OK);
	ldns_pkt_free(back);
	/* What we send, we would take from a forwarder. */
	FUZZ_CHECK(dnsmsg_parse_reply(w, len, &back) == LDNS_STATUS_OK);
	FUZZ_CHECK(ldns_rr_list_rr_count(ldns_pkt_question(back)) ==
	    (r->question != NULL ? 1 : 0));
	if (r->question != NULL) {
		/* RFC 6147 5.4: the client's question, with its case. */
		bq = ldns_rr_list_rr(ldns_pkt_question(back), 0);
		FUZZ_CHECK(ldns_rr_get_type(bq) ==
		    ldns_rr_get_type(r->question));
		FUZZ_CHECK(ldns_rr_get_class(bq) ==
		    ldns_rr_get_class(r->question));
		FUZZ_CHECK(ldns_rdf_size(ldns_rr_owner(bq)) ==
		    ldns_rdf_size(ldns_rr_owner(r->question)));
		FUZZ_CHECK(memcmp(ldns_rdf_data(ldns_rr_owner(bq)),
		    ldns_rdf_data(ldns_rr_owner(r->question)),
		    ldns_rdf_size(ldns_rr_owner(bq))) == 0);
	}
	ldns_pkt_free(back);
}

/* send_reply(): consumes reply. */
static void
send_reply(struct run *r, ldns_pkt *reply, enum outcome o)
{
	ldns_buffer	*buf;
	uint8_t		*full;
	size_t		 len, max;
	uint32_t	 negttl = UINT32_MAX;
	int		 rcode;

	max = r->tcp ? DNS_MSG_MAX : (r->req != NULL ? dnsmsg_udp_limit(r->req,
	    r->conf->edns_buffer_size) : DNS_UDP_MIN);
	FUZZ_CHECK((buf = ldns_buffer_new(LDNS_MIN_BUFLEN)) != NULL);
	FUZZ_CHECK(dnsmsg_render_buf(reply, DNS_MSG_MAX, buf) ==
	    LDNS_STATUS_OK);
	len = ldns_buffer_position(buf);
	check_sent(r, ldns_buffer_begin(buf), len, DNS_MSG_MAX);
	FUZZ_CHECK((full = malloc(len)) != NULL);
	memcpy(full, ldns_buffer_begin(buf), len);
	rcode = policy_rcode(reply);
	if (rcode == LDNS_RCODE_NXDOMAIN || ldns_pkt_ancount(reply) == 0)
		(void)dns64_negative_ttl(reply, &negttl);
	if (len > max) {
		FUZZ_CHECK(dnsmsg_render_buf(reply, max, buf) ==
		    LDNS_STATUS_OK);
		check_sent(r, ldns_buffer_begin(buf),
		    ldns_buffer_position(buf), max);
	}
	FUZZ_CHECK(dnsmsg_render_buf(reply, DNS_UDP_MIN, buf) ==
	    LDNS_STATUS_OK);
	check_sent(r, ldns_buffer_begin(buf), ldns_buffer_position(buf),
	    DNS_UDP_MIN);
	ldns_buffer_free(buf);
	ldns_pkt_free(reply);
	if (len <= max)
		replay(r, full, len, o, rcode, negttl);
	free(full);
}

static void
send_error(struct run *r, int rcode, uint16_t ede, const char *text)
{
	ldns_pkt	*reply;

	FUZZ_CHECK((reply = dnsmsg_error(r->wire, r->req, rcode,
	    r->conf->edns_buffer_size)) != NULL);
	if (text != NULL && r->req != NULL && ldns_pkt_edns(r->req))
		FUZZ_CHECK(dnsmsg_add_ede(reply, ede, text) == 0);
	r->cacheable = 0;
	send_reply(r, reply, OUTCOME_ERROR);
}

/* leg_failed() for a leg that timed out. */
static void
leg_failed(struct run *r)
{
	send_error(r, LDNS_RCODE_SERVFAIL, DNSMSG_EDE_NO_REACHABLE_AUTHORITY,
	    "forwarder - timed out");
}

/* relay(): consumes pkt. */
static void
relay(struct run *r, ldns_pkt *pkt, enum outcome o, int synthesized,
    uint16_t ede, const char *text)
{
	ldns_pkt	*reply;
	int		 edns = ldns_pkt_edns(r->req);

	if (text != NULL || dnsmsg_has_ede(pkt, 0, 0xffff))
		r->cacheable = 0;
	r->synthesized = synthesized;
	FUZZ_CHECK((reply = dnsmsg_reply(pkt, r->req,
	    r->conf->edns_buffer_size)) != NULL);
	FUZZ_CHECK(ldns_pkt_id(reply) == ldns_pkt_id(r->req));
	if (edns && synthesized)
		FUZZ_CHECK(dnsmsg_add_ede(reply, DNSMSG_EDE_SYNTHESIZED,
		    NULL) == 0);
	if (edns && text != NULL)
		FUZZ_CHECK(dnsmsg_add_ede(reply, ede, text) == 0);
	send_reply(r, reply, o);
}

/* 1 if in6 maps an A record at owner of a with a prefix of the mask. */
static int
maps_an_a(const struct run *r, const uint8_t *in6, const ldns_rr_list *a,
    const ldns_rdf *owner)
{
	const struct conf_prefix	*cp;
	const uint8_t			*v4;
	const ldns_rr			*rr;
	uint8_t				 got[4];
	uint32_t			 bit = 1;
	size_t				 i;

	TAILQ_FOREACH(cp, &r->conf->prefixes, entry) {
		if ((r->mask & bit) && dns64_extract(&cp->pfx, in6, got) == 0 &&
		    (TAILQ_EMPTY(&cp->destinations) || acl_match(
		    &cp->destinations, AF_INET, got) == ACL_ALLOW) &&
		    (!dns64_prefix_is_wkp(&cp->pfx) ||
		    dns64_ipv4_is_global(got)) &&
		    acl_match(&r->conf->exclude_a, AF_INET, got) != ACL_ALLOW)
			for (i = 0; i < ldns_rr_list_rr_count(a); i++) {
				rr = ldns_rr_list_rr(a, i);
				if (!dns64_rr_at(rr, owner, LDNS_RR_TYPE_A))
					continue;
				v4 = ldns_rdf_data(ldns_rr_rdf(rr, 0));
				if (memcmp(v4, got, 4) == 0)
					return (1);
			}
		bit <<= 1;
	}
	return (0);
}

/*
 * The synthesized answer pkt, made of the A answer orig for owner (with
 * the AAAA answer negative, NULL when that leg failed) and front chain
 * RRs put before it.
 */
static void
check_synthesized(const struct run *r, const ldns_pkt *pkt,
    const ldns_pkt *orig, const ldns_rdf *owner, const ldns_pkt *negative,
    size_t front, int made)
{
	const ldns_rr_list	*ans = ldns_pkt_answer(pkt);
	const ldns_rr_list	*a = ldns_pkt_answer(orig);
	const ldns_rr		*rr;
	uint32_t		 bound = DNS64_WKP_TTL_CAP, neg;
	size_t			 i, na = 0;
	int			 n = 0;

	/* RFC 6147 5.1.7: the SOA's negative TTL, else 600 s at most. */
	if (negative != NULL && dns64_negative_ttl(negative, &neg) == 0)
		bound = neg;
	for (i = 0; i < ldns_rr_list_rr_count(a); i++) {
		rr = ldns_rr_list_rr(a, i);
		if (!dns64_rr_at(rr, owner, LDNS_RR_TYPE_A))
			continue;
		na++;
		if (dns64_ttl(ldns_rr_ttl(rr)) < bound)
			bound = dns64_ttl(ldns_rr_ttl(rr));
	}
	FUZZ_CHECK(ldns_rr_list_rr_count(ans) == front + count_chain(a) +
	    (size_t)made);
	FUZZ_CHECK(ldns_pkt_ancount(pkt) == ldns_rr_list_rr_count(ans));
	for (i = 0; i < ldns_rr_list_rr_count(ans); i++) {
		rr = ldns_rr_list_rr(ans, i);
		if (dns64_is_chain_rr(rr))
			continue;
		FUZZ_CHECK(i >= front);
		FUZZ_CHECK(dns64_rr_at(rr, owner, LDNS_RR_TYPE_AAAA));
		FUZZ_CHECK(ldns_rr_rd_count(rr) == 1 &&
		    ldns_rdf_size(ldns_rr_rdf(rr, 0)) == 16);
		FUZZ_CHECK(ldns_rr_ttl(rr) <= bound);
		FUZZ_CHECK(maps_an_a(r, ldns_rdf_data(ldns_rr_rdf(rr, 0)), a,
		    owner));
		n++;
	}
	FUZZ_CHECK(n == made);
	if (r->conf->prefix_selection == PREFIX_SELECT_ROUNDROBIN)
		FUZZ_CHECK((size_t)made <= na);
	else
		FUZZ_CHECK((size_t)made <= na *
		    (size_t)__builtin_popcount(r->mask));
	/* RFC 6147 5.5 */
	FUZZ_CHECK(!ldns_pkt_aa(pkt) && !ldns_pkt_ad(pkt));
}

/* aaaa_stripped(): the AAAA answer without its excluded AAAA. */
static void
strip(const struct run *r, ldns_pkt *pkt, const ldns_rdf *target)
{
	int	 real, excluded;

	(void)dns64_strip_excluded(ldns_pkt_answer(pkt), target,
	    &r->conf->exclude_aaaa);
	ldns_pkt_set_ancount(pkt, ldns_rr_list_rr_count(ldns_pkt_answer(pkt)));
	real = dns64_aaaa_count(ldns_pkt_answer(pkt), target,
	    &r->conf->exclude_aaaa, &excluded);
	FUZZ_CHECK(real >= 0 && excluded == 0);
}

/*
 * a_done(); main is the AAAA answer (NULL when that leg failed), target
 * the end of its chain, aname the name the A leg asked for.
 */
static void
a_done(struct run *r, ldns_pkt **mainp, ldns_pkt **ap, int failed,
    const ldns_rdf *target, const ldns_rdf *aname, int for_target)
{
	struct synth_result	 res;
	const ldns_rdf		*owner;
	ldns_pkt		*orig, *main = *mainp, *a = *ap;
	enum policy_a		 av;
	const char		*text = NULL;
	char			 note[80];
	size_t			 front;
	int			 soa;

	av = policy_a(a, failed, aname, &owner);
	if (av == A_SYNTHESIZE) {
		FUZZ_CHECK(a != NULL);
		FUZZ_CHECK((orig = ldns_pkt_clone(a)) != NULL);
		FUZZ_CHECK(synth_aaaa(r->conf, r->mask, r->rr_start,
		    r->pq.dnssec, a, owner, failed ? NULL : main, &res) == 0);
		/* owner pointed into the A answer, which may be gone. */
		owner = dns64_chain_end(ldns_pkt_answer(orig), aname);
		if (r->pq.dnssec && policy_a_signed(orig, owner))
			FUZZ_CHECK(res.made == 0 && res.why == SYNTH_SIGNED);
		if (res.made > 0) {
			front = 0;
			if (for_target) {
				FUZZ_CHECK(main != NULL);
				front = count_chain(ldns_pkt_answer(main));
				FUZZ_CHECK(synth_prepend_chain(a, main) == 0);
			}
			check_synthesized(r, a, orig, owner,
			    failed ? NULL : main, front, res.made);
			ldns_pkt_free(orig);
			*ap = NULL;
			relay(r, a, OUTCOME_SYNTHESIZED, 1, 0, NULL);
			return;
		}
		/* Nothing made: the A answer is as it was, and we say why. */
		FUZZ_CHECK(res.why != SYNTH_MAPPED);
		FUZZ_CHECK(fuzz_pkt_sig(a) == fuzz_pkt_sig(orig));
		FUZZ_CHECK(ldns_pkt_ancount(a) == ldns_pkt_ancount(orig));
		ldns_pkt_free(orig);
		snprintf(note, sizeof(note), "%u.%u.%u.%u not mapped: %s",
		    res.v4[0], res.v4[1], res.v4[2], res.v4[3],
		    synth_why_text(res.why));
		text = note;
		av = policy_unmapped(failed);
	}
	switch (av) {
	case A_RELAY_A:
		FUZZ_CHECK(a != NULL);
		if (for_target)
			FUZZ_CHECK(synth_prepend_chain(a, main) == 0);
		*ap = NULL;
		relay(r, a, OUTCOME_PASSED, 0, 0, NULL);
		break;
	case A_RELAY_AAAA:
		/* RFC 2308 2.2: the NODATA carries a SOA. */
		FUZZ_CHECK(main != NULL && !failed);
		strip(r, main, target);
		soa = has_soa(main) || (a != NULL && has_soa(a));
		FUZZ_CHECK(synth_nodata_soa(main, a) == 0);
		FUZZ_CHECK(has_soa(main) == soa);
		*mainp = NULL;
		relay(r, main, OUTCOME_PASSED, 0, DNSMSG_EDE_OTHER, text);
		break;
	case A_AAAA_ERROR:
		FUZZ_CHECK(failed);
		if (main == NULL) {
			leg_failed(r);
			break;
		}
		*mainp = NULL;
		relay(r, main, OUTCOME_PASSED, 0, DNSMSG_EDE_OTHER, text);
		break;
	default:
		FUZZ_CHECK(av == A_SERVFAIL && !failed);
		if (a == NULL)
			leg_failed(r);
		else
			send_error(r, LDNS_RCODE_SERVFAIL, 0, NULL);
		break;
	}
}

/* dns64_step() once both legs are back. */
static void
dns64(struct run *r, const uint8_t *aw, size_t alen, const uint8_t *bw,
    size_t blen, int parallel)
{
	const ldns_rdf	*target, *aname;
	ldns_pkt	*main, *a;
	enum policy_aaaa av;
	int		 failed, for_target, real, excluded;

	main = leg_reply(aw, alen, r->pq.qname, LDNS_RR_TYPE_AAAA,
	    r->pq.qclass);
	av = policy_aaaa(r->conf, &r->pq, main, &target, &failed);
	FUZZ_CHECK(!failed || ldns_dname_compare(target, r->pq.qname) == 0);
	FUZZ_CHECK(!failed || main == NULL ||
	    policy_rcode(main) != LDNS_RCODE_NOERROR);
	switch (av) {
	case AAAA_RELAY:
		FUZZ_CHECK(main != NULL);
		relay(r, main, OUTCOME_PASSED, 0, 0, NULL);
		return;
	case AAAA_RELAY_STRIPPED:
		FUZZ_CHECK(main != NULL);
		real = dns64_aaaa_count(ldns_pkt_answer(main), target,
		    &r->conf->exclude_aaaa, &excluded);
		FUZZ_CHECK(real > 0 && excluded > 0);
		/* RFC 6147 5.5: signed data reaches a validator whole. */
		FUZZ_CHECK(!r->pq.dnssec || !policy_is_signed(main));
		strip(r, main, target);
		relay(r, main, OUTCOME_PASSED, 0, 0, NULL);
		return;
	case AAAA_SERVFAIL:
		FUZZ_CHECK(main == NULL && !r->conf->synth_on_error);
		leg_failed(r);
		return;
	case AAAA_NEED_A:
		break;
	}
	if (parallel) {
		aname = r->pq.qname;
		for_target = 0;
	} else {
		aname = failed ? r->pq.qname : target;
		for_target = !failed &&
		    ldns_dname_compare(aname, r->pq.qname) != 0;
	}
	a = leg_reply(bw, blen, aname, LDNS_RR_TYPE_A, r->pq.qclass);
	/* The A answer for the query name must lead to the chain's end. */
	if (!failed && !for_target &&
	    ldns_dname_compare(target, r->pq.qname) != 0 &&
	    !policy_a_reaches(a, r->pq.qname, target)) {
		ldns_pkt_free(a);
		for_target = 1;
		aname = target;
		a = leg_reply(bw, blen, aname, LDNS_RR_TYPE_A, r->pq.qclass);
	}
	/* The AAAA leg's answer stays unless relayed (the chain's end). */
	a_done(r, &main, &a, failed, target, aname, for_target);
	ldns_pkt_free(a);
	ldns_pkt_free(main);
}

/* forward_done() */
static void
forward(struct run *r, const uint8_t *w, size_t len)
{
	ldns_pkt	*pkt;

	if ((pkt = leg_reply(w, len, r->pq.qname, r->pq.qtype,
	    r->pq.qclass)) == NULL)
		leg_failed(r);
	else
		relay(r, pkt, OUTCOME_PASSED, 0, 0, NULL);
}

/* reverse_done(): the CNAME to in-addr.arpa, then its answer. */
static void
reverse(struct run *r, const struct policy_reverse *rev, const uint8_t *w,
    size_t len)
{
	ldns_rdf	*target;
	ldns_pkt	*pkt;
	const ldns_rr	*cname;
	int		 rcode;

	FUZZ_CHECK((target = dns64_inaddr_name(rev->v4)) != NULL);
	pkt = leg_reply(w, len, target, r->pq.qtype, r->pq.qclass);
	if (pkt == NULL) {
		leg_failed(r);
		goto done;
	}
	rcode = policy_rcode(pkt);
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		relay(r, pkt, OUTCOME_PASSED, 0, 0, NULL);
		goto done;
	}
	FUZZ_CHECK(synth_ptr_cname(pkt, r->pq.qname, target,
	    r->conf->reverse_ttl) == 0);
	FUZZ_CHECK(ldns_pkt_ancount(pkt) ==
	    ldns_rr_list_rr_count(ldns_pkt_answer(pkt)));
	cname = ldns_rr_list_rr(ldns_pkt_answer(pkt), 0);
	FUZZ_CHECK(cname != NULL &&
	    ldns_rr_get_type(cname) == LDNS_RR_TYPE_CNAME);
	FUZZ_CHECK(ldns_rdf_size(ldns_rr_owner(cname)) ==
	    ldns_rdf_size(r->pq.qname) && memcmp(ldns_rdf_data(
	    ldns_rr_owner(cname)), ldns_rdf_data(r->pq.qname),
	    ldns_rdf_size(r->pq.qname)) == 0);
	FUZZ_CHECK(ldns_rdf_compare(ldns_rr_rdf(cname, 0), target) == 0);
	FUZZ_CHECK(ldns_rr_ttl(cname) <= r->conf->reverse_ttl);
	FUZZ_CHECK(!ldns_pkt_aa(pkt) && !ldns_pkt_ad(pkt));
	relay(r, pkt, OUTCOME_MAPPED, 1, 0, NULL);
 done:
	ldns_rdf_deep_free(target);
}

/* local_done(): what is answered here maps only our own addresses. */
static void
local(struct run *r, const struct policy_reverse *rev)
{
	const struct conf_prefix	*cp;
	const ldns_rr_list		*l;
	const ldns_rr			*rr;
	ldns_pkt			*pkt;
	uint8_t				 v4[4];
	uint32_t			 bit;
	size_t				 i;
	int				 synth, ok;

	FUZZ_CHECK((pkt = local_answer(r->conf, &r->pq, r->mask, rev,
	    &synth)) != NULL);
	FUZZ_CHECK(ldns_pkt_ancount(pkt) ==
	    ldns_rr_list_rr_count(ldns_pkt_answer(pkt)));
	l = ldns_pkt_answer(pkt);
	for (i = 0; i < ldns_rr_list_rr_count(l); i++) {
		rr = ldns_rr_list_rr(l, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_AAAA)
			continue;
		/* RFC 8880 7.1: 192.0.0.170 and .171 in a client's prefix. */
		FUZZ_CHECK(synth);
		ok = 0;
		bit = 1;
		TAILQ_FOREACH(cp, &r->conf->prefixes, entry) {
			if ((r->mask & bit) && dns64_extract(&cp->pfx,
			    ldns_rdf_data(ldns_rr_rdf(rr, 0)), v4) == 0 &&
			    v4[0] == 192 && v4[1] == 0 && v4[2] == 0 &&
			    (v4[3] == 170 || v4[3] == 171))
				ok = 1;
			bit <<= 1;
		}
		FUZZ_CHECK(ok);
	}
	relay(r, pkt, OUTCOME_LOCAL, synth, 0, NULL);
}

/* wire_query_parse() reads a plain query as dnsmsg_parse_query() does. */
static void
check_plain(const struct run *r, enum dnsmsg_verdict verdict)
{
	const ldns_rdf	*qname;

	FUZZ_CHECK(verdict == DNSMSG_OK);
	qname = ldns_rr_owner(r->question);
	FUZZ_CHECK(r->wq.id == ldns_pkt_id(r->req));
	FUZZ_CHECK(r->wq.qnamelen == ldns_rdf_size(qname) &&
	    memcmp(r->wq.qname, ldns_rdf_data(qname), r->wq.qnamelen) == 0);
	FUZZ_CHECK(r->wq.qtype == ldns_rr_get_type(r->question));
	FUZZ_CHECK(r->wq.qclass == ldns_rr_get_class(r->question));
	FUZZ_CHECK(r->wq.rd == ldns_pkt_rd(r->req));
	FUZZ_CHECK(r->wq.cd == ldns_pkt_cd(r->req));
	FUZZ_CHECK(r->wq.edns == ldns_pkt_edns(r->req));
	FUZZ_CHECK(r->wq.dobit == ldns_pkt_edns_do(r->req));
	if (r->wq.edns)
		FUZZ_CHECK(r->wq.udpsize == ldns_pkt_edns_udp_size(r->req));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run		 r;
	struct policy_query	 fpq;
	struct policy_reverse	 rev;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	enum dnsmsg_verdict	 verdict;
	enum policy_plan	 plan;
	const uint8_t		*p, *aw, *bw;
	size_t			 left, alen, blen;
	uint8_t			 opts;
	int			 rcode, n;

	if (size < HDR_LEN)
		return (0);
	memset(&r, 0, sizeof(r));
	opts = data[0];
	r.age = data[2];
	r.idadd = data[3];
	r.tcp = (opts & OPT_TCP) != 0;
	r.cacheable = 1;
	p = data + HDR_LEN;
	left = size - HDR_LEN;
	chunk(&p, &left, &r.wire, &r.len);
	chunk(&p, &left, &aw, &alen);
	chunk(&p, &left, &bw, &blen);
	r.conf = answer_conf(opts);
	if (opts & OPT_IPV6) {
		sin6 = (struct sockaddr_in6 *)&r.peer;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
	} else {
		sin = (struct sockaddr_in *)&r.peer;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}

	/* query_handle(): the lean path's look at it first. */
	r.keyed = wire_query_parse(r.wire, r.len, &r.wq) == 0;
	verdict = dnsmsg_parse_query(r.wire, r.len, &r.req, &rcode);
	if (r.req != NULL &&
	    ldns_rr_list_rr_count(ldns_pkt_question(r.req)) > 0)
		r.question = ldns_rr_list_rr(ldns_pkt_question(r.req), 0);
	if (r.keyed)
		check_plain(&r, verdict);
	if (verdict == DNSMSG_DROP) {
		FUZZ_CHECK(r.req == NULL);
		goto done;
	}
	if (verdict == DNSMSG_ERROR) {
		send_error(&r, rcode, 0, NULL);
		goto done;
	}
	r.pq.peer = (struct sockaddr *)&r.peer;
	r.pq.qname = ldns_rr_owner(r.question);
	r.pq.qtype = ldns_rr_get_type(r.question);
	r.pq.qclass = ldns_rr_get_class(r.question);
	r.pq.rd = ldns_pkt_rd(r.req);
	r.pq.cd = ldns_pkt_cd(r.req);
	r.pq.dnssec = ldns_pkt_edns_do(r.req) && !r.conf->break_dnssec;
	r.mask = policy_prefixes(r.conf, &r.pq);
	if (r.keyed) {
		/* fast() knows the prefixes without the name. */
		memset(&fpq, 0, sizeof(fpq));
		fpq.peer = r.pq.peer;
		fpq.qtype = r.wq.qtype;
		fpq.qclass = r.wq.qclass;
		fpq.rd = r.wq.rd;
		fpq.cd = r.wq.cd;
		FUZZ_CHECK(policy_prefixes(r.conf, &fpq) == r.mask);
	}
	/* rr_turn() */
	n = __builtin_popcount(r.mask);
	if (r.conf->prefix_selection == PREFIX_SELECT_ROUNDROBIN && n >= 2 &&
	    r.pq.qtype == LDNS_RR_TYPE_AAAA)
		r.rr_start = data[1] % n;
	plan = policy_plan(r.conf, &r.pq, r.mask, &rev);
	switch (plan) {
	case PLAN_LOCAL:
		local(&r, &rev);
		break;
	case PLAN_FORWARD:
		forward(&r, aw, alen);
		break;
	case PLAN_REVERSE_MAP:
		FUZZ_CHECK(rev.prefix != NULL && rev.nibbles == 32);
		reverse(&r, &rev, aw, alen);
		break;
	case PLAN_DNS64:
		FUZZ_CHECK(r.mask != 0 &&
		    r.pq.qtype == LDNS_RR_TYPE_AAAA);
		dns64(&r, aw, alen, bw, blen, (opts & OPT_PARALLEL) != 0);
		break;
	}
	replay_raw(&r, aw, alen);
 done:
	ldns_pkt_free(r.req);
	conf_free(r.conf);
	return (0);
}
