/* test-record.c - the records module: each kind of record built and checked;
 * a good record passes, each missing or mistyped field fails naming the
 * field, the option and answer limits hold, unknown fields pass through. */
#include <stdlib.h>
#include <string.h>

#include "record/record.h"
#include "tap.h"

static jv parse(const char *text)
{
	jv v = jv_parse(text);

	if (!jv_is_valid(v)) {
		printf("Bail out! bad JSON in the test: %s\n", text);
		exit(1);
	}
	return v;
}

static char *dump(jv v)
{
	static char out[4096];
	jv s = jv_dump_string(v, 0);

	snprintf(out, sizeof out, "%s", jv_string_value(s));
	jv_free(s);
	return out;
}

/* The message of checking text with check (one of the wrappers below), or
 * "ok".  The record is freed: only last_item's counts and fault (whose field
 * names are static) may be read afterwards, not its texts. */
typedef int checker(jv rec, mlde_error *err);

static const char *verdict(checker *check, const char *text)
{
	static char out[1100];
	mlde_error err;
	jv rec = parse(text);

	mlde_error_clear(&err);
	if (check(rec, &err) == 0)
		snprintf(out, sizeof out, "ok");
	else
		snprintf(out, sizeof out, "%d %s", err.status, err.msg);
	jv_free(rec);
	return out;
}

static mlde_item last_item;

static int item_answer(jv rec, mlde_error *err)
{
	return mlde_item_check(rec, MLDE_ITEM_NEED_ANSWER, "f:1", &last_item, err);
}

static int item_loose(jv rec, mlde_error *err)
{
	return mlde_item_check(rec, MLDE_ITEM_IMAGE_ONLY, "f:1", &last_item, err);
}

static int generated(jv rec, mlde_error *err)
{
	return mlde_generated_check(rec, "f:1", &last_item, err);
}

static int pool(jv rec, mlde_error *err)
{
	mlde_pool p;

	return mlde_pool_check(rec, "f:1", &p, err);
}

static int eval_type(jv rec, mlde_error *err)
{
	mlde_eval e;

	return mlde_eval_check(rec, NULL, MLDE_EVAL_NEED_IMAGE, "f:1", &e, err);
}

static int weakness(jv rec, mlde_error *err)
{
	mlde_weakness w;

	return mlde_weakness_check(rec, "f:1", &w, err);
}

static int plan(jv rec, mlde_error *err)
{
	mlde_plan p;

	return mlde_plan_check(rec, "f:1", &p, err);
}

static int reject(jv rec, mlde_error *err)
{
	return mlde_reject_check(rec, "f:1", err);
}

#define ITEM "\"id\":\"i1\",\"image\":\"a.png\",\"question\":\"Q?\",\"options\":[\"x\",\"y\"]," \
	"\"answer\":1,\"type\":\"t\""
#define REJ(field, what) "1 f:1: field '" field "': " what

static void test_item(void)
{
	jv rec;

	TAP_IS_STR(verdict(item_answer, "{" ITEM "}"), "ok", "item: a good item passes");
	TAP_IS_STR(verdict(item_answer, "{" ITEM ",\"mine\":[1]}"), "ok",
		   "item: an unknown field passes");
	{
		mlde_item it;
		mlde_error err;

		rec = parse("{" ITEM "}");  /* it points into rec: keep rec while reading it */
		mlde_error_clear(&err);
		TAP_IS_INT(mlde_item_check(rec, MLDE_ITEM_NEED_ANSWER, "f:1", &it, &err), 0,
			   "item: checked");
		TAP_IS_STR(it.id, "i1", "item: id read");
		TAP_IS_STR(it.image, "a.png", "item: image read");
		TAP_IS_INT(it.nopt, 2, "item: two options read");
		TAP_IS_STR(it.options[1], "y", "item: option texts read");
		TAP_IS_INT(it.answer, 1, "item: answer read");
		TAP_OK(it.rationale == NULL && it.fault.what == MLDE_FAULT_NONE,
		       "item: no rationale, no fault");
		jv_free(rec);
	}
	TAP_IS_STR(verdict(item_answer, "{\"question\":\"Q?\",\"options\":[\"x\",\"y\"],\"answer\":0}"),
		   REJ("image", "missing"), "item: image missing");
	TAP_IS_INT(last_item.fault.what, MLDE_FAULT_MISSING, "item: the fault says missing");
	TAP_IS_STR(last_item.fault.field, MLDE_F_IMAGE, "item: the fault names the field");
	TAP_IS_STR(verdict(item_answer, "{\"image\":3,\"question\":\"Q?\",\"options\":[\"x\",\"y\"],"
				"\"answer\":0}"),
		   REJ("image", "expected string, got number"), "item: image mistyped");
	TAP_IS_INT(last_item.fault.what, MLDE_FAULT_KIND, "item: the fault says mistyped");
	TAP_IS_STR(verdict(item_answer, "{\"image\":\"a\",\"options\":[\"x\",\"y\"],\"answer\":0}"),
		   REJ("question", "missing"), "item: question missing");
	TAP_IS_STR(last_item.fault.field, MLDE_F_QUESTION, "item: the fault names question");
	TAP_IS_STR(verdict(item_answer, "{\"image\":\"a\",\"question\":[],\"options\":[\"x\",\"y\"],"
				"\"answer\":0}"),
		   REJ("question", "expected string, got array"), "item: question mistyped");
	TAP_IS_STR(verdict(item_answer, "{\"image\":\"a\",\"question\":\"Q\",\"answer\":0}"),
		   REJ("options", "missing"), "item: options missing");
	TAP_IS_STR(verdict(item_answer, "{\"image\":\"a\",\"question\":\"Q\",\"options\":\"x\","
				"\"answer\":0}"),
		   REJ("options", "expected array, got string"), "item: options mistyped");
	TAP_IS_STR(verdict(item_answer, "{\"image\":\"a\",\"question\":\"Q\",\"options\":[\"x\",2],"
				"\"answer\":0}"),
		   REJ("options", "option 1 is number, not a string"), "item: an option mistyped");
	TAP_IS_STR(verdict(item_answer, "{\"image\":\"a\",\"question\":\"Q\",\"options\":[\"x\"],"
				"\"answer\":0}"),
		   REJ("options", "1 option (2 to 8 needed)"), "item: 1 option fails");
	TAP_IS_INT(last_item.fault.what, MLDE_FAULT_VALUE, "item: a bad count is a value fault");
	TAP_IS_STR(verdict(item_answer, "{\"image\":\"a\",\"question\":\"Q\",\"options\":"
				"[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\"],\"answer\":7}"),
		   "ok", "item: 8 options pass");
	TAP_IS_STR(verdict(item_answer, "{\"image\":\"a\",\"question\":\"Q\",\"options\":"
				"[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"],\"answer\":0}"),
		   REJ("options", "9 options (2 to 8 needed)"), "item: 9 options fail");
	TAP_IS_STR(verdict(item_answer, "{\"image\":\"a\",\"question\":\"Q\",\"options\":[\"x\",\"y\"]}"),
		   REJ("answer", "missing"), "item: answer missing (needed)");
	TAP_IS_STR(verdict(item_loose, "{\"image\":\"a\",\"question\":\"Q\",\"options\":[\"x\",\"y\"]}"),
		   "ok", "item: answer missing (not needed)");
	TAP_IS_INT(last_item.answer, -1, "item: no answer is -1");
	TAP_IS_STR(verdict(item_answer, "{\"image\":\"a\",\"question\":\"Q\",\"options\":[\"x\",\"y\"],"
				"\"answer\":\"B\"}"),
		   REJ("answer", "expected integer, got string"), "item: answer mistyped");
	TAP_IS_STR(verdict(item_answer, "{\"image\":\"a\",\"question\":\"Q\",\"options\":[\"x\",\"y\"],"
				"\"answer\":0.5}"),
		   REJ("answer", "0.5 is not an integer"), "item: answer not an integer");
	TAP_IS_STR(verdict(item_answer, "{\"image\":\"a\",\"question\":\"Q\",\"options\":[\"x\",\"y\"],"
				"\"answer\":2}"),
		   REJ("answer", "2 is out of range (0 to 1 for 2 options)"), "item: answer past the options");
	TAP_IS_STR(verdict(item_answer, "{\"image\":\"a\",\"question\":\"Q\",\"options\":[\"x\",\"y\"],"
				"\"answer\":-1}"),
		   REJ("answer", "-1 is out of range (0 to 1 for 2 options)"), "item: negative answer");
	TAP_IS_STR(verdict(item_answer, "{" ITEM ",\"type\":7}"),
		   REJ("type", "expected string, got number"), "item: type mistyped");
	TAP_IS_STR(verdict(item_answer, "{\"image\":\"a\",\"question\":\"Q\",\"options\":[\"x\",\"y\"],"
				"\"answer\":0,\"type\":null}"),
		   "ok", "item: a null type passes");
	TAP_IS_STR(verdict(item_loose, "{\"image\":\"a\",\"captions\":[]}"), "ok",
		   "item: an image-only record passes when allowed");
	TAP_IS_INT(last_item.nopt, 0, "item: an image-only record has no options");
	TAP_IS_STR(verdict(item_answer, "{\"image\":\"a\",\"captions\":[]}"),
		   REJ("question", "missing"), "item: an image-only record fails when not allowed");

	/* build, then check what was built */
	{
		mlde_item it = { .id = "w1", .image = "i.png", .question = "What?",
				 .options = { "a", "b", "c" }, .nopt = 3, .answer = 2,
				 .type = "t", .rationale = "r", .source = "world" };

		rec = mlde_item_record(&it);
		TAP_IS_STR(dump(jv_copy(rec)), "{\"id\":\"w1\",\"image\":\"i.png\",\"question\":\"What?\","
			   "\"options\":[\"a\",\"b\",\"c\"],\"answer\":2,\"type\":\"t\",\"rationale\":\"r\","
			   "\"source\":\"world\"}", "item: built with its fields in order");
		TAP_IS_STR(verdict(item_answer, dump(jv_copy(rec))), "ok", "item: a built item passes");
		jv_free(rec);
		it.rationale = it.source = NULL;
		TAP_IS_STR(dump(mlde_item_record(&it)), "{\"id\":\"w1\",\"image\":\"i.png\","
			   "\"question\":\"What?\",\"options\":[\"a\",\"b\",\"c\"],\"answer\":2,\"type\":\"t\"}",
			   "item: rationale and source only when given");
	}
}

static void test_generated(void)
{
	mlde_item it = { .id = "p-1", .image = "i.png", .question = "Q?", .options = { "x", "y" },
			 .nopt = 2, .answer = 0, .type = "t", .source = "mlde-gen" };
	mlde_provenance p = { "world", "m", "default", "ps", "rs", "p" };
	jv rec = mlde_item_set_provenance(mlde_item_record(&it), &p);
	char text[2048];

	snprintf(text, sizeof text, "%s", dump(jv_copy(rec)));
	TAP_IS_STR(text, "{\"id\":\"p-1\",\"image\":\"i.png\",\"question\":\"Q?\",\"options\":[\"x\",\"y\"],"
		   "\"answer\":0,\"type\":\"t\",\"source\":\"mlde-gen\",\"provenance\":{\"backend\":\"world\","
		   "\"model\":\"m\",\"prompt\":\"default\",\"prompt_sha256\":\"ps\",\"request_sha256\":\"rs\","
		   "\"plan\":\"p\"}}", "generated: built, provenance last");
	TAP_IS_STR(verdict(generated, text), "ok", "generated: a built one passes");
	rec = jv_object_set(rec, jv_string("extra"), jv_true());
	TAP_IS_STR(verdict(generated, dump(jv_copy(rec))), "ok", "generated: an unknown field passes");
	TAP_IS_STR(verdict(generated, "{" ITEM "}"), REJ("provenance", "missing"),
		   "generated: provenance missing");
	TAP_IS_STR(verdict(generated, "{" ITEM ",\"provenance\":1}"),
		   REJ("provenance", "expected object, got number"), "generated: provenance mistyped");
	rec = jv_object_set(rec, jv_string("provenance"),
			    jv_object_delete(jv_object_get(jv_copy(rec), jv_string("provenance")),
					     jv_string("prompt_sha256")));
	TAP_IS_STR(verdict(generated, dump(jv_copy(rec))), REJ("provenance.prompt_sha256", "missing"),
		   "generated: a provenance field missing");
	TAP_IS_STR(last_item.fault.field, MLDE_F_PROMPT_SHA256, "generated: the fault names it");
	jv_free(rec);
	TAP_IS_STR(verdict(generated, "{\"image\":\"a\",\"question\":\"Q\",\"options\":[\"x\"],"
			   "\"answer\":0,\"provenance\":{}}"),
		   REJ("options", "1 option (2 to 8 needed)"), "generated: the item check comes first");
}

static void test_pool(void)
{
	const double box[4] = { 0.25, 0.5, 0.75, 1 };
	jv rec = mlde_pool_record("p.png", jv_array_append(jv_array(), jv_string("A cat.")),
				  jv_array_append(jv_array(), mlde_pool_object("cat", box)));

	TAP_IS_STR(dump(jv_copy(rec)), "{\"image\":\"p.png\",\"captions\":[\"A cat.\"],\"objects\":"
		   "[{\"name\":\"cat\",\"bbox\":[0.25,0.5,0.75,1]}]}", "pool: built in order");
	TAP_IS_STR(verdict(pool, dump(rec)), "ok", "pool: a built one passes");
	TAP_IS_STR(verdict(pool, "{\"image\":\"p\",\"background\":\"white\"}"), "ok",
		   "pool: unknown fields pass");
	TAP_IS_STR(verdict(pool, "{\"captions\":[]}"), REJ("image", "missing"), "pool: image missing");
	TAP_IS_STR(verdict(pool, "{\"image\":null}"), REJ("image", "expected string, got null"),
		   "pool: image mistyped");
	TAP_IS_STR(verdict(pool, "{\"image\":\"p\",\"captions\":\"x\"}"),
		   REJ("captions", "expected array, got string"), "pool: captions mistyped");
	TAP_IS_STR(verdict(pool, "{\"image\":\"p\",\"objects\":{}}"),
		   REJ("objects", "expected array, got object"), "pool: objects mistyped");
}

static void test_eval(void)
{
	jv rec = mlde_eval_record(parse("{" ITEM ",\"mine\":1}"), 1, true,
				  jv_array_append(jv_array(), jv_number(0.25)), "m.st");
	mlde_eval e;
	mlde_error err;

	TAP_IS_STR(dump(jv_copy(rec)), "{\"id\":\"i1\",\"image\":\"a.png\",\"question\":\"Q?\","
		   "\"options\":[\"x\",\"y\"],\"answer\":1,\"type\":\"t\",\"mine\":1,\"pred\":1,"
		   "\"correct\":true,\"scores\":[0.25],\"model\":\"m.st\"}",
		   "eval: the item, unknown fields kept, then pred, correct, scores, model");
	TAP_IS_STR(verdict(eval_type, dump(rec)), "ok", "eval: a built one passes");
	rec = mlde_eval_record(parse("{\"type\":\"t\"}"), -1, false, jv_invalid(), "m");
	TAP_IS_STR(dump(jv_copy(rec)), "{\"type\":\"t\",\"pred\":null,\"correct\":false,\"model\":\"m\"}",
		   "eval: no answer is a null pred; no scores");
	mlde_error_clear(&err);
	TAP_IS_INT(mlde_eval_check(rec, NULL, 0, "f:1", &e, &err), 0, "eval: no image asked for");
	TAP_OK(!e.answered && !e.correct && e.key_len == 1, "eval: unanswered, wrong, key read");
	jv_free(rec);
	TAP_IS_STR(verdict(eval_type, "{\"image\":\"a\",\"correct\":true}"), REJ("type", "missing"),
		   "eval: type missing");
	TAP_IS_STR(verdict(eval_type, "{\"type\":true,\"image\":\"a\",\"correct\":true}"),
		   REJ("type", "expected string, got boolean"), "eval: type mistyped");
	TAP_IS_STR(verdict(eval_type, "{\"type\":\"t\",\"correct\":true}"), REJ("image", "missing"),
		   "eval: image missing");
	TAP_IS_STR(verdict(eval_type, "{\"type\":\"t\",\"image\":\"a\"}"), REJ("correct", "missing"),
		   "eval: correct missing");
	TAP_IS_STR(verdict(eval_type, "{\"type\":\"t\",\"image\":\"a\",\"correct\":1}"),
		   REJ("correct", "expected boolean, got number"), "eval: correct mistyped");
	rec = parse("{\"image\":\"a\",\"correct\":true}");
	mlde_error_clear(&err);
	TAP_IS_INT(mlde_eval_check(rec, "image", 0, "f:1", &e, &err), 0, "eval: grouped by another field");
	TAP_IS_STR(e.key, "a", "eval: that field is the key");
	jv_free(rec);
}

static void test_weakness(void)
{
	mlde_weakness w = { .key = "t", .n = 4, .correct = 1, .unanswered = 2, .acc = 0.25,
			    .lo = 0.125, .hi = 0.5, .weight = 0.75 };

	TAP_IS_STR(dump(mlde_weakness_record(&w)), "{\"type\":\"t\",\"n\":4,\"correct\":1,\"acc\":0.25,"
		   "\"lo\":0.125,\"hi\":0.5,\"weight\":0.75,\"unanswered\":2}", "weakness: built in order");
	w.by = "image";
	w.n = 0;
	w.sparse = true;
	TAP_IS_STR(dump(mlde_weakness_record(&w)), "{\"image\":\"t\",\"n\":0,\"correct\":1,\"acc\":null,"
		   "\"lo\":0.125,\"hi\":0.5,\"weight\":0.75,\"unanswered\":2,\"sparse\":true}",
		   "weakness: by another field, null acc at n 0, sparse");
	TAP_IS_STR(verdict(weakness, "{\"type\":\"t\",\"weight\":0.5,\"x\":1}"), "ok",
		   "weakness: a good one passes, unknown field and all");
	TAP_IS_STR(verdict(weakness, "{\"weight\":0.5}"), REJ("type", "missing"), "weakness: type missing");
	TAP_IS_STR(verdict(weakness, "{\"type\":1,\"weight\":0.5}"),
		   REJ("type", "expected string, got number"), "weakness: type mistyped");
	TAP_IS_STR(verdict(weakness, "{\"type\":\"t\"}"), REJ("weight", "missing"),
		   "weakness: weight missing");
	TAP_IS_STR(verdict(weakness, "{\"type\":\"t\",\"weight\":null}"),
		   REJ("weight", "expected number, got null"), "weakness: weight mistyped");
	TAP_IS_STR(verdict(weakness, "{\"type\":\"t\",\"weight\":-1}"),
		   REJ("weight", "-1 is not a finite number >= 0"), "weakness: negative weight");
}

static void test_plan(void)
{
	jv rec = mlde_plan_record("t-00001", "t", parse("{\"image\":\"p.png\"}"),
				  jv_array_append(jv_array(), parse("{" ITEM "}")), false, 0);

	TAP_IS_STR(dump(jv_copy(rec)), "{\"id\":\"t-00001\",\"type\":\"t\",\"query\":{\"image\":\"p.png\"},"
		   "\"examples\":[{" ITEM "}]}", "plan: built in order");
	TAP_IS_STR(verdict(plan, dump(rec)), "ok", "plan: a built one passes");
	TAP_IS_STR(dump(mlde_plan_record("i", "t", jv_object(), jv_array(), true, 0.5)),
		   "{\"id\":\"i\",\"type\":\"t\",\"query\":{},\"examples\":[],\"similarity\":0.5}",
		   "plan: similarity last when given");
	TAP_IS_STR(verdict(plan, "{\"type\":\"t\",\"query\":{\"image\":\"a\"}}"), REJ("id", "missing"),
		   "plan: id missing");
	TAP_IS_STR(verdict(plan, "{\"id\":\"i\",\"type\":2,\"query\":{\"image\":\"a\"}}"),
		   REJ("type", "expected string, got number"), "plan: type mistyped");
	TAP_IS_STR(verdict(plan, "{\"id\":\"i\",\"type\":\"t\"}"), REJ("query", "missing"),
		   "plan: query missing");
	TAP_IS_STR(verdict(plan, "{\"id\":\"i\",\"type\":\"t\",\"query\":[]}"),
		   REJ("query", "expected object, got array"), "plan: query mistyped");
	TAP_IS_STR(verdict(plan, "{\"id\":\"i\",\"type\":\"t\",\"query\":{}}"),
		   REJ("query.image", "missing"), "plan: the query's image missing");
	TAP_IS_STR(verdict(plan, "{\"id\":\"i\",\"type\":\"t\",\"query\":{\"image\":\"a\",\"z\":1},\"y\":2}"),
		   "ok", "plan: unknown fields pass");
}

static void test_reject(void)
{
	jv rec = mlde_reject_record("p1", "skip", "the question is Skip", jv_string("Skip."), "rs");

	TAP_IS_STR(dump(jv_copy(rec)), "{\"plan\":\"p1\",\"reason\":\"skip\",\"detail\":"
		   "\"the question is Skip\",\"raw\":\"Skip.\",\"request_sha256\":\"rs\"}",
		   "reject: built in order");
	TAP_IS_STR(verdict(reject, dump(rec)), "ok", "reject: a built one passes");
	TAP_IS_STR(verdict(reject, "{\"plan\":\"p\",\"reason\":\"r\",\"raw\":null,\"x\":1}"), "ok",
		   "reject: a null raw and an unknown field pass");
	TAP_IS_STR(verdict(reject, "{\"reason\":\"r\",\"raw\":null}"), REJ("plan", "missing"),
		   "reject: plan missing");
	TAP_IS_STR(verdict(reject, "{\"plan\":\"p\",\"reason\":5,\"raw\":null}"),
		   REJ("reason", "expected string, got number"), "reject: reason mistyped");
	TAP_IS_STR(verdict(reject, "{\"plan\":\"p\",\"reason\":\"r\"}"), REJ("raw", "missing"),
		   "reject: raw missing");
	TAP_IS_STR(verdict(reject, "{\"plan\":\"p\",\"reason\":\"r\",\"raw\":[]}"),
		   REJ("raw", "expected string or null, got array"), "reject: raw mistyped");
}

/* A string holding a NUL cuts short as a C string: every check refuses it,
 * naming the field, whatever record it is in. */
static void test_nul(void)
{
	TAP_IS_STR(verdict(item_answer, "{" ITEM ",\"image\":\"a\\u0000b.png\"}"),
		   REJ("image", "NUL (\\u0000) in a string"), "nul: in an item's image");
	TAP_IS_INT(last_item.fault.what, MLDE_FAULT_VALUE, "nul: the fault says a bad value");
	TAP_IS_STR(verdict(item_answer, "{" ITEM ",\"id\":\"a\\u0000b\"}"),
		   REJ("id", "NUL (\\u0000) in a string"), "nul: in an item's id");
	TAP_IS_STR(verdict(item_answer, "{" ITEM ",\"rationale\":\"\\u0000\"}"),
		   REJ("rationale", "NUL (\\u0000) in a string"), "nul: in a rationale");
	TAP_IS_STR(verdict(item_answer, "{" ITEM ",\"question\":\"Q\\u0000?\"}"),
		   REJ("question", "NUL (\\u0000) in a string"), "nul: in a question");
	TAP_IS_STR(verdict(item_answer, "{" ITEM ",\"options\":[\"x\",\"y\\u0000z\"]}"),
		   "1 f:1: field 'options': option 1: NUL (\\u0000) in a string",
		   "nul: in an option");
	TAP_IS_STR(verdict(item_answer, "{" ITEM ",\"type\":\"t\\u0000u\"}"),
		   REJ("type", "NUL (\\u0000) in a string"), "nul: in a type");
	TAP_IS_STR(verdict(plan, "{\"id\":\"a\\u0000b\",\"type\":\"t\",\"query\":{\"image\":\"q\"}}"),
		   REJ("id", "NUL (\\u0000) in a string"), "nul: in a plan's id");
	TAP_IS_STR(verdict(plan, "{\"id\":\"a\",\"type\":\"t\",\"query\":{\"image\":\"q\\u0000\"}}"),
		   REJ("query.image", "NUL (\\u0000) in a string"), "nul: in a plan's query image");
	TAP_IS_STR(verdict(eval_type, "{\"type\":\"t\\u0000\",\"image\":\"a\",\"correct\":true}"),
		   REJ("type", "NUL (\\u0000) in a string"), "nul: in an eval record's key");
	TAP_IS_STR(verdict(weakness, "{\"type\":\"\\u0000\",\"weight\":1}"),
		   REJ("type", "NUL (\\u0000) in a string"), "nul: in a weakness record");
	TAP_IS_STR(verdict(pool, "{\"image\":\"\\u0000\"}"),
		   REJ("image", "NUL (\\u0000) in a string"), "nul: in a pool record");
	TAP_IS_STR(verdict(reject, "{\"plan\":\"p\\u0000\",\"reason\":\"r\",\"raw\":null}"),
		   REJ("plan", "NUL (\\u0000) in a string"), "nul: in a reject record");
	TAP_IS_STR(verdict(item_answer, "{" ITEM ",\"mine\":\"\\u0000\"}"), "ok",
		   "nul: an unknown field is not the checker's business");
}

int main(void)
{
	TAP_IS_INT(MLDE_OPTIONS_MIN, 2, "the option limits: at least 2");
	TAP_IS_INT(MLDE_OPTIONS_MAX, 8, "the option limits: at most 8");
	test_item();
	test_generated();
	test_pool();
	test_eval();
	test_weakness();
	test_plan();
	test_reject();
	test_nul();
	return TAP_DONE();
}
