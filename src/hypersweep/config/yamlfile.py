"""Reading a sweep YAML file with the line of every key, and ``--set`` overrides.

Errors in a sweep file must name the line, so the file is composed into PyYAML nodes first
(each node carries ``start_mark.line``) and the values are built from those nodes, keeping a
map from every dotted path to its 1-based line.

PyYAML follows YAML 1.1, where ``1e-5`` (no dot) is a *string*. Users write it as a number,
so :class:`SweepLoader` also resolves YAML 1.2 floats (``1e-5``, ``2E3``).

Examples
--------
>>> doc = parse_yaml("limits:\\n  max_total_trials: 4\\nlr: 1e-5\\n", "sweep.yml")
>>> doc.data["lr"], doc.line(("limits", "max_total_trials"))
(1e-05, 2)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from hypersweep.errors import ConfigError
from hypersweep.space.values import describe

Path_ = tuple[Any, ...]  # a key path: ("search_space", "lr", "min_value")


#: Deeper nesting is no sweep file; bounding it keeps the recursive walks far from Python's
#: recursion limit (1,000 nested ``[`` used to raise ``RecursionError``).
MAX_DEPTH = 100
#: Values a document may expand to, aliases expanded. Sweep files have hundreds; the bound
#: refuses "billion laughs" alias bombs (1.9 KB of YAML that expands to 10**9 values) while
#: PyYAML still shares the aliased nodes, before anything is built or walked.
MAX_VALUES = 100_000


class SweepLoader(yaml.SafeLoader):
    """SafeLoader that reads ``1e-5``-style floats as numbers (YAML 1.2), within bounds.

    Composing counts the values each node expands to (an alias counts all the values of
    the node it names), and refuses a document nested deeper than `MAX_DEPTH`, one that
    expands beyond `MAX_VALUES`, and an alias inside its own anchor (``&a [*a]``), which
    would make every walk of the document endless. Each is a ``ComposerError`` with the
    line where it happens.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._total = 0  # values so far, aliases expanded
        self._aliased = False
        # id(node) -> the number of values it expands to; a node is in it once composed.
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            size = self._sizes.get(id(node))
            if size is None:  # the anchored node is still being composed
                raise yaml.composer.ComposerError(
                    None, None, f"recursive alias *{event.anchor} (an alias inside its own "
                    "anchor)", mark)
            self._aliased = True
            self._count(size, mark)
            return node
        if self._depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} "
                                              "levels", mark)
        self._depth += 1
        try:
            self._count(1, mark)
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = []
        self._sizes[id(node)] = 1 + sum(self._sizes[id(child)] for child in children)
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # Scalars PyYAML cannot build raise plain Python errors: an integer of more than
        # 4,300 digits (ValueError, Python's own limit), a 30th of February (ValueError).
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as err:
            kind = node.tag.rsplit(":", 1)[-1]
            digits = sum(c.isdigit() for c in str(node.value))
            problem = (f"an integer of {digits} digits is too large" if kind == "int"
                       and digits > 4000 else f"cannot read {describe(node.value)} as {kind} "
                       f"({err})")
            raise yaml.constructor.ConstructorError(None, None, problem,
                                                    node.start_mark) from None

    def fetch_flow_sequence_start(self) -> None:
        self._check_flow_level()
        super().fetch_flow_sequence_start()

    def fetch_flow_mapping_start(self) -> None:
        self._check_flow_level()
        super().fetch_flow_mapping_start()

    def _check_flow_level(self) -> None:
        # The scanner looks back over every open bracket at each token, so deep flow nesting
        # costs quadratic time before the composer sees it: stop it here.
        if self.flow_level >= MAX_DEPTH:
            raise yaml.scanner.ScannerError(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                            self.get_mark())

    def _count(self, values: int, mark: yaml.Mark) -> None:
        self._total += values
        if self._total > MAX_VALUES:
            problem = (f"aliases expand the document beyond {MAX_VALUES} values (an alias bomb?)"
                       if self._aliased else f"the document has more than {MAX_VALUES} values")
            raise yaml.composer.ComposerError(None, None, problem, mark)


SweepLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


class SweepFileError(ConfigError):
    """A problem in a sweep file, located: ``file:line: path: what is wrong``.

    Attributes ``file``, ``line`` (1-based, or None) and ``key`` (dotted path or None).
    """

    def __init__(self, message: str, file: str, line: int | None = None,
                 key: str | None = None, from_set: bool = False) -> None:
        where = f"{file}:{line}" if line is not None else file
        suffix = " (from --set)" if from_set else ""
        super().__init__(f"{where}: {message}{suffix}")
        self.file = file
        self.line = line
        self.key = key


def dotted(path: Iterable[Any]) -> str:
    """``("a", "b", 0, "c")`` as ``a.b[0].c``; a key over 60 characters is shortened."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part) if len(str(part)) <= 60 else str(part)[:57] + "..."
            out += f".{text}" if out else text
    return out


@dataclass
class YamlDocument:
    """A parsed sweep file: its data, where each key is, and which keys ``--set`` changed."""

    data: Any
    file: str
    lines: dict[Path_, int] = field(default_factory=dict)
    overridden: set[Path_] = field(default_factory=set)

    def line(self, path: Path_) -> int | None:
        """Line of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def is_overridden(self, path: Path_) -> bool:
        return any(path[:end] in self.overridden for end in range(len(path), 0, -1))

    def error(self, path: Path_, message: str) -> SweepFileError:
        """A located error; ``message`` is prefixed with the dotted path unless it is empty."""
        key = dotted(path)
        text = f"{key}: {message}" if key else message
        overridden = self.is_overridden(path)
        line = None if overridden else self.line(path)
        return SweepFileError(text, self.file, line, key or None, from_set=overridden)

    def located(self, path: Path_, err: ConfigError) -> SweepFileError:
        """Re-raise a delegate's `ConfigError` with this file's location.

        Delegates start their messages with the name of what they validate (``lr: ...``,
        ``sampling_algorithm.seed ...``); the longest key path found at the start of the
        message locates the error more precisely than ``path`` alone.
        """
        message = str(err)
        head = re.match(r"^([A-Za-z0-9_.\-$\[\]]+)", message)
        best = path
        if head:
            parts = tuple(p for p in re.split(r"[.\[\]]", head.group(1)) if p)
            for candidate in (parts, path + parts, path[:-1] + parts):
                for end in range(len(candidate), len(best), -1):
                    if candidate[:end] in self.lines and len(candidate[:end]) > len(best):
                        best = candidate[:end]
                        break
        section = dotted(path)
        if section and not message.startswith(section):
            if _names_param(message):
                # "x: ..." from the space, about parameter path[-1] itself or below it
                own = re.match(rf"^{re.escape(str(path[-1]))}[.:]", message) is not None
                parent = dotted(path[:-1]) if own else section
                message = f"{parent}.{message}" if parent else message
            else:
                message = f"{section}: {message}"
        overridden = self.is_overridden(best)
        return SweepFileError(message, self.file, None if overridden else self.line(best),
                              section or None, from_set=overridden)


def _names_param(message: str) -> bool:
    """Whether a message starts ``name: ...`` (a parameter name, as the space reports)."""
    return re.match(r"^[A-Za-z0-9_\-.]+: ", message) is not None


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document; a syntax error is a one-line `SweepFileError` with its line."""
    loader = None
    try:
        loader = SweepLoader(text)  # checks the characters at once
        node = loader.get_single_node()
        if node is None:
            raise SweepFileError("the file is empty (expected a 'type: sweep' mapping)", file)
        lines: dict[Path_, int] = {}
        _index(node, (), lines, file)
        data = loader.construct_document(node)
    except yaml.reader.ReaderError as err:
        # Characters YAML forbids (NUL, other control characters); the position is an index
        # into ``text``, which locates the line.
        code = err.character if isinstance(err.character, int) else 0
        kind = "control characters" if code < 0xA0 else "such characters"
        line = text.count("\n", 0, err.position) + 1 if isinstance(err.position, int) else None
        raise SweepFileError(f"invalid YAML: unacceptable character U+{code:04X} ({kind} are "
                             "not allowed)", file, line) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "invalid YAML"
        line = mark.line + 1 if mark is not None else None
        raise SweepFileError(f"invalid YAML: {problem}", file, line) from None
    except yaml.YAMLError as err:
        raise SweepFileError(f"invalid YAML: {err}", file) from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise SweepFileError(f"expected a mapping of keys at the top (got {type(data).__name__})",
                             file, 1)
    return YamlDocument(data, file, lines)


def _index(node: yaml.Node, path: Path_, lines: dict[Path_, int], file: str) -> None:
    """Record the line of every mapping key and sequence item under ``node``."""
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            if key == "<<":  # merge key: its keys are indexed where they are written
                _index(value_node, path, lines, file)
                continue
            if key in seen:
                raise SweepFileError(f"duplicate key {describe(dotted((*path, key)))}", file,
                                     key_node.start_mark.line + 1)
            seen.add(key)
            here = (*path, key)
            lines[here] = key_node.start_mark.line + 1
            _index(value_node, (*path, key), lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            here = (*path, i)
            lines[here] = item.start_mark.line + 1
            _index(item, (*path, i), lines, file)


def parse_scalar(text: str) -> Any:
    """A ``--set`` value as YAML reads it: ``4`` → 4, ``1e-5`` → 1e-05, ``[1, 2]`` → list."""
    try:
        return yaml.load(text, Loader=SweepLoader) if text.strip() else ""
    except yaml.YAMLError:
        return text


def apply_overrides(doc: YamlDocument, overrides: Iterable[str]) -> None:
    """Apply ``key.path=value`` overrides in order, creating missing mappings on the way."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise SweepFileError(f"--set expects key=value (got {describe(item)})", doc.file)
        parts = tuple(key.split("."))
        target = doc.data
        for i, part in enumerate(parts[:-1]):
            child = target.get(part)
            if child is None:
                child = target[part] = {}
            if not isinstance(child, dict):
                raise SweepFileError(
                    f"--set {key}: {dotted(parts[:i + 1])} is not a mapping "
                    f"(got {describe(child)})", doc.file)
            target = child
        target[parts[-1]] = parse_scalar(raw)
        doc.overridden.add(parts)
