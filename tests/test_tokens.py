"""The token counter behind usage, estimate-token-count, context checks and billing.

`ApproxTokenizer` follows the splits of Kimi's pre-tokenizer (mockshot/tokens.py): a Han /
kana / hangul character is 1 token, a word of up to 8 letters (with its leading space) 1,
longer words 1 per 8 letters, a digit group of up to 3 1, a punctuation run 1 per 2
characters, a whitespace run no word claimed 1. `pieces()` splits text into one-token
pieces that join back to the text; the engine builds replies from such pieces (textgen),
so a budget cut or a stream chunk never needs a second tokenizer pass.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import random

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mockshot import Settings, create_app, http_client
from mockshot.engine.catalog import load_catalog
from mockshot.engine.textgen import json_object_text, paragraph, words
from mockshot.engine.tokens import ApproxTokenizer, PromptCost, TiktokenTokenizer, load_tokenizer
from mockshot.mock import Mock

TOKENS = ApproxTokenizer()
TEXT = st.text(st.characters(codec="utf-8"), max_size=200)
MIXED = st.text(
    alphabet="你好世界かなカ한국 abcdefghijklmnopqrstuvwxyz ABC 0123456789 ,.!?_-'\"\n\t",
    max_size=200,
)
PROPERTY = settings(max_examples=100, deadline=None)


# --- the approximate tokenizer's rules ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens", "pieces"),
    [
        # Han, kana and hangul: one token a character
        ("你好世界", 4, ["你", "好", "世", "界"]),
        ("かなカナ", 4, ["か", "な", "カ", "ナ"]),
        ("한국어", 3, ["한", "국", "어"]),
        # short words, with their leading space
        ("hello", 1, ["hello"]),
        (" hello", 1, [" hello"]),
        ("hello world", 2, ["hello", " world"]),
        ("Résumé", 1, ["Résumé"]),
        # long words: one token per 8 letters
        ("abcdefgh", 1, ["abcdefgh"]),
        ("abcdefghi", 2, ["abcdefgh", "i"]),
        ("abcdefghijklmnop", 2, ["abcdefgh", "ijklmnop"]),
        ("abcdefghijklmnopq", 3, ["abcdefgh", "ijklmnop", "q"]),
        ("internationalization", 3, ["internat", "ionaliza", "tion"]),
        (" abcdefghi", 2, [" abcdefgh", "i"]),
        # digits in groups of up to three
        ("123", 1, ["123"]),
        ("2026", 2, ["202", "6"]),
        ("1234567", 3, ["123", "456", "7"]),
        # punctuation runs: one token per two characters (a leading space rides along)
        ("!", 1, ["!"]),
        ("!!", 1, ["!!"]),
        ("!!!", 2, ["!!", "!"]),
        ("?!?!", 2, ["?!", "?!"]),
        (" !", 1, [" !"]),
        # whitespace no word claimed
        ("  ", 1, ["  "]),
        ("\n\n", 1, ["\n\n"]),
        ("a, b", 3, ["a", ",", " b"]),
        ("Hello, 世界! 12345", 9, ["Hello", ",", " ", "世", "界", "!", " ", "123", "45"]),
    ],
)
def test_approx_rules(text, tokens, pieces):
    assert TOKENS.count(text) == tokens
    assert TOKENS.pieces(text) == pieces


def test_an_eight_letter_word_with_its_leading_space_is_one_token():
    """"a word of up to 8 letters 1": the leading space is not a letter. textgen relies on
    it (its vocabulary is words of at most 8 letters, each emitted as one piece)."""
    assert TOKENS.pieces(" national") == [" national"]
    assert TOKENS.count(" national") == 1
    assert TOKENS.count("national") == 1
    # 16 letters after a space: two tokens, as the two pieces say
    assert TOKENS.pieces(" abcdefghijklmnop") == [" abcdefgh", "ijklmnop"]
    assert TOKENS.count(" abcdefghijklmnop") == 2


def test_underscore_is_counted_and_kept_in_pieces():
    """`_` is neither a letter, a digit nor whitespace: a punctuation run, like Kimi's own
    pre-tokenizer treats it (` ?[^\\s\\p{L}\\p{N}]+`). It must cost a token and survive
    `pieces()` (tool-call arguments are cut through pieces)."""
    assert TOKENS.count("_") == 1
    assert TOKENS.count("snake_case") == 3
    assert "".join(TOKENS.pieces("snake_case")) == "snake_case"
    assert "".join(TOKENS.pieces('{"city_name": "Paris"}')) == '{"city_name": "Paris"}'


def test_empty_text_is_no_tokens():
    assert TOKENS.count("") == 0
    assert TOKENS.pieces("") == []


def test_load_tokenizer_without_a_model_file_is_approximate():
    assert isinstance(load_tokenizer(None), ApproxTokenizer)


# --- pieces() invariants ------------------------------------------------------------------


@PROPERTY
@given(text=TEXT | MIXED)
@example(text="snake_case")
def test_pieces_join_back_to_the_text(text):
    pieces = TOKENS.pieces(text)
    assert "".join(pieces) == text
    assert all(pieces)


@PROPERTY
@given(text=TEXT | MIXED)
def test_pieces_counts_add_up_to_the_count_of_the_text(text):
    assert sum(TOKENS.count(piece) for piece in TOKENS.pieces(text)) == TOKENS.count(text)


@PROPERTY
@given(text=TEXT | MIXED)
@example(text=" national")
@example(text="Some international travellers")
def test_every_prefix_of_pieces_counts_as_that_many_tokens(text):
    """The approximate tokenizer's pieces are exactly one token each, so the first k pieces
    joined are k tokens: what lets the engine cut a reply to a budget by counting pieces."""
    pieces = TOKENS.pieces(text)
    for k in range(len(pieces) + 1):
        assert TOKENS.count("".join(pieces[:k])) == k, (pieces, k)


# --- textgen: the engine's pieces are one token each --------------------------------------


def test_textgen_vocabulary_is_short_words():
    vocab = words()
    assert len(vocab) > 100
    assert all(w.isalpha() and w.isascii() and 1 <= len(w) <= 8 for w in vocab)


@pytest.mark.parametrize("seed", range(20))
def test_textgen_paragraph_pieces_are_one_token_each(seed):
    pieces = paragraph(random.Random(seed), 120)
    assert len(pieces) >= 120
    assert not pieces[0].startswith(" ")
    wrong = [p for p in pieces if TOKENS.count(p) != 1]
    assert wrong == [], f"pieces not counted as one token: {wrong[:10]}"
    assert TOKENS.count("".join(pieces)) == len(pieces)
    assert TOKENS.pieces("".join(pieces)) == pieces


def test_textgen_continuation_opens_with_a_space():
    pieces = paragraph(random.Random(3), 5, first=False)
    assert pieces[0].startswith(" ")


@pytest.mark.parametrize("seed", range(10))
def test_textgen_json_object_round_trips_through_pieces(seed):
    text = json_object_text(random.Random(seed))
    assert isinstance(json.loads(text), dict)
    pieces = TOKENS.pieces(text)
    assert "".join(pieces) == text
    assert len(pieces) == TOKENS.count(text)


def test_textgen_is_seeded():
    assert paragraph(random.Random(7), 40) == paragraph(random.Random(7), 40)
    assert paragraph(random.Random(7), 40) != paragraph(random.Random(8), 40)


# --- PromptCost: the chat template's overhead, images, tools --------------------------------

COST = PromptCost(TOKENS, image_tokens=1000, video_tokens=2000)


def test_prompt_overhead_per_message_and_reply_primer():
    assert COST.messages([]) == 3  # <|im_assistant|> assistant <|im_middle|>
    one = [{"role": "user", "content": "Hello"}]
    assert COST.messages(one) == 3 + 4 + 1
    two = [*one, {"role": "assistant", "content": "Hi there"}]
    assert COST.messages(two) - COST.messages(one) == 4 + 2


def test_prompt_counts_names_and_text_parts():
    assert COST.message({"role": "user", "content": "Hello", "name": "bob"}, False) == 2
    parts = [{"type": "text", "text": "Hello"}, {"type": "text", "text": " world"}]
    assert COST.message({"role": "user", "content": parts}, False) == 2


def test_prompt_images_and_videos_cost_the_models_fixed_amounts():
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "image_url", "image_url": "data:image/png;base64,AAAA"},
        {"type": "video_url", "video_url": {"url": "data:video/mp4;base64,AAAA"}},
    ]
    assert COST.content(content) == 4 + 1000 + 1000 + 2000
    assert COST.messages([{"role": "user", "content": content}]) == 3 + 4 + 4 + 4000


def test_prompt_reasoning_counts_only_when_kept():
    message = {"role": "assistant", "content": "Yes", "reasoning_content": "Let me think"}
    assert COST.message(message, keep_reasoning=False) == 1
    assert COST.message(message, keep_reasoning=True) == 1 + 3


def test_prompt_tool_calls_and_tools():
    call = {"id": "get_weather_0", "type": "function",
            "function": {"name": "get", "arguments": '{"city": "Paris"}'}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    assert COST.message(message, False) == 2 + 1 + TOKENS.count('{"city": "Paris"}')
    tools = [{"type": "function", "function": {"name": "get", "parameters": {"type": "object"}}}]
    assert COST.tools(None) == COST.tools([]) == 0
    assert COST.tools(tools) == TOKENS.count(orjson.dumps(tools).decode()) + 2


def test_moonshot_v1_vision_image_costs_1024_tokens():
    """Reference §13: a moonshot-v1 vision image is a fixed 1024 tokens."""
    mock = Mock(Settings(clock="virtual"))
    model = load_catalog().get("moonshot-v1-8k-vision-preview")
    assert mock.prompt_cost(model).image_tokens == 1024


@PROPERTY
@given(conversation=st.lists(
    st.fixed_dictionaries({"role": st.sampled_from(["system", "user", "assistant"]),
                           "content": TEXT | MIXED}),
    max_size=6))
def test_prompt_cost_is_overhead_plus_text(conversation):
    expected = 3 + sum(4 + TOKENS.count(m["content"]) for m in conversation)
    assert COST.messages(conversation) == expected


# --- TiktokenTokenizer ---------------------------------------------------------------------

HAS_TIKTOKEN = importlib.util.find_spec("tiktoken") is not None
MERGES = [b"ab", b"th", b"the"]


def synthetic_bpe(path) -> None:
    """A tiny BPE in tiktoken's `tiktoken.model` format: `<base64 token> <rank>` per line,
    every single byte 0..255, then a few merges."""
    tokens = [bytes([i]) for i in range(256)] + MERGES
    lines = [f"{base64.b64encode(t).decode()} {rank}" for rank, t in enumerate(tokens)]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


def test_tiktoken_tokenizer_counts_and_pieces_or_explains_the_missing_package(tmp_path):
    model_file = tmp_path / "tiktoken.model"
    synthetic_bpe(model_file)
    if not HAS_TIKTOKEN:
        with pytest.raises(RuntimeError, match="pip install tiktoken"):
            TiktokenTokenizer(model_file)
        with pytest.raises(RuntimeError, match="tiktoken"):
            load_tokenizer(str(model_file))
        with pytest.raises(RuntimeError, match="tiktoken"):
            Mock(Settings(clock="virtual", tokenizer_model=str(model_file)))
        return

    tokenizer = load_tokenizer(str(model_file))
    assert isinstance(tokenizer, TiktokenTokenizer)
    # only single bytes and three merges: a token is a byte unless a merge applies
    assert tokenizer.count("") == 0
    assert tokenizer.count("xyz") == 3
    assert tokenizer.count("ab") == 1
    assert tokenizer.count("the") == 1
    assert tokenizer.count("abc") == 2
    assert tokenizer.count("你") == 3  # three UTF-8 bytes, no merges
    expected = {"Hello, world!": 13, "the cat": 5, "你好\uff0c世界": 15, "emoji 🚀 ok": 13,
                "abab the 123": 8, "snake_case": 10, "": 0}
    for text, tokens in expected.items():
        assert tokenizer.count(text) == tokens, text
        pieces = tokenizer.pieces(text)
        assert "".join(pieces) == text
        # bytes are held back until they decode: no piece splits a character
        assert all(pieces)
    assert tokenizer.pieces("你好") == ["你", "好"]
    assert tokenizer.pieces("ab") == ["ab"]

    # the whole road with the exact tokenizer: estimate == prompt tokens, budget honoured
    app = create_app(Settings(clock="virtual", tokenizer_model=str(model_file)))
    with http_client(app) as client:
        headers = {"Authorization": "Bearer sk-tik"}
        body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "the ab 你好"}]}
        estimate = client.post("/v1/tokenizers/estimate-token-count", headers=headers,
                               json=body)
        chat = client.post("/v1/chat/completions", headers=headers,
                           json={**body, "max_completion_tokens": 40})
        assert estimate.status_code == chat.status_code == 200, chat.text
        usage = chat.json()["usage"]
        assert estimate.json()["data"]["total_tokens"] == usage["prompt_tokens"]
        assert usage["completion_tokens"] <= 40

