"""Overview page widgets:

- ``kpis``: what the overview reads for a period, and the KPI strip compared with the period before.
- ``breakdowns``: returns per day by status, by category, and people's decisions vs. the AI's recommendations.
"""
