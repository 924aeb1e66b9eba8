"""The one way blocsim reads a YAML file (scenario, strategy, experiment, every ``extends`` parent).

Input files come from users and classrooms, so the reader bounds everything a file can drive:

* only a regular file (not a folder, device or FIFO) of at most ``MAX_YAML_BYTES``: checked with
  ``stat`` first, then at most limit + 1 bytes are read;
* UTF-8 text (a leading byte-order mark is allowed);
* plain YAML only: mappings, lists and the scalars str, int, float, bool and null. No anchors or
  aliases (they make a 250-byte file expand to gigabytes), no tags beyond the standard
  ``!!str``/``!!int``/``!!float``/``!!bool``/``!!null``/``!!map``/``!!seq``, no duplicate keys,
  no nesting deeper than ``MAX_DEPTH``, no number longer than ``MAX_NUMBER_CHARS``; an unquoted
  date stays a string;
* one document per file.

The value is built from PyYAML's event stream without recursion, and every mistake is one
``ScenarioError`` naming the file and line. ``read_bounded`` is the size and file-type check
alone, in ``base.files``. Imports base only (and PyYAML).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode

from ..base.errors import ScenarioError
from ..base.files import read_bounded

MAX_YAML_BYTES = 1 << 20  # 1 MiB: the largest shipped file is a few KB
MAX_DEPTH = 64  # nested mappings and lists
MAX_NUMBER_CHARS = 100  # an int or float written with more characters is refused before int()



LineMap = dict[tuple, int]



_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null")}
_KIND = {_TAG + "int": "an integer", _TAG + "float": "a number", _TAG + "bool": "true or false",
         _TAG + "null": "null"}



def _decode(data: bytes, label: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as "
                            f"UTF-8", file=label, line=line) from None



class _Loader(yaml.SafeLoader):
    """The safe loader's scanner, parser and resolver, without implicit timestamps."""

    def fetch_flow_collection_start(self, TokenClass):  # noqa: N803 - PyYAML's signature
        # The scanner reads ahead through every '[' or '{' (each may start a key), quadratically:
        # stop it at the depth limit instead of after the whole file.
        if self.flow_level >= MAX_DEPTH:
            raise ScenarioError(f"nested more than {MAX_DEPTH} levels deep ('[' or '{{')",
                                file=self.name, line=self.line + 1)
        super().fetch_flow_collection_start(TokenClass)



_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != _TAG + "timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}



def _syntax_error(exc: yaml.YAMLError, label: str, text: str) -> ScenarioError:
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        return ScenarioError(f"character {ord(char):#06x} is not allowed in a YAML file",
                             file=label, line=line)
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context, cmark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and cmark and mark and cmark.line != mark.line:
        problem += f" ({context} started on line {cmark.line + 1})"
    return ScenarioError(f"YAML syntax error: {problem}", file=label,
                         line=mark.line + 1 if mark else None)



def _scalar(loader: _Loader, event: ScalarEvent, label: str, path: tuple):
    """The Python value of a plain scalar: str, int, float, bool or None."""
    line = event.start_mark.line + 1
    where = {"file": label, "line": line, "path": ".".join(map(str, path)) or None}
    tag = event.tag
    if tag in (None, "!"):
        tag = loader.resolve(ScalarNode, event.value, event.implicit)
    if tag not in _SCALAR_TAGS:
        shown = tag.replace(_TAG, "!!") if tag else "?"
        if tag in (_TAG + "merge", _TAG + "value", _TAG + "timestamp") and event.tag in (None, "!"):
            tag = _TAG + "str"  # '<<' and '=' are plain strings here
        else:
            raise ScenarioError(f"YAML tag not allowed ({shown}); plain YAML only: text, "
                                f"numbers, true/false, null, mappings and lists",
                                **where)
    value = event.value
    if tag == _TAG + "str":
        return value
    if tag in (_TAG + "int", _TAG + "float") and len(value) > MAX_NUMBER_CHARS:
        raise ScenarioError(f"number too long ({len(value)} characters; at most "
                            f"{MAX_NUMBER_CHARS})", **where)
    # An explicit tag must still fit its type: '!!int abc' is a mistake, not a crash.
    if event.tag not in (None, "!") and loader.resolve(ScalarNode, value, (True, False)) != tag:
        raise ScenarioError(f"{value!r} is not {_KIND[tag]} (tag {tag.replace(_TAG, '!!')})",
                            **where)
    node = ScalarNode(tag, value, event.start_mark, event.end_mark)
    try:
        return SafeConstructor.yaml_constructors[tag](loader, node)
    except (ConstructorError, ValueError, OverflowError):
        raise ScenarioError(f"{value!r} is not {_KIND[tag]}", **where) from None



def _build(loader: _Loader, label: str) -> tuple[object, LineMap]:
    """Build one document's value from the event stream, iteratively, with each path's line."""
    lines: LineMap = {}
    root: list = []
    # Each open container: [value, path, pending key or _NO_KEY, {key: line} for mappings]
    stack: list[list] = [[root, (), None, _ROOT]]
    no_key = object()
    docs = 0
    while not loader.check_event(StreamEndEvent):
        event = loader.get_event()
        line = event.start_mark.line + 1
        if isinstance(event, DocumentStartEvent):
            docs += 1
            if docs > 1:
                raise ScenarioError("more than one YAML document ('---'); one per file",
                                    file=label, line=line)
            continue
        top = stack[-1]
        pending_key = isinstance(top[0], dict) and top[2] is no_key
        here = ".".join(map(str, top[1] if pending_key else _child_path(top))) or None
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            raise ScenarioError("YAML anchors and aliases (& and *) are not allowed; write the "
                                "values out", file=label, path=here, line=line)
        if isinstance(event, (MappingEndEvent, SequenceEndEvent)):
            value, path, _, _ = stack.pop()
            item = value
        elif isinstance(event, (MappingStartEvent, SequenceStartEvent)):
            if event.tag not in (None, "!", _TAG + "map", _TAG + "seq"):
                raise ScenarioError(f"YAML tag not allowed ({event.tag.replace(_TAG, '!!')}); "
                                    f"plain YAML only: text, numbers, true/false, null, mappings "
                                    f"and lists", file=label, path=here, line=line)
            if len(stack) > MAX_DEPTH:  # name the top-level field, not 64 list indices
                raise ScenarioError(f"nested more than {MAX_DEPTH} levels deep", file=label,
                                    path=next((str(e[1][0]) for e in stack if e[1]), None), line=line)
            parent = top
            if pending_key:
                raise ScenarioError("a mapping key must be a plain value, not a mapping or list",
                                    file=label, path=here, line=line)
            path = _child_path(parent)
            lines.setdefault(path, line)
            is_map = isinstance(event, MappingStartEvent)
            stack.append([{} if is_map else [], path, no_key, {} if is_map else None])
            continue
        elif isinstance(event, ScalarEvent):
            parent = stack[-1]
            is_key = isinstance(parent[0], dict) and parent[2] is no_key
            item = _scalar(loader, event, label, parent[1] if is_key else _child_path(parent))
            if is_key:
                if not isinstance(item, str):  # null, true/false or a number: fields are named
                    kind = ("null" if item is None else "true or false" if isinstance(item, bool)
                            else "a number")
                    raise ScenarioError(f"a key must be text, not {kind} ({event.value!r}); put "
                                        f"it in quotes if you mean the text", file=label,
                                        path=".".join(map(str, parent[1])) or None, line=line)
                if item in parent[3]:
                    raise ScenarioError(f"duplicate key '{item}' (first on line {parent[3][item]})",
                                        file=label, path=".".join(map(str, parent[1] + (item,))),
                                        line=line)
                parent[3][item] = line
                parent[2] = item
                lines[parent[1] + (item,)] = line
                continue
            lines.setdefault(_child_path(parent), line)
        else:  # stream start, document end
            continue
        parent = stack[-1]
        if isinstance(parent[0], dict):
            parent[0][parent[2]] = item
            parent[2] = no_key
        else:
            parent[0].append(item)
    return (root[0] if root else None), lines



def _child_path(parent: list) -> tuple:
    value, path, key, keys = parent
    if keys is _ROOT:
        return ()
    return path + (key,) if isinstance(value, dict) else path + (len(value),)



_ROOT = object()



def parse_yaml(text: str, label: str) -> tuple[object, LineMap]:
    """Parse YAML text under the rules above; the value and the line of every field path."""
    loader = None
    try:
        loader = _Loader(text)
        loader.name = label
        return _build(loader, label)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, label, text) from None
    except RecursionError:  # not expected (the build is iterative); still one line
        raise ScenarioError(f"nested more than {MAX_DEPTH} levels deep", file=label) from None
    finally:
        if loader is not None:
            loader.dispose()



def read_yaml(path: Path, *, limit: int = MAX_YAML_BYTES) -> tuple[dict, LineMap]:
    """Read a YAML mapping safely, with the line of every field; errors name the file."""
    label = str(path)
    text = _decode(read_bounded(Path(path), limit, what="file"), label)
    data, lines = parse_yaml(text, label)
    if data is None:
        raise ScenarioError("file is empty", file=label)
    if not isinstance(data, dict):
        raise ScenarioError(f"top level must be a mapping of fields, not a {type(data).__name__}",
                            file=label, line=1)
    return data, lines
