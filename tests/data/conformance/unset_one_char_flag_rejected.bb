unset A[f]
