/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <greet.h>

int main(void)
{
	puts(greet(WHO));
	return 0;
}
