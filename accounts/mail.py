"""Sending account e-mail. Messages are built on the caller's thread and sent on
a small pool, so that an answer takes the same time whether or not a message
went out (no account enumeration by timing), and a slow mail server never holds
a request."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

logger = logging.getLogger(__name__)
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mail")


def mail_send(*, to: str, subject: str, body: str) -> None:
    message = EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
    )
    if settings.EMAIL_SEND_ASYNC:
        _pool.submit(_deliver, message)
    else:
        _deliver(message)


def _deliver(message: EmailMessage) -> None:
    try:
        get_connection(fail_silently=False).send_messages([message])
    except Exception:  # noqa: BLE001 - logged; the request has been answered
        logger.exception("mail_send_failed", extra={"subject": message.subject})
