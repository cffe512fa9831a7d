/*
 * replay.c -- the plain driver of the fuzz harnesses, for make check.
 *
 *	NAME [FILE | DIR]...
 *
 * Linked with one harness (tests/fuzz/NAME.c), built by the normal
 * compiler: no clang, no libFuzzer.  Each input (a FILE, or every file of a
 * DIR in name order, dot files left out) goes to LLVMFuzzerTestOneInput()
 * in a child process of its own, which ends it after REPLAY_TIMEOUT
 * seconds.  The report is TAP, one test per input: "not ok" unless the
 * child exited 0, so a failed check (abort), a crash, a hang or a sanitizer
 * report (in a sanitizer build) each fail.
 *
 * Without arguments the inputs are tests/fuzz/corpus/NAME, which must hold
 * at least one file, and tests/fuzz/crashes/NAME if it exists, under
 * $top_srcdir (default "."), NAME being the program's own file name.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define REPLAY_TIMEOUT	60	/* seconds per input */

struct inputs {
	char	**path;
	size_t	  n;
	size_t	  size;
};

static void
add(struct inputs *in, const char *dir, const char *name)
{
	char	**p;
	size_t	  len;

	if (in->n == in->size) {
		in->size = in->size ? 2 * in->size : 64;
		if ((p = reallocarray(in->path, in->size, sizeof(*p))) ==
		    NULL) {
			printf("Bail out! out of memory\n");
			exit(99);
		}
		in->path = p;
	}
	len = (dir ? strlen(dir) + 1 : 0) + strlen(name) + 1;
	if ((in->path[in->n] = malloc(len)) == NULL) {
		printf("Bail out! out of memory\n");
		exit(99);
	}
	snprintf(in->path[in->n], len, "%s%s%s", dir ? dir : "",
	    dir ? "/" : "", name);
	in->n++;
}

static int
cmp(const void *a, const void *b)
{
	return (strcmp(*(char * const *)a, *(char * const *)b));
}

/* Add the files of dir, sorted; the number added, -1 if unreadable. */
static int
add_dir(struct inputs *in, const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 first = in->n;

	if ((d = opendir(dir)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			add(in, dir, de->d_name);
	closedir(d);
	qsort(in->path + first, in->n - first, sizeof(*in->path), cmp);
	return ((int)(in->n - first));
}

static void
add_arg(struct inputs *in, const char *arg)
{
	struct stat	 st;

	if (stat(arg, &st) == -1) {
		printf("Bail out! %s: %s\n", arg, strerror(errno));
		exit(99);
	}
	if (!S_ISDIR(st.st_mode))
		add(in, NULL, arg);
	else if (add_dir(in, arg) == -1) {
		printf("Bail out! %s: %s\n", arg, strerror(errno));
		exit(99);
	}
}

static void
add_default(struct inputs *in, const char *prog)
{
	const char	*top = getenv("top_srcdir");
	char		*copy, dir[4096];

	if (top == NULL || *top == '\0')
		top = ".";
	/* Relative names in the report. */
	snprintf(dir, sizeof(dir), "%s/tests/fuzz", top);
	if (chdir(dir) == -1) {
		printf("Bail out! %s: %s\n", dir, strerror(errno));
		exit(99);
	}
	if ((copy = strdup(prog)) == NULL) {
		printf("Bail out! out of memory\n");
		exit(99);
	}
	snprintf(dir, sizeof(dir), "corpus/%s", basename(copy));
	if (add_dir(in, dir) <= 0) {
		printf("Bail out! %s/tests/fuzz/%s: no seed corpus\n", top,
		    dir);
		exit(99);
	}
	snprintf(dir, sizeof(dir), "crashes/%s", basename(copy));
	if (add_dir(in, dir) == -1 && errno != ENOENT) {
		printf("Bail out! %s/tests/fuzz/%s: %s\n", top, dir,
		    strerror(errno));
		exit(99);
	}
	free(copy);
}

/* Read a whole file into a buffer of exactly its size. */
static uint8_t *
slurp(const char *path, size_t *lenp)
{
	FILE		*fp;
	uint8_t		*buf = NULL, *p;
	size_t		 len = 0, n;
	uint8_t		 chunk[4096];

	if ((fp = fopen(path, "rb")) == NULL)
		return (NULL);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if ((p = realloc(buf, len + n)) == NULL) {
			free(buf);
			fclose(fp);
			return (NULL);
		}
		buf = p;
		memcpy(buf + len, chunk, n);
		len += n;
	}
	if (ferror(fp) || (buf == NULL && (buf = malloc(1)) == NULL)) {
		free(buf);
		fclose(fp);
		return (NULL);
	}
	fclose(fp);
	*lenp = len;
	return (buf);
}

/* Run one input in a child; 0 if it exited 0. */
static int
run(const char *path, char *why, size_t whylen)
{
	uint8_t		*buf;
	size_t		 len;
	pid_t		 pid;
	int		 status;

	if ((buf = slurp(path, &len)) == NULL) {
		snprintf(why, whylen, "cannot read: %s", strerror(errno));
		return (-1);
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		free(buf);
		return (-1);
	}
	if (pid == 0) {
		alarm(REPLAY_TIMEOUT);
		(void)LLVMFuzzerTestOneInput(buf, len);
		free(buf);
		exit(0);
	}
	free(buf);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			snprintf(why, whylen, "waitpid: %s", strerror(errno));
			return (-1);
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return (0);
	if (WIFSIGNALED(status))
		snprintf(why, whylen, "killed by signal %d%s",
		    WTERMSIG(status), WTERMSIG(status) == SIGALRM ?
		    " (timeout)" : "");
	else
		snprintf(why, whylen, "exit status %d", WEXITSTATUS(status));
	return (-1);
}

int
main(int argc, char *argv[])
{
	struct inputs	 in;
	char		 why[256];
	size_t		 i;
	int		 a, failed = 0;

	memset(&in, 0, sizeof(in));
	if (argc > 1)
		for (a = 1; a < argc; a++)
			add_arg(&in, argv[a]);
	else
		add_default(&in, argv[0]);
	printf("1..%zu\n", in.n);
	for (i = 0; i < in.n; i++) {
		if (run(in.path[i], why, sizeof(why)) == 0)
			printf("ok %zu - %s\n", i + 1, in.path[i]);
		else {
			printf("not ok %zu - %s: %s\n", i + 1, in.path[i], why);
			failed++;
		}
		free(in.path[i]);
	}
	free(in.path);
	return (failed ? 1 : 0);
}
