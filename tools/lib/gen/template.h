/* template.h - prompt templates: text with {{ jq expression }} holes, each
 * evaluated by libjq against a record (a plan record for mlde-gen).
 *
 * A hole's values are written one a line: a string as it is, null as
 * nothing, anything else as compact JSON.  The holes see named variables
 * ($types for mlde-gen) and a few helper functions (template.c lists them).
 * All holes are compiled into one jq program, run once per record.  Errors
 * name FILE:LINE of the hole and jq's message.  Nothing here prints. */
#ifndef MLDE_TEMPLATE_H
#define MLDE_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <jv.h>

#include "base/err.h"

typedef struct mlde_template mlde_template;

/* Compile text (named name in messages).  vars: an object of variable
 * name -> value, consumed.  NULL with err set (MLDE_EXIT_DATA) on a bad
 * template. */
mlde_template *mlde_template_new(const char *name, const char *text, size_t len, jv vars,
				 mlde_error *err);
/* Read and compile a file (MLDE_EXIT_IO when it cannot be read). */
mlde_template *mlde_template_load(const char *path, jv vars, mlde_error *err);
/* The template filled in for rec (borrowed): a malloc'd NUL-terminated
 * string and its length, or NULL with err set (a hole failed on rec). */
char *mlde_template_render(mlde_template *t, jv rec, size_t *len, mlde_error *err);
/* The template's own text, as read. */
const char *mlde_template_text(const mlde_template *t, size_t *len);
size_t mlde_template_holes(const mlde_template *t);
void mlde_template_free(mlde_template *t);

/* Records queued in their order and rendered ahead: rendering is most of
 * what an offline run does, so once the queue has been full a second
 * thread, with a template of its own (a jq_state and the jv values it
 * holds belong to one thread), renders the records the caller has not
 * come to yet, and the caller renders the oldest itself when that thread
 * has not taken it.  Each record gets what mlde_template_render gives it
 * where it stands.  A record, once pushed, is not touched by the caller
 * until it is popped.  t is borrowed and must outlive the queue. */
typedef struct mlde_render_ahead mlde_render_ahead;

mlde_render_ahead *mlde_render_ahead_new(mlde_template *t, size_t cap);
/* rec (consumed) and a tag of the caller's (copied), at the back; the
 * queue must not be full */
void mlde_render_ahead_push(mlde_render_ahead *q, jv rec, const char *tag);
size_t mlde_render_ahead_count(const mlde_render_ahead *q);
bool mlde_render_ahead_full(const mlde_render_ahead *q);
/* The oldest record (the caller's now) and its tag (malloc'd), with its
 * rendering as mlde_template_render returns it.  The queue must not be
 * empty. */
char *mlde_render_ahead_pop(mlde_render_ahead *q, jv *rec, char **tag, size_t *len,
			    mlde_error *err);
/* Stops the second thread and frees what is still queued. */
void mlde_render_ahead_free(mlde_render_ahead *q);

#endif
