python () {
    d.setVar("A", "1")
}
python __anonymous () {
    pass
}
() {
    pass
}
