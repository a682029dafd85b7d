#include <stdio.h>
#include "greet.h"

#ifndef GREETING
#define GREETING "Hello"
#endif

const char *greet(const char *who)
{
	static char buf[256];
	snprintf(buf, sizeof buf, "%s, %s!", GREETING, who);
	return buf;
}
