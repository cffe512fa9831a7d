/*
 * dns64proxy-control -- talk to a running dns64proxy over its control
 * socket: send "DNS64P1 command [args]", print the reply.
 *
 * Exit status: 0 success; 1 the daemon answered "error:", or a bad command
 * or usage; 3 the daemon is not running (no socket, or nobody listens on
 * it: LSB's "program is not running"); 4 the socket may not be used
 * (LSB's "insufficient privilege").
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "control.h"

#define EXIT_ERROR	1
#define EXIT_STOPPED	3
#define EXIT_DENIED	4
#define REPLY_TIMEOUT	60	/* seconds; a reload waits for the workers */
#define REPLY_MAX	(16 << 20)

/* The commands and how many arguments each takes. */
static const struct {
	const char	*name;
	int		 minargs;
	int		 maxargs;
	const char	*help;
} commands[] = {
	{ "status",	 0, 0, "status               the daemon's state" },
	{ "stats",	 0, 0, "stats                every counter, name=value" },
	{ "reload",	 0, 0, "reload               read the configuration "
	    "file again" },
	{ "flush",	 0, 1, "flush [name]         drop the cache, or a "
	    "name's entries" },
	{ "verbosity",	 1, 1, "verbosity 0|1|2      set the log verbosity" },
	{ "dump-config", 0, 0, "dump-config          print the running "
	    "configuration" },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *fp)
{
	size_t	 i;

	fprintf(fp, "usage: dns64proxy-control [-h] [-s socket] command "
	    "[args]\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %s\n", commands[i].help);
	fprintf(fp, "default socket: %s\n", CONF_CONTROL_SOCKET);
}

static long long
now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Wait for events on fd until deadline; 1 ready, 0 timed out, -1 error. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd	 pfd;
	long long	 left;
	int		 n;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			return (0);
		pfd.fd = fd;
		pfd.events = events;
		if ((n = poll(&pfd, 1, (int)left)) == -1 && errno == EINTR)
			continue;
		return (n > 0 ? 1 : n);
	}
}

/*
 * Connect within CONTROL_TIMEOUT seconds.  A unix socket whose backlog is
 * full answers EAGAIN: the daemon is busy, so try again until the deadline.
 */
static int
connect_socket(const char *path)
{
	struct sockaddr_un	 sun;
	long long		 deadline = now_ms() + CONTROL_TIMEOUT * 1000;
	int			 fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "dns64proxy-control: %s: path too long for a "
		    "unix socket\n", path);
		exit(EXIT_ERROR);
	}
	strcpy(sun.sun_path, path);
	for (;;) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1) {
			perror("dns64proxy-control: socket");
			exit(EXIT_ERROR);
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return (fd);
		saved = errno;
		close(fd);
		if (saved != EAGAIN)
			break;
		if (now_ms() >= deadline) {
			fprintf(stderr, "dns64proxy-control: %s: the daemon "
			    "does not accept the connection (timed out after "
			    "%d s)\n", path, CONTROL_TIMEOUT);
			exit(EXIT_ERROR);
		}
		(void)poll(NULL, 0, 50);
	}
	switch (saved) {
	case ENOENT:
	case ENOTDIR:
		fprintf(stderr, "dns64proxy is not running (no control socket "
		    "at %s)\n", path);
		exit(EXIT_STOPPED);
	case ECONNREFUSED:
		fprintf(stderr, "dns64proxy is not running (nothing listens "
		    "on the control socket %s)\n", path);
		exit(EXIT_STOPPED);
	case EACCES:
	case EPERM:
		fprintf(stderr, "dns64proxy-control: %s: permission denied: "
		    "run as root or as a member of the socket's group\n",
		    path);
		exit(EXIT_DENIED);
	default:
		fprintf(stderr, "dns64proxy-control: %s: %s\n", path,
		    strerror(saved));
		exit(EXIT_ERROR);
	}
}

static void
send_all(int fd, const char *buf, size_t len, long long deadline)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && wait_fd(fd, POLLOUT,
			    deadline) == 1)
				continue;
			fprintf(stderr, "dns64proxy-control: cannot send the "
			    "request: %s\n", errno == EAGAIN ? "timed out" :
			    strerror(errno));
			exit(EXIT_ERROR);
		}
		buf += n;
		len -= n;
	}
}

int
main(int argc, char *argv[])
{
	const char	*path = CONF_CONTROL_SOCKET;
	char		 req[1024], *reply = NULL, *p;
	size_t		 i, len, nreply = 0, size = 0;
	ssize_t		 n;
	long long	 deadline;
	int		 ch, fd, found = -1, nargs, err, r;

	while ((ch = getopt(argc, argv, "hs:")) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return (0);
		case 's':
			path = optarg;
			break;
		default:
			usage(stderr);
			return (EXIT_ERROR);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return (EXIT_ERROR);
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			found = (int)i;
	if (found == -1) {
		fprintf(stderr, "dns64proxy-control: unknown command \"%s\"\n",
		    argv[0]);
		usage(stderr);
		return (EXIT_ERROR);
	}
	nargs = argc - 1;
	if (nargs < commands[found].minargs ||
	    nargs > commands[found].maxargs) {
		fprintf(stderr, "usage: dns64proxy-control [-s socket] %s\n",
		    commands[found].help);
		return (EXIT_ERROR);
	}
	len = (size_t)snprintf(req, sizeof(req), "%s", CONTROL_PROTO);
	for (r = 0; r < argc && len < sizeof(req); r++) {
		if (strpbrk(argv[r], " \t\r\n") != NULL || *argv[r] == '\0') {
			fprintf(stderr, "dns64proxy-control: \"%s\": an "
			    "argument is one word\n", argv[r]);
			return (EXIT_ERROR);
		}
		len += (size_t)snprintf(req + len, sizeof(req) - len, " %s",
		    argv[r]);
	}
	if (len + 1 >= sizeof(req)) {
		fprintf(stderr, "dns64proxy-control: request too long\n");
		return (EXIT_ERROR);
	}
	req[len++] = '\n';

	fd = connect_socket(path);
	deadline = now_ms() + REPLY_TIMEOUT * 1000;
	send_all(fd, req, len, deadline);
	for (;;) {
		if (size - nreply < 4096) {
			if (size >= REPLY_MAX) {
				fprintf(stderr, "dns64proxy-control: reply "
				    "too long\n");
				return (EXIT_ERROR);
			}
			size = size ? size * 2 : 65536;
			if ((p = realloc(reply, size)) == NULL) {
				perror("dns64proxy-control");
				return (EXIT_ERROR);
			}
			reply = p;
		}
		n = read(fd, reply + nreply, size - nreply);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (wait_fd(fd, POLLIN, deadline) == 1)
				continue;
			fprintf(stderr, "dns64proxy-control: no reply within "
			    "%d s\n", REPLY_TIMEOUT);
			return (EXIT_ERROR);
		}
		if (n == -1) {
			fprintf(stderr, "dns64proxy-control: reading the "
			    "reply: %s\n", strerror(errno));
			return (EXIT_ERROR);
		}
		if (n == 0)
			break;
		nreply += n;
	}
	close(fd);
	if (nreply == 0) {
		fprintf(stderr, "dns64proxy-control: the daemon closed the "
		    "connection without a reply\n");
		return (EXIT_ERROR);
	}
	/* A failure goes to stderr, where scripts and systemd look. */
	err = nreply >= 6 && strncmp(reply, "error:", 6) == 0;
	if (fwrite(reply, 1, nreply, err ? stderr : stdout) != nreply ||
	    fflush(stdout) == EOF) {
		perror("dns64proxy-control: write");
		return (EXIT_ERROR);
	}
	free(reply);
	return (err ? EXIT_ERROR : 0);
}
