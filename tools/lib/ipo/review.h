/* review.h - review records of Interactive Prompt Optimization: one verdict
 * on one generated item (correct, wrong with a reason, or skip), by a person
 * or an automatic reviewer, and the log they are appended to.  The world
 * reviewer (tools/lib/world/worldreview.h) writes the same record, with its
 * "detail" beside (unknown fields are kept).  The log is
 * JSON Lines, each record written whole with one write(2) and fsync'd before
 * the next verdict is taken, so closing the page or killing the program
 * loses nothing; it is never rewritten (an item judged again gets a new
 * record, and the last one counts).  Nothing here prints. */
#ifndef MLDE_IPO_REVIEW_H
#define MLDE_IPO_REVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <jv.h>

#include "base/err.h"

/* Field names of a review record, in the order they are written. */
#define MLDE_F_ITEM "item"
#define MLDE_F_PROMPT_VERSION "prompt_version"
#define MLDE_F_VERDICT "verdict"
/* "reason" is MLDE_F_REASON, "type" MLDE_F_TYPE, "prompt_sha256"
 * MLDE_F_PROMPT_SHA256 (record/record.h) */
#define MLDE_F_REVIEWER "reviewer"
#define MLDE_F_TIME "time"

typedef enum mlde_verdict {
	MLDE_IPO_CORRECT,
	MLDE_IPO_WRONG,
	MLDE_IPO_SKIP,
	MLDE_IPO_CANNOT,   /* "cannot-judge": an automatic reviewer's "not mine
			    * to say" (the world's, tools/lib/world/worldreview.h);
			    * counted as a skip */
} mlde_verdict;

/* One review.  Strings borrowed (from the record checked, or the caller's). */
typedef struct mlde_ipo_review {
	const char *item;            /* the item's id */
	const char *prompt_version;  /* its provenance's prompt, NULL: unknown */
	const char *prompt_sha256;   /* NULL: unknown */
	const char *type;            /* the item's type, NULL: none */
	mlde_verdict verdict;
	const char *reason;          /* NULL or "": none (a wrong verdict needs one) */
	const char *reviewer;
	const char *time;            /* ISO 8601 UTC; NULL when building: now */
} mlde_ipo_review;

/* "correct", "wrong", "skip", "cannot-judge"; and back (-1 for anything else). */
const char *mlde_verdict_name(mlde_verdict v);
int mlde_verdict_parse(const char *s);

/* The record of r: item, prompt_version, prompt_sha256, type, verdict,
 * reason (null when none), reviewer, time. */
jv mlde_ipo_review_record(const mlde_ipo_review *r);
/* Check rec (borrowed) as a review record and fill r (pointing into rec):
 * "item", "verdict", "reviewer" strings, the verdict one of the three, a
 * wrong verdict with a non-empty reason; the others strings or null.
 * -1 with err (MLDE_EXIT_DATA, "WHERE: field 'NAME': what"). */
int mlde_review_check(jv rec, const char *where, mlde_ipo_review *r, mlde_error *err);

/* The prompt version of a generated item (borrowed): provenance.prompt,
 * and its sha256, or NULL when it has none. */
const char *mlde_item_prompt_version(jv item);
const char *mlde_item_prompt_sha256(jv item);

/* The current time as ISO 8601 UTC ("2026-12-01T12:48:44Z"): $MLDE_TIME
 * when set (tests pin dates with it), else the clock. */
void mlde_review_now(char out[32]);

/* ---- the log ---- */

typedef struct mlde_review_log mlde_review_log;

/* Open path for appending (created when missing) and read what it holds,
 * every record checked; a last line cut short by a kill (no newline) is
 * dropped and the file truncated to its last whole record, so the next
 * append starts on a line of its own.  NULL with err: a file that cannot
 * be opened (MLDE_EXIT_IO), a bad record (MLDE_EXIT_DATA, "PATH:LINE"). */
mlde_review_log *mlde_review_log_open(const char *path, mlde_error *err);
/* Append r's record and fsync: 0, or -1 with err (MLDE_EXIT_IO). */
int mlde_review_log_append(mlde_review_log *l, const mlde_ipo_review *r, mlde_error *err);
/* From now on, appends are not synced each, and mlde_review_log_sync syncs
 * them all: for a reviewer whose verdicts cost nothing to make again (the
 * world's), where a sync a record would be nearly all its time.  A killed
 * process loses nothing either way; only a crash of the machine could. */
void mlde_review_log_sync_at_end(mlde_review_log *l);
/* fsync the log: 0, or -1 with err (MLDE_EXIT_IO, "PATH: fsync: ..."). */
int mlde_review_log_sync(mlde_review_log *l, mlde_error *err);
/* The last record of item by reviewer (NULL: anyone), or NULL: borrowed,
 * valid while the log is open. */
const mlde_ipo_review *mlde_review_log_find(const mlde_review_log *l, const char *item,
					const char *reviewer);
/* Records held (read and appended), and record i of them. */
size_t mlde_review_log_count(const mlde_review_log *l);
const mlde_ipo_review *mlde_review_log_get(const mlde_review_log *l, size_t i);
/* The distinct non-empty reasons of wrong verdicts, in the order first
 * seen (a JSON array of strings, new). */
jv mlde_review_log_reasons(const mlde_review_log *l);
const char *mlde_review_log_path(const mlde_review_log *l);
void mlde_review_log_close(mlde_review_log *l);

/* Read every review record of path (plain or zstd) into *recs (a new JSON
 * array of the records, checked).  0, or -1 with err. */
int mlde_review_read(const char *path, jv *recs, mlde_error *err);

#endif
