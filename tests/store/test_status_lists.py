"""Status-list membership is effective-dated: a later decision removes members from its date on."""

from __future__ import annotations

from datetime import date

import pytest

from store.status_lists import ADD, REMOVE, ListEntry, ListLoadConflict, StatusLists

KIND = "ed_commune_coastal"


def entry(row: int, code: str | None, status: str = "matched", province: str = "83") -> ListEntry:
    return ListEntry(row_number=row, unit_level="commune", unit_code=code, match_status=status,
                     province_code=province, commune_code=code, commune_name=f"Xã {code or 'không rõ'}")


def test_a_later_decision_removes_members_from_its_effective_date(database_url):
    lists = StatusLists(database_url)
    lists.record_load(status_kind=KIND, decision="353/QĐ-TTg", action=ADD, effective_from=date(2022, 3, 15),
                      entries=[entry(1, "29197"), entry(2, "29200"), entry(3, "29215")], content_hash="a")
    lists.record_load(status_kind=KIND, decision="576/QĐ-TTg", action=REMOVE, effective_from=date(2024, 6, 28),
                      entries=[entry(1, "29197")], content_hash="b")

    def members(on: date) -> list[str]:
        return [m.unit_code for m in lists.members_on(on, KIND)]

    assert members(date(2022, 3, 14)) == []
    assert members(date(2022, 3, 15)) == ["29197", "29200", "29215"]
    assert members(date(2024, 6, 27)) == ["29197", "29200", "29215"]
    assert members(date(2024, 6, 28)) == ["29200", "29215"]
    kept = lists.members_on(date(2024, 12, 31), KIND)[0]
    assert (kept.decision, kept.since) == ("353/QĐ-TTg", date(2022, 3, 15))


def test_a_unit_added_again_after_removal_is_a_member_from_the_new_decision(database_url):
    lists = StatusLists(database_url)
    lists.record_load(status_kind=KIND, decision="A", action=ADD, effective_from=date(2022, 1, 1),
                      entries=[entry(1, "00001")])
    lists.record_load(status_kind=KIND, decision="B", action=REMOVE, effective_from=date(2023, 1, 1),
                      entries=[entry(1, "00001")])
    lists.record_load(status_kind=KIND, decision="C", action=ADD, effective_from=date(2024, 1, 1),
                      entries=[entry(1, "00001")])
    assert lists.members_on(date(2023, 6, 1), KIND) == []
    assert lists.members_on(date(2024, 6, 1), KIND)[0].decision == "C"


def test_unmatched_names_are_kept_with_the_decision_but_are_never_members(database_url):
    lists = StatusLists(database_url)
    load, created = lists.record_load(status_kind=KIND, decision="A", action=ADD, effective_from=date(2022, 1, 1),
                                      entries=[entry(1, "00001"), entry(2, None, "unknown")], partial=True,
                                      completeness="PARTIAL: 2 of 54")
    assert created and (load.names_listed, load.names_matched, load.partial) == (2, 1, True)
    assert [e.match_status for e in lists.entries(load.load_id)] == ["matched", "unknown"]
    assert [m.unit_code for m in lists.members_on(date(2023, 1, 1))] == ["00001"]
    assert lists.members_on(date(2023, 1, 1))[0].partial is True


def test_loading_the_same_decision_twice_is_one_load_and_a_different_file_needs_replace(database_url):
    lists = StatusLists(database_url)
    first, created = lists.record_load(status_kind=KIND, decision="A", action=ADD,
                                       effective_from=date(2022, 1, 1), entries=[entry(1, "00001")],
                                       content_hash="h1")
    again, created_again = lists.record_load(status_kind=KIND, decision="A", action=ADD,
                                             effective_from=date(2022, 1, 1), entries=[entry(1, "00001")],
                                             content_hash="h1")
    assert created and not created_again and again.load_id == first.load_id
    with pytest.raises(ListLoadConflict, match="--replace"):
        lists.record_load(status_kind=KIND, decision="A", action=ADD, effective_from=date(2022, 1, 1),
                          entries=[entry(1, "00002")], content_hash="h2")
    lists.record_load(status_kind=KIND, decision="A", action=ADD, effective_from=date(2022, 1, 1),
                      entries=[entry(1, "00002")], content_hash="h2", replace=True)
    assert [m.unit_code for m in lists.members_on(date(2023, 1, 1))] == ["00002"]
    assert len(lists.loads()) == 1


def test_villages_are_members_by_commune_code_and_village_name(database_url):
    lists = StatusLists(database_url)
    lists.record_load(status_kind="ed_village", decision="612/QĐ-UBDT", action=ADD,
                      effective_from=date(2021, 9, 16),
                      entries=[ListEntry(1, "village", "00001", "matched", village="Bản A"),
                               ListEntry(2, "village", "00001", "matched", village="Bản B")])
    lists.record_load(status_kind="ed_village", decision="497/QĐ-UBDT", action=REMOVE,
                      effective_from=date(2024, 7, 30),
                      entries=[ListEntry(1, "village", "00001", "matched", village="Bản A")])
    assert [(m.unit_code, m.village) for m in lists.members_on(date(2024, 12, 31))] == [("00001", "Bản B")]
    assert lists.members_on(date(2024, 12, 31))[0].unit_level == "village"


def test_lists_share_the_registry_database_with_the_registry(database_url):
    from store.registry import Registry

    Registry(database_url)
    lists = StatusLists(database_url)
    lists.record_load(status_kind=KIND, decision="A", action=ADD, effective_from=date(2022, 1, 1),
                      entries=[entry(1, "00001")])
    assert StatusLists(database_url).loads()[0].decision == "A"
