"""`Mock`: one mock instance's parts (settings, spec, catalog, store, clock, tokenizer).

Handlers receive the `Mock` and an `Incoming` request; there is no module-level state, so
any number of mocks can live in one process (parallel test workers, parallel servers).
"""

from __future__ import annotations

from typing import Any

from .billing.plans import Accounts, load_accounts
from .engine import textgen
from .engine.catalog import Catalog, ModelSpec, load_catalog
from .engine.tokens import PromptCost, load_tokenizer
from .errors import (
    APIError,
    incorrect_api_key,
    invalid_authentication,
    model_not_found,
)
from .scenarios.book import ScenarioBook
from .scenarios.files import read_scenario_file, scenario_paths
from .scenarios.rules import Rule
from .scenarios.scripting import RuleBuilder
from .settings import Settings
from .spec import Spec, Validator, load_spec
from .state.clock import Clock, make_clock
from .state.journal import JournalEntry
from .state.memory import MemoryStore
from .state.store import START_STATE, Balance, Store

__all__ = ["Mock"]


class Mock:
    """Everything one mock owns. Build it once; it compiles what requests need up front."""

    def __init__(self, settings: Settings | None = None, *, store: Store | None = None,
                 clock: Clock | None = None) -> None:
        self.settings = settings = settings or Settings()
        self.spec: Spec = load_spec()
        self.spec.compile_all()
        self.catalog: Catalog = load_catalog(list(settings.models))
        self.accounts: Accounts = load_accounts(settings)
        self.store: Store = store or MemoryStore(self.accounts.default, self.accounts.plans,
                                                 self.accounts.tiers, settings.journal_size)
        self.clock: Clock = clock or make_clock(settings.clock, speed=settings.clock_speed)
        self.tokenizer = load_tokenizer(settings.tokenizer_model)
        textgen.sentence_pool()  # built once per process now, not on the first request
        self.allowed_keys = frozenset(settings.api_key)
        self._chat_validators: dict[str, tuple[Validator, str | None]] = {}
        self.file_lookup = None  # (account, file_id) → None or raises; set by the files API
        self.scenarios = ScenarioBook(self.store, settings.strict)
        self._rules_made = 0
        self.providers: Any = None  # the chat reply chain (a `Chain`); None: the default one
        for path in scenario_paths(settings.scenario):
            self.scenarios.load_sync(read_scenario_file(path), f"{path}: ")

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
