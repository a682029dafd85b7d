require libgreet.inc
