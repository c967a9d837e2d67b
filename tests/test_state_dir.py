"""`--state-dir`: state kept in SQLite survives a restart, and a killed server loses nothing
it acknowledged; a damaged state file is reported at start-up, never replaced."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import openai
import pytest

from mockshot import Mock, Settings, create_app, http_client
from mockshot.transport import httpx_module

KEY = "sk-durable"
HELLO = [{"role": "user", "content": "Hello there"}]


def sdk(mock: Mock) -> openai.OpenAI:
    return openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1", max_retries=0,
                         http_client=http_client(create_app(mock=mock)))


def chat(client, content: str = "Hello there"):
    return client.chat.completions.create(model="moonshot-v1-8k",
                                          messages=[{"role": "user", "content": content}])


def test_state_survives_a_restart(tmp_path):
    first = Mock(Settings(clock="virtual", state_dir=str(tmp_path)))
    first.on(name="greet", contains="hi").reply("hello").then("again")
    client = sdk(first)
    assert chat(client, "hi").choices[0].message.content == "hello"
    chat(client)
    first.set_balance("sk-other", 2.0, 1.0)
    spent = 1000.0 - first.balance(KEY).cash

    again = Mock(Settings(clock="virtual", state_dir=str(tmp_path)))
    assert [entry.status for entry in again.journal()] == [200, 200]
    assert again.balance(KEY).cash == pytest.approx(1000.0 - spent)
    assert (again.balance("sk-other").cash, again.balance("sk-other").voucher) == (2.0, 1.0)
    assert [rule.name for rule in again.rules()] == ["greet"]
    assert chat(sdk(again), "hi").choices[0].message.content == "again"  # its second use
    assert again.journal()[-1].id == 3  # ids go on


def test_an_unnamed_scenario_rule_loaded_on_every_start_is_one_rule(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("rules:\n  - match: {contains: ping}\n    reply: {content: pong}\n",
                        encoding="utf-8")
    settings = Settings(clock="virtual", state_dir=str(tmp_path / "state"),
                        scenario=(str(scenario),))
    Mock(settings)
    assert len(Mock(settings).rules()) == 1


def serve(state_dir, port: int = 0) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockshot", "serve", "--port", str(port), "--state-dir",
         str(state_dir), "--clock", "virtual", "--log-level", "warning",
         "--journal-size", "1000000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert "serving" in line, process.stderr.read()
    url = line.split(" at ")[1].strip().removesuffix("/v1")
    return process, url


def test_a_killed_server_loses_nothing_it_acknowledged(tmp_path):
    process, url = serve(tmp_path)
    httpx = httpx_module()
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=url, timeout=5) as http:
            while not stop.is_set():
                try:
                    reply = http.post("/v1/chat/completions", json={
                        "model": "moonshot-v1-8k", "messages": HELLO},
                        headers={"Authorization": f"Bearer {KEY}"})
                except httpx.TransportError:
                    return
                if reply.status_code == 200:
                    with lock:
                        acknowledged.append(reply.json()["id"])

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 50 and time.monotonic() < deadline:  # kill in mid-stride
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    stop.set()
    for thread in threads:
        thread.join()
    assert len(acknowledged) >= 50

    mock = Mock(Settings(clock="virtual", state_dir=str(tmp_path), journal_size=1_000_000))
    kept = [entry for entry in mock.journal() if entry.status == 200]
    assert len(kept) >= len(acknowledged)  # every acknowledged call was settled first
    charged = sum(entry.cost for entry in mock.journal())
    assert mock.balance(KEY).cash == pytest.approx(1000.0 - charged, abs=1e-9)


def test_a_damaged_state_file_stops_start_up_with_a_clear_message(tmp_path):
    (tmp_path / "state.db").write_bytes(b"SQLite format 3\0" + b"\xff" * 4096)
    done = subprocess.run([sys.executable, "-m", "mockshot", "serve", "--port", "0",
                           "--state-dir", str(tmp_path)], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 2
    assert f"{tmp_path / 'state.db'}" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "state.db").read_bytes().startswith(b"SQLite format 3\0\xff")


def test_another_programs_database_is_not_taken_over(tmp_path):
    with sqlite3.connect(tmp_path / "state.db") as db:
        db.execute("CREATE TABLE invoices (id INTEGER)")
    done = subprocess.run([sys.executable, "-m", "mockshot", "serve", "--port", "0",
                           "--state-dir", str(tmp_path)], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 2 and "not a mockshot state file" in done.stderr


def test_an_unusable_state_directory_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "mockshot", "serve", "--port", "0",
                           "--state-dir", str(blocker / "state")], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2 and "cannot hold the state" in done.stderr


BATCH_LINES = b"".join(
    b'{"custom_id": "r%d", "method": "POST", "url": "/v1/chat/completions", "body": '
    b'{"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]}}\n' % i
    for i in range(3))


def test_a_server_killed_mid_uploads_and_batches_keeps_every_acknowledged_one(tmp_path):
    """Uploads and batch creations race a SIGKILL: after a restart every acknowledged file
    is there with its exact bytes and every acknowledged batch is listed; nothing half
    written is visible, and no partial upload is left on disk."""
    process, url = serve(tmp_path)
    client = openai.OpenAI(api_key=KEY, base_url=f"{url}/v1", max_retries=0, timeout=5)
    files: dict[str, bytes] = {}
    batches: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def upload(worker: int) -> None:
        count = 0
        while not stop.is_set():
            count += 1
            data = (f"worker {worker} file {count}\n" * (50 * count)).encode()
            try:
                kept = client.files.create(file=(f"w{worker}-{count}.txt", data),
                                           purpose="file-extract")
                if worker % 2:
                    source = client.files.create(file=("in.jsonl", BATCH_LINES),
                                                 purpose="batch")
                    batch = client.batches.create(input_file_id=source.id,
                                                  endpoint="/v1/chat/completions",
                                                  completion_window="24h")
            except openai.APIConnectionError:
                return
            with lock:
                files[kept.id] = data
                if worker % 2:
                    batches.append(batch.id)

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(files) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    stop.set()
    for thread in threads:
        thread.join()
    assert len(files) >= 40 and batches

    process, url = serve(tmp_path)
    try:
        again = openai.OpenAI(api_key=KEY, base_url=f"{url}/v1", max_retries=0)
        listed = {f.id: f for f in again.files.list().data}
        for file_id, data in files.items():
            assert listed[file_id].bytes == len(data)
            content = again.files.content(file_id).json()["content"]
            assert content == data.decode()
        for extra in set(listed) - set(files):  # recorded but not yet acknowledged: whole
            assert again.files.retrieve(extra).status == "ready"
        known = {b.id for b in again.batches.list(limit=100).data}
        assert set(batches) <= known
    finally:
        process.terminate()
        process.wait()
    assert list((tmp_path / "files" / "tmp").iterdir()) == []
