addpylib ${LAYERDIR}/lib oe
