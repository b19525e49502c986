"""Domain errors, mapped to HTTP once by the handlers every app installs."""

import math
from collections.abc import Sequence
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


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[-1] if loc else "request")


def _invalid(fields: list[dict[str, str]]) -> JSONResponse:
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
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
        return _invalid([
            {"field": _field_name(e["loc"]), "message": e["msg"]} for e in exc.errors()
        ])

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
            return _invalid([{"field": "body", "message": "Body is not valid JSON"}])
        return JSONResponse(
            {"error": str(exc.detail).lower(), "detail": str(exc.detail)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
