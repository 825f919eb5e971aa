"""The platform's exception types, caught once at the edge (Airflow task, CLI).

``PermanentError`` means "a retry cannot fix this": a delivery or file that
breaks its contract. The DAG factory turns it into ``AirflowFailException`` so
Airflow fails the task at once instead of retrying. ``TransientError`` means
the opposite (the warehouse or object store was unreachable): retried with
backoff. Every message names what a person needs to act: the file, the line
(where there is one), the Chinese column header and the rule.
"""

from __future__ import annotations


class MsdwError(Exception):
    """Base of every error the platform raises on purpose."""


class PermanentError(MsdwError):
    """A contract violation: the same input will fail the same way; do not retry."""


class DeliveryRefused(PermanentError):
    """A day's delivery (manifest + files) is refused as a whole; nothing of it is loaded.

    ``problems`` lists one human-readable line per refused file or manifest entry.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class FileRefused(PermanentError):
    """One file cannot be loaded: missing required column, undecodable bytes, empty file, ..."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.column = column
        self.rule = rule


class ConfigurationError(PermanentError):
    """The deployment is incomplete (e.g. a reference seed the contracts need is missing)."""


class TransientError(MsdwError):
    """A temporary problem (connection refused, server restarting): worth retrying."""
