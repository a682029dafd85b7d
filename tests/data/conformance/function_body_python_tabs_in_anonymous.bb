python () {
	pass
}
