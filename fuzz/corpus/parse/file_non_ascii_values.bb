A = "héllo ✓ 日本"
# é comment
B = "😀"
