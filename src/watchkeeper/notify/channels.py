"""Sending one message: e-mail over SMTP, a JSON webhook, or a script. Each is a plain blocking
function (the delivery loop runs it in a thread) that raises `DeliveryError` with a reason a
human can act on. Secrets (passwords, webhook URLs with tokens) never appear in errors or logs.

Every message carries its spool key: as the mail's Message-ID, the webhook's `Idempotency-Key`
header and the script's `NOTIFY_ID`, so a receiver can drop the duplicate that follows a crash
between sending and recording it.
"""

from __future__ import annotations

import json
import os
import signal
import smtplib
import ssl
import string
import subprocess
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx

from watchkeeper.errors import WatchkeeperError
from watchkeeper.model.notifications import Channel, Contact
from watchkeeper.model.states import NAMES

TIMEOUT_S = 30.0
DEFAULT_TEMPLATE = {"text": "$subject\n$text"}
"""Slack, Mattermost and Rocket.Chat incoming webhooks all take {"text": ...}."""


class DeliveryError(WatchkeeperError):
    pass


def send(channel: Channel, contact: Contact, key: str, body: dict[str, Any]) -> None:
    if channel.kind == "email":
        send_mail(channel, contact, key, body)
    elif channel.kind == "webhook":
        post_webhook(channel, contact, key, body)
    else:
        run_script(channel, contact, key, body)


def send_mail(channel: Channel, contact: Contact, key: str, body: dict[str, Any]) -> None:
    config = channel.config
    if not contact.email:
        raise DeliveryError(f"contact {contact.name} has no e-mail address; set it with "
                            f"`watchkeeper notify contact add {contact.name} --email ...`")
    message = EmailMessage()
    message["From"] = str(config.get("sender", "watchkeeper@localhost"))
    message["To"] = contact.email
    message["Subject"] = " ".join(str(body["subject"]).split())  # one line, whatever a check printed
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = f"<{key}@watchkeeper>"
    message["X-Watchkeeper-Key"] = key
    message.set_content(body["text"])
    host, port, tls = str(config.get("host", "localhost")), int(config.get("port", 25)), config.get("tls", "none")
    where = f"SMTP server {host}:{port}"
    context = ssl.create_default_context(cafile=config.get("ca_file"))
    try:
        smtp: smtplib.SMTP = (smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_S, context=context) if tls == "tls"
                              else smtplib.SMTP(host, port, timeout=TIMEOUT_S))
        with smtp:
            if tls == "starttls":
                smtp.starttls(context=context)
            if config.get("user"):
                smtp.login(str(config["user"]), _secret(config, channel.name))
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"{where} refused the login of {config.get('user')!r} ({exc.smtp_code}); "
                            "check the user and password_file of this channel") from exc
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        raise DeliveryError(f"{where} answered {exc.smtp_code}: {text[:200]}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"{where} refused the recipient {contact.email}") from exc
    except (smtplib.SMTPException, ssl.SSLError) as exc:
        raise DeliveryError(f"{where}: {type(exc).__name__}: {exc}") from exc
    except (TimeoutError, OSError) as exc:
        raise DeliveryError(f"{where} is not reachable ({exc}); is a mail server running there? "
                            "Change it with `watchkeeper notify channel add NAME email host=... port=...`") from exc


def _secret(config: dict[str, Any], name: str) -> str:
    path = config.get("password_file")
    if not path:
        raise DeliveryError(f"channel {name} has a user but no password_file")
    try:
        return Path(str(path)).read_text().strip()
    except OSError as exc:
        raise DeliveryError(f"channel {name}: cannot read its password_file ({exc.strerror})") from exc


def render_template(template: Any, values: dict[str, Any]) -> Any:
    """Substitute $name in every string of a JSON template; "$events" alone becomes the list.
    Values are placed into the structure, never into JSON text, so they cannot break it."""
    if isinstance(template, str):
        if template == "$events":
            return values["events"]
        return string.Template(template).safe_substitute({k: v for k, v in values.items() if k != "events"})
    if isinstance(template, list):
        return [render_template(item, values) for item in template]
    if isinstance(template, dict):
        return {str(k): render_template(v, values) for k, v in template.items()}
    return template


def template_values(contact: Contact, key: str, body: dict[str, Any]) -> dict[str, Any]:
    first = body["events"][0] if body["events"] else {}
    return {"subject": body["subject"], "text": body["text"], "id": key, "contact": contact.name,
            "count": str(len(body["events"])), "events": body["events"], "host": first.get("host", ""),
            "service": first.get("service", ""), "state": NAMES.get(first.get("state", 0), ""),
            "summary": first.get("summary", "")}


def post_webhook(channel: Channel, contact: Contact, key: str, body: dict[str, Any]) -> None:
    config = channel.config
    payload = render_template(config.get("template", DEFAULT_TEMPLATE), template_values(contact, key, body))
    headers = {"Idempotency-Key": key, "User-Agent": "watchkeeper", **dict(config.get("headers", {}))}
    where = f"webhook {channel.name}"  # not the URL: chat webhooks carry their token in it
    try:
        response = httpx.post(str(config["url"]), json=payload, headers=headers, timeout=TIMEOUT_S,
                              verify=config.get("ca_file") or True)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{where}: {type(exc).__name__}; is the receiver up and reachable from here?") from exc
    if not response.is_success:
        raise DeliveryError(f"{where} answered HTTP {response.status_code}: {response.text[:200]}")


def run_script(channel: Channel, contact: Contact, key: str, body: dict[str, Any]) -> None:
    """The script gets the message in its environment, like Nagios's macros; its argv is a list."""
    config = channel.config
    values = template_values(contact, key, body)
    first = body["events"][0] if body["events"] else {}
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NOTIFY_ID": key, "NOTIFY_CONTACTNAME": contact.name,
           "NOTIFY_CONTACTEMAIL": contact.email, "NOTIFY_SUBJECT": values["subject"], "NOTIFY_TEXT": values["text"],
           "NOTIFY_COUNT": values["count"], "NOTIFY_HOSTNAME": values["host"],
           "NOTIFY_SERVICEDESC": values["service"], "NOTIFY_SERVICESTATE": values["state"],
           "NOTIFY_LASTSERVICESTATE": NAMES.get(first.get("previous", 0), ""),
           "NOTIFY_SERVICEOUTPUT": values["summary"], "NOTIFY_NOTIFICATIONTYPE": first.get("kind", ""),
           "NOTIFY_EVENTS_JSON": json.dumps(body["events"])}
    timeout = float(config.get("timeout_s", TIMEOUT_S))
    argv = [str(a) for a in config["argv"]]
    try:
        process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        raise DeliveryError(f"script {argv[0]} cannot be started: {exc.strerror}") from exc
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise DeliveryError(f"script {argv[0]} did not finish within {timeout:g} s and was killed") from exc
    if process.returncode != 0:
        tail = output.decode(errors="replace").strip()[-300:]
        raise DeliveryError(f"script {argv[0]} exited with {process.returncode}: {tail or '(no output)'}")
