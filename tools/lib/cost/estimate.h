/* estimate.h - the input tokens of a request, estimated before it is sent,
 * without the model's tokenizer.  Text: one token per run of letters (two
 * past 8 letters), per 3 digits, per punctuation mark, per line break and
 * per other UTF-8 character; a lone space goes with the word after it, as
 * the BPE tokenizers of GPT-4 and GPT-4o take it.  On the original
 * pipeline's prompts and GPT-4 replies (shared/fixtures/original-pipeline)
 * it is within 10% of cl100k_base's count (bytes/4: within 37%).  Images:
 * OpenAI's tile rule (85 at detail low; else 85 + 170 per 512-pixel tile
 * once the image fits 2048x2048 and its short side 768).  A chat message
 * adds 4 tokens and the reply's start 3 (OpenAI's cookbook).  Nothing
 * here prints. */
#ifndef MLDE_ESTIMATE_H
#define MLDE_ESTIMATE_H

#include <stddef.h>
#include <jv.h>

/* Tokens of len bytes of UTF-8 text. */
double mlde_estimate_text(const char *s, size_t len);
/* Tokens of an image of w x h pixels at detail ("low", "high", "auto" or
 * NULL: as high, the ceiling). */
double mlde_estimate_image(int w, int h, const char *detail);
/* The pixel size of a PNG or JPEG image's bytes: 0, or -1 when it is
 * neither or is cut short. */
int mlde_image_size(const unsigned char *p, size_t n, int *w, int *h);
/* Input tokens of a request body (borrowed): a chat completion (messages
 * whose content is a string or parts of text and image_url, images as
 * data: URIs; one not read as an image counts as a 2048x2048 one) or an
 * embeddings request (input: a string or strings). */
double mlde_estimate_request(jv body);

#endif
