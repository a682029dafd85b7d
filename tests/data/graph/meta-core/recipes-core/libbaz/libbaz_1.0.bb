SUMMARY = "The older, default libbaz"
