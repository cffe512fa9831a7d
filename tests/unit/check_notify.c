/*
 * check_notify.c -- unit tests of the sd_notify(3) messages: the test owns a
 * unix datagram socket, points NOTIFY_SOCKET at it and reads what each call
 * sends.  Built without libsystemd the calls do nothing, and the program
 * reports a TAP skip.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "notify.h"

#ifdef HAVE_SYSTEMD

/* What a fixture owns; Check runs each test in its own process. */
static char	tmpdir[64];
static char	sockpath[128];
static int	sock = -1;

static void
setup(void)
{
	struct sockaddr_un	 sun;

	strcpy(tmpdir, "/tmp/check_notify.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(sockpath, sizeof(sockpath), "%s/notify", tmpdir);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(sock, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sockpath);
	ck_assert_int_eq(bind(sock, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", sockpath, 1), 0);
}

static void
teardown(void)
{
	if (sock != -1)
		close(sock);
	unlink(sockpath);
	rmdir(tmpdir);
}

/* The next datagram, waiting up to 5 s for it. */
static void
recv_msg(char *buf, size_t len)
{
	struct pollfd	 pfd = { .fd = sock, .events = POLLIN };
	ssize_t		 n;

	ck_assert_msg(poll(&pfd, 1, 5000) == 1, "no notification arrived");
	n = recv(sock, buf, len - 1, 0);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
}

/* Nothing is waiting on the socket. */
static void
assert_no_msg(void)
{
	char	 buf[64];
	ssize_t	 n;

	n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
	ck_assert_msg(n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK),
	    "unexpected notification (%zd bytes)", n);
}

static unsigned long long
monotonic_usec(void)
{
	struct timespec	 ts;

	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return ((unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
}

START_TEST(test_ready)
{
	char	 buf[1024];

	ck_assert_int_eq(notify_ready("serving 2 listeners"), 0);
	recv_msg(buf, sizeof(buf));
	ck_assert_str_eq(buf, "READY=1\nSTATUS=serving 2 listeners");
	ck_assert_int_eq(notify_ready(NULL), 0);
	recv_msg(buf, sizeof(buf));
	ck_assert_str_eq(buf, "READY=1");
	assert_no_msg();
}
END_TEST

START_TEST(test_reloading)
{
	char			 buf[1024], tail;
	unsigned long long	 before, after, usec;

	before = monotonic_usec();
	ck_assert_int_eq(notify_reloading(), 0);
	after = monotonic_usec();
	recv_msg(buf, sizeof(buf));
	ck_assert_msg(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu%c", &usec,
	    &tail) == 1, "bad message \"%s\"", buf);
	ck_assert_uint_ge(usec, before);
	ck_assert_uint_le(usec, after);
	assert_no_msg();
}
END_TEST

START_TEST(test_stopping)
{
	char	 buf[1024];

	ck_assert_int_eq(notify_stopping(), 0);
	recv_msg(buf, sizeof(buf));
	ck_assert_str_eq(buf, "STOPPING=1");
	assert_no_msg();
}
END_TEST

START_TEST(test_status)
{
	char	 buf[1024];

	ck_assert_int_eq(notify_status("reload failed: a.conf:3: bad"), 0);
	recv_msg(buf, sizeof(buf));
	ck_assert_str_eq(buf, "STATUS=reload failed: a.conf:3: bad");
	/* A newline must not smuggle in another assignment. */
	ck_assert_int_eq(notify_status("x.conf\nREADY=1"), 0);
	recv_msg(buf, sizeof(buf));
	ck_assert_str_eq(buf, "STATUS=x.conf READY=1");
	ck_assert_int_eq(notify_ready("a\nb\n"), 0);
	recv_msg(buf, sizeof(buf));
	ck_assert_str_eq(buf, "READY=1\nSTATUS=a b ");
}
END_TEST

START_TEST(test_status_long)
{
	char	 status[2000], buf[4096];
	size_t	 i;

	memset(status, 'a', sizeof(status) - 1);
	status[sizeof(status) - 1] = '\0';
	ck_assert_int_eq(notify_ready(status), 0);
	recv_msg(buf, sizeof(buf));
	ck_assert_int_eq(strncmp(buf, "READY=1\nSTATUS=a", 16), 0);
	ck_assert_uint_lt(strlen(buf), sizeof(status));
	ck_assert_uint_gt(strlen(buf), 256);
	for (i = 15; buf[i] != '\0'; i++)
		ck_assert_int_eq(buf[i], 'a');
}
END_TEST

/* The daemon's life as the lead's main() drives it. */
START_TEST(test_sequence)
{
	char	 buf[1024];

	ck_assert_int_eq(notify_ready("serving"), 0);
	ck_assert_int_eq(notify_reloading(), 0);
	ck_assert_int_eq(notify_ready("config generation 2"), 0);
	ck_assert_int_eq(notify_stopping(), 0);
	recv_msg(buf, sizeof(buf));
	ck_assert_str_eq(buf, "READY=1\nSTATUS=serving");
	recv_msg(buf, sizeof(buf));
	ck_assert_int_eq(strncmp(buf, "RELOADING=1\nMONOTONIC_USEC=", 27), 0);
	recv_msg(buf, sizeof(buf));
	ck_assert_str_eq(buf, "READY=1\nSTATUS=config generation 2");
	recv_msg(buf, sizeof(buf));
	ck_assert_str_eq(buf, "STOPPING=1");
	assert_no_msg();
}
END_TEST

/* Not started by systemd: nothing is sent, and that is not an error. */
START_TEST(test_no_socket)
{
	ck_assert_int_eq(unsetenv("NOTIFY_SOCKET"), 0);
	ck_assert_int_eq(notify_ready("serving"), 0);
	ck_assert_int_eq(notify_reloading(), 0);
	ck_assert_int_eq(notify_stopping(), 0);
	ck_assert_int_eq(notify_status("idle"), 0);
	assert_no_msg();
}
END_TEST

/* NOTIFY_SOCKET set but nobody listening: the caller learns it. */
START_TEST(test_dead_socket)
{
	char	 dead[160];

	snprintf(dead, sizeof(dead), "%s/nobody", tmpdir);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", dead, 1), 0);
	ck_assert_int_eq(notify_ready("serving"), -1);
	ck_assert_int_eq(notify_stopping(), -1);
	assert_no_msg();
}
END_TEST

/* "@name" is a socket in the abstract namespace. */
START_TEST(test_abstract)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	char			 name[64], env[80], buf[64];
	int			 s;
	ssize_t			 n;

	snprintf(name, sizeof(name), "check_notify.%ld", (long)getpid());
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, name, strlen(name));
	len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sun, len), 0);
	snprintf(env, sizeof(env), "@%s", name);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", env, 1), 0);
	ck_assert_int_eq(notify_stopping(), 0);
	n = recv(s, buf, sizeof(buf) - 1, 0);
	ck_assert_int_eq(n, 10);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "STOPPING=1");
	close(s);
}
END_TEST

static Suite *
notify_suite(void)
{
	Suite	*s = suite_create("notify");
	TCase	*tc;

	tc = tcase_create("sd_notify");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ready);
	tcase_add_test(tc, test_reloading);
	tcase_add_test(tc, test_stopping);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_status_long);
	tcase_add_test(tc, test_sequence);
	tcase_add_test(tc, test_no_socket);
	tcase_add_test(tc, test_dead_socket);
	tcase_add_test(tc, test_abstract);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(notify_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

#else /* !HAVE_SYSTEMD */

int
main(void)
{
	/* TAP's "skip all": the harness counts it as skipped. */
	printf("1..0 # SKIP built without libsystemd (configure "
	    "--enable-systemd)\n");
	return (EXIT_SUCCESS);
}

#endif /* HAVE_SYSTEMD */
