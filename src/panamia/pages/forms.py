"""Reading HTML forms, and turning validation failures into messages beside each field.

Form fields are named after the JSON body's camelCase paths joined by dots
(`hours.monday.open`, `socialLinks.customLinks.0.url`), so a Pydantic error's location
is the name of the field to show it beside.
"""

from fastapi import Request
from pydantic import ValidationError

from panamia.errors import Invalid
from panamia.fields import CSRF_FIELD

PREFIXES = ("Value error, ", "Assertion failed, ")
TOO_SHORT = ("string_too_short", "too_short")
TOO_LONG = ("string_too_long", "too_long")


async def read_form(request: Request) -> dict[str, str]:
    """The submitted text fields (the CSRF token left out); the last value wins."""
    form = await request.form()
    return {key: value for key, value in form.multi_items()
            if isinstance(value, str) and key != CSRF_FIELD}


def sentence(message: str) -> str:
    for prefix in PREFIXES:
        message = message.removeprefix(prefix)
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def humane(error: dict) -> str:
    """Pydantic's message for `error`, in words for a person filling in a form."""
    kind, ctx, given = error["type"], error.get("ctx") or {}, error.get("input")
    unit = "entries" if isinstance(given, list) else "characters"
    if kind == "missing" or (kind in TOO_SHORT and ctx.get("min_length") == 1):
        return "Fill this in."
    if kind in TOO_SHORT:
        return f"Use at least {ctx['min_length']} {unit}."
    if kind in TOO_LONG:
        return f"Use at most {ctx['max_length']} {unit}; this has {len(given or '')}."
    if kind == "string_pattern_mismatch":
        return "This is not in the expected form; check the hint."
    if kind in ("float_parsing", "float_type", "int_parsing"):
        return "Enter a number."
    return sentence(error["msg"])


def field_errors(exc: ValidationError) -> dict[str, str]:
    """`{field name: message}`, the first message for each field."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "form"
        errors.setdefault(name, humane(error))
    return errors


def invalid_errors(exc: Invalid) -> dict[str, str]:
    return {field: sentence(exc.detail) for field in exc.fields or ["form"]}


def split_list(text: str | None) -> list[str]:
    """Comma-separated entries, for categories and tags typed in one box."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]
