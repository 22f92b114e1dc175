/*
 * fuzz.h: what every fuzz target and replay.c share.
 *
 * A target is one LLVMFuzzerTestOneInput() that asserts properties of the
 * result with FUZZ_CHECK(), which aborts (a crash to libFuzzer, a failed
 * test to replay.c). It stays on whatever NDEBUG says.
 */
#ifndef GH_FUZZ_H
#define GH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(e)                                                   \
	do {                                                            \
		if (!(e)) {                                             \
			fprintf(stderr, "%s:%d: property failed: %s\n", \
			    __FILE__, __LINE__, #e);                    \
			abort();                                        \
		}                                                       \
	} while (0)

#endif
