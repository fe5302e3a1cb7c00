/* test-chat.c - the request bodies of mlde-eval's http backend, byte for
 * byte (the example body of mlde-eval(1) among them), CircularEval's
 * rotations, and reading an embeddings reply. */
#include <stdlib.h>
#include <string.h>

#include "eval/chat.h"
#include "tap.h"

static const char *const opts3[] = { "red", "blue", "green" };

static void texts(void)
{
	char *t = mlde_chat_question_text("Look closely.", "What colour is the ball?", opts3, 3);

	TAP_IS_STR(t, "Look closely.\nWhat colour is the ball?\nA. red\nB. blue\nC. green\n"
		   "Answer with the option's letter from the given choices directly.",
		   "question text: hint, question, lettered options, the instruction");
	free(t);
	t = mlde_chat_question_text("", "Q?", opts3, 2);
	TAP_IS_STR(t, "Q?\nA. red\nB. blue\nAnswer with the option's letter from the given "
		   "choices directly.", "an empty hint: no line for it");
	free(t);
	t = mlde_chat_question_text(NULL, "Q?", opts3, 2);
	TAP_OK(strncmp(t, "Q?\nA. red", 9) == 0, "no hint: the question first");
	free(t);
	t = mlde_chat_judge_text("Q?", opts3, 3, "I think it is blue-ish");
	TAP_OK(strstr(t, "Question: Q?\nOptions:\nA. red\nB. blue\nC. green\nReply: I think it is "
		      "blue-ish\n") != NULL, "judge text: question, options, the reply");
	TAP_OK(strstr(t, "answer Z if") != NULL, "judge text: Z for none");
	free(t);
}

static void rotations(void)
{
	const char *shown[3];

	mlde_chat_rotate(opts3, 3, 0, shown);
	TAP_OK(shown[0] == opts3[0] && shown[2] == opts3[2], "rotation 0: as given");
	mlde_chat_rotate(opts3, 3, 1, shown);
	TAP_OK(shown[0] == opts3[1] && shown[1] == opts3[2] && shown[2] == opts3[0],
	       "rotation 1: option i at position i - 1 mod n");
	mlde_chat_rotate(opts3, 3, 2, shown);
	TAP_OK(shown[0] == opts3[2] && shown[1] == opts3[0], "rotation 2");
}

static void bodies(void)
{
	mlde_chat_opts o = { .model = "llava-hf/llava-1.5-7b-hf", .temperature = 0,
			     .max_tokens = 16, .extra = jv_invalid() };
	char *b;
	size_t len;

	b = mlde_chat_question_body(&o, "data:image/png;base64,iVBORw0KGgo=", "Q?\nA. x", &len);
	TAP_IS_STR(b, "{\"max_tokens\":16,\"messages\":[{\"content\":[{\"image_url\":{\"url\":"
		   "\"data:image/png;base64,iVBORw0KGgo=\"},\"type\":\"image_url\"},{\"text\":"
		   "\"Q?\\nA. x\",\"type\":\"text\"}],\"role\":\"user\"}],\"model\":"
		   "\"llava-hf/llava-1.5-7b-hf\",\"temperature\":0}",
		   "question body: sorted keys, the image before the text");
	TAP_IS_INT(len, strlen(b), "its length");
	free(b);
	o.system = "Be brief.";
	o.top_logprobs = 5;
	o.extra = jv_object_set(jv_object(), jv_string("guided_choice"),
				jv_array_append(jv_array_append(jv_array(), jv_string("A")),
						jv_string("B")));
	o.extra = jv_object_set(o.extra, jv_string("temperature"), jv_number(0.5));
	b = mlde_chat_question_body(&o, "data:x", "t", &len);
	TAP_IS_STR(b, "{\"guided_choice\":[\"A\",\"B\"],\"logprobs\":true,\"max_tokens\":16,"
		   "\"messages\":[{\"content\":\"Be brief.\",\"role\":\"system\"},{\"content\":"
		   "[{\"image_url\":{\"url\":\"data:x\"},\"type\":\"image_url\"},{\"text\":\"t\","
		   "\"type\":\"text\"}],\"role\":\"user\"}],\"model\":\"llava-hf/llava-1.5-7b-hf\","
		   "\"temperature\":0.5,\"top_logprobs\":5}",
		   "system message first, logprobs, extra fields over the others");
	free(b);
	jv_free(o.extra);
	o.extra = jv_invalid();
	o.system = NULL;
	o.top_logprobs = 0;
	b = mlde_chat_text_body(&o, "which?", &len);
	TAP_IS_STR(b, "{\"max_tokens\":16,\"messages\":[{\"content\":\"which?\",\"role\":\"user\"}],"
		   "\"model\":\"llava-hf/llava-1.5-7b-hf\",\"temperature\":0}", "text body");
	free(b);
	b = mlde_chat_embed_body("vlm2vec", "data:x", NULL, &len);
	TAP_IS_STR(b, "{\"encoding_format\":\"float\",\"messages\":[{\"content\":[{\"image_url\":"
		   "{\"url\":\"data:x\"},\"type\":\"image_url\"},{\"text\":\"Represent the given "
		   "image.\",\"type\":\"text\"}],\"role\":\"user\"}],\"model\":\"vlm2vec\"}",
		   "embeddings body, vLLM's chat-style");
	free(b);
	b = mlde_chat_embed_body("m", "data:x", "", &len);
	TAP_OK(strstr(b, "\"text\"") == NULL, "embeddings body with no text: the image alone");
	free(b);
}

static int check(const char *s)
{
	char why[200];

	return mlde_chat_check_embedding(s, strlen(s), why, sizeof why);
}

static void embeddings(void)
{
	jv body = jv_parse("{\"object\":\"list\",\"data\":[{\"index\":0,\"embedding\":[0.5,-1,2e-3]}]}");
	char why[200];
	jv vec;

	TAP_IS_INT(mlde_chat_embedding(body, &vec, why, sizeof why), 0, "an embeddings reply");
	TAP_IS_INT(jv_array_length(jv_copy(vec)), 3, "its vector");
	jv_free(vec);
	jv_free(body);
	TAP_IS_INT(check("{\"data\":[{\"embedding\":[1,2]}]}"), 0, "check: good");
	TAP_IS_INT(check("{\"data\":[]}"), -1, "check: no data");
	TAP_IS_INT(check("{\"data\":[{\"embedding\":[]}]}"), -1, "check: an empty vector");
	TAP_IS_INT(check("{\"data\":[{\"embedding\":[1,\"x\"]}]}"), -1, "check: not numbers");
	TAP_IS_INT(check("{\"data\":[{\"embedding\":\"AAAA\"}]}"), -1, "check: base64, not asked for");
	TAP_IS_INT(check("{\"choices\":[]}"), -1, "check: a chat completion is not one");
	TAP_IS_INT(check("[1,2"), -1, "check: not JSON");
	TAP_IS_INT(check("[1,2]"), -1, "check: not an object");
}

int main(void)
{
	texts();
	rotations();
	bodies();
	embeddings();
	printf("1..%d\n", tap_count);
	return tap_failures != 0;
}
