"""`Mock`: one mock instance's parts (settings, spec, catalog, store, clock, tokenizer).

Handlers receive the `Mock` and an `Incoming` request; there is no mutable module-level
state, so any number of mocks can live in one process (parallel test workers, parallel
servers). The immutable parts (compiled spec, catalog, tokenizer) are shared by every mock
of the process that agrees on their settings (parts.py), so a mock costs microseconds.

A mock can hold partitions: child mocks for one test each (`mock.partition(test_id)`,
picked by the road from `X-Mockshot-Test`), sharing settings and the immutable parts but
with their own store, scenario book and clock, so parallel tests against one served mock
never see each other's calls, counts, rule uses, states or accounts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .billing.plans import Accounts, load_accounts
from .calls import CallList
from .console.changes import Changes
from .engine.catalog import Catalog, ModelSpec
from .engine.tokens import PromptCost
from .errors import (
    APIError,
    incorrect_api_key,
    invalid_authentication,
    model_not_found,
)
from .partitions import Partitions
from .parts import Parts, parts_for
from .scenarios.book import ScenarioBook
from .scenarios.files import read_scenario_file, scenario_paths
from .scenarios.rules import Rule
from .scenarios.scripting import RuleBuilder
from .settings import Settings, SettingsError
from .spec import Spec, Validator
from .state.clock import VIRTUAL_EPOCH, Clock, FileCell, TimeCell, make_clock
from .state.journal import JournalEntry
from .state.memory import MemoryStore
from .state.store import START_STATE, Balance, Store

__all__ = ["Mock"]


class Mock:
    """Everything one mock owns. Build it once; it compiles what requests need up front."""

    def __init__(self, settings: Settings | None = None, *, store: Store | None = None,
                 clock: Clock | None = None, parent: Mock | None = None,
                 test_id: str | None = None, recover: bool = True) -> None:
        self.settings = settings = settings or Settings()
        self.parts: Parts = parent.parts if parent else parts_for(settings)
        self.spec: Spec = self.parts.spec
        self.catalog: Catalog = self.parts.catalog
        self.tokenizer = self.parts.tokenizer
        self.accounts: Accounts = load_accounts(settings)
        if store is None:  # a partition's state is its own, in this process
            store = make_store(settings, self.accounts, recover) if parent is None else \
                memory_store(settings, self.accounts)
        self.store: Store = store
        self.clock: Clock = clock or make_clock(
            settings.clock, speed=settings.clock_speed,
            cell=shared_time(settings, store) if parent is None else None)
        self.allowed_keys = frozenset(settings.api_key)
        self._chat_validators = self.parts.chat_validators
        self.root: Mock = parent or self
        self.test_id = test_id  # the partition this mock is, None for a root mock
        self.changes: Changes = parent.changes if parent else Changes()  # the console's feed
        self.partitions = Partitions(self._child, settings.max_partitions)
        self.scenarios = ScenarioBook(self.store, settings.strict)
        self._rules_made = 0
        # the chat reply chain (a `Chain`; None: the default one); a partition shares its root's
        self.providers: Any = parent.providers if parent else None
        for path in scenario_paths(settings.scenario):
            self.scenarios.load_sync(read_scenario_file(path), f"{path}: ")

    # -- partitions: one child mock per test ---------------------------------------------
    def _child(self, test_id: str) -> Mock:
        return Mock(self.settings, parent=self, test_id=test_id)

    def partition(self, test_id: str | None) -> Mock:
        """The partition for `test_id` (made on first use), or this mock for None. The
        root holds the partitions: a partition's own `partition()` asks the root."""
        if test_id is None or test_id == self.test_id:
            return self
        return self.root.partitions.get(test_id)

    def on(self, scenario: str = "default", name: str | None = None,
           **match: Any) -> RuleBuilder:
        """Script replies: `mock.on(contains="weather").reply(...)`; `match` takes the
        scenario file's match keys (operation, model, contains, regex, tool, nth, state...)."""
        self._rules_made += 1
        name = name or f"{scenario}:on#{self._rules_made}"
        return RuleBuilder(self.scenarios, scenario, name, match)

    async def forget(self, keep_accounts: bool = False, keep_rules: bool = True) -> None:
        """Forget progress: journal, call counts, rule uses, scenario states, prompt cache
        (and accounts unless kept; rules unless `keep_rules` is false)."""
        await self.store.reset(keep_accounts)
        if not keep_rules:
            await self.store.clear_rules()

    # -- the same state from plain code (tests, the scripting API) ------------------------
    def reset(self, keep_accounts: bool = False, keep_rules: bool = True) -> None:
        """`forget`, from plain code."""
        self.store.sync(self.forget(keep_accounts, keep_rules))

    def journal(self) -> list[JournalEntry]:
        """Every call the journal kept, oldest first."""
        return self.store.sync(self.store.journal())

    def calls(self, **where: Any) -> CallList:
        """The journal's calls as a `CallList`, filtered by `operation`, `model`, `status`
        or `rule` when given."""
        return CallList.of(self.journal()).filter(**where)

    def balance(self, key: str) -> Balance:
        return self.store.sync(self.store.balance(key))

    def set_balance(self, key: str, cash: float, voucher: float = 0.0) -> Balance:
        return self.store.sync(self.store.set_balance(key, cash, voucher))

    def scenario_state(self, scenario: str) -> str:
        return self.store.sync(self.store.progress()).states.get(scenario, START_STATE)

    def rules(self) -> list[Rule]:
        """The loaded rules, in the order they are tried."""
        return self.store.sync(self.scenarios.refresh())

    def authenticate(self, authorization: str | None) -> str:
        """The account a `Bearer` key names; 401 in the real two flavours otherwise."""
        if not authorization:
            raise incorrect_api_key()
        scheme, _, key = authorization.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise incorrect_api_key()
        if self.allowed_keys and key not in self.allowed_keys:
            raise invalid_authentication()
        return key

    def model(self, model_id: object) -> ModelSpec:
        found = self.catalog.get(model_id)
        if found is None:
            raise model_not_found(model_id)
        return found

    def chat_validator(self, model: ModelSpec) -> tuple[Validator, str | None]:
        """The compiled chat schema for `model`, and the discriminator field to set to
        its schema's model id first (for models added by config), looked up once."""
        found = self._chat_validators.get(model.id)
        if found is None:
            path = "/v1/chat/completions"
            field, mapping = self.spec.discriminated("post", path) or (None, {})
            ref = mapping.get(model.schema, "") if field else ""
            if field and not ref:
                raise APIError(400, "invalid_request_error",
                               f"Invalid request: model {model.id} names unknown schema "
                               f"{model.schema}")
            rename = field if field and model.id != model.schema else None
            found = self._chat_validators[model.id] = (self.spec.validator("post", path, ref),
                                                       rename)
        return found

    def prompt_cost(self, model: ModelSpec) -> PromptCost:
        return PromptCost(self.tokenizer, model.image_tokens, model.video_tokens)


def _options(settings: Settings, accounts: Accounts) -> dict[str, Any]:
    return {"plan": accounts.default, "plans": accounts.plans, "tiers": accounts.tiers,
            "journal_size": settings.journal_size}


def memory_store(settings: Settings, accounts: Accounts) -> Store:
    return MemoryStore(**_options(settings, accounts))


def make_store(settings: Settings, accounts: Accounts, recover: bool = True) -> Store:
    """The store settings ask for: Redis at `store`, SQLite in `state_dir` (each imported
    only then), else memory. With both, Redis keeps the state and `state_dir/files` the
    files' bytes. `recover`: this process opens the SQLite state first (a worker beside
    others does not); a Redis store has nothing to recover per host."""
    options = _options(settings, accounts)
    if settings.store:
        from .state.blobs import Blobs

        try:
            from .state.redis import RedisStore
        except ImportError as exc:
            raise SettingsError(f"setting store: the Redis store needs the redis package "
                                f"(pip install 'mockshot[redis]'): {exc}") from None

        blobs = Blobs(Path(settings.state_dir) / "files", durable=True) \
            if settings.state_dir else None
        return RedisStore(settings.store, blobs=blobs, **options)
    if settings.state_dir:
        from .state.sqlite import SQLiteStore

        return SQLiteStore(settings.state_dir, recover=recover, **options)
    return MemoryStore(**options)


def shared_time(settings: Settings, store: Store) -> TimeCell | None:
    """Where a virtual clock keeps its time when several processes share the state: in
    Redis with `store` (every host sees one time), else in the state directory (every
    worker sharing it sees one time, and a restart goes on from it)."""
    if settings.clock != "virtual":
        return None
    cell_of = getattr(store, "shared_time", None)
    if cell_of is not None:
        return cell_of(VIRTUAL_EPOCH)
    if not settings.state_dir:
        return None
    Path(settings.state_dir).mkdir(parents=True, exist_ok=True)
    return FileCell(Path(settings.state_dir) / "clock", VIRTUAL_EPOCH)
