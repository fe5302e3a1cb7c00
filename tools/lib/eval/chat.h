/* chat.h - the requests mlde-eval sends to an OpenAI-compatible server: a
 * multiple-choice question about an image (LLaVA-1.5's MMBench prompt), a
 * judge's question mapping an unreadable reply to an option, and a
 * multimodal embeddings request (vLLM's chat-style /v1/embeddings).  Each
 * body is JSON with sorted keys, so one request always has the same bytes,
 * and so the same key in the reply cache.  Nothing here prints. */
#ifndef MLDE_CHAT_H
#define MLDE_CHAT_H

#include <stddef.h>

#include <jv.h>

/* The instruction ending every question (LLaVA-1.5's, for MMBench). */
#define MLDE_CHAT_INSTRUCTION "Answer with the option's letter from the given choices directly."
/* The text part of an embeddings request unless the caller gives one
 * (VLM2Vec's, vLLM's example). */
#define MLDE_CHAT_EMBED_TEXT "Represent the given image."

/* What every chat completion body carries besides its messages. */
typedef struct mlde_chat_opts {
	const char *model;
	const char *system;     /* a system message first; NULL: none */
	double temperature;
	long max_tokens;
	int top_logprobs;       /* > 0: "logprobs": true, "top_logprobs": this */
	jv extra;               /* an object whose fields are set last, over the
				 * others (borrowed); invalid: none */
} mlde_chat_opts;

/* out[p] = options[(p + k) % n] for p < n: the options as rotation k of
 * CircularEval shows them (option i at position (i - k) mod n). */
void mlde_chat_rotate(const char *const *options, size_t n, size_t k, const char **out);

/* The question's text: hint + "\n" when hint is neither NULL nor empty,
 * the question, "\nA. " + options[0], "\nB. " + ..., then "\n" and
 * MLDE_CHAT_INSTRUCTION.  Malloc'd. */
char *mlde_chat_question_text(const char *hint, const char *question,
			      const char *const *options, size_t n);

/* The body of a question: messages = [the system message?, {"role":
 * "user", "content": [{"type": "image_url", "image_url": {"url":
 * image_uri}}, {"type": "text", "text": text}]}], with model,
 * temperature, max_tokens, the log-probability fields and the extra ones.
 * Malloc'd, *len set. */
char *mlde_chat_question_body(const mlde_chat_opts *o, const char *image_uri,
			      const char *text, size_t *len);

/* The judge's text: the question, its options lettered as shown, the
 * reply, and the request to answer with one letter (or Z for none).
 * Malloc'd. */
char *mlde_chat_judge_text(const char *question, const char *const *options, size_t n,
			   const char *reply);
/* A text-only chat completion: messages = [the system message?, {"role":
 * "user", "content": text}].  Malloc'd, *len set. */
char *mlde_chat_text_body(const mlde_chat_opts *o, const char *text, size_t *len);

/* An embeddings request: {"encoding_format": "float", "messages": [{"role":
 * "user", "content": [{"type": "image_url", ...}, {"type": "text", "text":
 * text}]}], "model": model}; text NULL: MLDE_CHAT_EMBED_TEXT, "": no text
 * part.  Malloc'd, *len set. */
char *mlde_chat_embed_body(const char *model, const char *image_uri, const char *text,
			   size_t *len);
/* The vector of an embeddings reply body (borrowed): data[0].embedding, an
 * array of at least one finite number, in *vec (new).  0, or -1 with why. */
int mlde_chat_embedding(jv body, jv *vec, char *why, size_t whylen);
/* Is body (len bytes) such a reply?  The reply check (gen/http.h). */
int mlde_chat_check_embedding(const char *body, size_t len, char *why, size_t whylen);

#endif
