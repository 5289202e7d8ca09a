"""Overview page widgets:

- ``kpis``: what the overview reads for a period (kept for a few seconds per person), and its tiles compared with the
  period before.
- ``breakdowns``: returns per day by status, by category, and people vs. the AI (by recommendation, by rule, weekly).
- ``snapshots``: the trend over weeks or months from the stored snapshots, and the periods without one.
- ``links``: drill-down links to the queue (``dokani.returns.query_string``) and the other pages.
"""
