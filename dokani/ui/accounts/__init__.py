"""Accounts widgets: the Team page (``team``): members, invitations, roles, password resets."""
