"""The README's Python examples run as written (the ones that need no server)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
SELF_CONTAINED = [b for b in BLOCKS if "127.0.0.1" not in b and "@pytest.fixture" not in b]


def test_the_readme_has_examples_to_run():
    assert len(SELF_CONTAINED) >= 2


@pytest.mark.parametrize("block", SELF_CONTAINED, ids=lambda b: b.splitlines()[0][:40])
def test_each_example_runs(block):
    exec(compile(block, "README.md", "exec"), {})


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
