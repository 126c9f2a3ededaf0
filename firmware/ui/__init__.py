# The screens, one module per flow. widgets.py: the Screen base and the shared screens (digit entry,
# message); idle.py and menu.py (the main menu): loaded at boot. The rest load through
# Terminal.flow() when first used: amount.py (amount, card) and sale.py (PIN, authorising, result)
# stay once loaded; service.py (the service menu, set time, about, faults, counter recovery),
# keyqr.py (about's public key as a QR code), keyload.py, touchcal.py, wifi.py, echo.py, query.py,
# reprint.py, slip.py (the slip both show), void.py and settle.py are dropped back at idle
# (terminal.DROPPED_AT_IDLE).
