"""Accounts through the HTTP API with a real SMTP server on 127.0.0.1: sign up, the mailed
link, sign in and out, reset, tokens, CSRF, limits, and answers that tell nothing."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import SESSION_COOKIE
from api.services import Services
from api.settings import Settings
from tests.api.conftest import PASSWORD, PUBLIC, join, served, token_from
from tests.mailbox import Mailbox


def test_sign_up_follow_the_link_and_write_a_profile(web: TestClient, mailbox: Mailbox) -> None:
    body = join(web, mailbox, "Rosa@Example.org")
    assert body["account"]["email"] == "rosa@example.org"
    cookie = web.cookies.get(SESSION_COOKIE)
    assert cookie
    csrf = {"X-CSRF-Token": body["csrf_token"]}
    me = web.get("/v1/me").json()
    assert me["person"] is None and me["account"]["name"] == "Rosa Diaz"
    changed = web.patch(
        "/v1/me",
        json={
            "bio": "Reading circles for teenagers.",
            "sectors": ["sector:education"],
            "goals": ["sdg:4"],
            "contact": {"email": "rosa@example.org"},
            "place": {"name": "Davis", "country": "US", "lat": 38.5449, "lon": -121.7405},
        },
        headers=csrf,
    )
    assert changed.status_code == 200, changed.text
    person = changed.json()["person"]
    assert person["visibility"] == "members"  # the default of a new profile
    assert person["contact"] == {"email": "rosa@example.org"}  # the owner sees it
    assert changed.json()["sectors"] == ["sector:education"]
    assert changed.json()["place_shown_to_others"]["lat"] != 38.5449
    # A bearer token made at sign-in stands for the same person, with no cookie.
    bare = TestClient(web.app, base_url=PUBLIC)
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert bare.get("/v1/me", headers=headers).json()["person"]["id"] == person["id"]
    # Anonymous callers may not read the members-only profile.
    assert bare.get(f"/v1/nodes/{person['id']}").status_code == 404


def test_session_cookie_is_flagged(web: TestClient, mailbox: Mailbox) -> None:
    web.post(
        "/v1/account/signup", json={"email": "c@example.org", "password": PASSWORD, "name": "C"}
    )
    answer = web.post(
        "/v1/account/verify", json={"token": token_from(mailbox, "c@example.org", "verify")}
    )
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    for flag in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert flag.lower() in cookie.lower(), cookie


def test_writes_with_the_cookie_need_the_csrf_token(web: TestClient, mailbox: Mailbox) -> None:
    body = join(web, mailbox, "csrf@example.org")
    refused = web.patch("/v1/me", json={"bio": "x"})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "header.x-csrf-token"
    wrong = web.patch("/v1/me", json={"bio": "x"}, headers={"X-CSRF-Token": "0" * 40})
    assert wrong.status_code == 403
    other_site = web.patch(
        "/v1/me",
        json={"bio": "x"},
        headers={"X-CSRF-Token": body["csrf_token"], "Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403
    assert web.get("/v1/me").json()["person"] is None  # nothing was written
    ok = web.patch("/v1/me", json={"bio": "x"}, headers={"X-CSRF-Token": body["csrf_token"]})
    assert ok.status_code == 200
    # Reads need no token; the account page hands the token to the pages.
    assert web.get("/v1/account").json()["csrf_token"] == body["csrf_token"]
    assert web.get("/v1/account/session").json()["csrf_token"] == body["csrf_token"]
    visitor = TestClient(web.app, base_url=PUBLIC)
    assert visitor.get("/v1/account/session").json() == {"account": None}


def test_signing_in_starts_a_new_session(web: TestClient, mailbox: Mailbox) -> None:
    join(web, mailbox, "fix@example.org")
    planted = web.cookies.get(SESSION_COOKIE)
    answer = web.post("/v1/account/login", json={"email": "fix@example.org", "password": PASSWORD})
    assert answer.status_code == 200
    fresh = web.cookies.get(SESSION_COOKIE)
    assert fresh and fresh != planted
    stale = TestClient(web.app, base_url=PUBLIC, cookies={SESSION_COOKIE: planted or ""})
    assert stale.get("/v1/account").status_code == 401  # the old session ended


def test_sign_out_ends_the_session(web: TestClient, mailbox: Mailbox) -> None:
    body = join(web, mailbox, "out@example.org")
    cookie = web.cookies.get(SESSION_COOKIE) or ""
    done = web.post("/v1/account/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert done.status_code == 204
    replay = TestClient(web.app, base_url=PUBLIC, cookies={SESSION_COOKIE: cookie})
    assert replay.get("/v1/account").status_code == 401


def test_wrong_password_and_unknown_address_answer_alike(web: TestClient, mailbox: Mailbox) -> None:
    join(web, mailbox, "known@example.org")
    wrong = web.post("/v1/account/login", json={"email": "known@example.org", "password": "x" * 12})
    unknown = web.post(
        "/v1/account/login", json={"email": "nobody@example.org", "password": "x" * 12}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["errors"] == [
        {"field": "body.password", "reason": "wrong email or password"}
    ]


def test_sign_up_and_reset_tell_nothing(web: TestClient, mailbox: Mailbox) -> None:
    join(web, mailbox, "taken@example.org")
    again = web.post(
        "/v1/account/signup", json={"email": "taken@example.org", "password": PASSWORD, "name": "X"}
    )
    new = web.post(
        "/v1/account/signup", json={"email": "free@example.org", "password": PASSWORD, "name": "Y"}
    )
    assert again.status_code == new.status_code == 202
    assert again.json() == new.json()
    # The owner of the taken address hears that someone tried; no second account exists.
    second = mailbox.wait("taken@example.org", count=2)[-1]
    assert "already has an account" in second.text
    reset_known = web.post("/v1/account/reset", json={"email": "taken@example.org"})
    reset_unknown = web.post("/v1/account/reset", json={"email": "ghost@example.org"})
    assert reset_known.status_code == reset_unknown.status_code == 202
    assert reset_known.json() == reset_unknown.json()
    mailbox.wait("taken@example.org", count=3)
    served(web).jobs.submit(lambda: None).result()
    served(web).mailer.flush()
    assert mailbox.to("ghost@example.org") == []


def test_reset_sets_a_new_password_and_ends_old_sessions(web: TestClient, mailbox: Mailbox) -> None:
    body = join(web, mailbox, "reset@example.org")
    headers = {"Authorization": f"Bearer {body['token']}"}
    web.post("/v1/account/reset", json={"email": "reset@example.org"})
    token = token_from(mailbox, "reset@example.org", "reset", count=2)
    short = web.post("/v1/account/reset/confirm", json={"token": token, "password": "short"})
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "body.password"
    done = web.post(
        "/v1/account/reset/confirm", json={"token": token, "password": "a brand new passphrase"}
    )
    assert done.status_code == 200
    again = web.post(
        "/v1/account/reset/confirm", json={"token": token, "password": "another new passphrase"}
    )
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "body.token"
    bare = TestClient(web.app, base_url=PUBLIC)
    assert bare.get("/v1/me", headers=headers).status_code == 401  # the old token ended
    old = bare.post("/v1/account/login", json={"email": "reset@example.org", "password": PASSWORD})
    assert old.status_code == 401
    new = bare.post(
        "/v1/account/login",
        json={"email": "reset@example.org", "password": "a brand new passphrase"},
    )
    assert new.status_code == 200


def test_sign_in_attempts_are_limited_per_address(web: TestClient, mailbox: Mailbox) -> None:
    join(web, mailbox, "limit@example.org")
    limit = served(web).settings.logins_per_quarter_hour
    for _ in range(limit):
        wrong = web.post(
            "/v1/account/login", json={"email": "limit@example.org", "password": "w" * 12}
        )
        assert wrong.status_code == 401
    blocked = web.post(
        "/v1/account/login", json={"email": "limit@example.org", "password": PASSWORD}
    )
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    # An unknown address is limited the same way: the limit tells nothing either.
    for _ in range(limit):
        web.post("/v1/account/login", json={"email": "nope@example.org", "password": "w" * 12})
    assert (
        web.post(
            "/v1/account/login", json={"email": "nope@example.org", "password": "w" * 12}
        ).status_code
        == 429
    )


def test_sign_ups_are_limited_per_address(web: TestClient) -> None:
    limit = served(web).settings.signups_per_hour
    body = {"email": "flood@example.org", "password": PASSWORD, "name": "F"}
    codes = [web.post("/v1/account/signup", json=body).status_code for _ in range(limit + 1)]
    assert codes == [202] * limit + [429]


def test_tokens_are_listed_and_revocable(web: TestClient, mailbox: Mailbox) -> None:
    body = join(web, mailbox, "tok@example.org")
    csrf = {"X-CSRF-Token": body["csrf_token"]}
    made = web.post("/v1/account/tokens", json={"label": "import script"}, headers=csrf)
    assert made.status_code == 201
    secret = made.json()["token"]
    listed = web.get("/v1/account/tokens").json()["items"]
    assert {item["kind"] for item in listed} == {"session", "token"}
    assert all("token" not in item for item in listed)  # never a secret
    bearer = {"Authorization": f"Bearer {secret}"}
    bare = TestClient(web.app, base_url=PUBLIC)
    assert bare.get("/v1/account", headers=bearer).status_code == 200
    gone = web.delete(f"/v1/account/tokens/{made.json()['id']}", headers=csrf)
    assert gone.status_code == 204
    assert bare.get("/v1/account", headers=bearer).status_code == 401


def test_bad_input_names_the_field(web: TestClient, mailbox: Mailbox) -> None:
    cases = [
        ({"email": "not-an-address", "password": PASSWORD, "name": "N"}, "body.email"),
        ({"email": "n@example.org", "password": "short", "name": "N"}, "body.password"),
        ({"email": "n@example.org", "password": PASSWORD, "name": ""}, "body.name"),
    ]
    for body, field in cases:
        answer = web.post("/v1/account/signup", json=body)
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["field"] == field
    joined = join(web, mailbox, "bad@example.org")
    csrf = {"X-CSRF-Token": joined["csrf_token"]}
    bad = web.patch(
        "/v1/me",
        headers=csrf,
        json={"visibility": "everyone", "sectors": ["sector:nope"], "board_member": True},
    )
    assert bad.status_code == 422
    fields = {error["field"] for error in bad.json()["errors"]}
    assert {"body.sectors[0]", "body.board_member"} <= fields
    worse = web.patch("/v1/me", headers=csrf, json={"visibility": "everyone"})
    assert worse.status_code == 422
    assert worse.json()["errors"][0]["field"] == "body.visibility"
    assert web.get("/v1/me").json()["person"] is None  # nothing half-written


def test_without_smtp_the_links_go_to_the_log(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    services = Services.start(settings)
    try:
        with TestClient(create_app(services=services), base_url=PUBLIC) as client:
            client.post(
                "/v1/account/signup",
                json={"email": "log@example.org", "password": PASSWORD, "name": "L"},
            )
            services.jobs.submit(lambda: None).result()
            services.mailer.flush()
    finally:
        services.close()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert re.search(r"/verify\?token=\S+", logged), logged


def test_mail_links_use_the_public_address(web: TestClient, mailbox: Mailbox) -> None:
    web.post(
        "/v1/account/signup",
        json={"email": "link@example.org", "password": PASSWORD, "name": "Lin"},
    )
    mail = mailbox.wait("link@example.org")[0]
    assert mail.subject == "Confirm your address to join Cocreate"
    assert mail.links()[0].startswith(f"{PUBLIC}/verify?token=")
    assert httpx.URL(mail.links()[0]).params["token"]


def test_reset_requests_are_limited_per_address(web: TestClient) -> None:
    limit = served(web).settings.signups_per_hour
    codes = [
        web.post("/v1/account/reset", json={"email": "someone@example.org"}).status_code
        for _ in range(limit + 1)
    ]
    assert codes == [202] * limit + [429]


def test_a_form_on_another_site_cannot_sign_anyone_in(web: TestClient, mailbox: Mailbox) -> None:
    """Login CSRF: a cross-site HTML form can only send form or text bodies, never JSON,
    and the routes before sign-in read JSON only."""
    join(web, mailbox, "victim@example.org")
    web.cookies.clear()
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        answer = web.post(
            "/v1/account/login",
            content=f'{{"email": "victim@example.org", "password": "{PASSWORD}"}}',
            headers={"Content-Type": content_type},
        )
        assert answer.status_code == 422, answer.text
        assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


def test_two_first_profile_writes_at_once_make_one_person(
    web: TestClient, mailbox: Mailbox
) -> None:
    body = join(web, mailbox, "twice@example.org")
    headers = {"Authorization": f"Bearer {body['token']}"}
    bare = TestClient(web.app, base_url=PUBLIC)
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda n: bare.patch("/v1/me", json={"bio": f"try {n}"}, headers=headers),
                     range(4))
        )  # fmt: skip
    codes = sorted(answer.status_code for answer in answers)
    assert codes.count(200) >= 1 and set(codes) <= {200, 409}, codes
    made = {a.json()["person"]["id"] for a in answers if a.status_code == 200}
    assert len(made) == 1, made
    services = served(web)
    services.catch_up()
    mine = [n for n in services.view.graph if n.startswith("person:rosa-diaz-")]
    assert len(mine) == 1, mine
