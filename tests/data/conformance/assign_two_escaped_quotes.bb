A = "a\"b\"c"
