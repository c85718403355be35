"""The version of tokenbudget (read by the build backend, and by exports that record it)."""

__version__ = "0.1.0"
