#!/bin/sh
# stamper: a native build tool; prints a C comment naming what it stamped.
echo "/* stamped by stamper VERSION: $1 */"
