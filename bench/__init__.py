"""`make bench`: speed and memory of the console's hot paths on a large database."""
