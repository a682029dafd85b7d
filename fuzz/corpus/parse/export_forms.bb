export A
export ${X}
export a/b~c.d+e-f
