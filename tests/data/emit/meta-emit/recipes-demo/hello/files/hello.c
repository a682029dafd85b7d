/* shadowed by hello-1.0/hello.c */
