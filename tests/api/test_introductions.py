"""People act: introductions asked with consent, contact shared only once accepted, silent
declines, blocks, limits, reports, join requests answered by coordinators, and erasure."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import or_, select, update

from api.auth import Role, read_audit
from api.social import ANSWER_DAYS, blocks, introductions, join_requests, reports
from graph.edges import Edge
from graph.model import Initiative
from tests.api.conftest import account_token, join, served
from tests.mailbox import Mailbox


@dataclass
class Member:
    name: str
    email: str
    person: str
    headers: dict[str, str]


def member(web: TestClient, mailbox: Mailbox, slug: str, name: str, **profile: Any) -> Member:
    """A new account with a profile and contact details of its own, using a bearer token."""
    email = f"{slug}@example.org"
    body = join(web, mailbox, email, name)
    headers = {"Authorization": f"Bearer {body['token']}"}
    changes = {"contact": {"email": f"{slug}-private@example.org"}} | profile
    answer = web.patch("/v1/me", json=changes, headers=headers)
    assert answer.status_code == 200, answer.text
    return Member(name, email, answer.json()["person"]["id"], headers)


@pytest.fixture
def people(web: TestClient, mailbox: Mailbox) -> dict[str, Member]:
    return {
        "ana": member(web, mailbox, "ana", "Ana Lima"),
        "bo": member(web, mailbox, "bo", "Bo Chen"),
        "cy": member(web, mailbox, "cy", "Cy Okafor"),
    }


def contact_of(web: TestClient, viewer: Member, other: Member) -> Any:
    answer = web.get(f"/v1/nodes/{other.person}", headers=viewer.headers)
    assert answer.status_code == 200, answer.text
    return answer.json().get("contact")


def ask(web: TestClient, sender: Member, to: str, message: str = "Hello!") -> Any:
    return web.post(
        "/v1/introductions", json={"to": to, "message": message}, headers=sender.headers
    )


def inbox(web: TestClient, who: Member) -> dict[str, list[dict[str, Any]]]:
    answer = web.get("/v1/introductions", headers=who.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, list[dict[str, Any]]] = answer.json()
    return body


def test_consent_flow_shares_contact_only_once_accepted(
    web: TestClient, mailbox: Mailbox, people: dict[str, Member]
) -> None:
    ana, bo, cy = people["ana"], people["bo"], people["cy"]
    asked = ask(web, ana, bo.person, "We both run reading circles; shall we talk?")
    assert asked.status_code == 201, asked.text
    item = asked.json()
    assert item["direction"] == "sent" and item["status"] == "waiting"
    assert item["other"] == {"id": bo.person, "name": "Bo Chen", "kind": "person"}
    mail = mailbox.wait(bo.email, count=2)[-1]  # after the sign-up link
    assert "Ana Lima" in mail.subject and "reading circles" in mail.text
    assert any(link.endswith("/inbox") for link in mail.links())
    assert contact_of(web, ana, bo) is None and contact_of(web, bo, ana) is None  # not before
    received = inbox(web, bo)["received"]
    assert [r["id"] for r in received] == [item["id"]]
    assert received[0]["message"].startswith("We both") and received[0]["status"] == "waiting"
    accepted = web.post(f"/v1/introductions/{item['id']}/accept", headers=bo.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    told = mailbox.wait(ana.email, count=2)[-1]
    assert "Bo Chen" in told.subject and any("/people/" in link for link in told.links())
    assert contact_of(web, ana, bo) == {"email": "bo-private@example.org"}
    assert contact_of(web, bo, ana) == {"email": "ana-private@example.org"}
    assert contact_of(web, cy, bo) is None and contact_of(web, cy, ana) is None
    assert inbox(web, ana)["sent"][0]["status"] == "accepted"
    again = web.post(f"/v1/introductions/{item['id']}/accept", headers=bo.headers)
    assert again.status_code == 409
    assert ask(web, ana, bo.person).status_code == 409  # already introduced


def test_contact_follows_what_each_chose_to_share(
    web: TestClient, people: dict[str, Member]
) -> None:
    ana, bo, cy = people["ana"], people["bo"], people["cy"]
    web.patch("/v1/me", json={"share_contact": "members"}, headers=cy.headers)
    assert contact_of(web, ana, cy) == {"email": "cy-private@example.org"}
    assert "share_contact" not in web.get(f"/v1/nodes/{cy.person}", headers=ana.headers).json()
    web.patch("/v1/me", json={"share_contact": "nobody"}, headers=bo.headers)
    item = ask(web, ana, bo.person).json()
    web.post(f"/v1/introductions/{item['id']}/accept", headers=bo.headers)
    assert contact_of(web, ana, bo) is None  # introduced, but Bo shares with nobody
    assert contact_of(web, bo, ana) == {"email": "ana-private@example.org"}
    # Recommendations never carry contact details, whoever may see them.
    recommended = web.get(f"/v1/people/{bo.person}/collaborators", headers=bo.headers)
    assert recommended.status_code == 200, recommended.text
    assert "private@example.org" not in recommended.text


def test_a_decline_reads_as_waiting_to_the_sender(
    web: TestClient, mailbox: Mailbox, people: dict[str, Member]
) -> None:
    ana, bo = people["ana"], people["bo"]
    item = ask(web, ana, bo.person).json()
    before = inbox(web, ana)
    twice = ask(web, ana, bo.person)
    declined = web.post(f"/v1/introductions/{item['id']}/decline", headers=bo.headers)
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert inbox(web, ana) == before  # exactly as while waiting
    after = ask(web, ana, bo.person)
    assert (after.status_code, after.json()["errors"]) == (409, twice.json()["errors"])
    assert inbox(web, bo)["received"][0]["status"] == "declined"
    assert contact_of(web, ana, bo) is None and contact_of(web, bo, ana) is None
    served(web).mailer.flush()
    assert len(mailbox.to(ana.email)) == 1  # the sign-up link only: no word of the decline


def test_blocked_senders_are_neither_shown_nor_mailed(
    web: TestClient, mailbox: Mailbox, people: dict[str, Member]
) -> None:
    ana, bo = people["ana"], people["bo"]
    blocked = web.post("/v1/blocks", json={"person": ana.person}, headers=bo.headers)
    assert blocked.status_code == 201, blocked.text
    assert web.get("/v1/blocks", headers=bo.headers).json()["items"] == [
        {"id": ana.person, "name": "Ana Lima", "kind": "person"}
    ]
    asked = ask(web, ana, bo.person)
    assert asked.status_code == 201 and asked.json()["status"] == "waiting"
    assert inbox(web, bo)["received"] == []
    refused = web.post(f"/v1/introductions/{asked.json()['id']}/accept", headers=bo.headers)
    assert refused.status_code == 404
    served(web).mailer.flush()
    assert len(mailbox.to(bo.email)) == 1  # the sign-up link only
    assert web.delete(f"/v1/blocks/{ana.person}", headers=bo.headers).status_code == 204
    assert [r["id"] for r in inbox(web, bo)["received"]] == [asked.json()["id"]]
    assert web.delete(f"/v1/blocks/{ana.person}", headers=bo.headers).status_code == 404


def test_a_block_withdraws_shared_contact(web: TestClient, people: dict[str, Member]) -> None:
    ana, bo = people["ana"], people["bo"]
    item = ask(web, ana, bo.person).json()
    web.post(f"/v1/introductions/{item['id']}/accept", headers=bo.headers)
    assert contact_of(web, ana, bo) is not None
    web.post("/v1/blocks", json={"person": ana.person}, headers=bo.headers)
    assert contact_of(web, ana, bo) is None and contact_of(web, bo, ana) is None


def test_limits_per_day(web: TestClient, people: dict[str, Member]) -> None:
    services = served(web)
    services.settings = services.settings.model_copy(update={"introductions_per_day": 1})
    ana = people["ana"]
    assert ask(web, ana, people["bo"].person).status_code == 201
    refused = ask(web, ana, people["cy"].person)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json()["errors"][0]["field"] == "body.to"
    assert len(inbox(web, ana)["sent"]) == 1


def test_hidden_missing_and_bad_targets(
    web: TestClient, mailbox: Mailbox, people: dict[str, Member]
) -> None:
    ana, bo, cy = people["ana"], people["bo"], people["cy"]
    web.patch("/v1/me", json={"visibility": "private"}, headers=bo.headers)
    web.patch("/v1/me", json={"discoverable": False}, headers=cy.headers)
    absent = ask(web, ana, "person:nobody-at-all")
    assert absent.status_code == 404
    for hidden in (bo.person, cy.person):
        answer = ask(web, ana, hidden)
        assert answer.status_code == 404
        assert answer.text.replace(hidden, "X") == absent.text.replace("person:nobody-at-all", "X")
    assert inbox(web, bo)["received"] == [] and inbox(web, cy)["received"] == []
    myself = ask(web, ana, ana.person)
    assert myself.status_code == 422 and myself.json()["errors"][0]["field"] == "body.to"
    long = ask(web, ana, cy.person, "x" * 1001)
    assert long.status_code == 422 and long.json()["errors"][0]["field"] == "body.message"
    for bad in ("", "   ", "a\x00b"):
        refused = ask(web, ana, cy.person, bad)
        assert refused.status_code == 422, bad
        assert refused.json()["errors"][0]["field"] == "body.message"
    bare = TestClient(web.app, base_url=str(web.base_url))
    assert (
        bare.post("/v1/introductions", json={"to": ana.person, "message": "hi"}).status_code == 401
    )
    no_profile = join(web, mailbox, "new@example.org", "Newcomer")
    headers = {"Authorization": f"Bearer {no_profile['token']}"}
    refused = web.post(
        "/v1/introductions", json={"to": ana.person, "message": "hi"}, headers=headers
    )
    assert refused.status_code == 403 and "profile" in refused.json()["detail"]
    web.patch("/v1/me", json={"open_to_collaborate": False}, headers=ana.headers)
    closed = ask(web, bo, ana.person)
    assert closed.status_code == 422 and closed.json()["errors"][0]["field"] == "body.to"


def test_reports_reach_the_admins(web: TestClient, people: dict[str, Member]) -> None:
    services = served(web)
    cy, bo = people["cy"], people["bo"]
    made = web.post("/v1/reports", json={"node": bo.person, "reason": "Spam."}, headers=cy.headers)
    assert made.status_code == 201, made.text
    assert web.get("/v1/admin/reports", headers=cy.headers).status_code == 403
    _, secret = account_token(services, Role.admin)
    admin = {"Authorization": f"Bearer {secret}"}
    items = web.get("/v1/admin/reports", headers=admin).json()["items"]
    assert [(i["node"]["id"], i["reason"], i["reporter"]["id"]) for i in items] == [
        (bo.person, "Spam.", cy.person)
    ]
    resolved = web.post(f"/v1/admin/reports/{items[0]['id']}/resolve", headers=admin)
    assert resolved.status_code == 200 and resolved.json()["resolved_at"] is not None
    hidden = web.post(
        "/v1/reports", json={"node": "person:none", "reason": "x"}, headers=cy.headers
    )
    assert hidden.status_code == 404


def hub(web: TestClient, coordinator: Member) -> str:
    services = served(web)
    services.store.write([
        Initiative(id="initiative:reading", name="Reading circles"),
        Edge(kind="works_on", source=coordinator.person, target="initiative:reading",
             role="Coordinator"),
    ])  # fmt: skip
    services.catch_up()
    return "initiative:reading"


def test_join_request_answered_by_a_coordinator(
    web: TestClient, mailbox: Mailbox, people: dict[str, Member]
) -> None:
    ana, bo, cy = people["ana"], people["bo"], people["cy"]
    services = served(web)
    web_id = "initiative:lonely"
    services.store.write([Initiative(id=web_id, name="Lonely")])
    nobody = web.post("/v1/join-requests", json={"target": web_id, "message": "Hi"},
                      headers=ana.headers)  # fmt: skip
    assert nobody.status_code == 422
    assert nobody.json()["errors"] == [
        {"field": "body.target", "reason": "nobody coordinates this yet"}
    ]
    target = hub(web, bo)
    asked = web.post("/v1/join-requests", json={"target": target, "message": "I can help."},
                     headers=ana.headers)  # fmt: skip
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert request["status"] == "waiting" and request["target"]["name"] == "Reading circles"
    assert "I can help." in mailbox.wait(bo.email, count=2)[-1].text
    assert web.get("/v1/join-requests", headers=cy.headers).json()["received"] == []
    refused = web.post(f"/v1/join-requests/{request['id']}/accept", headers=cy.headers)
    assert refused.status_code == 404
    received = web.get("/v1/join-requests", headers=bo.headers).json()["received"]
    assert [r["id"] for r in received] == [request["id"]]
    seq = services.store.last_seq()
    accepted = web.post(f"/v1/join-requests/{request['id']}/accept", headers=bo.headers)
    assert accepted.status_code == 200, accepted.text
    assert services.store.last_seq() > seq
    assert services.store.get_edge(ana.person, "works_on", target) is not None
    assert read_audit(services.store.engine, limit=5)[0]["action"] == "join.accept"
    sent = web.get("/v1/join-requests", headers=ana.headers).json()["sent"]
    assert sent[0]["status"] == "accepted"
    assert "Reading circles" in mailbox.wait(ana.email, count=2)[-1].subject
    again = web.post("/v1/join-requests", json={"target": target, "message": "Hi"},
                     headers=ana.headers)  # fmt: skip
    assert again.status_code == 409


def test_a_declined_join_request_reads_as_waiting(
    web: TestClient, people: dict[str, Member]
) -> None:
    ana, bo = people["ana"], people["bo"]
    target = hub(web, bo)
    request = web.post("/v1/join-requests", json={"target": target, "message": "Hi"},
                       headers=ana.headers).json()  # fmt: skip
    before = web.get("/v1/join-requests", headers=ana.headers).json()
    declined = web.post(f"/v1/join-requests/{request['id']}/decline", headers=bo.headers)
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert web.get("/v1/join-requests", headers=ana.headers).json() == before


def test_erasure_removes_every_row_naming_the_person(
    web: TestClient, people: dict[str, Member]
) -> None:
    ana, bo, cy = people["ana"], people["bo"], people["cy"]
    services = served(web)
    target = hub(web, bo)
    ask(web, ana, bo.person)
    ask(web, cy, ana.person)
    web.post("/v1/blocks", json={"person": cy.person}, headers=ana.headers)
    web.post("/v1/reports", json={"node": bo.person, "reason": "Rude."}, headers=ana.headers)
    web.post("/v1/reports", json={"node": ana.person, "reason": "Rude."}, headers=cy.headers)
    web.post("/v1/join-requests", json={"target": target, "message": "Hi"}, headers=ana.headers)
    ask(web, cy, bo.person)  # stays: it does not name Ana

    def naming(person: str) -> int:
        found = 0
        with services.store.engine.connect() as conn:
            for table, columns in (
                (introductions, ("sender", "recipient")), (blocks, ("blocker", "blocked")),
                (reports, ("reporter", "node")), (join_requests, ("person",)),
            ):  # fmt: skip
                found += len(conn.execute(select(table).where(
                    or_(*(table.c[c] == person for c in columns)))).all())  # fmt: skip
        return found

    assert naming(ana.person) == 6
    erased = web.delete(f"/v1/nodes/{ana.person}", headers=ana.headers)
    assert erased.status_code == 204, erased.text
    assert naming(ana.person) == 0
    assert naming(cy.person) == 1  # cy's request to Bo


def test_after_thirty_days_a_request_reads_as_no_answer_and_may_be_asked_again(
    web: TestClient, people: dict[str, Member]
) -> None:
    ana, bo = people["ana"], people["bo"]
    first = ask(web, ana, bo.person).json()
    web.post(f"/v1/introductions/{first['id']}/decline", headers=bo.headers)
    with served(web).store.engine.begin() as conn:
        conn.execute(
            update(introductions)
            .where(introductions.c.id == first["id"])
            .values(created_at=time.time() - (ANSWER_DAYS + 1) * 86_400)
        )
    assert inbox(web, ana)["sent"][0]["status"] == "no_answer"
    assert inbox(web, bo)["received"][0]["status"] == "declined"  # their own answer
    again = ask(web, ana, bo.person)
    assert again.status_code == 201, again.text
    waiting = ask(web, cy := people["cy"], ana.person).json()
    with served(web).store.engine.begin() as conn:
        conn.execute(
            update(introductions)
            .where(introductions.c.id == waiting["id"])
            .values(created_at=time.time() - (ANSWER_DAYS + 1) * 86_400)
        )
    late = web.post(f"/v1/introductions/{waiting['id']}/accept", headers=ana.headers)
    assert late.status_code == 409
    assert inbox(web, cy)["sent"][0]["status"] == "no_answer"


def test_my_data_holds_my_requests_as_i_may_see_them(
    web: TestClient, people: dict[str, Member]
) -> None:
    """The export carries each side's requests, marks and reports, and tells the asker no
    more than the inbox does: a decline still reads as waiting; reports about someone stay
    their reporters'."""
    ana, bo, cy = people["ana"], people["bo"], people["cy"]
    asked = ask(web, ana, bo.person, "Shall we meet?").json()
    assert web.post(f"/v1/introductions/{asked['id']}/decline", headers=bo.headers).is_success
    assert web.post("/v1/reports", json={"node": ana.person, "reason": "Rude."},
                    headers=cy.headers).status_code == 201  # fmt: skip
    assert web.put(f"/v1/me/marks/follow/{cy.person}", headers=ana.headers).status_code == 201

    def export(who: Member) -> dict[str, Any]:
        answer = web.get("/v1/me/export", headers=who.headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    mine, theirs = export(ana), export(bo)
    [sent] = mine["introductions"]["sent"]
    assert sent["other"] == bo.person and sent["status"] == "waiting"
    assert sent["answered_at"] is None
    [received] = theirs["introductions"]["received"]
    assert received["status"] == "declined" and received["message"] == "Shall we meet?"
    assert mine["marks"] == [{"kind": "follow", "node": cy.person, "at": mine["marks"][0]["at"]}]
    assert mine["blocks_and_reports"]["reported"] == []  # Cy's report about Ana is Cy's
    assert export(cy)["blocks_and_reports"]["reported"][0]["node"] == ana.person
    assert "Rude." not in str(mine)
