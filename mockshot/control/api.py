"""The control and inspection API under `/_mockshot/` (WireMock's `/__admin` is the model).

JSON in and out. Inputs are checked like the public API's (a 400 `invalid_request_error`
naming the field), a rejected request changes nothing, and errors use Moonshot's envelope.
Off loopback the API needs the admin token (`--admin-token`); on loopback it needs one only
when one is configured. Admin calls are not journaled: the journal is for API calls.
With `X-Mockshot-Test: <id>` an admin call reads and steers that test's partition (its
journal, rules, clock, accounts, report); `/tests` lists and drops partitions.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import math
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

import orjson
import yaml
from starlette.responses import Response

from ..console.assets import console_asset, console_page, console_redirect
from ..console.events import events
from ..contract.coverage import coverage
from ..contract.pages import markdown, page
from ..errors import APIError, clip, invalid_request
from ..http import ClientGone, error_response, json_response, read_body, read_json
from ..mock import Mock
from ..published import published_document
from ..road import partition_of, request_headers, store_unavailable
from ..router import Route
from ..scenarios.checks import Problem, ScenarioError
from ..scenarios.documents import parse_yaml
from ..scenarios.rules import Rule
from ..state.clock import LATEST_TIME
from ..state.failures import StoreError
from ..state.store import KEEP
from .inventory import account_body, clock_body, clock_now, list_accounts, scenario_states
from .journal_view import entry_detail, entry_view, journal_page

__all__ = ["routes"]

log = logging.getLogger("mockshot")

PREFIX = "/_mockshot"
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


@dataclass(slots=True)
class Call:
    """One admin request: the mock it steers and what the client sent."""

    mock: Mock
    headers: dict[str, str]
    params: dict[str, str]
    query: dict[str, str]
    receive: Callable


AdminHandler = Callable[[Call], Awaitable[Response]]


# ---- reading input -------------------------------------------------------------------

async def body_of(call: Call, optional: bool = False) -> dict:
    """The body as a dict: JSON, or YAML when the Content-Type says so ({} if optional)."""
    raw = await read_body(call.headers, call.receive, call.mock.settings.max_body_bytes)
    if optional and not raw.strip():
        return {}
    if _media(call.headers) in YAML_TYPES:
        return await asyncio.to_thread(_yaml, raw)  # pure-Python YAML: off the loop

    async def replay() -> dict:
        return {"type": "http.request", "body": raw, "more_body": False}

    return await read_json(call.headers, replay, call.mock.settings.max_body_bytes)


def _media(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _yaml(raw: bytes) -> dict:
    try:
        data = parse_yaml(raw.decode("utf-8"))[0]
    except UnicodeDecodeError as exc:
        raise invalid_request(f"the request body is not valid UTF-8 (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or exc
        raise invalid_request(f"the request body is not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise invalid_request("the request body must be a YAML mapping (a scenario document)")
    return data


def _finite(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


KINDS: dict[str, Callable[[object], bool]] = {
    "a boolean": lambda value: isinstance(value, bool),
    "a number": _finite,
    "null or a whole number": lambda value: value is None or (
        isinstance(value, int) and not isinstance(value, bool)),
}


def fields(body: dict, expected: dict[str, str], required: tuple[str, ...] = ()) -> dict:
    """`body`, once every field is known and of its kind; a 400 naming the field if not."""
    for name in body:
        if name not in expected:
            raise invalid_request(f"unknown field {clip(repr(name), 100)}; expected "
                                  f"{', '.join(expected)}")
    for name in required:
        if name not in body:
            raise invalid_request(f"{name} is required")
    for name, kind in expected.items():
        if name in body and not KINDS[kind](body[name]):
            raise invalid_request(f"{name} must be {kind}, got {clip(repr(body[name]), 100)}")
    return body


def query_of(scope: dict) -> dict[str, str]:
    """Query parameters, the last value of each."""
    raw = scope.get("query_string", b"").decode("latin-1")
    return {name: values[-1] for name, values in parse_qs(raw, keep_blank_values=True).items()}


# ---- authorization -------------------------------------------------------------------

def is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def authorize(mock: Mock, headers: dict[str, str]) -> None:
    """Off loopback, or whenever a token is configured, the caller must present it."""
    token = mock.settings.admin_token
    if not token:
        if is_loopback(mock.settings.host):
            return
        raise APIError(403, "permission_denied_error", (
            f"the mockshot control API is off because mockshot listens on "
            f"{mock.settings.host}, beyond loopback, without an admin token; start it with "
            "--admin-token <token> (or MOCKSHOT_ADMIN_TOKEN) and send that token"))
    scheme, _, bearer = headers.get("authorization", "").partition(" ")
    given = headers.get("x-mockshot-admin-token") or (
        bearer.strip() if scheme.lower() == "bearer" else "")
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise APIError(401, "invalid_authentication_error", (
            "the mockshot control API needs the admin token: send "
            "'Authorization: Bearer <token>' or 'X-Mockshot-Admin-Token: <token>'"))


# ---- health, reset, clock, accounts -------------------------------------------------

async def health(call: Call) -> Response:
    return json_response({"status": "ok"})


async def stats(call: Call) -> Response:
    """What the serving process holds now — open tasks (each open stream is some),
    file descriptors, resident memory, journal entries: what a soak test watches for
    leaks."""
    return json_response({"tasks": len(asyncio.all_tasks()), **process_usage(),
                          "journal_entries": len(await call.mock.store.journal())})


def process_usage() -> dict[str, int | None]:
    """Open file descriptors and resident memory (KiB) of this process, from /proc when
    there is one (None elsewhere)."""
    proc = Path("/proc/self")
    if not proc.exists():
        return {"fds": None, "rss_kib": None}
    status = (proc / "status").read_text()
    rss = next((int(line.split()[1]) for line in status.splitlines()
                if line.startswith("VmRSS:")), None)
    return {"fds": len(os.listdir(proc / "fd")), "rss_kib": rss}


async def reset(call: Call) -> Response:
    """Forget progress (journal, call counts, rule uses, states); rules are kept by default."""
    body = fields(await body_of(call, optional=True),
                  {"keep_accounts": "a boolean", "keep_rules": "a boolean"})
    options = {"keep_accounts": body.get("keep_accounts", False),
               "keep_rules": body.get("keep_rules", True)}
    await call.mock.forget(**options)
    return json_response({"status": "ok", **options})


async def get_clock(call: Call) -> Response:
    await clock_now(call.mock)
    return json_response(clock_body(call.mock))


async def move_clock(call: Call) -> Response:
    """`{"advance": seconds}` or `{"set": timestamp}`, on a virtual clock only."""
    body = fields(await body_of(call), {"advance": "a number", "set": "a number"})
    if len(body) != 1:
        raise invalid_request("send exactly one of advance (seconds) or set (a Unix timestamp)")
    clock = call.mock.clock
    if not getattr(clock, "virtual", False):
        raise invalid_request("the clock is real and cannot be moved; start mockshot with "
                              "--clock virtual to steer time")
    if body.get("advance", 0) < 0:
        raise invalid_request("advance must not be negative (the clock cannot go back; use "
                              "set to move it anywhere)")
    target = body["set"] if "set" in body else await clock_now(call.mock) + body["advance"]
    if not 0 <= target <= LATEST_TIME:
        raise invalid_request(f"the clock must stay a Unix timestamp from 0 to "
                              f"{LATEST_TIME:.0f}")
    clock.set(float(target))
    settled = getattr(clock, "settled", None)
    if settled is not None:  # every host sharing the clock sees the move once this answers
        await settled()
    return json_response(clock_body(call.mock))


async def get_account(call: Call) -> Response:
    key = call.params["key"]
    state = await call.mock.store.account(call.mock.accounts.of(key),
                                          await clock_now(call.mock))
    return json_response(account_body(call.mock, key, state))


def _tier(mock: Mock, body: dict) -> object:
    tier = body.get("tier", KEEP)
    if tier is not KEEP and tier is not None and tier not in mock.accounts.tiers:
        known = ", ".join(str(t) for t in sorted(mock.accounts.tiers))
        raise invalid_request(f"tier must be null (no limits) or one of {known}, got {tier!r}")
    return tier


async def put_account(call: Call) -> Response:
    """Set any of an account's `cash`, `voucher` (USD) and `tier` (null: no limits)."""
    body = fields(await body_of(call), {"cash": "a number", "voucher": "a number",
                                        "tier": "null or a whole number"})
    if not body:
        raise invalid_request("send at least one of cash, voucher (USD) or tier")
    tier = _tier(call.mock, body)
    if body.get("voucher", 0) < 0:
        raise invalid_request("voucher must not be negative (cash may be, for arrears)")
    if not math.isfinite(float(body.get("cash", 0)) + float(body.get("voucher", 0))):
        raise invalid_request("cash and voucher must add up to a finite amount")
    key = call.params["key"]
    money = {name: float(body[name]) for name in ("cash", "voucher") if name in body}
    await call.mock.store.set_account(call.mock.accounts.of(key), tier=tier, **money)
    state = await call.mock.store.account(call.mock.accounts.of(key),
                                          await clock_now(call.mock))
    return json_response(account_body(call.mock, key, state))


# ---- rules and scenarios -------------------------------------------------------------

async def rule_views(mock: Mock, rules: list[Rule]) -> list[dict]:
    uses = (await mock.store.progress()).uses
    return [{**rule.to_dict(), "uses": uses.get(rule.name, 0)} for rule in rules]


def listing(data: list, status: int = 200) -> Response:
    return json_response({"object": "list", "data": data}, status)


async def find_rule(mock: Mock, name: str) -> Rule:
    for rule in await mock.scenarios.refresh():
        if rule.name == name:
            return rule
    raise no_rule(name)


def no_rule(name: str) -> APIError:
    return APIError(404, "resource_not_found_error", f"no rule is named {clip(repr(name), 100)}")


async def list_rules(call: Call) -> Response:
    return listing(await rule_views(call.mock, await call.mock.scenarios.refresh()))


async def get_rule(call: Call) -> Response:
    rule = await find_rule(call.mock, call.params["name"])
    return json_response((await rule_views(call.mock, [rule]))[0])


async def delete_rule(call: Call) -> Response:
    name = call.params["name"]
    if not await call.mock.store.remove_rule(name):
        raise no_rule(name)
    return json_response({"name": name, "deleted": True})


async def clear_rules(call: Call) -> Response:
    count = len(await call.mock.scenarios.refresh())
    await call.mock.store.clear_rules()
    return json_response({"deleted": count})


async def load(mock: Mock, document: dict, single: bool = False) -> tuple[list[Rule], bool]:
    """Add a document's rules, all or nothing, and whether any is new (not a replacement
    by name); a 400 listing every problem and its path (relative to the posted rule when
    one rule was posted)."""
    before = {rule.name for rule in await mock.scenarios.refresh()}
    try:
        rules = await mock.scenarios.load(document)
    except ScenarioError as exc:
        problems = [Problem(p.path[2:], p.message) if single else p for p in exc.problems]
        raise invalid_request("invalid scenario: " + "; ".join(
            f"{p.where()}: {p.message}" for p in problems)) from None
    return rules, any(rule.name not in before for rule in rules)


async def add_rules(call: Call) -> Response:
    """One rule in the scenario-file form, or a whole document (`{"rules": [...]}`):
    201 when a rule is new, 200 when every rule replaced one of the same name."""
    body = await body_of(call)
    if "rules" in body:
        return await added(call.mock, *await load(call.mock, body))
    rules, new = await load(call.mock, {"rules": [body]}, single=True)
    return json_response((await rule_views(call.mock, rules))[0], 201 if new else 200)


async def load_scenario(call: Call) -> Response:
    """A whole scenario document, as JSON or YAML."""
    return await added(call.mock, *await load(call.mock, await body_of(call)))


async def added(mock: Mock, rules: list[Rule], new: bool) -> Response:
    return listing(await rule_views(mock, rules), 201 if new else 200)


# ---- the journal ---------------------------------------------------------------------

def journal_query(call: Call, **more: str) -> dict[str, str]:
    """The journal's query; `key` is a filter too (the account that key bills)."""
    query = {**call.query, **more}
    if "key" in query:
        query["account"] = call.mock.accounts.of(query.pop("key"))
    return query


async def journal(call: Call) -> Response:
    return json_response(journal_page(await call.mock.store.journal(), journal_query(call)))


async def journal_entry(call: Call) -> Response:
    """One call whole: what was sent, what was answered (the frames of a stream), the
    rule that answered it and the seed that replays it."""
    wanted = call.params["entry_id"]
    if wanted.isascii() and wanted.isdigit():
        for entry in await call.mock.store.journal():
            if entry.id == int(wanted):
                return json_response(entry_detail(entry))
    raise APIError(404, "resource_not_found_error", f"the journal holds no entry "
                                                     f"{clip(repr(wanted), 40)}")


async def unmatched_calls(call: Call) -> Response:
    """The journal's unmatched chat calls (other filters apply too)."""
    return json_response(journal_page(await call.mock.store.journal(),
                                      journal_query(call, unmatched="true")))


# ---- the coverage report ------------------------------------------------------------

async def report(call: Call) -> Response:
    """What the client under test exercised: `?format=json` (default), `markdown`, `html`."""
    shape = call.query.get("format", "json")
    views = [entry_view(entry) for entry in await call.mock.store.journal()]
    found = coverage(orjson_views(views), call.mock.spec.document)
    if shape == "json":
        return json_response(found)
    if shape in ("markdown", "md"):
        return Response(markdown(found), media_type="text/markdown; charset=utf-8")
    if shape == "html":
        return Response(page(found), media_type="text/html; charset=utf-8")
    raise invalid_request(f"format must be json, markdown or html, got {shape[:40]!r}")


def orjson_views(views: list[dict]) -> list[dict]:
    """Entry views with their embedded bodies parsed (the view embeds them as raw JSON)."""
    return orjson.loads(orjson.dumps(views))


# ---- test partitions -----------------------------------------------------------------

async def list_tests(call: Call) -> Response:
    root = call.mock.root
    return json_response({"object": "list", "data": root.partitions.names(),
                          "evicted": root.partitions.evicted,
                          "max_partitions": root.settings.max_partitions})


async def drop_test(call: Call) -> Response:
    """Forget one test's partition (the plugin does this when the test ends)."""
    test_id = call.params["test_id"]
    if not call.mock.root.partitions.drop(test_id):
        raise APIError(404, "resource_not_found_error", f"no test partition is named "
                                                         f"{test_id[:100]!r}")
    return json_response({"id": test_id, "deleted": True})


# ---- routes --------------------------------------------------------------------------

async def openapi_document(call: Call) -> Response:
    """The effective spec with its streams described (`?version=3.2` for `itemSchema`)."""
    version = call.query.get("version", "3.1")
    try:
        return json_response(published_document(version))
    except ValueError as exc:
        raise invalid_request(str(exc)) from None


ROUTES: tuple[tuple[str, str, AdminHandler], ...] = (
    ("GET", "/health", health),
    ("GET", "/openapi.json", openapi_document),
    ("GET", "/stats", stats),
    ("POST", "/reset", reset),
    ("GET", "/rules", list_rules),
    ("POST", "/rules", add_rules),
    ("DELETE", "/rules", clear_rules),
    ("GET", "/rules/{name}", get_rule),
    ("DELETE", "/rules/{name}", delete_rule),
    ("POST", "/scenarios", load_scenario),
    ("GET", "/scenarios", scenario_states),
    ("GET", "/journal", journal),
    ("GET", "/journal/{entry_id}", journal_entry),
    ("GET", "/unmatched", unmatched_calls),
    ("GET", "/clock", get_clock),
    ("POST", "/clock", move_clock),
    ("GET", "/accounts", list_accounts),
    ("GET", "/accounts/{key}", get_account),
    ("PUT", "/accounts/{key}", put_account),
    ("GET", "/report", report),
    ("GET", "/tests", list_tests),
    ("DELETE", "/tests/{test_id:path}", drop_test),
    ("GET", "/events", events),
    ("GET", "/", console_page),
    ("GET", "", console_redirect),
    ("GET", "/console/{asset}", console_asset),
)
# probes and tools need no token, nor does the console's page: it holds no data, and asks
# for the token when the API it calls answers 401
OPEN = frozenset({"/health", "/openapi.json", "/", "", "/console/{asset}"})


def endpoint(mock: Mock, method: str, handler: AdminHandler, guarded: bool) -> Callable:
    """The router's endpoint for one admin handler: authorize, run, render errors, and
    tell a watching console when the state was steered."""

    async def run(scope: dict, receive: Callable, send: Callable,
                  path_params: dict[str, str]) -> None:
        headers = request_headers(scope)
        try:
            if guarded:
                authorize(mock, headers)
            steered = partition_of(mock, headers)
            response = await handler(Call(steered, headers, path_params, query_of(scope),
                                          receive))
            if method != "GET" and mock.changes.watched and response.status_code < 400:
                mock.changes.steered(steered.test_id)
        except APIError as error:
            response = error_response(error)
        except ClientGone:
            return
        except StoreError as exc:
            response = error_response(store_unavailable(exc))
        except Exception as exc:  # a mockshot bug, never the client's fault
            log.exception("unhandled error in the control API")
            response = error_response(APIError(
                500, "server_error", f"mockshot internal error: {type(exc).__name__}"))
        await response(scope, receive, send)

    return run


def routes(mock: Mock) -> list[Route]:
    """The control API's routes, for `create_app`."""
    return [Route(method, PREFIX + path, endpoint(mock, method, handler, path not in OPEN))
            for method, path, handler in ROUTES]

