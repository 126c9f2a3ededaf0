# The screens of the transaction flows, one module per flow (sale.py: PIN, authorising, result).
# The idle screen, the menus and the amount and card screens live in firmware/screens.py.
