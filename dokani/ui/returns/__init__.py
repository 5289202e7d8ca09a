"""Returns page widgets: the queue with filters and bulk decisions (``queue``), the review panel of one return (``review``)."""
