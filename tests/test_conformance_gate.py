"""Spec conformance from the outside: schemathesis drives a served mockshot through every
operation of the published spec, with data that follows it and data that breaks it, on a
fixed seed and a bounded number of examples.

It must find no server error, no response off the spec (status, content type, body,
headers), and every request that breaks the spec refused with a 4xx in the envelope. The
server accepts one API key, so its authentication is checked too.

One of schemathesis's checks is left out, on purpose: "schema-valid requests are
accepted" (positive_data_acceptance). The real service refuses some requests the spec
allows, by rules the spec does not state — an empty `messages`, a `batch` file that is not
`.jsonl`, a video URL that is not a data URL, the content of a file that has none — and
mockshot answers those as the service does (reference §4.1, §10.2, §14), with the 400s the
spec documents.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .served_state import ServedProcess

KEY = "sk-conformance"
EXAMPLES = 25
LEFT_OUT = ("positive_data_acceptance",)


def schemathesis() -> str:
    found = shutil.which("st") or str(Path(__import__("sys").executable).parent / "st")
    assert Path(found).exists(), "schemathesis is a test dependency: pip install -e '.[test]'"
    return found


def test_schemathesis_finds_nothing_off_the_spec(tmp_path):
    with ServedProcess("--api-key", KEY) as served:
        done = subprocess.run(
            [schemathesis(), "run", f"{served.url}/_mockshot/openapi.json",
             "--url", served.url, "-H", f"Authorization: Bearer {KEY}",
             "--checks", "all", "--exclude-checks", ",".join(LEFT_OUT),
             "--mode", "all", "--max-examples", str(EXAMPLES), "--seed", "1",
             "--no-color", "--report-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    summary = done.stdout[done.stdout.rfind("SUMMARY"):]
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Tested: 13" in summary and "failures" not in summary.split("Test cases:")[-1]
