"""The upload page: plain server-rendered HTML, Vietnamese first with English beside it.

No script and nothing fetched from anywhere but this server (the Content-Security-Policy of every
page says so): a form posts the file, the answer is a page with the verdict and its findings.
Every value that came from a submitter or a file is escaped before it is printed.
"""

from __future__ import annotations

from html import escape
from string import Template

from schemas.vocabulary import REJECTED, STATUS_WORDS

CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")

_PAGE = Template("""<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 64rem; padding: 0 1rem; color: #1d1d1f; }
 h1 { font-size: 1.5rem; margin-bottom: .2rem; }
 .en { color: #5a5a5f; font-size: .9em; }
 form { display: grid; grid-template-columns: max-content 1fr; gap: .6rem 1rem; align-items: center;
        background: #f5f5f7; padding: 1rem 1.2rem; border-radius: .5rem; }
 form button { grid-column: 2; justify-self: start; padding: .45rem 1.2rem; font-size: 1rem; }
 input, select { font-size: 1rem; padding: .25rem; }
 .verdict { padding: .8rem 1.2rem; border-radius: .5rem; margin: 1rem 0; }
 .accepted { background: #e3f5e6; border: 1px solid #3b8a4a; }
 .rejected, .refused { background: #fbe7e6; border: 1px solid #b3261e; }
 .received { background: #fff6da; border: 1px solid #a07800; }
 table { border-collapse: collapse; width: 100%; margin-top: .6rem; font-size: .92rem; }
 th, td { border: 1px solid #c8c8cc; padding: .3rem .5rem; text-align: left; vertical-align: top; }
 th { background: #ececf0; }
 td.error { color: #b3261e; font-weight: 600; } td.warning { color: #8a6100; font-weight: 600; }
 dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .6rem 0; }
 dt { font-weight: 600; } dd { margin: 0; font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<h1>lnob — Nộp kết quả rà soát hộ nghèo, hộ cận nghèo</h1>
<p class="en">lnob — Submit the poor and near-poor household review</p>
$body
</body>
</html>
""")

_FORM = Template("""<form method="post" action="/" enctype="multipart/form-data">
 <label for="token">Mã truy cập <span class="en">/ Access token</span></label>
 <input id="token" name="token" type="password" autocomplete="off" value="" placeholder="$token_hint">
 <label for="file">Tệp dữ liệu <span class="en">/ Data file</span> (CSV, XLSX)</label>
 <input id="file" name="file" type="file" required accept=".csv,.xlsx,.xls,text/csv">
 <label for="level">Cấp nộp <span class="en">/ Submitting level</span></label>
 <select id="level" name="level">$level_options</select>
 <label for="unit">Mã đơn vị <span class="en">/ Unit code</span></label>
 <input id="unit" name="unit" required inputmode="numeric" pattern="[0-9]{2,5}" value="$unit" placeholder="00688">
 <label for="year">Năm rà soát <span class="en">/ Review year</span></label>
 <input id="year" name="year" required type="number" min="2000" max="2100" value="$year">
 <label for="kind">Loại dữ liệu <span class="en">/ Kind of data</span></label>
 <select id="kind" name="kind">$kind_options</select>
 <label><input id="complete" name="complete" type="checkbox" value="on"> Danh sách gồm mọi hộ dân cư của xã
  <span class="en">/ The household list holds every resident household (not only the households reviewed)</span></label>
 <button type="submit">Nộp tệp <span class="en">/ Submit</span></button>
</form>
""")

LEVEL_LABELS = {"commune": "Xã / Commune", "district": "Huyện / District", "province": "Tỉnh / Province"}
KIND_LABELS = {"household": "Danh sách hộ / Household list", "area_summary": "Tổng hợp / Review summary",
               "area_attributes": "Thông tin địa bàn / Area attributes"}


def _options(labels: dict[str, str], chosen: str | None) -> str:
    return "".join(
        f'<option value="{escape(value)}"{" selected" if value == chosen else ""}>{escape(label)}</option>'
        for value, label in labels.items())


def upload_form(*, level: str | None = None, unit: str = "", year: str = "", kind: str | None = None,
                has_cookie: bool = False) -> str:
    return _FORM.substitute(
        level_options=_options(LEVEL_LABELS, level or "commune"),
        kind_options=_options(KIND_LABELS, kind or "household"),
        unit=escape(unit), year=escape(year),
        token_hint=escape("(đã lưu / saved)" if has_cookie else ""),
    )


def _declaration(lists_every_household: bool | None) -> str:
    """What a household list holds, as the submitter declared it (nothing for other kinds)."""
    if lists_every_household is None:
        return ""
    said = ("Mọi hộ dân cư / Every resident household" if lists_every_household
            else "Các hộ được rà soát / The households reviewed")
    return f"<dt>Danh sách gồm / The list holds</dt><dd>{escape(said)}</dd>"


def page(title: str, body: str) -> str:
    return _PAGE.substitute(title=escape(title), body=body)


def upload_page(*, has_cookie: bool) -> str:
    intro = ("<p>Chọn tệp, cấp, mã đơn vị, năm và loại dữ liệu rồi bấm “Nộp tệp”. Kết quả kiểm tra hiện ngay "
             "trên trang này.<br><span class=\"en\">Choose the file, level, unit code, year and kind of data, then "
             "press “Submit”. The validation result appears on this page.</span></p>")
    return page("lnob — Nộp tệp / Submit", intro + upload_form(has_cookie=has_cookie))


def _cell(value) -> str:
    return "" if value is None else escape(str(value))


def findings_table(findings: list[dict]) -> str:
    if not findings:
        return ""
    rows = []
    for finding in findings:
        severity = finding.get("severity") or ""
        severity_label = {"error": "Lỗi / Error", "warning": "Cảnh báo / Warning"}.get(severity, severity)
        count = finding.get("count")
        more = (f'<br><span class="en">({int(count)} dòng vi phạm quy tắc này / rows break this rule)</span>'
                if isinstance(count, int) and count > 1 else "")
        rows.append(
            "<tr>"
            f'<td class="{escape(severity)}">{escape(severity_label)}</td>'
            f"<td>{_cell(finding.get('sheet'))}</td>"
            f"<td>{_cell(finding.get('row'))}</td><td>{_cell(finding.get('cell'))}</td>"
            f"<td>{_cell(finding.get('column'))}</td><td>{_cell(finding.get('value'))}</td>"
            f"<td>{_cell(finding.get('message_vi'))}<br><span class=\"en\">{_cell(finding.get('message_en'))}</span>"
            f"{more}</td>"
            f"<td><code>{_cell(finding.get('rule'))}</code></td>"
            "</tr>")
    return ('<table class="findings"><thead><tr><th>Mức <span class="en">/ Severity</span></th>'
            '<th>Trang tính <span class="en">/ Sheet</span></th><th>Dòng <span class="en">/ Row</span></th>'
            '<th>Ô <span class="en">/ Cell</span></th><th>Cột <span class="en">/ Column</span></th>'
            '<th>Giá trị <span class="en">/ Value</span></th><th>Thông báo <span class="en">/ Message</span></th>'
            '<th>Quy tắc <span class="en">/ Rule</span></th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def verdict_page(verdict: dict, *, file_label: str, report_url: str | None) -> str:
    status = str(verdict.get("status") or "")
    status_vi, status_en = STATUS_WORDS.get(status, (status, status))
    findings = verdict.get("findings") or []
    total = verdict.get("findings_total")
    fix = ('<p>Hãy sửa các lỗi dưới đây rồi nộp lại. <span class="en">Fix the findings below and submit '
           "again.</span></p>" if status == REJECTED else "")
    duplicate = ('<p>Tệp này đã được nộp trước đây; đây là kết quả của lần nộp đó. '
                 '<span class="en">These bytes were submitted before; this is that submission\'s verdict.</span></p>'
                 if verdict.get("duplicate") else "")
    supersedes = (f"<p>Thay cho bản nộp <code>{escape(str(verdict['supersedes']))}</code>. "
                  '<span class="en">Replaces that earlier submission.</span></p>' if verdict.get("supersedes") else "")
    report = (f'<p><a id="report-link" href="{escape(report_url)}">Xem báo cáo đầy đủ '
              '<span class="en">/ Full report</span></a></p>' if report_url else "")
    summary = (f"<p>Số phát hiện <span class=\"en\">/ Findings</span>: <strong id=\"findings-total\">"
               f"{_cell(total if total is not None else len(findings))}</strong></p>")
    body = (
        f'<section class="verdict {escape(status)}" id="verdict" data-status="{escape(status)}">'
        f"<h2>{escape(status_vi)} <span class=\"en\">/ {escape(status_en)}</span></h2>"
        "<dl>"
        f"<dt>Tệp / File</dt><dd>{escape(file_label)}</dd>"
        f"<dt>Mã bản nộp / Submission</dt><dd id=\"submission-id\">{_cell(verdict.get('submission_id'))}</dd>"
        f"<dt>Đơn vị / Unit</dt><dd>{_cell(verdict.get('level'))} {_cell(verdict.get('unit_code'))}</dd>"
        f"<dt>Năm / Year</dt><dd>{_cell(verdict.get('year'))}</dd>"
        f"<dt>Loại / Kind</dt><dd>{_cell(verdict.get('kind'))}</dd>"
        f"<dt>Chuẩn / Standard</dt><dd>{_cell(verdict.get('standard'))}</dd>"
        + _declaration(verdict.get("lists_every_household")) +
        f"<dt>SHA-256</dt><dd>{_cell(verdict.get('content_hash'))}</dd>"
        "</dl>" + fix + duplicate + supersedes + summary + findings_table(findings) + report + "</section>"
        '<h2>Nộp tệp khác <span class="en">/ Submit another file</span></h2>'
        + upload_form(level=verdict.get("level"), unit=str(verdict.get("unit_code") or ""),
                      year=str(verdict.get("year") or ""), kind=verdict.get("kind"), has_cookie=True))
    return page(f"lnob — {status_en}", body)


def refusal_page(refusal, *, has_cookie: bool) -> str:
    body = (f'<section class="verdict refused" id="verdict" data-status="refused" data-http="{refusal.status}">'
            f"<h2>Không nhận được yêu cầu <span class=\"en\">/ Request refused</span> ({refusal.status})</h2>"
            f"<p>{escape(refusal.message_vi)}<br><span class=\"en\">{escape(refusal.message_en)}</span></p>"
            "</section>" + upload_form(has_cookie=has_cookie))
    return page("lnob — Refused", body)
