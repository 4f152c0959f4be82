"""The committed data dictionary is exactly what the contracts and mart layouts generate."""

from pathlib import Path

from schemas.dictionary import render

DICTIONARY = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"


def test_data_dictionary_is_current():
    assert DICTIONARY.read_text(encoding="utf-8") == render(), "run `make dictionary` and commit the result"


def test_every_contract_column_has_both_labels():
    from schemas.contracts import CONTRACTS, SUBMISSION

    for contract in [*CONTRACTS.values(), SUBMISSION]:
        for col in contract.columns:
            assert col.label_vi.strip() and col.label_en.strip(), f"{contract.name}.{col.name} lacks a label"
