# The administrator's changes to the terminal (系统管理): one parameter set from the editor, the
# factory reset. Never runs a transaction, never touches the counters, the journal, audit or keys.
#
# An identity parameter (merchant, terminal, host, MAC algorithm) changes, and the factory reset
# runs, only while identity_lock() finds the batch empty: the one place that decides it is
# Journal.batch_busy (firmware/journal.py).

from firmware import params as P


def identity_lock(term):
    """None when the terminal's identity may change now; else the catalog key of the reason (the
    current batch holds a transaction, a reversal is pending, the journal cannot be read)."""
    if term.journal is None or term.counters is None:
        return "busy_unknown"
    return term.journal.batch_busy(term.counters.batch)


def set_param(term, name, value):
    """Store `value` as the parameter `name` (already typed in its form). None when it is saved;
    else the catalog key of why not: "param_bad" (the row's check refuses it, nothing changes),
    the identity lock's reason, "storage_failed" (nothing changes), or "param_kept" (a terminal
    whose identity was lost: the value is kept in memory and everything is saved once every
    identity parameter is set again). Each change saved goes into the event log (the parameter's
    name, never its value)."""
    if not P.valid(name, value):
        return "param_bad"
    if P.identity(name):
        reason = identity_lock(term)
        if reason is not None:
            return reason
    p = term.params
    old = getattr(p, name)
    setattr(p, name, value)
    try:
        p.save(term.storage)
    except ValueError:  # another identity parameter is still unknown (lost): nothing written yet
        return "param_kept"
    except OSError:
        setattr(p, name, old)
        return "storage_failed"
    if term.fault == "params_identity_lost":
        term.fault = None
    term.log_event("param_change", name)
    term.redraw()
    return None


def kept_on_reset(name):
    """True for a parameter the factory reset leaves as it is: the identity, and the rows set by
    provisioning (shown read only in the editor: the merchant name, the time zone)."""
    return P.identity(name) or P.form(name)[0] == "shown"


def factory_reset(term):
    """The operators cleared and the passwords back to the factory ones, their change forced again
    (firmware.operators.reset), then the parameters back to their defaults except kept_on_reset()
    ones. None when done; else the catalog key of why not (identity_lock(), a password table that
    cannot be trusted: its recovery is a new master key, never this; "storage_failed": what was
    done stays done and the reset may be run again). Logged. Counters, the provisioned marker, the
    journal, audit and the keys are never touched."""
    reason = identity_lock(term)
    if reason is not None:
        return reason
    if term.passwords_damaged:
        return "pwd_damaged"
    p = term.params
    before = {}
    for name in P.names():
        if not kept_on_reset(name):
            before[name] = getattr(p, name)
            setattr(p, name, P.default(name))
    try:
        term.flow("firmware.operators").reset(term)
        p.save(term.storage)
        why = None
    except ValueError:  # an identity parameter is lost: nothing is saved until it is set again
        why = "params_identity_lost"
    except OSError:
        why = "storage_failed"
    if why is not None:
        for name in before:
            setattr(p, name, before[name])
        return why
    term.admin_ok = False  # the administrator's password is the factory one again
    term.log_event("factory_reset")
    term.redraw()
    return None
