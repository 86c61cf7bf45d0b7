"""Facts of the SPARQL 1.1 grammar that several tests enumerate."""

# The characters a prefixed name's local part may escape with a backslash (PN_LOCAL_ESC, production 173).
PN_LOCAL_ESC = "_~.-!$&'()*+,;=/?#@%"
