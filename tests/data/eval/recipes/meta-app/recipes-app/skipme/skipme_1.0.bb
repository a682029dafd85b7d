SUMMARY = "Skipped by its anonymous function"
python () {
    raise bb.parse.SkipRecipe("skipme needs a feature this fixture lacks")
}
