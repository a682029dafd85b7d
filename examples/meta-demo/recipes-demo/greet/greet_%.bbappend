# A bbappend for every version of greet: whom the program greets.
GREET_WHO = "Bazel"
