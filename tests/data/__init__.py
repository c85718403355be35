"""Tests of the records' data (``tokenbudget._data``): ``Usage`` and the frozen builders."""
