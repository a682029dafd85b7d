export A B
