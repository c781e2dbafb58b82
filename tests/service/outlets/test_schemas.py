from __future__ import annotations

from service.outlets.schemas import TransparencyRead


def test_transparency_reads_every_practice_unknown_unless_stated() -> None:
    # An outlet row made without transparency holds {}: it still reads as the typed document.
    assert TransparencyRead.model_validate({}).model_dump() == dict.fromkeys(
        ("methodology", "corrections_policy", "ownership_disclosed", "names_sources")
    )
    stated = TransparencyRead.model_validate({"methodology": True, "names_sources": False})
    assert (stated.methodology, stated.names_sources, stated.corrections_policy) == (
        True,
        False,
        None,
    )
