a/b~c.d+e-f = "1"
${X}_y = "2"
A:append:override = " 3"
B_1.2-x+y = "4"
