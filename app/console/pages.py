"""Rendering a console page: the template, its words, who is signed in, and problems shown in
the person's language (the same AppErrors the API answers with problem+json)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from app.console.session import PATH, current
from app.console.texts import LANGUAGE_COOKIE, Words, language
from app.errors import AppError, render_problem
from app.i18n import Language
from models.document_types import type_names
from models.working_days import VIETNAM

HTMX_FRAGMENT_HEADER = "hx-request"


def local_time(moment: datetime) -> str:
    """A moment as people in Vietnam read it on a counter's screen."""
    return moment.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y")


def problem(exc: AppError, lang: Language) -> dict[str, Any]:
    title, detail, fields = render_problem(exc, lang)
    # A form's field problems say what to fix; the API's general detail speaks of 'errors'.
    shown = [f"{f['field']}: {f['message']}" if f["field"] else f["message"] for f in fields]
    return {"title": title, "detail": "" if fields else detail, "fields": shown}


def page(request: Request[Any, Any, Any], template: str, status: int = 200, **context: Any) -> Template:
    lang = language(request)
    session = current(request)
    response = Template(
        template_name=template,
        status_code=status,
        context={
            "lang": lang,
            "t": Words(lang),
            # A paper's name as people say it ("Giấy phép lái xe"), not its code.
            "type_name": lambda code: type_names(code)[0 if lang == "vi" else 1],
            "session": session,
            "session_ends": local_time(session.expires_at) if session else None,
            "user": request.scope.get("user"),
            **context,
        },
    )
    chosen = request.query_params.get("lang")
    if chosen in ("vi", "en"):
        response.set_cookie(
            Cookie(key=LANGUAGE_COOKIE, value=chosen, path=PATH, httponly=True, samesite="strict", max_age=31_536_000)
        )
    return response


def is_fragment(request: Request[Any, Any, Any]) -> bool:
    """An htmx request asks for a piece of the page; without JavaScript the whole page comes back."""
    return request.headers.get(HTMX_FRAGMENT_HEADER) == "true"


def see_other(path: str) -> Redirect:
    # 303: after a form's POST the browser GETs the page, so a reload sends nothing again.
    return Redirect(path=path, status_code=303)
