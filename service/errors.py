"""Errors as application/problem+json (RFC 9457): a 4xx that names what was wrong.

Every error body carries a stable snake_case `code`; field errors are `{"field", "code",
"message"}`. `as_problem` is the one place that turns any exception into that body, for the
API and (through their own rendering) the pages.
"""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from workflows.engine import EngineError, InvalidTaskData, WorkflowFailure


class ApiError(Exception):
    """`code` is stable (snake_case) for clients and pages to act on; `detail` is for people."""

    status = 400
    title = "Bad request"
    code = "bad_request"

    def __init__(self, detail: str, errors: list[dict] | None = None, *, code: str | None = None, **params):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.code = code or type(self).code
        self.params = params  # values the message names, for pages that word it themselves

    @classmethod
    def on_field(cls, field: str, code: str, message: str, detail: str | None = None, **params) -> ApiError:
        """An error about one field, coded the same at the top and on the field."""
        return cls(detail or message, [{"field": field, "code": code, "message": message}], code=code, **params)

    def body(self) -> dict:
        return problem(self.status, self.code, self.title, self.detail, self.errors)


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    status, title = 401, "Unauthorized"
    code = "unauthorized"


class AccountLocked(Unauthorized):
    """Too many failed logins; the account is refused until the lockout ends."""

    code = "account_locked"


class TotpRequired(Unauthorized):
    """The password was right, but the account has a second factor and no code came with it."""

    code = "totp_required"


class TotpInvalid(Unauthorized):
    """A login with a one-time code that is wrong, or whose password is: the answer does not say which."""

    code = "totp_invalid"


class TotpReplayed(Unauthorized):
    """A one-time code of a time step the account has used already."""

    code = "totp_replayed"


class Forbidden(ApiError):
    status, title = 403, "Forbidden"
    code = "forbidden"


class NotFound(ApiError):
    status, title = 404, "Not found"
    code = "not_found"


class Conflict(ApiError):
    status, title = 409, "Conflict"
    code = "conflict"


class TooLarge(ApiError):
    status, title = 413, "Payload too large"
    code = "payload_too_large"


class Unprocessable(ApiError):
    status, title = 422, "Unprocessable content"
    code = "unprocessable"


def problem(status: int, code: str, title: str, detail: str, errors: list[dict] | None = None) -> dict:
    """The one shape of an error body (RFC 9457 problem details, with our stable `code`)."""
    body = {"type": "about:blank", "title": title, "status": status, "code": code, "detail": detail}
    if errors:
        body["errors"] = errors
    return body


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
               415: "unsupported_media_type", 429: "too_many_requests"}


def as_problem(exc: BaseException, upload_limit_mb: int | None = None) -> dict | None:
    """The problem body for an exception the service expects; None for a bug (a 500)."""
    from .db import Conflict as RetryConflict  # the database module imports the models, which come later

    if isinstance(exc, ApiError):
        return exc.body()
    if isinstance(exc, InvalidTaskData):
        return problem(422, exc.code, "Unprocessable content", str(exc), exc.errors)
    if isinstance(exc, WorkflowFailure):
        errors = [{"element_id": exc.element_id, "code": exc.code, "message": str(exc)}] if exc.element_id else None
        return problem(422, exc.code, "The process model failed", str(exc), errors)
    if isinstance(exc, EngineError):
        return problem(exc.status, exc.code, "Conflict" if exc.status == 409 else "Not found", str(exc))
    if isinstance(exc, RetryConflict):
        return problem(409, "concurrent_change", "Conflict", str(exc))
    if isinstance(exc, IntegrityError):
        # two requests created the same thing at once; the loser's transaction rolled back whole
        return problem(409, "duplicate", "Conflict", "the record conflicts with one that exists already; reload and retry")
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        detail = exc.description or exc.name
        if status == 413 and upload_limit_mb:
            detail = f"the request is larger than the limit of {upload_limit_mb} MB"
        return problem(status, _HTTP_CODES.get(status, f"http_{status}"), exc.name, detail)
    return None


def N_(text: str) -> str:
    """Marks a text for the translation catalogues (`make translations`) without translating it here."""
    return text


# Every code an error body or a field error may carry, with what it tells a person. Pages show the
# text in the reader's language (gettext); `%(name)s` parts come from the error's own values.
ERROR_CODES: dict[str, str] = {
    # HTTP and request shape
    "bad_request": N_("The request is not valid"),
    "unauthorized": N_("Please log in"),
    "account_locked": N_("The account is locked for a while after too many wrong passwords"),
    "wrong_password": N_("The current password is wrong"),
    "totp_required": N_("Enter the 6-digit code from your authenticator app"),
    "totp_invalid": N_("The code is wrong or has expired"),
    "totp_replayed": N_("This code has been used already; wait for the next one"),
    "totp_enrolment_required": N_("Your role needs two-step verification: set it up before you go on"),
    "totp_required_by_policy": N_("Your role needs two-step verification; it cannot be turned off"),
    "totp_already_enabled": N_("Two-step verification is on already"),
    "totp_not_started": N_("Start setting up two-step verification first"),
    "totp_not_enabled": N_("Two-step verification is not on"),
    "password_too_short": N_("The new password needs at least %(limit)s characters"),
    "password_reused": N_("The new password may not be any of your last %(limit)s passwords"),
    "forbidden": N_("You may not do this"),
    "role_required": N_("This needs a role you do not hold"),
    "audit_admin_required": N_("Only an audit administrator reads the audit log"),
    "not_found": N_("Not found, or not yours to see"),
    "conflict": N_("This conflicts with the current state; reload and try again"),
    "concurrent_change": N_("Someone changed this at the same time; reload and try again"),
    "duplicate": N_("This exists already; reload and try again"),
    "method_not_allowed": N_("This action is not available here"),
    "unsupported_media_type": N_("This kind of content is not accepted"),
    "too_many_requests": N_("Too many requests; try again in %(seconds)s seconds"),
    "payload_too_large": N_("The request is too large"),
    "unprocessable": N_("The request cannot be processed"),
    "internal_error": N_("The server failed; nothing was saved"),
    "json_required": N_("Send the data as JSON"),
    "invalid_json": N_("The data is not valid JSON"),
    "json_too_deep": N_("The data is nested more than %(limit)s levels deep"),
    "invalid_body": N_("Some fields are not valid"),
    "invalid_query": N_("A filter or page value is not valid"),
    "unstorable_input": N_("Some text cannot be stored"),
    "unstorable_text": N_("Contains characters that cannot be stored"),
    "out_of_range": N_("The number is out of range"),
    "too_long": N_("Too long"),
    "not_an_integer": N_("Enter a whole number"),
    "not_a_date": N_("Enter a valid date (YYYY-MM-DD)"),
    # organisation and pools
    "unknown_unit": N_("Unknown unit"),
    "unknown_unit_kind": N_("Unknown kind of unit"),
    "unknown_role": N_("Unknown role"),
    # administration duties (三员分立)
    "self_grant_refused": N_("Nobody changes their own roles"),
    "own_proposal": N_("A change is approved by an administrator other than the one who proposed it"),
    "second_duty_required": N_("A change proposed by the system administrator is approved by the security "
                               "administrator, and the reverse"),
    "roles_exclusive": N_("An administrator role is held alone: the system, security and audit administrators "
                          "are three accounts with no other role"),
    "roles_unchanged": N_("These are the account's roles already"),
    "role_change_pending": N_("A change of this account's roles is waiting for approval already"),
    "role_change_decided": N_("This change was decided already"),
    # the audit log
    "dates_reversed": N_("The end date is before the start date"),
    "export_too_large": N_("An export holds at most %(limit)s entries; narrow the dates"),
    "reason_required": N_("Give a reason"),
    "comment_required": N_("Write a few words"),
    "opinion_required": N_("Give your opinion"),
    "unknown_round": N_("Unknown round"),
    "unknown_expert": N_("Unknown expert"),
    "unknown_problem": N_("Unknown problem"),
    "duplicate_code": N_("A unit with this code exists already"),
    "not_a_leader": N_("Choose a leader in charge"),
    "not_an_inspector": N_("Choose inspectors only"),
    "conflict_of_interest": N_("An inspector may not inspect a unit they have a conflict of interest with"),
    "other_unit": N_("The problem was found in another unit"),
    "expert_inactive": N_("The expert is no longer in the pool"),
    # rounds and the list
    "unknown_source": N_("Choose where the problem came from"),
    "round_not_open": N_("This round no longer takes problems or clues"),
    "list_published": N_("The list is published already and can no longer change"),
    "list_empty": N_("Distil at least one common problem first"),
    "not_a_department": N_("Choose a district department as the responsible department"),
    "targets_reach_no_unit": N_("The chosen recipients reach no unit that rectifies: choose other kinds, industries, "
                                "streets or units, or none to send it to every unit"),
    "not_in_round": N_("Choose problems of this round only"),
    "list_approved": N_("The list is approved already; its problems and common problems can no longer change"),
    "problem_not_yours": N_("Only the office, and the inspector who recorded it, correct a problem"),
    # cases and evidence
    "items_mismatch": N_("The items do not match the common-problem list"),
    "item_repeated": N_("Each common problem may appear once"),
    "item_unknown": N_("Contains common problems not on this list"),
    "item_missing": N_("Self-check every common problem on the list"),
    "case_not_closed": N_("Only a closed case can be re-checked"),
    "case_not_open": N_("Only a case the unit still has to work on can be urged"),
    "case_not_governed": N_("Your department does not govern this case's common problems"),
    "evidence_not_open": N_("Evidence is added while the unit rectifies or files, not now"),
    "file_required": N_("Choose a file"),
    "file_type_refused": N_("This file type is not accepted; accepted: %(types)s"),
    "evidence_not_yours": N_("Only the unit's liaison or head upload its evidence"),
    "file_too_large": N_("The file is larger than %(limit_mb)s MB"),
    "file_empty": N_("The file is empty"),
    "file_content_mismatch": N_("The file's content does not match its type"),
    "file_not_utf8": N_("A text file must be UTF-8"),
    "unknown_item": N_("Not an item of this case"),
    "already_acknowledged": N_("This notice was acknowledged already"),
    # tasks and process instances
    "task_not_found": N_("The task does not exist"),
    "task_not_open": N_("This task is no longer open"),
    "invalid_task_data": N_("Some fields are not valid"),
    "instance_conflict": N_("The process changed meanwhile; reload and try again"),
    "instance_not_failed": N_("Only a failed process instance can be retried"),
    "instance_suspended": N_("The process instance is suspended; its tasks wait until an operator resumes it"),
    "instance_not_suspended": N_("Only a suspended process instance can be resumed"),
    "instance_ended": N_("The process instance has ended (completed or cancelled)"),
    "version_needs_model": N_("A version is chosen together with its process model"),
    "version_is_current": N_("This is the current version: make another version current before retiring it"),
    "unknown_model": N_("The process model is not deployed"),
    "workflow_failed": N_("The process failed; nothing was saved"),
    "step_limit": N_("The process ran without stopping and was halted; nothing was saved"),
    "loop_too_deep": N_("The process loops without end; nothing was saved"),
    "instance_stalled": N_("The process stopped before its end; nothing was saved"),
    "state_too_large": N_("The process holds more data than allowed; nothing was saved"),
    "script_too_slow": N_("A script of the process ran longer than allowed; nothing was saved"),
    "script_too_large": N_("A script of the process built more data than allowed; nothing was saved"),
    "script_data_invalid": N_("A script of the process left data that cannot be stored; nothing was saved"),
    "due_date_invalid": N_("A task's due date is not a time"),
    "timer_invalid": N_("A timer has no valid time"),
    "correlation_key_invalid": N_("The correlation key of a message event cannot be worked out"),
    "no_start_event": N_("The process model has no start event for this message or signal"),
    "message_not_correlated": N_("No process instance waits for this message, and no process model starts with it"),
    # process models (the designer)
    "bpmn_required": N_("Send a BPMN file"),
    "bpmn_empty": N_("The BPMN document is empty"),
    "bpmn_too_large": N_("A BPMN file may be at most %(limit_kb)s KB"),
    "deploy_refused": N_("The diagram cannot be deployed"),
    "unsafe_xml": N_("The XML is not safe to read: %(reason)s"),
    "bpmn_schema": N_("Line %(line)s does not follow the BPMN schema: %(reason)s"),
    "no_process": N_("The document has no process"),
    "unrunnable": N_("The diagram cannot run: %(reason)s"),
    "script_refused": N_("Script refused: %(reason)s"),
    "expression_refused": N_("Expression %(expression)s refused: %(reason)s"),
    "timer_refused": N_("Timer refused: %(reason)s"),
    "due_date_refused": N_("Due date %(expression)s refused: %(reason)s"),
    "unsupported_extension": N_("camunda:%(tag)s is not supported by this engine"),
    "form_missing": N_("Form %(form)s does not exist under bpmn/forms"),
    "step_missing": N_("The model declares no step %(step)s, which the service needs"),
    "form_constraint_invalid": N_("Form field %(field)s: the constraint %(constraint)s cannot be used here"),
    # the designer's deploy checks (workflows.design_checks): errors refuse, warnings ask to confirm
    "service_task_unimplemented": N_("Service task %(name)s has no implementation; model the work as a user task "
                                     "(someone does it) or a script task (the engine computes it)"),
    "service_task_unsupported": N_("Service task %(name)s: camunda:%(implementation)s is not run by this engine; "
                                   "use a user task or a script task"),
    "call_target_missing": N_("The call activity names no called process"),
    "called_model_missing": N_("The called process %(called)s is not deployed; deploy that model first"),
    # DMN decisions (workflows.decisions) and the business-rule tasks that run them
    "dmn_required": N_("Send a DMN document (a decision table)"),
    "dmn_empty": N_("The DMN document is empty"),
    "dmn_not_process": N_("This is a DMN document: deploy it as a decision"),
    "dmn_version_unsupported": N_("This DMN version is not supported; save the decision as DMN 1.3"),
    "dmn_schema": N_("Line %(line)s does not follow the DMN schema: %(reason)s"),
    "dmn_decision_count": N_("A DMN document must hold exactly one decision, not %(count)s"),
    "dmn_table_missing": N_("The decision must be one decision table"),
    "dmn_output_missing": N_("The decision table has no output"),
    "dmn_hit_policy_unsupported": N_("The hit policy %(policy)s is not supported; use UNIQUE, FIRST or COLLECT"),
    "dmn_aggregation_unsupported": N_("COLLECT with %(aggregation)s is not supported; use COLLECT without "
                                      "an aggregation"),
    "decision_missing": N_("The decision %(decision)s is not deployed; deploy its DMN document first"),
    "assignment_refused": N_("camunda:%(attribute)s %(expression)s refused: %(reason)s"),
    "priority_invalid": N_("The priority %(priority)s is not a whole number or an expression"),
    "assignment_invalid": N_("Who a task is for cannot be worked out from the process data"),
    "element_unreachable": N_("%(name)s has no incoming sequence flow, so it never runs"),
    "element_dead_end": N_("%(name)s has no outgoing sequence flow; the path ends there"),
    "task_unnamed": N_("This task has no name; people will see its technical id"),
    "user_task_unassigned": N_("User task %(name)s has no lane, assignee or candidates; it goes to the "
                               "inspection office"),
    "gateway_without_default": N_("Gateway %(name)s has several outgoing flows but no default flow; when no "
                                  "condition holds the process stops there"),
    # why a part of a diagram is refused: a deploy error's `reason_code`, worded into its %(reason)s
    "script_construct_refused": N_("line %(line)s: %(syntax)s is not allowed"),
    "script_name_refused": N_("line %(line)s: the name %(name)s is not allowed"),
    "script_keyword_refused": N_("line %(line)s: the keyword argument %(name)s is not allowed"),
    "script_attribute_refused": N_("line %(line)s: the attribute .%(name)s is not allowed"),
    "script_slice_assignment_refused": N_("line %(line)s: assigning to a slice is not allowed"),
    "script_method_as_value": N_("line %(line)s: .%(name)s may only be called, not used as a value"),
    "script_call_refused": N_("line %(line)s: calling %(name)s is not allowed"),
    "script_callee_refused": N_("line %(line)s: only named functions and allowed methods may be called"),
    "script_syntax_error": N_("syntax error on line %(line)s"),
    "script_too_long": N_("longer than %(limit)s characters"),
    "script_not_text": N_("it is not text"),
    "script_unparsable": N_("it cannot be read"),
    "timer_zero_duration": N_("the duration %(value)s is zero: the timer would fire the moment it starts"),
    "timer_too_long": N_("the duration %(value)s is longer than a hundred years"),
    "timer_date_is_duration": N_("%(value)s is a duration: a timer date must be a date and time "
                                 "(use a timer duration for a duration)"),
    "timer_not_iso": N_("%(value)s is not an ISO 8601 time or duration"),
    "timer_cycle_not_iso": N_("%(value)s is not an ISO 8601 cycle"),
    "timer_cycle_zero": N_("the cycle %(value)s repeats every zero seconds: it would fire without end"),
    "timer_cycle_too_often": N_("the cycle %(value)s repeats more often than once a minute"),
    "timer_cycle_too_many": N_("the cycle %(value)s repeats %(count)s times, more than the limit of %(limit)s"),
    "timer_cycle_catch_up": N_("the cycle %(value)s started in the past and would fire %(count)s times at once, "
                               "more than the limit of %(limit)s"),
    "schema_element_misplaced": N_("an element is not expected here, or a required one is missing"),
    "schema_attribute_missing": N_("a required attribute is missing"),
    "schema_attribute_unknown": N_("an attribute is not allowed here"),
    "schema_content_invalid": N_("an element holds content it may not hold"),
    "schema_element_unknown": N_("an element is not known"),
    "schema_reference_broken": N_("an id is used twice, or a reference names no element"),
    "schema_value_invalid": N_("a value is not valid"),
    "schema_invalid": N_("the structure is not valid"),
    "xml_not_text": N_("it is not text"),
    "xml_too_large": N_("it is larger than %(limit)s bytes"),
    "xml_empty": N_("it is empty"),
    "expression_empty": N_("it is empty"),
    "xml_doctype": N_("it declares a DOCTYPE or ENTITY, which is not accepted"),
    "xml_malformed": N_("it is not well-formed XML at line %(line)s"),
    "spiff_no_start_event": N_("the process has no start event"),
    "spiff_subprocess_start_events": N_("a sub-process needs exactly one start event"),
    "spiff_not_executable": N_("the process is not marked executable"),
    "spiff_flow_without_condition": N_("a flow out of an exclusive gateway has no condition and is not the default"),
    "spiff_call_activity_target": N_("a call activity names no process to call"),
    "spiff_script_missing": N_("a script task has no script"),
    "spiff_task_type_unsupported": N_("this kind of element is not supported"),
    "spiff_duplicate_process": N_("two processes have the same id"),
    "spiff_reference_broken": N_("a flow or reference names an element that does not exist, or two elements "
                                 "share an id"),
    "spiff_message_missing": N_("a message event refers to a message that is not defined"),
    "spiff_timer_invalid": N_("a timer has no valid time"),
    "spiff_condition_missing": N_("a conditional event has no condition"),
    "spiff_ad_hoc_unsupported": N_("this ad hoc sub-process is not supported"),
    "spiff_refused": N_("the process engine cannot read it"),
    # administration: accounts, units, the organisation import, the password policy
    "password_weak": N_("The password needs at least 3 of: lower-case letters, upper-case letters, digits, "
                        "other characters"),
    "password_change_required": N_("Set a password of your own before you go on"),
    "duplicate_username": N_("An account with this username exists already"),
    "invalid_username": N_("A username is letters, digits, dots, hyphens and underscores"),
    "admin_duty_by_change": N_("An administrator duty is granted only by a role change that the other duty "
                               "approves"),
    "role_change_required": N_("Roles change only through a role change under the two-person rule"),
    "admin_duty_protected": N_("The accounts of the administrator duties are not changed here"),
    "self_deactivation": N_("You cannot disable your own account"),
    "own_password_reset": N_("Change your own password on your account page"),
    "unit_cycle": N_("A unit cannot be above itself"),
    "inactive_unit": N_("The unit is disabled"),
    "import_file_required": N_("Choose an Excel file (.xlsx)"),
    "import_too_large": N_("The file is larger than %(limit_kb)s KB"),
    "import_not_xlsx": N_("The file is not an Excel workbook (.xlsx)"),
    "import_too_many_rows": N_("A sheet may have at most %(limit)s rows"),
    "import_sheet_missing": N_("The workbook has no sheet named %(sheet)s; start from the template"),
    "import_header_missing": N_("Sheet %(sheet)s has no column %(column)s; start from the template"),
    "import_invalid": N_("Some rows are not valid; nothing was imported"),
    "import_expired": N_("The uploaded file is no longer kept; upload it again"),
    "import_formula": N_("Formulas are not accepted; enter the value itself"),
    "import_duplicate_row": N_("The same code or username appears on an earlier row"),
    "value_required": N_("This field is required"),
    "unknown_value": N_("Not one of the accepted values"),
    "not_active_user": N_("The account is disabled"),
    # drafts and evidence removal
    "draft_too_large": N_("A draft may hold at most %(limit_kb)s KB"),
    "draft_not_found": N_("No draft is saved for this task"),
    "evidence_locked": N_("Filed evidence can no longer be removed or replaced"),
    "preview_unavailable": N_("Only images and PDF files are previewed; download the file instead"),
    # the mechanism's rules: filing, decisions, returns, confirmations
    "measures_required": N_("“%(title)s” applies to the unit: give at least one measure, or say why there is none"),
    "not_applicable_reason_required": N_("“%(title)s” does not apply to the unit: say why"),
    "job_not_failed": N_("Only a publication that stopped can be taken up again"),
    "evidence_required": N_("Attach at least one evidence file before filing"),
    "extension_not_yours": N_("Only the unit's liaison or head may ask for more time"),
    "days_out_of_range": N_("Ask for a whole number of days from 1 to %(limit)s"),
    "extension_not_open": N_("The case is no longer the unit's to file: its deadline does not move"),
    "extension_pending": N_("An extension request of this case is already waiting for the office"),
    "extension_decided": N_("This extension request has already been decided"),
    "measure_unknown": N_("This is not a followed-up measure of the case"),
    "decision_required": N_("Choose yes or no"),
    "confirmation_required": N_("Tick the box to confirm; this step cannot be undone"),
    # supervision of an overdue case: what each choice needs
    "demand_required": N_("Say what the tracking letter demands of the unit"),
    "talk_record_required": N_("Record who talked, with whom, when and what was said"),
    "inspectors_required": N_("Name at least one inspector for the special inspection"),
    "reply_required": N_("Answer the tracking letter"),
    "findings_required": N_("Record what the on-site check found"),
    # residents: reports, triage, disclosure, ratings, petitions
    "report_not_found": N_("No report has this tracking code. Check the code and try again"),
    "challenge_required": N_("Several reports came from here already: work out the sum to send this one"),
    "challenge_wrong": N_("The answer to the sum is wrong; a new sum is shown"),
    "photo_not_image": N_("A photo must be a JPEG, PNG or WebP picture"),
    "photo_too_large": N_("A photo may be at most %(limit_mb)s MB"),
    "too_many_photos": N_("At most %(limit)s photos"),
    "report_closed": N_("This report is closed already"),
    "report_forwarded": N_("This report is with a unit already; wait for its answer"),
    "report_linked": N_("This report is linked to a problem already"),
    "deadline_in_past": N_("Choose a deadline after today"),
    "unit_required": N_("Choose a unit"),
    "not_rateable": N_("Only a published rectification, or a report that was answered, can be rated"),
    "already_rated": N_("You rated this already; thank you"),
    "score_out_of_range": N_("Choose 1 to 5 stars"),
    "disclosure_empty": N_("Choose at least one item to publish"),
    "disclosure_sensitive": N_("This text holds a clue, an evidence file's name or personal data, which are never "
                               "disclosed; word it again"),
    "disclosure_not_ready": N_("A disclosure is made once the round's list is published"),
    "invalid_period": N_("Enter a month as YYYY-MM"),
    # moving running instances to another version of their model (and one back)
    "version_required": N_("Choose the version to move to"),
    "unknown_version": N_("The process model has no such version"),
    "nothing_to_migrate": N_("No running instance can move to this version"),
    "no_migration": N_("This instance has no migration to roll back"),
    "rollback_refused": N_("The instance no longer fits the version it came from"),
    "migration_refused": N_("The instance cannot move to this version"),
    "open_element_removed": N_("The new version no longer has the step it is at or waits on"),
    "finished_element_removed": N_("The new version no longer has a step it has completed"),
    "element_type_changed": N_("The step it is at is another kind of element in the new version"),
    "subprocess_removed": N_("The new version no longer has a sub-process it is in"),
    "boundary_events_changed": N_("The new version attaches events to the step it is at"),
    "instance_in_error": N_("The instance is in error: repair it first"),
    "instance_not_running": N_("The instance is not running"),
    "state_not_aligned": N_("Its open tasks or timers would not come through the move unchanged"),
}

# Field problems from a form's or a request's JSON Schema, by the rule that failed.
FIELD_CODES: dict[str, str] = {
    "required": N_("This field is required"),
    "min_items": N_("This field is required"),
    "min_length": N_("This field is required"),
    "max_length": N_("At most %(limit)s characters"),
    "max_items": N_("At most %(limit)s entries"),
    "minimum": N_("Must be at least %(limit)s"),
    "maximum": N_("Must be at most %(limit)s"),
    "type_integer": N_("Enter a whole number"),
    "type_number": N_("Enter a number"),
    "format_date": N_("Enter a valid date (YYYY-MM-DD)"),
    "const": N_("Tick this box to continue"),
    "enum": N_("Choose one option"),
    "type_boolean": N_("Choose one option"),
    "any_of": N_("Choose one option"),
    "one_of": N_("Choose one option"),
    "min_length_chars": N_("At least %(limit)s characters"),
    "pattern": N_("Does not match the required format"),
    "readonly": N_("This field cannot be changed"),
}

# Why a process instance's timed step failed, as the instance keeps it until it runs again. The step
# was undone and is tried again, so these name the fault without "nothing was saved". A failure whose
# code is not here (a service rule the step broke) is worded by ERROR_CODES.
FAILURE_CODES: dict[str, str] = {
    "workflow_failed": N_("A script or expression of this step failed"),
    "step_limit": N_("This step ran without stopping and was halted"),
    "loop_too_deep": N_("This step loops without end"),
    "instance_stalled": N_("The process stopped before reaching its end"),
    "state_too_large": N_("The process holds more data than allowed"),
    "script_too_slow": N_("A script of this step ran longer than allowed"),
    "script_too_large": N_("A script of this step built more data than allowed"),
    "script_data_invalid": N_("A script of this step left data that cannot be stored"),
    "step_error": N_("The step could not be carried out; the service log has the details"),
}
