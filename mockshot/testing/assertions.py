"""Assertions on what the client sent, each failing with what it did send instead."""

from __future__ import annotations

from collections.abc import Iterable

from ..calls import Call, CallList

__all__ = ["assert_called_with_tools", "assert_not_called", "assert_streamed"]


def _chats(calls: Iterable[Call]) -> CallList:
    return CallList(calls).filter(operation="chat")


def assert_called_with_tools(calls: Iterable[Call], *names: str) -> Call:
    """Some chat call offered every tool in `names`; that call (the latest such)."""
    chats = _chats(calls)
    for call in reversed(chats):
        if set(names) <= set(call.request.tool_names):
            return call
    offered = [call.request.tool_names for call in chats]
    raise AssertionError(f"no chat call offered tools {sorted(names)}; the {len(chats)} chat "
                         f"call(s) offered {offered}")


def assert_streamed(calls: Iterable[Call]) -> None:
    """Every chat call asked for a stream (a client that must stream did)."""
    flat = [call for call in _chats(calls) if not call.request.stream]
    if not _chats(calls):
        raise AssertionError("no chat call was made")
    if flat:
        raise AssertionError(f"{len(flat)} chat call(s) did not stream: {flat}")


def assert_not_called(calls: Iterable[Call], **where: str) -> None:
    """No call matched `where` (operation=, model=, ...)."""
    found = CallList(calls).filter(**where)
    if found:
        raise AssertionError(f"expected no call matching {where}, got {list(found)}")
