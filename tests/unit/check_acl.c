/*
 * check_acl.c -- unit tests of the address lists (prefix parsing and
 * printing, containment at byte and bit boundaries, longest-prefix
 * matching, v4-mapped clients) and of the socket address helpers.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "acl.h"
#include "sa.h"

static struct acl_net
net(const char *s)
{
	struct acl_net	 na;
	const char	*err = NULL;

	ck_assert_msg(acl_net_parse(s, &na, &err) == 0, "%s: %s", s, err);
	return (na);
}

/* An address in network order; af is AF_INET or AF_INET6. */
static void
addr(const char *s, int *af, uint8_t *out)
{
	if (inet_pton(AF_INET, s, out) == 1)
		*af = AF_INET;
	else {
		ck_assert_msg(inet_pton(AF_INET6, s, out) == 1, "%s", s);
		*af = AF_INET6;
	}
}

static enum acl_action
match(const struct acl *acl, const char *s)
{
	uint8_t	 a[16];
	int	 af;

	addr(s, &af, a);
	return (acl_match(acl, af, a));
}

static size_t
entries(const struct acl *acl)
{
	const struct acl_entry	*e;
	size_t			 n = 0;

	TAILQ_FOREACH(e, acl, entry)
		n++;
	return (n);
}

static void
add(struct acl *acl, const char *s, enum acl_action action)
{
	struct acl_net	 na = net(s);

	ck_assert_int_eq(acl_add(acl, &na, action), 0);
}

static struct sockaddr_in
sin4(const char *s, uint16_t port)
{
	struct sockaddr_in	 sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, s, &sin.sin_addr), 1);
	return (sin);
}

static struct sockaddr_in6
sin6(const char *s, uint16_t port)
{
	struct sockaddr_in6	 sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin6_family = AF_INET6;
	sin.sin6_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET6, s, &sin.sin6_addr), 1);
	return (sin);
}

/*
 * acl_net_parse, acl_net_str
 */

static const struct {
	const char	*in;
	int		 af;
	int		 plen;
	const char	*addr;		/* the prefix, as inet_pton reads it */
	const char	*out;		/* acl_net_str */
} good[] = {
	{ "192.0.2.1", AF_INET, 32, "192.0.2.1", "192.0.2.1/32" },
	{ "192.0.2.1/32", AF_INET, 32, "192.0.2.1", "192.0.2.1/32" },
	{ "192.0.2.0/24", AF_INET, 24, "192.0.2.0", "192.0.2.0/24" },
	{ "192.0.2.128/25", AF_INET, 25, "192.0.2.128", "192.0.2.128/25" },
	{ "10.0.0.0/8", AF_INET, 8, "10.0.0.0", "10.0.0.0/8" },
	{ "10.0.0.0/7", AF_INET, 7, "10.0.0.0", "10.0.0.0/7" },
	{ "172.16.0.0/12", AF_INET, 12, "172.16.0.0", "172.16.0.0/12" },
	{ "0.0.0.0/0", AF_INET, 0, "0.0.0.0", "0.0.0.0/0" },
	{ "2001:db8::1", AF_INET6, 128, "2001:db8::1", "2001:db8::1/128" },
	{ "2001:DB8::1/128", AF_INET6, 128, "2001:db8::1",
	    "2001:db8::1/128" },
	{ "2001:db8::/32", AF_INET6, 32, "2001:db8::", "2001:db8::/32" },
	{ "2001:0db8:0000::/48", AF_INET6, 48, "2001:db8::",
	    "2001:db8::/48" },
	{ "64:ff9b::/96", AF_INET6, 96, "64:ff9b::", "64:ff9b::/96" },
	{ "fe80::/10", AF_INET6, 10, "fe80::", "fe80::/10" },
	{ "2001:db8::/127", AF_INET6, 127, "2001:db8::", "2001:db8::/127" },
	{ "::/0", AF_INET6, 0, "::", "::/0" },
	{ "::1", AF_INET6, 128, "::1", "::1/128" },
	{ "::ffff:10.0.0.0/104", AF_INET6, 104, "::ffff:10.0.0.0",
	    "::ffff:10.0.0.0/104" },
};

START_TEST(test_parse_good)
{
	struct acl_net	 na, again;
	const char	*err = NULL;
	uint8_t		 want[16];
	char		 buf[64];

	memset(want, 0, sizeof(want));
	ck_assert_int_eq(inet_pton(good[_i].af, good[_i].addr, want), 1);
	ck_assert_msg(acl_net_parse(good[_i].in, &na, &err) == 0, "%s: %s",
	    good[_i].in, err);
	ck_assert_int_eq(na.af, good[_i].af);
	ck_assert_int_eq(na.plen, good[_i].plen);
	ck_assert_mem_eq(na.addr, want, 16);
	/* Round trip. */
	ck_assert_str_eq(acl_net_str(&na, buf, sizeof(buf)), good[_i].out);
	ck_assert_int_eq(acl_net_parse(buf, &again, &err), 0);
	ck_assert_int_eq(again.af, na.af);
	ck_assert_int_eq(again.plen, na.plen);
	ck_assert_mem_eq(again.addr, na.addr, 16);
}
END_TEST

static const char	*bad[] = {
	"192.0.2.1/24",			/* host bits */
	"192.0.2.1/31",
	"10.1.0.0/15",			/* host bit in the partial octet */
	"10.0.0.0/6",
	"2001:db8::1/64",
	"2001:db8::1/127",
	"fec0::/9",
	"10.0.0.0/33",			/* length */
	"2001:db8::/129",
	"::/129",
	"10.0.0.0/",
	"0.0.0.0/",			/* no host bits to catch it */
	"::/",
	"10.0.0.0/x",
	"10.0.0.0/8x",
	"10.0.0.0/-1",
	"0.0.0.0/-1",
	"::/-1",
	"10.0.0.0/-8",
	"10.0.0.0/8/8",
	"10.0.0.0/99999999999999999999",
	"2001:db8::/",
	"2001:db8::/3x",
	"",				/* not an address */
	"/8",
	"garbage",
	"garbage/8",
	"192.0.2",
	"192.0.2.1.5",
	"192.0.2.256",
	"2001:db8:::1",
	"2001:db8::g",
	"192.0.2.1 ",
	"2001:db8:0:0:0:0:0:0:0:1/128/this-is-longer-than-any-address-is",
};

START_TEST(test_parse_bad)
{
	struct acl_net	 na;
	const char	*err = NULL;

	ck_assert_msg(acl_net_parse(bad[_i], &na, &err) == -1,
	    "\"%s\" accepted", bad[_i]);
	ck_assert_ptr_nonnull(err);
	ck_assert_uint_gt(strlen(err), 0);
}
END_TEST

/* Longer than any address: rejected, and no overflow. */
START_TEST(test_parse_long)
{
	struct acl_net	 na;
	const char	*err = NULL;
	char		 s[1024];

	memset(s, '1', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	ck_assert_int_eq(acl_net_parse(s, &na, &err), -1);
	ck_assert_ptr_nonnull(err);
}
END_TEST

/*
 * acl_net_contains
 */

static const struct {
	const char	*net;
	const char	*addr;
	int		 want;
} contains[] = {
	{ "0.0.0.0/0", "0.0.0.0", 1 },
	{ "0.0.0.0/0", "255.255.255.255", 1 },
	{ "0.0.0.0/0", "::", 0 },		/* families */
	{ "::/0", "0.0.0.0", 0 },
	{ "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
	{ "10.0.0.0/7", "10.0.0.0", 1 },
	{ "10.0.0.0/7", "11.255.255.255", 1 },
	{ "10.0.0.0/7", "12.0.0.0", 0 },
	{ "10.0.0.0/7", "9.255.255.255", 0 },
	{ "10.0.0.0/8", "10.255.255.255", 1 },
	{ "10.0.0.0/8", "11.0.0.0", 0 },
	{ "172.16.0.0/12", "172.16.0.0", 1 },
	{ "172.16.0.0/12", "172.31.255.255", 1 },
	{ "172.16.0.0/12", "172.32.0.0", 0 },
	{ "172.16.0.0/12", "172.15.255.255", 0 },
	{ "172.16.0.0/12", "173.16.0.1", 0 },
	{ "192.0.2.0/31", "192.0.2.0", 1 },
	{ "192.0.2.0/31", "192.0.2.1", 1 },
	{ "192.0.2.0/31", "192.0.2.2", 0 },
	{ "192.0.2.0/31", "193.0.2.1", 0 },
	{ "192.0.2.1/32", "192.0.2.1", 1 },
	{ "192.0.2.1/32", "192.0.2.0", 0 },
	{ "192.0.2.1/32", "192.0.2.3", 0 },
	{ "192.0.2.1/32", "192.0.2.129", 0 },
	{ "fe80::/10", "fe80::1", 1 },
	{ "fe80::/10", "febf:ffff::1", 1 },
	{ "fe80::/10", "fec0::1", 0 },
	{ "fe80::/10", "fe40::1", 0 },
	{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
	{ "2001:db8::/32", "2001:db9::", 0 },
	{ "2001:db8::/127", "2001:db8::", 1 },
	{ "2001:db8::/127", "2001:db8::1", 1 },
	{ "2001:db8::/127", "2001:db8::2", 0 },
	{ "2001:db8::/127", "2001:db9::1", 0 },
	{ "2001:db8::1/128", "2001:db8::1", 1 },
	{ "2001:db8::1/128", "2001:db8::", 0 },
	{ "2001:db8::1/128", "2001:db8::3", 0 },
	{ "2001:db8::1/128", "2001:db8::8001", 0 },
	{ "2001:db8::1/128", "3001:db8::1", 0 },
};

START_TEST(test_contains)
{
	struct acl_net	 na = net(contains[_i].net);
	uint8_t		 a[16];
	int		 af;

	addr(contains[_i].addr, &af, a);
	ck_assert_msg(acl_net_contains(&na, af, a) == contains[_i].want,
	    "%s in %s", contains[_i].addr, contains[_i].net);
}
END_TEST

/*
 * acl_add, acl_match, acl_match_sa, acl_clear
 */

START_TEST(test_acl_empty)
{
	struct acl	 acl = TAILQ_HEAD_INITIALIZER(acl);

	ck_assert_int_eq(match(&acl, "10.1.2.3"), ACL_NOMATCH);
	ck_assert_int_eq(match(&acl, "::1"), ACL_NOMATCH);
	acl_clear(&acl);
	ck_assert(TAILQ_EMPTY(&acl));
}
END_TEST

/* Equal prefixes replace each other: one entry, the last action. */
START_TEST(test_acl_replace)
{
	struct acl	 acl = TAILQ_HEAD_INITIALIZER(acl);

	add(&acl, "10.0.0.0/8", ACL_ALLOW);
	add(&acl, "2001:db8::/32", ACL_ALLOW);
	add(&acl, "10.0.0.0/8", ACL_DENY);
	ck_assert_uint_eq(entries(&acl), 2);
	ck_assert_int_eq(match(&acl, "10.1.2.3"), ACL_DENY);
	add(&acl, "10.0.0.0/8", ACL_ALLOW);
	ck_assert_uint_eq(entries(&acl), 2);
	ck_assert_int_eq(match(&acl, "10.1.2.3"), ACL_ALLOW);
	/* Same bits, other length or family: a new entry. */
	add(&acl, "10.0.0.0/9", ACL_DENY);
	add(&acl, "::/0", ACL_DENY);
	add(&acl, "0.0.0.0/0", ACL_DENY);
	ck_assert_uint_eq(entries(&acl), 5);
	ck_assert_int_eq(match(&acl, "10.1.2.3"), ACL_DENY);
	ck_assert_int_eq(match(&acl, "10.128.0.1"), ACL_ALLOW);
	acl_clear(&acl);
}
END_TEST

/*
 * Longest prefix wins whatever the order of insertion: _i 0 adds the
 * shorter prefixes first, _i 1 the longer ones.
 */
static const struct {
	const char	*net;
	enum acl_action	 action;
} lpm[] = {
	{ "0.0.0.0/0", ACL_DENY },
	{ "10.0.0.0/8", ACL_DENY },
	{ "10.1.0.0/16", ACL_ALLOW },
	{ "10.1.2.0/23", ACL_DENY },
	{ "10.1.2.4/32", ACL_ALLOW },
	{ "2001:db8::/32", ACL_ALLOW },
	{ "2001:db8:bad::/48", ACL_DENY },
	{ "2001:db8:bad::53/128", ACL_ALLOW },
};
#define NLPM	(sizeof(lpm) / sizeof(lpm[0]))

START_TEST(test_acl_longest)
{
	struct acl	 acl = TAILQ_HEAD_INITIALIZER(acl);
	size_t		 i;

	for (i = 0; i < NLPM; i++)
		add(&acl, lpm[_i == 0 ? i : NLPM - 1 - i].net,
		    lpm[_i == 0 ? i : NLPM - 1 - i].action);
	ck_assert_uint_eq(entries(&acl), NLPM);
	ck_assert_int_eq(match(&acl, "192.0.2.1"), ACL_DENY);
	ck_assert_int_eq(match(&acl, "10.2.0.1"), ACL_DENY);
	ck_assert_int_eq(match(&acl, "10.1.0.1"), ACL_ALLOW);
	ck_assert_int_eq(match(&acl, "10.1.4.1"), ACL_ALLOW);
	ck_assert_int_eq(match(&acl, "10.1.2.1"), ACL_DENY);
	ck_assert_int_eq(match(&acl, "10.1.3.255"), ACL_DENY);
	ck_assert_int_eq(match(&acl, "10.1.2.4"), ACL_ALLOW);
	ck_assert_int_eq(match(&acl, "10.1.2.5"), ACL_DENY);
	ck_assert_int_eq(match(&acl, "2001:db8::1"), ACL_ALLOW);
	ck_assert_int_eq(match(&acl, "2001:db8:bad::1"), ACL_DENY);
	ck_assert_int_eq(match(&acl, "2001:db8:bad::53"), ACL_ALLOW);
	ck_assert_int_eq(match(&acl, "2001:db8:bae::1"), ACL_ALLOW);
	ck_assert_int_eq(match(&acl, "2001:db9::1"), ACL_NOMATCH);
	acl_clear(&acl);
}
END_TEST

/* The two-entry case of the description, both orders. */
START_TEST(test_acl_deny8_allow16)
{
	struct acl	 acl = TAILQ_HEAD_INITIALIZER(acl);

	if (_i == 0) {
		add(&acl, "10.0.0.0/8", ACL_DENY);
		add(&acl, "10.1.0.0/16", ACL_ALLOW);
	} else {
		add(&acl, "10.1.0.0/16", ACL_ALLOW);
		add(&acl, "10.0.0.0/8", ACL_DENY);
	}
	ck_assert_int_eq(match(&acl, "10.1.2.3"), ACL_ALLOW);
	ck_assert_int_eq(match(&acl, "10.2.3.4"), ACL_DENY);
	ck_assert_int_eq(match(&acl, "11.1.2.3"), ACL_NOMATCH);
	acl_clear(&acl);
}
END_TEST

/* v4 and v6 entries never cover the other family. */
START_TEST(test_acl_families)
{
	struct acl	 acl = TAILQ_HEAD_INITIALIZER(acl);
	uint8_t		 a[16];

	add(&acl, "0.0.0.0/0", ACL_ALLOW);
	ck_assert_int_eq(match(&acl, "::"), ACL_NOMATCH);
	ck_assert_int_eq(match(&acl, "2001:db8::1"), ACL_NOMATCH);
	ck_assert_int_eq(match(&acl, "192.0.2.1"), ACL_ALLOW);
	acl_clear(&acl);
	add(&acl, "::/0", ACL_DENY);
	ck_assert_int_eq(match(&acl, "0.0.0.0"), ACL_NOMATCH);
	ck_assert_int_eq(match(&acl, "192.0.2.1"), ACL_NOMATCH);
	ck_assert_int_eq(match(&acl, "2001:db8::1"), ACL_DENY);
	/* The same leading bytes, told apart by the family. */
	memset(a, 0, sizeof(a));
	acl_clear(&acl);
	add(&acl, "0.0.0.0/8", ACL_ALLOW);
	ck_assert_int_eq(acl_match(&acl, AF_INET6, a), ACL_NOMATCH);
	ck_assert_int_eq(acl_match(&acl, AF_INET, a), ACL_ALLOW);
	acl_clear(&acl);
}
END_TEST

START_TEST(test_acl_match_sa)
{
	struct acl		 acl = TAILQ_HEAD_INITIALIZER(acl);
	struct sockaddr_in	 s4 = sin4("10.1.2.3", 5300);
	struct sockaddr_in6	 m6 = sin6("::ffff:10.1.2.3", 5300);
	struct sockaddr_in6	 s6 = sin6("2001:db8::1", 5300);
	struct sockaddr_in6	 c6 = sin6("::10.1.2.3", 5300);
	struct sockaddr_un	 sun;

	add(&acl, "10.0.0.0/8", ACL_DENY);
	add(&acl, "2001:db8::/32", ACL_ALLOW);
	ck_assert_int_eq(acl_match_sa(&acl, (struct sockaddr *)&s4), ACL_DENY);
	ck_assert_int_eq(acl_match_sa(&acl, (struct sockaddr *)&m6), ACL_DENY);
	ck_assert_int_eq(acl_match_sa(&acl, (struct sockaddr *)&s6),
	    ACL_ALLOW);
	/* IPv4-compatible (deprecated) is not v4-mapped. */
	ck_assert_int_eq(acl_match_sa(&acl, (struct sockaddr *)&c6),
	    ACL_NOMATCH);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_int_eq(acl_match_sa(&acl, (struct sockaddr *)&sun),
	    ACL_NOMATCH);
	acl_clear(&acl);

	/* A v6 entry covering ::ffff:0:0/96 does not see v4-mapped clients. */
	add(&acl, "::/0", ACL_ALLOW);
	add(&acl, "::ffff:0.0.0.0/96", ACL_ALLOW);
	ck_assert_int_eq(acl_match_sa(&acl, (struct sockaddr *)&m6),
	    ACL_NOMATCH);
	ck_assert_int_eq(acl_match_sa(&acl, (struct sockaddr *)&sun),
	    ACL_NOMATCH);
	add(&acl, "10.1.2.3/32", ACL_ALLOW);
	ck_assert_int_eq(acl_match_sa(&acl, (struct sockaddr *)&m6),
	    ACL_ALLOW);
	acl_clear(&acl);
}
END_TEST

/*
 * sa_str, sa_port, sa_equal, sa_addr, sa_is_wildcard
 */

START_TEST(test_sa_str)
{
	struct sockaddr_in	 s4 = sin4("192.0.2.1", 53);
	struct sockaddr_in6	 s6 = sin6("2001:db8::1", 5353);
	struct sockaddr_in6	 m6 = sin6("::ffff:10.1.2.3", 65535);
	struct sockaddr_in	 any = sin4("0.0.0.0", 0);
	char			 buf[SA_STRLEN];

	ck_assert_str_eq(sa_str((struct sockaddr *)&s4, buf, sizeof(buf)),
	    "192.0.2.1@53");
	ck_assert_str_eq(sa_str((struct sockaddr *)&s6, buf, sizeof(buf)),
	    "2001:db8::1@5353");
	ck_assert_str_eq(sa_str((struct sockaddr *)&m6, buf, sizeof(buf)),
	    "::ffff:10.1.2.3@65535");
	ck_assert_str_eq(sa_str((struct sockaddr *)&any, buf, sizeof(buf)),
	    "0.0.0.0@0");
	ck_assert_uint_eq(sa_port((struct sockaddr *)&s4), 53);
	ck_assert_uint_eq(sa_port((struct sockaddr *)&s6), 5353);
}
END_TEST

/* The longest address inet_ntop prints, and the longest port, fit. */
START_TEST(test_sa_str_longest)
{
	struct sockaddr_in6	 s6;
	char			 buf[SA_STRLEN];

	s6 = sin6("abcd:ef01:2345:6789:abcd:ef01:2345:6789", 65535);
	ck_assert_str_eq(sa_str((struct sockaddr *)&s6, buf, sizeof(buf)),
	    "abcd:ef01:2345:6789:abcd:ef01:2345:6789@65535");
}
END_TEST

START_TEST(test_sa_equal)
{
	struct sockaddr_in	 a = sin4("192.0.2.1", 53);
	struct sockaddr_in	 b = sin4("192.0.2.1", 53);
	struct sockaddr_in	 port = sin4("192.0.2.1", 54);
	struct sockaddr_in	 other = sin4("192.0.2.2", 53);
	struct sockaddr_in6	 a6 = sin6("2001:db8::1", 53);
	struct sockaddr_in6	 b6 = sin6("2001:db8::1", 53);
	struct sockaddr_in6	 port6 = sin6("2001:db8::1", 5353);
	struct sockaddr_in6	 other6 = sin6("2001:db8::2", 53);
	struct sockaddr_in6	 m6 = sin6("::ffff:192.0.2.1", 53);
	struct sockaddr_in	 any4 = sin4("0.0.0.0", 53);
	struct sockaddr_in6	 any6 = sin6("::", 53);

	ck_assert_int_eq(sa_equal((struct sockaddr *)&a,
	    (struct sockaddr *)&b), 1);
	ck_assert_int_eq(sa_equal((struct sockaddr *)&a,
	    (struct sockaddr *)&port), 0);
	ck_assert_int_eq(sa_equal((struct sockaddr *)&a,
	    (struct sockaddr *)&other), 0);
	ck_assert_int_eq(sa_equal((struct sockaddr *)&a6,
	    (struct sockaddr *)&b6), 1);
	ck_assert_int_eq(sa_equal((struct sockaddr *)&a6,
	    (struct sockaddr *)&port6), 0);
	ck_assert_int_eq(sa_equal((struct sockaddr *)&a6,
	    (struct sockaddr *)&other6), 0);
	ck_assert_int_eq(sa_equal((struct sockaddr *)&a,
	    (struct sockaddr *)&a6), 0);
	ck_assert_int_eq(sa_equal((struct sockaddr *)&a,
	    (struct sockaddr *)&m6), 0);
	/* The families differ even where the bytes read alike. */
	ck_assert_int_eq(sa_equal((struct sockaddr *)&any4,
	    (struct sockaddr *)&any6), 0);
	ck_assert_int_eq(sa_equal((struct sockaddr *)&any6,
	    (struct sockaddr *)&any4), 0);
}
END_TEST

START_TEST(test_sa_addr)
{
	struct sockaddr_in	 s4 = sin4("192.0.2.1", 53);
	struct sockaddr_in6	 s6 = sin6("2001:db8::1", 53);
	struct sockaddr_in6	 m6 = sin6("::ffff:10.1.2.3", 53);
	struct sockaddr_in6	 c6 = sin6("::10.1.2.3", 53);
	const uint8_t		*p;
	uint8_t			 want[16];
	int			 af = -1;

	p = sa_addr((struct sockaddr *)&s4, &af);
	ck_assert_int_eq(af, AF_INET);
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.1", want), 1);
	ck_assert_mem_eq(p, want, 4);

	af = -1;
	p = sa_addr((struct sockaddr *)&s6, &af);
	ck_assert_int_eq(af, AF_INET6);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", want), 1);
	ck_assert_mem_eq(p, want, 16);

	af = -1;
	p = sa_addr((struct sockaddr *)&m6, &af);
	ck_assert_int_eq(af, AF_INET);
	ck_assert_int_eq(inet_pton(AF_INET, "10.1.2.3", want), 1);
	ck_assert_mem_eq(p, want, 4);

	af = -1;
	p = sa_addr((struct sockaddr *)&c6, &af);
	ck_assert_int_eq(af, AF_INET6);
	ck_assert_int_eq(inet_pton(AF_INET6, "::10.1.2.3", want), 1);
	ck_assert_mem_eq(p, want, 16);
}
END_TEST

START_TEST(test_sa_is_wildcard)
{
	struct sockaddr_in	 any4 = sin4("0.0.0.0", 53);
	struct sockaddr_in	 lo4 = sin4("127.0.0.1", 53);
	struct sockaddr_in6	 any6 = sin6("::", 53);
	struct sockaddr_in6	 lo6 = sin6("::1", 53);
	struct sockaddr_in6	 m6 = sin6("::ffff:0.0.0.0", 53);

	ck_assert_int_eq(sa_is_wildcard((struct sockaddr *)&any4), 1);
	ck_assert_int_eq(sa_is_wildcard((struct sockaddr *)&lo4), 0);
	ck_assert_int_eq(sa_is_wildcard((struct sockaddr *)&any6), 1);
	ck_assert_int_eq(sa_is_wildcard((struct sockaddr *)&lo6), 0);
	ck_assert_int_eq(sa_is_wildcard((struct sockaddr *)&m6), 0);
}
END_TEST

static Suite *
acl_suite(void)
{
	Suite	*s = suite_create("acl");
	TCase	*tc;

	tc = tcase_create("netaddr");
	tcase_add_loop_test(tc, test_parse_good, 0,
	    sizeof(good) / sizeof(good[0]));
	tcase_add_loop_test(tc, test_parse_bad, 0,
	    sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_parse_long);
	tcase_add_loop_test(tc, test_contains, 0,
	    sizeof(contains) / sizeof(contains[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("acl");
	tcase_add_test(tc, test_acl_empty);
	tcase_add_test(tc, test_acl_replace);
	tcase_add_loop_test(tc, test_acl_longest, 0, 2);
	tcase_add_loop_test(tc, test_acl_deny8_allow16, 0, 2);
	tcase_add_test(tc, test_acl_families);
	tcase_add_test(tc, test_acl_match_sa);
	suite_add_tcase(s, tc);

	tc = tcase_create("sockaddr");
	tcase_add_test(tc, test_sa_str);
	tcase_add_test(tc, test_sa_str_longest);
	tcase_add_test(tc, test_sa_equal);
	tcase_add_test(tc, test_sa_addr);
	tcase_add_test(tc, test_sa_is_wildcard);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(acl_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
