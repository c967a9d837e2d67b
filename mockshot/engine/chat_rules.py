"""The chat rules a JSON Schema cannot say, with the real service's messages.

Each check raises `APIError` (400 `invalid_request_error`) with the text Moonshot sends
where it is known (reference §4.1, §4.2, §6, §7.2) and a text in the same style where it
is not. They run after the schema check, so fields have the right types here.
"""

from __future__ import annotations

from ..errors import invalid_request
from ..schemagen import MFJSError, check_mfjs, mfjs_message
from .catalog import ModelSpec

__all__ = ["check_chat", "check_messages", "thinking_enabled"]

STOP_LIMIT_BYTES = 32
SAMPLING_FIELDS = ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty")
TOOL_LIMIT = 128


def thinking_enabled(body: dict, model: ModelSpec) -> bool:
    return model.thinks(body.get("thinking"))


def check_chat(body: dict, model: ModelSpec) -> None:
    """Every rule for a chat request to `model`, in the order the service applies them."""
    messages = body.get("messages")
    if not messages:
        raise invalid_request("messages must not be empty", pointer="/messages",
                              rule="messages_not_empty", expected="at least one message")
    thinking = thinking_enabled(body, model)
    _check_thinking(body, model)
    _check_sampling(body, model, thinking)
    _check_stop(body.get("stop"))
    _check_response_format(body.get("response_format"))
    _check_tools(body.get("tools"), body.get("tool_choice"), thinking)
    check_messages(messages, thinking and model.reasoning_required_in_tool_history)


def _check_thinking(body: dict, model: ModelSpec) -> None:
    thinking = body.get("thinking")
    if thinking is not None and body.get("reasoning_effort") is not None:
        raise invalid_request(
            "cannot specify both 'thinking' and 'reasoning_effort'", prefixed=False,
            pointer="/reasoning_effort", rule="thinking_or_reasoning_effort",
            expected="thinking or reasoning_effort, not both")
    if body.get("reasoning_effort") == "none" and model.thinking == "toggle":
        raise invalid_request(
            "invalid reasoning_effort: 'none' is not supported for this model; "
            "disable thinking with thinking: {\"type\": \"disabled\"}",
            prefixed=False, pointer="/reasoning_effort", rule="reasoning_effort_values",
            expected=["low", "medium", "high", "max"])
    if not isinstance(thinking, dict):
        return
    if model.thinking == "always" and thinking.get("type") == "disabled":
        raise invalid_request("invalid thinking: only type=enabled is allowed for this model",
                              prefixed=False, pointer="/thinking/type",
                              rule="thinking_always_on", expected="enabled")
    if thinking.get("keep") is not None and not model.supports_thinking_keep:
        raise invalid_request(f"thinking.keep is not supported by model {model.id}",
                              pointer="/thinking/keep", rule="thinking_keep_support",
                              expected=None)


def _fmt(value: float) -> str:
    return f"{value:g}"


def _check_sampling(body: dict, model: ModelSpec, thinking: bool) -> None:
    fixed = model.fixed_sampling
    if fixed:
        for name in SAMPLING_FIELDS:
            if body.get(name) is None:
                continue
            expected = fixed.get(name)
            if name == "temperature" and not thinking:
                expected = fixed.get("temperature_without_thinking", expected)
            if expected is not None and body[name] != expected:
                raise invalid_request(
                    f"invalid {name}: only {_fmt(expected)} is allowed for this model",
                    prefixed=False, pointer=f"/{name}", rule="fixed_sampling",
                    expected=expected)
    temperature, n = body.get("temperature"), body.get("n")
    if n is not None and n > 1 and temperature is not None and temperature < 0.001:
        raise invalid_request(
            "when temperature is close to 0 (below 0.001), only 1 result can be returned; "
            "set n to 1 or raise the temperature", pointer="/n",
            rule="n_needs_temperature", expected=1)


def _check_schema(schema: object, where: str) -> None:
    try:
        check_mfjs(schema, where)
    except MFJSError as exc:
        raise invalid_request(mfjs_message(exc), pointer="/" + where.replace(".", "/")
                              .replace("[", "/").replace("]", ""),
                              rule="moonshot_flavoured_json_schema") from None


def _check_response_format(response_format: dict | None) -> None:
    if not response_format or response_format.get("type") != "json_schema":
        return
    schema = (response_format.get("json_schema") or {}).get("schema")
    if schema is None:
        raise invalid_request("response_format.json_schema with a schema is required when "
                              "response_format.type is json_schema",
                              pointer="/response_format/json_schema/schema",
                              rule="json_schema_required", expected="a JSON Schema")
    _check_schema(schema, "response_format.json_schema")


def _check_stop(stop: object) -> None:
    for word in [stop] if isinstance(stop, str) else stop or ():
        if len(word.encode()) > STOP_LIMIT_BYTES:
            raise invalid_request(
                f"stop sequence {word[:40]!r} is {len(word.encode())} bytes; "
                f"each stop sequence must not exceed {STOP_LIMIT_BYTES} bytes",
                pointer="/stop", rule="stop_length", expected=STOP_LIMIT_BYTES)


def _check_tools(tools: list | None, tool_choice: object, thinking: bool) -> None:
    names: set[str] = set()
    for index, tool in enumerate(tools or ()):
        name = tool["function"]["name"]
        if name in names:
            raise invalid_request(f"function name {name} is duplicated",
                                  pointer=f"/tools/{index}/function/name",
                                  rule="unique_function_names", expected="a new name")
        names.add(name)
        if tool.get("type") == "function":
            _check_schema(tool["function"].get("parameters"),
                          f"tools[{index}].function.parameters")
    if tool_choice in (None, "auto", "none"):
        return
    kind = "required" if tool_choice == "required" else "specified"
    if thinking:
        raise invalid_request(f"tool_choice '{kind}' is incompatible with thinking enabled",
                              prefixed=False, pointer="/tool_choice",
                              rule="tool_choice_with_thinking", expected=["auto", "none"])
    if not names:
        raise invalid_request(f"tool_choice '{kind}' needs tools, but the request has none",
                              pointer="/tool_choice", rule="tool_choice_needs_tools",
                              expected="tools")
    if isinstance(tool_choice, dict):
        wanted = tool_choice["function"]["name"]
        if wanted not in names:
            raise invalid_request(f"tool_choice names function {wanted}, which is not in "
                                  "tools", pointer="/tool_choice/function/name",
                                  rule="tool_choice_known_function", expected=sorted(names))


def _empty(content: object) -> bool:
    if content is None:
        return True
    if isinstance(content, str):
        return content == ""
    return len(content) == 0


def check_messages(messages: list[dict], reasoning_required: bool) -> None:
    """Message order: non-empty assistants, tool results pairing with tool calls."""
    pending: dict[str, int] = {}  # tool_call_id → index of the assistant that made it
    last = len(messages) - 1
    for index, message in enumerate(messages):
        role = message["role"]
        if role != "tool" and pending:
            _unanswered(pending)
        if role == "assistant":
            _check_assistant(message, index, index == last, reasoning_required)
            pending = {call["id"]: index for call in message.get("tool_calls") or ()}
        elif role == "user" and _empty(message.get("content")):
            raise invalid_request(f"the message at position {index} with role 'user' "
                                  "must not be empty", pointer=f"/messages/{index}/content",
                                  rule="user_not_empty", expected="non-empty content")
        elif role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in pending:
                raise invalid_request(
                    f"the message at position {index} with role 'tool' answers tool_call_id "
                    f"{call_id!r}, which is not found in the tool calls of the assistant "
                    "message before it", pointer=f"/messages/{index}/tool_call_id",
                    rule="tool_result_pairs", expected=sorted(pending))
            del pending[call_id]
    if pending:
        _unanswered(pending)


def _check_assistant(message: dict, index: int, is_last: bool, reasoning_required: bool) -> None:
    calls = message.get("tool_calls")
    partial_with_name = is_last and message.get("partial") and message.get("name")
    if not calls and _empty(message.get("content")) and not partial_with_name:
        raise invalid_request(
            f"the message at position {index} with role 'assistant' must not be empty",
            pointer=f"/messages/{index}", rule="assistant_not_empty",
            expected="content or tool_calls")
    if calls and reasoning_required and message.get("reasoning_content") is None:
        raise invalid_request(
            "thinking is enabled but reasoning_content is missing in assistant tool call "
            f"message at index {index}",
            prefixed=False, pointer=f"/messages/{index}/reasoning_content",
            rule="reasoning_in_tool_history", expected="reasoning_content")


def _unanswered(pending: dict[str, int]) -> None:
    index = min(pending.values())
    ids = ", ".join(sorted(pending, key=pending.get))
    raise invalid_request(
        f"the assistant message at position {index} has tool_calls without response "
        f"messages: {ids}; each tool_call_id must be answered by a message with role 'tool'",
        pointer=f"/messages/{index}/tool_calls", rule="tool_calls_answered",
        expected=sorted(pending))
