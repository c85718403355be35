"""The compatibility suite: the same scenarios against every SDK generation and framework."""

import pytest

# the shared checks' assertions explain themselves like the tests' own
pytest.register_assert_rewrite("tests.compat.helpers")
