"""The README's Python examples run as written (the ones that need no server)."""

from __future__ import annotations

import re
from pathlib import Path

import openai
import pytest

import mockshot

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
TESTS = [b for b in BLOCKS if "def test_" in b]  # the plugin's examples: pytest runs them
SELF_CONTAINED = [b for b in BLOCKS if "127.0.0.1" not in b and b not in TESTS]


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


def test_the_plugin_examples_pass_as_a_test_file(pytester):
    """The README's plugin examples, concatenated in order into one test file, pass."""
    assert len(TESTS) >= 2
    pytester.makepyfile(test_readme_examples="\n".join(TESTS))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=sum(block.count("def test_") for block in TESTS))
