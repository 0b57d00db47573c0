"""Markup a user may type as a name: every view must show it as text, never run it.

A named module (not ``conftest``) so that test modules import it by one name however the
test folders are collected together.
"""

XSS = "<script>alert(1)</script>"
XSS_FILE = "<img src=x onerror=alert(3)>"  # a file name cannot hold "/"
