/* mkgreeting: turns the first line of a text file into a C header defining GREETING. */
/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	char line[256];
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: mkgreeting FILE\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!f || !fgets(line, sizeof line, f)) {
		perror(argv[1]);
		return 1;
	}
	line[strcspn(line, "\n")] = '\0';
	printf("/* Made by mkgreeting from %s. */\n#define GREETING \"%s\"\n", argv[1], line);
	return 0;
}
