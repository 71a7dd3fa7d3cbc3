"""Keep database passwords out of log records, whoever writes them (dbtool, psycopg, psycopg.pool).

`remember` a URL's password; a PasswordFilter on a handler masks what it remembers. The CLI puts one on
the handler it makes; library code never touches logging's handlers."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote, unquote

from dbtool.errors import ConfigError
from dbtool.settings.urls import conninfo, is_url, libpq_form, mask_secrets, mask_url, parse_target, url_parts

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
    # libpq quotes what it could not parse ("invalid percent-encoded token"): the whole token goes.
    return mask_secrets(URL_PATTERN.sub(_shown, text), _passwords)


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


def install(logger: logging.Logger) -> None:
    """Add a PasswordFilter to every handler of `logger` (a handler of your own: dbtool adds none to anyone's)."""
    for handler in logger.handlers:
        if not any(isinstance(f, PasswordFilter) for f in handler.filters):
            handler.addFilter(PasswordFilter())
