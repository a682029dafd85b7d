#!/bin/sh
# Prints its argument with a stamp.
echo "/* stamped by stamper 1.0: $1 */"
cat "$1"
