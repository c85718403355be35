"""Tests of the pytest plugin (tokenbudget.pytest_plugin), mostly through pytester."""
