"""Accounts: who can sign in, and which businesses (and in which role) a signed-in person may work for.

- ``members``: the sign-in directory and a person's memberships, read under row-level security.
"""
