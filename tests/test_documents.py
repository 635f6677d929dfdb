"""The documents the mechanism issues (巡察建议书, 整改报告, 督办函, 谈话提醒记录): numbered per kind and
year, kept as issued, read by who reads their case or letter."""
from __future__ import annotations

import hashlib
import io
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import docx
import openpyxl
from sqlalchemy import select
from support.api import liaison, publish_round
from support.concurrency import hold
from support.district import user_id

from service import documents
from service.auth import load_principal
from service.models import Case, Document

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _text(content: bytes) -> str:
    """Every word of a .docx as python-docx reads it: paragraphs, then table cells, and its core title."""
    opened = docx.Document(io.BytesIO(content))
    words = [p.text for p in opened.paragraphs]
    words += [cell.text for table in opened.tables for row in table.rows for cell in row.cells]
    return "\n".join(words + [opened.core_properties.title or ""])


def _file_case(api, d, index: int, case_id: int, common_id: int) -> None:
    """A unit self-checks, rectifies, attaches a file and its head files: its 整改报告 is issued."""
    unit = liaison(api, d, index)
    unit.complete(unit.tasks(bpmn_id="self_check")[0]["id"], {"items": [
        {"common_problem_id": common_id, "applicable": True, "problems_found": 2, "findings": "两份合同未经审核"}]})
    unit.complete(unit.tasks(bpmn_id="rectify")[0]["id"], {"items": [
        {"common_problem_id": common_id, "status": "done",
         "measures": [{"description": "补做合同法律审核", "deadline": "2026-12-31"}],
         "institutions": [{"title": "《合同管理办法》"}]}]})
    unit.attach_evidence(case_id, name="合同审核台账.pdf", content=b"%PDF-1.4 ledger")
    head = api.as_(f"{d.codes[d.units[index]].lower()}_head")
    head.complete(head.tasks(bpmn_id="attest_and_file")[0]["id"], {"attest": True})


def _office(ctx):
    with ctx.db.read() as s:
        return load_principal(s, user_id(ctx, "office1"))


def test_each_kind_is_issued_numbered_and_holds_the_unit_round_problems_number_and_date(ctx, api, district, clock):
    d = district
    clock.move_to(datetime(2026, 3, 5, 10, 0, tzinfo=SHANGHAI))
    round_id = publish_round(api, d)
    office = api.as_("office1")
    common = office.get(f"/rounds/{round_id}").get_json()["common_problems"][0]
    cases = {c["unit_id"]: c["id"] for c in office.get("/cases", query_string={"round_id": round_id, "limit": 500})
             .get_json()["items"]}

    # the department the list makes responsible got its 巡察建议书, listed on its own case
    department_case = cases[d.departments[0]]
    letters = office.get(f"/cases/{department_case}/documents").get_json()["items"]
    assert [(x["kind"], x["number"]) for x in letters] == [("recommendation_letter", "光巡建〔2026〕1号")]
    letter = office.get(f"/documents/{letters[0]['id']}/content")
    assert letter.status_code == 200
    assert letter.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "filename*=UTF-8''" in letter.headers["Content-Disposition"]
    text = _text(letter.data)
    for words in ("单位0", "轮次", common["title"], "光巡建〔2026〕1号", "2026年3月5日",
                  "中共深圳市光明区委巡察工作领导小组办公室"):
        assert words in text, words

    # a unit files: its 整改报告, with its evidence's SHA-256 and the head's attestation
    clock.move_to(datetime(2026, 3, 20, 9, 0, tzinfo=SHANGHAI))
    api.tokens.clear()
    _file_case(api, d, 2, cases[d.units[2]], common["id"])
    office = api.as_("office1")
    reports = office.get(f"/cases/{cases[d.units[2]]}/documents").get_json()["items"]
    assert [(x["kind"], x["number"]) for x in reports] == [("report", "光巡报〔2026〕1号")]
    text = _text(office.get(f"/documents/{reports[0]['id']}/content").data)
    for words in ("单位2", "轮次", common["title"], "光巡报〔2026〕1号", "2026年3月20日", "两份合同未经审核",
                  "补做合同法律审核", "《合同管理办法》", "合同审核台账.pdf", hashlib.sha256(b"%PDF-1.4 ledger").hexdigest(),
                  "负责人2", "真实性承诺"):
        assert words in text, words

    # the office's 督办函 and 谈话提醒记录 for a late unit, as the supervision steps issue them
    late = cases[d.units[3]]
    clock.move_to(datetime(2026, 5, 10, 9, 0, tzinfo=SHANGHAI))  # the deadline (4 May) is 6 days past
    p = _office(ctx)
    tracking = ctx.db.transaction(lambda s: documents.issue_tracking_letter(
        ctx, s, p, s.get_one(Case, late), demand="限五日内报送整改报告", reply_days=5).id)
    talk = ctx.db.transaction(lambda s: documents.issue_talk_record(
        ctx, s, p, s.get_one(Case, late), talked_with="负责人3", talked_by="区委五人小组",
        talked_at=date(2026, 5, 9), summary="说明逾期原因，限期完成").id)
    api.tokens.clear()
    office = api.as_("office1")
    listed = {x["id"]: x for x in office.get(f"/cases/{late}/documents").get_json()["items"]}
    assert (listed[tracking]["kind"], listed[tracking]["number"]) == ("tracking_letter", "光巡督〔2026〕1号")
    assert (listed[talk]["kind"], listed[talk]["number"]) == ("talk_record", "光巡谈〔2026〕1号")
    text = _text(office.get(f"/documents/{tracking}/content").data)
    for words in ("单位3", "轮次", common["title"], "光巡督〔2026〕1号", "2026年5月10日", "已逾期6天",
                  "限五日内报送整改报告", "2026年5月15日"):
        assert words in text, words
    text = _text(office.get(f"/documents/{talk}/content").data)
    for words in ("单位3", "轮次", common["title"], "光巡谈〔2026〕1号", "2026年5月9日", "2026年5月10日",
                  "区委五人小组", "负责人3", "说明逾期原因，限期完成"):
        assert words in text, words

    # the supervision list shows the letters' numbers and fingerprints
    rows = office.get("/lists/supervision", query_string={"unit_id": d.units[3]}).get_json()["items"]
    by_kind = {r["kind"]: r for r in rows}
    assert by_kind["tracking_letter"]["document_number"] == "光巡督〔2026〕1号"
    assert by_kind["tracking_letter"]["document_sha256"] == listed[tracking]["sha256"]
    assert by_kind["talk_reminder"]["document_number"] == "光巡谈〔2026〕1号"


def test_numbers_follow_each_kinds_sequence_and_start_again_in_a_new_year(ctx, api, district, clock):
    d = district
    clock.move_to(datetime(2026, 12, 30, 10, 0, tzinfo=SHANGHAI))
    round_id = publish_round(api, d)
    case_ids = [c["id"] for c in api.as_("office1").get("/cases", query_string={"round_id": round_id, "limit": 500})
                .get_json()["items"]]
    p = _office(ctx)

    def track(case_id):
        return ctx.db.transaction(lambda s: documents.issue_tracking_letter(
            ctx, s, p, s.get_one(Case, case_id), demand="尽快整改").number)

    assert [track(i) for i in case_ids[:3]] == ["光巡督〔2026〕1号", "光巡督〔2026〕2号", "光巡督〔2026〕3号"]
    # 31 December 23:30 in the district is still 2026; half an hour later, 2027 starts at 1
    clock.move_to(datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI))
    assert track(case_ids[3]) == "光巡督〔2026〕4号"
    clock.move_to(datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI))
    assert [track(i) for i in case_ids[4:6]] == ["光巡督〔2027〕1号", "光巡督〔2027〕2号"]
    # another kind keeps its own sequence
    talk = ctx.db.transaction(lambda s: documents.issue_talk_record(
        ctx, s, p, s.get_one(Case, case_ids[0]), talked_with="负责人", talked_by="巡察办",
        talked_at=date(2027, 1, 1), summary="").number)
    assert talk == "光巡谈〔2027〕1号"
    with ctx.db.read() as s:
        assert s.scalars(select(Document.seq).where(Document.kind == "recommendation_letter")).all() == [1]


def test_documents_issued_at_once_get_consecutive_numbers(ctx, api, district, clock):
    """The second waits for the first's number instead of taking the same one."""
    d = district
    clock.move_to(datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI))
    round_id = publish_round(api, d)
    case_ids = [c["id"] for c in api.as_("office1").get("/cases", query_string={"round_id": round_id})
                .get_json()["items"]]
    p = _office(ctx)
    numbers: dict[str, str] = {}

    def issue(name: str, case_id: int) -> None:
        numbers[name] = ctx.db.transaction(lambda s: documents.issue_tracking_letter(
            ctx, s, p, s.get_one(Case, case_id), demand="尽快整改").number)

    first = threading.Thread(target=issue, args=("first", case_ids[0]), daemon=True)
    second = threading.Thread(target=issue, args=("second", case_ids[1]), daemon=True)
    with hold(ctx.db.engine, "INSERT INTO document", first, timeout=10) as (reached, release):
        first.start()
        assert reached.wait(10), "the first reached its insert"
        second.start()
        second.join(1.0)
        assert second.is_alive(), "the second waits while the first holds the sequence"
        release.set()
        first.join(30)
        second.join(30)
    assert numbers == {"first": "光巡督〔2026〕1号", "second": "光巡督〔2026〕2号"}


def test_two_downloads_are_the_same_bytes_as_listed_and_another_unit_cannot_download(ctx, api, district, clock):
    d = district
    round_id = publish_round(api, d)
    office = api.as_("office1")
    common = office.get(f"/rounds/{round_id}").get_json()["common_problems"][0]
    case_id = next(c["id"] for c in office.get("/cases", query_string={"round_id": round_id, "limit": 500})
                   .get_json()["items"] if c["unit_id"] == d.units[2])
    _file_case(api, d, 2, case_id, common["id"])
    own = liaison(api, d, 2)
    [report] = own.get(f"/cases/{case_id}/documents").get_json()["items"]
    first = own.get(f"/documents/{report['id']}/content")
    clock.advance(timedelta(minutes=5))
    second = office.get(f"/documents/{report['id']}/content")
    assert first.status_code == second.status_code == 200
    assert hashlib.sha256(first.data).hexdigest() == hashlib.sha256(second.data).hexdigest() == report["sha256"]
    assert first.headers["X-Document-SHA256"] == report["sha256"]

    other = liaison(api, d, 3)
    assert other.get(f"/documents/{report['id']}/content").status_code == 404
    assert other.get(f"/cases/{case_id}/documents").status_code == 404
    assert api.as_("shenji1").get(f"/documents/{report['id']}/content").status_code == 404
    assert office.get("/documents/999999/content").status_code == 404


def test_the_same_inputs_give_the_same_bytes(ctx, api, district, clock):
    """Generated twice from the same records at different moments of the same day, a document is
    byte-identical: no clock or random id reaches the file."""
    d = district
    clock.move_to(datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI))
    round_id = publish_round(api, d)
    case_id = api.as_("office1").get("/cases", query_string={"round_id": round_id}).get_json()["items"][0]["id"]
    p = _office(ctx)

    def issue():
        def work(s):
            document = documents.issue_tracking_letter(ctx, s, p, s.get_one(Case, case_id), demand="尽快整改")
            content = document.content
            s.rollback()  # the same number again next time
            return content
        return ctx.db.transaction(work)

    first = issue()
    clock.move_to(datetime(2026, 4, 1, 17, 0, tzinfo=SHANGHAI))
    assert issue() == first


def test_tracking_steps_of_the_office_issue_the_letter_and_the_record(ctx, api, district, clock):
    """The 跟踪督办 step choosing a tracking letter, and the 谈话提醒 step, leave their documents on the case."""
    from service.timers import run_due_timers

    d = district
    publish_round(api, d)
    office = api.as_("office1")
    case = next(c for c in office.get("/cases", query_string={"limit": 500}).get_json()["items"]
                if c["unit_id"] == d.units[3])
    due = datetime.fromisoformat(case["due_at"])
    for when in (due - timedelta(days=19), due - timedelta(days=9), due + timedelta(minutes=1)):
        clock.move_to(when)
        run_due_timers(ctx)
        run_due_timers(ctx)
    api.tokens.clear()
    office = api.as_("office1")
    task = next(t for t in office.tasks(bpmn_id="track_supervision") if t["unit_id"] == d.units[3])
    office.complete(task["id"], {"action": "tracking_letter", "demand": "限期三日内说明情况"})
    clock.move_to(due + timedelta(days=ctx.settings.talk_days, minutes=1))
    run_due_timers(ctx)
    run_due_timers(ctx)
    api.tokens.clear()
    office = api.as_("office1")
    talk = next(t for t in office.tasks(bpmn_id="talk_reminder") if t["unit_id"] == d.units[3])
    office.complete(talk["id"], {"talked_with": "负责人3", "talked_by": "区委五人小组", "talked_on": "2027-02-10",
                                 "summary": "限期十日内完成整改"})
    kinds = [x["kind"] for x in office.get(f"/cases/{case['id']}/documents").get_json()["items"]]
    assert kinds == ["tracking_letter", "talk_record"]
    texts = [_text(office.get(f"/documents/{x['id']}/content").data)
             for x in office.get(f"/cases/{case['id']}/documents").get_json()["items"]]
    assert "限期三日内说明情况" in texts[0] and "限期十日内完成整改" in texts[1] and "2027年2月10日" in texts[1]


def test_the_case_page_the_letter_task_and_the_supervision_list_link_the_documents(ctx, api, district, client, clock):
    from support.pages import session_login

    d = district
    clock.move_to(datetime(2026, 3, 5, 10, 0, tzinfo=SHANGHAI))
    round_id = publish_round(api, d)
    office = api.as_("office1")
    common = office.get(f"/rounds/{round_id}").get_json()["common_problems"][0]
    case_id = next(c["id"] for c in office.get("/cases", query_string={"round_id": round_id, "limit": 500})
                   .get_json()["items"] if c["unit_id"] == d.units[2])
    _file_case(api, d, 2, case_id, common["id"])
    [report] = office.get(f"/cases/{case_id}/documents").get_json()["items"]

    session_login(client, ctx, "u002_head")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "文书" in page and "整改报告 光巡报〔2026〕1号" in page and report["sha256"] in page
    download = client.get(f"/documents/{report['id']}")
    assert download.status_code == 200 and hashlib.sha256(download.data).hexdigest() == report["sha256"]
    assert "attachment;" in download.headers["Content-Disposition"]

    # the department's letter, on the task it plans its special governance from
    session_login(client, ctx, "u000_liaison")
    plan = liaison(api, d, 0).tasks(bpmn_id="plan_governance")[0]
    page = client.get(f"/tasks/{plan['id']}").get_data(as_text=True)
    assert "巡察建议书 光巡建〔2026〕1号" in page
    assert client.get(f"/documents/{report['id']}").status_code == 404, "not the department's case"

    session_login(client, ctx, "office1")
    page = client.get("/dashboard/", query_string={"list": "supervision"}).get_data(as_text=True)
    assert "光巡建〔2026〕1号" in page
    rows = office.get("/lists/supervision", query_string={"unit_id": d.units[0], "status": "recommendation_letter"}
                      ).get_json()["items"]
    assert rows[0]["document_number"] == "光巡建〔2026〕1号"
    xlsx = office.get("/lists/supervision", query_string={"format": "xlsx", "unit_id": d.units[0],
                                                          "status": "recommendation_letter"})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    headers = [c.value for c in sheet[1]]
    assert headers[-2:] == ["文书文号", "文书SHA-256"]
    assert [c.value for c in sheet[2]][-2:] == ["光巡建〔2026〕1号", rows[0]["document_sha256"]]


def test_a_department_reads_its_own_letters_document_and_no_other(ctx, api, district):
    d = district
    publish_round(api, d)
    own = liaison(api, d, 0)
    [letter] = own.get("/letters").get_json()["items"]
    [document] = letter["documents"]
    assert document["kind"] == "recommendation_letter"
    assert own.get(f"/documents/{document['id']}/content").status_code == 200
    assert liaison(api, d, 1).get(f"/documents/{document['id']}/content").status_code == 404, "another department"
    assert api.as_("leading1").get(f"/documents/{document['id']}/content").status_code == 200


def test_a_tracking_letter_needs_a_demand_a_sensible_reply_time_and_the_office(ctx, api, district):
    from service.errors import Forbidden, Unprocessable

    d = district
    round_id = publish_round(api, d)
    case_id = api.as_("office1").get("/cases", query_string={"round_id": round_id}).get_json()["items"][0]["id"]
    office = _office(ctx)
    with ctx.db.read() as s:
        unit_head = load_principal(s, user_id(ctx, "u000_head"))

    def refused(p, **kw):
        try:
            ctx.db.transaction(lambda s: documents.issue_tracking_letter(ctx, s, p, s.get_one(Case, case_id), **kw))
        except (Unprocessable, Forbidden) as exc:
            return exc.code
        return None

    assert refused(office, demand="  ") == "value_required"
    assert refused(office, demand="尽快整改", reply_days=0) == "out_of_range"
    assert refused(unit_head, demand="尽快整改") == "role_required"
    with ctx.db.read() as s:
        assert s.scalars(select(Document).where(Document.kind == "tracking_letter")).all() == [], "nothing half-written"
