"""Unit tests of the sans-IO core (``tokenbudget._core``) with fake ports: no HTTP library."""
