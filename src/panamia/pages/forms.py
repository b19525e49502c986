"""Reading HTML forms, and turning validation failures into messages beside each field.

Form fields are named after the JSON body's camelCase paths joined by dots
(`hours.monday.open`, `socialLinks.customLinks.0.url`), so a Pydantic error's location
is the name of the field to show it beside.
"""

from fastapi import Request
from pydantic import ValidationError

from panamia.errors import Invalid, plain_message, sentence
from panamia.fields import CSRF_FIELD


async def read_form(request: Request) -> dict[str, str]:
    """The submitted text fields (the CSRF token left out); the last value wins."""
    form = await request.form()
    return {key: value for key, value in form.multi_items()
            if isinstance(value, str) and key != CSRF_FIELD}


def field_errors(exc: ValidationError) -> dict[str, str]:
    """`{field name: message}`, the first message for each field."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "form"
        errors.setdefault(name, plain_message(error))
    return errors


def invalid_errors(exc: Invalid) -> dict[str, str]:
    return {field: sentence(exc.detail) for field in exc.fields or ["form"]}


def split_list(text: str | None) -> list[str]:
    """Comma-separated entries, for categories and tags typed in one box."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]
