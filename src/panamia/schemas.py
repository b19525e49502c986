"""The one Pydantic base for every edge: camelCase aliases, text without NUL characters or
lone surrogates."""

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic.alias_generators import to_camel


def _encodable(value: str) -> None:
    """JSON's `\\ud800` escape gives a lone surrogate, which no UTF-8 store (PostgreSQL, BSON)
    can hold: refuse it here, where the field is named, not where it is written."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be Unicode text: it holds a lone surrogate (\\ud800-\\udfff)") \
            from None


class Schema(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("must not contain NUL characters")
            _encodable(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    _encodable(item)
        return value
