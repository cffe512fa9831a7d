/*
 * acl.c -- address lists with longest-prefix matching.
 *
 * The lists are short (tens of entries), so a linear scan that keeps the
 * longest covering entry is fast enough and keeps the order of the config
 * file irrelevant, which is what operators expect from an ACL.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "sa.h"

static int
addrlen(sa_family_t af)
{
	return (af == AF_INET ? 4 : 16);
}

int
acl_net_parse(const char *s, struct acl_net *na, const char **errstr)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	long		 plen;
	int		 i, maxlen;

	memset(na, 0, sizeof(*na));
	if (strlen(s) >= sizeof(buf)) {
		*errstr = "address too long";
		return (-1);
	}
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, na->addr) == 1)
		na->af = AF_INET;
	else if (inet_pton(AF_INET6, buf, na->addr) == 1)
		na->af = AF_INET6;
	else {
		*errstr = "invalid address";
		return (-1);
	}
	maxlen = addrlen(na->af) * 8;
	if (slash == NULL)
		plen = maxlen;
	else {
		errno = 0;
		plen = strtol(slash, &end, 10);
		/* Digits only: no sign, no blanks. */
		if (!isdigit((unsigned char)*slash) || *end != '\0' ||
		    errno != 0 ||
		    plen < 0 || plen > maxlen) {
			*errstr = "invalid prefix length";
			return (-1);
		}
	}
	na->plen = plen;
	for (i = plen; i < maxlen; i++)
		if (na->addr[i / 8] & (0x80 >> (i % 8))) {
			*errstr = "address has bits set beyond the prefix length";
			return (-1);
		}
	return (0);
}

const char *
acl_net_str(const struct acl_net *na, char *buf, size_t len)
{
	char	 a[INET6_ADDRSTRLEN];

	if (inet_ntop(na->af, na->addr, a, sizeof(a)) == NULL)
		strcpy(a, "?");
	snprintf(buf, len, "%s/%u", a, na->plen);
	return (buf);
}

int
acl_net_contains(const struct acl_net *na, int af, const uint8_t *addr)
{
	int	 full, rest;

	if (na->af != af)
		return (0);
	full = na->plen / 8;
	rest = na->plen % 8;
	if (memcmp(na->addr, addr, full) != 0)
		return (0);
	if (rest && ((na->addr[full] ^ addr[full]) & (0xff << (8 - rest))))
		return (0);
	return (1);
}

int
acl_add(struct acl *acl, const struct acl_net *na, enum acl_action action)
{
	struct acl_entry	*e;

	TAILQ_FOREACH(e, acl, entry)
		if (e->net.af == na->af && e->net.plen == na->plen &&
		    memcmp(e->net.addr, na->addr, addrlen(na->af)) == 0) {
			e->action = action;
			return (0);
		}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return (-1);
	e->net = *na;
	e->action = action;
	TAILQ_INSERT_TAIL(acl, e, entry);
	return (0);
}

const struct acl_entry *
acl_lookup(const struct acl *acl, int af, const uint8_t *addr)
{
	const struct acl_entry	*e, *best = NULL;

	TAILQ_FOREACH(e, acl, entry)
		if (acl_net_contains(&e->net, af, addr) &&
		    (best == NULL || e->net.plen > best->net.plen))
			best = e;
	return (best);
}

enum acl_action
acl_match(const struct acl *acl, int af, const uint8_t *addr)
{
	const struct acl_entry	*best = acl_lookup(acl, af, addr);

	return (best == NULL ? ACL_NOMATCH : best->action);
}

const struct acl_entry *
acl_lookup_sa(const struct acl *acl, const struct sockaddr *sa)
{
	const uint8_t	*addr;
	int		 af;

	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return (NULL);
	addr = sa_addr(sa, &af);
	return (acl_lookup(acl, af, addr));
}

enum acl_action
acl_match_sa(const struct acl *acl, const struct sockaddr *sa)
{
	const struct acl_entry	*best = acl_lookup_sa(acl, sa);

	return (best == NULL ? ACL_NOMATCH : best->action);
}

void
acl_clear(struct acl *acl)
{
	struct acl_entry	*e;

	while ((e = TAILQ_FIRST(acl)) != NULL) {
		TAILQ_REMOVE(acl, e, entry);
		free(e);
	}
}
