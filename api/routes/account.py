"""Accounts: sign up, confirm the address, sign in and out, reset a password, tokens.

No answer tells whether an address is registered: sign-up and reset always answer 202
at once and do their work (the lookup, the hash, the mail) in the background, and a
sign-in with an unknown address checks a password hash just as a known one does. The
flows and the settings: docs/accounts.md.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.accounts import (
    Account,
    bucket,
    email_problem,
    hash_password,
    normalise_email,
    password_problem,
)
from api.auth import Caller, csrf_token
from api.deps import SESSION_COOKIE, CallerDep, KeyCallerDep, ServicesDep, client_address
from api.errors import NotFound, TooManyRequests, Unauthorized, Unprocessable
from api.mail import Mail
from api.ratelimit import retry_after
from api.schemas import PROBLEMS
from api.services import Services
from graph.store import transaction

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/account", tags=["account"], responses=PROBLEMS)

HOUR = 3_600.0
QUARTER = 900.0
LOGIN_TOKEN_DAYS = 30.0


class SignUp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320, examples=["rosa@example.org"])
    password: str = Field(max_length=1_000)
    name: str = Field(min_length=1, max_length=200, examples=["Rosa Diaz"])


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320)
    password: str = Field(max_length=1_000)


class Verify(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=200)
    password: str | None = Field(
        default=None, max_length=1_000, description="An invitation only: the new password"
    )
    name: str | None = Field(default=None, min_length=1, max_length=200)


class ResetAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320)


class ResetConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=200)
    password: str = Field(max_length=1_000)


class AccountChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    digest: bool | None = Field(default=None, description="Receive the weekly digest")


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1, max_length=200, examples=["my import script"])


ACCEPTED = {
    "status": "accepted",
    "detail": "If this address can be used, a mail with a link is on its way. "
    "The link works once; check the spam folder if nothing arrives within a few minutes.",
}


def _invalid(field: str, reason: str) -> Unprocessable:
    return Unprocessable(f"{field}: {reason}", errors=[{"field": field, "reason": reason}])


def _check_email(email: str) -> str:
    address = normalise_email(email)
    problem = email_problem(address)
    if problem:
        raise _invalid("body.email", problem)
    return address


def _check_password(password: str, field: str = "body.password") -> None:
    problem = password_problem(password)
    if problem:
        raise _invalid(field, problem)


def _limit(services: Services, limits: dict[str, int], window: float, what: str) -> None:
    wait = services.accounts.spent(limits, window)
    if wait:
        raise TooManyRequests(
            f"too many {what} attempts; try again later",
            errors=[{"field": "body.email", "reason": f"too many {what} attempts"}],
            headers={"Retry-After": retry_after(wait)},
        )


def _buckets(kind: str, email: str, address: str, per_email: int) -> dict[str, int]:
    return {
        bucket(f"{kind}-email", email): per_email,
        bucket(f"{kind}-ip", address): 10 * per_email,
    }


def _link(services: Services, page: str, token: str) -> str:
    return f"{services.settings.base_url}/{page}?token={token}"


# -- sign up and confirm -----------------------------------------------------------


@router.post("/signup", status_code=202, summary="Sign up (a link to confirm is mailed)")
async def signup(
    body: SignUp, request: Request, services: ServicesDep, caller: KeyCallerDep
) -> JSONResponse:
    """Answers 202 whether or not the address is known; the mail says what to do next."""
    del caller  # asked only so that a bad key is refused here as on every other route
    email = _check_email(body.email)
    _check_password(body.password)
    name = body.name.strip()
    if not name:
        raise _invalid("body.name", "must not be blank")
    limits = _buckets("signup", email, client_address(request), services.settings.signups_per_hour)
    await run_in_threadpool(_limit, services, limits, HOUR, "sign-up")
    await run_in_threadpool(services.accounts.count, *limits)
    services.jobs.submit(_signup_job, services, email, name, body.password)
    return JSONResponse(ACCEPTED, status_code=202)


def _signup_job(services: Services, email: str, name: str, password: str) -> None:
    try:
        known = services.accounts.by_email(email)
        password_hash = hash_password(password)
        if known is not None:
            services.mailer.send(_already_mail(services, email))
            return
        token = services.accounts.token(
            "signup", email, data={"name": name, "password_hash": password_hash}
        )
        services.mailer.send(
            Mail(
                email,
                "Confirm your address to join Cocreate",
                f"Hello {name},\n\nSomeone (we hope you) signed up for Cocreate with this "
                f"address. To confirm it and finish joining, open this link within two days:\n\n"
                f"{_link(services, 'verify', token)}\n\n"
                "If it was not you, ignore this mail: nothing happens without the link.\n",
            )
        )
    except Exception:  # a background job has nobody to answer to but the log
        log.exception("sign-up job failed")


def _already_mail(services: Services, email: str) -> Mail:
    base = services.settings.base_url
    return Mail(
        email,
        "You already have a Cocreate account",
        "Hello,\n\nSomeone (we hope you) tried to sign up for Cocreate with this address, "
        f"which already has an account. Sign in at {base}/signin, or if you forgot your "
        f"password, set a new one at {base}/reset.\n\nIf it was not you, ignore this mail.\n",
    )


@router.post("/verify", summary="Confirm an address (the link from the mail) and sign in")
def verify(
    body: Verify, request: Request, services: ServicesDep, caller: KeyCallerDep
) -> JSONResponse:
    """Follows a sign-up link (or an invitation, which also sets the password and name):
    creates the account, signs in, and answers like ``/login``."""
    del caller  # asked only so that a bad key is refused
    if body.password is not None:
        _check_password(body.password)
    with transaction(services.store.engine) as conn:
        used = services.accounts.redeem(conn, body.token, ("signup", "invite"))
        if used is None:
            raise _invalid("body.token", "this link is not valid any more (used or expired)")
        if services.accounts.by_email_in(conn, used.email) is not None:
            raise _invalid("body.token", "this address already has an account: sign in")
        if used.purpose == "invite":
            if body.password is None:
                raise _invalid("body.password", "choose a password to accept the invitation")
            name = (body.name or used.data.get("name") or "").strip()
            if not name:
                raise _invalid("body.name", "must not be blank")
            account = services.accounts.create(
                conn,
                used.email,
                name,
                hash_password(body.password),
                used.data.get("role", "member"),
            )
        else:
            account = services.accounts.create(
                conn, used.email, used.data["name"], used.data["password_hash"], "member"
            )
    return _signed_in(services, account, request)


# -- sign in and out -----------------------------------------------------------------


@router.post("/login", summary="Sign in: a session cookie, and a token for scripts")
def login(
    body: SignIn, request: Request, services: ServicesDep, caller: KeyCallerDep
) -> JSONResponse:
    """Sets the session cookie (HttpOnly, Secure, SameSite=Strict) and returns a personal
    bearer token (valid 30 days, listed at ``/v1/account/tokens``) and the CSRF token the
    pages send with every write. A session cookie sent along is never kept: signing in
    always starts a new session."""
    del caller  # asked only so that a bad key is refused
    email = normalise_email(body.email)
    limits = _buckets(
        "login", email, client_address(request), services.settings.logins_per_quarter_hour
    )
    _limit(services, limits, QUARTER, "sign-in")
    account = services.accounts.check_password(email, body.password)
    if account is None:
        services.accounts.count(*limits)
        reason = "wrong email or password"
        raise Unauthorized(
            reason,
            errors=[{"field": "body.password", "reason": reason}],
            headers={"WWW-Authenticate": "Bearer"},
        )
    services.accounts.clear(next(iter(limits)))
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        found = services.keys.credential(old)
        if found is not None and found.kind == "session" and found.caller.account_id:
            services.keys.revoke_own(found.caller.account_id, found.caller.key_id or "")
    return _signed_in(services, account, request)


def _signed_in(services: Services, account: Account, request: Request) -> JSONResponse:
    lifetime = services.settings.session_days * 86_400
    _, session = services.keys.issue(account.id, "session", label=_agent(request),
                                     lifetime=lifetime)  # fmt: skip
    token_id, token = services.keys.issue(
        account.id, "token", label=f"signed in on {time.strftime('%Y-%m-%d')}",
        lifetime=LOGIN_TOKEN_DAYS * 86_400,
    )  # fmt: skip
    response = JSONResponse(
        {"account": account.public(), "token": token, "token_id": token_id,
         "csrf_token": csrf_token(session)}
    )  # fmt: skip
    response.set_cookie(
        SESSION_COOKIE, session, max_age=int(lifetime), path="/", secure=True, httponly=True,
        samesite="strict",
    )  # fmt: skip
    return response


def _agent(request: Request) -> str:
    agent = request.headers.get("user-agent", "")[:120]
    return f"web sign-in ({agent})" if agent else "web sign-in"


@router.post("/logout", status_code=204, response_class=Response, summary="Sign out")
def logout(request: Request, services: ServicesDep, caller: CallerDep) -> Response:
    """Ends the session (or revokes the bearer token) the request was made with."""
    if caller.account_id and caller.key_id:
        services.keys.revoke_own(caller.account_id, caller.key_id)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True,
                           samesite="strict")  # fmt: skip
    return response


# -- password reset --------------------------------------------------------------------


@router.post("/reset", status_code=202, summary="Ask for a link to set a new password")
async def reset(
    body: ResetAsk, request: Request, services: ServicesDep, caller: KeyCallerDep
) -> JSONResponse:
    """Answers 202 whether or not the address is known."""
    del caller  # asked only so that a bad key is refused
    email = _check_email(body.email)
    limits = _buckets("reset", email, client_address(request), services.settings.signups_per_hour)
    await run_in_threadpool(_limit, services, limits, HOUR, "reset")
    await run_in_threadpool(services.accounts.count, *limits)
    services.jobs.submit(_reset_job, services, email)
    return JSONResponse(ACCEPTED, status_code=202)


def _reset_job(services: Services, email: str) -> None:
    try:
        account = services.accounts.by_email(email)
        if account is None:
            return
        token = services.accounts.token("reset", email, account_id=account.id)
        services.mailer.send(
            Mail(
                email,
                "Set a new Cocreate password",
                f"Hello {account.name},\n\nTo set a new password, open this link within an "
                f"hour:\n\n{_link(services, 'reset', token)}\n\nIf you did not ask for it, "
                "ignore this mail: your password stays as it is.\n",
            )
        )
    except Exception:  # a background job has nobody to answer to but the log
        log.exception("reset job failed")


@router.post("/reset/confirm", summary="Set a new password (the link from the mail)")
def reset_confirm(
    body: ResetConfirm, request: Request, services: ServicesDep, caller: KeyCallerDep
) -> JSONResponse:
    """Sets the password, ends every session and token of the account, and signs in anew."""
    del caller  # asked only so that a bad key is refused
    _check_password(body.password)
    with transaction(services.store.engine) as conn:
        used = services.accounts.redeem(conn, body.token, ("reset",))
        if used is None or used.account_id is None:
            raise _invalid("body.token", "this link is not valid any more (used or expired)")
        services.accounts.set_password(conn, used.account_id, body.password)
        services.accounts.drop_tokens(conn, used.account_id, "reset")
        services.keys.revoke_account(conn, used.account_id)
    account = services.accounts.get(used.account_id)
    if account is None:
        raise _invalid("body.token", "this account no longer exists")
    services.accounts.clear(bucket("login-email", account.email))
    return _signed_in(services, account, request)


# -- the account itself ------------------------------------------------------------------


def signed_in(services: Services, caller: Caller) -> Account:
    """The caller's account; 401 for anyone not signed in with one."""
    account = services.accounts.get(caller.account_id) if caller.account_id else None
    if account is None:
        raise Unauthorized(
            "sign in first",
            errors=[{"field": "header.authorization", "reason": "not signed in"}],
            headers={"WWW-Authenticate": "Bearer"},
        )
    return account


def _account_body(request: Request, services: Services, account: Account) -> dict[str, Any]:
    body: dict[str, Any] = {"account": account.public()}
    session = request.cookies.get(SESSION_COOKIE)
    if session and request.headers.get("authorization") is None:
        body["csrf_token"] = csrf_token(session)
    return body


@router.get("/session", summary="Who is signed in (for the pages)")
def session(request: Request, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Always 200: ``{"account": null}`` for a visitor who is not signed in, else the
    account and, for a web session, its CSRF token. The pages ask this on every load, so
    a visitor's browser logs no failed request."""
    account = services.accounts.get(caller.account_id) if caller.account_id else None
    if account is None:
        return JSONResponse({"account": None})
    return JSONResponse(_account_body(request, services, account))


@router.get("", summary="My account")
def read_account(request: Request, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """The signed-in account, and for a web session the CSRF token its pages send."""
    return JSONResponse(_account_body(request, services, signed_in(services, caller)))


@router.patch("", summary="Change my name or digest choice")
def change_account(
    body: AccountChange, request: Request, services: ServicesDep, caller: CallerDep
) -> JSONResponse:
    account = signed_in(services, caller)
    values = body.model_dump(exclude_none=True)
    if "name" in values:
        values["name"] = values["name"].strip()
        if not values["name"]:
            raise _invalid("body.name", "must not be blank")
    if values:
        services.accounts.update(account.id, **values)
    changed = services.accounts.get(account.id)
    assert changed is not None
    return JSONResponse(_account_body(request, services, changed))


@router.get("/tokens", summary="My tokens and sessions")
def tokens(services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Live personal tokens and web sessions (never their secrets)."""
    account = signed_in(services, caller)
    items = [
        {"id": key.id, "kind": key.kind, "label": key.label, "created_at": key.created_at,
         "expires_at": key.expires_at, "current": key.id == caller.key_id}
        for key in services.keys.list(account.id)
    ]  # fmt: skip
    return JSONResponse({"items": items})


@router.post("/tokens", status_code=201, summary="Make a personal token for scripts")
def new_token(body: NewToken, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """The secret is shown once. It stands for the account (its role and profile) until
    revoked."""
    account = signed_in(services, caller)
    key_id, secret = services.keys.issue(account.id, "token", label=body.label, lifetime=None)
    return JSONResponse({"id": key_id, "token": secret, "label": body.label}, status_code=201)


@router.delete("/tokens/{key_id}", status_code=204, response_class=Response,
               summary="Revoke a token or end a session")  # fmt: skip
def revoke_token(
    key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")],
    services: ServicesDep,
    caller: CallerDep,
) -> Response:
    account = signed_in(services, caller)
    if not services.keys.revoke_own(account.id, key_id):
        reason = f"no live token '{key_id}' of yours"
        raise NotFound(reason, errors=[{"field": "path.key_id", "reason": reason}])
    return Response(status_code=204)
