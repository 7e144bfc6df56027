/* libFuzzer target: the state-file reader (tokenhelper/json.c
 * mb_json_state_decode).  A state that decodes must encode, and its
 * encoding must decode again. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mb_state st, st2;
	char *error = NULL, *text;

	if (mb_json_state_decode((const char *)data, size, &st,
				 &error) != 0) {
		free(error);
		return 0;
	}
	text = mb_json_state_encode(&st);
	if (text == NULL)
		abort();
	if (mb_json_state_decode(text, strlen(text), &st2, &error) != 0)
		abort();
	mb_state_clear(&st2);
	free(text);
	mb_state_clear(&st);
	return 0;
}
