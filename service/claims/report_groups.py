"""Independent report groups: which claims of an event are not independent of one another.

A declared copy (``copy_of_claim_id``, followed along the chain to the original) shares the
group of its original; outlets with one owner share a group. A claim in neither has no group:
its outlet alone is its report. Reconciliation (``service/events/consensus.py``) and scoring
(``service/scores/inputs.py``) both take their groups from here, so they cannot disagree; this
module imports neither of them.

Labels: ``owner:<owner>`` for a group that holds an owned outlet (the smallest owner name when a
copy links two owners), else ``copy:<claim id>`` naming the original (the smallest claim id of
the group). A label means the same thing on every event, so one owner is one group everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Copy chains longer than this are cut (and a cycle cannot loop forever).
MAX_CHAIN = 64


@dataclass(frozen=True, slots=True)
class GroupMember:
    """What grouping reads of one claim."""

    claim_id: int
    copy_of_claim_id: int | None
    owner: str | None


def copy_original(claim_id: int, parents: Mapping[int, int | None]) -> int:
    """The claim at the start of ``claim_id``'s copy chain (itself when it copies nothing)."""
    current = claim_id
    for _ in range(MAX_CHAIN):
        parent = parents.get(current)
        if parent is None or parent == claim_id:
            return current
        current = parent
    return current


def report_groups(
    members: Iterable[GroupMember], parents: Mapping[int, int | None] | None = None
) -> dict[int, str | None]:
    """The group label of each member's claim (None: independent, its outlet is its report).

    ``members`` are the claims of ONE event; ``parents`` maps claim ids outside them (the
    originals further up a copy chain) to what they copy, where known.
    """
    members = list(members)
    chain: dict[int, int | None] = dict(parents or {})
    chain.update({member.claim_id: member.copy_of_claim_id for member in members})
    root: dict[str, str] = {}

    def find(node: str) -> str:
        root.setdefault(node, node)
        while root[node] != node:
            root[node] = root[root[node]]
            node = root[node]
        return node

    def union(a: str, b: str) -> None:
        first, second = find(a), find(b)
        if first != second:
            root[max(first, second)] = min(first, second)

    for member in members:
        node = f"claim:{member.claim_id}"
        find(node)
        original = copy_original(member.claim_id, chain)
        if original != member.claim_id:
            union(node, f"claim:{original}")
        if member.owner:
            union(node, f"owner:{member.owner}")

    components: dict[str, list[str]] = {}
    for node in list(root):
        components.setdefault(find(node), []).append(node)
    labels: dict[str, str | None] = {}
    for top, nodes in components.items():
        owners = sorted(node.removeprefix("owner:") for node in nodes if node.startswith("owner:"))
        claims = sorted(
            int(node.removeprefix("claim:")) for node in nodes if node.startswith("claim:")
        )
        if owners:
            labels[top] = f"owner:{owners[0]}"
        elif len(claims) > 1:
            labels[top] = f"copy:{claims[0]}"
        else:
            labels[top] = None
    return {member.claim_id: labels[find(f"claim:{member.claim_id}")] for member in members}
