"""The pages' texts in Chinese (the default) and English, from gettext catalogues (Flask-Babel).

Two domains live in service/translations/ (`make translations` extracts, updates and compiles them):

- `messages`, the UI's own texts. The code and the templates hold English source strings:
  `_("Inbox")`, `_("Uploaded: %(name)s", name=...)`, `ngettext("%(num)d day left", "%(num)d days
  left", n)` where a count decides the form, and `pgettext("menu", "Inbox")` where one English
  word needs two Chinese ones. zh_CN translates every one of them; en is the source language, so
  its catalogue stays empty (the msgids show as they are).
- `content`, texts of the process models and forms (task names, field labels, choices): designers
  write them in Chinese, so the Chinese text is the msgid and the en catalogue translates the
  default models; a designer's own texts show as written (`tc()`).

Codes shown as words (roles, statuses, warning levels, ...) go through `label(kind, code)`. The
compiled .mo files are committed, so an installation needs no build step; tests/test_web_i18n.py
fails when a .mo no longer matches its .po or when zh_CN lacks a text the pages use. Scripts get
their texts in the page's config with `{name}` placeholders (`js_text`, `js_counted`).
"""
from __future__ import annotations

import re
from pathlib import Path

from flask import Flask, current_app, has_request_context, session
from flask_babel import (  # noqa: F401  (re-exported for the page modules)
    Babel,
    Domain,
    format_date,
    format_datetime,
    gettext,
    lazy_gettext,
    lazy_pgettext,
    ngettext,
    pgettext,
)
from markupsafe import Markup, escape

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
# the session's language choice (the switch in the top bar) -> the locale of its catalogues; Babel
# names zh_CN by its script as well, zh_Hans_CN, and so does its folder in service/translations
LANGUAGES = {"zh": "zh_CN", "en": "en"}
DEFAULT_LANGUAGE = "zh"

_ = gettext
_l = lazy_gettext
_lp = lazy_pgettext
babel = Babel()
content = Domain(translation_directories=[str(TRANSLATIONS)], domain="content")


def get_language() -> str:
    if has_request_context():
        lang = session.get("lang")
        if lang in LANGUAGES:
            return lang
    return DEFAULT_LANGUAGE


def _select_locale() -> str:
    return LANGUAGES[get_language()]


def _select_timezone() -> str:
    return current_app.extensions["rectiflow"].settings.timezone


def init_app(app: Flask) -> None:
    """Flask-Babel for this app: the session's language, the configured zone (RECTIFLOW_TIMEZONE)."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LANGUAGES[DEFAULT_LANGUAGE])
    babel.init_app(app, default_translation_directories=str(TRANSLATIONS),
                   locale_selector=_select_locale, timezone_selector=_select_timezone)
    app.jinja_env.filters["zh"] = zh


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


def zh(text) -> Markup:
    """`{{ value|zh }}`: what people typed, unit names and BPMN names are Chinese whatever the page's
    language; on an English page (<html lang="en">) such text is marked lang="zh-CN", so that a
    screen reader reads it with a Chinese voice (WCAG 3.1.2). On a Chinese page, or for text with no
    Chinese in it, the text alone."""
    if text is None:
        return Markup("")
    if get_language() == "en" and _CJK.search(str(text)):
        return Markup('<span lang="zh-CN">%s</span>') % text
    return escape(text)


def tc(text: str | None) -> str:
    """A content string of a process model or form: English when the catalogue knows it, else as written."""
    if not text:
        return ""
    return content.gettext(text)


def fmt_datetime(when, with_time: bool = True) -> str:
    """A moment as the pages show it, in the configured zone: 2026-11-20 10:00 (or the date alone)."""
    if when is None:
        return ""
    return format_datetime(when, "yyyy-MM-dd HH:mm") if with_time else format_date(when, "yyyy-MM-dd")


# ---------------------------------------------------------------------- codes shown as words
LABELS: dict[str, dict] = {
    "role": {
        "office": _l("Inspection office"),
        "inspector": _l("Inspector"),
        "leading_group": _l("Leading group"),
        "leader": _l("Leader in charge"),
        "department": _l("Functional department"),
        "unit_liaison": _l("Unit liaison"),
        "unit_head": _l("Unit head"),
        "discipline": _l("Discipline commission"),
        "designer": _l("Process designer"),
        "admin": _l("Administrator"),
        "security_admin": _l("Security administrator"),
        "audit_admin": _l("Audit administrator"),
        "auditor": _l("Auditor"),
    },
    "warning": {
        "none": _l("No warning"),
        "green": _l("Green warning"),
        "yellow": _l("Yellow warning"),
        "red": _l("Red warning"),
    },
    "case_status": {
        "self_check": _l("Self-checking"),
        "rectifying": _l("Rectifying"),
        "filed": _l("Filed, awaiting review"),
        "returned": _l("Returned for rework"),
        "closed": _l("Closed out"),
    },
    "round_status": {
        "discovering": _l("Discovering"),
        "listing": _l("Distilling the list"),
        "published": _l("List published"),
        "closed": _l("Closed"),
    },
    "source": {
        "inspection": _l("Inspection"),
        "resident_report": _l("Residents' report"),
        "audit": _l("Audit"),
    },
    "unit_kind": {
        "department": _l("District department"),
        "street": _l("Street"),
        "community": _l("Community"),
        "company": _l("Community company"),
        "office": _l("Inspection office"),
        "leading_group": _lp("unit kind", "Leading group"),
        "discipline": _l("Discipline commission"),
    },
    "item_status": {
        "done": _lp("rectification status", "Done"),
        "ongoing": _l("Ongoing"),
        "not_done": _l("Not done"),
    },
    "supervision": {  # the kinds of the supervision list (督查清单), as its workbook words them
        "warning_green": _l("Green reminder"),
        "warning_yellow": _l("Yellow warning"),
        "warning_red": _lp("supervision", "Red warning"),
        "tracking_letter": _l("Tracking letter"),
        "talk_reminder": _l("Reminder talk"),
        "special_inspection": _l("Special inspection"),
        "recheck": _l("Follow-up re-check"),
        "recommendation_letter": _l("Recommendation letter"),
        "governance_plan": _l("Special governance plan"),
        "governance_report": _l("Special governance report"),
        "governance_evaluated": _l("Governance evaluated"),
        "urge": _l("Urged"),
        "extension_approved": _l("Extension approved"),
        "extension_refused": _l("Extension refused"),
        "measure_done": _l("Measure reported done"),
        "measure_overdue": _l("Measure overdue"),
        "tracking_reply": _l("Reply to the tracking letter"),
        "tracking_reply_late": _l("Tracking letter unanswered"),
        "inspection_check": _l("Special inspection check"),
    },
    "document": {  # the documents the service issues (service.documents)
        "recommendation_letter": _lp("document", "Recommendation letter"),
        "tracking_letter": _lp("document", "Tracking letter"),
        "report": _l("Rectification report"),
        "talk_record": _l("Record of the reminder talk"),
    },
    "supervision_outcome": {  # how a supervision step ended (SupervisionAction.outcome)
        "awaiting_reply": _l("Awaiting the reply"),
        "replied": _l("Replied"),
        "reply_late": _l("Not answered in time"),
        "recorded": _l("Recorded"),
        "assigned": _l("Inspectors sent"),
        "passed": _l("Passed"),
        "failed": _l("Failed: back to rectification"),
    },
    "filing_result": {
        "accepted": _l("Accepted"),
        "returned": _l("Returned"),
        "pending": _l("Awaiting review"),
    },
    "evidence_review": {  # one evidence file's review (supervision.review_evidence)
        "accepted": _lp("evidence review", "Accepted"),
        "rejected": _lp("evidence review", "Rejected"),
        "pending": _lp("evidence review", "Not reviewed yet"),
    },
    "extension": {  # an extension request's state (service.extensions)
        "pending": _lp("extension", "Awaiting the office"),
        "approved": _lp("extension", "Approved"),
        "refused": _lp("extension", "Refused"),
    },
    "measure_followup": {  # a measure followed after close-out (Measure.followup)
        "open": _lp("measure", "Open"),
        "overdue": _lp("measure", "Overdue"),
        "done": _lp("measure", "Done"),
    },
    "resident_report": {  # a resident's report's status (ResidentReport.status), as residents read it too
        "received": _lp("resident report", "Received"),
        "linked": _lp("resident report", "Taken into the inspection"),
        "forwarded": _lp("resident report", "Forwarded to a unit"),
        "handled": _lp("resident report", "Handled by the unit"),
        "closed": _lp("resident report", "Answered"),
    },
    "resident_step": {  # one step of a report's handling (ResidentReportStep.kind)
        "received": _lp("resident step", "The report was received"),
        "linked": _lp("resident step", "Recorded as a problem found by the inspection"),
        "forwarded": _lp("resident step", "Forwarded to the responsible unit to handle by a deadline"),
        "handled": _lp("resident step", "The responsible unit reported what it did"),
        "closed": _lp("resident step", "The inspection office replied"),
    },
    "role_change": {
        "pending": _l("Awaiting approval"),
        "approved": _l("Approved"),
        "rejected": _l("Rejected"),
    },
    "instance_status": {
        "running": _l("Running"),
        "completed": _l("Completed"),
        "error": _l("Failed"),
        "suspended": _l("Suspended"),
        "cancelled": _lp("instance status", "Cancelled"),
    },
    "event": {
        "started": _lp("history event", "Started"),
        "task_completed": _l("Completed task"),
        "timer_fired": _l("Timer fired"),
        "message": _l("Message received"),
        "signal": _l("Signal received"),
        "completed": _lp("history event", "Completed"),
        "failed": _lp("history event", "Failed"),
        "retried": _l("Retried by hand"),
        "suspended": _lp("history event", "Suspended"),
        "resumed": _l("Resumed"),
        "cancelled": _lp("history event", "Cancelled"),
        "data_changed": _l("Data changed (deadline moved)"),
        "migrated": _l("Migrated to another version"),
        "migration_rolled_back": _l("Migration rolled back"),
    },
    "figure": {
        "common_problems": _l("Common problems"),
        "problems_found": _l("Problems found by self-check"),
        "measures": _l("Measures"),
        "institutions": _l("Institutions improved"),
        "recommendation_letters": _l("Recommendation letters"),
        "cases_filed": _l("Cases filed"),
        "people_filed": _l("People filed"),
        "units_total": _l("Units rectifying"),
        "units_filed": _l("Units filed"),
        "units_closed": _l("Units closed out"),
        "units_overdue": _l("Units overdue"),
        "completion_rate": _l("Closed-out rate"),
        "average_days_to_file": _l("Average time to file"),
        "recurrence_rate": _l("Recurrence rate"),
    },
    "recurrence": {  # a problem or a rectification row that recurs (问题反弹, service.insight)
        "recurring": _l("Recurring"),
        "similar": _l("Recurs after an earlier round closed a similar problem"),
        "recheck": _l("Found again in a follow-up re-check"),
    },
    "list": {
        "problems": _l("Problem list"),
        "responsibilities": _l("Responsibility list"),
        "rectifications": _l("Rectification list"),
        "supervision": _l("Supervision list"),
    },
    "column": {
        "id": _l("No."),
        "round": _l("Round"),
        "unit": _l("Unit"),
        "description": _lp("problem", "Description"),
        "category": _l("Category"),
        "source": _l("Source"),
        "common_problem": _l("Common problem"),
        "recorded_at": _l("Recorded"),
        "case_id": _lp("list column", "Case"),
        "head": _l("Head"),
        "liaison": _l("Liaison"),
        "leader": _l("Leader in charge"),
        "department": _l("Responsible department"),
        "co_departments": _l("Co-responsible departments"),
        "measures": _l("Measures"),
        "deadlines": _l("Deadlines"),
        "institutions": _l("Institutions"),
        "status": _lp("list column", "Status"),
        "case_status": _l("Case status"),
        "evidence": _l("Evidence files"),
        "filed_at": _l("Filed"),
        "closed_at": _lp("list column", "Closed out"),
        "at": _l("Time"),
        "kind": _l("Kind"),
        "target": _l("Target"),
        "actor": _lp("list column", "By"),
        "detail": _l("Detail"),
        "followup": _l("Follow-up after close-out"),
        "followup_measures": _l("Measures followed up"),
        "recurring": _l("Recurrence"),
        "document_number": _l("Document number"),
        "document_sha256": _l("Document SHA-256"),
    },
    "audit_action": {  # what the audit log records (service.audit.record's actions)
        "login": _l("Logged in"),
        "login_failed": _l("Login refused"),
        "logout": _l("Logged out"),
        "token_issued": _l("API token issued"),
        "token_refused": _l("API token refused"),
        "token_revoked": _l("API token ended"),
        "password_changed": _l("Password changed"),
        "password_change_refused": _l("Password change refused"),
        "task_completed": _l("Task completed"),
        "evidence_uploaded": _l("Evidence uploaded"),
        "evidence_reviewed": _l("Evidence reviewed"),
        "list_exported": _l("List exported"),
        "model_deployed": _l("Process model deployed"),
        "model_version_made_current": _l("Process model version made current"),
        "model_version_retired": _l("Process model version retired"),
        "decision_deployed": _l("Decision deployed"),
        "instance_retried": _l("Process instance retried"),
        "instance_suspended": _l("Process instance suspended"),
        "instance_resumed": _l("Process instance resumed"),
        "instance_cancelled": _l("Process instance cancelled"),
        "role_change_proposed": _l("Role change proposed"),
        "role_change_approved": _l("Role change approved"),
        "role_change_rejected": _l("Role change rejected"),
        "account_unlocked": _l("Lockout lifted"),
        "audit_exported": _l("Audit log exported"),
        "audit_verified": _l("Audit log verified"),
        "audit_log_refused": _l("Reading the audit log refused"),
        "audit_pruned": _l("Expired audit entries removed"),
        "sessions_ended": _l("Other sessions ended"),
        "totp_enrolment_started": _l("Two-step verification set-up started"),
        "totp_enabled": _l("Two-step verification turned on"),
        "totp_disabled": _l("Two-step verification turned off"),
        "totp_disable_refused": _l("Turning off two-step verification refused"),
        "totp_reset": _l("Two-step verification reset"),
        "unit_created": _l("Unit created"),
        "unit_updated": _l("Unit changed"),
        "user_created": _l("Account created"),
        "user_updated": _l("Account changed"),
        "password_reset": _l("Password reset"),
        "admin_created": _l("System administrator created"),
        "organisation_imported": _l("Organisation imported"),
        "round_created": _l("Round created"),
        "problem_recorded": _l("Problem recorded"),
        "common_problem_added": _l("Common problem added"),
        "clue_registered": _l("Clue registered"),
        "resident_report_linked": _l("Residents' report linked to a problem"),
        "resident_report_forwarded": _l("Residents' report forwarded to a unit"),
        "resident_report_replied": _l("Residents' report answered"),
        "disclosure_saved": _l("Disclosure draft saved"),
        "disclosure_published": _l("Disclosure approved and published"),
        "disclosure_withdrawn": _l("Disclosure withdrawn"),
        "petitions_entered": _l("Petition count entered"),
        "inspector_profile_changed": _l("Inspector's entry changed"),
        "expert_added": _l("Expert added"),
        "audit_finding_added": _l("Audit finding recorded"),
        "audit_finding_linked": _l("Audit finding linked to a problem"),
        "case_recheck_started": _l("Re-check started"),
        "notification_acknowledged": _l("Notice acknowledged"),
        "evidence_downloaded": _l("Evidence downloaded"),
        "problem_changed": _l("Problem corrected"),
        "problem_removed": _l("Problem removed"),
        "common_problem_changed": _l("Common problem corrected"),
        "common_problem_removed": _l("Common problem removed"),
        "case_urged": _l("Unit urged"),
        "case_commented": _l("Department's comment added"),
        "expert_assigned": _l("Expert assigned to a round"),
        "expert_unassigned": _l("Expert taken off a round"),
        "evidence_removed": _l("Evidence removed"),
        "extension_requested": _l("Extension requested"),
        "extension_decided": _l("Extension decided"),
        "document_downloaded": _l("Document downloaded"),
        "job_retried": _l("Failed publication taken up again"),
        "message_sent": _l("Message sent to processes"),
        "signal_sent": _l("Signal sent to processes"),
        "migration_started": _l("Migration of running instances started"),
        "instance_migrated": _l("Instance migrated to another version"),
        "instance_migration_skipped": _l("Instance left out of a migration"),
        "instance_migration_rolled_back": _l("Instance's migration rolled back"),
    },
    "audit_outcome": {
        "ok": _l("Succeeded"),
        "refused": _l("Refused"),
    },
    "audit_target": {  # the kind before the colon of an entry's target (user:office1)
        "user": _lp("audit target", "Account"),
        "task": _lp("audit target", "Task"),
        "case": _lp("audit target", "Case"),
        "evidence": _lp("audit target", "Evidence"),
        "list": _lp("audit target", "List"),
        "model": _lp("audit target", "Process model"),
        "unit": _lp("audit target", "Unit"),
        "round": _lp("audit target", "Round"),
        "problem": _lp("audit target", "Problem"),
        "common_problem": _lp("audit target", "Common problem"),
        "clue": _lp("audit target", "Clue"),
        "letter": _lp("audit target", "Recommendation letter"),
        "measure": _lp("audit target", "Measure followed up"),
        "expert": _lp("audit target", "Expert"),
        "audit_finding": _lp("audit target", "Audit finding"),
        "notification": _lp("audit target", "Notice"),
        "document": _lp("audit target", "Document"),
        "resident_report": _lp("audit target", "Residents' report"),
        "disclosure": _lp("audit target", "Public disclosure"),
        "audit-log": _l("The audit log"),
    },
    "audit_detail": {  # the keys of an entry's detail
        "code": _lp("audit detail", "Reason"),
        "step": _lp("audit detail", "Step"),
        "task": _lp("audit detail", "Step"),
        "instance": _lp("audit detail", "Process instance"),
        "evidence": _lp("audit detail", "Evidence file"),
        "sha256": "SHA-256",
        "case": _lp("audit detail", "Case"),
        "result": _lp("audit detail", "Result"),
        "number": _lp("audit detail", "Document number"),
        "lists": _lp("audit detail", "Lists"),
        "round_id": _lp("audit detail", "Round"),
        "unit_id": _lp("audit detail", "Unit"),
        "industry": _lp("audit detail", "Industry"),
        "status": _lp("audit detail", "Status"),
        "department_id": _lp("audit detail", "Responsible department"),
        "overdue": _lp("audit detail", "Overdue"),
        "created": _lp("audit detail", "New version"),
        "via": _lp("audit detail", "Through"),
        "change": _lp("audit detail", "Role change"),
        "before": _lp("audit detail", "Roles before"),
        "after": _lp("audit detail", "Roles after"),
        "action": _lp("audit detail", "Action"),
        "actor": _lp("audit detail", "By"),
        "outcome": _lp("audit detail", "Outcome"),
        "from": _lp("audit detail", "From"),
        "to": _lp("audit detail", "To"),
        "format": _lp("audit detail", "Format"),
        "rows": _lp("audit detail", "Entries"),
        "count": _lp("audit detail", "Entries"),
        "base_id": _lp("audit detail", "Removed up to entry"),
        "base_hash": _lp("audit detail", "Hash of that entry"),
        "base": _lp("audit detail", "Chain starts after entry"),
        "cutoff": _lp("audit detail", "Older than"),
        "retention_days": _lp("audit detail", "Retention (days)"),
        "round": _lp("audit detail", "Round"),
        "unit": _lp("audit detail", "Unit"),
        "units": _lp("audit detail", "Units"),
        "inspectors": _lp("audit detail", "Inspectors"),
        "problem": _lp("audit detail", "Problem"),
        "problems": _lp("audit detail", "Problems"),
        "kind": _lp("audit detail", "Kind"),
        "id": _lp("audit detail", "Number"),
        "conflict_units": _lp("audit detail", "Conflict-of-interest units"),
        "token_id": _lp("audit detail", "API token"),
        "instruction": _lp("audit detail", "Instruction written"),
        "searched": _lp("audit detail", "Searched for"),
        "period": _lp("audit detail", "Month"),
        "deadline": _lp("audit detail", "Deadline"),
        "shown": _lp("audit detail", "Lines shown"),
    },
    "audit_break": {  # why a verification of the audit log failed (service.audit.verify's `why`)
        "altered": _l("entry %(id)s was altered, or not written with this audit key"),
        "missing": _l("the chain breaks before entry %(id)s: entry %(missing)s is missing"),
        "not_following": _l("entry %(id)s does not follow the entry before it"),
        "before_base": _l("entry %(id)s lies before the start of the chain that the head row records "
                          "(after entry %(base)s)"),
        "cut_short": _l("the chain ends at entry %(end)s, but entries up to %(last)s were written"),
        "head_mismatch": _l("the chain does not end where the head row says (entry %(last)s)"),
        "unsealed_base": _l("entries up to %(base)s were removed, but no sealed removal entry names that cut"),
    },
    "warning_units": {
        "red": _l("Units on red"),
        "yellow": _l("Units on yellow"),
    },
    "no_warning_units": {
        "red": _l("No unit is on red."),
        "yellow": _l("No unit is on yellow."),
    },
    "notice": {  # what a message in the message centre tells of (service.notices.KINDS)
        "task": _l("New task"),
        "returned": _lp("notice", "Returned"),
        "warning_yellow": _l("Yellow warning"),
        "warning_red": _l("Red warning"),
        "talk_reminder": _l("Reminder talk due"),
        "urge": _l("Urged"),
        "list_published": _l("List published"),
        "instruction": _l("Leader's instruction"),
        "comment": _l("Department's comment"),
        "extension_requested": _l("Extension requested"),
        "extension_approved": _l("Extension approved"),
        "extension_refused": _l("Extension refused"),
        "tracking_letter": _l("Tracking letter"),
        "tracking_replied": _l("Tracking letter answered"),
        "tracking_reply_late": _l("Tracking letter unanswered"),
        "talk_recorded": _l("Reminder talk held"),
    },
    "leader_notice": {  # what a leader in charge signs for (LeaderNotification.kind)
        "list": _l("List published"),
        "yellow_warning": _l("Yellow warning"),
        "red_warning": _l("Red warning"),
        "talk_reminder": _l("Reminder talk due"),
        "talk_record": _l("Reminder talk held"),
    },
    "data_key": {  # what a step's data holds, when the step's form does not name it (history, done list)
        "items": _lp("data", "Items"),
        "common_problem_id": _l("Common problem"),
        "applicable": _l("Applies to the unit"),
        "reason": _lp("data", "Reason"),
        "problems_found": _l("Problems found"),
        "findings": _l("Findings"),
        "measures": _l("Measures"),
        "institutions": _l("Institutions"),
        "status": _lp("data", "Status"),
        "description": _lp("data", "Description"),
        "deadline": _l("Deadline"),
        "title": _lp("data", "Title"),
        "comment": _lp("data", "Opinion"),
        "accepted": _l("Accepted"),
        "approved": _l("Approved"),
        "attest": _l("Attested"),
        "summary": _lp("data", "Summary"),
        "due_at": _l("Due"),
        "round_id": _lp("data", "Round"),
        "unit_id": _lp("data", "Unit"),
        "case_id": _lp("data", "Case"),
        "self_checked": _l("Self-checked"),
        "overdue": _lp("data", "Overdue"),
        "business_key": _lp("data", "Record"),
    },
    "error": {
        400: _l("Bad request"),
        401: _l("Login needed"),
        403: _l("Not allowed"),
        404: _l("Not found"),
        405: _l("Method not allowed"),
        409: _l("Conflict"),
        413: _l("Too large"),
        429: _l("Too many requests"),
        422: _l("Cannot be processed"),
        500: _l("Server error; nothing was saved"),
    },
    "clue_status": {  # service.clues.STATUSES
        "registered": _l("Awaiting hand-over approval"),
        "handed_over": _l("Handed over"),
        "not_handed_over": _l("Not handed over"),
        "received": _l("Received"),
        "disposed": _l("Disposed"),
    },
    "disposition": {  # service.clues.DISPOSITIONS
        "case_filed": _lp("disposition", "Case filed"),
        "preliminary_check": _l("Preliminary check"),
        "closed": _lp("disposition", "Closed"),
    },
}


def label(kind: str, code) -> str:
    """The word for a code (`label("role", "office")`); an unknown code shows as itself."""
    text = LABELS[kind].get(code)
    return str(text) if text is not None else str(code)


def js_text(text: str) -> str:
    """A catalogue text for the pages' scripts, which fill `{name}` rather than `%(name)s`."""
    return re.sub(r"%\((\w+)\)[sd]", r"{\1}", str(text))


def js_counted(text) -> dict:
    """Both forms of a counted text for a script, which picks `one` for 1 and `other` otherwise:
    `js_counted(lambda k: ngettext("%(n)s row", "%(n)s rows", k, n="{n}"))` leaves `{n}` to fill."""
    return {"one": text(1), "other": text(2)}
