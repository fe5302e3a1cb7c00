/* endpoint.h - the OpenAI-compatible endpoint of a program that sends
 * requests (mlde-gen; mlde-eval's HTTP backend next): the URL from a base
 * URL, and the key from a file or OPENAI_API_KEY, which is then removed
 * from the environment so no template can read it. */
#ifndef MLDE_ENDPOINT_H
#define MLDE_ENDPOINT_H

#include "cli/cli.h"

typedef struct mlde_endpoint {
	char *url;   /* base URL (trailing slashes dropped) + path */
	char *auth;  /* "Authorization: Bearer KEY", or NULL without a key */
} mlde_endpoint;

/* The key from the first line of key_file (when not NULL) or from
 * OPENAI_API_KEY, trimmed of blanks; NULL when there is none.  The
 * variable is removed from the environment either way.  Exits on a file
 * that cannot be read (MLDE_EXIT_IO) and on a key holding a control
 * character (a usage error).  Malloc'd: wipe it before freeing. */
char *mlde_cli_api_key(const mlde_cli *cli, const char *key_file);
/* Fill ep for base_url + path and the key (see mlde_cli_api_key). */
void mlde_cli_endpoint(mlde_endpoint *ep, const mlde_cli *cli, const char *base_url,
		       const char *path, const char *key_file);
/* Free ep, wiping the key from memory. */
void mlde_endpoint_free(mlde_endpoint *ep);

#endif
