/* ratelimit.h - the pacing of the HTTP client, against a clock the caller
 * passes in, so the arithmetic can be tested with a fake one: the
 * requests-per-minute and tokens-per-minute limits of the command line as
 * two token buckets; the server's own limits as it states them in
 * x-ratelimit-* headers, mirrored in two more; the concurrency, adapted to
 * 429s and rising latency within -j; and a record of what held requests
 * back, for the summary.  Nothing here prints. */
#ifndef MLDE_RATELIMIT_H
#define MLDE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>

/* A bucket holds one second's worth of its rate (at least 1) and starts
 * full; rate 0 is no limit. */
typedef struct mlde_bucket {
	double rate, cap, level, last;  /* per second; level at time last */
} mlde_bucket;

/* The two kinds of server limit, as indices. */
enum { MLDE_SERVER_REQUESTS, MLDE_SERVER_TOKENS, MLDE_SERVER_KINDS };

/* A mirror of the server's bucket of one kind, as its replies state it:
 * cap the x-ratelimit-limit-*, level from the -remaining less what the
 * server had not counted yet, kept low (see server_sync in ratelimit.c),
 * refilling at rate per second (measured from -reset: the time until the
 * bucket is full again) and taken from by every attempt sent. */
typedef struct mlde_server_bucket {
	bool known;             /* some reply stated it */
	bool rate_sure;         /* rate measured on a bucket at least a tenth empty */
	double cap, rate, level, last;
} mlde_server_bucket;

/* What held the next request back (mlde_ratelimit_next), in the summary's
 * words (mlde_ratelimit_describe). */
enum mlde_limit_cause {
	MLDE_LIMIT_RPM,             /* --rpm */
	MLDE_LIMIT_TPM,             /* --tpm */
	MLDE_LIMIT_SERVER_REQUESTS, /* the server's x-ratelimit-*-requests */
	MLDE_LIMIT_SERVER_TOKENS,   /* the server's x-ratelimit-*-tokens */
	MLDE_LIMIT_RETRY_AFTER,     /* a 429's Retry-After, which holds every request */
	MLDE_LIMIT_ADAPTIVE,        /* the concurrency, cut below -j on 429s or latency */
	MLDE_LIMIT_JOBS,            /* -j requests in flight */
	MLDE_LIMIT_CAUSES,
	MLDE_LIMIT_NONE = -1
};

typedef struct mlde_ratelimit_stats {
	unsigned long waits[MLDE_LIMIT_CAUSES];  /* times the next request was held */
	double waited[MLDE_LIMIT_CAUSES];        /* seconds it was held, in all */
	unsigned long replies_429;      /* 429 answers */
	unsigned long header_replies;   /* replies that stated server limits */
	unsigned long cuts_429, cuts_latency;  /* concurrency cuts, by cause */
	int jobs;                       /* -j; 0: no concurrency limit */
	int concurrency, lowest;        /* now, and the lowest it was cut to */
} mlde_ratelimit_stats;

/* Adaptive concurrency (AIMD): a 429 halves the concurrency, and a
 * smoothed latency more than MLDE_ADAPT_LATENCY times its baseline, and
 * MLDE_ADAPT_LATENCY_MIN seconds more (a fast server's jitter is no sign),
 * cuts it by a quarter, once per round (only the reply of a request sent after the
 * last cut cuts again); every reply without either adds 1/concurrency, a
 * request per round, up to -j again, but only one per MLDE_ADAPT_PROBE
 * rounds from one below the concurrency the last 429 came at (a server
 * that limits the concurrency answers 429 just above its limit: probing it
 * slowly keeps the 429s few).  The baseline is the lowest smoothed
 * latency, drifting up MLDE_ADAPT_DRIFT per reply so that a server that
 * became slower for good is accepted. */
#define MLDE_ADAPT_LATENCY 2.0
#define MLDE_ADAPT_LATENCY_MIN 0.05
#define MLDE_ADAPT_PROBE 8.0
#define MLDE_ADAPT_DRIFT 0.01
#define MLDE_ADAPT_SMOOTH 0.2      /* weight of a new latency in the average */

/* Attempts sent within this many seconds of the first of them are a
 * burst: they may reach the server in any order (on several connections),
 * so a reply to one of them may not count those sent before it in the
 * burst. */
#define MLDE_BURST 0.02
/* A reply stating more than the mirror of the server's bucket holds raises
 * it this part of the way (see server_sync in ratelimit.c). */
#define MLDE_SERVER_RAISE 0.1

typedef struct mlde_ratelimit {
	mlde_bucket rpm, tpm;
	mlde_server_bucket server[MLDE_SERVER_KINDS];
	unsigned long sent;     /* attempts sent, the last one's seq */
	double burst_at;        /* the first send of the latest burst (MLDE_BURST) */
	unsigned long burst_n;  /* sends in it */
	double burst_tokens;    /* their tokens */
	double tokens_sent;     /* their tokens */
	int jobs;               /* 0: no concurrency limit */
	double window;          /* the adaptive concurrency, 1 .. jobs */
	unsigned long cut_at;   /* sent at the last cut */
	int ceiling;            /* the concurrency at the last 429; 0: none */
	double latency, base;   /* smoothed latency of replies, its baseline; 0: none yet */
	int held;               /* the cause holding the next request now, or MLDE_LIMIT_NONE */
	double held_since;
	mlde_ratelimit_stats st;
} mlde_ratelimit;

/* One attempt, from its sending to its reply: where it stands among the
 * others, and what its reply's headers said (mlde_ratelimit_header). */
typedef struct mlde_ratelimit_mark {
	unsigned long seq;      /* 1 for the first attempt sent, and so on */
	double tokens_sent;     /* the tokens of all attempts up to this one */
	unsigned long burst_n;  /* sent before it in its burst, and their tokens */
	double burst_tokens;
	double sent_at;
	/* x-ratelimit-limit-*, -remaining-*, -reset-* (seconds) of the reply,
	 * by MLDE_SERVER_*; < 0: not given */
	double limit[MLDE_SERVER_KINDS], remaining[MLDE_SERVER_KINDS], reset[MLDE_SERVER_KINDS];
} mlde_ratelimit_mark;

/* Limits per minute (0: none), the clock at now (seconds); no server
 * limits known, no concurrency limit. */
void mlde_ratelimit_init(mlde_ratelimit *rl, double rpm, double tpm, double now);
/* At most jobs in flight (>= 1), the adaptive concurrency starting there. */
void mlde_ratelimit_jobs(mlde_ratelimit *rl, int jobs);
/* May one request of tokens go at time now, as far as --rpm, --tpm and
 * the server's stated limits go?  0: yes; else the seconds until it may.
 * A request costing more than a token bucket holds goes when it is full.
 * Nothing is taken, nothing recorded. */
double mlde_ratelimit_wait(mlde_ratelimit *rl, double tokens, double now);
/* Take one request and tokens from every bucket (after a wait of 0). */
void mlde_ratelimit_take(mlde_ratelimit *rl, double tokens, double now);
/* Is --rpm or --tpm set? */
bool mlde_ratelimit_active(const mlde_ratelimit *rl);

/* The whole gate for the next request, with in_flight on the wire and
 * every new request held until pause_until (a 429's Retry-After): 0 when
 * it may go; else the seconds until it may (HUGE_VAL: until a reply comes,
 * the concurrency being full), *cause saying what binds (the longest
 * wait), and *rate_limited whether --rpm or --tpm would hold it.  The time
 * held is recorded, by cause, for the summary. */
double mlde_ratelimit_next(mlde_ratelimit *rl, double tokens, int in_flight, double pause_until,
			   double now, int *cause, bool *rate_limited);
/* It goes: taken from the buckets (mlde_ratelimit_take), and m filled for
 * its reply (the headers cleared). */
void mlde_ratelimit_sent(mlde_ratelimit *rl, mlde_ratelimit_mark *m, double tokens, double now);
/* The reply of m's attempt came, with HTTP status (0: none, the transfer
 * failed): the server's buckets set from its headers (unless a later
 * attempt's reply set them already), the concurrency adapted. */
void mlde_ratelimit_reply(mlde_ratelimit *rl, const mlde_ratelimit_mark *m, long status,
			  double now);
/* Requests that may be in flight now: the adaptive concurrency (INT_MAX
 * without a concurrency limit). */
int mlde_ratelimit_concurrency(const mlde_ratelimit *rl);
void mlde_ratelimit_stats_get(const mlde_ratelimit *rl, mlde_ratelimit_stats *st);

/* Read one header line of len bytes ("Name: value", a CR LF after it or
 * not, no NUL needed: as libcurl hands it over) into m when it is one of
 * OpenAI's six: x-ratelimit-limit-requests, x-ratelimit-remaining-requests,
 * x-ratelimit-reset-requests, and the same with -tokens.  True when it was
 * one and its value is good; a bad value leaves m as it was. */
bool mlde_ratelimit_header(mlde_ratelimit_mark *m, const char *data, size_t len);
/* A reset value: a Go duration as OpenAI writes them ("1s", "6m0s",
 * "20ms", "1h2m3.5s": numbers with units h, m, s, ms, us or µs, ns, each
 * at most once, larger first), or a bare number of seconds ("1.5"), which
 * some compatible servers send.  0 and *seconds set, or -1 (garbage,
 * a sign, a number too large). */
int mlde_ratelimit_parse_reset(const char *s, double *seconds);
/* A limit or remaining value: a count, digits only.  0 or -1. */
int mlde_ratelimit_parse_count(const char *s, double *n);
/* What held requests back, in words for the summary ("server
 * x-ratelimit-requests (4900 waits, 49.0 s), -j 32 (3 waits, 0.0 s)"), the
 * longest first, and the concurrency's cuts; "nothing" when no request
 * waited.  Cut to fit in out. */
void mlde_ratelimit_describe(const mlde_ratelimit_stats *st, char *out, size_t len);

#endif
