"""Risk page widgets:

- ``overview``: the flash after an action, the risk-band and open-event figures.
- ``customers``: the Customers tab: search and band filters, the paged list, one customer's profile and returns.
- ``events``: the Security events tab: open events by severity, one event, marking it resolved.
"""
