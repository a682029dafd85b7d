BASE = "1"
