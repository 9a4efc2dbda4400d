#!/usr/bin/env python3
"""Fails when the modules of a Rust crate import each other in a cycle.

Usage:
    scripts/module-cycles.py CRATE_DIR...            check each crate (for example `engine`)
    scripts/module-cycles.py --graph CRATE_DIR...    print each file's imports, then check
    scripts/module-cycles.py --self-test             prove the check finds planted cycles

A crate's layering is only real if no module imports, directly or through others, from a
module that imports it. This script reads the crate's `src/` tree from each crate root
(`src/lib.rs`, `src/main.rs`, `src/bin/*.rs`), following `mod` declarations, and builds a
graph with one node per source file (an inline `mod tests { ... }` belongs to its file). An
edge A -> B means that file A names an item or module defined in file B through a crate-local
path:

* every path of a `use` declaration, including groups spread over several lines
  (`use crate::{a, b::{c, d}};`), globs and renames;
* every path written in code (`crate::worker::X` inside a function, `super::f()`,
  `self::g`, a child module's name as in `panes::SlidingWindows`), test modules included.

A path is followed to the file that *defines* the item: `crate::Stream`, re-exported by
`lib.rs` from `stream.rs`, is an edge to `stream.rs`, not to `lib.rs`. So a facade that only
declares modules and re-exports from them is never part of a cycle, while a facade that also
defines items its children import is (the children import it, it re-exports them). Declaring
a child module (`mod x;`) is not an import; re-exporting from it is. Comments (doc comments
and intra-doc links included), strings and character literals are ignored. Not understood:
`#[path]` attributes and paths built by macros.

Exit status: 0 when no crate has a cycle, 1 when one does (each cycle printed, naming the
files and the line of each import that closes it), 2 for bad arguments or an unreadable crate.

Python 3 standard library only.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field

KEYWORDS = {
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
    "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true",
    "type", "unsafe", "use", "where", "while",
}
# Keywords that introduce a named item at module level.
ITEM_KEYWORDS = {"fn", "struct", "enum", "trait", "type", "const", "static", "union"}


class InputError(Exception):
    """A crate that cannot be read (missing directory, missing module file)."""


@dataclass
class Token:
    kind: str  # "ident" or "punct"
    text: str
    line: int


def _is_ident_start(c: str) -> bool:
    return c.isalpha() or c == "_"


def _is_ident_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _skip_raw_string(text: str, i: int) -> int | None:
    """If a raw string (`r"..."`, `r#"..."#`, `br#"..."#`) starts at i, the index after it."""
    j = i
    if text.startswith(("br", "cr"), j):
        j += 2
    elif text.startswith("r", j):
        j += 1
    else:
        return None
    hashes = 0
    while j < len(text) and text[j] == "#":
        hashes += 1
        j += 1
    if j >= len(text) or text[j] != '"':
        return None
    end = text.find('"' + "#" * hashes, j + 1)
    return len(text) if end < 0 else end + 1 + hashes


def tokenize(text: str) -> list[Token]:
    """Identifiers and punctuation of Rust source; comments and literals are dropped."""
    tokens: list[Token] = []
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth > 0:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    line += text[i] == "\n"
                    i += 1
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                line += i < n and text[i] == "\n"
                i += 1
            i += 1
        elif c == "'":
            if text.startswith("\\", i + 1):
                end = text.find("'", i + 3)
                i = n if end < 0 else end + 1
            elif i + 2 < n and text[i + 2] == "'":
                i += 3
            else:  # a lifetime or a label
                i += 1
                while i < n and _is_ident_char(text[i]):
                    i += 1
        elif _is_ident_start(c):
            raw_end = _skip_raw_string(text, i)
            if raw_end is not None:
                line += text.count("\n", i, raw_end)
                i = raw_end
                continue
            if text.startswith("r#", i) and i + 2 < n and _is_ident_start(text[i + 2]):
                i += 2  # a raw identifier: r#type is the identifier `type`
            start = i
            while i < n and _is_ident_char(text[i]):
                i += 1
            word = text[start:i]
            if word in ("b", "c") and i < n and text[i] in "\"'":
                continue  # byte or C string/char prefix: the literal follows
            tokens.append(Token("ident", word, line))
        elif c.isdigit():
            while i < n and (_is_ident_char(text[i])):
                i += 1
        elif text.startswith("::", i):
            tokens.append(Token("punct", "::", line))
            i += 2
        else:
            tokens.append(Token("punct", c, line))
            i += 1
    return tokens


@dataclass
class Module:
    """One module (a file, or an inline `mod` block inside one)."""

    path: tuple[str, ...]
    file: str
    directory: str  # where the files of its child modules live
    children: dict[str, tuple[str, ...]] = field(default_factory=dict)
    defs: set[str] = field(default_factory=set)
    imports: dict[str, list[str]] = field(default_factory=dict)
    globs: list[list[str]] = field(default_factory=list)


@dataclass
class PathUse:
    """A crate-local path candidate written in `module` at `line`."""

    module: tuple[str, ...]
    segments: list[str]
    line: int


@dataclass
class Edge:
    source: str
    target: str
    line: int
    text: str


class Crate:
    """The module tree of one crate root and every path written in it."""

    def __init__(self, root_file: str):
        self.modules: dict[tuple[str, ...], Module] = {}
        self.uses: list[PathUse] = []
        self.files: list[str] = []
        directory = os.path.dirname(root_file)
        self._load(root_file, (), directory)

    def _load(self, file: str, path: tuple[str, ...], directory: str) -> None:
        try:
            with open(file, encoding="utf-8") as f:
                text = f.read()
        except OSError as error:
            raise InputError(f"cannot read {file}: {error.strerror}") from error
        self.files.append(file)
        module = Module(path, file, directory)
        self.modules[path] = module
        self._parse(tokenize(text), module)

    def _parse(self, tokens: list[Token], file_module: Module) -> None:
        # (module, brace depth of its body): inline `mod x { ... }` blocks push onto it.
        stack: list[tuple[Module, int]] = [(file_module, 0)]
        declared: list[tuple[Module, str, int]] = []
        depth, i, n = 0, 0, len(tokens)

        def text(k: int) -> str:
            return tokens[k].text if k < n else ""

        while i < n:
            tok = tokens[i]
            module, body = stack[-1]
            at_module_level = depth == body
            if tok.text == "{":
                depth += 1
                i += 1
                continue
            if tok.text == "}":
                depth -= 1
                while len(stack) > 1 and stack[-1][1] > depth:
                    stack.pop()
                i += 1
                continue
            if tok.kind != "ident":
                i += 1
                continue
            word = tok.text
            if word == "mod" and i + 1 < n and tokens[i + 1].kind == "ident":
                name = text(i + 1)
                child_path = module.path + (name,)
                module.children[name] = child_path
                if text(i + 2) == "{":
                    inline = Module(
                        child_path, module.file, os.path.join(module.directory, name)
                    )
                    self.modules[child_path] = inline
                    depth += 1
                    stack.append((inline, depth))
                    i += 3
                    continue
                declared.append((module, name, tok.line))
                i += 2
                continue
            if word == "use":
                i = self._parse_use(tokens, i + 1, module, at_module_level)
                continue
            if at_module_level and word in ITEM_KEYWORDS:
                k = i + 1
                if text(k) == "mut":
                    k += 1
                if k < n and tokens[k].kind == "ident" and tokens[k].text not in KEYWORDS:
                    module.defs.add(tokens[k].text)
            if word == "macro_rules" and text(i + 1) == "!":
                module.defs.add(text(i + 2))
            # A path in code: `crate::a::b`, `super::f`, `child::T`, `Imported::f`.
            previous = text(i - 1) if i > 0 else ""
            in_visibility = previous == "in" and i > 1 and text(i - 2) == "("
            if (
                text(i + 1) == "::"
                and previous not in ("::", ".")
                and not in_visibility
                and word not in ("Self",)
            ):
                segments = [word]
                k = i + 1
                while text(k) == "::" and k + 1 < n and tokens[k + 1].kind == "ident":
                    segments.append(tokens[k + 1].text)
                    k += 2
                self.uses.append(PathUse(module.path, segments, tok.line))
                i = k
                continue
            i += 1

        for module, name, line in declared:
            candidates = [
                os.path.join(module.directory, name + ".rs"),
                os.path.join(module.directory, name, "mod.rs"),
            ]
            found = next((c for c in candidates if os.path.isfile(c)), None)
            if found is None:
                raise InputError(
                    f"{module.file}:{line}: `mod {name};` but neither {candidates[0]} nor "
                    f"{candidates[1]} exists (#[path] attributes are not supported)"
                )
            child_dir = os.path.dirname(found) if found.endswith("mod.rs") else (
                os.path.join(module.directory, name)
            )
            self._load(found, module.path + (name,), child_dir)

    def _parse_use(self, tokens: list[Token], i: int, module: Module, register: bool) -> int:
        """Parses one `use` tree from tokens[i]; returns the index after its `;`."""
        leaves: list[tuple[list[str], str | None, int]] = []  # (path, bound name or glob)

        def tree(k: int, prefix: list[str]) -> int:
            segments = list(prefix)
            line = tokens[k].line if k < len(tokens) else 0
            while k < len(tokens):
                t = tokens[k]
                if t.text == "::":
                    k += 1
                elif t.text == "{":
                    k += 1
                    while k < len(tokens) and tokens[k].text != "}":
                        if tokens[k].text == ",":
                            k += 1
                            continue
                        after = tree(k, segments)
                        k = after if after > k else k + 1  # always move on
                    return k + 1
                elif t.text == "*":
                    leaves.append((segments, None, line))
                    return k + 1
                elif t.kind == "ident" and t.text != "as":
                    segments.append(t.text)
                    k += 1
                    if k < len(tokens) and tokens[k].text == "::":
                        continue
                    name = segments[-1]
                    if k < len(tokens) and tokens[k].text == "as":
                        name = tokens[k + 1].text
                        k += 2
                    if segments[-1] == "self":
                        segments = segments[:-1]
                        if name == "self" and segments:
                            name = segments[-1]
                    leaves.append((segments, name, line))
                    return k
                else:
                    return k
            return k

        end = i
        while end < len(tokens) and tokens[end].text != ";":
            end = tree(end, [])
            if end < len(tokens) and tokens[end].text not in (";",):
                end += 1
        for segments, name, line in leaves:
            if not segments:
                continue
            self.uses.append(PathUse(module.path, segments, line))
            if register:
                if name is None:
                    module.globs.append(segments)
                elif name != "_":
                    module.imports[name] = segments
        return end + 1

    # --- resolution -------------------------------------------------------------------------

    def resolve(
        self, segments: list[str], context: tuple[str, ...], seen: frozenset = frozenset()
    ) -> tuple[str, tuple[str, ...]] | None:
        """Where `segments`, written in module `context`, leads: ("module", path) or
        ("item", path of the defining module); None for a path outside the crate."""
        first, rest = segments[0], segments[1:]
        here = self.modules[context]
        if first == "crate":  # `$crate` in macros too: `$` is not part of the token
            return self._walk((), rest, seen)
        if first == "self":
            return self._walk(context, rest, seen)
        if first == "super":
            return self._walk(context[:-1], rest, seen)
        if first in here.children:
            return self._walk(context, segments, seen)
        if first in here.imports:
            key = (context, first)
            if key in seen:
                return None
            target = self.resolve(here.imports[first], context, seen | {key})
            if target is None or not rest:
                return target
            kind, path = target
            return self._walk(path, rest, seen) if kind == "module" else target
        return None

    def _walk(
        self, path: tuple[str, ...], rest: list[str], seen: frozenset
    ) -> tuple[str, tuple[str, ...]] | None:
        for k, segment in enumerate(rest):
            if segment == "super":
                path = path[:-1]
                continue
            if segment == "self":
                continue
            module = self.modules.get(path)
            if module is None:
                return None
            if segment in module.children and module.children[segment] in self.modules:
                path = module.children[segment]
                continue
            if segment in module.imports:
                key = (path, segment)
                if key in seen:
                    return ("item", path)
                target = self.resolve(module.imports[segment], path, seen | {key})
                if target is None:
                    return None  # a re-export of an item from outside the crate
                if target[0] == "module":
                    path = target[1]
                    continue
                return target
            if segment in module.defs:
                return ("item", path)
            for source, inner in self._glob_sources(path, seen):
                if self._knows(source, segment, inner):
                    return self._walk(source, rest[k:], inner)
            # Unknown here (an enum variant, a macro-made item): charge the module itself.
            return ("item", path)
        return ("module", path)

    def _knows(self, path: tuple[str, ...], name: str, seen: frozenset) -> bool:
        """Whether module `path` has `name` in scope (defined, imported or glob-imported)."""
        module = self.modules.get(path)
        if module is None:
            return False
        if name in module.children or name in module.imports or name in module.defs:
            return True
        return any(
            self._knows(source, name, inner) for source, inner in self._glob_sources(path, seen)
        )

    def _glob_sources(self, path: tuple[str, ...], seen: frozenset):
        """The modules that module `path` glob-imports (`use x::*`), each with the `seen` set
        to resolve inside it (a glob already being followed is skipped: no endless loop)."""
        for glob in self.modules[path].globs:
            key = (path, "*", tuple(glob))
            if key in seen:
                continue
            inner = seen | {key}
            source = self.resolve(glob, path, inner)
            if source is not None and source[0] == "module":
                yield source[1], inner

    def edges(self) -> list[Edge]:
        result = []
        for use in self.uses:
            target = self.resolve(use.segments, use.module)
            if target is None:
                continue
            source_file = self.modules[use.module].file
            target_file = self.modules[target[1]].file
            if source_file != target_file:
                result.append(Edge(source_file, target_file, use.line, "::".join(use.segments)))
        return result


def crate_roots(crate_dir: str) -> list[str]:
    src = os.path.join(crate_dir, "src")
    if not os.path.isdir(src):
        raise InputError(f"{crate_dir}: no src/ directory (pass a crate directory, e.g. engine)")
    roots = [os.path.join(src, f) for f in ("lib.rs", "main.rs")]
    bin_dir = os.path.join(src, "bin")
    if os.path.isdir(bin_dir):
        bins = sorted(f for f in os.listdir(bin_dir) if f.endswith(".rs"))
        roots += [os.path.join(bin_dir, f) for f in bins]
    roots = [r for r in roots if os.path.isfile(r)]
    if not roots:
        raise InputError(f"{crate_dir}: src/ has neither lib.rs nor main.rs")
    return roots


def strongly_connected(nodes: list[str], graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative); components with more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.get(succ, ())))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def shortest_cycle(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest cycle through the component's first node, staying inside the component."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for succ in sorted(graph.get(node, ())):
                if succ not in members:
                    continue
                if succ == start:
                    cycle = [node]
                    while cycle[-1] != start:
                        cycle.append(previous[cycle[-1]])
                    return list(reversed(cycle))
                if succ not in previous:
                    previous[succ] = node
                    following.append(succ)
        frontier = following
    return component


def find_cycles(crate_dir: str, show_graph: bool = False) -> list[str]:
    """Report lines for every import cycle in the crate (empty: acyclic)."""
    report = []
    for root in crate_roots(crate_dir):
        crate = Crate(root)
        graph: dict[str, set[str]] = {}
        edges = crate.edges()
        if show_graph:
            for file in crate.files:
                targets = sorted({e.target for e in edges if e.source == file})
                print(f"{file} -> {' '.join(targets) if targets else '(nothing)'}")
        evidence: dict[tuple[str, str], Edge] = {}
        for edge in edges:
            graph.setdefault(edge.source, set()).add(edge.target)
            key = (edge.source, edge.target)
            if key not in evidence or edge.line < evidence[key].line:
                evidence[key] = edge
        for component in strongly_connected(crate.files, graph):
            cycle = shortest_cycle(component, graph)
            report.append(
                f"import cycle in {root}'s crate between {len(component)} files "
                f"({', '.join(component)}); one cycle:"
            )
            for k, source in enumerate(cycle):
                target = cycle[(k + 1) % len(cycle)]
                edge = evidence[(source, target)]
                report.append(f"  {source}:{edge.line} uses `{edge.text}` -> {target}")
    return report


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    if argv == ["--self-test"]:
        return self_test()
    show_graph = argv[0] == "--graph"
    if show_graph:
        argv = argv[1:]
    if not argv or any(a.startswith("-") for a in argv):
        print(f"module-cycles: unknown option in {argv}; see --help", file=sys.stderr)
        return 2
    status = 0
    for crate_dir in argv:
        try:
            report = find_cycles(crate_dir, show_graph)
        except InputError as error:
            print(f"module-cycles: {error}", file=sys.stderr)
            return 2
        if report:
            status = 1
            print("\n".join(report))
        else:
            print(f"module-cycles: {crate_dir}: no import cycles")
    if status:
        print(
            "module-cycles: move what both sides need into a lower module that imports "
            "neither, so that imports point one way",
            file=sys.stderr,
        )
    return status


# --- self-test ------------------------------------------------------------------------------

ACYCLIC = {
    # A facade: only declarations and re-exports, used through `crate::` by everyone.
    "src/lib.rs": """
        //! Mentions crate::b::B and `crate::net` in docs: not imports.
        mod a;
        mod b;
        pub mod net;
        pub use a::{A, Helper as Renamed};
        pub use b::B;
        pub use net::*;
    """,
    "src/a.rs": """
        use std::collections::HashMap;
        /// Links to [`B`](crate::B) do not count.
        pub struct A<'a>(&'a str);
        pub struct Helper;
        pub(crate) fn brace() -> (char, char, &'static str, &'static str) {
            // crate::b::B in a comment. /* nested /* block */ crate::b::B */
            ('{', '\\'', "crate::b::B {", r#"crate::b::B "}"#)
        }
        #[cfg(test)]
        mod tests {
            use super::*;
            #[test]
            fn t() { let _ = brace(); let _: HashMap<u8, u8> = HashMap::new(); }
        }
    """,
    "src/b.rs": """
        use crate::{
            A,
            Renamed,
        };
        pub struct B(pub A<'static>, pub Renamed);
        // `crate::Packet` goes through lib.rs's glob re-export to net/packet.rs, not to lib.rs.
        pub(in crate::b) fn f() -> Option<crate::Packet> { None }
    """,
    # A nested facade whose children import through it (resolved to the defining files).
    "src/net.rs": """
        mod packet;
        mod socket;
        pub use packet::Packet;
        pub use socket::Socket;
    """,
    "src/net/packet.rs": """
        pub struct Packet { pub from: crate::A<'static> }
    """,
    "src/net/socket.rs": """
        use super::Packet;
        pub struct Socket(Packet, crate::B);
        fn make() -> Packet { super::packet::Packet { from: todo!() } }
    """,
}


def _tree(base: str, files: dict[str, str]) -> str:
    for name, body in files.items():
        path = os.path.join(base, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(body))
    return base


def _check(name: str, condition: bool, detail: str) -> bool:
    print(f"module-cycles self-test: {'ok  ' if condition else 'FAIL'} {name}")
    if not condition:
        print(f"    {detail}")
    return condition


def self_test() -> int:
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        def crate(name: str, changes: dict[str, str]) -> str:
            files = dict(ACYCLIC)
            files.update(changes)
            return _tree(os.path.join(tmp, name), files)

        report = find_cycles(crate("acyclic", {}))
        ok &= _check("a layered crate with facades passes", not report, "\n".join(report))

        # A multi-line grouped `use` one way, a fully qualified path inside a function back.
        report = find_cycles(crate("grouped", {
            "src/a.rs": """
                use crate::{
                    b::{
                        B,
                    },
                };
                pub struct A<'a>(&'a str);
                pub struct Helper;
                pub fn size() -> usize { std::mem::size_of::<B>() }
            """,
        }))
        text = "\n".join(report)
        ok &= _check(
            "a multi-line `use crate::{b::{B}}` against a path use is a cycle",
            len(report) == 3 and "src/a.rs:4 uses `crate::b::B`" in text
            and "src/b.rs" in text,
            text,
        )

        report = find_cycles(crate("in_code", {
            "src/a.rs": """
                pub struct A<'a>(&'a str);
                pub struct Helper;
                fn check() -> bool { crate::b::f().is_none() }
            """,
        }))
        text = "\n".join(report)
        ok &= _check(
            "a fully qualified `crate::b::f()` in a function body counts",
            "src/a.rs:4 uses `crate::b::f`" in text and "src/b.rs:3 uses `crate::A`" in text,
            text,
        )

        # The facade defines a type its child imports: facade -> child (re-export) -> facade.
        report = find_cycles(crate("facade_types", {
            "src/net.rs": """
                mod packet;
                mod socket;
                pub use packet::Packet;
                pub use socket::Socket;
                pub struct Address(pub u32);
            """,
            "src/net/packet.rs": """
                use super::Address;
                pub struct Packet { pub to: Address }
            """,
        }))
        text = "\n".join(report)
        ok &= _check(
            "a facade holding the types its children import is a cycle",
            os.path.join("src", "net.rs") in text and "packet.rs:2 uses `super::Address`" in text,
            text,
        )

        # Three files through an inline module, `super::` and `crate::`: a -> b -> socket -> a.
        report = find_cycles(crate("three", {
            "src/a.rs": """
                use self::inner::*;
                mod inner { pub use crate::b::B; }
                pub struct A<'a>(&'a str);
                pub struct Helper(B);
            """,
            "src/b.rs": """
                pub struct B(pub super::net::Socket);
                pub(crate) fn f() {}
            """,
            "src/net/socket.rs": """
                pub struct Socket(crate::a::Helper);
            """,
        }))
        text = "\n".join(report)
        ok &= _check(
            "a three-file cycle through an inline module, `super::` and `crate::` is reported",
            "between 3 files" in text and "a.rs:3 uses `crate::b::B`" in text
            and "socket.rs:2 uses `crate::a::Helper`" in text,
            text,
        )

        # Only in comments, strings and doc links: not a cycle.
        report = find_cycles(crate("comments", {
            "src/net/packet.rs": """
                /// See [`B`](crate::b::B); "crate::a::A"
                pub struct Packet { pub from: u8 } // crate::a::A
                const S: &str = "use crate::a::A;";
            """,
        }))
        ok &= _check("imports in comments and strings are ignored", not report, "\n".join(report))

        # The command line: exit 1 with a cycle, 0 without, 2 for a directory without src/.
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            codes = (
                main([os.path.join(tmp, "acyclic")]),
                main([os.path.join(tmp, "in_code")]),
                main([os.path.join(tmp, "missing")]),
            )
        ok &= _check("exit status 0 / 1 / 2", codes == (0, 1, 2), f"got {codes}")

        missing = crate("missing_module", {"src/lib.rs": "mod nowhere;\n"})
        try:
            find_cycles(missing)
            raised = False
        except InputError:
            raised = True
        ok &= _check("a `mod` without its file is an error", raised, "no error raised")
    print(f"module-cycles self-test: {'passed' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
