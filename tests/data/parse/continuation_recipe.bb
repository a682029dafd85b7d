SRC_URI = "file://a \
           file://b \  
"
B = "b"
