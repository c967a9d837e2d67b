"""Images and video in chat through the official openai SDK (reference §7.2, §10.5, §12,
§13, §14; Mock defaults 8): which models take them, what each part costs, and the real
errors for what the service refuses.
"""

from __future__ import annotations

import asyncio
import base64
import struct
import zlib

import openai
import pytest

QUESTION = {"type": "text", "text": "What is in this picture?"}
VISION = ["kimi-k2.5", "kimi-k2.6", "moonshot-v1-8k-vision-preview",
          "moonshot-v1-32k-vision-preview", "moonshot-v1-128k-vision-preview"]
VIDEO = ["kimi-k2.5", "kimi-k2.6"]


def data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def png() -> bytes:
    """A real 1x1 PNG."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


PNG = data_url("image/png", png())
JPEG = data_url("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32))
GIF = data_url("image/gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + bytes(16))
WEBP = data_url("image/webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(24))
MP4 = data_url("video/mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(32))
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><rect/></svg>'
TEXT_PLAIN = "Invalid request: unsupported image format: text/plain; charset=utf-8"


def image(url: str) -> dict:
    return {"type": "image_url", "image_url": {"url": url}}


def video(url: str) -> dict:
    return {"type": "video_url", "video_url": {"url": url}}


def ask(*parts: dict) -> list[dict]:
    return [{"role": "user", "content": [QUESTION, *parts]}]


def prompt_tokens(client, model: str, messages: list[dict]) -> int:
    body = {"thinking": {"type": "disabled"}} if model.startswith("kimi-k2.") else None
    reply = client.chat.completions.create(model=model, messages=messages, extra_body=body)
    assert reply.choices[0].finish_reason == "stop" and reply.choices[0].message.content
    return reply.usage.prompt_tokens


def estimate(http, auth, model: str, messages: list[dict]) -> int:
    reply = http.post("/v1/tokenizers/estimate-token-count", headers=auth,
                      json={"model": model, "messages": messages})
    assert reply.status_code == 200, reply.text
    return reply.json()["data"]["total_tokens"]


def refused(client, model: str, messages: list[dict]) -> dict:
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model=model, messages=messages)
    return {"status": caught.value.status_code, **caught.value.body}


# --- what an image or a video costs (§13, §14) ----------------------------------------------

@pytest.mark.parametrize("model", VISION)
@pytest.mark.parametrize("url", [PNG, JPEG, GIF, WEBP], ids=["png", "jpeg", "gif", "webp"])
def test_a_data_url_image_costs_the_models_fixed_image_tokens(client, http, auth, mock,
                                                              model, url):
    per_image = mock.catalog.get(model).image_tokens
    text_only = prompt_tokens(client, model, ask())
    one, two = ask(image(url)), ask(image(url), image(PNG))
    assert prompt_tokens(client, model, one) - text_only == per_image
    assert prompt_tokens(client, model, two) - text_only == 2 * per_image
    assert prompt_tokens(client, model, one) == estimate(http, auth, model, one)


@pytest.mark.parametrize("model", VIDEO)
def test_a_video_costs_the_models_fixed_video_tokens(client, http, auth, mock, model):
    spec = mock.catalog.get(model)
    text_only = prompt_tokens(client, model, ask())
    both = ask(video(MP4), image(PNG))
    assert prompt_tokens(client, model, both) - text_only == spec.video_tokens + spec.image_tokens
    assert prompt_tokens(client, model, both) == estimate(http, auth, model, both)


def test_the_bare_string_image_url_form_is_accepted(client, http, auth):
    """The spec's `oneOf`: `image_url` may be the URL string itself (§14)."""
    bare = ask({"type": "image_url", "image_url": PNG})
    for model in ("kimi-k2.6", "moonshot-v1-8k-vision-preview"):
        assert prompt_tokens(client, model, bare) == prompt_tokens(client, model,
                                                                   ask(image(PNG)))
        assert prompt_tokens(client, model, bare) == estimate(http, auth, model, bare)


def test_an_image_url_object_with_detail_is_accepted(client, mock):
    detailed = ask({"type": "image_url", "image_url": {"url": PNG, "detail": "high"}})
    assert prompt_tokens(client, "kimi-k2.6", detailed) == prompt_tokens(
        client, "kimi-k2.6", ask()) + mock.catalog.get("kimi-k2.6").image_tokens


def test_images_past_the_context_window_are_the_real_400(client):
    """Eight 1024-token images and a question overflow moonshot-v1-8k-vision-preview."""
    error = refused(client, "moonshot-v1-8k-vision-preview", ask(*[image(PNG)] * 8))
    assert error == {"status": 400, "type": "invalid_request_error",
                     "message": "Invalid request: Your request exceeded model token limit: 8192"}


def test_images_work_async_and_over_a_socket(async_client, served_client):
    async def send():
        return await async_client.chat.completions.create(model="kimi-k2.6",
                                                          messages=ask(image(PNG)))

    assert asyncio.run(send()).choices[0].message.content
    reply = served_client.chat.completions.create(model="moonshot-v1-8k-vision-preview",
                                                  messages=ask(image(JPEG)))
    assert reply.choices[0].finish_reason == "stop"


def test_an_image_in_an_earlier_turn_still_costs_its_tokens(client, mock):
    history = [*ask(image(PNG)), {"role": "assistant", "content": "A green pixel."},
               {"role": "user", "content": "And its size?"}]
    plain = [*ask(), *history[1:]]
    cost = mock.catalog.get("kimi-k2.6").image_tokens
    assert prompt_tokens(client, "kimi-k2.6", history) - prompt_tokens(
        client, "kimi-k2.6", plain) == cost


# --- what the service refuses (§7.2, §14) --------------------------------------------------

@pytest.mark.parametrize("model", ["moonshot-v1-8k", "moonshot-v1-auto", "kimi-k2-0905-preview",
                                   "kimi-k2-thinking"])
def test_a_model_without_vision_refuses_images(client, model):
    error = refused(client, model, ask(image(PNG)))
    assert error["status"] == 400 and error["type"] == "invalid_request_error"
    assert error["message"].startswith("Invalid request: ") and model in error["message"]


@pytest.mark.parametrize("model", ["moonshot-v1-8k-vision-preview",
                                   "moonshot-v1-128k-vision-preview", "kimi-k2-0905-preview"])
def test_a_model_without_video_refuses_video(client, model):
    error = refused(client, model, ask(video(MP4)))
    assert error["status"] == 400 and error["type"] == "invalid_request_error"
    assert error["message"].startswith("Invalid request: ") and "video" in error["message"]


@pytest.mark.parametrize("model", ["kimi-k2.6", "moonshot-v1-8k-vision-preview"])
@pytest.mark.parametrize("url", ["https://example.com/cat.png", "http://example.com/cat.jpg"])
def test_an_http_image_url_is_refused(client, model, url):
    assert refused(client, model, ask(image(url))) == {
        "status": 400, "message": "Invalid request: unsupported image url",
        "type": "invalid_request_error"}


@pytest.mark.parametrize("model", ["kimi-k2.6", "moonshot-v1-8k-vision-preview"])
@pytest.mark.parametrize("url", [
    data_url("image/svg+xml", SVG),  # the real capture: vercel unsupported-svg-error.json
    data_url("image/png", b"hello, I am not a picture"),  # the sniffed type, not the declared
    data_url("text/plain", b"plain words")], ids=["svg", "text-as-png", "text"])
def test_a_non_image_payload_gets_the_captured_message(client, model, url):
    assert refused(client, model, ask(image(url))) == {
        "status": 400, "message": TEXT_PLAIN, "type": "invalid_request_error"}


def test_an_svg_with_an_xml_declaration_is_sniffed_as_xml(client):
    """Go's http.DetectContentType names `<?xml` text/xml, as the capture's sniffing does."""
    url = data_url("image/svg+xml", b'<?xml version="1.0"?>' + SVG)
    assert refused(client, "kimi-k2.6", ask(image(url)))["message"] == (
        "Invalid request: unsupported image format: text/xml; charset=utf-8")


def test_a_picture_declared_with_another_image_type_is_accepted(client, mock):
    mislabelled = data_url("image/png", base64.b64decode(JPEG.split(",", 1)[1]))
    assert prompt_tokens(client, "kimi-k2.6", ask(image(mislabelled))) == prompt_tokens(
        client, "kimi-k2.6", ask()) + mock.catalog.get("kimi-k2.6").image_tokens


@pytest.mark.parametrize(("kind", "url"), [("image", "ms://cu8missing0000000000"),
                                            ("video", "ms://cu8missing0000000001")])
def test_an_unknown_file_reference_is_not_found(client, kind, url):
    part = image(url) if kind == "image" else video(url)
    error = refused(client, "kimi-k2.6", ask(part))
    assert error["status"] == 404 and error["type"] == "resource_not_found_error"
    assert url.removeprefix("ms://") in error["message"]
