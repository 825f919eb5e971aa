"""Who did it: the person recorded with every human action in the audit trail.

Waivers, accepts, restores, manual publications and restatement adoptions
record a person (``--by NAME``), never the database role the platform
connects as (that is the same for everyone). Without ``--by`` the person is
the operating-system user running ``msdw``; a name that is empty after
trimming is refused.
"""

from __future__ import annotations

import getpass

from msdw.errors import PermanentError


def actor(by: str | None = None) -> str:
    """The person to record: ``by`` if given, else the OS user (``getpass.getuser()``)."""
    name = (by if by is not None else _os_user()).strip()
    if not name:
        raise PermanentError("an action needs a person: give --by NAME")
    return name


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (a container without a passwd entry)
        return ""
