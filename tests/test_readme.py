"""The README's Python examples run as written (the ones that need no server)."""

from __future__ import annotations

import re
from pathlib import Path

import openai
import pytest

import mockshot

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
SELF_CONTAINED = [b for b in BLOCKS if "127.0.0.1" not in b and "@pytest.fixture" not in b]


def test_the_readme_has_examples_to_run():
    assert len(SELF_CONTAINED) >= 2


@pytest.mark.parametrize("block", SELF_CONTAINED, ids=lambda b: b.splitlines()[0][:40])
def test_each_example_runs_and_leaves_a_working_mock(block):
    """Each example runs as written, and what it builds answers a chat: through its own
    openai `client` when it makes one, else through its `app`."""
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert "client" in namespace or "app" in namespace, "the example builds nothing to use"
    client = namespace.get("client") or openai.OpenAI(
        api_key="sk-readme", base_url="http://mockshot.local/v1",
        http_client=mockshot.http_client(namespace["app"]), max_retries=0)
    reply = client.chat.completions.create(
        model="kimi-k2.6", messages=[{"role": "user", "content": "Hello"}])
    assert reply.object == "chat.completion" and reply.choices[0].message.content
    if "mock" in namespace:
        assert namespace["mock"].rules(), "the scripting example loaded no rules"


def test_the_fixture_example_scripts_a_tool_call():
    block = next(b for b in BLOCKS if "@pytest.fixture" in b)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    client = next(namespace["kimi"].__wrapped__())
    reply = client.chat.completions.create(
        model="kimi-k2.6", messages=[{"role": "user", "content": "weather?"}],
        tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {
            "type": "object", "properties": {"city": {"type": "string"}}}}}],
        extra_body={"thinking": {"type": "disabled"}})
    assert reply.choices[0].message.tool_calls[0].function.arguments == '{"city": "Paris"}'
