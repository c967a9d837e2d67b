"""The README's record-and-replay commands, run as written (the upstream a second mockshot,
the port a free one): record a session through `mockshot record`, check it, serve it
back with the same bytes, and diff it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from mockshot import ServedMock, Settings, cli
from mockshot.transport import httpx_module

from .recording import AUTH, UPSTREAM_RULES, chat, seen
from .test_cli import Served, clean_env

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Record and replay", 1)[1].split("\n## ", 1)[0]
COMMANDS = re.findall(r"^(mockshot .*?)$", re.findall(r"```bash\n(.*?)```", SECTION, re.S)[0],
                      re.M)


def command(name: str, upstream: str, out: Path) -> list[str]:
    line = next(c for c in COMMANDS if c.startswith(f"mockshot {name} "))
    line = line.replace("https://api.moonshot.ai", upstream).replace("recordings/my-app",
                                                                     str(out))
    return [sys.executable, "-m", *line.replace("--port 8000", "--port 0").split()]


def session(url: str) -> list:
    with httpx_module().Client(base_url=url) as client:
        return [seen(client.post("/v1/chat/completions", headers=AUTH, json=body))
                for body in (chat("Hello"), chat("Hello", True), chat("cut it", True),
                             chat("busy?"), chat("busy?"))]


def test_the_readme_names_the_four_commands():
    assert [c.split()[1] for c in COMMANDS] == ["record", "check", "serve", "diff"]


def test_the_readmes_commands_record_check_replay_and_diff(tmp_path):
    out = tmp_path / "my-app"
    with ServedMock(Settings(port=0, clock="virtual", log_level="warning")) as upstream:
        upstream.mock.scenarios.load_sync(UPSTREAM_RULES)
        recorder = Served([*command("record", upstream.url, out), "--clock", "virtual"])
        try:
            recorded = session(recorder.url)
        finally:
            status, _, _ = recorder.stop()
    assert status == 0
    assert [s.status for s in recorded] == [200, 200, 200, 429, 200]

    checked = subprocess.run(command("check", "", out), capture_output=True, text=True,
                             env=clean_env(), timeout=60)
    assert (checked.returncode, checked.stdout) == (0, "1 scenario file(s) OK\n")

    replay = Served([*command("serve", "", out), "--clock", "virtual"])
    try:
        assert session(replay.url) == recorded
    finally:
        replay.stop()

    diffed = subprocess.run(command("diff", "", out), capture_output=True, text=True,
                            env=clean_env(), timeout=120)
    assert diffed.returncode in (0, 1), diffed.stderr
    assert diffed.stdout.rstrip().endswith("exchange(s) compared, "
                                           f"{diffed.stdout.count('difference(s)')} with drift")


def test_recording_takes_one_worker(tmp_path, capsys):
    status = cli.main(["record", "--upstream", "http://127.0.0.1:9", "--out", str(tmp_path),
                       "--workers", "2", "--state-dir", str(tmp_path / "state"),
                       "--port", "0"])
    assert status == 2
    assert "record with one worker; each of 2 would write the recording over the others'" \
        in capsys.readouterr().err
