from __future__ import annotations

import io
import logging

from dbtool import redact

SECRET = "s3cr3tpass"


def test_the_filter_masks_urls_and_passwords_in_messages_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test_redact")
    logger.addHandler(handler)
    redact.install(logger)
    redact.remember(f"postgresql://u:{SECRET}%zz@db:5432/x")
    try:
        logging.getLogger("test_redact").warning("error connecting in %r: %s", "pool", f'invalid token: "{SECRET}%zz"')
        logger.warning("opening %s", f"postgresql://u:{SECRET}@db:5432/x?sslmode=require")
        try:
            raise ValueError(f"bad url postgresql://u:{SECRET}@db/x")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue()
    assert SECRET not in logged, logged
    assert "u@db:5432/x" in logged and '"***"' in logged
