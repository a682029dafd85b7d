VAR = " \
    SOMEVAL \
#   some comment \
    SOMEOTHERVAL \
"
