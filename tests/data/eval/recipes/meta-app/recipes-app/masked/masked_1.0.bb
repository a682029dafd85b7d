require this-file-does-not-exist.inc
