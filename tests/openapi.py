"""Schemathesis over an app's own OpenAPI document: what the tests of each app share.

Each app's test serves its app in-process on a database whose transactions commit, builds
a small world of rows, swaps generated ids for the world's so that requests reach past the
404s, and asks `broken_promises` which operations broke a check.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Examples per operation: valid requests, then invalid ones.
EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 8}


@dataclass(frozen=True)
class SignedIn:
    """What a signed-in browser sends: its cookies and the CSRF header."""

    cookies: dict[str, str]
    headers: dict[str, str]


def known_or_generated(generated, known: Iterable):
    return st.sampled_from([*known, generated])


def swap_path_parameters(schema, known: dict[str, list[str]]) -> None:
    """Path parameters named in `known` take one of its values, or the generated one."""

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        if not path_parameters:
            return st.just(path_parameters)
        strategies = {name: st.just(value) for name, value in path_parameters.items()}
        for name, values in known.items():
            if isinstance(path_parameters.get(name), str):
                strategies[name] = known_or_generated(path_parameters[name], values)
        return st.fixed_dictionaries(strategies)


def broken_promises(
    operations: Iterable, as_whom: Callable[..., SignedIn], *,
    examples_per_mode: dict[GenerationMode, int] = EXAMPLES, checks=CHECKS,
) -> list[str]:
    """Run each operation's generated requests, in the order given, signed in as
    `as_whom(operation)`; one line per operation and mode that failed a check."""
    failures = []
    for operation in operations:
        who = as_whom(operation)
        for mode, examples in examples_per_mode.items():
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            def check(case):
                case.call_and_validate(headers=who.headers, cookies=who.cookies, checks=checks)

            try:
                check()
            except Unsatisfiable:
                pass  # nothing in the request can be made invalid (GET /health)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - report them all
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    return failures


def server_errors_on_invalid_requests(
    operations: Iterable, as_whom: Callable[..., SignedIn]
) -> list[str]:
    """Schemathesis's coverage phase in negative mode: every kind of invalid request it
    derives from an operation's document (a missing or mistyped field, a value just past
    each bound, a string that breaks a pattern, a method the path does not take, ...), sent
    once each, signed in as `as_whom(operation)`. One line per operation that answered 5xx."""
    failures = []
    for operation in operations:
        who = as_whom(operation)
        schema = operation.schema
        generation = schema.config.generation_for(operation=operation, phase="coverage")
        for case in schema.iter_coverage_cases(
            operation, generation_modes=[GenerationMode.NEGATIVE], generation_config=generation
        ):
            try:
                case.call_and_validate(headers=who.headers, cookies=who.cookies,
                                       checks=[not_a_server_error])
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - report them all
                failures.append(f"{operation.label} (coverage, negative): {exc}")
                break
    return failures


def operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]
