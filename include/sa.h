/*
 * sa.h -- socket address helpers.
 */
#ifndef SA_H
#define SA_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define SA_STRLEN	(INET6_ADDRSTRLEN + 8)

/* An IPv4 or IPv6 socket address, in 28 bytes, not sockaddr_storage's 128. */
union sa_in {
	struct sockaddr		 sa;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
};

/* "addr@port" for logs. */
const char	*sa_str(const struct sockaddr *, char *, size_t);
uint16_t	 sa_port(const struct sockaddr *);
/* Address and port equal. */
int		 sa_equal(const struct sockaddr *, const struct sockaddr *);
/* Address bytes (4 or 16) and family, unmapping v4-mapped IPv6. */
const uint8_t	*sa_addr(const struct sockaddr *, int *);
int		 sa_is_wildcard(const struct sockaddr *);

#endif /* SA_H */
