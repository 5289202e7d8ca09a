"""The only dokani code that imports streamlit. Sub-packages mirror the domain's capabilities
(``ui.returns``, ``ui.policies``, ``ui.lab``, ``ui.calls``, ``ui.risk``, ``ui.analytics``); at this level sit
the pieces every page shares:
``context`` (who is signed in, which business), ``errors`` (page guard, domain errors as messages),
``format`` (money, shares, 'no data'), ``text`` (untrusted text as plain text), ``pager`` (keyset pages),
``period`` (the reporting-period picker), ``links`` (links between pages), ``bootstrap`` (first start),
``selection`` (selectboxes that keep their choice when an option's label changes).
"""
