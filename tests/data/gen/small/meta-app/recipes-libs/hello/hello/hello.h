#define HELLO "hello, world"
