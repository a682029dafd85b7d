inherit = "x"
