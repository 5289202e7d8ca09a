"""Customer risk: risk profiles, risk bands and security events.

- ``profiles``: risk bands, the risk overview, one customer's profile, resolving a security event.
"""
