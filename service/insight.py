"""Insight across rounds: suggested common problems, similar earlier ones, recurrence (问题反弹) and
root causes by industry.

The office distils hundreds of findings into a short common-problem list by hand ("对行业性、领域性、
系统性问题开展综合分析，提炼共性问题"); this module reads the problems' Chinese text to help, offline,
on the district's own data. Texts become TF-IDF vectors of jieba words (the terms a title is made
of) and of character 2–3-grams (robust to how differently inspectors word the same thing); problems
are grouped by average-linkage clustering on cosine distance. Everything is deterministic: the same
problems, in the same order (by id), give the same suggestions.

Nothing here writes a common problem: the office accepts, edits, merges or ignores a suggestion
through `rounds.add_common_problem`. What this module does write is the recurrence flag of a
problem (`Problem.recurring_of_case_id`), when it is recorded or when a 回头看 finds it again.

jieba and SciPy are imported and jieba's dictionary loaded on first use (`_tokenizer`), once
per process, so that starting the application costs nothing.
"""
from __future__ import annotations

import re
import threading
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from . import access
from .auth import Principal
from .errors import NotFound
from .models import (
    Case,
    CaseProblem,
    CaseStatus,
    CommonProblem,
    Institution,
    Measure,
    Problem,
    RectificationItem,
    Round,
    Unit,
)

if TYPE_CHECKING:  # the heavy imports stay off the application's start path
    from scipy.sparse import csr_matrix

# Cosine distance under which problems are one group (average linkage). Chosen on the fixture of
# tests/fixtures/insight_problems.json; short texts share few terms, so the bar is a low similarity.
CLUSTER_DISTANCE = 0.93
WORD_WEIGHT = 0.6          # share of the words in the combined vector; the rest is character n-grams
SIMILAR_MIN = 0.12         # an earlier common problem at least this similar is shown as similar
SIMILAR_SHOWN = 5
RECURRENCE_MIN = 0.2       # a new problem at least this similar to a closed earlier one recurs
TITLE_TERMS = 3
CHAR_MAX_DF = 0.2          # character n-grams in more texts than this share are left out …
CHAR_MAX_DF_FROM = 50      # … of this many texts or more

# Words every finding uses, which say nothing about what the problem is.
STOP_WORDS = frozenset("""
的 了 和 与 及 或 等 未 不 在 对 是 有 无 被 将 把 为 以 并 且 也 仍 已 均 较 很 中 后 前 时
存在 情况 问题 部分 现象 较多 长期 按 规定 按规定 要求 相关 有关 一些 个别 方面 工作 进行 开展 没有
到位 不到位 不规范 不严 不够 不足 不全 不及时 不严格 不完整 不明确 不健全 不准时 管理 制度 落实 执行 流于形式 缺失 程序
""".split())
_PUNCTUATION = re.compile(r"^[\W\d_]+$")


# ---------------------------------------------------------------- text analysis
_lock = threading.Lock()


@cache
def _tokenizer() -> Any:
    """jieba's tokenizer with its bundled dictionary, loaded once per process on first use.
    jieba compiles the dictionary into a cache file the first time, then reads that file back one
    small object at a time, three times slower than reading it whole: it is read whole here, and
    jieba builds it when it is missing or unreadable."""
    import logging
    import marshal
    import tempfile

    import jieba

    with _lock:
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        try:  # the file and format jieba keeps its default dictionary's cache in
            freq, total = marshal.loads((Path(tempfile.gettempdir()) / "jieba.cache").read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            freq, total = None, 0
        if isinstance(freq, dict) and isinstance(total, int | float):
            tokenizer.FREQ, tokenizer.total, tokenizer.initialized = freq, total, True
        else:
            tokenizer.initialize()
        return tokenizer


def warm_up() -> None:
    """jieba's dictionary and SciPy loaded ahead of the first request that needs them (recording
    a problem checks it for recurrence): some seconds a service start spends, not an inspector."""
    _tokenizer()
    import scipy.sparse  # noqa: F401 - imported for its import time


def words(text: str) -> list[str]:
    """The terms of a text: jieba's words of two characters or more, without the words every
    finding uses (`STOP_WORDS`) and without punctuation and numbers."""
    return list(_segmented(text))


@lru_cache(maxsize=50_000)
def _segmented(text: str) -> tuple[str, ...]:
    """Segmentation is most of the analysis's cost, and a round's problems are read again on every
    visit of the distillation page: each text is segmented once (dictionary words only, no HMM guess
    of unknown words, which is slower and no better at grouping)."""
    return tuple(w for w in _tokenizer().lcut(text, HMM=False)
                 if len(w) > 1 and w not in STOP_WORDS and not _PUNCTUATION.match(w))


@dataclass
class Vectors:
    """Texts as rows of unit-length vectors (words and character n-grams together), and the words'
    own vectors and vocabulary, from which titles are made."""

    matrix: csr_matrix
    word_matrix: csr_matrix
    terms: list[str]


def vectors(texts: Sequence[str]) -> Vectors:
    """TF-IDF of words and of character 2–3-grams, each normalised, weighted and joined."""
    import numpy as np
    from scipy.sparse import hstack

    docs = [t or " " for t in texts]
    word_matrix, terms = tfidf([words(d) for d in docs])
    # in many texts, n-grams most of them hold ("管理", "不到") tell nothing apart and make every pair a
    # little similar; in a few texts, sharing one is what similarity is
    char_matrix, _ = tfidf([_char_ngrams(d) for d in docs],
                           max_df=CHAR_MAX_DF if len(docs) >= CHAR_MAX_DF_FROM else 1.0)
    matrix = _normalized(hstack([word_matrix * np.sqrt(WORD_WEIGHT), char_matrix * np.sqrt(1 - WORD_WEIGHT)]))
    return Vectors(matrix, word_matrix, terms)


def tfidf(analysed: Sequence[Sequence[str]], max_df: float = 1.0) -> tuple[csr_matrix, list[str]]:
    """Rows of sublinear TF-IDF with smoothed IDF, each of unit length, and their terms in order: the
    weighting scikit-learn's `TfidfVectorizer(sublinear_tf=True, max_df=…)` gives, without importing
    scikit-learn, which would add some 110 MB and a second to every process that reads a problem.
    Terms in more than `max_df` of the texts are left out."""
    import math

    import numpy as np
    from scipy.sparse import csr_matrix

    counts = [Counter(terms) for terms in analysed]
    in_texts = Counter(term for c in counts for term in c)
    n = len(counts)
    terms = sorted(term for term, k in in_texts.items() if k <= max_df * n)
    column = {term: j for j, term in enumerate(terms)}
    idf = [math.log((1 + n) / (1 + in_texts[term])) + 1 for term in terms]
    rows, cols, values = [], [], []
    for i, c in enumerate(counts):
        for term, k in c.items():
            j = column.get(term)
            if j is not None:
                rows.append(i)
                cols.append(j)
                values.append((1 + math.log(k)) * idf[j])
    matrix = csr_matrix((np.array(values, dtype=np.float64), (rows, cols)), shape=(n, len(terms)))
    return _normalized(matrix), terms


def _normalized(matrix) -> csr_matrix:
    """Each row scaled to unit length (a row of zeros stays zeros)."""
    import numpy as np
    from scipy.sparse import csr_matrix, diags

    matrix = csr_matrix(matrix)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return csr_matrix(diags(1.0 / norms) @ matrix)


_WHITE_SPACE = re.compile(r"\s\s+")


def _char_ngrams(text: str) -> list[str]:
    """The character 2- and 3-grams of a text, lower-cased, runs of white space read as one."""
    text = _WHITE_SPACE.sub(" ", text.lower())
    return [text[i:i + n] for n in (2, 3) for i in range(len(text) - n + 1)]


def clusters(texts: Sequence[str], matrix: csr_matrix | None = None) -> list[int]:
    """A group label per text (average linkage on cosine distance, cut at `CLUSTER_DISTANCE`),
    numbered in the order each group's first text comes. `matrix`: the texts' rows of `vectors`,
    when they are at hand already."""
    if not texts:
        return []
    if len(texts) == 1:
        return [0]
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    if matrix is None:
        matrix = vectors(texts).matrix
    distance = (matrix @ matrix.T).toarray()  # the similarities, turned into distances in place
    np.subtract(1.0, distance, out=distance)
    np.clip(distance, 0.0, 2.0, out=distance)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    raw = fcluster(tree, t=CLUSTER_DISTANCE, criterion="distance")
    renumbered: dict[int, int] = {}
    return [renumbered.setdefault(int(label), len(renumbered)) for label in raw]


def characteristic_terms(v: Vectors, rows: Sequence[int], k: int = TITLE_TERMS) -> list[str]:
    """The words that weigh most in these texts together (their TF-IDF centroid), ties by the word."""
    if not v.terms or not rows:
        return []
    import numpy as np

    centroid = np.asarray(v.word_matrix[list(rows)].sum(axis=0)).ravel()
    order = sorted(range(len(v.terms)), key=lambda i: (-centroid[i], v.terms[i]))
    return [v.terms[i] for i in order[:k] if centroid[i] > 0]


def similarities(query: Sequence[str], against: Sequence[str]) -> list[list[float]]:
    """Cosine similarity of each query text to each text of `against`, in one shared vector space."""
    if not query or not against:
        return [[] for _ in query]
    v = vectors([*query, *against])
    q, a = v.matrix[: len(query)], v.matrix[len(query):]
    return (q @ a.T).toarray().tolist()


# ---------------------------------------------------------------- suggestions
@dataclass
class Suggestion:
    """A suggested common problem: its problems, the units and industries they span, a title of its
    most characteristic terms, the department that governed the most similar earlier common
    problems (or, without any, the one governing most of its units), and those common problems."""

    problem_ids: list[int]
    title: str
    terms: list[str]
    unit_ids: list[int]
    industries: list[str]
    department_id: int | None
    similar_common_problem_ids: list[int]
    category: str = ""  # the category its problems were most often given

    def json(self) -> dict:
        return {"problem_ids": self.problem_ids, "title": self.title, "category": self.category,
                "industries": self.industries,
                "unit_ids": self.unit_ids, "department_id": self.department_id,
                "similar_common_problem_ids": self.similar_common_problem_ids}


@dataclass
class Suggestions:
    round: Round
    clusters: list[Suggestion]
    include_earlier: bool
    problems: dict[int, Problem] = field(default_factory=dict)
    units: dict[int, Unit] = field(default_factory=dict)
    earlier: dict[int, CommonProblem] = field(default_factory=dict)


def suggestions(s: Session, p: Principal, round_id: int, include_earlier: bool = False,
                ungrouped_only: bool = True) -> Suggestions:
    """The round's problems not yet on its list (with `include_earlier`, also those of earlier rounds
    never put on a list) grouped by their text; groups of one are left out."""
    p.require(*access.INSIGHT_READERS)
    rnd = _round(s, round_id)
    query = select(Problem).order_by(Problem.id)
    if include_earlier:
        query = query.join(Round, Round.id == Problem.round_id).where(
            or_(Problem.round_id == rnd.id, (Round.id < rnd.id) & Problem.common_problem_id.is_(None)))
    else:
        query = query.where(Problem.round_id == rnd.id)
    if ungrouped_only:
        query = query.where(Problem.common_problem_id.is_(None))
    problems = list(s.scalars(query))
    units = {u.id: u for u in s.scalars(select(Unit))}
    earlier = _earlier_common_problems(s, rnd)
    found = suggest(problems, units, earlier)
    return Suggestions(rnd, found, include_earlier, {pr.id: pr for pr in problems}, units,
                       {c.id: c for c, _ in earlier})


def suggest(problems: Sequence[Problem], units: dict[int, Unit],
            earlier: Sequence[tuple[CommonProblem, str]]) -> list[Suggestion]:
    """The grouping itself, on records already read (the benchmark calls it directly)."""
    if len(problems) < 2:
        return []
    texts = [pr.description for pr in problems]
    earlier_texts = [text for _, text in earlier]
    v = vectors([*texts, *earlier_texts])
    labels = clusters(texts, v.matrix[: len(texts)])
    members: dict[int, list[int]] = defaultdict(list)
    for row, label in enumerate(labels):
        members[label].append(row)
    groups = [rows for rows in members.values() if len(rows) > 1]
    found = [_describe(v, rows, problems, units, earlier) for rows in groups]
    # the largest groups first, then in the order of their first problem
    return sorted(found, key=lambda g: (-len(g.problem_ids), g.problem_ids[0]))


def _describe(v: Vectors, rows: Sequence[int], problems: Sequence[Problem], units: dict[int, Unit],
              earlier: Sequence[tuple[CommonProblem, str]]) -> Suggestion:
    """One group as a suggestion; `v` holds the problems' rows first, then the earlier common problems'."""
    import numpy as np

    chosen = [problems[r] for r in rows]
    unit_ids = sorted({pr.unit_id for pr in chosen})
    similar: list[tuple[float, CommonProblem]] = []
    if earlier:
        centroid = _normalized(np.asarray(v.matrix[list(rows)].sum(axis=0))).toarray()
        scores = (v.matrix[len(problems):] @ centroid.T).ravel()
        similar = sorted(((float(sc), earlier[i][0]) for i, sc in enumerate(scores) if sc >= SIMILAR_MIN),
                         key=lambda x: (-x[0], x[1].id))[:SIMILAR_SHOWN]
    terms = characteristic_terms(v, rows)
    return Suggestion(
        problem_ids=[pr.id for pr in chosen], title="、".join(terms), terms=terms, unit_ids=unit_ids,
        industries=sorted({industry for u in unit_ids if u in units and (industry := units[u].industry)}),
        department_id=_department(similar, [units[u] for u in unit_ids if u in units]),
        similar_common_problem_ids=[c.id for _, c in similar],
        category=min(Counter(pr.category for pr in chosen).items(), key=lambda kv: (-kv[1], kv[0]))[0])


def proposal(s: Session, p: Principal, round_id: int, problem_ids: Sequence[int]) -> Suggestion | None:
    """What the office takes up (one suggestion, or several merged): the chosen problems of the
    round described as one group, with a title, a department and similar earlier common problems."""
    p.require(*access.INSIGHT_READERS)
    rnd = _round(s, round_id)
    problems = list(s.scalars(select(Problem).where(Problem.round_id == rnd.id).order_by(Problem.id)))
    rows = [i for i, pr in enumerate(problems) if pr.id in set(problem_ids)]
    if not rows:
        return None
    earlier = _earlier_common_problems(s, rnd)
    v = vectors([*(pr.description for pr in problems), *(text for _, text in earlier)])
    units = {u.id: u for u in s.scalars(select(Unit).where(Unit.id.in_({problems[r].unit_id for r in rows})))}
    return _describe(v, rows, problems, units, earlier)


def _department(similar: list[tuple[float, CommonProblem]], units: list[Unit]) -> int | None:
    """The department that governed the most similar earlier common problems (similarity summed),
    else the department governing most of the units (their industry's 解铃人)."""
    weight: Counter[int] = Counter()
    for score, common in similar:
        weight[common.responsible_department_id] += score  # type: ignore[assignment]
    if not weight:
        weight.update(u.department_id for u in units if u.department_id is not None)
    if not weight:
        return None
    return min(weight, key=lambda d: (-weight[d], d))


def _earlier_common_problems(s: Session, rnd: Round | None) -> list[tuple[CommonProblem, str]]:
    """Common problems of earlier rounds, each with the text it is compared by: its title,
    description and the problems grouped into it."""
    query = select(CommonProblem).join(Round, Round.id == CommonProblem.round_id).order_by(CommonProblem.id)
    if rnd is not None:
        query = query.where(Round.id < rnd.id)  # rounds are numbered in the order they are started
    commons = list(s.scalars(query))
    texts: dict[int | None, list[str]] = defaultdict(list)
    if commons:
        for cid, text in s.execute(select(Problem.common_problem_id, Problem.description)
                                   .where(Problem.common_problem_id.in_([c.id for c in commons]))
                                   .order_by(Problem.id)):
            texts[cid].append(text)
    return [(c, "；".join([c.title, c.title, c.description or "", *texts[c.id]])) for c in commons]


def _round(s: Session, round_id: int) -> Round:
    rnd = s.get(Round, round_id)
    if rnd is None:
        raise NotFound(f"round {round_id} does not exist")
    return rnd


# ---------------------------------------------------------------- similar earlier common problems
@dataclass
class Outcome:
    """How an earlier common problem ended: the units it went to, how many closed it out, the
    measures and institutions they reported, and whether every one of them closed it."""

    common: CommonProblem
    round_name: str
    department: str
    similarity: float
    units: int
    units_closed: int
    measures: int
    institutions: int

    @property
    def closed(self) -> bool:
        return self.units > 0 and self.units_closed == self.units

    def json(self) -> dict:
        return {"id": self.common.id, "title": self.common.title, "round_id": self.common.round_id,
                "round": self.round_name, "responsible_department_id": self.common.responsible_department_id,
                "similarity": round(self.similarity, 3), "units": self.units, "units_closed": self.units_closed,
                "measures": self.measures, "institutions": self.institutions, "closed": self.closed}


def similar_common_problems(s: Session, p: Principal, round_id: int, title: str) -> list[Outcome]:
    """The earlier rounds' common problems closest to a title being typed, with their outcome."""
    p.require(*access.INSIGHT_READERS)
    rnd = _round(s, round_id)
    title = (title or "").strip()[:300]
    if not title:
        return []
    earlier = _earlier_common_problems(s, rnd)
    scores = similarities([title], [text for _, text in earlier])[0] if earlier else []
    chosen = sorted(((sc, c) for sc, (c, _) in zip(scores, earlier, strict=True) if sc >= SIMILAR_MIN),
                    key=lambda x: (-x[0], x[1].id))[:SIMILAR_SHOWN]
    return outcomes(s, [(c, sc) for sc, c in chosen])


def outcomes(s: Session, chosen: Sequence[tuple[CommonProblem, float]]) -> list[Outcome]:
    """Each common problem's outcome, counted from the rectification items of the cases it went to."""
    ids = [c.id for c, _ in chosen]
    if not ids:
        return []
    per: dict[int, dict[str, int]] = defaultdict(lambda: {"units": 0, "closed": 0, "measures": 0, "institutions": 0})
    measures = (select(Measure.item_id, func.count(Measure.id).label("n")).group_by(Measure.item_id).subquery())
    institutions = (select(Institution.item_id, func.count(Institution.id).label("n"))
                    .group_by(Institution.item_id).subquery())
    rows = s.execute(select(RectificationItem.common_problem_id, Case.status, measures.c.n, institutions.c.n)
                     .join(Case, Case.id == RectificationItem.case_id)
                     .outerjoin(measures, measures.c.item_id == RectificationItem.id)
                     .outerjoin(institutions, institutions.c.item_id == RectificationItem.id)
                     .where(RectificationItem.common_problem_id.in_(ids)))
    for cid, status, n_measures, n_institutions in cast(list[tuple[int, str, int | None, int | None]], rows.all()):
        row = per[cid]
        row["units"] += 1
        row["closed"] += status == CaseStatus.CLOSED
        row["measures"] += n_measures or 0
        row["institutions"] += n_institutions or 0
    rounds = dict(s.execute(select(Round.id, Round.name).where(Round.id.in_({c.round_id for c, _ in chosen}))).all())
    departments = dict(s.execute(select(Unit.id, Unit.name).where(
        Unit.id.in_({c.responsible_department_id for c, _ in chosen}))).all())
    return [Outcome(c, rounds.get(c.round_id, ""), departments.get(c.responsible_department_id, ""), score,
                    per[c.id]["units"], per[c.id]["closed"], per[c.id]["measures"], per[c.id]["institutions"])
            for c, score in chosen]


def earlier_outcomes(s: Session, ids: Sequence[int]) -> dict[int, Outcome]:
    """The outcomes of the similar common problems a suggestion names, for the page."""
    commons = list(s.scalars(select(CommonProblem).where(CommonProblem.id.in_(list(ids))))) if ids else []
    return {o.common.id: o for o in outcomes(s, [(c, 0.0) for c in commons])}


# ---------------------------------------------------------------- recurrence (问题反弹)
class Recurrence:
    """Why a problem is flagged recurring."""

    SIMILAR = "similar"  # its unit closed a similar problem in an earlier round
    RECHECK = "recheck"  # a follow-up re-check (回头看) found it again


def flag_recurrence(s: Session, problem: Problem) -> int | None:
    """Flag a problem just recorded (or reworded) as recurring when its unit closed out a similar
    common problem, or had a similar problem, in an earlier round: the earlier case is linked.
    A flag set by a 回头看 stays. Returns the earlier case's id, or None."""
    if problem.recurrence == Recurrence.RECHECK:
        return problem.recurring_of_case_id
    rnd = s.get_one(Round, problem.round_id)
    candidates = _closed_earlier(s, problem.unit_id, rnd)
    problem.recurring_of_case_id, problem.recurrence = None, None
    if not candidates:
        return None
    scores = similarities([problem.description], [text for _, text in candidates])[0]
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    if scores[best] < RECURRENCE_MIN:
        return None
    problem.recurring_of_case_id, problem.recurrence = candidates[best][0], Recurrence.SIMILAR
    return problem.recurring_of_case_id


def _closed_earlier(s: Session, unit_id: int, rnd: Round) -> list[tuple[int, str]]:
    """The unit's closed cases of earlier rounds, one text per common problem each received
    (its title and the problems grouped into it) and per problem of the unit found in that round."""
    cases = list(s.scalars(select(Case).join(Round, Round.id == Case.round_id).where(
        Case.unit_id == unit_id, Case.status == CaseStatus.CLOSED, Round.id < rnd.id).order_by(Case.id)))
    if not cases:
        return []
    by_round = {c.round_id: c.id for c in cases}
    received: dict[int, set[int]] = defaultdict(set)
    for case_id, cid in s.execute(select(CaseProblem.case_id, CaseProblem.common_problem_id)
                                  .where(CaseProblem.case_id.in_(list(by_round.values())))):
        received[case_id].add(cid)
    out: list[tuple[int, str]] = []
    commons = s.scalars(select(CommonProblem).where(CommonProblem.round_id.in_(list(by_round)))
                        .order_by(CommonProblem.id))
    grouped: dict[int | None, list[str]] = defaultdict(list)
    for grouped_in, text in s.execute(select(Problem.common_problem_id, Problem.description).where(
            Problem.round_id.in_(list(by_round)), Problem.common_problem_id.is_not(None)).order_by(Problem.id)):
        grouped[grouped_in].append(text)
    for common in commons:
        case_id = by_round[common.round_id]
        if received[case_id] and common.id not in received[case_id]:
            continue
        out.append((case_id, "；".join([common.title, *grouped[common.id]])))
    for round_id, text in s.execute(select(Problem.round_id, Problem.description).where(
            Problem.unit_id == unit_id, Problem.round_id.in_(list(by_round))).order_by(Problem.id)):
        out.append((by_round[round_id], text))
    return out


def flag_rechecked(s: Session, case: Case) -> list[int]:
    """A 回头看 reopened the case: the unit's problems of that round grouped into the common problems
    it received are found again, flagged recurring with the case (its closed pass) linked."""
    received = set(s.scalars(select(CaseProblem.common_problem_id).where(CaseProblem.case_id == case.id)))
    query = select(Problem).where(Problem.round_id == case.round_id, Problem.unit_id == case.unit_id,
                                  Problem.common_problem_id.is_not(None))
    flagged = []
    for problem in s.scalars(query.order_by(Problem.id)):
        if received and problem.common_problem_id not in received:
            continue
        problem.recurring_of_case_id, problem.recurrence = case.id, Recurrence.RECHECK
        flagged.append(problem.id)
    return flagged


# ---------------------------------------------------------------- recurrence and root causes, counted
def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _scoped_problems(p: Principal, round_id: int | None):
    query = (select(Problem.id, Problem.round_id, Problem.unit_id, Problem.common_problem_id,
                    Problem.recurring_of_case_id)
             .join(Round, Round.id == Problem.round_id)
             .where(access.unit_scope(p, Problem.unit_id), access.findings_scope(p)))
    return query.where(Problem.round_id == round_id) if round_id is not None else query


def recurrence_rate(s: Session, p: Principal, round_id: int | None) -> float:
    """Recurring problems among the problems found, inside the viewer's scope (for /stats)."""
    sub = _scoped_problems(p, round_id).subquery()
    total, recurring = s.execute(select(func.count(), func.count(sub.c.recurring_of_case_id))).one()
    return _rate(int(recurring or 0), int(total or 0))


def recurrence(s: Session, p: Principal, round_id: int | None) -> dict:
    """Recurrence per round, industry and unit: problems found, how many recur, the rate."""
    rows = s.execute(_scoped_problems(p, round_id)).all()
    units = {u.id: u for u in s.scalars(select(Unit).where(Unit.id.in_({r.unit_id for r in rows})))} if rows else {}
    rounds = dict(s.execute(select(Round.id, Round.name)).all())

    def table(key, name) -> list[dict]:
        counts: dict[Any, list[int]] = {}
        for r in rows:
            k = key(r)
            c = counts.setdefault(k, [0, 0])
            c[0] += 1
            c[1] += r.recurring_of_case_id is not None
        out = [{"key": k, "name": name(k), "problems": n, "recurring": m, "rate": _rate(m, n)}
               for k, (n, m) in counts.items()]
        return sorted(out, key=lambda x: (-x["rate"], -x["problems"], str(x["name"])))

    return {"rate": _rate(sum(r.recurring_of_case_id is not None for r in rows), len(rows)),
            "by_round": sorted(table(lambda r: r.round_id, lambda k: rounds.get(k, "")), key=lambda x: x["key"]),
            "by_industry": table(lambda r: (units[r.unit_id].industry or "") if r.unit_id in units else "",
                                 lambda k: k),
            "by_unit": table(lambda r: r.unit_id, lambda k: units[k].name if k in units else "")}


def root_causes(s: Session, p: Principal, round_id: int | None, now: datetime) -> dict:
    """Per industry and per responsible department: the common problems their units rectify, those
    units, the share of their cases overdue, and how many of their problems recur (管行业必须管共性问题整改)."""
    sent = or_(CaseProblem.common_problem_id == CommonProblem.id, CaseProblem.case_id.is_(None))
    query = (select(Case.id, Case.unit_id, Case.is_overdue(now), CommonProblem.id, CommonProblem.title,
                    CommonProblem.responsible_department_id, Unit.industry)
             .join(Unit, Unit.id == Case.unit_id)
             .join(CommonProblem, CommonProblem.round_id == Case.round_id)
             .outerjoin(CaseProblem, CaseProblem.case_id == Case.id)
             .where(access.case_scope(p), sent).distinct())
    if round_id is not None:
        query = query.where(Case.round_id == round_id)
    rows = s.execute(query).all()
    problems = s.execute(_scoped_problems(p, round_id)).all()
    industry_of = dict(s.execute(select(Unit.id, Unit.industry)).all())
    names = dict(s.execute(select(Unit.id, Unit.name).where(Unit.kind == "department")).all())

    def group(key_of_row, key_of_problem, name) -> list[dict]:
        acc: dict[Any, dict] = {}
        for case_id, unit_id, overdue, cid, title, dept, industry in rows:
            k = key_of_row(industry or "", dept)
            a = acc.setdefault(k, {"commons": {}, "units": set(), "cases": {}, "problems": 0, "recurring": 0})
            a["commons"][cid] = title
            a["units"].add(unit_id)
            a["cases"][case_id] = bool(overdue)
        for pr in problems:
            k = key_of_problem(pr)
            if k in acc:
                acc[k]["problems"] += 1
                acc[k]["recurring"] += pr.recurring_of_case_id is not None
        out = [{"key": k, "name": name(k), "common_problems": [t for _, t in sorted(a["commons"].items())],
                "units": len(a["units"]), "cases": len(a["cases"]),
                "overdue_share": _rate(sum(a["cases"].values()), len(a["cases"])),
                "problems": a["problems"], "recurring": a["recurring"],
                "recurrence_rate": _rate(a["recurring"], a["problems"])} for k, a in acc.items()]
        return sorted(out, key=lambda x: (-x["overdue_share"], -x["recurrence_rate"], str(x["name"])))

    departments_of: dict[int, int] = dict(s.execute(select(CommonProblem.id, CommonProblem.responsible_department_id)
                                                     ).all()) if rows else {}
    return {
        "industries": group(lambda industry, dept: industry,
                            lambda pr: industry_of.get(pr.unit_id) or "", lambda k: k),
        "departments": group(lambda industry, dept: dept,
                             lambda pr: departments_of.get(pr.common_problem_id), lambda k: names.get(k, "")),
    }
