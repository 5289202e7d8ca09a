"""Chat test lab widgets: the test-chat tab (``sessions``), scenario suites (``suites``), personas (``personas``)."""
