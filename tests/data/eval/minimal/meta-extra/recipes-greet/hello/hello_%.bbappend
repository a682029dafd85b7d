GREETING:append = " (appended by meta-extra)"
HELLO_APPENDED = "yes"
