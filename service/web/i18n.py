"""Every string the pages show, in Chinese (the default) and English.

One catalogue of UI keys (`t("inbox.title")`) and one of known content strings (`tc("对照自查")`):
content comes from the process models and forms (task names, field titles, enum labels), which
are written in Chinese; the English side translates the default models' texts and shows a
designer's own texts as written. A key missing from the catalogue raises in strict mode (tests),
and otherwise shows the key and is logged, so no page fails over a missing translation.
"""
from __future__ import annotations

import logging
import re

from flask import current_app, has_request_context, session

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
log = logging.getLogger(__name__)

# key: (中文, English)
MESSAGES: dict[str, tuple[str, str]] = {
    # the frame
    "app.name": ("巡察整改", "Rectiflow"),
    "app.full_name": ("巡察发现共性问题整改机制", "Inspection common-problem rectification"),
    "app.skip": ("跳到主要内容", "Skip to main content"),
    "nav.label": ("主导航", "Main navigation"),
    "nav.inbox": ("待办", "Inbox"),
    "nav.done": ("已办", "Done"),
    "nav.rounds": ("巡察轮次", "Rounds"),
    "nav.designer": ("流程设计", "Process designer"),
    "nav.dashboard": ("督查看板", "Dashboard"),
    "nav.logout": ("退出登录", "Log out"),
    "nav.language": ("语言", "Language"),
    "nav.user": ("当前用户", "Signed in as"),
    "lang.zh": ("中文", "中文"),
    "lang.en": ("English", "English"),
    "lang.switch": ("切换语言", "Switch language"),
    "common.back": ("返回", "Back"),
    "common.none": ("无", "None"),
    "common.yes": ("是", "Yes"),
    "common.no": ("否", "No"),
    "common.required": ("必填", "required"),
    "common.optional": ("选填", "optional"),
    "common.all": ("全部", "All"),
    "common.filter": ("筛选", "Filter"),
    "common.reset": ("清除筛选", "Clear filters"),
    "common.submit": ("提交", "Submit"),
    "common.submitting": ("正在提交…", "Submitting…"),
    "common.save": ("保存", "Save"),
    "common.add": ("添加", "Add"),
    "common.remove": ("删除", "Remove"),
    "common.open": ("办理", "Open"),
    "common.view": ("查看", "View"),
    "common.prev": ("上一页", "Previous"),
    "common.next": ("下一页", "Next"),
    "common.page_info": ("第 {start}–{end} 条，共 {total} 条", "{start}–{end} of {total}"),
    "common.pagination": ("分页", "Pagination"),
    "common.count": ("{n} 项", "{n} items"),
    "common.unit": ("单位", "Unit"),
    "common.process": ("流程", "Process"),
    "common.task": ("事项", "Task"),
    "common.due": ("截止时间", "Due"),
    "common.warning": ("预警", "Warning"),
    "common.actions": ("操作", "Actions"),
    "common.status": ("状态", "Status"),
    "common.time": ("时间", "Time"),
    "common.by": ("经办人", "By"),
    "common.comment": ("意见", "Comment"),
    "common.details": ("详细信息", "Details"),
    "common.no_due": ("无期限", "No deadline"),
    "common.overdue_days": ("已逾期 {n} 天", "{n} days overdue"),
    "common.due_today": ("今天到期", "Due today"),
    "common.days_left": ("剩 {n} 天", "{n} days left"),
    # login
    "login.title": ("登录", "Log in"),
    "login.heading": ("登录巡察整改系统", "Log in to Rectiflow"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.failed": ("用户名或密码错误。", "Wrong username or password."),
    "login.locked": ("登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试。",
                     "Too many failed logins: the account is locked. Try again in {minutes} minutes."),
    "login.missing": ("请输入用户名和密码。", "Enter your username and password."),
    "login.logged_out": ("您已退出登录。", "You are logged out."),
    "login.needed": ("请先登录。", "Please log in first."),
    # roles
    "role.office": ("巡察办", "Inspection office"),
    "role.inspector": ("巡察组成员", "Inspector"),
    "role.leading_group": ("巡察工作领导小组", "Leading group"),
    "role.leader": ("分管区领导", "Leader in charge"),
    "role.department": ("职能部门", "Functional department"),
    "role.unit_liaison": ("单位联络员", "Unit liaison"),
    "role.unit_head": ("单位主要负责人", "Unit head"),
    "role.discipline": ("纪委监委", "Discipline commission"),
    "role.designer": ("流程设计", "Process designer"),
    "role.admin": ("系统管理员", "Administrator"),
    # warnings, statuses
    "warning.none": ("无预警", "No warning"),
    "warning.green": ("绿色预警", "Green warning"),
    "warning.yellow": ("黄色预警", "Yellow warning"),
    "warning.red": ("红色预警", "Red warning"),
    "case.status.self_check": ("对照自查中", "Self-checking"),
    "case.status.rectifying": ("整改中", "Rectifying"),
    "case.status.filed": ("已备案待审核", "Filed, awaiting review"),
    "case.status.returned": ("退回整改", "Returned for rework"),
    "case.status.closed": ("已销号", "Closed out"),
    "round.status.discovering": ("巡察发现中", "Discovering"),
    "round.status.listing": ("提炼清单中", "Distilling the list"),
    "round.status.published": ("清单已发布", "List published"),
    "round.status.closed": ("已结束", "Closed"),
    "source.inspection": ("巡察发现", "Inspection"),
    "source.resident_report": ("群众反映", "Residents' report"),
    "source.audit": ("审计（巡审结合）", "Audit"),
    "unit.kind.department": ("区直部门", "District department"),
    "unit.kind.street": ("街道", "Street"),
    "unit.kind.community": ("社区", "Community"),
    "unit.kind.company": ("社区股份公司", "Community company"),
    "unit.kind.office": ("巡察办", "Inspection office"),
    "unit.kind.leading_group": ("领导小组", "Leading group"),
    "unit.kind.discipline": ("纪委监委", "Discipline commission"),
    "item.status.done": ("已完成", "Done"),
    "item.status.ongoing": ("整改中", "Ongoing"),
    "item.status.not_done": ("未完成", "Not done"),
    "filing.result.accepted": ("审核通过", "Accepted"),
    "filing.result.returned": ("退回", "Returned"),
    "filing.result.pending": ("待审核", "Awaiting review"),
    # inbox
    "inbox.title": ("待办事项", "Inbox"),
    "inbox.total": ("待办", "Open"),
    "inbox.overdue": ("已逾期", "Overdue"),
    "inbox.due_soon": ("7 天内到期", "Due within 7 days"),
    "inbox.red": ("红色预警", "Red warnings"),
    "inbox.empty": ("没有待办事项。", "Nothing to do."),
    "inbox.empty_filtered": ("没有符合筛选条件的待办事项。", "No open task matches the filters."),
    "inbox.filters": ("筛选待办", "Filter the inbox"),
    "inbox.filter_process": ("流程", "Process"),
    "inbox.filter_task": ("事项类型", "Task type"),
    "inbox.filter_unit": ("单位", "Unit"),
    "inbox.sorted": ("按截止时间排序，最紧急的在前。", "Sorted by due date, most urgent first."),
    "inbox.counts": ("待办统计", "Counts"),
    "done.title": ("已办事项", "Done"),
    "done.empty": ("还没有办理过的事项。", "You have not completed any task yet."),
    "done.completed_at": ("办理时间", "Completed"),
    # tasks
    "task.title": ("办理事项", "Task"),
    "task.case_panel": ("整改情况", "The case so far"),
    "task.round_panel": ("本轮巡察", "This round"),
    "task.letter_panel": ("巡察建议书", "Recommendation letter"),
    "task.completed": ("已办结：{name}。", "Completed: {name}."),
    "task.already_completed": ("该事项已经办结，无需重复提交。", "This task was already completed; nothing was submitted twice."),
    "task.not_open": ("该事项已办结或已取消，当前无需办理。", "This task is completed or cancelled; there is nothing to do."),
    "task.view_only": ("您可以查看该事项，但不由您办理。", "You may look at this task, but it is not yours to do."),
    "task.fix_errors": ("提交内容有 {n} 处需要修改：", "{n} problem(s) to fix before submitting:"),
    "task.submit": ("提交并办结", "Submit and complete"),
    "task.assigned": ("办理角色", "Role"),
    "task.created": ("到达时间", "Arrived"),
    "task.form": ("填报内容", "Form"),
    "task.no_fields": ("此事项无需填写内容，确认后办结即可。", "This task has nothing to fill in; confirm to complete it."),
    "task.row_of": ("第 {n} 项", "Row {n}"),
    "task.add_row": ("添加{label}", "Add {label}"),
    "task.remove_row": ("删除此{label}", "Remove this {label}"),
    "task.rows_empty": ("暂无，可点击下方按钮添加。", "None yet; add one with the button below."),
    "task.finish_on_page": ("在专门页面办理此事项。", "This task is worked on its own page."),
    "task.failed": ("办理失败：流程执行出错，未保存任何更改。", "The process failed; nothing was saved."),
    "task.error": ("无法办结：", "Could not complete:"),
    # form messages (from the form schema's validation)
    "form.required": ("此项必填", "This field is required"),
    "form.integer": ("请输入整数", "Enter a whole number"),
    "form.number": ("请输入数字", "Enter a number"),
    "form.minimum": ("不能小于 {n}", "Must be at least {n}"),
    "form.maximum": ("不能大于 {n}", "Must be at most {n}"),
    "form.date": ("请输入有效日期（年-月-日）", "Enter a valid date (YYYY-MM-DD)"),
    "form.check": ("请勾选此项", "Tick this box to continue"),
    "form.choose": ("请选择一项", "Choose one option"),
    "form.min_items": ("请至少填写 {n} 项", "Fill in at least {n} row(s)"),
    "form.too_long": ("内容过长", "Too long"),
    "form.invalid": ("内容不符合要求", "This value is not valid"),
    "form.choose_placeholder": ("请选择", "Choose"),
    "form.domain.once": ("每个共性问题只能填写一次", "Each common problem may appear once"),
    "form.domain.unknown": ("包含不属于本清单的共性问题", "Contains common problems not on this list"),
    "form.domain.missing": ("请对清单中的每个共性问题逐项自查", "Self-check every common problem on the list"),
    "form.domain.distil_first": ("请至少提炼一个共性问题后再办结", "Distil at least one common problem first"),
    # case file
    "case.title": ("整改档案", "Case file"),
    "case.unit": ("单位", "Unit"),
    "case.round": ("巡察轮次", "Round"),
    "case.due": ("备案期限", "Filing deadline"),
    "case.self_check": ("对照自查", "Self-check"),
    "case.self_check_empty": ("尚未自查。", "Not self-checked yet."),
    "case.applicable": ("适用", "Applies"),
    "case.not_applicable": ("不适用", "Does not apply"),
    "case.problems_found": ("发现问题 {n} 个", "{n} problem(s) found"),
    "case.rectification": ("整改落实", "Rectification"),
    "case.rectification_empty": ("尚未填报整改情况。", "No rectification reported yet."),
    "case.measures": ("整改措施", "Measures"),
    "case.institutions": ("完善制度", "Institutions"),
    "case.deadline": ("时限 {date}", "by {date}"),
    "case.evidence": ("佐证材料", "Evidence"),
    "case.evidence_empty": ("尚未上传佐证材料。", "No evidence uploaded yet."),
    "case.filings": ("备案与审核", "Filings and reviews"),
    "case.filings_empty": ("尚未备案。", "Not filed yet."),
    "case.filed_by": ("{name} 于 {time} 备案", "Filed by {name} on {time}"),
    "case.reviewed_by": ("{name} 于 {time} 审核：{result}", "Reviewed by {name} on {time}: {result}"),
    "case.open_full": ("查看完整档案", "Open the full case file"),
    # evidence upload
    "upload.title": ("上传佐证材料", "Upload evidence"),
    "upload.file": ("选择文件", "Choose a file"),
    "upload.item": ("对应整改事项", "For rectification item"),
    "upload.item_none": ("（整体材料）", "(the whole case)"),
    "upload.hint": ("可上传 {types}，单个文件不超过 {mb} MB。", "Accepted: {types}; at most {mb} MB per file."),
    "upload.submit": ("上传", "Upload"),
    "upload.progress": ("上传进度", "Upload progress"),
    "upload.uploading": ("正在上传…", "Uploading…"),
    "upload.done": ("已上传：{name}", "Uploaded: {name}"),
    "upload.failed": ("上传失败：{reason}", "Upload failed: {reason}"),
    "upload.no_file": ("请选择要上传的文件。", "Choose a file to upload."),
    "upload.type": ("不接受此类型的文件，可上传：{types}", "This file type is not accepted; accepted: {types}"),
    "upload.too_large": ("文件超过 {mb} MB 的限制", "The file is larger than {mb} MB"),
    "upload.empty": ("文件为空", "The file is empty"),
    "upload.mismatch": ("文件内容与扩展名不符", "The file's content does not match its type"),
    "upload.not_utf8": ("文本文件须为 UTF-8 编码", "A text file must be UTF-8"),
    "upload.closed": ("整改已销号，不能再上传材料", "The case is closed; no more evidence can be added"),
    "upload.forbidden": ("只有本单位联络员或主要负责人可以上传佐证材料", "Only the unit's liaison or head upload its evidence"),
    "upload.size": ("大小", "Size"),
    "upload.sha256": ("SHA-256", "SHA-256"),
    # rounds
    "rounds.title": ("巡察轮次", "Inspection rounds"),
    "rounds.empty": ("暂无可查看的巡察轮次。", "No round to show."),
    "rounds.name": ("轮次", "Round"),
    "rounds.problems": ("问题", "Problems"),
    "rounds.common_problems": ("共性问题", "Common problems"),
    "rounds.created": ("启动时间", "Started"),
    "rounds.findings": ("巡察发现", "Findings"),
    "rounds.distill": ("提炼清单", "Distil the list"),
    # findings page
    "findings.title": ("记录巡察发现", "Record findings"),
    "findings.intro": ("巡察期间随时记录发现的问题和问题线索；全部记录完毕后点击“完成记录”。",
                       "Record problems and problem clues while the round is open; press “Finish recording” when done."),
    "findings.closed": ("本轮已进入 {status} 阶段，不能再记录问题。", "The round is at “{status}”; problems can no longer be recorded."),
    "findings.problem_form": ("记录问题", "Record a problem"),
    "findings.unit": ("被巡察单位", "Inspected unit"),
    "findings.category": ("问题类别", "Category"),
    "findings.category_hint": ("如：工程建设、合同管理、便民服务", "e.g. construction, contracts, public services"),
    "findings.source": ("问题来源", "Source"),
    "findings.description": ("问题描述", "Description"),
    "findings.add_problem": ("保存问题", "Save the problem"),
    "findings.problem_added": ("已记录问题。", "Problem recorded."),
    "findings.problems": ("已记录的问题（{n}）", "Problems recorded ({n})"),
    "findings.no_problems": ("尚未记录问题。", "No problem recorded yet."),
    "findings.clue_form": ("登记问题线索", "Register a problem clue"),
    "findings.clue_note": ("问题线索仅纪委监委可查看详细内容。", "Only the discipline commission can read a clue's content."),
    "findings.clue_summary": ("线索摘要", "Summary"),
    "findings.clue_content": ("线索内容", "Content"),
    "findings.add_clue": ("登记线索", "Register the clue"),
    "findings.clue_added": ("已登记问题线索。", "Clue registered."),
    "findings.clues": ("已登记的线索（{n}）", "Clues registered ({n})"),
    "findings.no_clues": ("尚未登记线索。", "No clue registered yet."),
    "findings.restricted": ("内容受限", "content restricted"),
    "findings.finish": ("完成记录", "Finish recording"),
    "findings.finish_hint": ("完成后进入提炼共性问题阶段。", "The office then distils the common-problem list."),
    "findings.no_task": ("当前没有由您办理的“记录巡察发现”事项。", "You have no open “record findings” task in this round."),
    # distillation page
    "distill.title": ("提炼共性问题清单", "Distil the common-problem list"),
    "distill.intro": ("勾选可能在其他单位同样存在的问题，归并为一个共性问题，并指定负责专项治理的职能部门。",
                      "Tick problems likely to exist elsewhere too, group them into a common problem and name the department that governs it."),
    "distill.unassigned": ("待归并的问题（{n}）", "Problems not yet grouped ({n})"),
    "distill.all_assigned": ("所有问题均已归并。", "Every problem is grouped."),
    "distill.list": ("共性问题清单（{n}）", "Common-problem list ({n})"),
    "distill.list_empty": ("尚未提炼共性问题。", "No common problem yet."),
    "distill.form": ("新增共性问题", "New common problem"),
    "distill.title_field": ("共性问题名称", "Title"),
    "distill.title_hint": ("如：工程项目建设监管不严", "e.g. lax supervision of construction projects"),
    "distill.category": ("类别", "Category"),
    "distill.description": ("说明", "Description"),
    "distill.department": ("负责部门（“解铃人”）", "Responsible department"),
    "distill.pick": ("选择问题", "Pick problems"),
    "distill.problems_in": ("包含问题 {n} 个", "{n} problem(s)"),
    "distill.add": ("加入清单", "Add to the list"),
    "distill.added": ("已加入共性问题清单。", "Added to the list."),
    "distill.preview": ("清单发布后将送达", "Who receives the list"),
    "distill.preview_units": ("全区 {n} 个单位对照自查", "{n} units self-check"),
    "distill.preview_leaders": ("{n} 位分管区领导", "{n} leaders in charge"),
    "distill.preview_leader_units": ("{name}：分管 {n} 个单位", "{name}: {n} units"),
    "distill.preview_departments": ("{n} 个职能部门收到巡察建议书", "{n} departments get a recommendation letter"),
    "distill.preview_new": ("（新增）", "(new)"),
    "distill.preview_no_departments": ("尚无部门", "No department yet"),
    "distill.finish": ("完成提炼，提交审批", "Finish and submit for approval"),
    "distill.finish_hint": ("提交后由巡察工作领导小组审批清单。", "The leading group then approves the list."),
    "distill.no_task": ("当前没有由您办理的“提炼共性问题”事项。", "You have no open “distil the list” task in this round."),
    "distill.published": ("本轮清单已发布，不能再修改。", "This round's list is published and can no longer change."),
    # errors
    "error.title": ("出错了", "Something went wrong"),
    "error.400": ("请求有误", "Bad request"),
    "error.401": ("需要登录", "Login needed"),
    "error.403": ("没有权限", "Not allowed"),
    "error.404": ("找不到该页面或记录", "Not found"),
    "error.405": ("不支持的操作", "Method not allowed"),
    "error.409": ("操作冲突", "Conflict"),
    "error.413": ("文件过大", "Too large"),
    "error.422": ("内容无法处理", "Cannot be processed"),
    "error.500": ("服务器出错，更改未保存", "Server error; nothing was saved"),
    "error.csrf": ("页面已过期，请刷新后重试。", "The page has expired; reload it and try again."),
    "error.home": ("返回待办", "Back to the inbox"),
}

# Content of the default process models and forms (Chinese as written) -> English.
CONTENT_EN: dict[str, str] = {
    # process models
    "巡察轮次": "Inspection round", "单位共性问题整改": "Unit rectification", "巡察建议书": "Recommendation letter",
    "问题线索移交": "Clue hand-over",
    # user tasks
    "记录巡察发现": "Record findings", "提炼共性问题": "Distil common problems",
    "审批共性问题清单": "Approve the common-problem list", "轮次总结": "Round summary",
    "对照自查": "Self-check", "整改落实": "Rectify", "承诺并备案": "Attest and file",
    "审核备案": "Review the filing", "跟踪督办": "Tracking supervision", "谈话提醒": "Talk reminder",
    "制定专项治理方案": "Plan special governance", "报送专项治理情况": "Report special governance",
    "评估治理成效": "Evaluate governance", "审批移交": "Approve hand-over", "接收线索": "Receive the clue",
    "处置线索": "Dispose of the clue",
    # form titles and fields
    "自查情况": "Self-check", "共性问题自查": "Common problem", "共性问题": "Common problem",
    "是否适用本单位": "Applies to this unit", "不适用理由": "Why it does not apply",
    "自查发现问题数": "Problems found", "自查发现的具体问题": "What was found",
    "每个共性问题一行。": "One row per common problem.",
    "对照共性问题清单逐项自查：是否适用本单位、发现问题数量及具体情况。":
        "Check the unit against every common problem: does it apply, how many problems, what exactly.",
    "整改情况": "Rectification", "共性问题整改": "Common problem", "整改措施": "Measure",
    "措施内容": "Description", "完成时限": "Deadline", "完善制度": "Institution", "制度": "Institution",
    "制度名称": "Title", "整改状态": "Status", "已完成": "Done", "整改中": "Ongoing", "未完成": "Not done",
    "逐项填写整改措施（含完成时限）、完善的制度及整改状态。":
        "For each common problem: the measures (with deadlines), the institutions improved, and the status.",
    "本人承诺所报整改情况及佐证材料真实、准确、完整": "I attest that this report and its evidence are true, accurate and complete",
    "单位主要负责人对整改报告及佐证材料的真实性作出承诺，并向巡察办备案。":
        "The unit head attests that the report and the evidence are true, and files them with the office.",
    "备注": "Remarks",
    "批准清单": "Approve the list", "审批意见": "Comment", "审核通过（销号）": "Accept (close out)",
    "审核意见": "Comment", "督办方式": "Action", "跟踪督办函": "Tracking letter", "专项督查": "Special inspection",
    "督办说明": "Note", "专项治理方案": "Governance plan", "治理情况报告": "Report",
    "整改措施（项）": "Measures (count)", "完善制度（项）": "Institutions (count)", "评估通过": "Accepted",
    "评估意见": "Comment", "批准移交": "Approve hand-over", "已接收": "Received", "处置方式": "Disposition",
    "立案": "Case filed", "初核": "Preliminary check", "了结": "Closed", "涉及人数": "People involved",
    "处置说明": "Note", "谈话要点": "Points of the talk", "谈话人": "Talked by", "谈话日期": "Date of the talk",
    "谈话对象": "Talked with",
}

# Messages of the form validator (jsonschema) and of the service's domain checks -> catalogue keys.
_MESSAGE_PATTERNS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"is a required property$"), "form.required"),
    (re.compile(r"should be non-empty$|is too short$"), "form.required"),
    (re.compile(r"is not of type 'integer'$"), "form.integer"),
    (re.compile(r"is not of type 'number'$"), "form.number"),
    (re.compile(r"is less than the minimum of (?P<n>-?\d+)"), "form.minimum"),
    (re.compile(r"is greater than the maximum of (?P<n>-?\d+)"), "form.maximum"),
    (re.compile(r"is not a 'date'$"), "form.date"),
    (re.compile(r"^True was expected$"), "form.check"),
    (re.compile(r"is not one of |is not valid under any of the given schemas|is not of type 'boolean'"), "form.choose"),
    (re.compile(r"is too long$"), "form.too_long"),
    (re.compile(r"^each common problem may appear once"), "form.domain.once"),
    (re.compile(r"^not common problems of this list"), "form.domain.unknown"),
    (re.compile(r"^self-check every common problem"), "form.domain.missing"),
    (re.compile(r"^distil at least one common problem"), "form.domain.distil_first"),
]


def get_language() -> str:
    if has_request_context():
        lang = session.get("lang")
        if lang in LANGUAGES:
            return lang
    return DEFAULT_LANGUAGE


def t(key: str, **params) -> str:
    """The UI string `key` in the session's language, with `{name}` parameters filled in."""
    entry = MESSAGES.get(key)
    if entry is None:
        if current_app and current_app.config.get("RECTIFLOW_I18N_STRICT"):
            raise KeyError(f"untranslated UI key {key!r}")
        log.error("untranslated UI key %r", key)
        return key
    text = entry[LANGUAGES.index(get_language())]
    return text.format(**params) if params else text


def tc(text: str | None) -> str:
    """A content string of a process model or form: English when known, else as written."""
    if not text:
        return ""
    if get_language() == "en":
        return CONTENT_EN.get(text, text)
    return text


def message(raw: str) -> str:
    """A validator or domain message, translated when its pattern is known."""
    for pattern, key in _MESSAGE_PATTERNS:
        match = pattern.search(raw)
        if match:
            return t(key, **match.groupdict())
    return raw


def required_property(raw: str) -> str | None:
    """The property a jsonschema `required` message names (it is reported on the parent)."""
    match = re.match(r"^'([^']+)' is a required property$", raw)
    return match.group(1) if match else None
