"""Tests of the httpx adapters (``tokenbudget._adapters``): tracking transports and streams."""
