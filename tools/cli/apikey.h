/* apikey.h - the API key of an OpenAI-compatible endpoint, as every mlde
 * program that sends requests reads it: from a file or OPENAI_API_KEY,
 * which is then removed from the environment. */
#ifndef MLDE_APIKEY_H
#define MLDE_APIKEY_H

#include "cli/cli.h"

/* The key from the first line of key_file (when not NULL) or from
 * OPENAI_API_KEY, trimmed of blanks; NULL when there is none.  The
 * variable is removed from the environment either way, so no template can
 * read it.  Exits on a file that cannot be read (MLDE_EXIT_IO) and on a key
 * holding a control character (a usage error).  Malloc'd: wipe it with
 * explicit_bzero before freeing. */
char *mlde_cli_api_key(const mlde_cli *cli, const char *key_file);

#endif
