/* prompt.c - the types file is one JSON object; the prompt's sha256 covers
 * both files, so a changed explanation of a type is a changed prompt. */
#include "gen/prompt.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "io/jsonl.h"

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	mlde_buf b = { 0 };
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		mlde_buf_add(&b, chunk, n);
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		mlde_buf_free(&b);
		errno = e;
		return NULL;
	}
	fclose(f);
	return mlde_buf_take(&b, len);
}

char *mlde_prompt_default_path(void)
{
	const char *env = getenv("MLDE_PROMPTS");
	char exe[4096], try[4200];
	ssize_t n;

	if (env && *env) {
		snprintf(try, sizeof try, "%s/default.txt", env);
		return mlde_xstrdup(try);
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		for (int up = 0; up < 4; up++) {
			char *slash = strrchr(exe, '/');

			if (!slash)
				break;
			*slash = '\0';
			snprintf(try, sizeof try, "%s/prompts/default.txt", exe);
			if (access(try, R_OK) == 0)
				return mlde_xstrdup(try);
			snprintf(try, sizeof try, "%s/share/mlde/prompts/default.txt", exe);
			if (access(try, R_OK) == 0)
				return mlde_xstrdup(try);
		}
	}
	return mlde_xstrdup("prompts/default.txt");
}

/* types.json beside the template, when there is one */
static char *types_beside(const char *path)
{
	char *copy = mlde_xstrdup(path), *types;
	mlde_buf b = { 0 };

	mlde_buf_printf(&b, "%s/types.json", dirname(copy));
	free(copy);
	types = mlde_buf_take(&b, NULL);
	if (access(types, F_OK) != 0) {
		free(types);
		return NULL;
	}
	return types;
}

/* The object of the types file; its text stays in *text for the sha256. */
static int read_types(const char *path, char **text, size_t *len, jv *types, mlde_error *err)
{
	*text = read_file(path, len);
	if (!*text) {
		mlde_error_set(err, MLDE_EXIT_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	*types = jv_parse_sized(*text, (int)*len);
	if (!jv_is_valid(*types)) {
		char msg[300];

		mlde_jv_parse_message(*types, msg, sizeof msg);
		*types = jv_invalid();
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: invalid JSON: %s", path, msg);
		return -1;
	}
	if (jv_get_kind(*types) != JV_KIND_OBJECT) {
		mlde_error_set(err, MLDE_EXIT_DATA, "%s: expected a JSON object of types, got %s",
			       path, mlde_kind_name(jv_get_kind(*types)));
		return -1;
	}
	return 0;
}

static void identify(mlde_prompt *p, const char *path, const char *types_text, size_t types_len)
{
	size_t tlen;
	const char *text = mlde_template_text(p->tpl, &tlen);
	char *copy = mlde_xstrdup(path), *dot;
	unsigned char d[MLDE_SHA256_LEN];
	mlde_sha256 c;

	mlde_sha256_init(&c);
	mlde_sha256_update(&c, text, tlen);
	if (types_text)
		mlde_sha256_update(&c, types_text, types_len);
	mlde_sha256_final(&c, d);
	mlde_sha256_to_hex(d, p->sha256);
	snprintf(p->name, sizeof p->name, "%s", basename(copy));
	if ((dot = strrchr(p->name, '.')) && dot != p->name)
		*dot = '\0';
	free(copy);
}

int mlde_prompt_load(mlde_prompt *p, const char *path, const char *types_path, mlde_error *err)
{
	char *types_text = NULL;
	size_t types_len = 0;
	jv types = jv_object();

	memset(p, 0, sizeof *p);
	p->types = p->unexplained = jv_invalid();
	p->types_path = types_path ? mlde_xstrdup(types_path) : types_beside(path);
	if (p->types_path) {
		jv_free(types);
		if (read_types(p->types_path, &types_text, &types_len, &types, err) < 0) {
			jv_free(types);
			free(types_text);
			return -1;
		}
	}
	p->types = jv_copy(types);
	p->unexplained = jv_object();
	p->tpl = mlde_template_load(path, jv_object_set(jv_object(), jv_string("types"), types),
				    err);
	if (p->tpl)
		identify(p, path, types_text, types_len);
	free(types_text);
	return p->tpl ? 0 : -1;
}

const char *mlde_prompt_unexplained(mlde_prompt *p, const char *type)
{
	jv entry, explain;
	bool explained;

	/* not loaded, or no types file: a template without one asks for none */
	if (!p->types_path || jv_get_kind(p->types) != JV_KIND_OBJECT)
		return NULL;
	entry = jv_object_get(jv_copy(p->types), jv_string(type));
	explain = jv_get_kind(entry) == JV_KIND_OBJECT
		  ? jv_object_get(jv_copy(entry), jv_string("explain")) : jv_invalid();
	explained = jv_get_kind(explain) == JV_KIND_STRING && jv_string_value(explain)[0];
	jv_free(explain);
	jv_free(entry);
	if (explained || jv_object_has(jv_copy(p->unexplained), jv_string(type)))
		return NULL;
	p->unexplained = jv_object_set(p->unexplained, jv_string(type), jv_true());
	return type;
}

void mlde_prompt_free(mlde_prompt *p)
{
	jv_free(p->types);
	jv_free(p->unexplained);
	mlde_template_free(p->tpl);
	free(p->types_path);
	memset(p, 0, sizeof *p);
}
