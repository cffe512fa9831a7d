/*
 * check_conf.c -- unit tests of the configuration parser and conf.c.
 *
 * The files under tests/data/conf/bad must each fail, with the message and
 * line number given in their first line ("# expect: LINE: TEXT"); the files
 * under tests/data/conf/good must parse, print and parse back to the same
 * text, and have their values checked one by one below.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <ldns/ldns.h>

#include "acl.h"
#include "conf.h"
#include "dns64.h"
#include "log.h"
#include "sa.h"

#define CONF_DIR	TEST_DATADIR "/conf"
#define GOOD_DIR	CONF_DIR "/good"
#define BAD_DIR		CONF_DIR "/bad"
#define EXAMPLE_CONF	TEST_DATADIR "/../../etc/dns64proxy.conf"
#define MAXFILES	256

/* The data files, listed once in main() for the loop tests. */
static char	*bad_files[MAXFILES];
static int	 nbad;
static char	*good_files[MAXFILES];
static int	 ngood;

/*
 * stderr capture: the parser logs through log_warnx(), which writes to
 * stderr after log_init(1, 0).
 */
struct capture {
	int	 saved;
	int	 fd;
	char	 path[64];
};

static void
capture_begin(struct capture *c)
{
	strcpy(c->path, "/tmp/check_conf.log.XXXXXX");
	c->fd = mkstemp(c->path);
	ck_assert_int_ne(c->fd, -1);
	fflush(stderr);
	c->saved = dup(STDERR_FILENO);
	ck_assert_int_ne(c->saved, -1);
	ck_assert_int_ne(dup2(c->fd, STDERR_FILENO), -1);
}

/* Restore stderr; the captured text, to be freed. */
static char *
capture_end(struct capture *c)
{
	char	*buf;
	off_t	 len;

	fflush(stderr);
	ck_assert_int_ne(dup2(c->saved, STDERR_FILENO), -1);
	close(c->saved);
	len = lseek(c->fd, 0, SEEK_END);
	ck_assert_int_ge(len, 0);
	buf = calloc(1, len + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(pread(c->fd, buf, len, 0), len);
	close(c->fd);
	unlink(c->path);
	return (buf);
}

static struct conf *
parse_logged(const char *path, char **log)
{
	struct capture	 c;
	struct conf	*conf;

	capture_begin(&c);
	conf = parse_config(path);
	*log = capture_end(&c);
	return (conf);
}

/* conf_finalize(), then conf_drop_own_forwarders() as after binding. */
static int
finalize_logged(struct conf *conf, const char *resolv, char **log)
{
	struct capture	 c;
	int		 rv;

	capture_begin(&c);
	rv = conf_finalize(conf, resolv);
	if (rv == 0)
		rv = conf_drop_own_forwarders(conf);
	*log = capture_end(&c);
	return (rv);
}

static int
drop_logged(struct conf *conf, char **log)
{
	struct capture	 c;
	int		 rv;

	capture_begin(&c);
	rv = conf_drop_own_forwarders(conf);
	*log = capture_end(&c);
	return (rv);
}

/* Parse a file that must be good; the log is shown if it is not. */
static struct conf *
parse_good(const char *path)
{
	struct conf	*conf;
	char		*log;

	conf = parse_logged(path, &log);
	ck_assert_msg(conf != NULL, "%s failed to parse:\n%s", path, log);
	free(log);
	return (conf);
}

static char *
print_conf(const struct conf *conf)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	fp = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(fp);
	conf_print(fp, conf);
	ck_assert_int_eq(fclose(fp), 0);
	return (buf);
}

/* Write text to a new temporary file; its name, to be freed. */
static char *
tmp_file(const char *text)
{
	char	*path;
	int	 fd;
	size_t	 len = strlen(text);

	path = strdup("/tmp/check_conf.XXXXXX");
	ck_assert_ptr_nonnull(path);
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return (path);
}

static void
tmp_remove(char *path)
{
	unlink(path);
	free(path);
}

/* Parse text as a config file. */
static struct conf *
parse_text(const char *text, char **log)
{
	struct conf	*conf;
	char		*path;

	path = tmp_file(text);
	conf = parse_logged(path, log);
	tmp_remove(path);
	return (conf);
}

/* Print, parse the print, print again: the two texts must be equal. */
static void
check_roundtrip(const struct conf *conf, const char *what)
{
	struct conf	*conf2;
	char		*text1, *text2, *log;

	text1 = print_conf(conf);
	conf2 = parse_text(text1, &log);
	ck_assert_msg(conf2 != NULL, "%s: printed config does not parse:\n"
	    "%s\n%s", what, log, text1);
	text2 = print_conf(conf2);
	ck_assert_msg(strcmp(text1, text2) == 0, "%s: round trip differs:\n"
	    "%s\n---\n%s", what, text1, text2);
	free(log);
	free(text1);
	free(text2);
	conf_free(conf2);
}

static void
check_addr(const struct conf_addr *a, const char *expect)
{
	char	 buf[SA_STRLEN];

	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(sa_str((const struct sockaddr *)&a->ss, buf,
	    sizeof(buf)), expect);
	ck_assert_int_eq(a->sslen, a->ss.ss_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
}

static int
addrlist_len(const struct conf_addrlist *list)
{
	const struct conf_addr	*a;
	int			 n = 0;

	TAILQ_FOREACH(a, list, entry)
		n++;
	return (n);
}

static const struct conf_addr *
addr_nth(const struct conf_addrlist *list, int n)
{
	const struct conf_addr	*a;

	TAILQ_FOREACH(a, list, entry)
		if (n-- == 0)
			return (a);
	return (NULL);
}

static const struct conf_prefix *
prefix_nth(const struct conf *conf, int n)
{
	const struct conf_prefix	*p;

	TAILQ_FOREACH(p, &conf->prefixes, entry)
		if (n-- == 0)
			return (p);
	return (NULL);
}

static void
check_prefix(const struct conf_prefix *p, const char *expect)
{
	char	 a[INET6_ADDRSTRLEN], buf[64];

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(inet_ntop(AF_INET6, p->pfx.addr, a, sizeof(a)));
	snprintf(buf, sizeof(buf), "%s/%d", a, p->pfx.plen);
	ck_assert_str_eq(buf, expect);
}

/* An ACL as text: "net !net ...", in list order. */
static char *
acl_text(const struct acl *acl)
{
	const struct acl_entry	*e;
	char			*buf = NULL, net[64];
	size_t			 len = 0;
	FILE			*fp;

	fp = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(fp);
	TAILQ_FOREACH(e, acl, entry)
		fprintf(fp, "%s%s%s", e == TAILQ_FIRST(acl) ? "" : " ",
		    e->action == ACL_DENY ? "!" : "",
		    acl_net_str(&e->net, net, sizeof(net)));
	ck_assert_int_eq(fclose(fp), 0);
	return (buf);
}

static void
check_acl(const struct acl *acl, const char *expect)
{
	char	*s = acl_text(acl);

	ck_assert_str_eq(s, expect);
	free(s);
}

static enum acl_action
match(const struct acl *acl, const char *addr)
{
	uint8_t	 a[16];

	if (inet_pton(AF_INET, addr, a) == 1)
		return (acl_match(acl, AF_INET, a));
	ck_assert_int_eq(inet_pton(AF_INET6, addr, a), 1);
	return (acl_match(acl, AF_INET6, a));
}

/* A domain list as text: "name. name.", in list order. */
static char *
domains_text(const struct conf_domainlist *list)
{
	const struct conf_domain	*d;
	char				*buf = NULL, *s;
	size_t				 len = 0;
	FILE				*fp;

	fp = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(fp);
	TAILQ_FOREACH(d, list, entry) {
		s = ldns_rdf2str(d->name);
		ck_assert_ptr_nonnull(s);
		fprintf(fp, "%s%s", d == TAILQ_FIRST(list) ? "" : " ", s);
		free(s);
	}
	ck_assert_int_eq(fclose(fp), 0);
	return (buf);
}

static void
check_domains(const struct conf_domainlist *list, const char *expect)
{
	char	*s = domains_text(list);

	ck_assert_str_eq(s, expect);
	free(s);
}

#define DEFAULT_QUERY_ACL						\
	"127.0.0.0/8 ::1/128 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 "	\
	"169.254.0.0/16 fc00::/7 fe80::/10 !0.0.0.0/0 !::/0"

static void
check_defaults(const struct conf *conf)
{
	ck_assert(TAILQ_EMPTY(&conf->listen));
	ck_assert(TAILQ_EMPTY(&conf->forwarders));
	ck_assert(TAILQ_EMPTY(&conf->prefixes));
	ck_assert_int_eq(conf->prefix_selection, PREFIX_SELECT_ALL);
	check_acl(&conf->exclude_aaaa, "::ffff:0.0.0.0/96");
	check_acl(&conf->exclude_a, "");
	check_acl(&conf->query_acl, DEFAULT_QUERY_ACL);
	check_acl(&conf->dns64_clients, "");
	ck_assert(TAILQ_EMPTY(&conf->never_synth));
	ck_assert(TAILQ_EMPTY(&conf->always_synth));
	ck_assert_int_eq(conf->dns64_ipv6_only, 0);
	ck_assert_int_eq(conf->synth_on_error, 1);
	ck_assert_int_eq(conf->break_dnssec, 0);
	ck_assert_int_eq(conf->recursive_only, 1);
	ck_assert_int_eq(conf->ipv4only_arpa, 1);
	ck_assert_uint_eq(conf->reverse_ttl, 600);
	ck_assert_uint_eq(conf->upstream_timeout, 1500);
	ck_assert_uint_eq(conf->tcp_idle_timeout, 10000);
	ck_assert_uint_eq(conf->tcp_max_clients, 256);
	ck_assert_uint_eq(conf->tcp_max_pipeline, 64);
	ck_assert_uint_eq(conf->edns_buffer_size, 1232);
	ck_assert_ptr_null(conf->user);
	ck_assert_int_eq(conf->listen_is_default, 0);
}

/*
 * Defaults
 */

START_TEST(test_defaults_new)
{
	struct conf	*conf;

	conf = conf_new();
	ck_assert_ptr_nonnull(conf);
	check_defaults(conf);
	conf_free(conf);
}
END_TEST

START_TEST(test_defaults_devnull)
{
	struct conf	*conf;

	conf = parse_good("/dev/null");
	check_defaults(conf);
	/* The defaults themselves: private ranges in, the rest out. */
	ck_assert_int_eq(match(&conf->query_acl, "192.168.1.1"), ACL_ALLOW);
	ck_assert_int_eq(match(&conf->query_acl, "fe80::1"), ACL_ALLOW);
	ck_assert_int_eq(match(&conf->query_acl, "192.0.2.1"), ACL_DENY);
	ck_assert_int_eq(match(&conf->query_acl, "2001:db8::1"), ACL_DENY);
	ck_assert_int_eq(match(&conf->exclude_aaaa, "::ffff:192.0.2.1"),
	    ACL_ALLOW);
	check_roundtrip(conf, "/dev/null");
	conf_free(conf);
}
END_TEST

START_TEST(test_defaults_example)
{
	struct conf	*def, *ex;
	char		*t1, *t2;

	def = parse_good("/dev/null");
	ex = parse_good(EXAMPLE_CONF);
	check_defaults(ex);
	t1 = print_conf(def);
	t2 = print_conf(ex);
	ck_assert_str_eq(t1, t2);
	free(t1);
	free(t2);
	conf_free(def);
	conf_free(ex);
}
END_TEST

/*
 * The example file documents every keyword: uncommenting all of its
 * "#keyword" lines must still give a valid configuration.
 */
START_TEST(test_example_uncommented)
{
	FILE		*in;
	char		*line = NULL, *text = NULL, *log;
	size_t		 linesize = 0, len = 0;
	FILE		*out;
	struct conf	*conf;
	int		 n = 0;

	in = fopen(EXAMPLE_CONF, "r");
	ck_assert_ptr_nonnull(in);
	out = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(out);
	while (getline(&line, &linesize, in) != -1) {
		if (line[0] == '#' && line[1] != ' ' && line[1] != '\n' &&
		    line[1] != '\0') {
			fputs(line + 1, out);
			n++;
		}
	}
	free(line);
	fclose(in);
	ck_assert_int_eq(fclose(out), 0);
	ck_assert_int_ge(n, 30);
	conf = parse_text(text, &log);
	ck_assert_msg(conf != NULL, "uncommented example fails:\n%s\n%s",
	    log, text);
	ck_assert_int_eq(addrlist_len(&conf->listen), 2);
	ck_assert_int_eq(addrlist_len(&conf->forwarders), 2);
	check_prefix(prefix_nth(conf, 0), "64:ff9b::/96");
	check_prefix(prefix_nth(conf, 1), "2001:db8:64::/96");
	ck_assert_str_eq(conf->user, "_dns64proxy");
	free(log);
	free(text);
	conf_free(conf);
}
END_TEST

START_TEST(test_missing_file)
{
	struct conf	*conf;
	char		*log;

	conf = parse_logged(CONF_DIR "/no-such-file.conf", &log);
	ck_assert_ptr_null(conf);
	ck_assert_msg(strstr(log, CONF_DIR "/no-such-file.conf: No such "
	    "file or directory") != NULL, "log: %s", log);
	free(log);
	conf = parse_logged(CONF_DIR, &log);
	ck_assert_ptr_null(conf);
	ck_assert_msg(strstr(log, "Is a directory") != NULL, "log: %s", log);
	free(log);
}
END_TEST

/*
 * Bad files
 */

START_TEST(test_bad_file)
{
	const char	*path = bad_files[_i];
	struct conf	*conf;
	FILE		*fp;
	char		 first[512], want[1024], *log, *nl;

	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(fgets(first, sizeof(first), fp));
	fclose(fp);
	ck_assert_msg(strncmp(first, "# expect: ", 10) == 0,
	    "%s: first line is not \"# expect: LINE: TEXT\"", path);
	if ((nl = strchr(first, '\n')) != NULL)
		*nl = '\0';
	/* The expectation starts with the line number. */
	ck_assert_msg(first[10] >= '1' && first[10] <= '9' &&
	    strstr(first + 10, ": ") != NULL, "%s: no line number", path);
	snprintf(want, sizeof(want), "%s:%s", path, first + 10);

	conf = parse_logged(path, &log);
	ck_assert_msg(conf == NULL, "%s parsed, but must fail", path);
	ck_assert_msg(strstr(log, want) != NULL, "%s:\nwant: %s\ngot:  %s",
	    path, want, log);
	free(log);
}
END_TEST

START_TEST(test_bad_count)
{
	ck_assert_int_ge(nbad, 25);
}
END_TEST

/* The parser keeps going after an error and reports every one. */
START_TEST(test_several_errors)
{
	struct conf	*conf;
	char		*log;

	conf = parse_logged(BAD_DIR "/several-errors.conf", &log);
	ck_assert_ptr_null(conf);
	ck_assert_msg(strstr(log, "several-errors.conf:2: unknown keyword "
	    "\"bogus\"") != NULL, "%s", log);
	ck_assert_msg(strstr(log, "several-errors.conf:3: reverse-ttl "
	    "99999999999 out of range") != NULL, "%s", log);
	ck_assert_msg(strstr(log, "several-errors.conf:4: edns-buffer-size "
	    "100 out of range") != NULL, "%s", log);
	free(log);

	conf = parse_text("user a b\nrecursive-only perhaps\ntcp-clients 0\n"
	    "prefix 64:ff9b::/95 {\n\tclients { 10.0.0.0/33 }\n}\n"
	    "listen on ::1\nlisten on ::1\n", &log);
	ck_assert_ptr_null(conf);
	ck_assert_msg(strstr(log, ":1: syntax error") != NULL, "%s", log);
	ck_assert_msg(strstr(log, ":2: \"perhaps\": expected yes or no") !=
	    NULL, "%s", log);
	ck_assert_msg(strstr(log, ":3: tcp-clients 0 out of range") != NULL,
	    "%s", log);
	ck_assert_msg(strstr(log, ":4: invalid prefix") != NULL, "%s", log);
	/* The options of a bad prefix are checked all the same. */
	ck_assert_msg(strstr(log, ":5: clients: invalid address") != NULL,
	    "%s", log);
	ck_assert_msg(strstr(log, ":8: duplicate listen address ::1@53") !=
	    NULL, "%s", log);
	free(log);
}
END_TEST

/* parse_config() can be called again: nothing survives a call. */
START_TEST(test_reparse)
{
	struct conf	*conf;
	char		*log;

	conf = parse_logged(BAD_DIR "/unterminated-block.conf", &log);
	ck_assert_ptr_null(conf);
	free(log);
	conf = parse_good(GOOD_DIR "/scalars.conf");
	ck_assert_uint_eq(conf->reverse_ttl, 0);
	conf_free(conf);

	/* Macros of an earlier file are gone. */
	conf = parse_good(GOOD_DIR "/macros.conf");
	conf_free(conf);
	conf = parse_text("reverse-ttl $ttl\n", &log);
	ck_assert_ptr_null(conf);
	ck_assert_msg(strstr(log, ":1: macro \"ttl\" is not defined") !=
	    NULL, "%s", log);
	free(log);

	/* So are the "once" flags and the exclude-aaaa reset. */
	conf = parse_good(GOOD_DIR "/scalars.conf");
	ck_assert_int_eq(conf->prefix_selection, PREFIX_SELECT_ROUNDROBIN);
	conf_free(conf);
	conf = parse_good(GOOD_DIR "/exclude.conf");
	check_acl(&conf->exclude_aaaa,
	    "2001:db8:dead::/48 fe80::/10 !fe80::1/128");
	conf_free(conf);
}
END_TEST

/*
 * Good files
 */

START_TEST(test_good_roundtrip)
{
	struct conf	*conf;

	conf = parse_good(good_files[_i]);
	check_roundtrip(conf, good_files[_i]);
	conf_free(conf);
}
END_TEST

START_TEST(test_good_count)
{
	ck_assert_int_ge(ngood, 10);
}
END_TEST

START_TEST(test_good_scalars)
{
	struct conf	*conf;

	conf = parse_good(GOOD_DIR "/scalars.conf");
	ck_assert_int_eq(conf->prefix_selection, PREFIX_SELECT_ROUNDROBIN);
	ck_assert_int_eq(conf->dns64_ipv6_only, 1);
	ck_assert_int_eq(conf->synth_on_error, 0);
	ck_assert_int_eq(conf->break_dnssec, 1);
	ck_assert_int_eq(conf->recursive_only, 0);
	ck_assert_int_eq(conf->ipv4only_arpa, 0);
	ck_assert_uint_eq(conf->reverse_ttl, 0);
	ck_assert_uint_eq(conf->upstream_timeout, 60000);
	ck_assert_uint_eq(conf->tcp_idle_timeout, 3600 * 1000);
	ck_assert_uint_eq(conf->tcp_max_clients, 65535);
	ck_assert_uint_eq(conf->tcp_max_pipeline, 1);
	ck_assert_uint_eq(conf->edns_buffer_size, 4096);
	ck_assert_str_eq(conf->user, "_dns64proxy");
	/* Lists keep their defaults. */
	check_acl(&conf->query_acl, DEFAULT_QUERY_ACL);
	check_acl(&conf->exclude_aaaa, "::ffff:0.0.0.0/96");
	conf_free(conf);

	conf = parse_good(GOOD_DIR "/scalars-min.conf");
	ck_assert_int_eq(conf->prefix_selection, PREFIX_SELECT_ALL);
	ck_assert_int_eq(conf->dns64_ipv6_only, 0);
	ck_assert_int_eq(conf->synth_on_error, 1);
	ck_assert_int_eq(conf->break_dnssec, 0);
	ck_assert_int_eq(conf->recursive_only, 1);
	ck_assert_int_eq(conf->ipv4only_arpa, 1);
	ck_assert_uint_eq(conf->reverse_ttl, 2147483647);
	ck_assert_uint_eq(conf->upstream_timeout, 50);
	ck_assert_uint_eq(conf->tcp_idle_timeout, 1000);
	ck_assert_uint_eq(conf->tcp_max_clients, 1);
	ck_assert_uint_eq(conf->tcp_max_pipeline, 1024);
	ck_assert_uint_eq(conf->edns_buffer_size, 512);
	ck_assert_str_eq(conf->user, "65534");
	conf_free(conf);
}
END_TEST

START_TEST(test_good_addresses)
{
	struct conf	*conf;

	conf = parse_good(GOOD_DIR "/addresses.conf");
	ck_assert_int_eq(addrlist_len(&conf->listen), 4);
	check_addr(addr_nth(&conf->listen, 0), "127.0.0.1@53");
	check_addr(addr_nth(&conf->listen, 1), "::1@5353");
	check_addr(addr_nth(&conf->listen, 2), "127.0.0.1@5353");
	check_addr(addr_nth(&conf->listen, 3), "0.0.0.0@1053");
	ck_assert_int_eq(addrlist_len(&conf->forwarders), 3);
	check_addr(addr_nth(&conf->forwarders, 0), "2001:db8::53@53");
	check_addr(addr_nth(&conf->forwarders, 1), "192.0.2.53@5300");
	check_addr(addr_nth(&conf->forwarders, 2), "192.0.2.54@53");
	ck_assert_int_eq(conf->listen_is_default, 0);
	conf_free(conf);
}
END_TEST

START_TEST(test_good_prefixes)
{
	struct conf			*conf;
	const struct conf_prefix	*p;

	conf = parse_good(GOOD_DIR "/prefixes.conf");
	p = prefix_nth(conf, 0);
	check_prefix(p, "64:ff9b::/96");
	ck_assert(dns64_prefix_is_wkp(&p->pfx));
	check_acl(&p->clients, "");
	check_acl(&p->destinations, "");

	p = prefix_nth(conf, 1);
	check_prefix(p, "2001:db8:100::/40");
	check_acl(&p->clients,
	    "10.0.0.0/8 !10.1.0.0/16 2001:db8:aaaa::/48");
	check_acl(&p->destinations, "192.0.2.0/24 198.51.100.0/24");
	ck_assert_int_eq(match(&p->clients, "10.2.3.4"), ACL_ALLOW);
	ck_assert_int_eq(match(&p->clients, "10.1.3.4"), ACL_DENY);
	ck_assert_int_eq(match(&p->clients, "192.0.2.1"), ACL_NOMATCH);

	p = prefix_nth(conf, 2);
	check_prefix(p, "2001:db8::/32");
	check_acl(&p->clients, "0.0.0.0/0 ::/0");
	check_acl(&p->destinations, "");

	/* "any" in an IPv4-only list is IPv4 only. */
	p = prefix_nth(conf, 3);
	check_prefix(p, "2001:db8:200::/48");
	check_acl(&p->clients, "");
	check_acl(&p->destinations, "0.0.0.0/0");

	p = prefix_nth(conf, 4);
	check_prefix(p, "2001:db8:300::/56");
	check_acl(&p->clients, "::/0");
	check_acl(&p->destinations, "!203.0.113.0/24");

	p = prefix_nth(conf, 5);
	check_prefix(p, "2001:db8:400::/64");
	check_acl(&p->clients, "");
	check_acl(&p->destinations, "");
	ck_assert_ptr_null(prefix_nth(conf, 6));
	conf_free(conf);
}
END_TEST

START_TEST(test_good_exclude)
{
	struct conf	*conf;

	/* The first exclude-aaaa drops the default; the second appends. */
	conf = parse_good(GOOD_DIR "/exclude.conf");
	check_acl(&conf->exclude_aaaa,
	    "2001:db8:dead::/48 fe80::/10 !fe80::1/128");
	ck_assert_int_eq(match(&conf->exclude_aaaa, "::ffff:192.0.2.1"),
	    ACL_NOMATCH);
	ck_assert_int_eq(match(&conf->exclude_aaaa, "fe80::1"), ACL_DENY);
	ck_assert_int_eq(match(&conf->exclude_aaaa, "fe80::2"), ACL_ALLOW);
	check_acl(&conf->exclude_a, "192.0.2.0/24 198.51.100.7/32");
	conf_free(conf);

	conf = parse_good(GOOD_DIR "/exclude-none.conf");
	check_acl(&conf->exclude_aaaa, "");
	check_acl(&conf->exclude_a, "0.0.0.0/0");
	/* An empty list must print as one, or the default would return. */
	check_roundtrip(conf, "exclude-none");
	conf_free(conf);
}
END_TEST

START_TEST(test_good_acl)
{
	struct conf	*conf;

	conf = parse_good(GOOD_DIR "/acl.conf");
	/* 10.0.0.0/8 replaced the default entry in place. */
	check_acl(&conf->query_acl,
	    "127.0.0.0/8 ::1/128 !10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 "
	    "169.254.0.0/16 fc00::/7 fe80::/10 !0.0.0.0/0 !::/0 "
	    "192.0.2.0/24 !192.0.2.128/25 192.0.2.200/32 2001:db8::/32 "
	    "!2001:db8:bad::/48");
	ck_assert_int_eq(match(&conf->query_acl, "192.0.2.1"), ACL_ALLOW);
	ck_assert_int_eq(match(&conf->query_acl, "192.0.2.129"), ACL_DENY);
	ck_assert_int_eq(match(&conf->query_acl, "192.0.2.200"), ACL_ALLOW);
	ck_assert_int_eq(match(&conf->query_acl, "10.1.1.1"), ACL_DENY);
	ck_assert_int_eq(match(&conf->query_acl, "127.0.0.1"), ACL_ALLOW);
	ck_assert_int_eq(match(&conf->query_acl, "198.51.100.1"), ACL_DENY);
	ck_assert_int_eq(match(&conf->query_acl, "2001:db8::1"), ACL_ALLOW);
	ck_assert_int_eq(match(&conf->query_acl, "2001:db8:bad::1"),
	    ACL_DENY);
	check_acl(&conf->dns64_clients,
	    "10.0.0.0/8 !10.9.0.0/16 2001:db8::/32");
	ck_assert_int_eq(match(&conf->dns64_clients, "10.9.1.1"), ACL_DENY);
	ck_assert_int_eq(match(&conf->dns64_clients, "10.8.1.1"), ACL_ALLOW);
	conf_free(conf);
}
END_TEST

START_TEST(test_good_domains)
{
	struct conf	*conf;

	conf = parse_good(GOOD_DIR "/domains.conf");
	check_domains(&conf->never_synth,
	    "example.com. ipv6.example.org. quoted.example.");
	check_domains(&conf->always_synth, "broken-aaaa.example.");
	conf_free(conf);

	conf = parse_good(GOOD_DIR "/quoting.conf");
	check_domains(&conf->never_synth, "any. port. clients.");
	check_domains(&conf->always_synth,
	    "a\"b.example. c\\\\.d.example. 123.example.");
	ck_assert_str_eq(conf->user, "any");
	conf_free(conf);
}
END_TEST

START_TEST(test_good_macros)
{
	struct conf			*conf;
	const struct conf_prefix	*p;

	conf = parse_good(GOOD_DIR "/macros.conf");
	p = prefix_nth(conf, 0);
	check_prefix(p, "2001:db8:64::/96");
	check_acl(&p->clients, "10.0.0.0/8 192.168.0.0/16");
	ck_assert_uint_eq(conf->reverse_ttl, 300);
	ck_assert_uint_eq(conf->upstream_timeout, 1500);
	check_addr(addr_nth(&conf->forwarders, 0), "192.0.2.53@5300");
	conf_free(conf);
}
END_TEST

START_TEST(test_good_include)
{
	struct conf	*conf;

	conf = parse_good(GOOD_DIR "/include.conf");
	ck_assert_uint_eq(conf->reverse_ttl, 120);
	ck_assert_uint_eq(conf->tcp_max_clients, 42);
	ck_assert_str_eq(conf->user, "deep");
	/* A macro defined in the included file. */
	check_addr(addr_nth(&conf->forwarders, 0), "2001:db8::53@53");
	conf_free(conf);
}
END_TEST

/* CRLF, a continued line and a last line without a newline. */
START_TEST(test_good_syntax)
{
	struct conf	*conf;

	conf = parse_good(GOOD_DIR "/syntax.conf");
	ck_assert_uint_eq(conf->reverse_ttl, 77);
	check_addr(addr_nth(&conf->listen, 0), "::1@5300");
	ck_assert_uint_eq(conf->tcp_max_pipeline, 8);
	conf_free(conf);
}
END_TEST

/* Line numbers stay right across includes, continuations and blocks. */
START_TEST(test_error_lines)
{
	struct conf	*conf;
	char		*log, *text, *path, *inc;
	int		 n;

	conf = parse_text("exclude-a {\n\t192.0.2.0/24\n\n\t10.0.0.1/8\n}\n"
	    "reverse-ttl \\\n 1 \\\n 2\n", &log);
	ck_assert_ptr_null(conf);
	ck_assert_msg(strstr(log, ":4: exclude-a: invalid address") != NULL,
	    "%s", log);
	/* The word that does not fit is on the last continued line. */
	ck_assert_msg(strstr(log, ":8: syntax error") != NULL, "%s", log);
	free(log);

	inc = tmp_file("\n\nbogus-keyword\n");
	n = asprintf(&text, "reverse-ttl 5\ninclude \"%s\"\nuser a b\n",
	    inc);
	ck_assert_int_ne(n, -1);
	path = tmp_file(text);
	conf = parse_logged(path, &log);
	ck_assert_ptr_null(conf);
	free(text);
	n = asprintf(&text, "%s:3: unknown keyword \"bogus-keyword\"", inc);
	ck_assert_int_ne(n, -1);
	ck_assert_msg(strstr(log, text) != NULL, "%s", log);
	free(text);
	/* Back in the including file, on its own line numbers. */
	n = asprintf(&text, "%s:3: syntax error", path);
	ck_assert_int_ne(n, -1);
	ck_assert_msg(strstr(log, text) != NULL, "%s", log);
	free(text);
	free(log);
	tmp_remove(path);
	tmp_remove(inc);
}
END_TEST

/*
 * conf_parse_addr() and conf_parse_prefix()
 */

START_TEST(test_parse_addr_good)
{
	struct conf_addr	 ca;
	const char		*errstr = NULL;

	ck_assert_int_eq(conf_parse_addr("::1@5300", 53, &ca, &errstr), 0);
	check_addr(&ca, "::1@5300");
	ck_assert_int_eq(conf_parse_addr("127.0.0.1", 53, &ca, &errstr), 0);
	check_addr(&ca, "127.0.0.1@53");
	ck_assert_int_eq(conf_parse_addr("192.0.2.1@65535", 53, &ca,
	    &errstr), 0);
	check_addr(&ca, "192.0.2.1@65535");
	ck_assert_int_eq(conf_parse_addr("2001:db8::1", 5353, &ca, &errstr),
	    0);
	check_addr(&ca, "2001:db8::1@5353");
	ck_assert_int_eq(conf_parse_addr("::ffff:192.0.2.1@1", 53, &ca,
	    &errstr), 0);
	check_addr(&ca, "::ffff:192.0.2.1@1");
}
END_TEST

START_TEST(test_parse_addr_bad)
{
	static const struct {
		const char	*s;
		const char	*err;
	} bad[] = {
		{ "1.2.3.4@0",		"invalid port" },
		{ "1.2.3.4@65536",	"invalid port" },
		{ "1.2.3.4@",		"invalid port" },
		{ "1.2.3.4@-1",		"invalid port" },
		{ "1.2.3.4@53x",	"invalid port" },
		{ "::1@53@53",		"invalid address" },
		{ "1.2.3.4.5",		"invalid address" },
		{ "example.com",	"invalid address" },
		{ "[::1]@53",		"invalid address" },
		{ "fe80::1%eth0",	"invalid address" },
		{ "",			"invalid address" },
	};
	struct conf_addr	 ca;
	const char		*errstr;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errstr = NULL;
		ck_assert_msg(conf_parse_addr(bad[i].s, 53, &ca, &errstr) ==
		    -1, "\"%s\" accepted", bad[i].s);
		ck_assert_ptr_nonnull(errstr);
		ck_assert_msg(strcmp(errstr, bad[i].err) == 0,
		    "\"%s\": \"%s\"", bad[i].s, errstr);
	}
}
END_TEST

START_TEST(test_parse_prefix_good)
{
	static const char *const good[] = {
		"2001:db8::/32", "2001:db8:100::/40", "2001:db8:1::/48",
		"2001:db8:1:100::/56", "2001:db8:1:2::/64", "64:ff9b::/96",
		"2001:db8:1:2:0:ffff::/96", "64:ff9b:1::/48",
	};
	static const int plen[] = { 32, 40, 48, 56, 64, 96, 96, 48 };
	struct dns64_prefix	 pfx;
	const char		*errstr;
	char			 buf[INET6_ADDRSTRLEN];
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		errstr = NULL;
		ck_assert_msg(conf_parse_prefix(good[i], &pfx, &errstr) == 0,
		    "%s: %s", good[i], errstr);
		ck_assert_int_eq(pfx.plen, plen[i]);
		ck_assert_ptr_nonnull(inet_ntop(AF_INET6, pfx.addr, buf,
		    sizeof(buf)));
		ck_assert_int_eq(strncmp(buf, good[i], strlen(buf)), 0);
	}
	ck_assert_int_eq(conf_parse_prefix("64:ff9b::/96", &pfx, &errstr), 0);
	ck_assert(dns64_prefix_is_wkp(&pfx));
}
END_TEST

START_TEST(test_parse_prefix_bad)
{
	static const char *const bad[] = {
		"2001:db8::/33", "::/0", "2001:db8::/31", "2001:db8::/60",
		"2001:db8::/72", "2001:db8::/100", "2001:db8::/128",
		"2001:db8::/129", "2001:db8::", "2001:db8::/", "2001:db8::/x",
		"2001:db8::/-32", "192.0.2.0/24", "example.com/96",
		"0:0:0:0:100::/96", "0:0:0:0:8000::/96", "64:ff9b::1/96",
		"2001:db8::1/32", "",
	};
	struct dns64_prefix	 pfx;
	const char		*errstr;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errstr = NULL;
		ck_assert_msg(conf_parse_prefix(bad[i], &pfx, &errstr) == -1,
		    "\"%s\" accepted", bad[i]);
		ck_assert_ptr_nonnull(errstr);
	}
}
END_TEST

/*
 * conf_finalize() and conf_read_resolv()
 */

START_TEST(test_finalize_defaults)
{
	struct conf	*conf;
	char		*resolv, *log;

	resolv = tmp_file("# generated\nsearch example.com\n"
	    "nameserver 127.0.0.1\n"
	    "nameserver fe80::1%eth0\n"
	    "  nameserver\t2001:db8::53   # comment\n"
	    "nameserver 192.0.2.1\n"
	    "nameserver 192.0.2.1\n"
	    "nameserver\n"
	    "nameserver not-an-address\n"
	    "options edns0\n");
	conf = conf_new();
	ck_assert_ptr_nonnull(conf);
	ck_assert_int_eq(finalize_logged(conf, resolv, &log), 0);

	ck_assert_int_eq(conf->listen_is_default, 1);
	ck_assert_int_eq(addrlist_len(&conf->listen), 2);
	check_addr(addr_nth(&conf->listen, 0), "127.0.0.1@53");
	check_addr(addr_nth(&conf->listen, 1), "::1@53");

	/* 127.0.0.1 is ourselves, fe80::1%eth0 has a scope id. */
	ck_assert_int_eq(addrlist_len(&conf->forwarders), 2);
	check_addr(addr_nth(&conf->forwarders, 0), "2001:db8::53@53");
	check_addr(addr_nth(&conf->forwarders, 1), "192.0.2.1@53");
	ck_assert_msg(strstr(log, "127.0.0.1@53") != NULL &&
	    strstr(log, "skipped") != NULL, "%s", log);
	ck_assert_msg(strstr(log, "nameserver fe80::1%eth0: scope ids are "
	    "not supported") != NULL, "%s", log);
	ck_assert_msg(strstr(log, "not-an-address") != NULL, "%s", log);

	ck_assert_int_eq(TAILQ_EMPTY(&conf->prefixes), 0);
	check_prefix(prefix_nth(conf, 0), "64:ff9b::/96");
	ck_assert(dns64_prefix_is_wkp(&prefix_nth(conf, 0)->pfx));
	ck_assert_ptr_null(prefix_nth(conf, 1));

	check_roundtrip(conf, "finalized");
	free(log);
	tmp_remove(resolv);
	conf_free(conf);
}
END_TEST

/* Listening on the wildcard catches every loopback nameserver. */
START_TEST(test_finalize_wildcard)
{
	struct conf	*conf;
	char		*resolv, *log;

	resolv = tmp_file("nameserver 127.0.0.53\nnameserver ::1\n"
	    "nameserver 192.0.2.1\n");
	conf = parse_text("listen on 0.0.0.0\nlisten on ::1 port 5300\n",
	    &log);
	ck_assert_ptr_nonnull(conf);
	free(log);
	ck_assert_int_eq(finalize_logged(conf, resolv, &log), 0);
	ck_assert_int_eq(conf->listen_is_default, 0);
	ck_assert_int_eq(addrlist_len(&conf->listen), 2);
	/* ::1 port 53 is not ::1 port 5300. */
	ck_assert_int_eq(addrlist_len(&conf->forwarders), 2);
	check_addr(addr_nth(&conf->forwarders, 0), "::1@53");
	check_addr(addr_nth(&conf->forwarders, 1), "192.0.2.1@53");
	ck_assert_msg(strstr(log, "127.0.0.53@53") != NULL &&
	    strstr(log, "wildcard") != NULL, "%s", log);
	free(log);
	conf_free(conf);

	conf = parse_text("listen on ::\n", &log);
	ck_assert_ptr_nonnull(conf);
	free(log);
	ck_assert_int_eq(finalize_logged(conf, resolv, &log), 0);
	/* Only ::1 is ours: the wildcard is per family. */
	ck_assert_int_eq(addrlist_len(&conf->forwarders), 2);
	check_addr(addr_nth(&conf->forwarders, 0), "127.0.0.53@53");
	check_addr(addr_nth(&conf->forwarders, 1), "192.0.2.1@53");
	free(log);
	conf_free(conf);

	/* A wildcard on another port is no loop. */
	conf = parse_text("listen on 0.0.0.0 port 5300\n", &log);
	ck_assert_ptr_nonnull(conf);
	free(log);
	ck_assert_int_eq(finalize_logged(conf, resolv, &log), 0);
	ck_assert_int_eq(addrlist_len(&conf->forwarders), 3);
	check_addr(addr_nth(&conf->forwarders, 0), "127.0.0.53@53");
	ck_assert_str_eq(log, "");
	free(log);
	conf_free(conf);
	tmp_remove(resolv);
}
END_TEST

START_TEST(test_finalize_none_left)
{
	struct conf	*conf;
	char		*resolv, *log;

	resolv = tmp_file("nameserver 127.0.0.1\nnameserver ::1\n"
	    "nameserver fe80::1%2\n");
	conf = conf_new();
	ck_assert_ptr_nonnull(conf);
	ck_assert_int_eq(finalize_logged(conf, resolv, &log), -1);
	ck_assert_msg(strstr(log, "no forwarder") != NULL &&
	    strstr(log, "add a forwarder line or use -u") != NULL, "%s", log);
	free(log);
	conf_free(conf);
	tmp_remove(resolv);

	/* An unreadable resolv.conf is the same. */
	conf = conf_new();
	ck_assert_ptr_nonnull(conf);
	ck_assert_int_eq(finalize_logged(conf, CONF_DIR "/no-resolv.conf",
	    &log), -1);
	ck_assert_msg(strstr(log, "no forwarder") != NULL &&
	    strstr(log, "no-resolv.conf") != NULL, "%s", log);
	free(log);
	conf_free(conf);

	/* An empty one, too. */
	conf = conf_new();
	ck_assert_ptr_nonnull(conf);
	ck_assert_int_eq(finalize_logged(conf, "/dev/null", &log), -1);
	ck_assert_msg(strstr(log, "no forwarder") != NULL, "%s", log);
	free(log);
	conf_free(conf);
}
END_TEST

/*
 * Whether a resolv.conf nameserver is ourselves is decided on the listen
 * addresses as bound: when the embedded default moved to port 5353 because
 * a resolver holds 127.0.0.1 port 53, that resolver is the forwarder.
 */
START_TEST(test_finalize_port_moved)
{
	struct conf		*conf;
	struct conf_addr	*ca;
	char			*resolv, *log;

	resolv = tmp_file("nameserver 127.0.0.1\n");
	conf = conf_new();
	ck_assert_ptr_nonnull(conf);
	ck_assert_int_eq(conf_finalize(conf, resolv), 0);
	ck_assert_int_eq(addrlist_len(&conf->forwarders), 1);
	TAILQ_FOREACH(ca, &conf->listen, entry) {
		if (ca->ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ca->ss)->sin_port = htons(5353);
		else
			((struct sockaddr_in6 *)&ca->ss)->sin6_port =
			    htons(5353);
	}
	ck_assert_int_eq(drop_logged(conf, &log), 0);
	ck_assert_str_eq(log, "");
	ck_assert_int_eq(addrlist_len(&conf->forwarders), 1);
	check_addr(addr_nth(&conf->forwarders, 0), "127.0.0.1@53");
	free(log);
	conf_free(conf);

	/* On port 53 it is ourselves: nothing left. */
	conf = conf_new();
	ck_assert_ptr_nonnull(conf);
	ck_assert_int_eq(conf_finalize(conf, resolv), 0);
	ck_assert_int_eq(drop_logged(conf, &log), -1);
	ck_assert_msg(strstr(log, "skipped as forwarder: it is our listen "
	    "address 127.0.0.1@53") != NULL && strstr(log, "no forwarder") !=
	    NULL, "%s", log);
	ck_assert_int_eq(addrlist_len(&conf->forwarders), 0);
	free(log);
	conf_free(conf);
	tmp_remove(resolv);
}
END_TEST

/* What the file configured is left alone, and resolv.conf not read. */
START_TEST(test_finalize_keeps_configured)
{
	struct conf	*conf;
	char		*log;

	conf = parse_good(GOOD_DIR "/prefixes.conf");
	conf_free(conf);
	conf = parse_text("listen on 127.0.0.1 port 5300\n"
	    "forwarder 127.0.0.1\nprefix 2001:db8::/32\n", &log);
	ck_assert_ptr_nonnull(conf);
	free(log);
	ck_assert_int_eq(finalize_logged(conf, CONF_DIR "/no-resolv.conf",
	    &log), 0);
	ck_assert_int_eq(conf->listen_is_default, 0);
	ck_assert_int_eq(addrlist_len(&conf->listen), 1);
	check_addr(addr_nth(&conf->listen, 0), "127.0.0.1@5300");
	ck_assert_int_eq(addrlist_len(&conf->forwarders), 1);
	check_addr(addr_nth(&conf->forwarders, 0), "127.0.0.1@53");
	check_prefix(prefix_nth(conf, 0), "2001:db8::/32");
	ck_assert_ptr_null(prefix_nth(conf, 1));
	ck_assert_str_eq(log, "");
	free(log);
	conf_free(conf);
}
END_TEST

START_TEST(test_read_resolv)
{
	struct conf_addrlist	 list;
	char			*resolv;

	TAILQ_INIT(&list);
	resolv = tmp_file("nameserver 2001:db8::1\n;nameserver 192.0.2.9\n"
	    "#nameserver 192.0.2.8\nnameservers 192.0.2.7\n"
	    "nameserver 192.0.2.1;comment\n");
	ck_assert_int_eq(conf_read_resolv(resolv, &list), 0);
	ck_assert_int_eq(addrlist_len(&list), 2);
	check_addr(addr_nth(&list, 0), "2001:db8::1@53");
	check_addr(addr_nth(&list, 1), "192.0.2.1@53");
	conf_addrlist_clear(&list);
	ck_assert(TAILQ_EMPTY(&list));
	tmp_remove(resolv);
	ck_assert_int_eq(conf_read_resolv(CONF_DIR "/no-resolv.conf", &list),
	    -1);
	ck_assert(TAILQ_EMPTY(&list));
}
END_TEST

START_TEST(test_lists)
{
	struct conf_addrlist	 al;
	struct conf_prefixlist	 pl;
	struct conf_addr	 ca;
	struct conf_prefix	*p;
	struct dns64_prefix	 pfx;
	const char		*errstr;

	TAILQ_INIT(&al);
	TAILQ_INIT(&pl);
	ck_assert_int_eq(conf_parse_addr("192.0.2.1@99", 53, &ca, &errstr),
	    0);
	ck_assert_int_eq(conf_addr_add(&al, &ca), 0);
	ck_assert_int_eq(conf_addr_add(&al, &ca), 0);
	ck_assert_int_eq(addrlist_len(&al), 2);
	check_addr(addr_nth(&al, 1), "192.0.2.1@99");
	ck_assert_int_eq(conf_parse_prefix("2001:db8::/32", &pfx, &errstr),
	    0);
	p = conf_prefix_add(&pl, &pfx);
	ck_assert_ptr_nonnull(p);
	ck_assert(TAILQ_EMPTY(&p->clients));
	ck_assert(TAILQ_EMPTY(&p->destinations));
	check_prefix(TAILQ_FIRST(&pl), "2001:db8::/32");
	conf_addrlist_clear(&al);
	conf_prefixlist_clear(&pl);
	ck_assert(TAILQ_EMPTY(&al));
	ck_assert(TAILQ_EMPTY(&pl));
}
END_TEST

static int
conf_filter(const struct dirent *d)
{
	size_t	 len = strlen(d->d_name);

	return (len > 5 && strcmp(d->d_name + len - 5, ".conf") == 0);
}

static int
list_files(const char *dir, char **files)
{
	struct dirent	**names;
	int		  i, n;

	n = scandir(dir, &names, conf_filter, alphasort);
	if (n == -1) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return (0);
	}
	for (i = 0; i < n; i++) {
		if (i < MAXFILES && asprintf(&files[i], "%s/%s", dir,
		    names[i]->d_name) == -1)
			files[i] = NULL;
		free(names[i]);
	}
	free(names);
	return (n < MAXFILES ? n : MAXFILES);
}

static Suite *
conf_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("conf");

	tc = tcase_create("defaults");
	tcase_add_test(tc, test_defaults_new);
	tcase_add_test(tc, test_defaults_devnull);
	tcase_add_test(tc, test_defaults_example);
	tcase_add_test(tc, test_example_uncommented);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad");
	tcase_add_loop_test(tc, test_bad_file, 0, nbad);
	tcase_add_test(tc, test_bad_count);
	tcase_add_test(tc, test_several_errors);
	tcase_add_test(tc, test_reparse);
	tcase_add_test(tc, test_error_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("good");
	tcase_add_loop_test(tc, test_good_roundtrip, 0, ngood);
	tcase_add_test(tc, test_good_count);
	tcase_add_test(tc, test_good_scalars);
	tcase_add_test(tc, test_good_addresses);
	tcase_add_test(tc, test_good_prefixes);
	tcase_add_test(tc, test_good_exclude);
	tcase_add_test(tc, test_good_acl);
	tcase_add_test(tc, test_good_domains);
	tcase_add_test(tc, test_good_macros);
	tcase_add_test(tc, test_good_include);
	tcase_add_test(tc, test_good_syntax);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_addr_prefix");
	tcase_add_test(tc, test_parse_addr_good);
	tcase_add_test(tc, test_parse_addr_bad);
	tcase_add_test(tc, test_parse_prefix_good);
	tcase_add_test(tc, test_parse_prefix_bad);
	tcase_add_test(tc, test_lists);
	suite_add_tcase(s, tc);

	tc = tcase_create("finalize");
	tcase_add_test(tc, test_finalize_defaults);
	tcase_add_test(tc, test_finalize_wildcard);
	tcase_add_test(tc, test_finalize_none_left);
	tcase_add_test(tc, test_finalize_port_moved);
	tcase_add_test(tc, test_finalize_keeps_configured);
	tcase_add_test(tc, test_read_resolv);
	suite_add_tcase(s, tc);

	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed, i;

	log_init(1, 0);
	nbad = list_files(BAD_DIR, bad_files);
	ngood = list_files(GOOD_DIR, good_files);

	sr = srunner_create(conf_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (i = 0; i < nbad; i++)
		free(bad_files[i]);
	for (i = 0; i < ngood; i++)
		free(good_files[i]);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
