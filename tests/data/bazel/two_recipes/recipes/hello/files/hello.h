#define HELLO "hello"
