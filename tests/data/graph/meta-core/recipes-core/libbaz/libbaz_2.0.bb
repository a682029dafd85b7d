SUMMARY = "A newer libbaz nobody should get by default"
DEFAULT_PREFERENCE = "-1"
