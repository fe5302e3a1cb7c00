/* model.h - the builtin multimodal multiple-choice model of mlde-train and
 * mlde-eval.  It sees the image pixels, the question text and the option
 * texts, nothing else.
 *
 *   image 64x64 RGB -> three 3x3 stride-2 conv + BN + ReLU -> 8x8 features F
 *                      (mean and max of F: the image embedding)
 *   question        -> hashed words, bigrams and position-tagged words ->
 *                      mean of a word table -> linear + ReLU -> q
 *   F + (x, y)      -> FiLM blocks: 3x3 conv, BN, scale and shift from q,
 *                      ReLU, residual -> 1x1 conv + BN + ReLU (with x, y)
 *                   -> max and mean pooling, q -> linear + ReLU -> h
 *   option k        -> score h . (A[hash(option)] + P * words(option))
 *                      + a[hash(option)]; softmax over the offered options
 *
 * A is a learned answer vocabulary: a hashed table with a row per answer
 * string, so any string gets a row and the words of the option still carry
 * what is shared between answers.  See DESIGN.md, "The builtin model". */
#ifndef MLDE_MODEL_H
#define MLDE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jv.h>

#include "base/err.h"
#include "model/nn.h"
#include "record/record.h"

#define MLDE_MODEL_FORMAT "mlde-mc-1"
#define MLDE_FILM_MAX 4      /* FiLM blocks */
#define MLDE_WORDS_MAX 64    /* words of a text that are read */

typedef struct mlde_model_cfg {
	int size;          /* image side the network sees */
	int c1, c2, c3;    /* channels of the three stride-2 convolutions */
	int nfilm;         /* FiLM blocks */
	int c4;            /* channels of the 1x1 head */
	int dq, dh, dz;    /* word, question and answer widths */
	int nh, dk;        /* attention heads and their key width */
	int nq, na;        /* hash buckets of the word and answer tables */
} mlde_model_cfg;

void mlde_model_default_cfg(mlde_model_cfg *cfg);
/* NULL if cfg is usable, else what is wrong. */
const char *mlde_model_check_cfg(const mlde_model_cfg *cfg);

typedef struct mlde_model mlde_model;

mlde_model *mlde_model_new(const mlde_model_cfg *cfg, uint64_t seed);
/* 0, or -1 with err naming the file (MLDE_EXIT_IO, MLDE_EXIT_DATA). */
int mlde_model_load(const char *path, mlde_model **out, mlde_error *err);
/* Save with the architecture, text and image metadata plus extra (an object
 * of string values, consumed), via PATH.tmp renamed on success. */
int mlde_model_save(const mlde_model *m, const char *path, jv extra, mlde_error *err);
void mlde_model_free(mlde_model *m);
const mlde_model_cfg *mlde_model_config(const mlde_model *m);
int mlde_model_embed_dim(const mlde_model *m);
/* Multiply-adds times two of one item's forward pass (its own image). */
double mlde_model_flops(const mlde_model *m);

/* ---- inputs ---- */

/* An item as the network takes it: the text turned into table rows.  An
 * item with nopt 0 has no question and is only embedded. */
typedef struct mlde_mc_item {
	int image;          /* index into the caller's array of images */
	int answer;         /* -1 if not known */
	int nopt;
	int nq;
	uint32_t *q;        /* question feature rows in the word table */
	uint32_t aid[MLDE_OPTIONS_MAX];   /* answer-table row of each option */
	int nof[MLDE_OPTIONS_MAX];
	uint32_t *of[MLDE_OPTIONS_MAX];   /* word-table rows of each option */
} mlde_mc_item;

/* Fill it (allocating the row lists) from the texts; nopt 0 for no question. */
void mlde_mc_item_init(const mlde_model *m, mlde_mc_item *it, int image,
		       const char *question, const char *const *options, int nopt,
		       int answer);
void mlde_mc_item_free(mlde_mc_item *it);

/* Resize 8-bit RGB (w x h) to the model's size x size (bilinear, edges
 * clamped) into out (size*size*3 bytes). */
void mlde_model_image(const mlde_model *m, const unsigned char *rgb, int w, int h,
		      unsigned char *out);

/* ---- training ---- */

typedef struct mlde_trainer mlde_trainer;

/* A trainer for batches of up to batch items, on the team's threads. */
mlde_trainer *mlde_trainer_new(mlde_model *m, mlde_team *team, int batch);
void mlde_trainer_free(mlde_trainer *t);
/* One Adam step on items[0..n) (n <= batch; at least one with a question and
 * an answer): images[k] is image k, size*size*3 bytes.  Items of one image
 * next to each other share its convolutions.  Returns the summed loss;
 * *correct counts the items whose best option was the answer. */
double mlde_trainer_step(mlde_trainer *t, const mlde_mc_item *const *items, int n,
			 const unsigned char *const *images, float lr, int *correct);
/* Decoupled weight decay (AdamW) of the weight matrices and kernels: each
 * step multiplies them by 1 - lr * wd.  Default 0. */
void mlde_trainer_set_decay(mlde_trainer *t, float wd);
/* Freeze the first layers (0..3) of the stem, the three convolutions
 * before the FiLM blocks: they run as in inference, batch norm by its
 * running statistics, get no gradient and no step, and the backward stops
 * above them.  Default 0. */
void mlde_trainer_freeze_stem(mlde_trainer *t, int layers);
/* gemm floating-point operations done so far. */
double mlde_trainer_flops(const mlde_trainer *t);

/* For tests: the mean loss of a batch (batch norm as in training) and its
 * gradient, without a step; then the gradient of tensor i (see
 * mlde_model_tensor) into out. */
double mlde_trainer_grad(mlde_trainer *t, const mlde_mc_item *const *items, int n,
			 const unsigned char *const *images);
void mlde_trainer_tensor_grad(const mlde_trainer *t, int i, float *out);
/* The tensors of the model file, in file order: name, data and whether it
 * is trained (not a running statistic). */
int mlde_model_ntensors(const mlde_model *m);
const char *mlde_model_tensor(mlde_model *m, int i, float **data, size_t *count,
			      bool *trained);

/* ---- inference ---- */

/* Probabilities of every option (scores[i * MLDE_OPTIONS_MAX + k]) and, when
 * embed is not NULL, the image embedding (embed[i * embed_dim + d]) of
 * items[0..n), on the team's threads.  Results do not depend on how items
 * are batched. */
typedef struct mlde_predictor mlde_predictor;
mlde_predictor *mlde_predictor_new(mlde_model *m, mlde_team *team, int batch);
void mlde_predictor_free(mlde_predictor *p);
void mlde_predict(mlde_predictor *p, const mlde_mc_item *const *items, int n,
		  const unsigned char *const *images, float *scores, float *embed);

#endif
