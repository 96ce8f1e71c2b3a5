/* fuzz_die.h - what every harness does when a check fails: say why on stderr
 * and abort, which libFuzzer reports as a crash with the input that caused it. */
#ifndef SCRM_FUZZ_DIE_H
#define SCRM_FUZZ_DIE_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_DIE(...)                                                                              \
	do {                                                                                       \
		fprintf(stderr, "fuzz: " __VA_ARGS__);                                             \
		fputc('\n', stderr);                                                               \
		abort();                                                                           \
	} while (0)

#endif
