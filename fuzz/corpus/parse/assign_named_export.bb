export = "z"
