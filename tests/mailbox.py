"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every mail it receives."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.api.server import free_port


@dataclass(frozen=True)
class Received:
    to: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        return body.get_content() if body is not None else ""

    def links(self) -> list[str]:
        return re.findall(r"https?://\S+", self.text)


class Mailbox:
    """What the server received, in order."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._lock = threading.Condition()
        self.url = ""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.received.append(Received(tuple(envelope.rcpt_tos), message))
            self._lock.notify_all()
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [mail for mail in self.received if _for(mail, address)]

    def wait(self, address: str, *, count: int = 1, timeout: float = 30.0) -> list[Received]:
        """The mails to ``address`` once there are ``count`` of them (fails after timeout)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(found := [m for m in self.received if _for(m, address)]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(found)} mails to {address}, expected {count}")
                self._lock.wait(left)
            return found


def _for(mail: Received, address: str) -> bool:
    return address.lower() in (to.lower() for to in mail.to)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """Run the server for the duration; ``mailbox.url`` is its ``smtp://`` address."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    mailbox.url = f"smtp://127.0.0.1:{port}"
    try:
        yield mailbox
    finally:
        controller.stop()
