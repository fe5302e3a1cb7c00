/* pacing.h - the summary's word on what limited a run that sent requests:
 * --rpm, --tpm, the server's x-ratelimit-* headers, 429s, the concurrency
 * (gen/ratelimit.h keeps the record, this prints it). */
#ifndef MLDE_CLI_PACING_H
#define MLDE_CLI_PACING_H

#include "gen/window.h"

/* "PREFIXlimited by: ..." (mlde_ratelimit_describe) as a note at verbosity
 * 0, when w sent anything; prefix names the window in a program with more
 * than one ("judge: "), or is NULL. */
void mlde_cli_note_pacing(const char *prefix, const mlde_window *w);

#endif
