A = "${FO\
O} ${@d.getVar(\
  'X')}"
