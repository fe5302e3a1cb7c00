/* test-review.c - unit tests of tools/lib/world/worldreview.c and of the world
 * backend's fault mode (worldgen.c): every item the world writes (its own,
 * and the world backend's replies through the reply parser) reviews as
 * correct; every faulty item is flagged with its own kind (recall per kind
 * is printed); the verdicts on hand-written LLM-style items.
 *
 * Also a tool for tests/cli/world-faults.t (not a test of its own):
 *     test-review --judge PLANS [ITEMS]    review records, one per item, as
 *                                          mlde-prompt writes them (item,
 *                                          prompt_version, prompt_sha256, type,
 *                                          verdict, reason, detail, reviewer,
 *                                          time: null, so the bytes repeat)
 *     test-review --accepted PLANS [ITEMS] the items the reviewer accepts
 * ITEMS (default stdin) are generated items, PLANS the plan records they
 * were made for; records go to stdout as plain JSON Lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen/reply.h"
#include "io/jsonl.h"
#include "record/record.h"
#include "tap.h"
#include "world/worldreview.h"
#include "world/world.h"
#include "world/worldgen.h"

#define SCENES 300   /* plans per type for the world backend */
#define OWN_ITEMS 300  /* the world's own items per type */

/* ---- helpers ---- */

static jv item_of(const char *question, const char *const *options, int n, int answer,
		  const char *type, const char *rationale)
{
	mlde_item it = { .id = "t", .image = "x.png", .question = question, .nopt = n,
			 .answer = answer, .type = type, .rationale = rationale };

	for (int i = 0; i < n; i++)
		it.options[i] = options[i];
	return mlde_item_record(&it);
}

/* The item mlde-gen would make of a reply, or jv_invalid() when the parser
 * rejects it (*why: the reason). */
static jv item_of_reply(const char *reply, const char *type, const char **why)
{
	mlde_reply rep;
	jv item = jv_invalid();

	*why = NULL;
	if (mlde_reply_parse(reply, strlen(reply), &rep) == 0)
		item = item_of(rep.question, (const char *const *)rep.options, rep.noptions,
			       rep.answer, type, rep.rationale);
	else
		*why = rep.reason;
	mlde_reply_free(&rep);
	return item;
}

static jv plan_of(const char *type, jv query)
{
	jv p = jv_object_set(jv_object(), jv_string(MLDE_F_ID), jv_string("p"));

	p = jv_object_set(p, jv_string(MLDE_F_TYPE), jv_string(type));
	return jv_object_set(p, jv_string(MLDE_F_QUERY), query);
}

/* A scene of the world's default distribution, as its pool record. */
static jv random_query(mlde_rng *rng)
{
	mlde_world_scene s;
	mlde_world_spec spec;

	mlde_world_spec_default(&spec);
	mlde_world_scene_make(&s, &spec, rng);
	return mlde_world_scene_record(&s, "x.png");
}

/* ---- the world's own items ---- */

static void test_own_items(void)
{
	mlde_rng rng;

	mlde_rng_seed(&rng, 11);
	for (int t = 0; t < MLDE_WORLD_NTYPES; t++) {
		int correct = 0, n = 0;
		char first_bad[600] = "";

		for (int i = 0; i < OWN_ITEMS; i++) {
			mlde_world_scene s;
			mlde_world_item wi;
			mlde_world_verdict rv;
			jv item, query;

			mlde_world_make_item(t, &rng, &s, &wi);
			item = mlde_world_item_record(&wi, "w", "x.png");
			query = mlde_world_scene_record(&s, "x.png");
			n++;
			if (mlde_world_review(item, query, &rv) == 0 && rv.truth == wi.answer)
				correct++;
			else if (!first_bad[0])
				snprintf(first_bad, sizeof first_bad, "%s -> %s %s: %s", wi.question,
					 rv.verdict, rv.reason ? rv.reason : "", rv.detail);
			jv_free(item);
			jv_free(query);
		}
		TAP_IS_INT(correct, n, "the world's own %s items all review as correct%s%s",
			   mlde_world_type_names[t], first_bad[0] ? ": " : "", first_bad);
	}
}

/* ---- the world backend, with and without faults ---- */

typedef struct tally {
	int made, items, flagged, correct_verdicts, cannot;
	char first_miss[800];
} tally;

/* Generate SCENES replies per type with faults f, parse them as mlde-gen
 * does, review them; count per fault kind (index MLDE_FAULT_N: none). */
static void run_backend(const mlde_world_faults *f, tally by[MLDE_FAULT_N + 1], int *rejected)
{
	mlde_rng rng;

	memset(by, 0, sizeof(tally) * (MLDE_FAULT_N + 1));
	*rejected = 0;
	mlde_rng_seed(&rng, 5);
	for (int t = 0; t < MLDE_WORLD_NTYPES; t++)
		for (int i = 0; i < SCENES; i++) {
			const char *type = mlde_world_type_names[t], *fault, *why;
			jv plan = plan_of(type, random_query(&rng));
			char *reply = mlde_worldgen_reply_faulty(plan, mlde_rng_next(&rng), f, &fault);
			int k = MLDE_FAULT_N;
			mlde_world_verdict rv;
			jv item;

			for (int j = 0; j < MLDE_FAULT_N; j++)
				if (fault && strcmp(fault, mlde_world_fault_names[j]) == 0)
					k = j;
			item = item_of_reply(reply, type, &why);
			if (!jv_is_valid(item)) {
				/* a skip is the world declining, as the LLM is told to */
				if (strcmp(why, MLDE_REJECT_SKIP) != 0)
					(*rejected)++;
				jv_free(item);
				jv_free(plan);
				free(reply);
				continue;
			}
			by[k].items++;
			mlde_world_review_plan(item, plan, &rv);
			if (k < MLDE_FAULT_N && rv.reason && strcmp(rv.reason, fault) == 0)
				by[k].flagged++;
			else if (k == MLDE_FAULT_N && strcmp(rv.verdict, MLDE_WORLD_CORRECT) == 0)
				by[k].correct_verdicts++;
			else if (!by[k].first_miss[0])
				snprintf(by[k].first_miss, sizeof by[k].first_miss, "[%s] %s -> %s %s: %s",
					 type, reply, rv.verdict, rv.reason ? rv.reason : "", rv.detail);
			by[k].cannot += strcmp(rv.verdict, MLDE_WORLD_CANNOT_JUDGE) == 0;
			jv_free(item);
			jv_free(plan);
			free(reply);
		}
}

static void test_backend_correct(void)
{
	tally by[MLDE_FAULT_N + 1];
	int rejected;

	run_backend(NULL, by, &rejected);
	TAP_IS_INT(rejected, 0, "the parser takes every fault-free reply that is not a Skip");
	TAP_OK(by[MLDE_FAULT_N].items > SCENES * 5, "%d fault-free items", by[MLDE_FAULT_N].items);
	TAP_IS_INT(by[MLDE_FAULT_N].correct_verdicts, by[MLDE_FAULT_N].items,
		   "every fault-free world backend item reviews as correct%s%s",
		   by[MLDE_FAULT_N].first_miss[0] ? ": " : "", by[MLDE_FAULT_N].first_miss);
}

static void test_backend_faults(void)
{
	for (int k = 0; k < MLDE_FAULT_N; k++) {
		mlde_world_faults f = { { 0 } };
		tally by[MLDE_FAULT_N + 1];
		int rejected, wrong_fallback;

		f.rate[k] = 1.0;
		run_backend(&f, by, &rejected);
		TAP_IS_INT(rejected, 0, "%s: every faulty reply passes the parser, as an LLM's would",
			   mlde_world_fault_names[k]);
		TAP_IS_INT(by[MLDE_FAULT_N].items, 0, "%s at rate 1: every item is faulty",
			   mlde_world_fault_names[k]);
		TAP_OK(by[k].items > SCENES * (k == MLDE_FAULT_ABSENT ? 3 : 5),
		       "%s: %d items of the kind", mlde_world_fault_names[k], by[k].items);
		printf("# recall %s: %d/%d (%.1f%%), cannot-judge %d\n", mlde_world_fault_names[k],
		       by[k].flagged, by[k].items, 100.0 * by[k].flagged / (by[k].items ? by[k].items : 1),
		       by[k].cannot);
		TAP_IS_INT(by[k].flagged, by[k].items, "the reviewer flags every %s item%s%s",
			   mlde_world_fault_names[k], by[k].first_miss[0] ? ": " : "", by[k].first_miss);
		/* the fallback of kinds a type cannot carry */
		wrong_fallback = k == MLDE_FAULT_WRONG_ANSWER ? 0 : by[MLDE_FAULT_WRONG_ANSWER].items;
		if (k != MLDE_FAULT_WRONG_ANSWER)
			TAP_IS_INT(by[MLDE_FAULT_WRONG_ANSWER].flagged, wrong_fallback,
				   "%s: its wrong-answer fallbacks are flagged too",
				   mlde_world_fault_names[k]);
	}
}

/* The fault stream is apart: a reply with faults at rate 0 is the
 * fault-free reply, byte for byte. */
static void test_fault_free_bytes(void)
{
	mlde_world_faults zero = { { 0 } };
	mlde_rng rng;
	int same = 0;

	mlde_rng_seed(&rng, 9);
	for (int i = 0; i < 200; i++) {
		jv plan = plan_of(mlde_world_type_names[i % MLDE_WORLD_NTYPES], random_query(&rng));
		uint64_t seed = mlde_rng_next(&rng);
		const char *fault = "x";
		char *a = mlde_worldgen_reply(plan, seed);
		char *b = mlde_worldgen_reply_faulty(plan, seed, &zero, &fault);

		same += strcmp(a, b) == 0 && fault == NULL;
		free(a);
		free(b);
		jv_free(plan);
	}
	TAP_IS_INT(same, 200, "faults at rate 0 change no reply and name no fault");
}

/* ---- hand-written items ---- */

/* A scene: a large red circle at the top left touching a small blue square,
 * a small green triangle at the bottom right, the letter K, white. */
static jv hand_query(void)
{
	mlde_world_scene s = { 0 };
	mlde_error err;
	jv rec;

	s.background = 0;
	s.nobj = 3;
	s.obj[0] = (mlde_world_object){ .shape = 0, .color = 0, .size = 1, .cx = 12, .cy = 12 };
	s.obj[1] = (mlde_world_object){ .shape = 1, .color = 4, .size = 0, .cx = 28, .cy = 12 };
	s.obj[2] = (mlde_world_object){ .shape = 2, .color = 3, .size = 0, .cx = 52, .cy = 52 };
	s.touch_a = 0;
	s.touch_b = 1;
	s.letter = 4;  /* K */
	s.tx = 30;
	s.ty = 26;
	rec = mlde_world_scene_record(&s, "h.png");
	mlde_error_clear(&err);
	return rec;
}

typedef struct hand {
	const char *question, *options[4], *type;
	int answer;
	const char *verdict, *reason;
} hand;

static void test_hand(void)
{
	static const hand cases[] = {
		{ "What color is the large circle?", { "blue", "red", "green", "yellow" },
		  "instance_attributes", 1, MLDE_WORLD_CORRECT, NULL },
		{ "What color is the large circle?", { "blue", "red", "green", "yellow" },
		  "instance_attributes", 0, MLDE_WORLD_WRONG, MLDE_WRONG_ANSWER },
		{ "What color is the large circle?", { "blue", "orange", "green", "yellow" },
		  "instance_attributes", 0, MLDE_WORLD_WRONG, MLDE_WRONG_NO_TRUTH },
		{ "What color is the cross?", { "blue", "red", "green", "yellow" },
		  "instance_attributes", 1, MLDE_WORLD_WRONG, MLDE_WRONG_ABSENT },
		{ "What color is the small object?", { "blue", "red", "green", "yellow" },
		  "instance_attributes", 0, MLDE_WORLD_WRONG, MLDE_WRONG_AMBIGUOUS },
		{ "What color is the star?", { "blue", "red", "green", "yellow" },
		  "instance_attributes", 1, MLDE_WORLD_CANNOT_JUDGE, MLDE_CANNOT_QUESTION },
		{ "Is the sky blue?", { "yes", "no", "maybe", "never" },
		  "instance_attributes", 0, MLDE_WORLD_CANNOT_JUDGE, MLDE_CANNOT_QUESTION },
		{ "What color is the large circle?", { "blue", "crimson", "green", "yellow" },
		  "instance_attributes", 1, MLDE_WORLD_CANNOT_JUDGE, MLDE_CANNOT_OPTION },
		{ "What color is the large circle?", { "blue", "red", "the color blue", "yellow" },
		  "instance_attributes", 1, MLDE_WORLD_WRONG, MLDE_WRONG_DUPLICATE },
		{ "What color is the large circle?", { "blue", "red", "green", "yellow" },
		  "instances_counting", 1, MLDE_WORLD_WRONG, MLDE_WRONG_TYPE },
		{ "What color is the circle at (0.19, 0.19)?", { "blue", "red", "green", "yellow" },
		  "instance_attributes", 1, MLDE_WORLD_WRONG, MLDE_WRONG_COORDS },
		{ "What color is the shape at x=12, y=12?", { "blue", "red", "green", "yellow" },
		  "instance_attributes", 1, MLDE_WORLD_WRONG, MLDE_WRONG_COORDS },
		{ "What color is the object at (12, 12)?", { "blue", "red", "green", "yellow" },
		  "instance_attributes", 1, MLDE_WORLD_WRONG, MLDE_WRONG_COORDS },
		{ "How many circles are there in the image?", { "two", "1", "3", "4" },
		  "instances_counting", 1, MLDE_WORLD_CORRECT, NULL },
		{ "How many circles can you see?", { "2", "1", "two", "4" },
		  "instances_counting", 1, MLDE_WORLD_WRONG, MLDE_WRONG_DUPLICATE },
		{ "How many crosses are there in the image?", { "2", "1", "3", "4" },
		  "instances_counting", 1, MLDE_WORLD_WRONG, MLDE_WRONG_ABSENT },
		{ "Where is the green triangle in the image?",
		  { "the top-left corner", "Bottom Right", "center", "upper right" },
		  "instance_location", 1, MLDE_WORLD_CORRECT, NULL },
		{ "Where is the blue square relative to the red circle?",
		  { "left of it", "right of it", "above it", "below it" },
		  "spatial_relation", 1, MLDE_WORLD_CORRECT, NULL },
		{ "What shape is touching the green triangle?", { "circle", "square", "cross", "triangle" },
		  "instance_interaction", 0, MLDE_WORLD_WRONG, MLDE_WRONG_UNANSWERABLE },
		{ "What shape is touching the red circle?", { "a circle", "a square", "crosses", "triangle" },
		  "instance_interaction", 1, MLDE_WORLD_CORRECT, NULL },
		{ "What letter is shown?", { "the letter K", "A", "B", "Z" },
		  "text_understanding", 0, MLDE_WORLD_CORRECT, NULL },
		{ "What kind of background does this picture have?",
		  { "black", "White background", "gray", "checkered" },
		  "scene_understanding", 1, MLDE_WORLD_CORRECT, NULL },
		{ "Which shape appears most often?", { "circle", "square", "cross", "triangle" },
		  "visual_reasoning", 0, MLDE_WORLD_WRONG, MLDE_WRONG_UNANSWERABLE },
	};
	jv query = hand_query();

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const hand *h = &cases[i];
		jv item = item_of(h->question, h->options, 4, h->answer, h->type, NULL);
		mlde_world_verdict rv;

		mlde_world_review(item, query, &rv);
		TAP_IS_STR(rv.verdict, h->verdict, "'%s' (%s, %c): %s", h->question, h->type,
			   'A' + h->answer, h->verdict);
		if (h->reason)
			TAP_IS_STR(rv.reason, h->reason, "... because %s (%s)", h->reason, rv.detail);
		else
			TAP_OK(rv.reason == NULL, "... with no reason");
		jv_free(item);
	}
	{
		const char *opts[] = { "blue", "red" };
		jv item = item_of("What color is the large circle?", opts, 2, 1, "instance_attributes",
				  "The circle at [0.1, 0.1] is red, centre .19");
		mlde_world_verdict rv;

		mlde_world_review(item, query, &rv);
		TAP_IS_STR(rv.reason, MLDE_WRONG_COORDS, "coordinates in the explanation are flagged");
		jv_free(item);
	}
	jv_free(query);
}

static void test_cannot_judge(void)
{
	const char *opts[] = { "blue", "red" };
	jv item = item_of("What color is the large circle?", opts, 2, 1, "instance_attributes", NULL);
	jv coco = jv_parse("{\"image\":\"coco/1.jpg\",\"captions\":[\"a dog\"],"
			   "\"objects\":[{\"name\":\"dog\",\"bbox\":[0.1,0.1,0.5,0.5]}]}");
	jv noplan = jv_parse("{\"id\":\"p\",\"type\":\"x\"}");
	jv bad = jv_parse("{\"question\":\"q\",\"options\":[\"a\"],\"answer\":0}");
	jv query = hand_query();
	mlde_world_verdict rv;

	TAP_IS_INT(mlde_world_review(item, coco, &rv), 2, "a COCO pool record: cannot judge");
	TAP_IS_STR(rv.reason, MLDE_CANNOT_SCENE, "... not a world scene (%s)", rv.detail);
	TAP_IS_INT(mlde_world_review_plan(item, noplan, &rv), 2, "a plan with no query: cannot judge");
	TAP_IS_STR(rv.reason, MLDE_CANNOT_SCENE, "... not a world scene");
	TAP_IS_INT(mlde_world_review(bad, query, &rv), 2, "one option: cannot judge");
	TAP_IS_STR(rv.reason, MLDE_CANNOT_ITEM, "... not an item");
	TAP_IS_INT(mlde_world_review(jv_null(), query, &rv), 2, "null: cannot judge");
	TAP_IS_INT(mlde_world_review(item, query, &rv), 0, "the same item on a world scene: correct");
	TAP_IS_INT(rv.truth, 1, "... and the truth is (B)");
	jv_free(item);
	jv_free(coco);
	jv_free(noplan);
	jv_free(bad);
	jv_free(query);
}

static void test_faults_parse(void)
{
	static const struct { const char *spec; int ok; } cases[] = {
		{ "wrong-answer=0.1,absent_object=0.05", 1 }, { "all=0.2", 1 }, { "", 1 },
		{ "all=0.5,coordinates=0.7", 0 }, { "all=0.5,coordinates=0.6", 1 },
		{ "wrong=0.1", 0 }, { "wrong-answer", 0 },
		{ "wrong-answer=1.5", 0 }, { "wrong-answer=x", 0 }, { "wrong-answer=0.1;", 0 },
		{ "=0.1", 0 },
	};
	mlde_world_faults f;
	mlde_error err;
	char buf[256];

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		mlde_error_clear(&err);
		TAP_IS_INT(mlde_world_faults_parse(cases[i].spec, &f, &err) == 0, cases[i].ok,
			   "--world-faults '%s' %s%s%s", cases[i].spec,
			   cases[i].ok ? "is read" : "is refused", err.msg[0] ? ": " : "", err.msg);
	}
	mlde_world_faults_parse("all=0.2", &f, &err);
	mlde_world_faults_string(&f, buf, sizeof buf);
	TAP_IS_STR(buf, "wrong-answer=0.04,absent-object=0.04,other-type=0.04,coordinates=0.04,"
		   "duplicate-options=0.04", "all=0.2 shares the rate among the five kinds");
	mlde_world_faults_parse("", &f, &err);
	TAP_OK(!mlde_world_faults_on(&f) && !mlde_world_faults_on(NULL), "an empty spec is off");
}

/* ---- the tool mode ---- */

/* The plans by id, as one object (plans are few: a loop's budget). */
static int load_plans(const char *path, jv *plans, mlde_error *err)
{
	mlde_reader *r = mlde_reader_open(path, err);
	jv p;
	int got;

	if (!r)
		return -1;
	*plans = jv_object();
	while ((got = mlde_reader_next(r, &p, err)) > 0) {
		jv id = jv_object_get(jv_copy(p), jv_string(MLDE_F_ID));

		if (jv_get_kind(id) == JV_KIND_STRING)
			*plans = jv_object_set(*plans, id, p);
		else {
			jv_free(id);
			jv_free(p);
		}
	}
	mlde_reader_close(r);
	return got;
}

static jv field(jv obj, const char *key)
{
	jv v = jv_get_kind(obj) == JV_KIND_OBJECT ? jv_object_get(jv_copy(obj), jv_string(key))
						  : jv_invalid();

	if (jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(v);
		return jv_null();
	}
	return v;
}

/* The review record of a verdict on item (borrowed). */
static jv review_record(jv item, const mlde_world_verdict *rv)
{
	jv prov = jv_get_kind(item) == JV_KIND_OBJECT
		  ? jv_object_get(jv_copy(item), jv_string(MLDE_F_PROVENANCE)) : jv_invalid();
	jv r = jv_object();

	r = jv_object_set(r, jv_string("item"), field(item, MLDE_F_ID));
	r = jv_object_set(r, jv_string("prompt_version"), field(prov, MLDE_F_PROMPT));
	r = jv_object_set(r, jv_string(MLDE_F_PROMPT_SHA256), field(prov, MLDE_F_PROMPT_SHA256));
	r = jv_object_set(r, jv_string(MLDE_F_TYPE), field(item, MLDE_F_TYPE));
	r = jv_object_set(r, jv_string("verdict"), jv_string(rv->verdict));
	r = jv_object_set(r, jv_string(MLDE_F_REASON), rv->reason ? jv_string(rv->reason) : jv_null());
	if (rv->detail[0])
		r = jv_object_set(r, jv_string(MLDE_F_DETAIL), jv_string(rv->detail));
	r = jv_object_set(r, jv_string("reviewer"), jv_string(MLDE_REVIEWER_WORLD));
	r = jv_object_set(r, jv_string("time"), jv_null());
	jv_free(prov);
	return r;
}

static int tool(const char *mode, const char *plans_path, const char *items_path)
{
	bool accepted = strcmp(mode, "--accepted") == 0;
	mlde_error err;
	mlde_reader *r;
	jv plans, item;
	int got;

	mlde_error_clear(&err);
	if (load_plans(plans_path, &plans, &err) < 0 || !(r = mlde_reader_open(items_path, &err))) {
		fprintf(stderr, "test-review: %s\n", err.msg);
		return 1;
	}
	while ((got = mlde_reader_next(r, &item, &err)) > 0) {
		jv prov = jv_object_get(jv_copy(item), jv_string(MLDE_F_PROVENANCE));
		jv pid = jv_get_kind(prov) == JV_KIND_OBJECT
			 ? jv_object_get(jv_copy(prov), jv_string(MLDE_F_PLAN)) : jv_invalid();
		jv plan = jv_get_kind(pid) == JV_KIND_STRING
			  ? jv_object_get(jv_copy(plans), pid) : (jv_free(pid), jv_invalid());
		mlde_world_verdict rv;
		int rc = mlde_world_review_plan(item, plan, &rv);
		jv out = accepted ? (rc == 0 ? jv_copy(item) : jv_invalid()) : review_record(item, &rv);

		if (jv_is_valid(out)) {
			jv s = jv_dump_string(out, 0);

			puts(jv_string_value(s));
			jv_free(s);
		} else {
			jv_free(out);
		}
		jv_free(plan);
		jv_free(prov);
		jv_free(item);
	}
	mlde_reader_close(r);
	jv_free(plans);
	if (got < 0) {
		fprintf(stderr, "test-review: %s\n", err.msg);
		return 1;
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && (strcmp(argv[1], "--judge") == 0 || strcmp(argv[1], "--accepted") == 0))
		return tool(argv[1], argv[2], argc > 3 ? argv[3] : "-");
	test_own_items();
	test_backend_correct();
	test_fault_free_bytes();
	test_backend_faults();
	test_hand();
	test_cannot_judge();
	test_faults_parse();
	return TAP_DONE();
}
