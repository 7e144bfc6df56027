/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the state-file reader (tokenhelper/state.c
 * mb_state_decode).  A state that decodes must encode, and its encoding
 * must decode again to the same text. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mb_state st, st2;
	char *error = NULL, *text, *text2;

	if (mb_state_decode((const char *)data, size, &st, &error) != 0) {
		free(error);
		return 0;
	}
	text = mb_state_encode(&st);
	if (text == NULL)
		abort();
	if (mb_state_decode(text, strlen(text), &st2, &error) != 0)
		abort();
	text2 = mb_state_encode(&st2);
	if (text2 == NULL || strcmp(text, text2) != 0)
		abort();
	free(text2);
	mb_state_clear(&st2);
	free(text);
	mb_state_clear(&st);
	return 0;
}
