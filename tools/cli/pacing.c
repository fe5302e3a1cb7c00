/* pacing.c - the "limited by:" line of the summaries. */
#include "cli/pacing.h"

#include "cli/diag.h"

void mlde_cli_note_pacing(const char *prefix, const mlde_window *w)
{
	mlde_window_stats st;
	char text[600];

	if (!w)
		return;
	mlde_window_stats_get(w, &st);
	if (st.http.attempts == 0)
		return;
	mlde_ratelimit_describe(&st.http.pacing, text, sizeof text);
	mlde_note(0, "%slimited by: %s", prefix ? prefix : "", text);
}
