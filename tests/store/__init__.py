"""Tests of ``tokenbudget.store``: the Ledger, the SQLite store, its writer, repricing."""
