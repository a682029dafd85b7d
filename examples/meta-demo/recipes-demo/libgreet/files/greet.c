/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include "greet.h"
#include "greeting.h"

const char *greet(const char *who)
{
	static char buf[256];

	snprintf(buf, sizeof buf, "%s, %s.", GREETING, who);
	return buf;
}
