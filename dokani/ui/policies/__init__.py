"""Policies page widgets: version list and rules editor (``editor``), actions with flash messages (``actions``), backtest (``backtest``)."""
