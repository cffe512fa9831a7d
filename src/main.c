/*
 * main.c -- startup, signals and shutdown.
 *
 * Order: options, config (file, then command-line overrides, then the
 * embedded defaults), -n stops here; then bind, drop privileges, detach,
 * start the workers and run the main loop, which owns signals, reload,
 * the control socket, the metrics page and the periodic chores.  The
 * control and metrics sockets are opened with the listen sockets, before
 * privileges are dropped, and served once the loop exists.  fatal() is
 * only used before the loop runs.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
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
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "dns64proxy.h"
#include "acl.h"
#include "cache.h"
#include "conf.h"
#include "control.h"
#include "log.h"
#include "metrics.h"
#include "mono.h"
#include "notify.h"
#include "report.h"
#include "server.h"
#include "stats.h"

#define CHORE_MS	1000		/* cache sweep, log summaries */
#define SWEEP_MAX	1024		/* cache entries looked at per chore */

/* Command-line settings replace the config file's, at every load. */
struct cli {
	struct conf_addrlist	 listen;
	struct conf_addrlist	 forwarders;
	struct conf_prefixlist	 prefixes;
	struct acl		 acl;
	int			 acl_set;
	const char		*control;
};

struct main_ctx {
	struct event_base	*base;
	struct server		*srv;
	struct cli		 cli;
	const char		*file;
	int			 file_given;
	struct runstate		 rs;		/* start, reloads */
	struct control		*ctl;
	struct metrics		*metrics;
};

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: dns64proxy [-dnv] [-f file] [-l addr[@port]]..."
	    " [-u addr[@port]]...\n"
	    "                  [-p prefix/len]... [-a [!]cidr]... "
	    "[-s socket]\n");
	exit(1);
}

static int
copy_prefixes(struct conf_prefixlist *to, const struct conf_prefixlist *from)
{
	const struct conf_prefix	*p;

	TAILQ_FOREACH(p, from, entry)
		if (conf_prefix_add(to, &p->pfx) == NULL)
			return (-1);
	return (0);
}

static int
copy_addrs(struct conf_addrlist *to, const struct conf_addrlist *from)
{
	const struct conf_addr	*a;

	TAILQ_FOREACH(a, from, entry)
		if (conf_addr_add(to, a) == -1)
			return (-1);
	return (0);
}

/* Copies, not moves: a reload applies them again. */
static int
cli_apply(struct conf *conf, const struct cli *cli)
{
	const struct acl_entry	*e;

	if (!TAILQ_EMPTY(&cli->listen)) {
		conf_addrlist_clear(&conf->listen);
		if (copy_addrs(&conf->listen, &cli->listen) == -1)
			return (-1);
	}
	if (!TAILQ_EMPTY(&cli->forwarders)) {
		conf_addrlist_clear(&conf->forwarders);
		if (copy_addrs(&conf->forwarders, &cli->forwarders) == -1)
			return (-1);
	}
	if (!TAILQ_EMPTY(&cli->prefixes)) {
		conf_prefixlist_clear(&conf->prefixes);
		if (copy_prefixes(&conf->prefixes, &cli->prefixes) == -1)
			return (-1);
	}
	if (cli->acl_set) {
		acl_clear(&conf->query_acl);
		TAILQ_FOREACH(e, &cli->acl, entry)
			if (acl_add(&conf->query_acl, &e->net, e->action) == -1)
				return (-1);
	}
	if (cli->control != NULL) {
		free(conf->control_socket);
		if ((conf->control_socket = strdup(cli->control)) == NULL)
			return (-1);
	}
	return (0);
}

/*
 * The configuration as it stands now: the file (or the embedded default
 * when the default file does not exist), the command line on top, then
 * what is still missing.  NULL after logging.
 */
static struct conf *
load_config(const struct main_ctx *mc)
{
	struct conf	*conf;

	if (!mc->file_given && access(mc->file, F_OK) == -1 &&
	    errno == ENOENT) {
		log_info("%s not found, using the embedded defaults", mc->file);
		conf = conf_new();
	} else
		conf = parse_config(mc->file);
	if (conf == NULL)
		return (NULL);
	if (cli_apply(conf, &mc->cli) == -1) {
		log_warn("command line settings");
		conf_free(conf);
		return (NULL);
	}
	if (conf_finalize(conf, DNS64PROXY_RESOLV_CONF) == -1) {
		conf_free(conf);
		return (NULL);
	}
	return (conf);
}

/*
 * SIGHUP and the control tool's reload: parse, then swap.  A bad file
 * keeps the running configuration; the error has been logged with its
 * file:line.  The new control and metrics sockets are opened before
 * anything changes (server_reload does the same with listen addresses),
 * so that any failure leaves the running configuration whole.
 */
static int
reload(struct main_ctx *mc, char *err, size_t len)
{
	struct conf	*conf;
	char		 status[512];
	int		 rv = -1;

	(void)notify_reloading();
	log_info("reloading %s", mc->file);
	if ((conf = load_config(mc)) == NULL)
		snprintf(err, len, "%s: not loaded, see the file:line "
		    "messages in the log", mc->file);
	else if (control_prepare(mc->ctl, conf->control_socket,
	    server_conf(mc->srv)->user, err, len) == 0) {
		if (metrics_prepare(mc->metrics, conf, err, len) == -1)
			control_abort(mc->ctl);
		else if (server_reload(mc->srv, conf, err, len) == -1) {
			control_abort(mc->ctl);
			metrics_abort(mc->metrics);
		} else {
			control_commit(mc->ctl);
			metrics_commit(mc->metrics);
			rv = 0;
		}
	}
	if (rv == -1)
		log_warnx("reload failed: %s; the running configuration is "
		    "kept", err);
	conf_unref(conf);
	if (rv == 0) {
		mc->rs.reloads_ok++;
		mc->rs.last_reload_ok = time(NULL);
		log_info("configuration generation %u is running",
		    server_generation(mc->srv));
		snprintf(status, sizeof(status), "config generation %u",
		    server_generation(mc->srv));
	} else {
		mc->rs.reloads_failed++;
		snprintf(status, sizeof(status), "reload failed: %s", err);
	}
	(void)notify_ready(status);
	return (rv);
}

static int
reload_cb(void *arg, char *err, size_t len)
{
	return (reload(arg, err, len));
}

static void
signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct main_ctx	*mc = arg;
	struct stats	 s;
	char		 err[512];

	(void)events;
	switch (sig) {
	case SIGINT:
	case SIGTERM:
		log_info("exiting on signal %d", (int)sig);
		(void)notify_stopping();
		event_base_loopexit(mc->base, NULL);
		break;
	case SIGUSR1:
		server_stats(mc->srv, &s);
		stats_log(&s);
		break;
	case SIGHUP:
		(void)reload(mc, err, sizeof(err));
		break;
	}
}

static void
chore_cb(evutil_socket_t fd, short events, void *arg)
{
	struct main_ctx	*mc = arg;

	(void)fd;
	(void)events;
	(void)cache_sweep(mc->srv->cache, mono_ms(), SWEEP_MAX);
	log_flush(0);
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

/*
 * Every client connection and upstream socket is a descriptor: take the
 * hard limit (systemd's default soft limit is 1024).
 */
static void
raise_nofile(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static unsigned int
count_workers(const struct conf *conf)
{
	long	 n;

	if (conf->workers != 0)
		return (conf->workers);
	if ((n = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		n = 1;
	return (n > CONF_WORKERS_MAX ? CONF_WORKERS_MAX : (unsigned int)n);
}

static void
parse_acl_arg(struct cli *cli, const char *arg)
{
	struct acl_net	 na;
	const char	*errstr, *s = arg;
	enum acl_action	 action = ACL_ALLOW;

	if (*s == '!') {
		action = ACL_DENY;
		s++;
	}
	if (acl_net_parse(s, &na, &errstr) == -1)
		fatalx("-a %s: %s", arg, errstr);
	if (acl_add(&cli->acl, &na, action) == -1)
		fatal("%s", __func__);
	cli->acl_set = 1;
}

int
main(int argc, char *argv[])
{
	struct main_ctx		 mc;
	struct conf		*conf;
	struct conf_addr	 ca;
	struct dns64_prefix	 pfx;
	struct event		*ev_sig[5], *ev_chore;
	struct stats		 s;
	struct timeval		 tv = { CHORE_MS / 1000, 0 };
	const struct conf_addr	*la;
	char			 err[512], status[128];
	const char		*errstr;
	const int		 sigs[5] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, 0 };
	int			 ch, debug = 0, noaction = 0, verbose = 0, i;
	unsigned int		 nworkers, naddrs = 0;

	memset(&mc, 0, sizeof(mc));
	mc.rs.started = mc.rs.last_reload_ok = time(NULL);
	mc.rs.started_ms = mono_ms();
	mc.file = DNS64PROXY_CONF;
	TAILQ_INIT(&mc.cli.listen);
	TAILQ_INIT(&mc.cli.forwarders);
	TAILQ_INIT(&mc.cli.prefixes);
	TAILQ_INIT(&mc.cli.acl);
	log_init(1, LOG_DAEMON);

	while ((ch = getopt(argc, argv, "a:df:l:np:s:u:v")) != -1) {
		switch (ch) {
		case 'a':
			parse_acl_arg(&mc.cli, optarg);
			break;
		case 'd':
			debug = 1;
			break;
		case 'f':
			mc.file = optarg;
			mc.file_given = 1;
			break;
		case 'l':
		case 'u':
			if (conf_parse_addr(optarg, DNS_PORT, &ca, &errstr) ==
			    -1)
				fatalx("-%c %s: %s", ch, optarg, errstr);
			if (conf_addr_add(ch == 'l' ? &mc.cli.listen :
			    &mc.cli.forwarders, &ca) == -1)
				fatal("%s", __func__);
			break;
		case 'n':
			noaction = 1;
			break;
		case 'p':
			if (conf_parse_prefix(optarg, &pfx, &errstr) == -1)
				fatalx("-p %s: %s", optarg, errstr);
			if (conf_prefix_add(&mc.cli.prefixes, &pfx) == NULL)
				fatal("%s", __func__);
			break;
		case 's':
			if (*optarg != '/' || strlen(optarg) >= CONF_PATH_MAX)
				fatalx("-s %s: not an absolute path that fits "
				    "a unix socket", optarg);
			mc.cli.control = optarg;
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

	if ((conf = load_config(&mc)) == NULL)
		exit(1);
	if (noaction) {
		/*
		 * Which resolv.conf nameservers are ourselves depends on the
		 * port the embedded default ends up with, which only binding
		 * tells; a configured listen address is known now.
		 */
		if (!conf->listen_is_default &&
		    conf_drop_own_forwarders(conf) == -1)
			exit(1);
		if (verbose)
			conf_print(stdout, conf);
		fprintf(stderr, "configuration OK\n");
		conf_free(conf);
		exit(0);
	}

	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	nworkers = count_workers(conf);
	if ((mc.srv = server_open(conf, nworkers)) == NULL)
		fatalx("cannot start, exiting");
	mc.rs.srv = mc.srv;
	mc.rs.file = mc.file;
	if ((mc.ctl = control_new(&mc.rs, reload_cb, &mc)) == NULL ||
	    (mc.metrics = metrics_new(&mc.rs)) == NULL)
		fatal("%s", __func__);
	if (control_prepare(mc.ctl, conf->control_socket, conf->user, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	if (metrics_prepare(mc.metrics, conf, err, sizeof(err)) == -1) {
		control_abort(mc.ctl);
		fatalx("%s", err);
	}
	conf_unref(conf);
	if (server_conf(mc.srv)->user != NULL)
		drop_privileges(server_conf(mc.srv)->user);
	if (!debug) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init(0, LOG_DAEMON);
	}
	/* After daemon(): in daemon mode, these lines belong in syslog. */
	conf_log_setup(server_conf(mc.srv));
	if ((mc.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	for (i = 0; sigs[i] != 0; i++) {
		if ((ev_sig[i] = evsignal_new(mc.base, sigs[i], signal_cb,
		    &mc)) == NULL || evsignal_add(ev_sig[i], NULL) == -1)
			fatalx("cannot set up signal %d", sigs[i]);
	}
	if ((ev_chore = event_new(mc.base, -1, EV_PERSIST, chore_cb,
	    &mc)) == NULL || event_add(ev_chore, &tv) == -1)
		fatalx("cannot set up the periodic timer");
	control_start(mc.ctl, mc.base);
	if (metrics_start(mc.metrics, mc.base) == -1)
		fatalx("cannot serve the metrics, exiting");
	if (server_start(mc.srv) == -1)
		fatalx("cannot start the workers, exiting");
	log_info("%u worker thread%s", nworkers, nworkers == 1 ? "" : "s");
	log_info("dns64proxy %s ready", PACKAGE_VERSION);
	/* Only now: the listeners, control and metrics all serve. */
	TAILQ_FOREACH(la, &server_conf(mc.srv)->listen, entry)
		naddrs++;
	snprintf(status, sizeof(status), "serving %u address%s with %u "
	    "worker%s", naddrs, naddrs == 1 ? "" : "es", nworkers,
	    nworkers == 1 ? "" : "s");
	(void)notify_ready(status);

	event_base_dispatch(mc.base);

	server_stats(mc.srv, &s);
	stats_log(&s);
	control_free(mc.ctl);
	metrics_free(mc.metrics);
	server_free(mc.srv);
	event_free(ev_chore);
	for (i = 0; sigs[i] != 0; i++)
		event_free(ev_sig[i]);
	event_base_free(mc.base);
	conf_addrlist_clear(&mc.cli.listen);
	conf_addrlist_clear(&mc.cli.forwarders);
	conf_prefixlist_clear(&mc.cli.prefixes);
	acl_clear(&mc.cli.acl);
	log_flush(1);
	return (0);
}
