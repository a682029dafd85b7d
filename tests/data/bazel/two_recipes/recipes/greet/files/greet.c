#include <hello.h>
int main(void) { return puts(HELLO); }
