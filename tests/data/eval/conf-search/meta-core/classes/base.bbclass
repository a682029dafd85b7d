BASE_SEEN = "base.bbclass"
