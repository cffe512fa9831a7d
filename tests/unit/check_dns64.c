/*
 * check_dns64.c -- unit tests of the pure DNS64 functions against the
 * examples of RFC 6052 2.4 (Table 1 and 2) and the rules of RFC 6147.
 */
#include "config.h"

#include <sys/queue.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <ldns/ldns.h>

#include "acl.h"
#include "dns64.h"

static struct dns64_prefix
prefix(const char *addr, int plen)
{
	struct dns64_prefix	 p;

	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(inet_pton(AF_INET6, addr, p.addr), 1);
	p.plen = plen;
	return (p);
}

static void
v4(const char *s, uint8_t *out)
{
	ck_assert_int_eq(inet_pton(AF_INET, s, out), 1);
}

/*
 * RFC 6052 2.4 Table 1 and Table 2, as printed there (the texts are parsed,
 * the comparison is on the 16-byte binaries), and BIND's system-test set
 * for 1.2.3.5.
 */
static const struct {
	const char	*prefix;
	int		 plen;
	const char	*ipv4;
	const char	*expect;
} table[] = {
	{ "2001:db8::", 32, "192.0.2.33", "2001:db8:c000:221::" },
	{ "2001:db8:100::", 40, "192.0.2.33", "2001:db8:1c0:2:21::" },
	{ "2001:db8:122::", 48, "192.0.2.33", "2001:db8:122:c000:2:2100::" },
	{ "2001:db8:122:300::", 56, "192.0.2.33", "2001:db8:122:3c0:0:221::" },
	{ "2001:db8:122:344::", 64, "192.0.2.33",
	    "2001:db8:122:344:c0:2:2100::" },
	{ "2001:db8:122:344::", 96, "192.0.2.33",
	    "2001:db8:122:344::192.0.2.33" },
	{ "64:ff9b::", 96, "192.0.2.33", "64:ff9b::192.0.2.33" },
	{ "2001:32::", 32, "1.2.3.5", "2001:32:102:305::" },
	{ "2001:40::", 40, "1.2.3.5", "2001:40:1:203:5::" },
	{ "2001:48::", 48, "1.2.3.5", "2001:48:0:102:3:500::" },
	{ "2001:56::", 56, "1.2.3.5", "2001:56:0:1:2:305::" },
	{ "2001:64::", 64, "1.2.3.5", "2001:64::1:203:500:0" },
	{ "2001:96::", 96, "1.2.3.5", "2001:96::102:305" },
};
#define NTABLE	(sizeof(table) / sizeof(table[0]))

START_TEST(test_embed_table)
{
	struct dns64_prefix	 p = prefix(table[_i].prefix, table[_i].plen);
	uint8_t			 a[4], got[16], want[16];

	v4(table[_i].ipv4, a);
	ck_assert_int_eq(inet_pton(AF_INET6, table[_i].expect, want), 1);
	dns64_embed(&p, a, got);
	ck_assert_msg(memcmp(got, want, 16) == 0, "%s/%d with %s",
	    table[_i].prefix, table[_i].plen, table[_i].ipv4);
}
END_TEST

START_TEST(test_extract_table)
{
	struct dns64_prefix	 p = prefix(table[_i].prefix, table[_i].plen);
	uint8_t			 a[4], got[4], in6[16];

	v4(table[_i].ipv4, a);
	ck_assert_int_eq(inet_pton(AF_INET6, table[_i].expect, in6), 1);
	ck_assert_int_eq(dns64_extract(&p, in6, got), 0);
	ck_assert_mem_eq(got, a, 4);
}
END_TEST

START_TEST(test_u_octet_zero)
{
	static const int	 lens[] = { 32, 40, 48, 56, 64, 96 };
	struct dns64_prefix	 p;
	const uint8_t		 all[4] = { 0xff, 0xff, 0xff, 0xff };
	uint8_t			 out[16];
	int			 end, j;
	size_t			 i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		p = prefix("2001:db8::", lens[i]);
		dns64_embed(&p, all, out);
		ck_assert_msg(out[8] == 0, "u octet set for /%d", lens[i]);
		/* RFC 6052 2.2: the suffix after the IPv4 bits is zero. */
		end = lens[i] / 8 + 4 + (lens[i] < 96);
		for (j = end; j < 16; j++)
			ck_assert_msg(out[j] == 0, "suffix octet %d set "
			    "for /%d", j, lens[i]);
	}
}
END_TEST

START_TEST(test_extract_outside)
{
	struct dns64_prefix	 p = prefix("64:ff9b::", 96);
	uint8_t			 in6[16], a[4];

	ck_assert_int_eq(inet_pton(AF_INET6, "64:ff9c::c000:221", in6), 1);
	ck_assert_int_eq(dns64_extract(&p, in6, a), -1);
	p = prefix("2001:db8:100::", 40);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8:200::", in6), 1);
	ck_assert_int_eq(dns64_extract(&p, in6, a), -1);
}
END_TEST

START_TEST(test_prefix_check)
{
	static const int	 good[] = { 32, 40, 48, 56, 64, 96 };
	static const int	 bad[] = { 0, 8, 31, 33, 60, 72, 80, 88, 100,
	    128 };
	struct dns64_prefix	 p;
	const char		*err = NULL;
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		p = prefix("2001:db8::", good[i]);
		ck_assert_msg(dns64_prefix_check(&p, &err) == 0, "/%d: %s",
		    good[i], err);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = prefix("2001:db8::", bad[i]);
		ck_assert_msg(dns64_prefix_check(&p, &err) == -1,
		    "/%d accepted", bad[i]);
	}
}
END_TEST

/* BIND's conf/bad10..bad17: each bit of octet 8 set in a /96. */
START_TEST(test_prefix_u_bits)
{
	struct dns64_prefix	 p = prefix("::", 96);
	const char		*err = NULL;

	p.addr[8] = 0x80 >> _i;
	ck_assert_int_eq(dns64_prefix_check(&p, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "64-71"));
}
END_TEST

START_TEST(test_prefix_host_bits)
{
	struct dns64_prefix	 p = prefix("2001:db8:0:1::", 48);
	const char		*err = NULL;

	ck_assert_int_eq(dns64_prefix_check(&p, &err), -1);
	p = prefix("64:ff9b::1", 96);
	ck_assert_int_eq(dns64_prefix_check(&p, &err), -1);
	p = prefix("64:ff9b::", 96);
	ck_assert_int_eq(dns64_prefix_check(&p, &err), 0);
}
END_TEST

START_TEST(test_wkp)
{
	struct dns64_prefix	 p = prefix("64:ff9b::", 96);

	ck_assert_int_eq(dns64_prefix_is_wkp(&p), 1);
	p = prefix("64:ff9b::", 64);
	ck_assert_int_eq(dns64_prefix_is_wkp(&p), 0);
	p = prefix("64:ff9b:1::", 96);
	ck_assert_int_eq(dns64_prefix_is_wkp(&p), 0);
}
END_TEST

static const struct {
	const char	*addr;
	int		 global;
} globals[] = {
	{ "8.8.8.8", 1 }, { "1.2.3.4", 1 },
	{ "0.1.2.3", 0 }, { "10.1.2.3", 0 }, { "100.64.0.1", 0 },
	{ "100.127.255.255", 0 }, { "100.128.0.1", 1 }, { "100.63.255.255", 1 },
	{ "127.0.0.1", 0 }, { "169.254.1.1", 0 }, { "172.15.255.255", 1 },
	{ "172.16.0.0", 0 }, { "172.31.255.255", 0 }, { "172.32.0.0", 1 },
	{ "192.0.0.170", 0 }, { "192.0.0.9", 1 }, { "192.0.0.10", 1 },
	{ "192.0.2.33", 0 }, { "192.168.1.1", 0 }, { "198.18.0.1", 0 },
	{ "198.19.255.255", 0 }, { "198.20.0.0", 1 }, { "198.51.100.7", 0 },
	{ "203.0.113.1", 0 }, { "224.0.0.1", 0 }, { "239.255.255.255", 0 },
	{ "240.0.0.1", 0 }, { "255.255.255.255", 0 }, { "223.255.255.255", 1 },
};

START_TEST(test_ipv4_is_global)
{
	uint8_t	 a[4];

	v4(globals[_i].addr, a);
	ck_assert_msg(dns64_ipv4_is_global(a) == globals[_i].global, "%s",
	    globals[_i].addr);
}
END_TEST

START_TEST(test_ttl_msb)
{
	ck_assert_uint_eq(dns64_ttl(0x80000010U), 0);
	ck_assert_uint_eq(dns64_ttl(0x7fffffffU), 0x7fffffffU);
	ck_assert_uint_eq(dns64_ttl(300), 300);
}
END_TEST

static ldns_rr *
rr(const char *s)
{
	ldns_rr	*r = NULL;

	ck_assert_int_eq(ldns_rr_new_frm_str(&r, s, 3600, NULL, NULL),
	    LDNS_STATUS_OK);
	return (r);
}

static ldns_rdf *
dname(const char *s)
{
	ldns_rdf	*d = ldns_dname_new_frm_str(s);

	ck_assert_ptr_nonnull(d);
	return (d);
}

static ldns_rr_list *
list(const char **rrs)
{
	ldns_rr_list	*l = ldns_rr_list_new();

	for (; *rrs != NULL; rrs++)
		ck_assert(ldns_rr_list_push_rr(l, rr(*rrs)));
	return (l);
}

static ldns_pkt *
negative(const char *soa)
{
	ldns_pkt	*p = ldns_pkt_new();

	if (soa != NULL)
		ck_assert(ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr(soa)));
	return (p);
}

#define SOA(ttl)	"t.example. " ttl " IN SOA ns.t.example. " \
			    "h.t.example. 1 3600 900 604800 1200"

/* RFC 6147 5.1.7 */
START_TEST(test_synth_ttl)
{
	const char	*mixed[] = { "x.t.example. 300 IN A 192.0.2.1",
	    "x.t.example. 900 IN A 192.0.2.2", NULL };
	const char	*long_a[] = { "x.t.example. 1300 IN A 192.0.2.1", NULL };
	const char	*big[] = { "x.t.example. 86400 IN A 192.0.2.1", NULL };
	const char	*msb[] = { "x.t.example. 2147483664 IN A 192.0.2.1",
	    NULL };
	const char	*other[] = { "y.t.example. 5 IN A 192.0.2.1",
	    "x.t.example. 6 CH A 192.0.2.1",
	    "x.t.example. 700 IN A 192.0.2.9", NULL };
	ldns_rdf	*x = dname("x.t.example.");
	ldns_rr_list	*l;
	ldns_pkt	*neg;

	neg = negative(SOA("1200"));
	l = list(mixed);
	ck_assert_uint_eq(dns64_synth_ttl(l, x, neg), 300);
	ldns_rr_list_deep_free(l);
	l = list(long_a);
	ck_assert_uint_eq(dns64_synth_ttl(l, x, neg), 1200);
	ldns_rr_list_deep_free(l);
	/* No SOA in the negative answer: 600 at most. */
	l = list(big);
	ck_assert_uint_eq(dns64_synth_ttl(l, x, NULL), 600);
	ldns_pkt_free(neg);
	neg = negative(NULL);
	ck_assert_uint_eq(dns64_synth_ttl(l, x, neg), 600);
	ldns_rr_list_deep_free(l);
	/* With a SOA, the 600 cap does not apply: min(3600, MINIMUM 1200). */
	ldns_pkt_free(neg);
	neg = negative(SOA("3600"));
	l = list(big);
	ck_assert_uint_eq(dns64_synth_ttl(l, x, neg), 1200);
	ldns_rr_list_deep_free(l);
	/* RFC 2181 8 */
	l = list(msb);
	ck_assert_uint_eq(dns64_synth_ttl(l, x, neg), 0);
	ldns_rr_list_deep_free(l);
	/* RFC 2308 5: the negative TTL is min(SOA TTL, MINIMUM). */
	ldns_pkt_free(neg);
	neg = negative("t.example. 3600 IN SOA ns.t.example. h.t.example. "
	    "1 3600 900 604800 700");
	l = list(big);
	ck_assert_uint_eq(dns64_synth_ttl(l, x, neg), 700);
	ldns_rr_list_deep_free(l);
	/* Only the class IN A RRs at the owner count. */
	l = list(other);
	ck_assert_uint_eq(dns64_synth_ttl(l, x, neg), 700);
	ldns_rr_list_deep_free(l);
	ldns_pkt_free(neg);
	ldns_rdf_deep_free(x);
}
END_TEST

START_TEST(test_negative_ttl)
{
	ldns_pkt	*neg;
	uint32_t	 ttl = 12345;

	neg = negative(NULL);
	ck_assert_int_eq(dns64_negative_ttl(neg, &ttl), -1);
	ck_assert_uint_eq(ttl, 12345);
	ldns_pkt_free(neg);
	neg = negative(SOA("1200"));
	ck_assert_int_eq(dns64_negative_ttl(neg, &ttl), 0);
	ck_assert_uint_eq(ttl, 1200);
	ldns_pkt_free(neg);
	/* MINIMUM 1200 below the TTL 3600. */
	neg = negative(SOA("3600"));
	ck_assert_int_eq(dns64_negative_ttl(neg, &ttl), 0);
	ck_assert_uint_eq(ttl, 1200);
	ldns_pkt_free(neg);
}
END_TEST

START_TEST(test_synth_rr)
{
	struct dns64_prefix	 p = prefix("2001:db8:122::", 48);
	ldns_rr			*a = rr("A-Only.t.example. 300 IN A 192.0.2.33");
	ldns_rr			*aaaa;
	uint8_t			 want[16];

	aaaa = dns64_synth_rr(a, &p, 42);
	ck_assert_ptr_nonnull(aaaa);
	/* RFC 6147 5.1.7: owner of the A, type AAAA, class IN, 16 bytes. */
	ck_assert_int_eq(ldns_dname_compare(ldns_rr_owner(aaaa),
	    ldns_rr_owner(a)), 0);
	ck_assert_mem_eq(ldns_rdf_data(ldns_rr_owner(aaaa)),
	    ldns_rdf_data(ldns_rr_owner(a)), ldns_rdf_size(ldns_rr_owner(a)));
	ck_assert_int_eq(ldns_rr_get_type(aaaa), LDNS_RR_TYPE_AAAA);
	ck_assert_int_eq(ldns_rr_get_class(aaaa), LDNS_RR_CLASS_IN);
	ck_assert_uint_eq(ldns_rr_ttl(aaaa), 42);
	ck_assert_uint_eq(ldns_rdf_size(ldns_rr_rdf(aaaa, 0)), 16);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8:122:c000:2:2100::",
	    want), 1);
	ck_assert_mem_eq(ldns_rdf_data(ldns_rr_rdf(aaaa, 0)), want, 16);
	ldns_rr_free(aaaa);
	ldns_rr_free(a);
}
END_TEST

/* RFC 6147 5.1.5 */
START_TEST(test_chain_end)
{
	const char	*chain[] = {
	    "c.t.example. 60 IN CNAME a.t.example.",
	    "start.t.example. 60 IN CNAME B.t.example.",
	    "b.t.example. 60 IN CNAME c.t.example.", NULL };
	const char	*loop[] = {
	    "l1.t.example. 60 IN CNAME l2.t.example.",
	    "l2.t.example. 60 IN CNAME l1.t.example.", NULL };
	ldns_rr_list	*l = list(chain);
	ldns_rdf	*start = dname("START.t.example."), *a;
	ldns_rdf	*none = dname("none.t.example."), *l1;
	const ldns_rdf	*end;

	a = dname("a.t.example.");
	end = dns64_chain_end(l, start);
	ck_assert_int_eq(ldns_dname_compare(end, a), 0);
	ck_assert_ptr_eq(dns64_chain_end(l, none), none);
	ldns_rr_list_deep_free(l);
	/*
	 * A loop ends after a bounded number of hops: as many as the section
	 * has RRs (2), l1 -> l2 -> l1, so at the target of the second CNAME
	 * (a pointer into the list, not the name passed in).
	 */
	l = list(loop);
	l1 = dname("l1.t.example.");
	end = dns64_chain_end(l, l1);
	ck_assert_int_eq(ldns_dname_compare(end, l1), 0);
	ck_assert_ptr_eq(end, ldns_rr_rdf(ldns_rr_list_rr(l, 1), 0));
	ldns_rr_list_deep_free(l);
	ldns_rdf_deep_free(start);
	ldns_rdf_deep_free(none);
	ldns_rdf_deep_free(a);
	ldns_rdf_deep_free(l1);
}
END_TEST

/*
 * A chain of DNS64_CHAIN_MAX CNAMEs is followed to its end; a longer one
 * (here by 2) ends after DNS64_CHAIN_MAX hops, so that a section of
 * thousands of CNAMEs costs a bounded number of scans.
 */
START_TEST(test_chain_max)
{
	ldns_rr_list	*l;
	ldns_rr		*rr;
	ldns_rdf	*start = dname("c0.t.example."), *last;
	char		 s[128];
	int		 i, len;

	for (len = DNS64_CHAIN_MAX; len <= DNS64_CHAIN_MAX + 2; len += 2) {
		l = ldns_rr_list_new();
		ck_assert_ptr_nonnull(l);
		/* Last link first: each hop scans past the others. */
		for (i = len - 1; i >= 0; i--) {
			snprintf(s, sizeof(s),
			    "c%d.t.example. 60 IN CNAME c%d.t.example.", i,
			    i + 1);
			ck_assert_int_eq(ldns_rr_new_frm_str(&rr, s, 0, NULL,
			    NULL), LDNS_STATUS_OK);
			ck_assert(ldns_rr_list_push_rr(l, rr));
		}
		snprintf(s, sizeof(s), "c%d.t.example.", DNS64_CHAIN_MAX);
		last = dname(s);
		ck_assert_int_eq(ldns_dname_compare(dns64_chain_end(l, start),
		    last), 0);
		ldns_rdf_deep_free(last);
		ldns_rr_list_deep_free(l);
	}
	ldns_rdf_deep_free(start);
}
END_TEST

/* An exclusion list of the given networks. */
static void
exclude_list(struct acl *acl, const char **nets)
{
	struct acl_net	 net;
	const char	*errstr;

	TAILQ_INIT(acl);
	for (; *nets != NULL; nets++) {
		ck_assert_int_eq(acl_net_parse(*nets, &net, &errstr), 0);
		ck_assert_int_eq(acl_add(acl, &net, ACL_ALLOW), 0);
	}
}

/* The RRs of l, as "owner type rdata" lines, for exact comparison. */
static char *
list_str(const ldns_rr_list *l)
{
	char		*out = NULL, *s;
	size_t		 len = 0, i;
	FILE		*fp = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(fp);
	for (i = 0; i < ldns_rr_list_rr_count(l); i++) {
		s = ldns_rr2str(ldns_rr_list_rr(l, i));
		ck_assert_ptr_nonnull(s);
		fputs(s, fp);
		free(s);
	}
	ck_assert_int_eq(fclose(fp), 0);
	return (out);
}

static const char *mapped_only[] = {
    "m.t.example. 60 IN AAAA ::ffff:192.0.2.4", NULL };
static const char *mapped_mixed[] = {
    "m.t.example. 60 IN AAAA ::ffff:192.0.2.5",
    "m.t.example. 60 IN AAAA 2001:db8::5", NULL };
static const char *mixed_left[] = {
    "m.t.example. 60 IN AAAA 2001:db8::5", NULL };
static const char *chain_signed[] = {
    "a.t.example. 60 IN CNAME m.t.example.",
    "m.t.example. 60 IN AAAA ::ffff:1.2.3.4",
    "m.t.example. 60 IN RRSIG AAAA 8 3 60 20300101000000 "
    "20200101000000 1 t.example. AAAA",
    "other.t.example. 60 IN AAAA ::ffff:1.2.3.4", NULL };
static const char *chain_left[] = {
    "a.t.example. 60 IN CNAME m.t.example.",
    "other.t.example. 60 IN AAAA ::ffff:1.2.3.4", NULL };
static const char *real_only[] = {
    "m.t.example. 60 IN AAAA 2001:db8::1", NULL };
static const char *ch_only[] = {
    "m.t.example. 60 CH AAAA 2001:db8::1", NULL };
static const char *none[] = { NULL };
static const char *mapped[] = { "::ffff:0:0/96", NULL };
static const char *doc[] = { "2001:db8::/32", NULL };

static const struct {
	const char	 *name;
	const char	**answer;
	const char	**exclude;
	int		  real;		/* AAAA left at the chain's end */
	const char	**left;		/* the answer afterwards */
} excl_cases[] = {
	/* RFC 6147 5.1.4: only excluded AAAA: treated as none. */
	{ "mapped only", mapped_only, mapped, 0, none },
	/* Some excluded: the others are returned, never the excluded. */
	{ "mapped and real", mapped_mixed, mapped, 1, mixed_left },
	/* The chain stays, the AAAA RRSIG goes, other owners are not ours. */
	{ "at the chain's end, signed", chain_signed, mapped, 0, chain_left },
	{ "nothing excluded", real_only, mapped, 1, real_only },
	{ "empty list", mapped_only, none, 1, mapped_only },
	{ "configured range", real_only, doc, 0, none },
	/* RFC 6147 5.1: a class CH AAAA is no AAAA and no business of ours. */
	{ "class CH", ch_only, doc, 0, ch_only },
};

START_TEST(test_strip_excluded)
{
	struct acl	 acl;
	ldns_rr_list	*answer = list(excl_cases[_i].answer);
	ldns_rr_list	*want = list(excl_cases[_i].left);
	ldns_rdf	*owner = dname("M.t.example.");
	char		*got_s, *want_s;

	exclude_list(&acl, excl_cases[_i].exclude);
	ck_assert_msg(dns64_strip_excluded(answer, owner, &acl) ==
	    excl_cases[_i].real, "%s", excl_cases[_i].name);
	got_s = list_str(answer);
	want_s = list_str(want);
	ck_assert_msg(strcmp(got_s, want_s) == 0, "%s: got\n%swant\n%s",
	    excl_cases[_i].name, got_s, want_s);
	free(got_s);
	free(want_s);
	acl_clear(&acl);
	ldns_rr_list_deep_free(answer);
	ldns_rr_list_deep_free(want);
	ldns_rdf_deep_free(owner);
}
END_TEST

START_TEST(test_chain_rr)
{
	ldns_rr	*c = rr("a.t.example. 60 IN CNAME b.t.example.");
	ldns_rr	*d = rr("t.example. 60 IN DNAME u.example.");
	ldns_rr	*sig = rr("a.t.example. 60 IN RRSIG CNAME 8 3 60 "
	    "20300101000000 20200101000000 1 t.example. AAAA");
	ldns_rr	*asig = rr("a.t.example. 60 IN RRSIG A 8 3 60 "
	    "20300101000000 20200101000000 1 t.example. AAAA");
	ldns_rr	*a = rr("a.t.example. 60 IN A 192.0.2.1");
	ldns_rdf *owner = dname("A.T.EXAMPLE.");

	ck_assert_int_eq(dns64_is_chain_rr(c), 1);
	ck_assert_int_eq(dns64_is_chain_rr(d), 1);
	ck_assert_int_eq(dns64_is_chain_rr(sig), 1);
	ck_assert_int_eq(dns64_is_chain_rr(asig), 0);
	ck_assert_int_eq(dns64_is_chain_rr(a), 0);
	ck_assert_int_eq(dns64_rr_is(a, owner, LDNS_RR_TYPE_A), 1);
	ck_assert_int_eq(dns64_rr_is(asig, owner, LDNS_RR_TYPE_A), 1);
	ck_assert_int_eq(dns64_rr_is(sig, owner, LDNS_RR_TYPE_A), 0);
	ck_assert_int_eq(dns64_rr_at(a, owner, LDNS_RR_TYPE_A), 1);
	ck_assert_int_eq(dns64_rr_at(asig, owner, LDNS_RR_TYPE_A), 0);
	ldns_rr_free(c);
	ldns_rr_free(d);
	ldns_rr_free(sig);
	ldns_rr_free(asig);
	ldns_rr_free(a);
	ldns_rdf_deep_free(owner);
}
END_TEST

/* RFC 3596 2.5, RFC 6147 5.3.1 */
START_TEST(test_ip6arpa)
{
	ldns_rdf	*n;
	uint8_t		 addr[16], want[16];

	ck_assert_int_eq(inet_pton(AF_INET6, "64:ff9b::c000:221", want), 1);
	n = dname("1.2.2.0.0.0.0.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f."
	    "4.6.0.0.ip6.arpa.");
	ck_assert_int_eq(dns64_ip6arpa_parse(n, addr), 32);
	ck_assert_mem_eq(addr, want, 16);
	ldns_rdf_deep_free(n);
	/* Upper case nibbles and suffix. */
	n = dname("1.2.2.0.0.0.0.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.B.9.F.F."
	    "4.6.0.0.IP6.ARPA.");
	ck_assert_int_eq(dns64_ip6arpa_parse(n, addr), 32);
	ck_assert_mem_eq(addr, want, 16);
	ldns_rdf_deep_free(n);
	/* A partial name: the leading nibbles only. */
	n = dname("b.9.f.f.4.6.0.0.ip6.arpa.");
	ck_assert_int_eq(dns64_ip6arpa_parse(n, addr), 8);
	ck_assert_mem_eq(addr, want, 4);
	ldns_rdf_deep_free(n);
	n = dname("ip6.arpa.");
	ck_assert_int_eq(dns64_ip6arpa_parse(n, addr), 0);
	ldns_rdf_deep_free(n);
	/* Not nibbles, or not ip6.arpa. */
	n = dname("g.9.f.f.4.6.0.0.ip6.arpa.");
	ck_assert_int_eq(dns64_ip6arpa_parse(n, addr), -1);
	ldns_rdf_deep_free(n);
	n = dname("10.9.f.f.4.6.0.0.ip6.arpa.");
	ck_assert_int_eq(dns64_ip6arpa_parse(n, addr), -1);
	ldns_rdf_deep_free(n);
	n = dname("1.2.3.4.in-addr.arpa.");
	ck_assert_int_eq(dns64_ip6arpa_parse(n, addr), -1);
	ldns_rdf_deep_free(n);
	n = dname("b.9.f.f.4.6.0.0.xip6.arpa.");
	ck_assert_int_eq(dns64_ip6arpa_parse(n, addr), -1);
	ldns_rdf_deep_free(n);
	/* 33 nibbles is too long. */
	n = dname("0.1.2.2.0.0.0.0.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f."
	    "4.6.0.0.ip6.arpa.");
	ck_assert_int_eq(dns64_ip6arpa_parse(n, addr), -1);
	ldns_rdf_deep_free(n);
}
END_TEST

START_TEST(test_reverse_names)
{
	uint8_t		 a[4], in6[16], back[16];
	ldns_rdf	*n, *want;

	v4("192.0.2.33", a);
	n = dns64_inaddr_name(a);
	want = dname("33.2.0.192.in-addr.arpa.");
	ck_assert_int_eq(ldns_dname_compare(n, want), 0);
	ldns_rdf_deep_free(n);
	ldns_rdf_deep_free(want);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8:122:344::c000:221",
	    in6), 1);
	n = dns64_ip6arpa_name(in6);
	ck_assert_int_eq(dns64_ip6arpa_parse(n, back), 32);
	ck_assert_mem_eq(back, in6, 16);
	ldns_rdf_deep_free(n);
}
END_TEST

static Suite *
dns64_suite(void)
{
	Suite	*s = suite_create("dns64");
	TCase	*tc;

	tc = tcase_create("rfc6052");
	tcase_add_loop_test(tc, test_embed_table, 0, NTABLE);
	tcase_add_loop_test(tc, test_extract_table, 0, NTABLE);
	tcase_add_test(tc, test_u_octet_zero);
	tcase_add_test(tc, test_extract_outside);
	tcase_add_test(tc, test_prefix_check);
	tcase_add_loop_test(tc, test_prefix_u_bits, 0, 8);
	tcase_add_test(tc, test_prefix_host_bits);
	tcase_add_test(tc, test_wkp);
	tcase_add_loop_test(tc, test_ipv4_is_global, 0,
	    sizeof(globals) / sizeof(globals[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("rfc6147");
	tcase_add_test(tc, test_ttl_msb);
	tcase_add_test(tc, test_synth_ttl);
	tcase_add_test(tc, test_negative_ttl);
	tcase_add_test(tc, test_synth_rr);
	tcase_add_test(tc, test_chain_end);
	tcase_add_test(tc, test_chain_max);
	tcase_add_test(tc, test_chain_rr);
	tcase_add_loop_test(tc, test_strip_excluded, 0,
	    sizeof(excl_cases) / sizeof(excl_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("reverse");
	tcase_add_test(tc, test_ip6arpa);
	tcase_add_test(tc, test_reverse_names);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(dns64_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
