"""Background jobs on a page: a job's state and progress live, its failure with a retry (``panel``)."""
