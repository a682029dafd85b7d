require libgreet.inc

# 2.0 is the newest; local.conf still prefers 1.0 for the target (PREFERRED_VERSION).
GREET_API = "2"
