#define SHADOWED 1
