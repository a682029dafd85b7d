BOTH = "classes-global/both.bbclass"
