"""A submitter reads the same words for a status in the terminal, on the upload page and in the findings report."""

import contextlib
import html
import io

import pytest

from documents.findings_report import render_html
from lnob.commands.submit import print_verdict
from lnob.http.pages import verdict_page
from schemas.vocabulary import STATUS_WORDS, SUBMISSION_STATUSES


def _verdict(status: str) -> dict:
    return {"submission_id": "S0123456789abcdef", "status": status, "level": "commune", "unit_code": "00001",
            "year": 2024, "kind": "household", "standard": "nd07_2021", "findings": [], "findings_total": 0}


def test_every_status_has_words_in_both_languages():
    assert set(STATUS_WORDS) == set(SUBMISSION_STATUSES)
    for vi, en in STATUS_WORDS.values():
        assert vi.strip() and en.strip() and vi != en


@pytest.mark.parametrize("status", SUBMISSION_STATUSES)
def test_command_line_page_and_report_word_a_status_alike(status):
    vi, en = STATUS_WORDS[status]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        print_verdict(_verdict(status), as_json=False)
    first_line = printed.getvalue().splitlines()[0]
    assert first_line.endswith(f"{vi} / {en}")

    page = verdict_page(_verdict(status), file_label="ho_ngheo.xlsx", report_url=None)
    assert f"{html.escape(vi)} <span class=\"en\">/ {html.escape(en)}</span>" in page

    report = render_html(_verdict(status))
    assert f"Bản nộp {html.escape(vi)} / The submission is {html.escape(en)}" in report


def test_superseded_is_worded_the_same_everywhere_it_used_to_differ():
    vi, en = STATUS_WORDS["superseded"]
    outputs = [verdict_page(_verdict("superseded"), file_label="f.csv", report_url=None),
               render_html(_verdict("superseded"))]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        print_verdict(_verdict("superseded"), as_json=False)
    outputs.append(printed.getvalue())
    for text in outputs:
        assert vi in text and en in text
        assert "ĐÃ BỊ THAY THẾ" not in text and "ĐÃ ĐƯỢC THAY THẾ" not in text
