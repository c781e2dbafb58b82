"""Desk words for the registry's codes: "an NGO monitor", not "a ngo monitor".

Reasons are read by editors, so an outlet kind is named the way a desk names it, with the right
article; a kind this table does not know (LIAR's parties, say) is quoted as a plain label.
"""

from __future__ import annotations

from typing import Final

# kind -> (singular with its article, plural)
OUTLET_KIND_WORDS: Final[dict[str, tuple[str, str]]] = {
    "wire": ("a wire service", "wire services"),
    "newspaper": ("a newspaper", "newspapers"),
    "broadcaster": ("a broadcaster", "broadcasters"),
    "online": ("an online outlet", "online outlets"),
    "state_media": ("state media", "state media outlets"),
    "government": ("a government source", "government sources"),
    "military_pao": ("a military press office", "military press offices"),
    "ngo_monitor": ("an NGO monitor", "NGO monitors"),
    "activist_network": ("an activist network", "activist networks"),
    "individual": ("an individual", "individuals"),
}


def _key(kind: str) -> str:
    return kind.strip().lower()


def outlet_kind_phrase(kind: str | None) -> str:
    """How a reason states an outlet's kind: "outlet is an NGO monitor"."""
    if not kind or not kind.strip():
        return "outlet kind unknown"
    words = OUTLET_KIND_WORDS.get(_key(kind))
    if words is None:
        return f"outlet kind: {kind.strip().replace('_', ' ')}"
    return f"outlet is {words[0]}"


def outlet_kind_plural(kind: str) -> str:
    """The kind as a group of outlets: "NGO monitors", or "outlets of kind 'x'"."""
    words = OUTLET_KIND_WORDS.get(_key(kind))
    if words is None:
        return f"outlets of kind '{kind.strip().replace('_', ' ')}'"
    return words[1]


def count_noun(count: float, singular: str, plural: str | None = None) -> str:
    """ "1 verdict", "3 verdicts", "2.5 verdicts" (a decayed weight is plural unless exactly 1)."""
    shown = f"{count:g}" if isinstance(count, float) else str(count)
    return f"{shown} {singular if count == 1 else plural or singular + 's'}"
