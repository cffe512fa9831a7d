/*
 * parse.y -- the configuration file parser.
 *
 * A yacc grammar with a hand-written lexer, in the manner of the OpenBSD
 * daemons: newline-terminated statements, { } blocks that may span lines,
 * "include" and $macros.  parse_config() builds a new struct conf from the
 * defaults of conf_new(); on any error it logs "file:line: message", keeps
 * going to report further errors, and finally returns NULL.
 *
 * Memory: every string the lexer hands to the grammar lives in a pool that
 * is freed when parse_config() returns, so that yacc error recovery, which
 * silently discards tokens and states, can never leak one.  Actions copy
 * what they keep.
 */
%{
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns64proxy.h"
#include "acl.h"
#include "conf.h"
#include "dns64.h"
#include "log.h"
#include "sa.h"

/* Nesting limit of include; it also ends include loops. */
#define PARSE_MAXDEPTH		8
#define PARSE_MAXTOKEN		1024

/*
 * A macro's text is pushed back into the input between these markers so
 * that the lexer knows not to expand "$" inside it.  They lie outside the
 * range of a byte and therefore can never come from a file.
 */
#define MACRO_BEGIN		(UCHAR_MAX + 1)
#define MACRO_END		(UCHAR_MAX + 2)

struct parse_file {
	TAILQ_ENTRY(parse_file)	 entry;
	FILE			*stream;
	char			*name;
	int			 lineno;
	int			 eof_reached;
	int			 braces;	/* open { in this file */
	int			 brace_line;	/* of the outermost one */
	int			*unget;
	size_t			 ungetpos;
	size_t			 ungetsize;
};
TAILQ_HEAD(parse_files, parse_file);

struct parse_sym {
	TAILQ_ENTRY(parse_sym)	 entry;
	char			*name;
	char			*value;
};
TAILQ_HEAD(parse_syms, parse_sym);

struct parse_str {
	SLIST_ENTRY(parse_str)	 entry;
	char			 s[];
};
SLIST_HEAD(parse_strs, parse_str);

/* Every token carries its text (if any), its value and its line. */
struct parse_value {
	char		*string;
	int64_t		 number;
	int		 lineno;
};
#define YYSTYPE		struct parse_value

/* Scalar keywords, each allowed once per configuration. */
enum parse_once {
	ONCE_PREFIX_SELECTION,
	ONCE_DNS64_IPV6_ONLY,
	ONCE_SYNTH_ON_ERROR,
	ONCE_BREAK_DNSSEC,
	ONCE_RECURSIVE_ONLY,
	ONCE_IPV4ONLY_ARPA,
	ONCE_REVERSE_TTL,
	ONCE_UPSTREAM_TIMEOUT,
	ONCE_TCP_IDLE_TIMEOUT,
	ONCE_TCP_CLIENTS,
	ONCE_TCP_PIPELINE,
	ONCE_EDNS_BUFSIZE,
	ONCE_USER,
	ONCE_WORKERS,
	ONCE_CACHE_SIZE,
	ONCE_CACHE_MAX_TTL,
	ONCE_CACHE_MAX_NEG_TTL,
	ONCE_SERVE_STALE,
	ONCE_FWD_SELECTION,
	ONCE_DNS64_PARALLEL,
	ONCE_CONTROL_SOCKET,
	ONCE_FREEBIND,
	ONCE_TCP_PER_ADDRESS
};

#define PREFIXOPT_CLIENTS	0x01
#define PREFIXOPT_DESTINATIONS	0x02

/*
 * The state of one parse_config() call.  yacc parsers communicate through
 * globals; keeping all of ours in one struct lets parse_config() reset it
 * in one go, so that a reload starts from a clean slate.
 */
struct parse_state {
	struct conf		*conf;
	struct parse_file	*file;		/* being read */
	struct parse_files	 files;		/* open, innermost last */
	struct parse_files	 closed;	/* done; names still used */
	struct parse_syms	 syms;
	struct parse_strs	 strs;
	int			 errors;
	int			 expanding;
	unsigned int		 once;		/* 1 << enum parse_once */
	int			 exclude_aaaa_seen;
	/* The address list being filled by a { } block. */
	struct acl		*acl;
	sa_family_t		 acl_af;	/* 0: any family */
	const char		*acl_kw;
	struct conf_domainlist	*domains;
	/* The prefix whose { } block is being read. */
	struct conf_prefix	*prefix;
	struct conf_prefix	 scratch;	/* stands in for a bad one */
	unsigned int		 prefix_opts;
	/* A syntax error, held until we know whether to name the word. */
	const char		*synerr;
	const char		*synerr_file;
	int			 synerr_line;
	int			 eof_error;
};

static struct parse_state	 ps;

static int	 yylex(void);
static void	 yyerror(const char *);
static void	 parse_error(int, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	 synerr_flush(void);
static char	*pool_strdup(const char *);
static char	*pool_concat(const char *, const char *);
static void	 pool_free(void);
static int	 symset(const char *, const char *, int);
static const char *symget(const char *);
static void	 syms_free(void);
static struct parse_file *pushfile(const char *);
static int	 popfile(void);
static void	 closefile(struct parse_file *);
static void	 include_file(const char *, int);
static int	 once(enum parse_once, const char *, int);
static int	 number_ok(int64_t, const char *, int, int64_t, int64_t,
		    const char *);
static void	 set_flag(enum parse_once, const char *, int, int64_t, int *);
static void	 addr_add(struct conf_addrlist *, const char *, const char *,
		    int64_t, int);
static void	 prefix_begin(const char *, int);
static void	 prefix_option(unsigned int, const char *, int, struct acl *,
		    sa_family_t);
static void	 list_begin(struct acl *, sa_family_t, const char *);
static void	 list_item(const char *, enum acl_action, int);
static void	 query_acl_add(const char *, enum acl_action, int);
static void	 domain_item(const char *, int);
static void	 set_user(const char *, int);
static void	 set_control(const char *, int);
%}

%token	ALL ALLOW ALWAYS_SYNTH ANY BREAK_DNSSEC CLIENTS DENY DESTINATIONS
%token	DNS64_CLIENTS DNS64_IPV6_ONLY EDNS_BUFSIZE EXCLUDE_A EXCLUDE_AAAA
%token	FORWARDER INCLUDE IPV4ONLY_ARPA LISTEN NEVER_SYNTH NO ON PORT PREFIX
%token	PREFIX_SELECTION RECURSIVE_ONLY REVERSE_TTL ROUND_ROBIN SYNTH_ON_ERROR
%token	TCP_CLIENTS TCP_IDLE_TIMEOUT TCP_PIPELINE UPSTREAM_TIMEOUT USER YES
%token	AUTO CACHE_MAX_NEG_TTL CACHE_MAX_TTL CACHE_SIZE CONTROL_SOCKET
%token	DNS64_PARALLEL FASTEST FREEBIND FWD_SELECTION METRICS_LISTEN NONE
%token	ORDERED SERVE_STALE TCP_PER_ADDRESS WORKERS
%token	ERROR
%token	<string>	STRING
%token	<number>	NUMBER
%type	<number>	yesno port fwdsel
%type	<string>	string

%%

grammar		: /* empty */
		| grammar '\n'
		| grammar stmt '\n'
		| grammar INCLUDE STRING '\n'	{
			/*
			 * Only now, with the newline consumed, is the rest of
			 * this file exactly where the included one resumes.
			 */
			include_file($3, $<lineno>3);
		}
		| grammar error '\n'		{ synerr_flush(); }
		;

stmt		: varset
		| LISTEN ON STRING port		{
			addr_add(&ps.conf->listen, "listen address", $3, $4,
			    $<lineno>3);
		}
		| FORWARDER STRING port		{
			addr_add(&ps.conf->forwarders, "forwarder", $2, $3,
			    $<lineno>2);
		}
		| PREFIX STRING			{
			prefix_begin($2, $<lineno>2);
		} prefixblock
		| PREFIX_SELECTION ALL		{
			if (once(ONCE_PREFIX_SELECTION, "prefix-selection",
			    $<lineno>1) == 0)
				ps.conf->prefix_selection = PREFIX_SELECT_ALL;
		}
		| PREFIX_SELECTION ROUND_ROBIN	{
			if (once(ONCE_PREFIX_SELECTION, "prefix-selection",
			    $<lineno>1) == 0)
				ps.conf->prefix_selection =
				    PREFIX_SELECT_ROUNDROBIN;
		}
		| PREFIX_SELECTION STRING	{
			parse_error($<lineno>2, "prefix-selection \"%s\": "
			    "expected all or round-robin", $2);
		}
		| EXCLUDE_AAAA			{
			/* A configured list replaces the default one. */
			if (!ps.exclude_aaaa_seen) {
				acl_clear(&ps.conf->exclude_aaaa);
				ps.exclude_aaaa_seen = 1;
			}
			list_begin(&ps.conf->exclude_aaaa, AF_INET6,
			    "exclude-aaaa");
		} addrblock
		| EXCLUDE_A			{
			list_begin(&ps.conf->exclude_a, AF_INET, "exclude-a");
		} addrblock
		| ALLOW STRING			{
			query_acl_add($2, ACL_ALLOW, $<lineno>2);
		}
		| ALLOW ANY			{
			query_acl_add(NULL, ACL_ALLOW, $<lineno>2);
		}
		| DENY STRING			{
			query_acl_add($2, ACL_DENY, $<lineno>2);
		}
		| DENY ANY			{
			query_acl_add(NULL, ACL_DENY, $<lineno>2);
		}
		| DNS64_CLIENTS			{
			list_begin(&ps.conf->dns64_clients, 0,
			    "dns64-clients");
		} addrblock
		| DNS64_IPV6_ONLY yesno		{
			set_flag(ONCE_DNS64_IPV6_ONLY, "dns64-ipv6-only",
			    $<lineno>1, $2, &ps.conf->dns64_ipv6_only);
		}
		| NEVER_SYNTH			{
			ps.domains = &ps.conf->never_synth;
		} domainblock
		| ALWAYS_SYNTH			{
			ps.domains = &ps.conf->always_synth;
		} domainblock
		| SYNTH_ON_ERROR yesno		{
			set_flag(ONCE_SYNTH_ON_ERROR, "synthesize-on-error",
			    $<lineno>1, $2, &ps.conf->synth_on_error);
		}
		| BREAK_DNSSEC yesno		{
			set_flag(ONCE_BREAK_DNSSEC, "break-dnssec",
			    $<lineno>1, $2, &ps.conf->break_dnssec);
		}
		| RECURSIVE_ONLY yesno		{
			set_flag(ONCE_RECURSIVE_ONLY, "recursive-only",
			    $<lineno>1, $2, &ps.conf->recursive_only);
		}
		| IPV4ONLY_ARPA yesno		{
			set_flag(ONCE_IPV4ONLY_ARPA, "ipv4only-arpa",
			    $<lineno>1, $2, &ps.conf->ipv4only_arpa);
		}
		| REVERSE_TTL NUMBER		{
			/* RFC 2181 8: TTLs are 31-bit. */
			if (once(ONCE_REVERSE_TTL, "reverse-ttl",
			    $<lineno>1) == 0 && number_ok($2, $<string>2,
			    $<lineno>2, 0, INT32_MAX, "reverse-ttl"))
				ps.conf->reverse_ttl = $2;
		}
		| UPSTREAM_TIMEOUT NUMBER	{
			if (once(ONCE_UPSTREAM_TIMEOUT, "upstream-timeout",
			    $<lineno>1) == 0 && number_ok($2, $<string>2,
			    $<lineno>2, 50, 60000, "upstream-timeout"))
				ps.conf->upstream_timeout = $2;
		}
		| TCP_IDLE_TIMEOUT NUMBER	{
			/* Seconds in the file, milliseconds inside. */
			if (once(ONCE_TCP_IDLE_TIMEOUT, "tcp-idle-timeout",
			    $<lineno>1) == 0 && number_ok($2, $<string>2,
			    $<lineno>2, 1, 3600, "tcp-idle-timeout"))
				ps.conf->tcp_idle_timeout = $2 * 1000;
		}
		| TCP_CLIENTS NUMBER		{
			if (once(ONCE_TCP_CLIENTS, "tcp-clients",
			    $<lineno>1) == 0 && number_ok($2, $<string>2,
			    $<lineno>2, 1, 65535, "tcp-clients"))
				ps.conf->tcp_max_clients = $2;
		}
		| TCP_PIPELINE NUMBER		{
			if (once(ONCE_TCP_PIPELINE, "tcp-pipeline",
			    $<lineno>1) == 0 && number_ok($2, $<string>2,
			    $<lineno>2, 1, 1024, "tcp-pipeline"))
				ps.conf->tcp_max_pipeline = $2;
		}
		| EDNS_BUFSIZE NUMBER		{
			/* RFC 6891 6.2.5: below 512 means 512. */
			if (once(ONCE_EDNS_BUFSIZE, "edns-buffer-size",
			    $<lineno>1) == 0 && number_ok($2, $<string>2,
			    $<lineno>2, 512, 4096, "edns-buffer-size"))
				ps.conf->edns_buffer_size = $2;
		}
		| USER STRING			{
			if (once(ONCE_USER, "user", $<lineno>1) == 0)
				set_user($2, $<lineno>2);
		}
		| USER NUMBER			{
			/* A numeric user name, as written. */
			if (once(ONCE_USER, "user", $<lineno>1) == 0)
				set_user($<string>2, $<lineno>2);
		}
		| WORKERS NUMBER		{
			if (once(ONCE_WORKERS, "workers", $<lineno>1) == 0 &&
			    number_ok($2, $<string>2, $<lineno>2, 1,
			    CONF_WORKERS_MAX, "workers"))
				ps.conf->workers = $2;
		}
		| WORKERS AUTO			{
			if (once(ONCE_WORKERS, "workers", $<lineno>1) == 0)
				ps.conf->workers = 0;
		}
		| CACHE_SIZE NUMBER		{
			/* MiB in the file, bytes inside; 0 turns it off. */
			if (once(ONCE_CACHE_SIZE, "cache-size",
			    $<lineno>1) == 0 && number_ok($2, $<string>2,
			    $<lineno>2, 0, 65536, "cache-size"))
				ps.conf->cache_size = (size_t)$2 << 20;
		}
		| CACHE_MAX_TTL NUMBER		{
			if (once(ONCE_CACHE_MAX_TTL, "cache-max-ttl",
			    $<lineno>1) == 0 && number_ok($2, $<string>2,
			    $<lineno>2, 0, INT32_MAX, "cache-max-ttl"))
				ps.conf->cache_max_ttl = $2;
		}
		| CACHE_MAX_NEG_TTL NUMBER	{
			if (once(ONCE_CACHE_MAX_NEG_TTL,
			    "cache-max-negative-ttl", $<lineno>1) == 0 &&
			    number_ok($2, $<string>2, $<lineno>2, 0, INT32_MAX,
			    "cache-max-negative-ttl"))
				ps.conf->cache_max_neg_ttl = $2;
		}
		| SERVE_STALE yesno		{
			set_flag(ONCE_SERVE_STALE, "serve-stale",
			    $<lineno>1, $2, &ps.conf->serve_stale);
		}
		| FWD_SELECTION fwdsel		{
			if (once(ONCE_FWD_SELECTION, "forwarder-selection",
			    $<lineno>1) == 0 && $2 >= 0)
				ps.conf->fwd_selection = $2;
		}
		| DNS64_PARALLEL yesno		{
			if (once(ONCE_DNS64_PARALLEL, "dns64-parallel",
			    $<lineno>1) == 0 && $2 >= 0)
				ps.conf->dns64_parallel = $2 ?
				    DNS64_PARALLEL_YES : DNS64_PARALLEL_NO;
		}
		| DNS64_PARALLEL AUTO		{
			if (once(ONCE_DNS64_PARALLEL, "dns64-parallel",
			    $<lineno>1) == 0)
				ps.conf->dns64_parallel = DNS64_PARALLEL_AUTO;
		}
		| CONTROL_SOCKET STRING		{
			if (once(ONCE_CONTROL_SOCKET, "control-socket",
			    $<lineno>1) == 0)
				set_control($2, $<lineno>2);
		}
		| CONTROL_SOCKET NONE		{
			if (once(ONCE_CONTROL_SOCKET, "control-socket",
			    $<lineno>1) == 0)
				set_control(NULL, $<lineno>2);
		}
		| METRICS_LISTEN STRING port	{
			addr_add(&ps.conf->metrics_listen, "metrics address",
			    $2, $3 == DNS_PORT ? CONF_METRICS_PORT : $3,
			    $<lineno>2);
		}
		| FREEBIND yesno		{
			set_flag(ONCE_FREEBIND, "freebind", $<lineno>1, $2,
			    &ps.conf->freebind);
		}
		| TCP_PER_ADDRESS NUMBER	{
			if (once(ONCE_TCP_PER_ADDRESS,
			    "tcp-clients-per-address", $<lineno>1) == 0 &&
			    number_ok($2, $<string>2, $<lineno>2, 1, 65535,
			    "tcp-clients-per-address"))
				ps.conf->tcp_per_address = $2;
		}
		| STRING error			{
			/*
			 * A word that is neither a keyword nor a macro
			 * definition: say which word instead of just
			 * "syntax error", unless yacc stayed quiet because
			 * this follows another error.
			 */
			if (ps.synerr != NULL) {
				ps.synerr = NULL;
				parse_error($<lineno>1,
				    "unknown keyword \"%s\"", $1);
			}
		}
		;

varset		: STRING '=' string		{
			const char	*p;

			for (p = $1; *p != '\0'; p++)
				if (!isalnum((unsigned char)*p) && *p != '_')
					break;
			if (*p != '\0' || p == $1)
				parse_error($<lineno>1, "invalid macro name "
				    "\"%s\"", $1);
			else if (symset($1, $3, 1) == -1)
				parse_error($<lineno>1, "out of memory");
		}
		| STRING '=' error		{ synerr_flush(); }
		;

string		: STRING
		| NUMBER			{ $$ = $<string>1; }
		| string STRING			{
			if (($$ = pool_concat($1, $2)) == NULL) {
				parse_error($<lineno>2, "out of memory");
				$$ = $1;
			}
		}
		| string NUMBER			{
			if (($$ = pool_concat($1, $<string>2)) == NULL) {
				parse_error($<lineno>2, "out of memory");
				$$ = $1;
			}
		}
		;

port		: /* empty */			{ $$ = DNS_PORT; }
		| PORT NUMBER			{
			$$ = $2;
			if (!number_ok($2, $<string>2, $<lineno>2, 1, 65535,
			    "port"))
				$$ = -1;
		}
		;

fwdsel		: FASTEST			{ $$ = FWD_SELECT_FASTEST; }
		| ORDERED			{ $$ = FWD_SELECT_ORDERED; }
		| ROUND_ROBIN			{ $$ = FWD_SELECT_ROUNDROBIN; }
		| STRING			{
			parse_error($<lineno>1, "forwarder-selection \"%s\": "
			    "expected fastest, ordered or round-robin", $1);
			$$ = -1;
		}
		;

yesno		: YES				{ $$ = 1; }
		| NO				{ $$ = 0; }
		| STRING			{
			parse_error($<lineno>1, "\"%s\": expected yes or no",
			    $1);
			$$ = -1;
		}
		| NUMBER			{
			parse_error($<lineno>1, "\"%s\": expected yes or no",
			    $<string>1);
			$$ = -1;
		}
		;

optnl		: /* empty */
		| optnl '\n'
		;

optcomma	: /* empty */
		| ','
		;

prefixblock	: /* empty */
		| '{' optnl prefixopts '}'
		;

prefixopts	: /* empty */
		| prefixopts prefixopt optcomma optnl
		;

prefixopt	: CLIENTS			{
			prefix_option(PREFIXOPT_CLIENTS, "clients",
			    $<lineno>1, &ps.prefix->clients, 0);
		} addrblock
		| DESTINATIONS			{
			prefix_option(PREFIXOPT_DESTINATIONS, "destinations",
			    $<lineno>1, &ps.prefix->destinations, AF_INET);
		} addrblock
		;

addrblock	: '{' optnl addritems '}'
		;

addritems	: /* empty */
		| addritems addritem optcomma optnl
		;

addritem	: STRING			{
			list_item($1, ACL_ALLOW, $<lineno>1);
		}
		| '!' STRING			{
			list_item($2, ACL_DENY, $<lineno>2);
		}
		| ANY				{
			list_item(NULL, ACL_ALLOW, $<lineno>1);
		}
		| '!' ANY			{
			list_item(NULL, ACL_DENY, $<lineno>2);
		}
		;

domainblock	: '{' optnl domainitems '}'
		;

domainitems	: /* empty */
		| domainitems STRING optcomma optnl {
			domain_item($2, $<lineno>2);
		}
		;

%%

struct keyword {
	const char	*name;
	int		 token;
};

/* Sorted for bsearch(3). */
static const struct keyword keywords[] = {
	{ "all",			ALL },
	{ "allow",		ALLOW },
	{ "always-synthesize",	ALWAYS_SYNTH },
	{ "any",			ANY },
	{ "auto",			AUTO },
	{ "break-dnssec",		BREAK_DNSSEC },
	{ "cache-max-negative-ttl",	CACHE_MAX_NEG_TTL },
	{ "cache-max-ttl",	CACHE_MAX_TTL },
	{ "cache-size",		CACHE_SIZE },
	{ "clients",		CLIENTS },
	{ "control-socket",	CONTROL_SOCKET },
	{ "deny",			DENY },
	{ "destinations",		DESTINATIONS },
	{ "dns64-clients",	DNS64_CLIENTS },
	{ "dns64-ipv6-only",	DNS64_IPV6_ONLY },
	{ "dns64-parallel",	DNS64_PARALLEL },
	{ "edns-buffer-size",	EDNS_BUFSIZE },
	{ "exclude-a",		EXCLUDE_A },
	{ "exclude-aaaa",		EXCLUDE_AAAA },
	{ "fastest",		FASTEST },
	{ "forwarder",		FORWARDER },
	{ "forwarder-selection",	FWD_SELECTION },
	{ "freebind",		FREEBIND },
	{ "include",		INCLUDE },
	{ "ipv4only-arpa",	IPV4ONLY_ARPA },
	{ "listen",		LISTEN },
	{ "metrics-listen",	METRICS_LISTEN },
	{ "never-synthesize",	NEVER_SYNTH },
	{ "no",			NO },
	{ "none",			NONE },
	{ "on",			ON },
	{ "ordered",		ORDERED },
	{ "port",			PORT },
	{ "prefix",		PREFIX },
	{ "prefix-selection",	PREFIX_SELECTION },
	{ "recursive-only",	RECURSIVE_ONLY },
	{ "reverse-ttl",		REVERSE_TTL },
	{ "round-robin",		ROUND_ROBIN },
	{ "serve-stale",		SERVE_STALE },
	{ "synthesize-on-error",	SYNTH_ON_ERROR },
	{ "tcp-clients",		TCP_CLIENTS },
	{ "tcp-clients-per-address",	TCP_PER_ADDRESS },
	{ "tcp-idle-timeout",	TCP_IDLE_TIMEOUT },
	{ "tcp-pipeline",		TCP_PIPELINE },
	{ "upstream-timeout",	UPSTREAM_TIMEOUT },
	{ "user",			USER },
	{ "workers",		WORKERS },
	{ "yes",			YES },
};

static void
parse_error(int lineno, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s:%d: %s", ps.file->name, lineno, msg);
	ps.errors++;
}

/*
 * Called by yacc.  The message is held back: the "STRING error" rule may
 * replace it with a better one.  Errors the lexer has already reported
 * (the ERROR token, an open block at the end of the file) are not repeated.
 */
static void
yyerror(const char *msg)
{
	if (yychar == ERROR || (yychar == 0 && ps.eof_error))
		return;
	synerr_flush();
	ps.synerr = msg;
	ps.synerr_file = ps.file->name;
	ps.synerr_line = yylval.lineno;
}

static void
synerr_flush(void)
{
	if (ps.synerr == NULL)
		return;
	log_warnx("%s:%d: %s", ps.synerr_file, ps.synerr_line, ps.synerr);
	ps.errors++;
	ps.synerr = NULL;
}

static char *
pool_strdup(const char *s)
{
	struct parse_str	*ent;
	size_t			 len = strlen(s) + 1;

	if ((ent = malloc(sizeof(*ent) + len)) == NULL)
		return (NULL);
	memcpy(ent->s, s, len);
	SLIST_INSERT_HEAD(&ps.strs, ent, entry);
	return (ent->s);
}

/* "a b", for macro values of several words. */
static char *
pool_concat(const char *a, const char *b)
{
	struct parse_str	*ent;
	size_t			 alen = strlen(a), blen = strlen(b);

	if ((ent = malloc(sizeof(*ent) + alen + blen + 2)) == NULL)
		return (NULL);
	memcpy(ent->s, a, alen);
	ent->s[alen] = ' ';
	memcpy(ent->s + alen + 1, b, blen + 1);
	SLIST_INSERT_HEAD(&ps.strs, ent, entry);
	return (ent->s);
}

static void
pool_free(void)
{
	struct parse_str	*ent;

	while ((ent = SLIST_FIRST(&ps.strs)) != NULL) {
		SLIST_REMOVE_HEAD(&ps.strs, entry);
		free(ent);
	}
}

static int
symset(const char *name, const char *value, int replace)
{
	struct parse_sym	*sym;
	char			*v;

	TAILQ_FOREACH(sym, &ps.syms, entry)
		if (strcmp(sym->name, name) == 0)
			break;
	if (sym != NULL) {
		if (!replace)
			return (0);
		if ((v = strdup(value)) == NULL)
			return (-1);
		free(sym->value);
		sym->value = v;
		return (0);
	}
	if ((sym = calloc(1, sizeof(*sym))) == NULL)
		return (-1);
	if ((sym->name = strdup(name)) == NULL ||
	    (sym->value = strdup(value)) == NULL) {
		free(sym->name);
		free(sym);
		return (-1);
	}
	TAILQ_INSERT_TAIL(&ps.syms, sym, entry);
	return (0);
}

static const char *
symget(const char *name)
{
	struct parse_sym	*sym;

	TAILQ_FOREACH(sym, &ps.syms, entry)
		if (strcmp(sym->name, name) == 0)
			return (sym->value);
	return (NULL);
}

static void
syms_free(void)
{
	struct parse_sym	*sym;

	while ((sym = TAILQ_FIRST(&ps.syms)) != NULL) {
		TAILQ_REMOVE(&ps.syms, sym, entry);
		free(sym->name);
		free(sym->value);
		free(sym);
	}
}

static int
keyword_cmp(const void *k, const void *e)
{
	return (strcmp(k, ((const struct keyword *)e)->name));
}

static int
lookup(const char *s)
{
	const struct keyword	*kw;

	kw = bsearch(s, keywords, sizeof(keywords) / sizeof(keywords[0]),
	    sizeof(keywords[0]), keyword_cmp);
	return (kw == NULL ? STRING : kw->token);
}

/* The next character of the current file, pushed-back ones first. */
static int
igetc(void)
{
	struct parse_file	*f = ps.file;
	int			 c;

	for (;;) {
		if (f->ungetpos > 0)
			c = f->unget[--f->ungetpos];
		else
			c = getc(f->stream);
		if (c == MACRO_BEGIN)
			ps.expanding = 1;
		else if (c == MACRO_END)
			ps.expanding = 0;
		else
			return (c);
	}
}

static void
lungetc(int c)
{
	struct parse_file	*f = ps.file;
	int			*p;
	size_t			 size;

	if (c == EOF)
		return;
	if (f->ungetpos >= f->ungetsize) {
		size = f->ungetsize == 0 ? 16 : f->ungetsize * 2;
		if ((p = reallocarray(f->unget, size, sizeof(*p))) == NULL) {
			/* The input is now garbled; make sure it fails. */
			parse_error(f->lineno, "out of memory");
			return;
		}
		f->unget = p;
		f->ungetsize = size;
	}
	f->unget[f->ungetpos++] = c;
}

/*
 * The next character outside quotes: joins lines ending in a backslash,
 * ends every file with a newline so that an unterminated last line still
 * ends its statement, and returns from an included file to its parent.
 */
static int
lgetc(void)
{
	int	 c, next;

	for (;;) {
		c = igetc();
		if (c == '\\') {
			next = igetc();
			if (next == '\n') {
				ps.file->lineno++;
				continue;
			}
			lungetc(next);
			return (c);
		}
		if (c != EOF)
			return (c);
		if (ferror(ps.file->stream) && !ps.file->eof_reached)
			parse_error(ps.file->lineno, "read error: %s",
			    strerror(errno));
		if (!ps.file->eof_reached) {
			ps.file->eof_reached = 1;
			return ('\n');
		}
		if (ps.file->braces > 0) {
			parse_error(ps.file->brace_line, "unterminated "
			    "block: \"{\" without \"}\"");
			ps.file->braces = 0;
			ps.eof_error = 1;
		}
		if (popfile() == -1)
			return (EOF);
	}
}

/*
 * Skip the rest of a bad line, but leave its newline to the grammar.  The
 * braces skipped still count, or a block closed on this line would later
 * be reported as unterminated.
 */
static int
findeol(void)
{
	int	 c, quoted = 0, comment = 0;

	while ((c = lgetc()) != '\n' && c != EOF) {
		if (comment)
			continue;
		if (c == '"')
			quoted = !quoted;
		else if (quoted)
			continue;
		else if (c == '#')
			comment = 1;
		else if (c == '{' && ps.file->braces++ == 0)
			ps.file->brace_line = ps.file->lineno;
		else if (c == '}' && ps.file->braces > 0)
			ps.file->braces--;
	}
	lungetc(c);
	return (ERROR);
}

static int
is_word_char(int c)
{
	return (c != EOF && c < 128 && isgraph(c) &&
	    strchr("{}(),!=#\"'$", c) == NULL);
}

static int
yylex(void)
{
	char		 buf[PARSE_MAXTOKEN];
	const char	*val;
	char		*p;
	size_t		 len;
	int		 c, next, token, startline;

 again:
	p = buf;
	while ((c = lgetc()) == ' ' || c == '\t' || c == '\r')
		;
	memset(&yylval, 0, sizeof(yylval));
	yylval.lineno = ps.file->lineno;

	if (c == '#')
		while ((c = lgetc()) != '\n' && c != EOF)
			;

	if (c == '$') {
		if (ps.expanding) {
			parse_error(yylval.lineno, "a macro value cannot "
			    "use another macro");
			return (findeol());
		}
		while ((c = lgetc()) != EOF &&
		    (isalnum((unsigned char)c) || c == '_')) {
			if (p + 1 >= buf + sizeof(buf)) {
				parse_error(yylval.lineno, "macro name too "
				    "long");
				return (findeol());
			}
			*p++ = c;
		}
		*p = '\0';
		lungetc(c);
		if ((val = symget(buf)) == NULL) {
			parse_error(yylval.lineno, "macro \"%s\" is not "
			    "defined", buf);
			return (findeol());
		}
		/* The text goes back into the input, last byte first. */
		lungetc(MACRO_END);
		for (len = strlen(val); len > 0; len--)
			lungetc((unsigned char)val[len - 1]);
		lungetc(MACRO_BEGIN);
		goto again;
	}

	switch (c) {
	case EOF:
		return (0);
	case '\n':
		ps.file->lineno++;
		return (c);
	case '{':
		if (ps.file->braces++ == 0)
			ps.file->brace_line = yylval.lineno;
		return (c);
	case '}':
		if (ps.file->braces > 0)
			ps.file->braces--;
		return (c);
	case '"':
		startline = yylval.lineno;
		for (;;) {
			c = igetc();
			if (c == EOF || c == '\n') {
				parse_error(startline, "unterminated quoted "
				    "string");
				lungetc(c);
				return (findeol());
			}
			if (c == '\\') {
				/*
				 * \" is a quote and \<newline> joins lines;
				 * other escapes stay as they are, for the
				 * ones of domain names (RFC 1035 5.1).
				 */
				next = igetc();
				if (next == '\n') {
					ps.file->lineno++;
					continue;
				}
				if (next != '"') {
					if (p + 1 >= buf + sizeof(buf) - 1)
						goto toolong;
					*p++ = c;
					if (next == EOF) {
						lungetc(next);
						continue;
					}
				}
				c = next;
			} else if (c == '"')
				break;
			else if (c == '\0') {
				parse_error(yylval.lineno, "NUL byte in "
				    "quoted string");
				return (findeol());
			}
			if (p + 1 >= buf + sizeof(buf))
				goto toolong;
			*p++ = c;
		}
		*p = '\0';
		if ((yylval.string = pool_strdup(buf)) == NULL) {
			parse_error(yylval.lineno, "out of memory");
			return (findeol());
		}
		return (STRING);
	}

	if (!is_word_char(c))
		return (c);

	do {
		if (p + 1 >= buf + sizeof(buf))
			goto toolong;
		*p++ = c;
	} while (is_word_char(c = lgetc()));
	lungetc(c);
	*p = '\0';

	token = lookup(buf);
	if (token == STRING) {
		if ((yylval.string = pool_strdup(buf)) == NULL) {
			parse_error(yylval.lineno, "out of memory");
			return (findeol());
		}
		/* All digits: a number, whose text is kept for messages. */
		p = buf + (buf[0] == '-');
		if (*p != '\0' && strspn(p, "0123456789") == strlen(p)) {
			/* Clamped on overflow: still out of any range. */
			yylval.number = strtoll(buf, NULL, 10);
			token = NUMBER;
		}
	}
	return (token);

 toolong:
	parse_error(yylval.lineno, "word too long");
	return (findeol());
}

static struct parse_file *
pushfile(const char *name)
{
	struct parse_file	*f;
	struct stat		 st;
	int			 saved_errno;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (NULL);
	if ((f->name = strdup(name)) == NULL) {
		free(f);
		return (NULL);
	}
	if ((f->stream = fopen(name, "r")) == NULL) {
		free(f->name);
		free(f);
		return (NULL);
	}
	/* fopen(3) opens a directory; reading it would look like EOF. */
	saved_errno = 0;
	if (fstat(fileno(f->stream), &st) == -1)
		saved_errno = errno;
	else if (S_ISDIR(st.st_mode))
		saved_errno = EISDIR;
	if (saved_errno != 0) {
		closefile(f);
		errno = saved_errno;
		return (NULL);
	}
	f->lineno = 1;
	TAILQ_INSERT_TAIL(&ps.files, f, entry);
	ps.file = f;
	return (f);
}

/* Back to the including file; -1 at the end of the top one. */
static int
popfile(void)
{
	struct parse_file	*prev;

	if ((prev = TAILQ_PREV(ps.file, parse_files, entry)) == NULL)
		return (-1);
	TAILQ_REMOVE(&ps.files, ps.file, entry);
	/* Messages about the file may still follow; keep its name. */
	fclose(ps.file->stream);
	ps.file->stream = NULL;
	TAILQ_INSERT_TAIL(&ps.closed, ps.file, entry);
	ps.file = prev;
	return (0);
}

static void
closefile(struct parse_file *f)
{
	if (f->stream != NULL)
		fclose(f->stream);
	free(f->unget);
	free(f->name);
	free(f);
}

/* include: a relative name is taken relative to the including file. */
static void
include_file(const char *name, int lineno)
{
	struct parse_file	*f;
	char			*path, *slash;
	int			 depth = 0, n;

	TAILQ_FOREACH(f, &ps.files, entry)
		depth++;
	if (depth >= PARSE_MAXDEPTH) {
		parse_error(lineno, "cannot include \"%s\": nested more "
		    "than %d deep", name, PARSE_MAXDEPTH);
		return;
	}
	if (name[0] == '/' || (slash = strrchr(ps.file->name, '/')) == NULL)
		n = asprintf(&path, "%s", name);
	else
		n = asprintf(&path, "%.*s/%s",
		    (int)(slash - ps.file->name), ps.file->name, name);
	if (n == -1) {
		parse_error(lineno, "out of memory");
		return;
	}
	if (pushfile(path) == NULL)
		parse_error(lineno, "cannot include \"%s\": %s", path,
		    strerror(errno));
	free(path);
}

static int
once(enum parse_once which, const char *kw, int lineno)
{
	if (ps.once & (1U << which)) {
		parse_error(lineno, "duplicate \"%s\"", kw);
		return (-1);
	}
	ps.once |= 1U << which;
	return (0);
}

/* 1 if lo <= n <= hi; else 0 after complaining with the text as written. */
static int
number_ok(int64_t n, const char *text, int lineno, int64_t lo, int64_t hi,
    const char *kw)
{
	if (n >= lo && n <= hi)
		return (1);
	parse_error(lineno, "%s %s out of range (%" PRId64 "..%" PRId64 ")",
	    kw, text, lo, hi);
	return (0);
}

static void
set_flag(enum parse_once which, const char *kw, int lineno, int64_t v,
    int *flag)
{
	if (once(which, kw, lineno) == 0 && v >= 0)
		*flag = v;
}

static void
addr_add(struct conf_addrlist *list, const char *what, const char *s,
    int64_t port, int lineno)
{
	struct conf_addr	 ca;
	const struct conf_addr	*a;
	const char		*errstr;
	char			 buf[SA_STRLEN];

	/* conf_parse_addr() takes "@port" too, but the file says "port". */
	if (strchr(s, '@') != NULL ||
	    conf_parse_addr(s, DNS_PORT, &ca, &errstr) == -1) {
		parse_error(lineno, "invalid address \"%s\"", s);
		return;
	}
	if (port < 0)
		return;		/* already reported */
	if (ca.ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ca.ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ca.ss)->sin6_port = htons(port);
	TAILQ_FOREACH(a, list, entry)
		if (sa_equal((const struct sockaddr *)&a->ss,
		    (const struct sockaddr *)&ca.ss)) {
			parse_error(lineno, "duplicate %s %s", what,
			    sa_str((struct sockaddr *)&ca.ss, buf,
			    sizeof(buf)));
			return;
		}
	if (conf_addr_add(list, &ca) == -1)
		parse_error(lineno, "out of memory");
}

/*
 * Start a prefix statement.  The options block is parsed even when the
 * prefix is bad, into a scratch entry, so that its errors are reported too.
 */
static void
prefix_begin(const char *s, int lineno)
{
	struct dns64_prefix	 pfx;
	struct conf_prefix	*p;
	const char		*errstr;
	int			 n;

	acl_clear(&ps.scratch.clients);
	acl_clear(&ps.scratch.destinations);
	ps.prefix = &ps.scratch;
	ps.prefix_opts = 0;

	if (conf_parse_prefix(s, &pfx, &errstr) == -1) {
		parse_error(lineno, "invalid prefix \"%s\": %s", s, errstr);
		return;
	}
	n = 0;
	TAILQ_FOREACH(p, &ps.conf->prefixes, entry) {
		if (p->pfx.plen == pfx.plen &&
		    memcmp(p->pfx.addr, pfx.addr, sizeof(pfx.addr)) == 0) {
			parse_error(lineno, "duplicate prefix %s", s);
			return;
		}
		n++;
	}
	if (n == CONF_PREFIX_MAX) {
		parse_error(lineno, "prefix %s: more than %d prefixes", s,
		    CONF_PREFIX_MAX);
		return;
	}
	if ((p = conf_prefix_add(&ps.conf->prefixes, &pfx)) == NULL) {
		parse_error(lineno, "out of memory");
		return;
	}
	ps.prefix = p;
}

static void
prefix_option(unsigned int opt, const char *kw, int lineno, struct acl *acl,
    sa_family_t af)
{
	if (ps.prefix_opts & opt)
		parse_error(lineno, "duplicate \"%s\" in one prefix block",
		    kw);
	ps.prefix_opts |= opt;
	list_begin(acl, af, kw);
}

static void
list_begin(struct acl *acl, sa_family_t af, const char *kw)
{
	ps.acl = acl;
	ps.acl_af = af;
	ps.acl_kw = kw;
}

/* One item of an address list; NULL is "any". */
static void
list_item(const char *s, enum acl_action action, int lineno)
{
	struct acl_net	 na;
	const char	*errstr;
	int		 fail = 0;

	if (s == NULL) {
		memset(&na, 0, sizeof(na));
		if (ps.acl_af != AF_INET6) {
			na.af = AF_INET;
			fail |= acl_add(ps.acl, &na, action);
		}
		if (ps.acl_af != AF_INET) {
			na.af = AF_INET6;
			fail |= acl_add(ps.acl, &na, action);
		}
		if (fail)
			parse_error(lineno, "out of memory");
		return;
	}
	if (acl_net_parse(s, &na, &errstr) == -1) {
		parse_error(lineno, "%s: invalid address \"%s\": %s",
		    ps.acl_kw, s, errstr);
		return;
	}
	if (ps.acl_af != 0 && na.af != ps.acl_af) {
		parse_error(lineno, "%s: %s is IPv%d, but this list takes "
		    "IPv%d only", ps.acl_kw, s, na.af == AF_INET ? 4 : 6,
		    ps.acl_af == AF_INET ? 4 : 6);
		return;
	}
	if (acl_add(ps.acl, &na, action) == -1)
		parse_error(lineno, "out of memory");
}

static void
query_acl_add(const char *s, enum acl_action action, int lineno)
{
	list_begin(&ps.conf->query_acl, 0, action == ACL_ALLOW ? "allow" :
	    "deny");
	list_item(s, action, lineno);
}

static void
domain_item(const char *s, int lineno)
{
	struct conf_domain	*d;
	ldns_rdf		*name;

	if ((name = ldns_dname_new_frm_str(s)) == NULL) {
		parse_error(lineno, "invalid domain name \"%s\"", s);
		return;
	}
	/* Matching is on lower case names (RFC 4343). */
	ldns_dname2canonical(name);
	TAILQ_FOREACH(d, ps.domains, entry)
		if (ldns_dname_compare(d->name, name) == 0) {
			ldns_rdf_deep_free(name);
			return;
		}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		ldns_rdf_deep_free(name);
		parse_error(lineno, "out of memory");
		return;
	}
	d->name = name;
	TAILQ_INSERT_TAIL(ps.domains, d, entry);
}

static void
set_user(const char *s, int lineno)
{
	if (*s == '\0') {
		parse_error(lineno, "empty user name");
		return;
	}
	if ((ps.conf->user = strdup(s)) == NULL)
		parse_error(lineno, "out of memory");
}

/* An absolute path that fits a sockaddr_un, or NULL for none. */
static void
set_control(const char *s, int lineno)
{
	char	*path = NULL;

	if (s != NULL) {
		if (*s != '/') {
			parse_error(lineno, "control-socket \"%s\": not an "
			    "absolute path", s);
			return;
		}
		if (strlen(s) >= CONF_PATH_MAX) {
			parse_error(lineno, "control-socket \"%s\": path too "
			    "long", s);
			return;
		}
		if ((path = strdup(s)) == NULL) {
			parse_error(lineno, "out of memory");
			return;
		}
	}
	free(ps.conf->control_socket);
	ps.conf->control_socket = path;
}

struct conf *
parse_config(const char *filename)
{
	struct parse_file	*f;
	struct conf		*conf;

	memset(&ps, 0, sizeof(ps));
	TAILQ_INIT(&ps.files);
	TAILQ_INIT(&ps.closed);
	TAILQ_INIT(&ps.syms);
	SLIST_INIT(&ps.strs);
	TAILQ_INIT(&ps.scratch.clients);
	TAILQ_INIT(&ps.scratch.destinations);
	ps.prefix = &ps.scratch;

	if ((ps.conf = conf_new()) == NULL) {
		log_warn("%s", filename);
		return (NULL);
	}
	if (pushfile(filename) == NULL) {
		log_warn("%s", filename);
		conf_free(ps.conf);
		ps.conf = NULL;
		return (NULL);
	}

	if (yyparse() != 0 && ps.errors == 0 && ps.synerr == NULL) {
		/* yacc gave up without saying why; do not accept that. */
		log_warnx("%s: cannot parse", filename);
		ps.errors++;
	}
	synerr_flush();

	conf = ps.conf;
	if (ps.errors > 0) {
		conf_free(conf);
		conf = NULL;
	}

	while ((f = TAILQ_FIRST(&ps.files)) != NULL) {
		TAILQ_REMOVE(&ps.files, f, entry);
		closefile(f);
	}
	while ((f = TAILQ_FIRST(&ps.closed)) != NULL) {
		TAILQ_REMOVE(&ps.closed, f, entry);
		closefile(f);
	}
	acl_clear(&ps.scratch.clients);
	acl_clear(&ps.scratch.destinations);
	syms_free();
	pool_free();
	memset(&ps, 0, sizeof(ps));
	return (conf);
}
