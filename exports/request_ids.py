"""Request ids as they may appear in paths, object keys and links: `REQ-` and letters and digits.

A module of its own so that checking an id (links, `dsar serve`, `dsar verify`) does not load the package
builder and its spreadsheet writer.
"""

from __future__ import annotations

import re

REQUEST_ID = re.compile(r"^REQ-[A-Za-z0-9]+$")


def check_request_id(request_id: str) -> str:
    """Return `request_id` if it is safe as a directory name, else raise ValueError."""
    if not isinstance(request_id, str) or not REQUEST_ID.fullmatch(request_id):
        raise ValueError("request id must match REQ-<letters and digits>")
    return request_id
