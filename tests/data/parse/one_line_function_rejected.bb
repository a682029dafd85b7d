foo() { echo hi }
bar() {}
