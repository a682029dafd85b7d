HELPER = "classes-recipe/helper.bbclass (not for the configuration)"
