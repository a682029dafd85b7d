unset A
unset A[ab]
unset A[flag@.service]
unset ${X}
