"""Residents' reports: in without an account, triaged by the office, answered by tracking code; and
what keeps the public side safe: limits, codes that cannot be guessed, photos without their
location, a challenge for repeated submissions, and script shown as text."""
from __future__ import annotations

import io
import re
from datetime import timedelta

from PIL import Image
from sqlalchemy import select
from support.api import liaison, run_jobs
from support.pages import Pages

from service.models import AuditEntry, Problem, ResidentPhoto, ResidentReport

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def gps_jpeg() -> bytes:
    """A JPEG as a phone writes it: with GPS coordinates, the camera's make and a comment in EXIF."""
    img = Image.new("RGB", (64, 48), (200, 80, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"     # Model
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (22.0, 45.0, 36.0), 3: "E", 4: (113.0, 56.0, 24.0)})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, comment=b"home address")
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825), "the test photo carries a location"
    return data


def submit(client, addr: str = "198.51.100.1", **fields):
    body = {"category": "道路交通", "description": "路口红绿灯坏了三天", **fields}
    return client.post("/api/v1/public/reports", json=body, environ_base={"REMOTE_ADDR": addr})


def test_a_resident_reports_and_reads_the_office_reply_by_code(api, client, ctx, district):
    d = district
    r = submit(client, unit_code=d.codes[d.units[2]], contact="13800138000", place="幸福路口")
    assert r.status_code == 201, r.get_json()
    code = r.get_json()["tracking_code"]
    assert re.fullmatch(r"[2-9A-Z]{4}(-[2-9A-Z]{4}){3}", code)
    status = client.get(f"/api/v1/public/reports/{code}").get_json()
    assert status["status"] == "received" and "reply" not in status
    assert "13800138000" not in repr(status), "the contact is never shown back"

    office = api.as_("office1")
    listed = office.get("/resident-reports").get_json()
    assert listed["total"] == 1 and listed["items"][0]["contact"] == "13800138000"
    report_id = listed["items"][0]["id"]
    assert office.post(f"/resident-reports/{report_id}/reply", json={"reply": "已督促修复"}).status_code == 200
    status = client.get(f"/api/v1/public/reports/{code.lower().replace('-', ' ')}").get_json()
    assert status["status"] == "closed" and status["reply"] == "已督促修复"
    assert [s["kind"] for s in status["steps"]] == ["received", "closed"]
    # one rating per code
    assert client.post("/api/v1/public/ratings", json={"tracking_code": code, "score": 4}).status_code == 201
    again = client.post("/api/v1/public/ratings", json={"tracking_code": code, "score": 1})
    assert again.status_code == 409 and again.get_json()["code"] == "already_rated"
    with ctx.db.read() as s:
        assert [e.action for e in s.scalars(select(AuditEntry).where(AuditEntry.action.like("resident%")))] \
            == ["resident_report_replied"]


def test_a_linked_report_is_a_problem_from_residents_reports(api, client, ctx, district):
    d = district
    office = api.as_("office1")
    round_id = office.post("/rounds", json={"name": "专项巡察", "inspected_unit_ids": d.units[:2],
                                            "inspector_ids": d.inspectors[:1]}).get_json()["id"]
    code = submit(client, round_id=round_id).get_json()["tracking_code"]
    report_id = office.get("/resident-reports").get_json()["items"][0]["id"]
    r = office.post(f"/resident-reports/{report_id}/link", json={"round_id": round_id, "unit_id": d.units[1]})
    assert r.status_code == 200, r.get_json()
    rows = office.get("/lists/problems", query_string={"round_id": round_id}).get_json()["items"]
    assert [(p["source"], p["description"], p["unit"]) for p in rows] == [
        ("resident_report", "路口红绿灯坏了三天", "单位1")]
    assert client.get(f"/api/v1/public/reports/{code}").get_json()["status"] == "linked"
    again = office.post(f"/resident-reports/{report_id}/link", json={"round_id": round_id})
    assert again.status_code == 409 and again.get_json()["code"] == "report_linked"
    with ctx.db.read() as s:
        assert s.scalar(select(Problem.source)) == "resident_report"


def test_a_forwarded_report_is_a_task_in_the_units_inbox_and_its_answer_reaches_the_office(api, client, ctx, district):
    d = district
    office = api.as_("office1")
    code = submit(client, contact="张女士 13900000000").get_json()["tracking_code"]
    report_id = office.get("/resident-reports").get_json()["items"][0]["id"]
    deadline = (ctx.now() + timedelta(days=10)).date().isoformat()
    past = office.post(f"/resident-reports/{report_id}/forward", json={"unit_id": d.units[3], "deadline": "2000-01-01"})
    assert past.status_code == 422 and past.get_json()["code"] == "deadline_in_past"
    r = office.post(f"/resident-reports/{report_id}/forward", json={"unit_id": d.units[3], "deadline": deadline})
    assert r.status_code == 200, r.get_json()
    unit = liaison(api, d, 3)
    tasks = unit.tasks(step="handle_resident_report")
    assert len(tasks) == 1 and tasks[0]["due_at"].startswith((ctx.now() + timedelta(days=10)).date().isoformat()[:8])
    assert liaison(api, d, 4).tasks(step="handle_resident_report") == [], "only the unit it was forwarded to"
    refused = office.post(f"/resident-reports/{report_id}/reply", json={"reply": "已办"})
    assert refused.status_code == 409 and refused.get_json()["code"] == "report_forwarded"
    assert client.get(f"/api/v1/public/reports/{code}").get_json()["status"] == "forwarded"
    unit.complete(tasks[0]["id"], {"reply": "已安排维修"})
    report = office.get("/resident-reports").get_json()["items"][0]
    assert report["status"] == "handled" and report["unit_reply"] == "已安排维修"
    assert office.post(f"/resident-reports/{report_id}/reply", json={"reply": "已修复，感谢反映"}).status_code == 200
    status = client.get(f"/api/v1/public/reports/{code}").get_json()
    assert [s["kind"] for s in status["steps"]] == ["received", "forwarded", "handled", "closed"]
    assert status["reply"] == "已修复，感谢反映" and "已安排维修" not in repr(status)
    # the unit's page shows the report without the resident's contact
    pages = Pages(client)
    assert pages.login(f"{d.codes[d.units[3]].lower()}_liaison").status_code == 302
    html = pages.text(f"/tasks/{tasks[0]['id']}")
    assert "路口红绿灯坏了三天" in html and "13900000000" not in html
    run_jobs(api)


def test_only_the_office_triages(api, client, district):
    submit(client)
    for who in ("leading1", f"{district.codes[district.units[0]].lower()}_liaison", "admin"):
        assert api.as_(who).get("/resident-reports").status_code == 403
        assert api.as_(who).post("/resident-reports/1/reply", json={"reply": "x"}).status_code in (403, 404)


# ---------------------------------------------------------------- security
def test_a_guessed_or_malformed_code_reveals_nothing(client, district):
    real = submit(client).get_json()["tracking_code"]
    answers = set()
    for guess in ("AAAA-AAAA-AAAA-AAAA", real[:-1] + ("2" if real[-1] != "2" else "3"), "1", "' OR 1=1 --",
                  "%2e%2e", "x" * 40):
        r = client.get(f"/api/v1/public/reports/{guess}")
        assert r.status_code == 404
        body = r.get_json()
        answers.add((body["code"], body["detail"], body["title"]))
    assert answers == {("report_not_found", "no report has this tracking code", "Not found")}, answers
    # the page answers every unknown code with the same words too
    pages = Pages(client)
    texts = set()
    for guess in ("AAAA-AAAA-AAAA-AAAA", "nonsense"):
        token = pages.token("/public/track")
        r = client.post("/public/track", data={"tracking_code": guess, "csrf_token": token})
        assert r.status_code == 404
        texts.add(re.sub(r'value="[^"]*"', "", re.sub(r'name="csrf[-_]token"[^>]*>', "", r.get_data(as_text=True))))
    assert len(texts) == 1


def test_codes_are_long_and_random(client, district):
    codes = {submit(client, addr=f"198.51.100.{i}").get_json()["tracking_code"] for i in range(20)}
    assert len(codes) == 20
    assert all(len(c.replace("-", "")) == 16 for c in codes)


def test_two_hundred_rapid_submissions_from_one_address_are_throttled(client, ctx, district):
    statuses = [submit(client, addr="203.0.113.9").status_code for _ in range(200)]
    assert statuses.count(201) <= ctx.settings.resident_challenge_after, "the challenge stops the rest"
    assert statuses.count(429) >= 150, "the rate limit per address refuses most of them"
    assert set(statuses) <= {201, 422, 429}
    with ctx.db.read() as s:
        assert len(s.scalars(select(ResidentReport.id)).all()) == ctx.settings.resident_challenge_after
    assert submit(client, addr="203.0.113.10").status_code == 201, "another address is not affected"


def test_codes_are_limited_per_code_whichever_address_asks(client, ctx, district):
    ctx.settings.rate_limit_public_code = "3 per minute"
    code = submit(client).get_json()["tracking_code"]
    seen = [client.get(f"/api/v1/public/reports/{code}", environ_base={"REMOTE_ADDR": f"192.0.2.{i}"}).status_code
            for i in range(5)]
    assert seen == [200, 200, 200, 429, 429]


def test_repeated_submissions_need_the_challenge_answered_once(client, ctx, district):
    for _ in range(ctx.settings.resident_challenge_after):
        assert submit(client, addr="192.0.2.50").status_code == 201
    r = submit(client, addr="192.0.2.50")
    assert r.status_code == 422 and r.get_json()["code"] == "challenge_required"
    challenge = r.get_json()["challenge"]
    a, b = (int(x) for x in challenge["question"].split("+"))
    wrong = submit(client, addr="192.0.2.50", challenge_token=challenge["token"], challenge_answer=str(a + b + 1))
    assert wrong.status_code == 422 and wrong.get_json()["code"] == "challenge_wrong"
    right = submit(client, addr="192.0.2.50", challenge_token=challenge["token"], challenge_answer=str(a + b))
    assert right.status_code == 201
    replay = submit(client, addr="192.0.2.50", challenge_token=challenge["token"], challenge_answer=str(a + b))
    assert replay.status_code == 422 and replay.get_json()["code"] == "challenge_wrong", "an answer works once"


def test_a_photos_location_and_camera_data_are_gone_after_upload(client, ctx, district):
    r = client.post("/api/v1/public/reports", data={
        "category": "环境卫生", "description": "垃圾堆放", "photos": (io.BytesIO(gps_jpeg()), "IMG_0001.jpg")},
        content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    with ctx.db.read() as s:
        stored = s.scalars(select(ResidentPhoto)).one().content
    img = Image.open(io.BytesIO(stored))
    assert img.format == "JPEG" and img.size == (64, 48)
    exif = img.getexif()
    assert not exif.get_ifd(0x8825) and 0x010F not in exif and 0x8825 not in exif
    assert b"PhoneMaker" not in stored and b"home address" not in stored and b"Exif" not in stored


def test_what_is_not_a_picture_or_too_large_is_refused(client, ctx, district):
    r = client.post("/api/v1/public/reports", data={
        "category": "环境卫生", "description": "垃圾堆放", "photos": (io.BytesIO(b"<svg onload=alert(1)>"), "a.jpg")},
        content_type="multipart/form-data")
    assert r.status_code == 422 and r.get_json()["code"] == "photo_not_image"
    ctx.settings.resident_photo_mb = 0
    r = client.post("/api/v1/public/reports", data={
        "category": "环境卫生", "description": "垃圾堆放", "photos": (io.BytesIO(gps_jpeg()), "a.jpg")},
        content_type="multipart/form-data")
    assert r.status_code == 413 and r.get_json()["code"] == "photo_too_large"
    r = submit(client, description="长" * 2001)
    assert r.status_code == 422
    with ctx.db.read() as s:
        assert s.scalars(select(ResidentReport.id)).all() == []


def test_script_in_every_public_field_is_shown_as_text(api, client, ctx, district):
    d = district
    office = api.as_("office1")
    code = submit(client, description=SCRIPT, place=SCRIPT, contact=SCRIPT).get_json()["tracking_code"]
    report_id = office.get("/resident-reports").get_json()["items"][0]["id"]
    office.post(f"/resident-reports/{report_id}/reply", json={"reply": SCRIPT})
    client.post("/api/v1/public/ratings", json={"tracking_code": code, "score": 3, "comment": SCRIPT})
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
    pages = Pages(client)
    token = pages.token("/public/track")
    public = client.post("/public/track", data={"tracking_code": code, "csrf_token": token}).get_data(as_text=True)
    assert escaped in public and SCRIPT not in public
    pages.login("office1")
    for path in ("/resident-reports", f"/resident-reports/{report_id}"):
        html = pages.text(path)
        assert SCRIPT not in html and "<script>alert" not in html, path
    assert escaped in pages.text(f"/resident-reports/{report_id}")
    # the report form given back after a refusal, with the fields as entered
    token = pages.token("/public/report")
    refused = client.post("/public/report", data={"category": "", "description": SCRIPT, "place": SCRIPT,
                                                   "contact": SCRIPT, "csrf_token": token})
    assert refused.status_code == 422
    assert SCRIPT not in refused.get_data(as_text=True) and escaped in refused.get_data(as_text=True)
    assert d.units


def test_the_report_page_asks_for_the_sum_after_several_reports(client, ctx, district):
    pages = Pages(client)
    form = {"category": "环境卫生", "description": "河道漂浮垃圾"}
    for _ in range(ctx.settings.resident_challenge_after):
        r = pages.post("/public/report", form, token_from="/public/report")
        assert r.status_code == 302 and r.headers["Location"].endswith("/public/report/received")
    asked = pages.post("/public/report", form, token_from="/public/report")
    assert asked.status_code == 422
    html = asked.get_data(as_text=True)
    a, b = (int(x) for x in re.search(r"请计算：(\d) \+ (\d) = ？", html).groups())
    token = re.search(r'name="challenge_token" value="([^"]+)"', html).group(1)
    assert "河道漂浮垃圾" in html, "what was entered is kept"
    r = pages.post("/public/report", {**form, "challenge_token": token, "challenge_answer": str(a + b)},
                   token_from="/public/report")
    assert r.status_code == 302
    received = client.get("/public/report/received").get_data(as_text=True)
    assert re.search(r'id="tracking-code">[2-9A-Z-]{19}<', received)
