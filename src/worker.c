/*
 * worker.c -- worker threads.
 *
 * Each worker has its own event base, listening sockets, upstream sockets
 * and queries, so that the hot path takes no lock but the cache's and the
 * forwarder table's.  The main thread owns everything else (signals,
 * reload, control, metrics) and reaches a worker only through a pipe: a
 * message carries a pointer, and the worker acts on it in its own loop.
 */
#include "config.h"

#include <sys/queue.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "dns64proxy.h"
#include "conf.h"
#include "listener.h"
#include "log.h"
#include "query.h"
#include "upstream.h"
#include "worker.h"

#define UPDATE_WAIT	5	/* s the main thread waits for the workers */

enum wmsg_type {
	WMSG_UPDATE,
	WMSG_STOP
};

/* Counts the workers done with an update; the last one out frees it. */
struct update_sync {
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;
	unsigned int		 done;
	unsigned int		 refs;
};

struct wmsg {
	enum wmsg_type		 type;
	struct worker_update	*u;
	struct update_sync	*sync;
};

struct worker_ctl {
	pthread_t		 thread;
	int			 started;
	int			 pipe[2];
	struct event		*ev_msg;
};

static void
sync_unref(struct update_sync *s)
{
	unsigned int	 refs;

	pthread_mutex_lock(&s->mtx);
	refs = --s->refs;
	pthread_mutex_unlock(&s->mtx);
	if (refs == 0) {
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->mtx);
		free(s);
	}
}

static void
apply(struct worker *w, struct worker_update *u)
{
	struct conf	*old = w->conf;
	int		 i;

	w->conf = conf_ref(u->conf);
	conf_unref(old);
	for (i = 0; i < u->nremove; i++)
		listener_remove(w->listener,
		    (struct sockaddr *)&u->remove[i]);
	for (i = 0; i < u->nadd; i++)
		(void)listener_add(w->listener, &u->add[i]);
}

static void
msg_cb(evutil_socket_t fd, short events, void *arg)
{
	struct worker	*w = arg;
	struct wmsg	*m;
	ssize_t		 n;

	(void)events;
	for (;;) {
		if ((n = read(fd, &m, sizeof(m))) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("%s: read", __func__);
			return;
		}
		if (n != sizeof(m))
			return;
		switch (m->type) {
		case WMSG_STOP:
			/*
			 * Stop reading at once, the listener first: freeing
			 * a TCP client's queries while it is still there
			 * would let it read and start the next ones.
			 */
			listener_free(w->listener);
			w->listener = NULL;
			query_free_all(w);
			event_base_loopexit(w->base, NULL);
			break;
		case WMSG_UPDATE:
			apply(w, m->u);
			pthread_mutex_lock(&m->sync->mtx);
			m->sync->done++;
			pthread_cond_signal(&m->sync->cond);
			pthread_mutex_unlock(&m->sync->mtx);
			sync_unref(m->sync);
			break;
		}
		free(m);
	}
}

struct worker *
worker_new(struct server *srv, unsigned int id, struct conf *conf,
    struct listen_fds *fds, int nfds)
{
	struct worker	*w;
	int		 i;

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->ctl = calloc(1, sizeof(*w->ctl))) == NULL) {
		free(w);
		log_warn("%s", __func__);
		for (i = 0; i < nfds; i++)
			listener_close_fds(&fds[i]);
		return (NULL);
	}
	w->srv = srv;
	w->id = id;
	w->conf = conf_ref(conf);
	TAILQ_INIT(&w->queries);
	TAILQ_INIT(&w->hedged);
	w->ctl->pipe[0] = w->ctl->pipe[1] = -1;
	if ((w->base = event_base_new()) == NULL ||
	    event_base_priority_init(w->base, WORKER_PRIORITIES) == -1 ||
	    pipe2(w->ctl->pipe, O_NONBLOCK | O_CLOEXEC) == -1 ||
	    (w->ctl->ev_msg = event_new(w->base, w->ctl->pipe[0],
	    EV_READ | EV_PERSIST, msg_cb, w)) == NULL ||
	    event_add(w->ctl->ev_msg, NULL) == -1 ||
	    (w->render = ldns_buffer_new(DNS_MSG_MAX)) == NULL ||
	    (w->listener = listener_new(w, query_handle)) == NULL ||
	    (w->upstream = upstream_new(w)) == NULL ||
	    query_init(w) == -1) {
		log_warnx("worker %u: cannot set up its event loop", id);
		for (i = 0; i < nfds; i++)
			listener_close_fds(&fds[i]);
		worker_free(w);
		return (NULL);
	}
	for (i = 0; i < nfds; i++)
		if (listener_add(w->listener, &fds[i]) == -1) {
			while (++i < nfds)
				listener_close_fds(&fds[i]);
			worker_free(w);
			return (NULL);
		}
	return (w);
}

static void *
run(void *arg)
{
	struct worker	*w = arg;
	sigset_t	 set;

	/* Signals are the main thread's. */
	sigfillset(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (event_base_dispatch(w->base) == -1)
		log_warnx("worker %u: event loop failed", w->id);
	return (NULL);
}

int
worker_start(struct worker *w)
{
	int	 rv;

	if ((rv = pthread_create(&w->ctl->thread, NULL, run, w)) != 0) {
		errno = rv;
		log_warn("worker %u: pthread_create", w->id);
		return (-1);
	}
	w->ctl->started = 1;
	return (0);
}

static int
post(struct worker *w, struct wmsg *m)
{
	ssize_t	 n;

	/* A pointer is less than PIPE_BUF: the write is atomic. */
	while ((n = write(w->ctl->pipe[1], &m, sizeof(m))) == -1 &&
	    errno == EINTR)
		;
	return (n == sizeof(m) ? 0 : -1);
}

int
worker_update(struct worker **ws, unsigned int n, struct worker_update *u)
{
	struct update_sync	*s;
	struct wmsg		*m;
	struct timespec		 deadline;
	unsigned int		 i, sent = 0;
	int			 rv = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (-1);
	pthread_mutex_init(&s->mtx, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->refs = 1;
	for (i = 0; i < n; i++) {
		if ((m = calloc(1, sizeof(*m))) == NULL) {
			rv = -1;
			continue;
		}
		m->type = WMSG_UPDATE;
		m->u = &u[i];
		m->sync = s;
		pthread_mutex_lock(&s->mtx);
		s->refs++;
		pthread_mutex_unlock(&s->mtx);
		if (post(ws[i], m) == -1) {
			log_warn("worker %u: cannot post an update", i);
			free(m);
			sync_unref(s);
			rv = -1;
			continue;
		}
		sent++;
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += UPDATE_WAIT;
	pthread_mutex_lock(&s->mtx);
	while (s->done < sent)
		if (pthread_cond_timedwait(&s->cond, &s->mtx, &deadline) ==
		    ETIMEDOUT) {
			log_warnx("only %u of %u workers took the update in "
			    "%d s", s->done, sent, UPDATE_WAIT);
			rv = -1;
			break;
		}
	pthread_mutex_unlock(&s->mtx);
	sync_unref(s);
	return (rv);
}

void
worker_stop(struct worker *w)
{
	struct wmsg	*m;

	if (!w->ctl->started)
		return;
	if ((m = calloc(1, sizeof(*m))) != NULL) {
		m->type = WMSG_STOP;
		if (post(w, m) == -1)
			free(m);
	}
	pthread_join(w->ctl->thread, NULL);
	w->ctl->started = 0;
}

void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	/* As at WMSG_STOP, for a worker that never ran. */
	listener_free(w->listener);
	query_free_all(w);
	query_fini(w);
	upstream_free(w->upstream);
	if (w->ctl->ev_msg != NULL)
		event_free(w->ctl->ev_msg);
	if (w->ctl->pipe[0] != -1)
		close(w->ctl->pipe[0]);
	if (w->ctl->pipe[1] != -1)
		close(w->ctl->pipe[1]);
	if (w->base != NULL)
		event_base_free(w->base);
	if (w->render != NULL)
		ldns_buffer_free(w->render);
	conf_unref(w->conf);
	free(w->ctl);
	free(w);
}
