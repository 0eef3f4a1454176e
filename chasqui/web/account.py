"""The logged-in user's own account: change the password (``/account/password``).

The first panel user gets a one-time password printed at the first start; until it is changed the
login lands here and every page shows a banner asking to change it (``PanelUser.must_change_password``).
Changing the password ends the user's other sessions (revoked on the server); this session is
kept. A weak password (common, breached, the user's e-mail or name) is refused.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from chasqui.accounts import MIN_NEW_PASSWORD_LENGTH, change_password
from chasqui.db.models import User
from chasqui.web.access import panel_user, require_csrf
from chasqui.web.layout import flash, render
from chasqui.web.sessions import current_session_id

router = APIRouter()


def _page(request: Request, user: object, problems: list[str] | None = None, status_code: int = 200) -> Response:
    context = {"user": user, "problems": problems or [], "min_length": MIN_NEW_PASSWORD_LENGTH, "section": ""}
    return render(request, "account_password.html", context, status_code=status_code)


@router.get("/account/password")
def password_form(request: Request) -> Response:
    with request.app.state.chasqui.runtime.session() as session:
        return _page(request, panel_user(session, request))


@router.post("/account/password", dependencies=[Depends(require_csrf)])
def password_change(
    request: Request, current: str = Form(""), new: str = Form(""), confirm: str = Form("")
) -> Response:
    state = request.app.state.chasqui
    with state.runtime.session() as session:
        user = panel_user(session, request)
        key = f"account|{user.id}"
        if state.login_limiter.blocked(key):
            problems = ["Demasiados intentos fallidos. Espera unos minutos y vuelve a intentarlo."]
            return _page(request, user, problems, status_code=429)
        row = session.get(User, user.id)
        assert row is not None  # panel_user found it
        problems = change_password(session, row, current, new, confirm, keep_session_id=current_session_id(request))
        if problems:
            session.rollback()  # nothing half-saved (not even a rehash of the old password)
            if "La contraseña actual no es correcta." in problems:
                state.login_limiter.fail(key)
            return _page(request, user, problems, status_code=400)
    state.login_limiter.reset(key)
    flash(request, notice="Contraseña actualizada.")
    return RedirectResponse("/", status_code=303)
