"""Keep database passwords out of log records, whoever writes them (dbtool, psycopg, psycopg.pool)."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote, unquote

from dbtool.config import conninfo, is_url, libpq_form, mask_url, parse_target, url_parts
from dbtool.errors import ConfigError

MIN_MASKED_LENGTH = 4  # shorter passwords are masked only inside quotes: bare, they would mangle ordinary words
URL_PATTERN = re.compile(r"postgres(?:ql)?(?:\+\w+)?://[^\s'\"]*")

_passwords: set[str] = set()


def remember(url: str) -> None:
    """Mask `url`'s password (as libpq reads it, and as it is written) in every log record from now on."""
    found = set(_written_passwords(url))
    try:
        found.add(conninfo(url).get("password", ""))
    except ConfigError:
        pass  # libpq cannot read it: what is written where the password goes is all there is
    for secret in found - {""}:
        _passwords.update({secret, unquote(secret), quote(secret, safe="")})


def _written_passwords(url: str) -> list[str]:
    """The password as written in `url`: after user: in a URL (up to libpq's first '@' before any '/') and as a
    password= parameter or key=value pair, also where libpq would refuse the rest."""
    text = libpq_form(url)
    if not is_url(text):
        return [token.partition("=")[2].strip("'") for token in text.split() if token.startswith("password=")]
    userinfo, query = url_parts(text)
    found = [userinfo.partition(":")[2]]
    return found + [value for key, _, value in (part.partition("=") for part in query.split("&")) if key == "password"]


def mask(text: str) -> str:
    """`text` with database URLs shown as user@host:port/dbname and remembered passwords as ***."""
    text = URL_PATTERN.sub(_shown, text)
    for secret in sorted(_passwords, key=len, reverse=True):
        # libpq quotes what it could not parse ("invalid percent-encoded token"): drop the whole token.
        text = re.sub(f'"[^"]*{re.escape(secret)}[^"]*"', '"***"', text)
        if len(secret) >= MIN_MASKED_LENGTH:
            text = text.replace(secret, "***")
    return text


def _shown(match: re.Match[str]) -> str:
    try:
        return str(parse_target(match.group(0)))
    except ConfigError:
        return mask_url(match.group(0))


class PasswordFilter(logging.Filter):
    """Rewrites a record's message, traceback and stack so that no database password reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as it always does
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Add a PasswordFilter to every handler of `logger` (the root logger: where every logger's records end up)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, PasswordFilter) for f in handler.filters):
            handler.addFilter(PasswordFilter())
