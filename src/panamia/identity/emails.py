"""Email addresses as Auth.js normalizes them, checked for syntax by email-validator."""

import unicodedata

from email_validator import EmailNotValidError, validate_email

from panamia.errors import Invalid


def normalize_email(raw: str, field: str = "email") -> str:
    """NFKC, trimmed, lower case; one `@`, no quotes; a well-formed address or 422."""
    value = unicodedata.normalize("NFKC", raw or "").strip().lower()
    if value.count("@") != 1 or '"' in value:
        raise Invalid("not an email address: it needs exactly one @ and no quotes", fields=[field])
    local, domain = value.split("@")
    value = f"{local}@{domain.split(',')[0]}"
    try:
        validate_email(value, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise Invalid(f"not an email address: {exc}", fields=[field]) from exc
    return value
