"""Database plumbing: where the server is, how to reach it, and how the app talks to it."""
