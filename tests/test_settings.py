"""`Settings.load`: defaults < config file (TOML or JSON) < MOCKSHOT_* environment < flags.

The command line reaches `Settings.load` as the `overrides` mapping (argparse's dests, None
where a flag was not given); the environment is passed explicitly, so nothing here reads
or changes the real process environment.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockshot.settings import Settings, SettingsError

# field: (default, config value, env text, env value, flag value)
LAYERS: dict[str, tuple[Any, Any, str, Any, Any]] = {
    "host": ("127.0.0.1", "10.1.1.1", "10.2.2.2", "10.2.2.2", "10.3.3.3"),
    "port": (8000, 1111, "2222", 2222, 3333),
    "seed": (0, 11, "-22", -22, 33),
    "api_key": ((), ["c1", "c2"], "e1, e2,,", ("e1", "e2"), ["k1", "k2"]),
    "log_level": ("info", "error", "debug", "debug", "warning"),
    "clock": ("real", "virtual", "real", "real", "virtual"),
    "admin_token": (None, "from-config", "from-env", "from-env", "from-flag"),
}
FLAG_DESTS = ["host", "port", "seed", "config", "api_key", "log_level", "clock", "admin_token"]


def expected(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def toml_value(value: Any) -> str:
    return json.dumps(value)  # strings, ints and string arrays read the same in TOML


def write_config(directory: Path, kind: str, values: dict[str, Any]) -> str:
    if kind == "toml":
        path = directory / "mockshot.toml"
        path.write_text("".join(f"{k} = {toml_value(v)}\n" for k, v in values.items()),
                        encoding="utf-8")
    else:
        path = directory / "mockshot.json"
        path.write_text(json.dumps(values), encoding="utf-8")
    return str(path)


def flags(**given: Any) -> dict[str, Any]:
    """What argparse hands over: every dest, None where the flag was not given."""
    return {dest: given.get(dest) for dest in FLAG_DESTS}


def test_defaults():
    loaded = Settings.load(flags(), environ={})
    assert loaded == Settings()
    for field, (default, *_rest) in LAYERS.items():
        assert getattr(loaded, field) == default, field
    assert loaded.config is None


@pytest.mark.parametrize("kind", ["toml", "json"])
@pytest.mark.parametrize("field", sorted(LAYERS))
def test_each_layer_overrides_the_one_below(tmp_path, kind, field):
    default, in_config, env_text, from_env, from_flag = LAYERS[field]
    config = write_config(tmp_path, kind, {field: in_config})
    env_name = "MOCKSHOT_" + field.upper()

    assert getattr(Settings.load(flags(), environ={}), field) == default
    with_config = Settings.load(flags(config=config), environ={})
    assert getattr(with_config, field) == expected(in_config)
    assert with_config.config == config
    with_env = Settings.load(flags(config=config), environ={env_name: env_text})
    assert getattr(with_env, field) == from_env
    with_flag = Settings.load(flags(config=config, **{field: from_flag}),
                              environ={env_name: env_text})
    assert getattr(with_flag, field) == expected(from_flag)
    # and each layer alone over the defaults
    assert getattr(Settings.load(flags(), environ={env_name: env_text}), field) == from_env
    assert getattr(Settings.load(flags(**{field: from_flag}), environ={}), field) == \
        expected(from_flag)


@pytest.mark.parametrize("kind", ["toml", "json"])
def test_config_file_from_env_or_flag(tmp_path, kind):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    from_env = write_config(tmp_path / "a", kind, {"port": 1111, "seed": 5})
    from_flag = write_config(tmp_path / "b", kind, {"port": 2222})
    loaded = Settings.load(flags(), environ={"MOCKSHOT_CONFIG": from_env})
    assert (loaded.config, loaded.port, loaded.seed) == (from_env, 1111, 5)
    # the flag's file replaces the environment's (its keys are not merged in)
    loaded = Settings.load(flags(config=from_flag), environ={"MOCKSHOT_CONFIG": from_env})
    assert (loaded.config, loaded.port, loaded.seed) == (from_flag, 2222, 0)


def test_flag_zero_and_empty_values_still_override():
    loaded = Settings.load(flags(port=0, seed=0), environ={"MOCKSHOT_PORT": "9000",
                                                          "MOCKSHOT_SEED": "7"})
    assert (loaded.port, loaded.seed) == (0, 0)


def test_api_key_forms():
    assert Settings.load(flags(api_key=["a", "b"]), environ={}).api_key == ("a", "b")
    assert Settings.load(flags(), environ={"MOCKSHOT_API_KEY": "a,b"}).api_key == ("a", "b")
    assert Settings.load(flags(), environ={"MOCKSHOT_API_KEY": " a , b "}).api_key == ("a", "b")
    assert Settings.load(flags(), environ={"MOCKSHOT_API_KEY": "solo"}).api_key == ("solo",)
    # flags replace the environment's keys rather than adding to them
    loaded = Settings.load(flags(api_key=["k"]), environ={"MOCKSHOT_API_KEY": "a,b"})
    assert loaded.api_key == ("k",)


def test_config_file_keys_may_use_dashes_like_the_flags(tmp_path):
    path = tmp_path / "mockshot.toml"
    path.write_text('log-level = "error"\napi-key = ["x"]\n', encoding="utf-8")
    loaded = Settings.load(flags(config=str(path)), environ={})
    assert (loaded.log_level, loaded.api_key) == ("error", ("x",))


def test_environment_types_are_coerced():
    loaded = Settings.load(flags(), environ={
        "MOCKSHOT_PROMPT_CACHE": "off", "MOCKSHOT_INITIAL_BALANCE": "2.5",
        "MOCKSHOT_JOURNAL_SIZE": "10", "MOCKSHOT_PACING": "false",
    })
    assert loaded.prompt_cache is False and loaded.pacing is False
    assert loaded.balance == 2.5 and loaded.journal_size == 10  # the older name still works


def test_unrelated_environment_is_ignored():
    loaded = Settings.load(flags(), environ={"MOCKSHOT_NOT_A_SETTING": "1", "PORT": "1",
                                             "mockshot_port": "2"})
    assert loaded == Settings()


# --- bad settings: a SettingsError naming the setting --------------------------------------


def test_unknown_config_key(tmp_path):
    config = write_config(tmp_path, "toml", {"port": 1, "colour": "blue"})
    with pytest.raises(SettingsError, match="colour"):
        Settings.load(flags(config=config), environ={})
    config = write_config(tmp_path, "json", {"prot": 1})
    with pytest.raises(SettingsError, match="prot"):
        Settings.load(flags(config=config), environ={})


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("missing.toml", None),
        ("broken.toml", "port = = 1\n"),
        ("broken.json", '{"port": 1'),
        ("list.json", "[1, 2]"),
        ("latin1.toml", b"port = 1\n\xff\xfe = 2\n"),
        ("latin1.json", b'{"host": "caf\xe9"}'),
    ],
    ids=["missing", "not-toml", "not-json", "not-a-table", "toml-not-utf8", "json-not-utf8"],
)
def test_unreadable_config_file(tmp_path, name, text):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match="config file") as raised:
        Settings.load(flags(config=str(path)), environ={})
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"MOCKSHOT_PORT": "abc"}, "port"),
        ({"MOCKSHOT_PORT": ""}, "port"),
        ({"MOCKSHOT_SEED": "1.5"}, "seed"),
        ({"MOCKSHOT_PROMPT_CACHE": "maybe"}, "prompt_cache"),
        ({"MOCKSHOT_BALANCE": "lots"}, "balance"),
        ({"MOCKSHOT_TIER": "gold"}, "tier"),
    ],
)
def test_unparseable_environment_values(env, field):
    with pytest.raises(SettingsError, match=field) as raised:
        Settings.load(flags(), environ=env)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("port", "70000"),
        ("port", "-1"),
        ("clock", "sundial"),
        ("log_level", "loud"),
    ],
)
def test_out_of_range_or_unknown_environment_values(field, value):
    """Values of the right type that cannot work: a port outside 0-65535, a clock or log
    level the CLI's own choices would refuse. They must fail at load time, naming the
    setting, not later inside the server (a traceback, or 'cannot serve')."""
    with pytest.raises(SettingsError, match=field):
        Settings.load(flags(), environ={"MOCKSHOT_" + field.upper(): value})


@pytest.mark.parametrize(("field", "text"), [("port", "true"), ("port", "8000.5"),
                                             ("seed", "1.9"), ("journal_size", "false")])
def test_config_values_of_the_wrong_type(tmp_path, field, text):
    """A TOML boolean or fraction where an integer belongs is a mistake, not port 1 or
    seed 1."""
    path = tmp_path / "mockshot.toml"
    path.write_text(f"{field} = {text}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=field):
        Settings.load(flags(config=str(path)), environ={})
