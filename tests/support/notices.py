"""The message centre as the tests read it, and a district whose functional department governs units."""
from __future__ import annotations

from sqlalchemy import update

from service.models import Unit


def govern(ctx, department_id: int, unit_ids: list[int]) -> None:
    """Make a functional department the one that governs these units' industry (Unit.department_id)."""
    ctx.db.transaction(lambda s: s.execute(update(Unit).where(Unit.id.in_(unit_ids))
                                           .values(department_id=department_id)))


def notices(user_api, **params) -> list[dict]:
    r = user_api.get("/notices", query_string={"limit": 500, **params})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def kinds(user_api, **params) -> list[str]:
    return sorted(n["kind"] for n in notices(user_api, **params))


def unread(user_api) -> int:
    return user_api.get("/me").get_json()["unread_notices"]


def pages_as(app, username: str):
    """The pages as one person, logged in through the form in a browser of their own."""
    from .pages import Pages

    pages = Pages(app.test_client())
    assert pages.login(username).status_code == 302
    return pages
