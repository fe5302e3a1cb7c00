/* test-import.c - the importers' library (import/import.h) where the
 * command line cannot reach easily: image signatures, the image store
 * writing once, one JSON value a file, the SEED-Bench type table, and the
 * COCO box arithmetic at the image's edges. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base64.h"
#include "import/import.h"
#include "tap.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	fputs(text, f);
	fclose(f);
}

static void test_signatures(void)
{
	static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0 };
	static const unsigned char jpg[] = { 0xff, 0xd8, 0xff, 0xe0 };

	TAP_IS_STR(mlde_import_image_ext(png, sizeof png), "png", "PNG");
	TAP_IS_STR(mlde_import_image_ext(jpg, sizeof jpg), "jpg", "JPEG");
	TAP_IS_STR(mlde_import_image_ext("RIFF\0\0\0\0WEBPVP8 ", 16), "webp", "WebP");
	TAP_IS_STR(mlde_import_image_ext("GIF87a..", 8), "gif", "GIF87a");
	TAP_OK(mlde_import_image_ext("RIFF\0\0\0\0WAVE", 12) == NULL, "a RIFF that is no WebP");
	TAP_OK(mlde_import_image_ext(png, 7) == NULL, "a PNG signature cut short");
	TAP_OK(mlde_import_image_ext("", 0) == NULL, "nothing");
}

static void test_store(void)
{
	static const unsigned char gif[16] = "GIF89a-an-image";
	mlde_image_store s = { .dir = "imgs" };
	char b64[64], *name = NULL, *again = NULL;
	mlde_error err;
	struct stat st;

	mkdir("imgs", 0777);
	mlde_base64_encode(gif, sizeof gif, b64);
	TAP_IS_INT(mlde_image_store_b64(&s, b64, strlen(b64), "here", &name, &err), 0, "stored");
	TAP_OK(name && strlen(name) == 64 + 4 && strcmp(name + 64, ".gif") == 0,
	       "named SHA256.gif: %s", name ? name : "(null)");
	TAP_IS_INT(mlde_image_store_b64(&s, b64, strlen(b64), "here", &again, &err), 0,
		   "stored again");
	TAP_IS_STR(again, name, "under the same name");
	free(again);
	TAP_IS_INT(s.written * 10 + s.reused, 11, "written once, then found there");
	{
		char path[128];

		snprintf(path, sizeof path, "imgs/%s", name);
		TAP_OK(stat(path, &st) == 0 && st.st_size == (off_t)sizeof gif, "the file holds the bytes");
		snprintf(path, sizeof path, "imgs/%s.tmp", name);
		TAP_OK(stat(path, &st) != 0, "and no .tmp is left");
	}
	TAP_IS_INT(mlde_image_store_b64(&s, "QUJD", 4, "row 9", &again, &err), -1, "not an image");
	TAP_IS_STR(err.msg, "row 9: field 'image': not a PNG, JPEG, WebP or GIF image (3 bytes)",
		   "named, with its size");
	TAP_OK(again == NULL, "and no name");
	s.dir = "no/such/dir";
	TAP_IS_INT(mlde_image_store_b64(&s, b64, strlen(b64), "here", &again, &err), -1,
		   "a directory that is not there");
	TAP_IS_INT(err.status, MLDE_EXIT_IO, "is an I/O error");
	free(name);
}

static void test_json(void)
{
	mlde_error err;
	jv v;

	write_file("two.json", "{\"a\": 1}\n[2]\n");
	TAP_IS_INT(mlde_import_load_json("two.json", &v, &err), -1, "two values: refused");
	TAP_IS_STR(err.msg, "two.json: more than one JSON value", "said so");
	write_file("none.json", "  \n");
	TAP_IS_INT(mlde_import_load_json("none.json", &v, &err), -1, "no value: refused");
	TAP_IS_STR(err.msg, "none.json: no JSON value", "said so");
	write_file("bad.json", "{\"a\":\n 1,,}");
	TAP_IS_INT(mlde_import_load_json("bad.json", &v, &err), -1, "bad JSON: refused");
	TAP_OK(strncmp(err.msg, "bad.json: ", 10) == 0 && strstr(err.msg, "line 2"),
	       "named, with jq's line: %s", err.msg);
	TAP_IS_INT(err.status, MLDE_EXIT_DATA, "as bad data");
	write_file("one.json", "[1, 2, 3]");
	TAP_IS_INT(mlde_import_load_json("one.json", &v, &err), 0, "one value");
	TAP_IS_INT(jv_array_length(v), 3, "whole");
}

static void test_seed_types(void)
{
	mlde_error err;
	jv q;

	TAP_IS_STR(mlde_seed_type_names[0], "scene_understanding", "id 1");
	TAP_IS_STR(mlde_seed_type_names[8], "text_understanding", "id 9");
	TAP_IS_INT(mlde_seed_questions(jv_parse("{\"questions\": [], \"question_type\": "
						"{\"Instance Location\": 4, \"Action Recognition\": 10}}"),
				       "f", &q, &err), 0, "a map that agrees (and a video id) is fine");
	jv_free(q);
	TAP_IS_INT(mlde_seed_questions(jv_parse("{\"questions\": {}}"), "f", &q, &err), -1,
		   "questions not a list");
	TAP_IS_STR(err.msg, "f: field 'questions': expected an array, got object", "said so");
}

/* One image 200x100 with one box past its right and bottom edges. */
static void test_coco_edges(void)
{
	jv cap = jv_parse("{\"images\": [{\"id\": 7, \"file_name\": \"a.jpg\", \"width\": 200, "
			  "\"height\": 100}], \"annotations\": []}");
	jv ins = jv_parse("{\"images\": [{\"id\": 7, \"file_name\": \"a.jpg\", \"width\": 200, "
			  "\"height\": 100}], \"categories\": [{\"id\": 3, \"name\": \"car\"}], "
			  "\"annotations\": [{\"id\": 1, \"image_id\": 7, \"category_id\": 3, "
			  "\"bbox\": [150.5, 50, 60, 70]}]}");
	mlde_coco_opts o = { .captions_path = "c", .instances_path = "i" };
	mlde_coco_counts n;
	mlde_error err;
	jv pool;

	TAP_IS_INT(mlde_coco_pool(cap, ins, &o, &pool, &n, &err), 0, "coco: converted");
	{
		jv d = jv_dump_string(pool, 0);

		TAP_IS_STR(jv_string_value(d),
			   "[{\"image\":\"a.jpg\",\"captions\":[],\"objects\":[{\"name\":\"car\","
			   "\"bbox\":[0.7525,0.5,1,1]}]}]",
			   "[x/W, y/H, (x+w)/W, (y+h)/H], rounded, kept inside the image");
		jv_free(d);
	}
	TAP_IS_INT(n.images * 100 + n.objects * 10 + n.captions, 110, "counted");
}

int main(void)
{
	test_signatures();
	test_store();
	test_json();
	test_seed_types();
	test_coco_edges();
	return TAP_DONE();
}
