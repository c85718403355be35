"""Tests of ``tokenbudget.testing``: the fake provider, validated by the real SDKs."""
