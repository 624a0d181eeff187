"""Outgoing mail: through SMTP (``COCREATE_SMTP_URL``), or written to the log.

Mail is handed to a background thread and the caller goes on at once, so that a
request that sends a mail (a sign-up, a reset) takes the same time as one that does not:
the answer never tells whether an address is registered. A failed delivery is retried
three times with a growing pause, then logged and dropped; nothing else waits for it.
"""

from __future__ import annotations

import logging
import queue
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

RETRIES = 3


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    text: str
    headers: tuple[tuple[str, str], ...] = ()


class Mailer:
    """Sends :class:`Mail` from a background thread; ``url`` None writes them to the log."""

    def __init__(self, url: str | None, sender: str) -> None:
        self.url = url
        self.sender = sender
        self._queue: queue.Queue[Mail | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.sent = 0
        self.failed = 0

    @property
    def logs_only(self) -> bool:
        return self.url is None

    def send(self, mail: Mail) -> None:
        """Queue a mail; returns at once."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="mailer", daemon=True)
                self._thread.start()
        self._queue.put(mail)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued mail is delivered or given up (the CLI before it exits)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self._queue.unfinished_tasks

    def close(self) -> None:
        self.flush(timeout=10.0)
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=5.0)

    def _run(self) -> None:
        while True:
            mail = self._queue.get()
            try:
                if mail is None:
                    return
                self._deliver(mail)
            finally:
                self._queue.task_done()

    def _deliver(self, mail: Mail) -> None:
        if self.url is None:
            log.warning("mail not sent (no COCREATE_SMTP_URL) to %s: %s\n%s", mail.to,
                        mail.subject, mail.text)  # fmt: skip
            self.sent += 1
            return
        message = self.message(mail)
        for attempt in range(RETRIES + 1):
            try:
                _smtp_send(self.url, message)
                self.sent += 1
                return
            except (OSError, smtplib.SMTPException) as error:
                if attempt == RETRIES:
                    self.failed += 1
                    log.error("mail to %s failed after %d attempts: %s", mail.to, attempt + 1,
                              error)  # fmt: skip
                    return
                time.sleep(0.5 * 2**attempt)

    def message(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2].strip(">"))
        for name, value in mail.headers:
            message[name] = value
        message.set_content(mail.text)
        return message


def _smtp_send(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    timeout = 20.0
    if parts.scheme == "smtps":
        context = ssl.create_default_context()
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, parts.port or 465, timeout=timeout,
                                               context=context)  # fmt: skip
    else:
        client = smtplib.SMTP(host, parts.port or 25, timeout=timeout)
    with client:
        if parts.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)


def default_sender(base_url: str) -> str:
    host = urlsplit(base_url).hostname or "localhost"
    if "." not in host or host.replace(".", "").isdigit():
        host = "localhost.localdomain"
    return f"Cocreate <noreply@{host}>"
