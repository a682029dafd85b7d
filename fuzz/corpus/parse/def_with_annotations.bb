def f(d) -> str:
    return ""
