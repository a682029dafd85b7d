A = 'x "y" z'
B = 'it'
