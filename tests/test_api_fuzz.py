"""The API fuzzed against its own OpenAPI document (schemathesis, in-process over WSGI).

For every operation of /api/v1/openapi.json, as the office and as a unit liaison, a bounded number of
generated requests (valid and invalid) goes to the Flask app, and each response must be no 500 and
fit the document: a documented status code and content type, a body that fits its schema, and
problem+json for every error. Requests without a token, and with a wrong one, must be refused.

Each test (one operation, one caller) works on its own copy of a district with records of every kind
the API names by id, so what one test's requests write no other test sees. Runs are reproducible:
generation is derandomized and no example database is kept."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import ignored_auth
from support.fuzzing import LIAISON, TOKENS, known_names

from service import auth
from service.openapi import document

CONFIG = {
    # No NUL characters in generated text: the service refuses them in any text (400 unstorable_input
    # in a query or form, 422 unstorable_text in a JSON body), as PostgreSQL cannot store them, and
    # tests/test_input_edges.py holds it to that; generated at random they only hide other findings.
    "generation": {"database": "none", "allow-x00": False},
    # The coverage phase's boundary values (the shortest and longest text, the least and most of a
    # number, each enum value, methods a path does not take) for valid requests only: its invalid
    # ones come to a thousand requests more per caller, past the time these tests may take; the
    # fuzzing phase sends invalid ones.
    "phases": {"coverage": {"generation": {"mode": "positive"}}},
    "checks": {
        # The service refuses a request that fits the document but breaks a rule of the domain (an
        # id that names no unit, evidence before the self-check) with 422 and the rule's code;
        # shape_refused below still fails a valid request refused for its shape. (429: a rate limit.)
        "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]},
    },
}
# The boundary values test the shapes the document describes, which are the same whoever calls: the
# office's tests send them, a liaison's (refused most operations, and scoped to its unit where not)
# only the generated requests, within the time these tests may take.
AS_LIAISON = {**CONFIG, "phases": {"coverage": {"enabled": False}}}
SERVING: list = []  # the Flask app of the test that runs, over that test's own database


def service(environ, start_response):
    """The running test's Flask app as one WSGI app that schemathesis holds from collection on: its
    requests, and the probes its checks send (without a token, with a wrong one), go to it in-process."""
    return SERVING[0](environ, start_response)


# function_scoped_fixture: the examples of one operation share its test's database on purpose (one
# copy per operation, not per request), as requests to a running service share its database.
SETTINGS = settings(max_examples=6, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def bearer(username: str) -> type:
    class Bearer:
        """The caller's bearer token on every request, the way schemathesis applies credentials, so that
        its auth check knows the token is real and tries the request again without it and with a wrong one."""

        def get(self, case, context):
            return TOKENS[username]

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return Bearer


SMALL_IDS = st.integers(min_value=1, max_value=12)
KNOWN: dict[str, list[str]] = {}  # task ids and model keys of the running test's district


def flatmap_case(context, case):
    """Ids and names the district has, some of the time (a generated one rarely names a row): small
    numbers for ids and versions, the open tasks' ids, the process models' keys."""
    if not case.path_parameters or (case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)):
        return st.just(case)

    def with_known(pick):
        for name in list(case.path_parameters):
            names = KNOWN.get("task" if case.operation.path.startswith("/tasks/") else name)
            if names:
                case.path_parameters[name] = names[pick % len(names)]
            elif name in ("id", "version"):
                case.path_parameters[name] = pick
        return case

    return st.one_of(st.just(case), SMALL_IDS.map(with_known))


def fuzzed(config: dict):
    """The document as schemathesis fuzzes it, its requests going to the running test's app."""
    loaded = schemathesis.openapi.from_dict(document(), config=SchemathesisConfig.from_dict(config))
    loaded.app = service
    loaded.hook(flatmap_case)
    return loaded


office_schema, liaison_schema = fuzzed(CONFIG), fuzzed(AS_LIAISON)


# Problem codes that refuse a request for its shape (what the document describes), not for a rule.
SHAPE_CODES = {"bad_request", "invalid_body", "invalid_query", "unstorable_input", "json_required", "invalid_json",
               "json_too_deep", "unsupported_media_type"}


def shape_refused(ctx, response, case):
    """A request generated to fit the document is never refused for its shape: where it is, the
    document promises what the service does not take."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code not in (400, 415, 422):
        return None
    problem = response.headers.get("content-type", [""])[0].startswith("application/problem+json")
    body = response.json() if problem else {}
    if body.get("code") in SHAPE_CODES:
        raise AssertionError(f"a request that fits the document was refused for its shape: {body}")
    return None


@pytest.fixture
def database_url(busy_database_url):
    return busy_database_url


@pytest.fixture
def district_app(app, monkeypatch, password_hash):
    # A login for a name no account has is checked against a stand-in hash as costly as an account's
    # own: in the test district those are light (support.fixtures.LIGHT_HASHER), so the stand-in is too. The
    # same answers, in milliseconds rather than a third of a second for each generated login.
    monkeypatch.setattr(auth, "_DUMMY_HASH", password_hash)
    KNOWN.update(known_names(app.extensions["rectiflow"]))
    SERVING[:] = [app]
    yield app
    SERVING.clear()
    KNOWN.clear()


AUTH_ENFORCED: set[str] = set()  # operations whose refusal of a missing or wrong token is confirmed


def call_and_validate(case) -> None:
    """The request, and every check of the response. Whether the operation refuses a request without
    its token, or with a wrong one, is a property of the operation: ignored_auth confirms it once per
    operation, as schemathesis's own runner does, and not again (with two more requests) for every
    successful response."""
    excluded = [ignored_auth] if case.operation.label in AUTH_ENFORCED else []
    # schemathesis asks for compressed bodies but, calling the app directly, never decodes them:
    # the bodies are checked as sent uncompressed (tests/test_transfer.py checks the compression)
    case.headers = {**(case.headers or {}), "Accept-Encoding": "identity"}
    response = case.call_and_validate(additional_checks=[shape_refused], excluded_checks=excluded)
    if 200 <= response.status_code < 300:
        AUTH_ENFORCED.add(case.operation.label)


@office_schema.auth(bearer("office1"), refresh_interval=None)
@office_schema.parametrize()
@SETTINGS
def test_api_as_the_office(case, district_app):
    call_and_validate(case)


@liaison_schema.auth(bearer(LIAISON), refresh_interval=None)
@liaison_schema.parametrize()
@SETTINGS
def test_api_as_a_unit_liaison(case, district_app):
    call_and_validate(case)


def test_the_fuzzed_document_is_the_one_served(client):
    assert client.get("/api/v1/openapi.json").get_json() == document()

