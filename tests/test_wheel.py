"""The built wheel is self-sufficient: spec, overlay and model data travel inside it, and
its pytest plugin works in a fresh environment.

Slow by design (about 10-60 s: a wheel build, a fresh virtual environment, an install
whose dependencies come from the package index this machine's pip already uses). It
builds a wheel from this checkout, installs it into a clean venv under tmp_path, starts
that venv's `mockshot serve --port 0` with cwd=tmp_path (so the checkout is not
importable), and checks the API answers — which only works if the wheel carries
`mockshot/_openapi/*.json` and `mockshot/data/models.json`.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import zipfile
from pathlib import Path

from mockshot.transport import httpx_module

from .test_cli import Served, clean_env

ROOT = Path(__file__).resolve().parent.parent


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                            timeout=600, **kwargs)
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result


def test_wheel_installs_and_serves_from_a_clean_venv(tmp_path):
    dist = tmp_path / "dist"
    env = clean_env()
    env.pop("PYTHONPATH", None)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", dist,
         ROOT], env=env, cwd=tmp_path)
    wheels = list(dist.glob("mockshot-*.whl"))
    assert len(wheels) == 1, wheels
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    for packaged in ["mockshot/_openapi/moonshot-ai-openapi.json",
                     "mockshot/_openapi/overlay.json", "mockshot/data/models.json"]:
        assert packaged in names, packaged
    assert not any(name.startswith("tests/") for name in names)

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], env=env, cwd=tmp_path)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", wheels[0],
         "pytest", "openai"], env=env, cwd=tmp_path)

    where = run([python, "-c", "import mockshot, mockshot.spec; "
                 "print(mockshot.__file__); print(mockshot.spec.spec_dir())"],
                env=env, cwd=tmp_path).stdout.splitlines()
    assert all(Path(line).is_relative_to(venv) for line in where), where

    served = Served([venv / "bin" / "mockshot", "serve", "--port", "0", "--clock", "virtual"],
                    env=env, cwd=tmp_path)
    httpx = httpx_module()
    headers = {"Authorization": "Bearer sk-wheel"}
    try:
        chat = httpx.post(f"{served.url}/v1/chat/completions", headers=headers, timeout=30,
                          json={"model": "kimi-k2.6",
                                "messages": [{"role": "user", "content": "Hello"}]})
        models = httpx.get(f"{served.url}/v1/models", headers=headers, timeout=30)
        invalid = httpx.post(f"{served.url}/v1/chat/completions", headers=headers, timeout=30,
                             json={"model": "kimi-k2.6", "messages": "Hello"})
        console = [httpx.get(f"{served.url}/_mockshot/{path}", timeout=30)
                   for path in ("", "console/console.js", "console/console.css")]
    finally:
        code, _out, err = served.stop(signal.SIGINT)
    assert chat.status_code == 200, chat.text
    assert chat.json()["model"] == "kimi-k2.6" and chat.json()["choices"][0]["message"]
    assert "kimi-k2.6" in [m["id"] for m in models.json()["data"]]
    # the schema check needs the packaged spec: a wrong type is a 400 naming the field
    assert invalid.status_code == 400 and "messages" in invalid.json()["error"]["message"]
    assert code == 0 and "Traceback" not in err, err
    assert [r.status_code for r in console] == [200, 200, 200]  # the console ships in it
    assert "console.js" in console[0].text and 'BASE = "/_mockshot"' in console[1].text

    # the pytest plugin comes with the wheel: a five-line test needs nothing else
    (tmp_path / "test_five.py").write_text(FIVE_LINES, encoding="utf-8")
    passed = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_five.py"],
                 env=env, cwd=tmp_path).stdout
    assert "1 passed" in passed, passed


FIVE_LINES = """
def test_hello(mockshot):
    mockshot.on(contains="hello").reply("Hi there!")
    reply = mockshot.client.chat.completions.create(
        model="kimi-k2.6", messages=[{"role": "user", "content": "hello"}])
    assert reply.choices[0].message.content == "Hi there!"
"""
