# A bbappend that changes the greeting for every version of greet.
GREETING_TARGET = "Bazel"
