/*
 * acl.h -- address lists: who may query, who gets DNS64, which addresses are
 * excluded.  Matching is longest prefix; equal prefixes replace each other.
 */
#ifndef ACL_H
#define ACL_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <stdint.h>

struct acl_net {
	sa_family_t	 af;		/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];	/* network order; 4 bytes for AF_INET */
	uint8_t		 plen;
};

enum acl_action {
	ACL_NOMATCH = 0,
	ACL_ALLOW,		/* in the list */
	ACL_DENY		/* explicitly out of it ("!net", "deny") */
};

struct acl_entry {
	TAILQ_ENTRY(acl_entry)	 entry;
	struct acl_net		 net;
	enum acl_action		 action;
};
TAILQ_HEAD(acl, acl_entry);

/* Parse "addr", "addr/len" (v4 or v6); host bits must be zero. */
int		 acl_net_parse(const char *, struct acl_net *, const char **);
/* Print as "addr/len" into buf of at least 64 bytes. */
const char	*acl_net_str(const struct acl_net *, char *, size_t);
/* 1 when addr (af, network order) lies inside net. */
int		 acl_net_contains(const struct acl_net *, int, const uint8_t *);
/* Add or replace the entry for net.  -1 on allocation failure. */
int		 acl_add(struct acl *, const struct acl_net *, enum acl_action);
/* The entry that decides for addr (longest prefix), or NULL. */
const struct acl_entry *acl_lookup(const struct acl *, int, const uint8_t *);
const struct acl_entry *acl_lookup_sa(const struct acl *,
		    const struct sockaddr *);
/* Longest-prefix match; ACL_NOMATCH when no entry covers addr. */
enum acl_action	 acl_match(const struct acl *, int, const uint8_t *);
/* Match a socket address; v4-mapped IPv6 is matched as IPv4. */
enum acl_action	 acl_match_sa(const struct acl *, const struct sockaddr *);
void		 acl_clear(struct acl *);

#endif /* ACL_H */
