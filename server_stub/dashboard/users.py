"""Dashboard users: the list with roles, adding a user and changing a role (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from server_stub.api.deps import DB
from server_stub.dashboard.web import (
    MaybeViewer,
    PostedForm,
    check_post,
    redirect,
    render,
    to_login,
)
from server_stub.storage.admins import ROLES, AdminError, create_admin, list_users, set_role

router = APIRouter(include_in_schema=False)


def _page(
    request: Request, session: DB, who: MaybeViewer, status: int = 200, error: str = ""
) -> Response:
    if who is None:
        return to_login(request)
    users = list_users(session)
    return render(request, "users.html", who, status, users=users, roles=ROLES, error=error)


@router.get("/users")
def users_page(request: Request, session: DB, who: MaybeViewer) -> Response:
    """Every dashboard user and their role (viewers read, admins change)."""
    return _page(request, session, who)


@router.post("/users")
def add_user(request: Request, session: DB, who: MaybeViewer, form: PostedForm) -> Response:
    checked = check_post(request, who, form)
    if isinstance(checked, Response):
        return checked
    try:
        create_admin(
            session, form.get("username").strip(), form.get("password"), checked.name,
            form.get("role"),
        )  # fmt: skip
    except AdminError as exc:
        return _page(request, session, checked, 400, str(exc))
    return redirect("/users")


@router.post("/users/role")
def change_role(request: Request, session: DB, who: MaybeViewer, form: PostedForm) -> Response:
    checked = check_post(request, who, form)
    if isinstance(checked, Response):
        return checked
    try:
        set_role(session, form.get("username"), form.get("role"), checked.name)
    except AdminError as exc:
        return _page(request, session, checked, 400, str(exc))
    return redirect("/users")
