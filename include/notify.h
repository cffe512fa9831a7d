/*
 * notify.h -- tell the service manager what the daemon is doing
 * (sd_notify(3)).  Without libsystemd at configure time, or when the daemon
 * was not started by systemd (no NOTIFY_SOCKET), every call does nothing
 * and returns 0.  On a failed send they log a warning and return -1.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

/* READY=1, with STATUS=status unless status is NULL. */
int	notify_ready(const char *status);
/* RELOADING=1 and MONOTONIC_USEC=now, before a configuration reload. */
int	notify_reloading(void);
/* STOPPING=1, at the start of shutdown. */
int	notify_stopping(void);
/* STATUS=status: a one-line state shown by "systemctl status". */
int	notify_status(const char *status);

#endif /* NOTIFY_H */
