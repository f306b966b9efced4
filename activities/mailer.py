"""Sending e-mail over SMTP (SMTP_URL), through aiosmtplib."""

from __future__ import annotations

import hashlib
import urllib.parse
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib


class PermanentMailError(Exception):
    """The server refused this message for good (e.g. unknown recipient): do not retry."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:password@host:port")
        query = urllib.parse.parse_qs(parts.query)
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname, port=parts.port or (465 if tls else 25),
            username=urllib.parse.unquote(parts.username) if parts.username else None,
            password=urllib.parse.unquote(parts.password) if parts.password else None,
            use_tls=tls, start_tls=query.get("starttls", ["false"])[0].lower() == "true",
        )


class SmtpMailer:
    def __init__(self, config: SmtpConfig, sender: str) -> None:
        self.config = config
        self.sender = sender

    async def send(self, to: str, subject: str, body: str, key: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False)
        # Stable per notification: a receiving system can drop a duplicate of a retry.
        msg["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@kyoso>"
        msg.set_content(body)
        c = self.config
        try:
            await aiosmtplib.send(
                msg, hostname=c.host, port=c.port, username=c.username, password=c.password,
                use_tls=c.use_tls, start_tls=c.start_tls, timeout=30)
        except aiosmtplib.SMTPRecipientsRefused as err:
            raise PermanentMailError(f"recipient refused: {err}") from err
        except aiosmtplib.SMTPResponseException as err:
            if 500 <= err.code < 600:
                raise PermanentMailError(f"SMTP {err.code}: {err.message}") from err
            raise
