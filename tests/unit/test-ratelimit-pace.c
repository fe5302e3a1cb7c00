/* test-ratelimit-pace.c - the pacing by a server's stated limits and the
 * adaptive concurrency, against a fake clock: a simulated server (a token
 * bucket that states itself in every reply, attempts reaching it out of
 * order) is never overrun and is used to its rate; the adaptive
 * concurrency halves on 429s once per round, cuts on a rising latency but
 * not on a fast server's jitter, and grows back to -j; a simulated server
 * that refuses above a fixed concurrency sees its 429s fall; the gate
 * records what held requests back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen/ratelimit.h"
#include "tap.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)
#define MAXQ 256

static unsigned long lcg = 12345;
static double jitter(double most)
{
	lcg = lcg * 6364136223846793005UL + 1442695040888963407UL;
	return most * (double)(lcg >> 11) / 9007199254740992.0;
}

/* An attempt on its way: it reaches the server at arrive, its reply the
 * client at reply. */
typedef struct flight {
	mlde_ratelimit_mark m;
	double arrive, reply;
	long status;
	bool arrived;
} flight;

typedef struct server {
	double cap, rate, level, last;  /* a token bucket of requests */
	int conc_limit, serving;        /* > 0: 429 above this many in service */
	bool headers;
	unsigned long ok, refused;
} server;

static void server_arrive(server *s, flight *f, double delay)
{
	if (s->rate > 0.0) {
		s->level += (f->arrive - s->last) * s->rate;
		if (s->level > s->cap)
			s->level = s->cap;
		s->last = f->arrive;
	}
	f->arrived = true;
	if ((s->conc_limit && s->serving >= s->conc_limit) || (s->rate > 0.0 && s->level < 1.0)) {
		f->status = 429;
		f->reply = f->arrive + 0.001;
		s->refused++;
	} else {
		f->status = 200;
		f->reply = f->arrive + delay;
		s->serving++;
		if (s->rate > 0.0)
			s->level -= 1.0;
		s->ok++;
	}
	if (s->headers && s->rate > 0.0) {
		/* as OpenAI writes them: remaining a whole count, the reset in whole ms */
		f->m.limit[MLDE_SERVER_REQUESTS] = s->cap;
		f->m.remaining[MLDE_SERVER_REQUESTS] = floor(s->level < 0.0 ? 0.0 : s->level);
		f->m.reset[MLDE_SERVER_REQUESTS] = ceil((s->cap - s->level) / s->rate * 1000.0) / 1000.0;
	}
}

typedef struct result {
	double end;
	unsigned long done, refused, refused_first, refused_last;
} result;

/* n requests through the gate, -j jobs, each reaching the server after 1
 * to 3 ms (out of order) and answered after delay; a 429 is tried again
 * at once (after 10 ms).  The 429s of the first and last quarter. */
static result simulate(mlde_ratelimit *rl, server *s, int n, int jobs, double delay)
{
	flight q[MAXQ];
	int nq = 0, sent = 0, done = 0, retry = 0, answered = 0;
	double t = 0.0, retry_at = 0.0;
	result r = { 0 };

	for (long steps = 0; done < n && steps < 10000000; steps++) {
		double next = 1e9, w;
		int cause;
		bool rl_limited;

		/* send what the gate lets go */
		while ((sent < n || retry) && (retry == 0 || retry_at <= t) &&
		       (w = mlde_ratelimit_next(rl, 1.0, nq, 0.0, t, &cause, &rl_limited)) == 0.0 &&
		       nq < MAXQ && nq < jobs) {
			flight *f = &q[nq++];

			memset(f, 0, sizeof *f);
			mlde_ratelimit_sent(rl, &f->m, 1.0, t);
			f->arrive = t + 0.001 + jitter(0.002);
			if (retry)
				retry--;
			else
				sent++;
		}
		w = sent < n || (retry && retry_at <= t)
			    ? mlde_ratelimit_next(rl, 1.0, nq, 0.0, t, &cause, &rl_limited)
			    : HUGE_VAL;
		if (w > 0.0 && w < HUGE_VAL && t + w < next)
			next = t + (w > 1e-6 ? w : 1e-6);  /* as a poll would: time moves */
		if (retry && retry_at > t && retry_at < next)
			next = retry_at;
		for (int i = 0; i < nq; i++) {
			double e = q[i].arrived ? q[i].reply : q[i].arrive;

			if (e < next)
				next = e;
		}
		t = next;
		/* the server counts what arrives, the client reads what is answered */
		for (int i = 0; i < nq; i++)
			if (!q[i].arrived && q[i].arrive <= t)
				server_arrive(s, &q[i], delay);
		for (int i = 0; i < nq;) {
			if (!q[i].arrived || q[i].reply > t) {
				i++;
				continue;
			}
			mlde_ratelimit_reply(rl, &q[i].m, q[i].status, t);
			answered++;
			if (q[i].status == 429) {
				r.refused++;
				if (answered <= n / 4)
					r.refused_first++;
				if (done >= n - n / 4)
					r.refused_last++;
				retry++;
				retry_at = t + 0.01;
			} else {
				s->serving--;
				done++;
			}
			q[i] = q[--nq];
		}
	}
	r.end = t;
	r.done = (unsigned long)done;
	return r;
}

static void server_pacing(void)
{
	mlde_ratelimit rl;
	server s = { .cap = 100, .rate = 100, .level = 100, .headers = true };
	double least;
	result r;
	int longest;

	/* 100 a second, a bucket of 100; -j 32, answers after 50 ms */
	mlde_ratelimit_init(&rl, 0, 0, 0.0);
	mlde_ratelimit_jobs(&rl, 32);
	r = simulate(&rl, &s, 2000, 32, 0.05);
	least = (2000 - 100) / 100.0;
	TAP_IS_INT(r.done, 2000, "server headers: all 2000 requests done");
	TAP_IS_INT(r.refused, 0, "... and not one 429");
	TAP_OK(r.end <= least * 1.05 + 0.1, "... in %.2f s, within 5%% of the least the limit allows (%.1f s)",
	       r.end, least);
	longest = MLDE_LIMIT_RPM;
	for (int c = 0; c < MLDE_LIMIT_CAUSES; c++)
		if (rl.st.waited[c] > rl.st.waited[longest])
			longest = c;
	TAP_IS_INT(longest, MLDE_LIMIT_SERVER_REQUESTS, "... held longest by the server's limit (%.1f s)",
		   rl.st.waited[MLDE_LIMIT_SERVER_REQUESTS]);
	TAP_OK(rl.st.header_replies == 2000, "... every reply stated it");
	TAP_IS_INT(rl.st.cuts_429 + rl.st.cuts_latency, 0, "... the concurrency never cut");

	/* the same server without the headers: 429s, and the concurrency cut */
	s = (server){ .cap = 100, .rate = 100, .level = 100 };
	mlde_ratelimit_init(&rl, 0, 0, 0.0);
	mlde_ratelimit_jobs(&rl, 32);
	r = simulate(&rl, &s, 2000, 32, 0.05);
	TAP_IS_INT(r.done, 2000, "no headers: all done too");
	TAP_OK(r.refused > 0 && rl.st.cuts_429 > 0, "... through %lu 429s, %lu cuts", r.refused,
	       rl.st.cuts_429);
}

static void sync_rules(void)
{
	mlde_ratelimit rl;
	mlde_ratelimit_mark m[4];
	int cause;
	bool lim;

	/* one attempt, its reply: 10 a second, 9 left */
	mlde_ratelimit_init(&rl, 0, 0, 0.0);
	mlde_ratelimit_jobs(&rl, 100);
	mlde_ratelimit_sent(&rl, &m[0], 1.0, 0.0);
	m[0].limit[0] = 10, m[0].remaining[0] = 9, m[0].reset[0] = 0.1;
	mlde_ratelimit_reply(&rl, &m[0], 200, 0.0);
	TAP_OK(NEAR(rl.server[0].rate, 10.0) && NEAR(rl.server[0].level, 9.0),
	       "a reply: 10 a second (1 used, full in 0.1 s), 9 left");
	for (int i = 0; i < 9; i++)
		mlde_ratelimit_sent(&rl, &m[1], 1.0, 0.0);
	TAP_OK(NEAR(mlde_ratelimit_next(&rl, 1.0, 9, 0.0, 0.0, &cause, &lim), 0.1) &&
	       cause == MLDE_LIMIT_SERVER_REQUESTS && !lim,
	       "9 more sent: the next waits 0.1 s, held by the server's requests");

	/* attempts sent at once reach the server in any order */
	mlde_ratelimit_init(&rl, 0, 0, 0.0);
	mlde_ratelimit_jobs(&rl, 100);
	for (int i = 0; i < 4; i++)
		mlde_ratelimit_sent(&rl, &m[i], 1.0, 0.0);
	/* the server counted the 4th first (9 left) and the 1st last (6 left) */
	m[3].limit[0] = 10, m[3].remaining[0] = 9, m[3].reset[0] = 0.1;
	mlde_ratelimit_reply(&rl, &m[3], 200, 0.0);
	TAP_OK(NEAR(rl.server[0].level, 6.0), "a reply to the last of a burst: those sent before it "
	       "in the burst taken off too (%g)", rl.server[0].level);
	m[0].limit[0] = 10, m[0].remaining[0] = 6, m[0].reset[0] = 0.4;
	mlde_ratelimit_reply(&rl, &m[0], 200, 0.0);
	TAP_OK(NEAR(rl.server[0].level, 3.0), "... to the first: those after it (%g, not more than "
	       "the server's 6)", rl.server[0].level);
	mlde_ratelimit_sent(&rl, &m[0], 1.0, 0.1);
	m[0].limit[0] = 10, m[0].remaining[0] = 6, m[0].reset[0] = 0.4;
	mlde_ratelimit_reply(&rl, &m[0], 200, 0.1);
	TAP_OK(NEAR(rl.server[0].level, 3.3), "... to one sent alone after it, saying more: raised a "
	       "tenth of the way (%g)", rl.server[0].level);

	/* a reply saying less sets the level at once; it refills from there */
	mlde_ratelimit_init(&rl, 0, 0, 0.0);
	mlde_ratelimit_jobs(&rl, 100);
	mlde_ratelimit_sent(&rl, &m[0], 1.0, 0.0);
	m[0].limit[0] = 10, m[0].remaining[0] = 9, m[0].reset[0] = 0.1;
	mlde_ratelimit_reply(&rl, &m[0], 200, 0.01);
	mlde_ratelimit_sent(&rl, &m[0], 1.0, 1.0);
	m[0].limit[0] = 10, m[0].remaining[0] = 0, m[0].reset[0] = 1.0;
	mlde_ratelimit_reply(&rl, &m[0], 200, 1.51);
	TAP_OK(NEAR(rl.server[0].level, 0.0), "a reply saying 0 left: the mirror at 0 (%g)",
	       rl.server[0].level);
	TAP_OK(NEAR(mlde_ratelimit_wait(&rl, 1.0, 1.51), 0.1), "... the next waits a tenth of a second");

	/* no reset to measure: the limit per minute */
	mlde_ratelimit_init(&rl, 0, 0, 0.0);
	mlde_ratelimit_jobs(&rl, 100);
	mlde_ratelimit_sent(&rl, &m[0], 1.0, 0.0);
	m[0].limit[0] = 600, m[0].remaining[0] = 600, m[0].reset[0] = 0.0;
	mlde_ratelimit_reply(&rl, &m[0], 200, 0.0);
	TAP_OK(NEAR(rl.server[0].rate, 10.0), "a full bucket: its limit taken as per minute (600: 10/s)");
	/* tokens: an estimate of 0 passes a token limit */
	mlde_ratelimit_sent(&rl, &m[1], 1.0, 1.0);
	m[1].limit[1] = 1000, m[1].remaining[1] = 0, m[1].reset[1] = 60.0;
	mlde_ratelimit_reply(&rl, &m[1], 200, 1.0);
	TAP_OK(mlde_ratelimit_wait(&rl, 0.0, 1.0) == 0.0, "tokens exhausted: a request of no estimate goes");
	TAP_OK(NEAR(mlde_ratelimit_wait(&rl, 50.0, 1.0), 3.0),
	       "... one of 50 tokens waits 3 s (1000 a minute)");
	TAP_OK(mlde_ratelimit_next(&rl, 50.0, 0, 0.0, 1.0, &cause, &lim) > 0.0 &&
	       cause == MLDE_LIMIT_SERVER_TOKENS, "... held by the server's tokens");
}

static void aimd(void)
{
	mlde_ratelimit rl;
	mlde_ratelimit_mark m[40];
	double t = 0.0;
	unsigned long cuts;

	mlde_ratelimit_init(&rl, 0, 0, 0.0);
	mlde_ratelimit_jobs(&rl, 16);
	TAP_IS_INT(mlde_ratelimit_concurrency(&rl), 16, "-j 16: 16 at first");
	for (int i = 0; i < 16; i++)
		mlde_ratelimit_sent(&rl, &m[i], 1.0, t);
	mlde_ratelimit_reply(&rl, &m[0], 429, t);
	TAP_IS_INT(mlde_ratelimit_concurrency(&rl), 8, "a 429: halved, 8");
	for (int i = 1; i < 16; i++)
		mlde_ratelimit_reply(&rl, &m[i], 429, t);
	TAP_IS_INT(mlde_ratelimit_concurrency(&rl), 8, "... the others of that round cut no more");
	mlde_ratelimit_sent(&rl, &m[16], 1.0, t);
	mlde_ratelimit_reply(&rl, &m[16], 429, t);
	TAP_IS_INT(mlde_ratelimit_concurrency(&rl), 4, "a 429 of one sent after the cut: 4");
	for (int k = 0; k < 5; k++) {
		mlde_ratelimit_sent(&rl, &m[17], 1.0, t);
		mlde_ratelimit_reply(&rl, &m[17], 429, t);
	}
	TAP_IS_INT(mlde_ratelimit_concurrency(&rl), 1, "... never below 1");
	TAP_IS_INT(rl.st.cuts_429, 4, "... 4 cuts counted (16 to 8, 4, 2, 1; none at 1)");
	TAP_IS_INT(rl.st.replies_429, 22, "... and every 429");
	/* replies without 429: back up, a request per round, never above -j */
	for (int i = 0; i < 2000; i++) {
		mlde_ratelimit_sent(&rl, &m[18], 1.0, t);
		t += 0.1;
		mlde_ratelimit_reply(&rl, &m[18], 200, t);
	}
	TAP_IS_INT(mlde_ratelimit_concurrency(&rl), 16, "2000 good replies: back to -j 16, no more");
	TAP_IS_INT(rl.st.lowest, 1, "the lowest recorded");

	/* latency: a fast server's jitter is no sign */
	mlde_ratelimit_init(&rl, 0, 0, 0.0);
	mlde_ratelimit_jobs(&rl, 16);
	t = 0.0;
	for (int i = 0; i < 200; i++) {
		mlde_ratelimit_sent(&rl, &m[0], 1.0, t);
		t += i % 7 == 0 ? 0.02 : 0.001;
		mlde_ratelimit_reply(&rl, &m[0], 200, t);
	}
	TAP_IS_INT(rl.st.cuts_latency, 0, "latency between 1 and 20 ms: no cut");
	/* a latency that rises from 0.1 s to 1 s */
	for (int i = 0; i < 50; i++) {
		mlde_ratelimit_sent(&rl, &m[0], 1.0, t);
		t += 0.1;
		mlde_ratelimit_reply(&rl, &m[0], 200, t);
	}
	for (int i = 0; i < 10; i++) {
		mlde_ratelimit_sent(&rl, &m[0], 1.0, t);
		t += 1.0;
		mlde_ratelimit_reply(&rl, &m[0], 200, t);
	}
	TAP_OK(rl.st.cuts_latency >= 1 && mlde_ratelimit_concurrency(&rl) < 16,
	       "latency from 0.1 s to 1 s: cut (%lu times, to %d)", rl.st.cuts_latency,
	       mlde_ratelimit_concurrency(&rl));
	cuts = rl.st.cuts_latency;
	for (int i = 0; i < 200; i++) {
		mlde_ratelimit_sent(&rl, &m[0], 1.0, t);
		t += 1.0;
		mlde_ratelimit_reply(&rl, &m[0], 200, t);
	}
	TAP_IS_INT(rl.st.cuts_latency, cuts, "... and no more once it stays at 1 s");
	TAP_IS_INT(mlde_ratelimit_concurrency(&rl), 16, "... where the concurrency grows back to -j");
}

static void concurrency_server(void)
{
	mlde_ratelimit rl;
	server s = { .conc_limit = 4 };
	result r;

	mlde_ratelimit_init(&rl, 0, 0, 0.0);
	mlde_ratelimit_jobs(&rl, 16);
	r = simulate(&rl, &s, 400, 16, 0.05);
	TAP_IS_INT(r.done, 400, "a server that refuses above 4 in service, -j 16: all 400 done");
	TAP_OK(r.refused_first > r.refused_last,
	       "... the 429s fall: %lu in the first quarter, %lu in the last", r.refused_first,
	       r.refused_last);
	TAP_OK(r.refused < 400 / 10, "... %lu in all, under one in ten", r.refused);
	TAP_OK(mlde_ratelimit_concurrency(&rl) >= 2 && mlde_ratelimit_concurrency(&rl) <= 5,
	       "... ending near the server's 4 (%d)", mlde_ratelimit_concurrency(&rl));
}

static void gate(void)
{
	mlde_ratelimit rl;
	mlde_ratelimit_mark m;
	int cause;
	bool lim;

	mlde_ratelimit_init(&rl, 60, 0, 0.0);
	mlde_ratelimit_jobs(&rl, 2);
	TAP_OK(mlde_ratelimit_next(&rl, 1.0, 0, 0.0, 0.0, &cause, &lim) == 0.0 &&
	       cause == MLDE_LIMIT_NONE, "--rpm 60, nothing sent: the first goes");
	mlde_ratelimit_sent(&rl, &m, 1.0, 0.0);
	TAP_OK(NEAR(mlde_ratelimit_next(&rl, 1.0, 1, 0.0, 0.0, &cause, &lim), 1.0) &&
	       cause == MLDE_LIMIT_RPM && lim, "the second waits 1 s for --rpm");
	TAP_OK(NEAR(mlde_ratelimit_next(&rl, 1.0, 1, 0.0, 0.25, &cause, &lim), 0.75) &&
	       cause == MLDE_LIMIT_RPM, "... still, a quarter second on");
	TAP_OK(mlde_ratelimit_next(&rl, 1.0, 1, 3.0, 0.5, &cause, &lim) == 2.5 &&
	       cause == MLDE_LIMIT_RETRY_AFTER && lim, "a Retry-After to 3 s binds longer");
	TAP_OK(mlde_ratelimit_next(&rl, 1.0, 2, 0.0, 1.0, &cause, &lim) == HUGE_VAL &&
	       cause == MLDE_LIMIT_JOBS, "2 in flight of -j 2: held until a reply");
	TAP_OK(mlde_ratelimit_next(&rl, 1.0, 1, 0.0, 1.5, &cause, &lim) == 0.0, "one replied: it goes");
	mlde_ratelimit_sent(&rl, &m, 1.0, 1.5);
	TAP_IS_INT(rl.st.waits[MLDE_LIMIT_RPM], 1, "waits: one for --rpm");
	TAP_OK(NEAR(rl.st.waited[MLDE_LIMIT_RPM], 0.5), "... of 0.5 s");
	TAP_IS_INT(rl.st.waits[MLDE_LIMIT_RETRY_AFTER], 1, "one for Retry-After");
	TAP_OK(NEAR(rl.st.waited[MLDE_LIMIT_RETRY_AFTER], 0.5), "... of 0.5 s");
	TAP_IS_INT(rl.st.waits[MLDE_LIMIT_JOBS], 1, "one for -j");
	TAP_OK(NEAR(rl.st.waited[MLDE_LIMIT_JOBS], 0.5), "... of 0.5 s");
	mlde_ratelimit_reply(&rl, &m, 429, 1.6);
	TAP_OK(mlde_ratelimit_next(&rl, 1.0, 1, 0.0, 3.0, &cause, &lim) == HUGE_VAL &&
	       cause == MLDE_LIMIT_ADAPTIVE, "after a 429, one in flight of -j 2 is the adaptive limit");
}

int main(void)
{
	server_pacing();
	sync_rules();
	aimd();
	concurrency_server();
	gate();
	return TAP_DONE();
}
