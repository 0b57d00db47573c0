"""Where each ``${{...}}`` reference of a trial command sits, in shell quoting terms.

A v2 ``trial.command`` is shell code with references such as ``${{search_space.lr}}``.
Users quote them out of habit (``"${{search_space.name}}"``, ``'${{inputs.path}}'``), so
the quoting around a reference is part of the user's intent: the value must become exactly
one argument, whatever quotes surround it.

:func:`find_references` walks the command the way ``/bin/sh`` reads it — single and double
quotes, backslashes, ``$(...)``, backquotes, ``${...}``, comments and here-documents — and
reports for every reference the quoting context it is in. The caller
(:class:`~hypersweep.controller.commands.ShellCommand`) then writes a *variable reference*
that fits the context, never the value itself (see there for why that is the safe choice).

Known limits, all of which can only change how a value is split into words, never run it:
``case`` patterns inside ``$(...)`` (their ``)`` closes the substitution early), backquotes
inside double quotes, bash's ``$'...'``.

Examples
--------
>>> [r.context for r in find_references("a ${{inputs.x}} \\"${{inputs.x}}\\" '${{inputs.x}}'")]
['plain', 'double', 'single']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: ``${{search_space.x}}`` / ``${{inputs.x}}`` / ``${{outputs.x}}`` (dotted names allowed).
REFERENCE = re.compile(r"\$\{\{\s*(search_space|inputs|outputs)\.([A-Za-z0-9_.\-]+)\s*\}\}")

#: Characters after which a ``#`` starts a comment (besides blanks and the start).
_WORD_BREAKS = frozenset(" \t\n;&|()<>")
#: The end of a here-document delimiter word.
_DELIMITER_END = re.compile(r"[\s;&|<>()]")


@dataclass(frozen=True)
class Reference:
    """One ``${{section.name}}`` at ``command[start:end]``.

    ``context`` is where it sits: ``"plain"`` (unquoted), ``"double"`` (inside double quotes
    or a here-document whose delimiter is unquoted), ``"single"`` (inside single quotes),
    ``"literal"`` (inside a here-document with a quoted delimiter: nothing expands there) or
    ``"comment"``.
    """

    start: int
    end: int
    section: str
    name: str
    context: str
    heredoc: str = ""  # the delimiter as written, for a here-document's references


@dataclass
class _Frame:
    """One level of nesting: ``kind`` is ``code``, ``double`` or ``single``.

    A ``code`` frame ends at ``closer`` (``)`` of ``$(``, a backquote, ``}`` of ``${``; none
    at the top). ``in_double`` marks a ``${...}`` opened inside double quotes, where quotes
    and blanks keep their double-quoted meaning.
    """

    kind: str
    closer: str = ""
    depth: int = 0  # unquoted "(" seen inside a $( frame
    in_double: bool = False


@dataclass
class _Heredoc:
    delimiter: str
    written: str
    quoted: bool
    strip_tabs: bool


def find_references(command: str) -> list[Reference]:
    """Every reference in ``command``, in order, with its quoting context.

    Examples
    --------
    >>> find_references("cat <<'EOF'\\n${{inputs.x}}\\nEOF")[0].context
    'literal'
    >>> find_references("echo ${X:-${{inputs.x}}} # ${{inputs.y}}")[1].context
    'comment'
    """
    found: list[Reference] = []
    stack = [_Frame("code")]
    pending: list[_Heredoc] = []
    i, n = 0, len(command)
    while i < n:
        frame = stack[-1]
        match = REFERENCE.match(command, i) if command[i] == "$" else None
        if match is not None:
            context = ("single" if frame.kind == "single" else
                       "double" if frame.kind == "double" or frame.in_double else "plain")
            found.append(Reference(match.start(), match.end(), match.group(1), match.group(2),
                                   context))
            i = match.end()
            continue
        char = command[i]
        if frame.kind == "single":
            if char == "'":
                stack.pop()
            i += 1
            continue
        if char == "\\":
            i += 2
            continue
        if char == "$" and command.startswith("$(", i):
            stack.append(_Frame("code", ")"))
            i += 2
            continue
        if char == "$" and command.startswith("${", i):
            stack.append(_Frame("code", "}", in_double=frame.kind == "double" or frame.in_double))
            i += 2
            continue
        if char == "`":
            if frame.kind == "code" and frame.closer == "`":
                stack.pop()
            else:
                stack.append(_Frame("code", "`"))
            i += 1
            continue
        if frame.kind == "double" or frame.in_double:
            if (char == '"' and frame.kind == "double") or (char == "}" and frame.closer == "}"):
                stack.pop()
            i += 1
            continue
        # unquoted code
        if char == "'":
            stack.append(_Frame("single"))
        elif char == '"':
            stack.append(_Frame("double"))
        elif char == "(" and frame.closer == ")":
            frame.depth += 1
        elif char == ")" and frame.closer == ")":
            if frame.depth:
                frame.depth -= 1
            else:
                stack.pop()
        elif char == "}" and frame.closer == "}":
            stack.pop()
        elif char == "#" and (i == 0 or command[i - 1] in _WORD_BREAKS):
            end = command.find("\n", i)
            end = n if end < 0 else end
            found += [Reference(m.start(), m.end(), m.group(1), m.group(2), "comment")
                      for m in REFERENCE.finditer(command, i, end)]
            i = end
            continue
        elif char == "<" and command.startswith("<<", i) and not command.startswith("<<<", i):
            i = _read_delimiter(command, i + 2, pending)
            continue
        elif char == "\n" and pending:
            i = _read_heredocs(command, i + 1, pending, found)
            pending.clear()
            continue
        i += 1
    return found


def _read_delimiter(command: str, i: int, pending: list[_Heredoc]) -> int:
    """Read the delimiter word after ``<<`` (or ``<<-``); return the index after it."""
    strip_tabs = command.startswith("-", i)
    i += strip_tabs
    while i < len(command) and command[i] in " \t":
        i += 1
    start = i
    quote = ""
    while i < len(command):
        char = command[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "\\":
            i += 1
        elif _DELIMITER_END.match(char):
            break
        i += 1
    written = command[start:i]
    if written:
        delimiter = re.sub(r"\\(.)|['\"]", r"\1", written)
        quoted = any(c in written for c in "'\"\\")
        pending.append(_Heredoc(delimiter, written, quoted, strip_tabs))
    return i


def _read_heredocs(command: str, i: int, pending: list[_Heredoc],
                   found: list[Reference]) -> int:
    """Read the bodies of the pending here-documents from line start ``i``; return the index
    after the last delimiter line."""
    for doc in pending:
        while i < len(command):
            end = command.find("\n", i)
            end = len(command) if end < 0 else end
            line = command[i:end]
            if (line.lstrip("\t") if doc.strip_tabs else line) == doc.delimiter:
                i = end + 1
                break
            context = "literal" if doc.quoted else "double"
            found += [Reference(m.start(), m.end(), m.group(1), m.group(2), context,
                                doc.written)
                      for m in REFERENCE.finditer(command, i, end)]
            i = end + 1
    return i
