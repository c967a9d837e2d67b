"""Helpers for the batch tests: input files written as the batch guide shows them, and
reading result files back."""

from __future__ import annotations

import json

import openai

MODEL = "kimi-k2.6"


def request_line(custom_id: str, text: str = "Hello", model: str = MODEL, **body) -> dict:
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": model, "messages": [{"role": "user", "content": text}], **body}}


def jsonl(lines: list) -> bytes:
    return "".join((json.dumps(line) if not isinstance(line, str) else line) + "\n"
                   for line in lines).encode()


def upload(client: openai.OpenAI, lines: list, name: str = "input.jsonl") -> str:
    return client.files.create(file=(name, jsonl(lines)), purpose="batch").id


def start(client: openai.OpenAI, lines: list, **options):
    options.setdefault("completion_window", "24h")
    return client.batches.create(input_file_id=upload(client, lines),
                                 endpoint="/v1/chat/completions", **options)


def results(client: openai.OpenAI, file_id: str | None) -> list[dict]:
    if file_id is None:
        return []
    return [json.loads(line) for line in client.files.content(file_id).text.splitlines()]
