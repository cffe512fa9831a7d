#include "config.h"

/*
 * logsink - a stand-in for syslog's /dev/log, for the integration tests.
 *
 *	logsink -s SOCKET -o FILE
 *
 * Binds a unix datagram socket at the path SOCKET (which must not exist),
 * writes "ready" to stderr, then appends every datagram it receives to FILE
 * as one line: the message as syslog(3) sent it ("<PRI>TIMESTAMP
 * TAG[PID]: TEXT"), a trailing newline and NUL dropped, other control
 * characters shown as '?'.  Each line is flushed at once, so a test can
 * poll FILE.  Exits 0 on SIGTERM or SIGINT (removing SOCKET), 1 on errors,
 * 2 on usage errors.
 *
 * A test bind-mounts SOCKET on /dev/log inside a mount namespace of its
 * own, so the daemon it starts there logs to logsink and nothing reaches
 * the host's syslog.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LS_EXIT_OK	0
#define LS_EXIT_FAIL	1
#define LS_EXIT_USAGE	2

#define LS_MSG_MAX	8192

static volatile sig_atomic_t	ls_stop;

static void	usage(void);
static void	on_signal(int);
static int	open_socket(const char *);
static void	write_line(FILE *, char *, size_t);

static void
usage(void)
{
	fprintf(stderr, "usage: logsink -s socket -o file\n");
	exit(LS_EXIT_USAGE);
}

static void
on_signal(int sig)
{
	(void)sig;
	ls_stop = 1;
}

static int
open_socket(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "logsink: socket path too long: %s\n", path);
		return (-1);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1) {
		perror("logsink: socket");
		return (-1);
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "logsink: bind %s: %s\n", path,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/* One message as one line: no trailing newline or NUL, no control bytes. */
static void
write_line(FILE *fp, char *msg, size_t len)
{
	size_t	 i;

	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\0'))
		len--;
	for (i = 0; i < len; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = '?';
	fwrite(msg, 1, len, fp);
	fputc('\n', fp);
	fflush(fp);
}

int
main(int argc, char *argv[])
{
	struct sigaction	 sa;
	struct pollfd		 pfd;
	sigset_t		 block, wait_mask;
	const char		*path = NULL, *out = NULL;
	char			 msg[LS_MSG_MAX];
	FILE			*fp;
	ssize_t			 n;
	int			 ch, fd, rc = LS_EXIT_OK;

	while ((ch = getopt(argc, argv, "o:s:")) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 's':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || path == NULL || out == NULL)
		usage();

	/*
	 * SIGTERM and SIGINT are blocked but while ppoll() waits, so a
	 * signal cannot slip in between the check of ls_stop and the wait.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigprocmask(SIG_BLOCK, &block, &wait_mask) == -1) {
		perror("logsink: signals");
		return (LS_EXIT_FAIL);
	}
	if ((fp = fopen(out, "a")) == NULL) {
		fprintf(stderr, "logsink: %s: %s\n", out, strerror(errno));
		return (LS_EXIT_FAIL);
	}
	if ((fd = open_socket(path)) == -1) {
		fclose(fp);
		return (LS_EXIT_FAIL);
	}
	fprintf(stderr, "ready\n");
	fflush(stderr);

	pfd.fd = fd;
	pfd.events = POLLIN;
	while (!ls_stop) {
		if (ppoll(&pfd, 1, NULL, &wait_mask) == -1) {
			if (errno == EINTR)
				continue;
			perror("logsink: ppoll");
			rc = LS_EXIT_FAIL;
			break;
		}
		if ((n = recv(fd, msg, sizeof(msg), MSG_DONTWAIT)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			perror("logsink: recv");
			rc = LS_EXIT_FAIL;
			break;
		}
		write_line(fp, msg, (size_t)n);
	}
	close(fd);
	unlink(path);
	if (fclose(fp) == EOF) {
		perror("logsink: fclose");
		rc = LS_EXIT_FAIL;
	}
	return (rc);
}
