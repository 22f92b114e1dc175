/*
 * replay.c: runs a fuzz target over its committed corpus, printing TAP.
 *
 * Linked instead of libFuzzer when configure was not given
 * --enable-fuzzing, so `make check` replays every input with the normal
 * compiler (and the sanitizers, when enabled). With arguments, replays
 * those files or directories instead, which is how a crash file found by
 * libFuzzer is reproduced under gdb. A failed property aborts the run:
 * the TAP driver reports the missing results as a failure.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#ifndef FUZZ_CORPUS
#error "FUZZ_CORPUS (the corpus directory) must be defined"
#endif

struct names {
	char **v;
	size_t n, cap;
};

static int
names_add(struct names *ns, const char *path)
{
	char *s;

	if (ns->n == ns->cap) {
		size_t ncap = ns->cap != 0 ? ns->cap * 2 : 64;
		char **nv = realloc(ns->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		ns->v = nv;
		ns->cap = ncap;
	}
	if ((s = strdup(path)) == NULL)
		return -1;
	ns->v[ns->n++] = s;
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds <path>, or every regular file in it when it is a directory. */
static int
collect(struct names *ns, const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char buf[4096];

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return names_add(ns, path);
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", path,
		        de->d_name) >= sizeof(buf))
			continue;
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
		    names_add(ns, buf) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

static int
read_file(const char *path, uint8_t **data, size_t *size)
{
	FILE *f;
	long len;
	uint8_t *p;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return -1;
	}
	/* Exactly <len> bytes, so ASan sees any read past the input. */
	if ((p = malloc(len > 0 ? (size_t)len : 1)) == NULL ||
	    fread(p, 1, (size_t)len, f) != (size_t)len) {
		free(p);
		fclose(f);
		return -1;
	}
	fclose(f);
	*data = p;
	*size = (size_t)len;
	return 0;
}

int
main(int argc, char **argv)
{
	struct names ns = { 0 };
	size_t i;
	int failed = 0, a;

	if (argc > 1) {
		for (a = 1; a < argc; a++) {
			if (collect(&ns, argv[a]) < 0)
				return 1;
		}
	} else if (collect(&ns, FUZZ_CORPUS) < 0) {
		return 1;
	}
	qsort(ns.v, ns.n, sizeof(*ns.v), cmp_names);
	printf("1..%zu\n", ns.n);
	for (i = 0; i < ns.n; i++) {
		const char *base = strrchr(ns.v[i], '/');
		uint8_t *data;
		size_t size;

		base = base != NULL ? base + 1 : ns.v[i];
		if (read_file(ns.v[i], &data, &size) < 0) {
			printf("not ok %zu - %s: cannot read\n", i + 1, base);
			failed = 1;
			continue;
		}
		fflush(stdout);
		LLVMFuzzerTestOneInput(data, size);
		printf("ok %zu - %s (%zu bytes)\n", i + 1, base, size);
		free(data);
	}
	for (i = 0; i < ns.n; i++)
		free(ns.v[i]);
	free(ns.v);
	return failed;
}
