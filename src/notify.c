/*
 * notify.c -- the sd_notify(3) messages of the daemon's life: ready, reloading,
 * stopping, and a status line.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "log.h"
#include "notify.h"

#ifdef HAVE_SYSTEMD
#define NOTIFY_MSGLEN	512

/*
 * Send head, then STATUS=status when status is not NULL.  The message is
 * newline-separated assignments, so a newline in the status (a file name
 * in an error message, say) becomes a blank rather than starting another
 * assignment.  A status too long for the buffer is cut.
 */
static int
notify_send(const char *head, const char *status)
{
	char	 msg[NOTIFY_MSGLEN];
	size_t	 len;
	int	 n, r;

	n = snprintf(msg, sizeof(msg), "%s%s%s", head,
	    status != NULL && *head != '\0' ? "\n" : "",
	    status != NULL ? "STATUS=" : "");
	if (n < 0 || (size_t)n >= sizeof(msg))
		return (-1);
	for (len = n; status != NULL && *status != '\0' &&
	    len + 1 < sizeof(msg); status++)
		msg[len++] = *status == '\n' ? ' ' : *status;
	msg[len] = '\0';
	if ((r = sd_notify(0, msg)) < 0) {
		log_warnx("cannot notify systemd: %s", strerror(-r));
		return (-1);
	}
	return (0);
}

int
notify_ready(const char *status)
{
	return (notify_send("READY=1", status));
}

int
notify_reloading(void)
{
	struct timespec	 ts;
	char		 head[64];

	/* systemd ties the reload to its job by this timestamp. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1) {
		log_warn("clock_gettime");
		return (-1);
	}
	snprintf(head, sizeof(head), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
	return (notify_send(head, NULL));
}

int
notify_stopping(void)
{
	return (notify_send("STOPPING=1", NULL));
}

int
notify_status(const char *status)
{
	return (notify_send("", status));
}

#else /* !HAVE_SYSTEMD */

int
notify_ready(const char *status)
{
	(void)status;
	return (0);
}

int
notify_reloading(void)
{
	return (0);
}

int
notify_stopping(void)
{
	return (0);
}

int
notify_status(const char *status)
{
	(void)status;
	return (0);
}

#endif /* HAVE_SYSTEMD */
