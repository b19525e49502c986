"""Domain errors, mapped to HTTP once by the handlers every app installs."""

import math
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from panamia.db.postgres import unreachable
from panamia.schemas import Schema


class DomainError(Exception):
    status = 400
    error = "bad request"
    # What the OpenAPI document says of this status when a route does not say more.
    description = "The request cannot be read"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, *, error: str | None = None):
        super().__init__(detail)
        self.detail = detail
        if error:
            self.error = error

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "detail": self.detail}


class Unauthorized(DomainError):
    status = 401
    error = "Unauthorized"
    description = "Not signed in"


class Forbidden(DomainError):
    status = 403
    error = "forbidden"
    description = "Not allowed"


class NotFound(DomainError):
    status = 404
    error = "not found"
    description = "Not found"


class Conflict(DomainError):
    status = 409
    error = "conflict"
    description = "Conflicts with the current state"


class Invalid(DomainError):
    """422 naming the fields at fault, in the same shape as request validation errors."""

    status = 422
    error = "invalid"
    description = "Names each bad field"

    def __init__(self, detail: str, *, fields: Sequence[str] = ()):
        super().__init__(detail)
        self.fields = list(fields)

    def body(self) -> dict[str, Any]:
        return {
            "error": self.error,
            "detail": self.detail,
            "fields": [{"field": f, "message": self.detail} for f in self.fields],
        }


class Unavailable(DomainError):
    status = 503
    error = "unavailable"
    description = "A database is unreachable; nothing was changed"


class FieldProblem(Schema):
    field: str
    message: str


class Problem(Schema):
    """Every error answer: `{"error", "detail"}`, and with a 422 the fields at fault."""

    error: str
    detail: str
    fields: list[FieldProblem] | None = None


def responses(*errors: type[DomainError] | tuple[type[DomainError], str]) -> dict[int, dict]:
    """A route's `responses=`: each error's status, body schema and description, the class's
    own or, given as `(NotFound, "No such listing")`, the route's."""
    described = {}
    for error in errors:
        cls, description = error if isinstance(error, tuple) else (error, error.description)
        described[cls.status] = {"model": Problem, "description": description}
    return described


def postgres_unavailable() -> Unavailable:
    """What a request gets while PostgreSQL cannot be reached (`db.postgres.unreachable`)."""
    return Unavailable(
        "The database cannot be reached right now. Try again in a minute: a change that was "
        "being saved when it happened was saved whole or not at all.",
        error="PostgreSQL is unavailable",
    )


class TooManyRequests(DomainError):
    """429 with `Retry-After`: the seconds until the limit's window ends."""

    status = 429
    error = "too many requests"
    description = "Too many attempts; `Retry-After` says when to try again"

    def __init__(self, refusal: str, *, retry_after: int):
        minutes = math.ceil(retry_after / 60)
        super().__init__(f"{refusal} Try again in {minutes} minute{'s' if minutes > 1 else ''}.")
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


LOCATIONS = ("body", "query", "path", "header", "cookie")


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in LOCATIONS]
    return ".".join(parts) or str(loc[-1] if loc else "request")


# A person's words for each kind of validation error: what is wrong and how to put it right
# (docs/pages.md, "Messages"). Pydantic's own wording ("Input should be a valid decimal")
# speaks of types, which a person filling in a form never sees.
NUMBER = "Enter a number, like 35."
WHOLE_NUMBER = "Enter a whole number, like 3."
DATE = "Enter a date, like 2026-12-24."
DATE_AND_TIME = "Enter a date and time, like 2026-12-24 18:30."
WEB_ADDRESS = "Enter a web address starting with https://, like https://example.com."
UNEXPECTED_FORM = "This is not in the expected form."
PLAIN_WORDS = {
    "missing": "Fill this in.",
    **dict.fromkeys(("int_parsing", "int_type", "int_from_float"), WHOLE_NUMBER),
    **dict.fromkeys(("float_parsing", "float_type", "decimal_parsing", "decimal_type",
                     "finite_number"), NUMBER),
    **dict.fromkeys(("decimal_max_digits", "decimal_whole_digits"), "Enter a smaller number."),
    **dict.fromkeys(("date_parsing", "date_type", "date_from_datetime_parsing",
                     "date_from_datetime_inexact"), DATE),
    **dict.fromkeys(("datetime_parsing", "datetime_type", "datetime_from_date_parsing"),
                    DATE_AND_TIME),
    **dict.fromkeys(("time_parsing", "time_type"), "Enter a time, like 18:30."),
    **dict.fromkeys(("bool_parsing", "bool_type"), "Choose yes or no."),
    **dict.fromkeys(("url_parsing", "url_type", "url_scheme", "url_syntax_violation",
                     "url_too_long"), WEB_ADDRESS),
    "string_pattern_mismatch": "This is not in the expected form; check the hint.",
    "string_type": "Enter text.",
    "json_invalid": "The request cannot be read: it is not well-formed.",
    "extra_forbidden": "This is not expected here; leave it out.",
    **dict.fromkeys(("model_type", "model_attributes_type", "dict_type", "list_type"),
                    UNEXPECTED_FORM),
}
BOUNDS = {"greater_than": "Enter more than {}.", "greater_than_equal": "Enter {} or more.",
          "less_than": "Enter less than {}.", "less_than_equal": "Enter {} or less."}
DATE_BOUNDS = {"greater_than": "Choose a date after {}.",
               "greater_than_equal": "Choose {} or a later date.",
               "less_than": "Choose a date before {}.",
               "less_than_equal": "Choose {} or an earlier date."}
PREFIXES = ("Value error, ", "Assertion failed, ")
LABELS = {"url": "Web address", "email": "Email address", "zip": "ZIP code"}
CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def sentence(message: str) -> str:
    """A service's own message as a sentence: capital first, full stop last."""
    for prefix in PREFIXES:
        message = message.removeprefix(prefix)
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def _options(expected: str) -> str:
    """Pydantic's `'dog_walking', 'cat' or 'fish'` as `dog walking, cat or fish`."""
    return expected.replace("'", "").replace("_", " ")


def _as_date(bound: Any) -> date | None:
    """A date bound, which Pydantic gives as a date or, in `errors()`, as its ISO text."""
    if isinstance(bound, date):
        return bound
    try:
        return date.fromisoformat(str(bound))
    except ValueError:
        return None


def _length(kind: str, ctx: dict, given: Any) -> str:
    entries = isinstance(given, list | tuple | set | dict)
    if kind in ("too_short", "string_too_short"):
        least = ctx["min_length"]
        if least == 1:
            return "Add at least one." if entries else "Fill this in."
        return f"Add at least {least}." if entries else f"Use at least {least} characters."
    most, count = ctx["max_length"], len(given or "")
    return f"Use at most {most} {'entries' if entries else 'characters'}; this has {count}."


def plain_message(error: dict) -> str:
    """A Pydantic error (one of `ValidationError.errors()`) in words for the person who
    typed the value."""
    kind, ctx, given = error["type"], error.get("ctx") or {}, error.get("input")
    if kind in PLAIN_WORDS:
        return PLAIN_WORDS[kind]
    if kind in ("string_too_short", "too_short", "string_too_long", "too_long"):
        return _length(kind, ctx, given)
    if kind in BOUNDS:
        bound = next(iter(ctx.values()))
        if day := _as_date(bound):
            return DATE_BOUNDS[kind].format(f"{day:%B} {day.day}, {day.year}")
        return BOUNDS[kind].format(bound)
    if kind == "decimal_max_places":
        places = ctx["decimal_places"]
        return (WHOLE_NUMBER if places == 0
                else f"Use at most {places} decimal places, like 35.{'5'.ljust(places, '0')}.")
    if kind in ("literal_error", "enum"):
        return f"Choose one of: {_options(ctx['expected'])}."
    if kind == "value_error" and "valid email address" in error["msg"]:
        return "Enter an email address, like name@example.com."
    return sentence(error["msg"])


def field_label(loc: Sequence[Any]) -> str:
    """The words a form would label the field at `loc` with: `pricePerDay` gives "Price per
    day"; "" for the body as a whole."""
    names = [p for p in loc if isinstance(p, str) and p not in LOCATIONS and "[" not in p]
    if not names:
        return ""
    words = CAMEL_HUMP.sub(" ", names[-1]).replace("_", " ").lower()
    return LABELS.get(words, words[:1].upper() + words[1:])


def _invalid(fields: list[dict[str, str]], labels: Sequence[str]) -> JSONResponse:
    detail = " ".join(f"{label}: {f['message']}" if label else f["message"]
                      for f, label in zip(fields, labels, strict=True))
    return JSONResponse({"error": "invalid", "detail": detail, "fields": fields},
                        status_code=422)


def _undecodable_body(exc: StarletteHTTPException) -> bool:
    """FastAPI answers a JSON body that is not valid UTF-8, or nests deeper than Python's
    parser goes, with a bare 400 (a syntax error gets its 422); all are a body that is not
    JSON, so all answer 422 here."""
    return exc.status_code == 400 and isinstance(exc.__cause__,
                                                 UnicodeDecodeError | RecursionError)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        return _invalid([{"field": _field_name(e["loc"]), "message": plain_message(e)}
                         for e in errors], [field_label(e["loc"]) for e in errors])

    @app.exception_handler(ConnectionFailure)
    async def mongo_down(_: Request, exc: ConnectionFailure) -> JSONResponse:
        return JSONResponse(
            {"error": "MongoDB is unavailable", "detail": "Content is unreachable for a moment; "
             "nothing was changed. Try again shortly."},
            status_code=503,
        )

    @app.exception_handler(DBAPIError)
    async def postgres_down(request: Request, exc: DBAPIError) -> JSONResponse:
        if not unreachable(exc):
            raise exc  # a statement that fails is a bug: the 500 it always was
        return await domain_error(request, postgres_unavailable())

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, DomainError):  # raised as FastAPI read the body (413)
            return await domain_error(request, exc.__cause__)
        if _undecodable_body(exc):
            return _invalid([{"field": "body", "message": PLAIN_WORDS["json_invalid"]}], [""])
        return JSONResponse(
            {"error": str(exc.detail).lower(), "detail": str(exc.detail)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
