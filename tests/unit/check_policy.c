/*
 * check_policy.c -- the DNS64 decisions (policy.c), from tables: who gets
 * DNS64 (RFC 6147 5.1, 5.5, 6.3.3), which path a query takes, what an AAAA
 * answer means (5.1.1-5.1.5, 5.5) and what the A answer makes of it
 * (5.1.6).
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <ldns/ldns.h>

#include "acl.h"
#include "conf.h"
#include "dnsmsg.h"
#include "policy.h"

#define NODATA_SOA	"t.example. 1200 IN SOA ns.t.example. h.t.example. " \
			"1 3600 900 604800 1200"

static struct sockaddr_storage
peer(const char *addr)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, addr, &sin6->sin6_addr),
		    1);
		sin6->sin6_family = AF_INET6;
	}
	return (ss);
}

static void
add_net(struct acl *acl, const char *s, enum acl_action action)
{
	struct acl_net	 na;
	const char	*errstr;

	ck_assert_int_eq(acl_net_parse(s, &na, &errstr), 0);
	ck_assert_int_eq(acl_add(acl, &na, action), 0);
}

static struct conf_prefix *
add_prefix(struct conf *conf, const char *s)
{
	struct dns64_prefix	 pfx;
	struct conf_prefix	*cp;
	const char		*errstr;

	ck_assert_int_eq(conf_parse_prefix(s, &pfx, &errstr), 0);
	ck_assert_ptr_nonnull(cp = conf_prefix_add(&conf->prefixes, &pfx));
	return (cp);
}

static void
add_domain(struct conf_domainlist *list, const char *name)
{
	struct conf_domain	*d;

	ck_assert_ptr_nonnull(d = calloc(1, sizeof(*d)));
	ck_assert_ptr_nonnull(d->name = ldns_dname_new_frm_str(name));
	TAILQ_INSERT_TAIL(list, d, entry);
}

/* ------------------------------------------------- policy_prefixes */

static const struct {
	const char	*peer;
	uint16_t	 qclass;
	int		 rd, cd;
	int		 recursive_only;
	const char	*dns64_clients;		/* or NULL */
	int		 ipv6_only;
	const char	*second_clients;	/* of the second prefix */
	uint32_t	 mask;
} prefixes_table[] = {
	/* Everybody gets both prefixes. */
	{ "10.0.0.1", LDNS_RR_CLASS_IN, 1, 0, 1, NULL, 0, NULL, 0x3 },
	/* RFC 6147 5.1: class IN only. */
	{ "10.0.0.1", LDNS_RR_CLASS_CH, 1, 0, 1, NULL, 0, NULL, 0 },
	/* RFC 6147 5.5: CD=1, no DNS64. */
	{ "10.0.0.1", LDNS_RR_CLASS_IN, 1, 1, 1, NULL, 0, NULL, 0 },
	/* recursive-only: RD=0, none; without it, DNS64 still. */
	{ "10.0.0.1", LDNS_RR_CLASS_IN, 0, 0, 1, NULL, 0, NULL, 0 },
	{ "10.0.0.1", LDNS_RR_CLASS_IN, 0, 0, 0, NULL, 0, NULL, 0x3 },
	/* RFC 6147 6.3.3: dns64-clients. */
	{ "10.0.0.1", LDNS_RR_CLASS_IN, 1, 0, 1, "10.0.0.0/8", 0, NULL, 0x3 },
	{ "192.168.1.1", LDNS_RR_CLASS_IN, 1, 0, 1, "10.0.0.0/8", 0, NULL,
	    0 },
	/* dns64-ipv6-only. */
	{ "10.0.0.1", LDNS_RR_CLASS_IN, 1, 0, 1, NULL, 1, NULL, 0 },
	{ "fd00::1", LDNS_RR_CLASS_IN, 1, 0, 1, NULL, 1, NULL, 0x3 },
	/* A v4-mapped client is an IPv4 client. */
	{ "::ffff:10.0.0.1", LDNS_RR_CLASS_IN, 1, 0, 1, NULL, 1, NULL, 0 },
	/* Per-prefix clients. */
	{ "10.0.0.1", LDNS_RR_CLASS_IN, 1, 0, 1, NULL, 0, "10.0.0.0/8", 0x3 },
	{ "10.1.0.1", LDNS_RR_CLASS_IN, 1, 0, 1, NULL, 0, "10.0.0.0/16",
	    0x1 },
};

START_TEST(test_prefixes)
{
	struct conf		*conf;
	struct conf_prefix	*second;
	struct policy_query	 pq;
	struct sockaddr_storage	 ss;

	ck_assert_ptr_nonnull(conf = conf_new());
	add_prefix(conf, "64:ff9b::/96");
	second = add_prefix(conf, "2001:db8:64::/96");
	conf->recursive_only = prefixes_table[_i].recursive_only;
	conf->dns64_ipv6_only = prefixes_table[_i].ipv6_only;
	if (prefixes_table[_i].dns64_clients != NULL)
		add_net(&conf->dns64_clients,
		    prefixes_table[_i].dns64_clients, ACL_ALLOW);
	if (prefixes_table[_i].second_clients != NULL)
		add_net(&second->clients, prefixes_table[_i].second_clients,
		    ACL_ALLOW);
	ss = peer(prefixes_table[_i].peer);
	memset(&pq, 0, sizeof(pq));
	pq.peer = (struct sockaddr *)&ss;
	pq.qclass = prefixes_table[_i].qclass;
	pq.qtype = LDNS_RR_TYPE_AAAA;
	pq.rd = prefixes_table[_i].rd;
	pq.cd = prefixes_table[_i].cd;
	ck_assert_uint_eq(policy_prefixes(conf, &pq),
	    prefixes_table[_i].mask);
	conf_free(conf);
}
END_TEST

/* ----------------------------------------------------- policy_plan */

static const struct {
	const char	*qname;
	uint16_t	 qtype;
	uint32_t	 mask;
	int		 ipv4only;
	const char	*never;		/* never-synthesize, or NULL */
	enum policy_plan plan;
	int		 nibbles;	/* for reverse plans */
} plan_table[] = {
	{ "a.example.", LDNS_RR_TYPE_AAAA, 1, 1, NULL, PLAN_DNS64, 0 },
	{ "a.example.", LDNS_RR_TYPE_A, 1, 1, NULL, PLAN_FORWARD, 0 },
	{ "a.example.", LDNS_RR_TYPE_AAAA, 0, 1, NULL, PLAN_FORWARD, 0 },
	{ "x.a.example.", LDNS_RR_TYPE_AAAA, 1, 1, "a.example.",
	    PLAN_FORWARD, 0 },
	/* RFC 8880 7.1: ipv4only.arpa, any type, even without DNS64. */
	{ "ipv4only.arpa.", LDNS_RR_TYPE_AAAA, 1, 1, NULL, PLAN_LOCAL, 0 },
	{ "IPv4Only.ARPA.", LDNS_RR_TYPE_A, 0, 1, NULL, PLAN_LOCAL, 0 },
	{ "x.ipv4only.arpa.", LDNS_RR_TYPE_A, 0, 1, NULL, PLAN_LOCAL, 0 },
	{ "ipv4only.arpa.", LDNS_RR_TYPE_AAAA, 1, 0, NULL, PLAN_DNS64, 0 },
	{ "170.0.0.192.in-addr.arpa.", LDNS_RR_TYPE_PTR, 0, 1, NULL,
	    PLAN_LOCAL, 0 },
	{ "170.0.0.192.in-addr.arpa.", LDNS_RR_TYPE_TXT, 0, 1, NULL,
	    PLAN_FORWARD, 0 },
	/* RFC 6147 5.3.1: the reverse zone of 64:ff9b::/96 is ours. */
	{ "b.9.f.f.4.6.0.0.ip6.arpa.", LDNS_RR_TYPE_PTR, 1, 1, NULL,
	    PLAN_FORWARD, 0 },
	{ "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa.",
	    LDNS_RR_TYPE_SOA, 1, 1, NULL, PLAN_LOCAL, 24 },
	{ "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa.",
	    LDNS_RR_TYPE_NS, 1, 1, NULL, PLAN_LOCAL, 24 },
	{ "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa.",
	    LDNS_RR_TYPE_PTR, 1, 1, NULL, PLAN_LOCAL, 25 },
	/* Every type in the reverse zone, AAAA included, is ours. */
	{ "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa.",
	    LDNS_RR_TYPE_AAAA, 1, 1, NULL, PLAN_LOCAL, 24 },
	{ "1.2.2.0.0.0.0.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0."
	    "ip6.arpa.", LDNS_RR_TYPE_AAAA, 1, 1, NULL, PLAN_REVERSE_MAP, 32 },
	{ "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa.",
	    LDNS_RR_TYPE_AAAA, 0, 1, NULL, PLAN_FORWARD, 0 },
	{ "1.2.2.0.0.0.0.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0."
	    "ip6.arpa.", LDNS_RR_TYPE_PTR, 1, 1, NULL, PLAN_REVERSE_MAP, 32 },
	{ "1.2.2.0.0.0.0.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.B.9.F.F.4.6.0.0."
	    "ip6.arpa.", LDNS_RR_TYPE_PTR, 1, 1, NULL, PLAN_REVERSE_MAP, 32 },
	/* A client without DNS64 gets the reverse zone forwarded. */
	{ "1.2.2.0.0.0.0.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0."
	    "ip6.arpa.", LDNS_RR_TYPE_PTR, 0, 1, NULL, PLAN_FORWARD, 0 },
	/* RFC 8880 7.2: a synthesized 192.0.0.170 maps back locally. */
	{ "a.a.0.0.0.0.0.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0."
	    "ip6.arpa.", LDNS_RR_TYPE_PTR, 1, 1, NULL, PLAN_LOCAL, 32 },
	{ "a.a.0.0.0.0.0.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0."
	    "ip6.arpa.", LDNS_RR_TYPE_PTR, 1, 0, NULL, PLAN_REVERSE_MAP, 32 },
	/* Outside every prefix: resolved normally (5.3.1). */
	{ "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
	    "ip6.arpa.", LDNS_RR_TYPE_PTR, 1, 1, NULL, PLAN_FORWARD, 0 },
};

START_TEST(test_plan)
{
	struct conf		*conf;
	struct policy_query	 pq;
	struct policy_reverse	 rev;
	struct sockaddr_storage	 ss = peer("10.0.0.1");
	ldns_rdf		*qname;

	ck_assert_ptr_nonnull(conf = conf_new());
	add_prefix(conf, "64:ff9b::/96");
	conf->ipv4only_arpa = plan_table[_i].ipv4only;
	if (plan_table[_i].never != NULL)
		add_domain(&conf->never_synth, plan_table[_i].never);
	ck_assert_ptr_nonnull(qname =
	    ldns_dname_new_frm_str(plan_table[_i].qname));
	memset(&pq, 0, sizeof(pq));
	pq.peer = (struct sockaddr *)&ss;
	pq.qname = qname;
	pq.qtype = plan_table[_i].qtype;
	pq.qclass = LDNS_RR_CLASS_IN;
	pq.rd = 1;
	ck_assert_int_eq(policy_plan(conf, &pq, plan_table[_i].mask, &rev),
	    plan_table[_i].plan);
	if (plan_table[_i].nibbles > 0)
		ck_assert_int_eq(rev.nibbles, plan_table[_i].nibbles);
	if (plan_table[_i].plan == PLAN_REVERSE_MAP)
		ck_assert_uint_eq(rev.v4[0], 192);
	ldns_rdf_deep_free(qname);
	conf_free(conf);
}
END_TEST

/* ------------------------------------------ answers from presentation */

/* A reply with rcode and RRs given as "S presentation" (S: a, n, x). */
static ldns_pkt *
reply(int rcode, const char *const *rrs, int ede)
{
	ldns_pkt	*pkt;
	ldns_rr		*rr;
	ldns_pkt_section sec;
	size_t		 i;

	ck_assert_ptr_nonnull(pkt = ldns_pkt_new());
	ldns_pkt_set_qr(pkt, 1);
	ldns_pkt_set_rcode(pkt, rcode);
	for (i = 0; rrs != NULL && rrs[i] != NULL; i++) {
		sec = rrs[i][0] == 'a' ? LDNS_SECTION_ANSWER :
		    rrs[i][0] == 'n' ? LDNS_SECTION_AUTHORITY :
		    LDNS_SECTION_ADDITIONAL;
		ck_assert_int_eq(ldns_rr_new_frm_str(&rr, rrs[i] + 2, 0, NULL,
		    NULL), LDNS_STATUS_OK);
		ck_assert(ldns_pkt_push_rr(pkt, sec, rr));
	}
	if (ede >= 0) {
		ldns_pkt_set_edns_udp_size(pkt, 1232);
		ck_assert_int_eq(dnsmsg_add_ede(pkt, ede, NULL), 0);
	}
	return (pkt);
}

static const char *const rr_real[] = {
	"a q.t.example. 300 IN AAAA 2001:db8::1", NULL
};
static const char *const rr_mapped[] = {
	"a q.t.example. 300 IN AAAA ::ffff:192.0.2.1", NULL
};
static const char *const rr_mixed[] = {
	"a q.t.example. 300 IN AAAA ::ffff:192.0.2.1",
	"a q.t.example. 300 IN AAAA 2001:db8::1", NULL
};
static const char *const rr_nodata[] = { "n " NODATA_SOA, NULL };
static const char *const rr_chain_nodata[] = {
	"a q.t.example. 300 IN CNAME r.t.example.", "n " NODATA_SOA, NULL
};
static const char *const rr_chain_real[] = {
	"a q.t.example. 300 IN CNAME r.t.example.",
	"a r.t.example. 300 IN AAAA 2001:db8::2", NULL
};
static const char *const rr_signed_nodata[] = {
	"n " NODATA_SOA,
	"n t.example. 1200 IN RRSIG SOA 8 2 3600 20300101000000 "
	    "20200101000000 1 t.example. AAAA",
	"n q.t.example. 1200 IN NSEC z.t.example. A RRSIG NSEC", NULL
};
static const char *const rr_signed_mapped[] = {
	"a q.t.example. 300 IN AAAA ::ffff:192.0.2.1",
	"a q.t.example. 300 IN RRSIG AAAA 8 3 300 20300101000000 "
	    "20200101000000 1 t.example. AAAA", NULL
};

static const struct {
	const char		*what;
	int			 failed_leg;	/* no reply at all */
	int			 rcode;
	const char *const	*rrs;
	int			 ede;		/* -1: none */
	int			 synth_on_error;
	int			 dnssec;
	const char		*always;	/* always-synthesize, or NULL */
	const char		*never;
	enum policy_aaaa	 verdict;
	const char		*target;
	int			 failed;
} aaaa_table[] = {
	{ "timeout", 1, 0, NULL, -1, 1, 0, NULL, NULL, AAAA_NEED_A,
	    "q.t.example.", 1 },
	{ "timeout, no synthesis on error", 1, 0, NULL, -1, 0, 0, NULL,
	    NULL, AAAA_SERVFAIL, "q.t.example.", 0 },
	{ "5.1.2: NXDOMAIN", 0, LDNS_RCODE_NXDOMAIN, rr_nodata, -1, 1, 0,
	    NULL, NULL, AAAA_RELAY, "q.t.example.", 0 },
	{ "5.1.2: SERVFAIL", 0, LDNS_RCODE_SERVFAIL, NULL, -1, 1, 0, NULL,
	    NULL, AAAA_NEED_A, "q.t.example.", 1 },
	{ "5.1.2: REFUSED", 0, LDNS_RCODE_REFUSED, NULL, -1, 1, 0, NULL,
	    NULL, AAAA_NEED_A, "q.t.example.", 1 },
	{ "SERVFAIL, no synthesis on error", 0, LDNS_RCODE_SERVFAIL, NULL,
	    -1, 0, 0, NULL, NULL, AAAA_RELAY, "q.t.example.", 0 },
	{ "5.5: SERVFAIL with EDE 6 (bogus)", 0, LDNS_RCODE_SERVFAIL, NULL,
	    6, 1, 0, NULL, NULL, AAAA_RELAY, "q.t.example.", 0 },
	{ "SERVFAIL with EDE 13", 0, LDNS_RCODE_SERVFAIL, NULL, 13, 1, 0,
	    NULL, NULL, AAAA_NEED_A, "q.t.example.", 1 },
	{ "5.1.1: real AAAA", 0, LDNS_RCODE_NOERROR, rr_real, -1, 1, 0, NULL,
	    NULL, AAAA_RELAY, "q.t.example.", 0 },
	{ "5.1.6: NODATA", 0, LDNS_RCODE_NOERROR, rr_nodata, -1, 1, 0, NULL,
	    NULL, AAAA_NEED_A, "q.t.example.", 0 },
	{ "5.1.4: only excluded AAAA", 0, LDNS_RCODE_NOERROR, rr_mapped, -1,
	    1, 0, NULL, NULL, AAAA_NEED_A, "q.t.example.", 0 },
	{ "5.1.4: some excluded", 0, LDNS_RCODE_NOERROR, rr_mixed, -1, 1, 0,
	    NULL, NULL, AAAA_RELAY_STRIPPED, "q.t.example.", 0 },
	{ "5.1.5: chain to NODATA", 0, LDNS_RCODE_NOERROR, rr_chain_nodata,
	    -1, 1, 0, NULL, NULL, AAAA_NEED_A, "r.t.example.", 0 },
	{ "5.1.5: chain to AAAA", 0, LDNS_RCODE_NOERROR, rr_chain_real, -1,
	    1, 0, NULL, NULL, AAAA_RELAY, "r.t.example.", 0 },
	{ "always-synthesize the query name", 0, LDNS_RCODE_NOERROR, rr_real,
	    -1, 1, 0, "t.example.", NULL, AAAA_NEED_A, "q.t.example.", 0 },
	{ "always-synthesize the chain's end", 0, LDNS_RCODE_NOERROR,
	    rr_chain_real, -1, 1, 0, "r.t.example.", NULL, AAAA_NEED_A,
	    "r.t.example.", 0 },
	{ "never-synthesize the chain's end", 0, LDNS_RCODE_NOERROR,
	    rr_chain_nodata, -1, 1, 0, NULL, "r.t.example.", AAAA_RELAY,
	    "r.t.example.", 0 },
	{ "5.5: DO, signed NODATA: untouched", 0, LDNS_RCODE_NOERROR,
	    rr_signed_nodata, -1, 1, 1, NULL, NULL, AAAA_RELAY,
	    "q.t.example.", 0 },
	{ "5.5: no DO, signed NODATA", 0, LDNS_RCODE_NOERROR,
	    rr_signed_nodata, -1, 1, 0, NULL, NULL, AAAA_NEED_A,
	    "q.t.example.", 0 },
	{ "5.5: DO, signed excluded AAAA: untouched, not stripped", 0,
	    LDNS_RCODE_NOERROR, rr_signed_mapped, -1, 1, 1, NULL, NULL,
	    AAAA_RELAY, "q.t.example.", 0 },
	{ "no DO, signed excluded AAAA: synthesized", 0, LDNS_RCODE_NOERROR,
	    rr_signed_mapped, -1, 1, 0, NULL, NULL, AAAA_NEED_A,
	    "q.t.example.", 0 },
};

START_TEST(test_aaaa)
{
	struct conf		*conf;
	struct policy_query	 pq;
	struct sockaddr_storage	 ss = peer("10.0.0.1");
	const ldns_rdf		*target;
	ldns_rdf		*qname, *want;
	ldns_pkt		*pkt = NULL;
	int			 failed;

	ck_assert_ptr_nonnull(conf = conf_new());
	conf->synth_on_error = aaaa_table[_i].synth_on_error;
	if (aaaa_table[_i].always != NULL)
		add_domain(&conf->always_synth, aaaa_table[_i].always);
	if (aaaa_table[_i].never != NULL)
		add_domain(&conf->never_synth, aaaa_table[_i].never);
	if (!aaaa_table[_i].failed_leg)
		pkt = reply(aaaa_table[_i].rcode, aaaa_table[_i].rrs,
		    aaaa_table[_i].ede);
	ck_assert_ptr_nonnull(qname = ldns_dname_new_frm_str("q.t.example."));
	ck_assert_ptr_nonnull(want =
	    ldns_dname_new_frm_str(aaaa_table[_i].target));
	memset(&pq, 0, sizeof(pq));
	pq.peer = (struct sockaddr *)&ss;
	pq.qname = qname;
	pq.qtype = LDNS_RR_TYPE_AAAA;
	pq.qclass = LDNS_RR_CLASS_IN;
	pq.rd = 1;
	pq.dnssec = aaaa_table[_i].dnssec;
	ck_assert_msg(policy_aaaa(conf, &pq, pkt, &target, &failed) ==
	    aaaa_table[_i].verdict, "%s", aaaa_table[_i].what);
	ck_assert_msg(ldns_dname_compare(target, want) == 0, "%s: target",
	    aaaa_table[_i].what);
	ck_assert_int_eq(failed, aaaa_table[_i].failed);
	/* A decision, not an action: the answer is unchanged. */
	if (pkt != NULL && aaaa_table[_i].rrs != NULL)
		ck_assert_uint_eq(ldns_pkt_ancount(pkt) +
		    ldns_pkt_nscount(pkt), ldns_rr_list_rr_count(
		    ldns_pkt_answer(pkt)) + ldns_rr_list_rr_count(
		    ldns_pkt_authority(pkt)));
	ldns_pkt_free(pkt);
	ldns_rdf_deep_free(qname);
	ldns_rdf_deep_free(want);
	conf_free(conf);
}
END_TEST

/* -------------------------------------------------------- policy_a */

static const char *const a_found[] = {
	"a r.t.example. 300 IN A 192.0.2.1", NULL
};
static const char *const a_chain[] = {
	"a r.t.example. 300 IN CNAME s.t.example.",
	"a s.t.example. 300 IN A 192.0.2.1", NULL
};
static const char *const a_other_owner[] = {
	"a other.t.example. 300 IN A 192.0.2.1", NULL
};
static const char *const a_class_ch[] = {
	"a r.t.example. 300 CH A 192.0.2.1", NULL
};

static const struct {
	const char		*what;
	int			 failed_leg;
	int			 rcode;
	const char *const	*rrs;
	int			 aaaa_failed;
	enum policy_a		 verdict;
	const char		*owner;
} a_table[] = {
	{ "A records", 0, LDNS_RCODE_NOERROR, a_found, 0, A_SYNTHESIZE,
	    "r.t.example." },
	{ "A behind a chain", 0, LDNS_RCODE_NOERROR, a_chain, 0, A_SYNTHESIZE,
	    "s.t.example." },
	{ "A of another owner only", 0, LDNS_RCODE_NOERROR, a_other_owner, 0,
	    A_RELAY_AAAA, "r.t.example." },
	{ "5.1: class CH A is not DNS64's", 0, LDNS_RCODE_NOERROR,
	    a_class_ch, 0, A_RELAY_AAAA, "r.t.example." },
	{ "5.1.6: empty A after NODATA: the NODATA", 0, LDNS_RCODE_NOERROR,
	    rr_nodata, 0, A_RELAY_AAAA, "r.t.example." },
	{ "5.1.6: empty A after a failed AAAA: the A answer", 0,
	    LDNS_RCODE_NOERROR, rr_nodata, 1, A_RELAY_A, "r.t.example." },
	{ "5.1.6: NXDOMAIN at the chain's end", 0, LDNS_RCODE_NXDOMAIN,
	    rr_nodata, 0, A_RELAY_A, "r.t.example." },
	{ "A leg failed after NODATA", 1, 0, NULL, 0, A_SERVFAIL,
	    "r.t.example." },
	{ "A SERVFAIL after NODATA", 0, LDNS_RCODE_SERVFAIL, NULL, 0,
	    A_SERVFAIL, "r.t.example." },
	{ "both failed: the AAAA leg's error", 0, LDNS_RCODE_SERVFAIL, NULL,
	    1, A_AAAA_ERROR, "r.t.example." },
	{ "both failed, no A reply", 1, 0, NULL, 1, A_AAAA_ERROR,
	    "r.t.example." },
};

START_TEST(test_a)
{
	const ldns_rdf	*owner;
	ldns_rdf	*aname, *want;
	ldns_pkt	*pkt = NULL;

	if (!a_table[_i].failed_leg)
		pkt = reply(a_table[_i].rcode, a_table[_i].rrs, -1);
	ck_assert_ptr_nonnull(aname = ldns_dname_new_frm_str("r.t.example."));
	ck_assert_ptr_nonnull(want = ldns_dname_new_frm_str(a_table[_i].owner));
	ck_assert_msg(policy_a(pkt, a_table[_i].aaaa_failed, aname, &owner) ==
	    a_table[_i].verdict, "%s", a_table[_i].what);
	ck_assert_msg(ldns_dname_compare(owner, want) == 0, "%s: owner",
	    a_table[_i].what);
	ldns_pkt_free(pkt);
	ldns_rdf_deep_free(aname);
	ldns_rdf_deep_free(want);
}
END_TEST

START_TEST(test_unmapped_and_signed)
{
	static const char *const signed_a[] = {
		"a r.t.example. 300 IN A 192.0.2.1",
		"a r.t.example. 300 IN RRSIG A 8 3 300 20300101000000 "
		    "20200101000000 1 t.example. AAAA", NULL
	};
	ldns_pkt	*pkt;
	ldns_rdf	*owner;

	/* A records no prefix may map: the answer without DNS64. */
	ck_assert_int_eq(policy_unmapped(0), A_RELAY_AAAA);
	ck_assert_int_eq(policy_unmapped(1), A_AAAA_ERROR);
	ck_assert_ptr_nonnull(owner = ldns_dname_new_frm_str("r.t.example."));
	pkt = reply(LDNS_RCODE_NOERROR, signed_a, -1);
	ck_assert_int_eq(policy_a_signed(pkt, owner), 1);
	ck_assert_int_eq(policy_is_signed(pkt), 1);
	ldns_pkt_free(pkt);
	pkt = reply(LDNS_RCODE_NOERROR, a_found, -1);
	ck_assert_int_eq(policy_a_signed(pkt, owner), 0);
	ck_assert_int_eq(policy_is_signed(pkt), 0);
	/* RFC 6891 6.1.3: the 12-bit RCODE. */
	ldns_pkt_set_edns_udp_size(pkt, 1232);
	ldns_pkt_set_edns_extended_rcode(pkt, 1);
	ck_assert_int_eq(policy_rcode(pkt), 16);
	ldns_pkt_free(pkt);
	ldns_rdf_deep_free(owner);
}
END_TEST

/*
 * policy_a_reaches: does the A answer for q.t.example (sent with the AAAA
 * query) speak for the end of the AAAA chain, e.g. r.t.example?
 */
static const char *const reach_a_cname[] = {
	"a q.t.example. 300 IN CNAME r.t.example.",
	"a r.t.example. 300 IN A 192.0.2.1", NULL
};
static const char *const reach_cname_only[] = {
	"a q.t.example. 300 IN CNAME r.t.example.", NULL
};
static const char *const reach_nodata_soa[] = {
	"a q.t.example. 300 IN CNAME r.t.example.",
	"n t.example. 300 IN SOA ns.t.example. h.t.example. 1 2 3 4 60", NULL
};
static const char *const reach_other[] = {
	"a q.t.example. 300 IN CNAME s.t.example.",
	"a s.t.example. 300 IN A 192.0.2.1", NULL
};
static const struct {
	int			 rcode;
	const char *const	*rrs;
	const char		*target;
	int			 reaches;
} reach_table[] = {
	{ LDNS_RCODE_NOERROR, reach_a_cname, "r.t.example.", 1 },
	{ LDNS_RCODE_NOERROR, reach_a_cname, "q.t.example.", 0 },
	/* An authoritative server stops at the CNAME: not enough. */
	{ LDNS_RCODE_NOERROR, reach_cname_only, "r.t.example.", 0 },
	{ LDNS_RCODE_NOERROR, reach_nodata_soa, "r.t.example.", 1 },
	{ LDNS_RCODE_NXDOMAIN, reach_cname_only, "r.t.example.", 1 },
	{ LDNS_RCODE_NOERROR, reach_other, "r.t.example.", 0 },
	{ LDNS_RCODE_SERVFAIL, reach_a_cname, "r.t.example.", 0 },
	{ -1, NULL, "q.t.example.", 0 },
};

START_TEST(test_a_reaches)
{
	ldns_pkt	*pkt = NULL;
	ldns_rdf	*qname, *target;

	ck_assert_ptr_nonnull(qname = ldns_dname_new_frm_str("q.t.example."));
	ck_assert_ptr_nonnull(target =
	    ldns_dname_new_frm_str(reach_table[_i].target));
	if (reach_table[_i].rcode >= 0)
		pkt = reply(reach_table[_i].rcode, reach_table[_i].rrs, -1);
	ck_assert_int_eq(policy_a_reaches(pkt, qname, target),
	    reach_table[_i].reaches);
	ldns_pkt_free(pkt);
	ldns_rdf_deep_free(qname);
	ldns_rdf_deep_free(target);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite	*s = suite_create("policy");
	TCase	*tc;

	tc = tcase_create("who");
	tcase_add_loop_test(tc, test_prefixes, 0,
	    sizeof(prefixes_table) / sizeof(prefixes_table[0]));
	tcase_add_loop_test(tc, test_plan, 0,
	    sizeof(plan_table) / sizeof(plan_table[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("answers");
	tcase_add_loop_test(tc, test_aaaa, 0,
	    sizeof(aaaa_table) / sizeof(aaaa_table[0]));
	tcase_add_loop_test(tc, test_a, 0,
	    sizeof(a_table) / sizeof(a_table[0]));
	tcase_add_test(tc, test_unmapped_and_signed);
	tcase_add_loop_test(tc, test_a_reaches, 0,
	    sizeof(reach_table) / sizeof(reach_table[0]));
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(policy_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
