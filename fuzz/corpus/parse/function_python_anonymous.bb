python () {
    d.setVar("A", "1")
}
python() {
    pass
}
python __anonymous () {
    pass
}
