/*
 * main.c -- startup, signals and shutdown.
 *
 * Order: options, config (file, then command-line overrides, then the
 * embedded defaults), -n stops here; then bind, drop privileges, detach,
 * and run the loop.  fatal() is only used before the loop runs.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "dns64proxy.h"
#include "conf.h"
#include "listener.h"
#include "log.h"
#include "query.h"
#include "stats.h"
#include "upstream.h"

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: dns64proxy [-dnv] [-f file] [-l addr[@port]]..."
	    " [-u addr[@port]]...\n"
	    "                  [-p prefix/len]...\n");
	exit(1);
}

static void
signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct worker	*w = arg;

	(void)events;
	switch (sig) {
	case SIGINT:
	case SIGTERM:
		log_info("exiting on signal %d", (int)sig);
		event_base_loopexit(w->base, NULL);
		break;
	case SIGUSR1:
		stats_log(w->stats);
		break;
	case SIGHUP:
		log_warnx("reload is not supported yet; restart to apply "
		    "a new config");
		break;
	}
}

/* Command-line lists replace the config file's. */
struct cli {
	struct conf_addrlist	 listen;
	struct conf_addrlist	 forwarders;
	struct conf_prefixlist	 prefixes;
};

static void
cli_apply(struct conf *conf, struct cli *cli)
{
	if (!TAILQ_EMPTY(&cli->listen)) {
		conf_addrlist_clear(&conf->listen);
		TAILQ_CONCAT(&conf->listen, &cli->listen, entry);
	}
	if (!TAILQ_EMPTY(&cli->forwarders)) {
		conf_addrlist_clear(&conf->forwarders);
		TAILQ_CONCAT(&conf->forwarders, &cli->forwarders, entry);
	}
	if (!TAILQ_EMPTY(&cli->prefixes)) {
		conf_prefixlist_clear(&conf->prefixes);
		TAILQ_CONCAT(&conf->prefixes, &cli->prefixes, entry);
	}
}

static struct conf *
load_config(const char *file, int file_given)
{
	if (!file_given && access(file, F_OK) == -1 && errno == ENOENT) {
		log_info("%s not found, using the embedded defaults", file);
		return (conf_new());
	}
	return (parse_config(file));
}

/* Does the host have this address (and its family) at all? */
static int
addr_exists(const struct conf_addr *ca)
{
	struct sockaddr_storage	 ss = ca->ss;
	int			 fd, rv = 1;

	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	if ((fd = socket(ss.ss_family, SOCK_DGRAM, 0)) == -1)
		return (errno != EAFNOSUPPORT);
	if (bind(fd, (struct sockaddr *)&ss, ca->sslen) == -1 &&
	    errno == EADDRNOTAVAIL)
		rv = 0;
	close(fd);
	return (rv);
}

/*
 * The embedded default is meant to start on any host: an address the host
 * lacks (no ::1 in many containers) is left out, and when port 53 is taken
 * (a resolver already runs there) or needs a privilege we lack, port 5353
 * is used instead.  Configured addresses get no such help.
 */
static struct listener *
bind_listeners(struct worker *w)
{
	struct listener		*l;
	struct conf_addr	*ca, *next;
	char			 name[SA_STRLEN];
	int			 saved;

	if (!w->conf->listen_is_default)
		return (listener_new(w));
	for (ca = TAILQ_FIRST(&w->conf->listen); ca != NULL; ca = next) {
		next = TAILQ_NEXT(ca, entry);
		if (addr_exists(ca))
			continue;
		log_info("cannot listen on %s: %s, skipped",
		    sa_str((struct sockaddr *)&ca->ss, name, sizeof(name)),
		    strerror(EADDRNOTAVAIL));
		TAILQ_REMOVE(&w->conf->listen, ca, entry);
		free(ca);
	}
	if (TAILQ_EMPTY(&w->conf->listen))
		return (NULL);
	if ((l = listener_new(w)) != NULL)
		return (l);
	saved = errno;
	if (saved != EADDRINUSE && saved != EACCES)
		return (NULL);
	log_info("cannot listen on port %d (%s), using port %d instead",
	    DNS_PORT, strerror(saved), DNS_FALLBACK_PORT);
	TAILQ_FOREACH(ca, &w->conf->listen, entry) {
		if (ca->ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ca->ss)->sin_port =
			    htons(DNS_FALLBACK_PORT);
		else
			((struct sockaddr_in6 *)&ca->ss)->sin6_port =
			    htons(DNS_FALLBACK_PORT);
	}
	return (listener_new(w));
}

static void
drop_privileges(const char *user)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL)
		fatalx("unknown user %s", user);
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("cannot drop privileges to %s", user);
}

int
main(int argc, char *argv[])
{
	struct worker		 w;
	struct stats		 stats;
	struct cli		 cli;
	struct conf_addr	 ca;
	struct dns64_prefix	 pfx;
	struct event		*ev_sig[5];
	const char		*file = DNS64PROXY_CONF, *errstr;
	const int		 sigs[5] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, 0 };
	int			 ch, debug = 0, noaction = 0, verbose = 0;
	int			 file_given = 0, i;

	memset(&w, 0, sizeof(w));
	TAILQ_INIT(&w.queries);
	memset(&stats, 0, sizeof(stats));
	TAILQ_INIT(&cli.listen);
	TAILQ_INIT(&cli.forwarders);
	TAILQ_INIT(&cli.prefixes);
	log_init(1, LOG_DAEMON);

	while ((ch = getopt(argc, argv, "df:l:np:u:v")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			file = optarg;
			file_given = 1;
			break;
		case 'l':
		case 'u':
			if (conf_parse_addr(optarg, DNS_PORT, &ca, &errstr) ==
			    -1)
				fatalx("-%c %s: %s", ch, optarg, errstr);
			if (conf_addr_add(ch == 'l' ? &cli.listen :
			    &cli.forwarders, &ca) == -1)
				fatal("%s", __func__);
			break;
		case 'n':
			noaction = 1;
			break;
		case 'p':
			if (conf_parse_prefix(optarg, &pfx, &errstr) == -1)
				fatalx("-p %s: %s", optarg, errstr);
			if (conf_prefix_add(&cli.prefixes, &pfx) == NULL)
				fatal("%s", __func__);
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_setverbose(verbose);

	if ((w.conf = load_config(file, file_given)) == NULL)
		exit(1);
	cli_apply(w.conf, &cli);
	if (conf_finalize(w.conf, DNS64PROXY_RESOLV_CONF) == -1)
		exit(1);
	if (noaction) {
		/*
		 * Which resolv.conf nameservers are ourselves depends on the
		 * port the embedded default ends up with, which only binding
		 * tells; a configured listen address is known now.
		 */
		if (!w.conf->listen_is_default &&
		    conf_drop_own_forwarders(w.conf) == -1)
			exit(1);
		if (verbose)
			conf_print(stdout, w.conf);
		fprintf(stderr, "configuration OK\n");
		conf_free(w.conf);
		exit(0);
	}

	signal(SIGPIPE, SIG_IGN);
	if ((w.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	w.stats = &stats;
	if ((w.listener = bind_listeners(&w)) == NULL)
		fatalx("cannot listen, exiting");
	if (conf_drop_own_forwarders(w.conf) == -1)
		exit(1);
	if ((w.upstream = upstream_new(&w)) == NULL)
		fatal("upstream_new");
	if (w.conf->user != NULL)
		drop_privileges(w.conf->user);
	if (!debug) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init(0, LOG_DAEMON);
	}
	for (i = 0; sigs[i] != 0; i++) {
		if ((ev_sig[i] = evsignal_new(w.base, sigs[i], signal_cb,
		    &w)) == NULL || evsignal_add(ev_sig[i], NULL) == -1)
			fatalx("cannot set up signal %d", sigs[i]);
	}
	log_info("dns64proxy %s ready", PACKAGE_VERSION);

	event_base_dispatch(w.base);

	stats_log(&stats);
	/*
	 * The listener first: freeing a TCP client's queries while it is
	 * still there would let it read and start the next ones.
	 */
	listener_free(w.listener);
	query_free_all(&w);
	upstream_free(w.upstream);
	for (i = 0; sigs[i] != 0; i++)
		event_free(ev_sig[i]);
	event_base_free(w.base);
	conf_free(w.conf);
	return (0);
}
