"""The suite's exception tree. Every error a user can cause carries a hint saying what to do next.

ConformanceError
├── UsageError            bad arguments, config or environment: exit code 2, one line
│   ├── ConfigError       unreadable or invalid config file
│   ├── TargetError       base URL invalid or target unreachable
│   ├── SchemaFilesError  schemas/ missing or invalid
│   └── ProfileError      unknown platform, or a profile file that does not fit its format
"""

from __future__ import annotations


class ConformanceError(Exception):
    """Base of every error the suite raises on purpose."""

    def __init__(self, message: str, hint: str) -> None:
        """`hint` is required: every raise says what to do next (tests/test_error_hints.py)."""
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The single line the CLI prints: what happened, then what to do."""
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(ConformanceError):
    """The run cannot start as asked; nothing about the target was decided."""


class ConfigError(UsageError):
    """The config file cannot be read or does not fit its format."""


class TargetError(UsageError):
    """The target URL is invalid, or nothing answered there."""


class SchemaFilesError(UsageError):
    """The contract's schema files are missing or invalid."""


class ProfileError(UsageError):
    """An unknown reference platform, or a profile that does not fit its format."""
