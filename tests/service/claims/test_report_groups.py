"""Independent report groups: declared copies follow their chain, one owner's outlets share."""

from __future__ import annotations

from service.claims.report_groups import GroupMember, copy_original, report_groups


def test_independent_claims_have_no_group() -> None:
    groups = report_groups([GroupMember(1, None, None), GroupMember(2, None, None)])
    assert groups == {1: None, 2: None}


def test_a_copy_of_a_copy_joins_the_original() -> None:
    members = [GroupMember(1, None, None), GroupMember(2, 1, None), GroupMember(3, 2, None)]
    assert report_groups(members) == {1: "copy:1", 2: "copy:1", 3: "copy:1"}


def test_copies_of_an_original_outside_the_event_share_a_group() -> None:
    # Claims 5 and 6 copy 4, which copies 3: neither 3 nor 4 is among the event's claims.
    members = [GroupMember(5, 4, None), GroupMember(6, 4, None), GroupMember(7, None, None)]
    groups = report_groups(members, parents={4: 3, 3: None})
    assert groups[5] == groups[6] == "copy:3"
    assert groups[7] is None
    assert copy_original(5, {5: 4, 4: 3, 3: None}) == 3


def test_one_owner_is_one_group_and_copies_join_it() -> None:
    members = [
        GroupMember(1, None, "media group"),
        GroupMember(2, None, "media group"),
        GroupMember(3, 1, None),  # a copy of the owned outlet's claim
        GroupMember(4, None, "another owner"),
    ]
    groups = report_groups(members)
    assert groups[1] == groups[2] == groups[3] == "owner:media group"
    assert groups[4] == "owner:another owner"


def test_a_copy_cycle_ends() -> None:
    groups = report_groups([GroupMember(1, 2, None), GroupMember(2, 1, None)])
    assert groups[1] == groups[2] == "copy:1"
