require libfoo.inc
