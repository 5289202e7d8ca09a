"""Analytics: the business KPIs of the overview, aggregated in SQL for a period and the one before it.

- ``kpis``: ``Period``, the KPI strip, approval and value figures, people vs. the AI.
"""
