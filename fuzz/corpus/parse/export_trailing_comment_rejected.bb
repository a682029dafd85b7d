export A # c
