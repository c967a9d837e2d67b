"""Reading a scenario document's YAML text, with no way to make reading itself explode.

PyYAML composes nested collections recursively (`rules: 5000[` overflows Python's stack)
and shares an aliased node wherever it is used, so ~700 bytes of nested anchors (a
"billion laughs") stand for ~10^9 values: nothing that walks the document afterwards,
the checks included, would finish. Here composing stops past `MAX_DEPTH` levels, and the
composed node graph is measured, each alias counted every time it is used, before any
value is built: past `MAX_DOCUMENT_VALUES` it is refused, and an alias inside its own
anchor (a cycle) too. Every refusal is a `yaml.MarkedYAMLError`, so callers report it
with its line like any other YAML mistake. Files and the control API both read here.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..limits import MAX_DEPTH, MAX_DOCUMENT_VALUES

__all__ = ["parse_yaml"]


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing to compose deeper than `MAX_DEPTH` levels."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(
                    problem=f"the document nests more than {MAX_DEPTH} levels deep",
                    problem_mark=self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """The document in `text` and its node tree (for line numbers); None for an empty one.
    Raises `yaml.YAMLError` for text that is not YAML or that reading would blow up."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_size(node)
        return loader.construct_document(node), node
    finally:
        loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_size(root: yaml.Node) -> None:
    """Count the values the document stands for (an aliased node once per use, each node
    measured once), without recursion; refuse too many, or an alias inside itself."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, measured = stack.pop()
        key = id(node)
        if measured:
            open_nodes.discard(key)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            sizes[key] = min(total, MAX_DOCUMENT_VALUES + 1)
        elif key in open_nodes:
            raise yaml.MarkedYAMLError(problem="an alias is used inside its own anchor",
                                       problem_mark=node.start_mark)
        elif key not in sizes:
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    if sizes[id(root)] > MAX_DOCUMENT_VALUES:
        raise yaml.MarkedYAMLError(
            problem=f"the document stands for more than {MAX_DOCUMENT_VALUES} values (each "
                    "use of an alias counts); split it or use fewer aliases",
            problem_mark=root.start_mark)
