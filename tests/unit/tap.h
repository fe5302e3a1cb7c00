/* tap.h - a few macros that make a C unit test speak TAP for prove. */
#ifndef MLDE_TAP_H
#define MLDE_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count, tap_failures;

#define TAP_OK(cond, ...)                                                 \
	do {                                                              \
		int tap_pass_ = !!(cond);                                 \
		printf("%sok %d - ", tap_pass_ ? "" : "not ", ++tap_count); \
		printf(__VA_ARGS__);                                      \
		putchar('\n');                                            \
		if (!tap_pass_) {                                         \
			tap_failures++;                                   \
			printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		}                                                         \
		fflush(stdout);                                           \
	} while (0)

#define TAP_IS_INT(got, want, ...)                                        \
	do {                                                              \
		long long tap_g_ = (long long)(got), tap_w_ = (long long)(want); \
		TAP_OK(tap_g_ == tap_w_, __VA_ARGS__);                    \
		if (tap_g_ != tap_w_)                                     \
			printf("#   got %lld, want %lld\n", tap_g_, tap_w_); \
	} while (0)

#define TAP_IS_STR(got, want, ...)                                        \
	do {                                                              \
		const char *tap_g_ = (got), *tap_w_ = (want);             \
		int tap_same_ = tap_g_ && tap_w_ && strcmp(tap_g_, tap_w_) == 0; \
		TAP_OK(tap_same_, __VA_ARGS__);                           \
		if (!tap_same_)                                           \
			printf("#   got '%s'\n#  want '%s'\n", tap_g_ ? tap_g_ : "(null)", \
			       tap_w_ ? tap_w_ : "(null)");               \
	} while (0)

/* Print the plan and return the exit status for main. */
#define TAP_DONE() (printf("1..%d\n", tap_count), tap_failures != 0)

#endif
