unset A B
