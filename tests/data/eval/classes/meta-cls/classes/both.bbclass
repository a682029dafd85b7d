BOTH = "classes/both.bbclass"
