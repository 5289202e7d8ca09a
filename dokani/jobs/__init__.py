"""Background jobs: long and scheduled work off the page request, on a Postgres-backed queue (procrastinate).

- ``queue``: the procrastinate app over the console's own database (schema ``procrastinate``, revision 0012).
- ``records``: ``background_jobs``, what a page shows of a job: state, progress, result or error (RLS by business).
- ``enqueue``: queue a backtest or a scenario-suite run (or retry a failed job) as the signed-in member; the same
  work queued twice while it is live is one job. Also queues a verified webhook event (no member: it is applied
  as role ``dokani_webhook``).
- ``risk_recompute``, ``imports``, ``exports``: queue and run a risk recompute, an import of a checked returns CSV
  or of call event files, an export of the filtered return queue.
- ``files``: ``job_files``, what a job reads (a stored upload) or writes (an export), in chunks (revision 0017).
- ``tasks``: what a worker runs: a queued job as the member who asked, a stored webhook event, the periodic
  activation of scheduled policy versions and analytics snapshots, the periodic retry of jobs whose worker died.
- ``worker``: ``python -m dokani worker``, the workers ``serve`` starts beside the console, and the in-process
  worker tests use (``work_until_idle``).
- ``cli``: the ``worker`` sub-command.

Pages show jobs with ``dokani.ui.jobs.panel``.
"""
