SUMMARY = "Provides virtual/skippy, but is skipped"
PROVIDES = "virtual/skippy"
python () {
    raise bb.parse.SkipRecipe("needs a feature this fixture lacks")
}
