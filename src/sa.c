/*
 * sa.c -- socket address helpers.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "sa.h"

const char *
sa_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char	 a[INET6_ADDRSTRLEN];
	const void	*p;

	if (sa->sa_family == AF_INET)
		p = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		p = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	else {
		snprintf(buf, len, "(af %d)", sa->sa_family);
		return (buf);
	}
	if (inet_ntop(sa->sa_family, p, a, sizeof(a)) == NULL)
		strcpy(a, "?");
	snprintf(buf, len, "%s@%u", a, sa_port(sa));
	return (buf);
}

uint16_t
sa_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)sa)->sin_port));
	if (sa->sa_family == AF_INET6)
		return (ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
	return (0);
}

int
sa_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->sa_family != b->sa_family)
		return (0);
	if (a->sa_family == AF_INET) {
		a4 = (const struct sockaddr_in *)a;
		b4 = (const struct sockaddr_in *)b;
		return (a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr);
	}
	a6 = (const struct sockaddr_in6 *)a;
	b6 = (const struct sockaddr_in6 *)b;
	return (a6->sin6_port == b6->sin6_port &&
	    IN6_ARE_ADDR_EQUAL(&a6->sin6_addr, &b6->sin6_addr));
}

const uint8_t *
sa_addr(const struct sockaddr *sa, int *af)
{
	const struct sockaddr_in6	*sin6;

	if (sa->sa_family == AF_INET) {
		*af = AF_INET;
		return ((const uint8_t *)
		    &((const struct sockaddr_in *)sa)->sin_addr);
	}
	sin6 = (const struct sockaddr_in6 *)sa;
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		*af = AF_INET;
		return (sin6->sin6_addr.s6_addr + 12);
	}
	*af = AF_INET6;
	return (sin6->sin6_addr.s6_addr);
}

int
sa_is_wildcard(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (((const struct sockaddr_in *)sa)->sin_addr.s_addr ==
		    htonl(INADDR_ANY));
	return (IN6_IS_ADDR_UNSPECIFIED(
	    &((const struct sockaddr_in6 *)sa)->sin6_addr));
}
