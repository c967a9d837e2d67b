"""`mockshot serve`: flags over environment over config file over defaults, clear one-line
errors for bad settings, and a real server in a subprocess that serves, logs each request
and stops cleanly on SIGINT and SIGTERM.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path

import openai
import pytest

from mockshot import cli, server
from mockshot.settings import CONFIG_ONLY, Settings
from mockshot.transport import httpx_module

STARTUP_SECONDS = 30
URL = re.compile(r"(http://127\.0\.0\.1:(\d+))/v1")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any MOCKSHOT_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSHOT_")}
    env.update(extra)
    return env


class Served:
    """`mockshot serve` in a subprocess: the URL it printed, then stop it with a signal."""

    def __init__(self, command: list[str], env: dict[str, str] | None = None,
                 cwd: str | Path | None = None) -> None:
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env if env is not None else clean_env(),
                                     cwd=cwd)
        self.first_line = self._first_line()
        found = URL.search(self.first_line)
        if found is None:
            self.kill()
            pytest.fail(f"no URL in the first line {self.first_line!r}")
        self.url, self.port = found.group(1), int(found.group(2))
        self._wait_until_ready()

    def _first_line(self) -> str:
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=STARTUP_SECONDS):
            self.kill()
            pytest.fail("mockshot printed nothing within the start-up time")
        line = self.proc.stdout.readline()
        if not line:
            _, err = self.proc.communicate(timeout=10)
            pytest.fail(f"mockshot exited ({self.proc.returncode}) before serving: {err}")
        return line

    def _wait_until_ready(self) -> None:
        httpx = httpx_module()
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/_mockshot/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.kill()
        pytest.fail("mockshot never answered /_mockshot/health")

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        try:
            out, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"mockshot did not stop within 20 s of {signal.Signals(sig).name}")
        return self.proc.returncode, self.first_line + out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=10)


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "mockshot", "serve", *args]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a `mockshot serve` that is expected to refuse to start."""
    try:
        return subprocess.run(serve_command(*args), capture_output=True, text=True,
                              env=env if env is not None else clean_env(), timeout=30)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"mockshot started serving instead of refusing: {exc.stderr!r}")


# --- flags through argparse, in-process ------------------------------------------------------


@pytest.fixture
def started(monkeypatch):
    """Run `cli.main` without a server: record the Settings `serve` would have received."""
    for name in list(os.environ):
        if name.startswith("MOCKSHOT_"):
            monkeypatch.delenv(name)
    calls: list = []
    monkeypatch.setattr(server, "serve", lambda settings, announce=print: calls.append(settings))
    monkeypatch.setattr(cli.logging, "basicConfig", lambda **kw: calls.append(kw))
    return calls


def main_settings(started, *argv: str) -> Settings:
    assert cli.main(["serve", *argv]) == 0
    logging_kwargs, settings = started[-2], started[-1]
    assert logging_kwargs["level"] == settings.log_level.upper()
    return settings


# flag args, field, config value, env text, expected from env, expected from flag
FLAGS = [
    (["--host", "10.3.3.3"], "host", "10.1.1.1", "10.2.2.2", "10.2.2.2", "10.3.3.3"),
    (["--port", "3333"], "port", 1111, "2222", 2222, 3333),
    (["--seed", "33"], "seed", 11, "22", 22, 33),
    (["--api-key", "k1", "--api-key", "k2"], "api_key", ["c1"], "e1,e2", ("e1", "e2"),
     ("k1", "k2")),
    (["--log-level", "warning"], "log_level", "error", "debug", "debug", "warning"),
    (["--clock", "virtual"], "clock", "virtual", "real", "real", "virtual"),
    (["--admin-token", "t3"], "admin_token", "t1", "t2", "t2", "t3"),
    # settings beyond the brief's list: the command line mirrors every Settings field
    (["--balance", "3.5"], "balance", 1.5, "2.5", 2.5, 3.5),
    (["--tier", "2"], "tier", 0, "1", 1, 2),
    (["--no-prompt-cache"], "prompt_cache", False, "true", True, False),
    (["--journal-size", "30"], "journal_size", 10, "20", 20, 30),
    (["--system-fingerprint", "fpv0_c"], "system_fingerprint", "fpv0_a", "fpv0_b", "fpv0_b",
     "fpv0_c"),
]


@pytest.mark.parametrize("kind", ["toml", "json"])
@pytest.mark.parametrize(("argv", "field", "in_config", "env_text", "from_env", "from_flag"),
                         FLAGS, ids=[f[1] for f in FLAGS])
def test_flag_over_env_over_config_over_default(started, monkeypatch, tmp_path, kind, argv,
                                                field, in_config, env_text, from_env,
                                                from_flag):
    config = tmp_path / f"mockshot.{kind}"
    if kind == "toml":
        config.write_text(f"{field} = {json.dumps(in_config)}\n", encoding="utf-8")
    else:
        config.write_text(json.dumps({field: in_config}), encoding="utf-8")
    default = getattr(Settings(), field)
    as_read = tuple(in_config) if isinstance(in_config, list) else in_config

    assert getattr(main_settings(started), field) == default
    assert getattr(main_settings(started, "--config", str(config)), field) == as_read
    monkeypatch.setenv("MOCKSHOT_CONFIG", str(config))
    assert getattr(main_settings(started), field) == as_read
    monkeypatch.setenv("MOCKSHOT_" + field.upper(), env_text)
    assert getattr(main_settings(started), field) == from_env
    assert getattr(main_settings(started, *argv), field) == from_flag
    monkeypatch.delenv("MOCKSHOT_CONFIG")
    assert getattr(main_settings(started, *argv), field) == from_flag


def test_config_flag_over_config_env(started, monkeypatch, tmp_path):
    env_file, flag_file = tmp_path / "env.toml", tmp_path / "flag.json"
    env_file.write_text("port = 1111\n", encoding="utf-8")
    flag_file.write_text('{"port": 2222}', encoding="utf-8")
    monkeypatch.setenv("MOCKSHOT_CONFIG", str(env_file))
    assert main_settings(started).port == 1111
    loaded = main_settings(started, "--config", str(flag_file))
    assert (loaded.port, loaded.config) == (2222, str(flag_file))


def test_api_key_env_is_comma_separated(started, monkeypatch):
    monkeypatch.setenv("MOCKSHOT_API_KEY", "sk-a, sk-b,sk-c")
    assert main_settings(started).api_key == ("sk-a", "sk-b", "sk-c")
    assert main_settings(started, "--api-key", "sk-z").api_key == ("sk-z",)


def test_every_setting_is_a_flag(capsys):
    """README: "Every setting is a CLI flag, a MOCKSHOT_* environment variable and a
    config-file key"; cli.py: "the command line is a mirror of Settings". `models`,
    `accounts` and `tiers` are the documented config-file-only entries (lists of tables)."""
    with pytest.raises(SystemExit) as done:
        cli.main(["serve", "--help"])
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    missing = [f.name for f in fields(Settings) if f.name not in CONFIG_ONLY
               and "--" + f.name.replace("_", "-") not in help_text]
    assert missing == []


# --- bad settings: one clear line, exit code 2, no traceback ---------------------------------


def assert_one_line_error(result: subprocess.CompletedProcess, *mentions: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mockshot: "), lines
    for mention in mentions:
        assert mention in lines[0], (mention, lines[0])
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("config", "mention"),
    [
        ("colour = 'blue'\n", "colour"),
        ("port = 'abc'\n", "port"),
        ("port = = 1\n", "config file"),
    ],
    ids=["unknown-key", "not-an-integer", "not-toml"],
)
def test_bad_config_file(tmp_path, config, mention):
    path = tmp_path / "mockshot.toml"
    path.write_text(config, encoding="utf-8")
    assert_one_line_error(run_cli("--config", str(path)), mention)


def test_config_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "mockshot.toml"
    path.write_bytes(b"port = 1\n\xff\xfe = 2\n")
    assert_one_line_error(run_cli("--config", str(path)), "config file")


@pytest.mark.parametrize(
    ("entry", "mention"),
    [
        ('id = "kimi-k3"\nlike = "kimi-k2.6"\nbogus = 1\n', "bogus"),
        ('id = "kimi-k3"\nlike = "no-such-model"\n', "no-such-model"),
        ('id = "kimi-k3"\nfamily = "no-such-family"\n', "no-such-family"),
    ],
    ids=["unknown-field", "unknown-like", "unknown-family"],
)
def test_bad_models_entry_in_config(tmp_path, entry, mention):
    """A config file's `models` entries are config keys too: an unknown field or a `like` /
    `family` naming nothing is a bad setting (exit code 2), like any other."""
    path = tmp_path / "mockshot.toml"
    path.write_text("port = 0\n[[models]]\n" + entry, encoding="utf-8")
    assert_one_line_error(run_cli("--config", str(path)), mention)


def test_bad_json_config_and_missing_config(tmp_path):
    path = tmp_path / "mockshot.json"
    path.write_text('{"port": 1, "prot": 2}', encoding="utf-8")
    assert_one_line_error(run_cli("--config", str(path)), "prot")
    assert_one_line_error(run_cli("--config", str(tmp_path / "absent.toml")), "absent.toml")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MOCKSHOT_PORT", "abc"),
        ("MOCKSHOT_SEED", "x"),
        ("MOCKSHOT_PROMPT_CACHE", "maybe"),
        ("MOCKSHOT_PORT", "70000"),
        ("MOCKSHOT_CLOCK", "sundial"),
        ("MOCKSHOT_LOG_LEVEL", "loud"),
    ],
)
def test_bad_environment_value(variable, value):
    setting = variable.removeprefix("MOCKSHOT_").lower()
    assert_one_line_error(run_cli(env=clean_env(**{variable: value})), setting)


@pytest.mark.parametrize(
    ("argv", "mention"),
    [
        (["--port", "abc"], "--port"),
        (["--seed", "1.5"], "--seed"),
        (["--clock", "sundial"], "--clock"),
        (["--log-level", "loud"], "--log-level"),
        (["--colour", "blue"], "--colour"),
    ],
)
def test_bad_flag(argv, mention):
    """argparse's own refusals: exit code 2, a usage line and one error line naming the flag."""
    result = run_cli(*argv)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert mention in result.stderr.strip().splitlines()[-1]


def test_occupied_port_fails_with_a_clear_message():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("--port", str(port), "--clock", "virtual")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mockshot: "), result.stderr
    assert "in use" in lines[0].lower(), lines[0]


# --- a real server in a subprocess ------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_port_0_answers_and_stops_cleanly(sig):
    served = Served(serve_command("--port", "0", "--clock", "virtual"))
    try:
        assert served.port != 0
        assert served.first_line.startswith("mockshot serving the Moonshot API at http://")
        httpx = httpx_module()
        health = httpx.get(f"{served.url}/_mockshot/health", timeout=10)
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        client = openai.OpenAI(api_key="sk-cli", base_url=f"{served.url}/v1", max_retries=0,
                               timeout=30)
        reply = client.chat.completions.create(
            model="kimi-k2.6", messages=[{"role": "user", "content": "Hello"}])
        assert reply.model == "kimi-k2.6"
        assert reply.choices[0].message.content
        assert reply.usage.total_tokens == reply.usage.prompt_tokens + \
            reply.usage.completion_tokens
    finally:
        code, _out, err = served.stop(sig)
    assert "Traceback" not in err, err
    assert code == 0, (code, err)


@pytest.mark.parametrize("level", ["info", "warning"])
def test_access_log_line_per_request(level):
    """At info, one `mockshot.access` line per API request, whatever its outcome (a path or
    method the API does not have included); at warning, none."""
    served = Served(serve_command("--port", "0", "--clock", "virtual", "--log-level", level))
    httpx = httpx_module()
    key = {"Authorization": "Bearer sk-log"}
    sent = []
    try:
        hello = {"model": "moonshot-v1-8k", "messages": [{"role": "user", "content": "Hi"}]}
        for method, path, headers, body, status in [
            ("POST", "/v1/chat/completions", key, hello, 200),
            ("GET", "/v1/models", key, None, 200),
            ("POST", "/v1/chat/completions", key, {**hello, "n": 9}, 400),
            ("POST", "/v1/tokenizers/estimate-token-count", key, hello, 200),
            ("POST", "/v1/chat/completions", key, {**hello, "model": "kimi-k9"}, 404),
            ("GET", "/v1/users/me/balance", {}, None, 401),
            ("GET", "/v1/no-such-thing", key, None, 404),
            ("DELETE", "/v1/models", key, None, 405),
        ]:
            response = httpx.request(method, f"{served.url}{path}", headers=headers, json=body,
                                     timeout=30)
            assert response.status_code == status, response.text
            sent.append((method, path, status))
    finally:
        code, _out, err = served.stop(signal.SIGINT)
    assert code == 0, err
    access = [line for line in err.splitlines()
              if line.startswith("mockshot.access") and "/_mockshot/" not in line]
    if level == "warning":
        assert access == []
        return
    assert len(access) == len(sent), (sent, err)
    for line, (method, path, status) in zip(access, sent, strict=True):
        assert f"{method} {path}" in line and f" {status} " in line, (line, method, path)


def test_api_key_flag_over_the_wire():
    served = Served(serve_command("--port", "0", "--clock", "virtual", "--api-key", "sk-one",
                                  "--api-key", "sk-two"),
                    env=clean_env(MOCKSHOT_API_KEY="sk-env"))
    httpx = httpx_module()
    try:
        statuses = {
            key: httpx.get(f"{served.url}/v1/models", timeout=10,
                           headers={"Authorization": f"Bearer {key}"}).status_code
            for key in ["sk-one", "sk-two", "sk-env", "sk-other"]
        }
    finally:
        code, _out, err = served.stop(signal.SIGINT)
    assert statuses == {"sk-one": 200, "sk-two": 200, "sk-env": 401, "sk-other": 401}
    assert code == 0, err
