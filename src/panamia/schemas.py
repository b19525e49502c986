"""The one Pydantic base for every edge: camelCase aliases, text without NUL characters or
lone surrogates."""

import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator
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


# Names, screennames and titles are one line of what a reader sees: no line breaks or
# control characters, and no format characters (Unicode Cf: bidi overrides, zero-width
# spaces, ...) that reorder or hide text. The joiners ZWNJ and ZWJ may stand between two
# visible characters, where Persian or Indic words and emoji sequences need them.
JOINERS = frozenset("\u200c\u200d")
HIDDEN_CATEGORIES = frozenset({"Cf", "Cc", "Zl", "Zp"})


def _visible(char: str) -> bool:
    return not char.isspace() and unicodedata.category(char) not in HIDDEN_CATEGORIES


def single_line_problem(value: str) -> str | None:
    """Which character keeps `value` from being a name or title, or None."""
    for index, char in enumerate(value):
        if unicodedata.category(char) not in HIDDEN_CATEGORIES:
            continue
        if char in JOINERS and 0 < index < len(value) - 1 \
                and _visible(value[index - 1]) and _visible(value[index + 1]):
            continue
        return f"U+{ord(char):04X} {unicodedata.name(char, 'CONTROL CHARACTER')} is not allowed"
    return None


def _single_line(value: str) -> str:
    if problem := single_line_problem(value):
        raise ValueError(problem)
    return value


SingleLine = AfterValidator(_single_line)
SingleLineText = Annotated[str, SingleLine]
