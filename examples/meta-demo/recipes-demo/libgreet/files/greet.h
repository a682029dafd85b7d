/* libgreet: build a greeting. */
/* SPDX-License-Identifier: MIT */
#ifndef GREET_H
#define GREET_H
const char *greet(const char *who);
#endif
