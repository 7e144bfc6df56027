/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the configuration parser (tokenhelper/conf.c
 * mb_config_load) on a temporary file holding the input. */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"

static char fz_path[4096];

static void
fz_cleanup(void)
{
	if (fz_path[0] != '\0')
		unlink(fz_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mb_config *cfg = NULL;
	char *error = NULL;
	const char *tmp = getenv("TMPDIR");
	FILE *f;
	int fd;

	if (fz_path[0] == '\0') {
		if (tmp == NULL || tmp[0] == '\0')
			tmp = "/tmp";
		snprintf(fz_path, sizeof(fz_path), "%s/mb-fuzz-config.XXXXXX",
			 tmp);
		fd = mkstemp(fz_path);
		if (fd < 0)
			abort();
		close(fd);
		atexit(fz_cleanup);
	}
	f = fopen(fz_path, "w");
	if (f == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();
	if (mb_config_load(fz_path, &cfg, &error) == 0)
		mb_config_free(&cfg);
	free(error);
	return 0;
}
