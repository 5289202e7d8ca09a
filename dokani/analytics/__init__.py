"""Analytics: the overview's figures, aggregated in SQL for a period and the one before it, and their snapshots.

- ``kpis``: ``Period``, ``Rate`` (hits of n, small-sample mark), the return KPIs (opened, decided, approval and
  denial rates, time to decision, refunded value, return rate on order dates), per day and by category.
- ``agreement``: people vs. the AI: agreement overall and by recommendation, override rate by rule of the stored
  rule trace, the weekly trend.
- ``activity``: persona suite pass rate, call success, calls linked to a return (where the database can link
  them), open security events.
- ``snapshots``: a week's or month's figures kept in ``business_analytics`` / ``agent_performance_logs``; the trend.
- ``cli``: ``python -m dokani snapshot``.

For whole UTC days every figure is a sum of the summaries Postgres keeps current in each writer's transaction
(revision 0019: ``return_daily_summary``, ``return_rule_daily_summary``, ``return_decision_hours`` /
``return_decision_times``, ``order_daily_summary``); other periods are recomputed from the returns (``*_from_returns``).

Waiting and overdue are the Returns page's own figures (``dokani.returns.queue.queue_kpis``), never recomputed.
"""
