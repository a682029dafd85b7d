GLOBAL_ONLY = "classes-global/globalonly.bbclass"
inherit helper
