"""Levels of assurance and the controller's policy: which level each source, and each kind of delivery, needs.

Levels follow eIDAS (low < substantial < high). A one-time email code proves
control of a mailbox and is "low"; a bank-ID login through OIDC is
"substantial" or "high". The policy is data from the config; these functions
decide, and never read a source or a store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from identity.evidence import LEVELS


def rank(level: str) -> int:
    """The position of `level` in LEVELS; ValueError for anything else (a typo must not rank as anything)."""
    try:
        return LEVELS.index(level)
    except ValueError:
        raise ValueError(f"level of assurance must be one of {', '.join(LEVELS)}") from None


def meets(achieved: str | None, required: str) -> bool:
    """Whether evidence at `achieved` (None: no evidence) satisfies `required`."""
    return achieved is not None and rank(achieved) >= rank(required)


@dataclass(frozen=True)
class Policy:
    """`source_levels` maps every configured source to the level reading it needs.

    Nothing is searched below `minimum_level`; delivering anywhere but the
    verified address needs `other_recipient_level`.
    """

    source_levels: Mapping[str, str] = field(default_factory=dict)
    minimum_level: str = "low"
    other_recipient_level: str = "high"

    def __post_init__(self) -> None:
        for level in (self.minimum_level, self.other_recipient_level, *self.source_levels.values()):
            rank(level)

    def required(self, source: str) -> str:
        """The level `source` needs; at least `minimum_level`. KeyError for a source the policy does not know."""
        level = self.source_levels[source]
        return max(level, self.minimum_level, key=rank)


def skip_reason(achieved: str | None, required: str) -> str:
    """What the coverage says about a source left unread: ids and level names only."""
    return f"identity level {achieved or 'none'} below {required}"


def allowed_sources(achieved: str | None, policy: Policy) -> tuple[list[str], dict[str, str]]:
    """The sources evidence at `achieved` may read, in policy order, and the others with the reason why not."""
    allowed, skipped = [], {}
    for source in policy.source_levels:
        required = policy.required(source)
        if meets(achieved, required):
            allowed.append(source)
        else:
            skipped[source] = skip_reason(achieved, required)
    return allowed, skipped


def stronger_needed(achieved: str | None, policy: Policy) -> str | None:
    """The level to ask for when `achieved` is below the policy's minimum; None when it may proceed."""
    return None if meets(achieved, policy.minimum_level) else policy.minimum_level


def may_deliver_elsewhere(achieved: str | None, policy: Policy) -> bool:
    """Whether a package may go to an address or X25519 recipient other than the verified address."""
    return meets(achieved, policy.other_recipient_level)
