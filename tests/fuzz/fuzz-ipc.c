/* SPDX-License-Identifier: MIT */
/* libFuzzer target: both parsers of the socket protocol
 * (common/ipc-proto.c).  They take one line ending with its only LF, as
 * the readers hand it over; the input is that line without its LF. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mb_ipc_request req;
	struct mb_ipc_response resp;
	const char *why;
	char *line;

	if (memchr(data, '\n', size) != NULL)
		return 0;
	line = malloc(size + 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\n';
	mb_ipc_parse_request(line, size + 1, &req, &why);
	memcpy(line, data, size);
	line[size] = '\n';
	mb_ipc_parse_response(line, size + 1, &resp, &why);
	free(line);
	return 0;
}
