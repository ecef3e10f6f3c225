"""Sending one message: by SMTP (the standard library's smtplib) or to a webhook (JSON with a
`text` field, which Slack, Mattermost and Microsoft Teams incoming webhooks all accept)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import requests

from campaign.calendar.notifications import EMAIL_SECRETS, webhook_secrets
from campaign.secrets import scrub, secret_table

TIMEOUT = 15  # seconds: a server that hangs must not hold the notify job for long


class DeliveryError(Exception):
    """This try failed; the message says why (secrets removed). The outbox retries later."""


def send_email(server: object, to: str, subject: str, text: str) -> None:
    """One plain-text email through the calendar's `notifications.email` server."""
    login = secret_table(EMAIL_SECRETS)
    message = EmailMessage()
    message["From"] = server.sender  # type: ignore[attr-defined]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=str(server.host))  # type: ignore[attr-defined]
    message.set_content(text)
    host, port, security = server.host, server.port, server.security  # type: ignore[attr-defined]
    try:
        if security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=TIMEOUT)
        with client:
            if security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if login.get("username"):
                client.login(login["username"], login.get("password", ""))
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(scrub(f"SMTP {host}:{port}: {type(error).__name__}: {error}", login.values())) from None


def send_webhook(name: str, subject: str, text: str) -> None:
    """POST `{"text": ...}` to the webhook `name` (its URL from the secrets file or the environment)."""
    url = secret_table(webhook_secrets(name)).get("webhook")
    if not url:
        key = webhook_secrets(name)
        raise DeliveryError(f"no URL for webhook {name}: set CAMPAIGN_{key.upper().replace('-', '_')}_WEBHOOK or "
                            f"[{key}] webhook in the secrets file")
    try:
        answer = requests.post(url, json={"text": f"*{subject}*\n{text}"}, timeout=TIMEOUT)
    except requests.RequestException as error:
        raise DeliveryError(scrub(f"webhook {name}: {type(error).__name__}: {error}", [url])) from None
    if not 200 <= answer.status_code < 300:
        raise DeliveryError(scrub(f"webhook {name}: HTTP {answer.status_code} {answer.text[:200]}", [url]))
