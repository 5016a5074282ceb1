"""How big a shot's change is: files, lines added and removed, binary files, from its patch.

Reads what ``git diff --binary`` writes: renames and copies, new and deleted files,
mode changes, ``GIT binary patch`` sections, and paths with spaces or in git's
C-style quoting. Linear and free of regular expressions: file sections are found
with ``bytes.find`` and a section's added and removed lines are counted with
``bytes.count`` (both in C), so Python only looks at the few header lines of each
file. That works because in git's output every line after a file's first hunk
header starts with ``@``, `` ``, ``+``, ``-`` or ``\\``, and a file section always
starts with ``diff --git `` (base85 lines of binary data never hold a space).
"""

from __future__ import annotations

import dataclasses

from tray.errors import InvalidPatch

__all__ = ["DiffStat", "FileStat", "parse_patch"]

_FILE_START = b"diff --git "
_NEXT_FILE = b"\n" + _FILE_START
_DEV_NULL = b"/dev/null"
_ESCAPES = {
    ord("a"): 7,
    ord("b"): 8,
    ord("t"): 9,
    ord("n"): 10,
    ord("v"): 11,
    ord("f"): 12,
    ord("r"): 13,
    ord('"'): ord('"'),
    ord("\\"): ord("\\"),
}


@dataclasses.dataclass(frozen=True)
class FileStat:
    path: str  # the path after the change (for a deleted file, the path it had)
    old_path: str | None  # where a renamed or copied file came from; None otherwise
    added: int
    removed: int
    binary: bool

    @property
    def lines_changed(self) -> int:
        return self.added + self.removed


@dataclasses.dataclass(frozen=True)
class DiffStat:
    files: tuple[FileStat, ...]

    @property
    def files_changed(self) -> int:
        return len(self.files)

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def removed(self) -> int:
        return sum(f.removed for f in self.files)

    @property
    def lines_changed(self) -> int:
        return self.added + self.removed

    @property
    def binary_files(self) -> int:
        return sum(1 for f in self.files if f.binary)

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path the patch touches, old paths of renames included, in patch order."""
        found: dict[str, None] = {}
        for f in self.files:
            if f.old_path is not None:
                found[f.old_path] = None
            found[f.path] = None
        return tuple(found)


def parse_patch(patch: bytes) -> DiffStat:
    """The diffstat of a git patch; an empty patch (a shot that changed nothing) has no files.

    Text before the first ``diff --git`` line (a mail header, say) is ignored, as
    ``git apply`` ignores it.
    """
    start = 0 if patch.startswith(_FILE_START) else patch.find(_NEXT_FILE)
    if start < 0:
        if patch.strip():
            raise InvalidPatch("This is not a git patch: it has no 'diff --git' line.")
        return DiffStat(())
    if start > 0:
        start += 1  # past the newline that ends the text before it
    files: list[FileStat] = []
    while True:
        following = patch.find(_NEXT_FILE, start)
        end = len(patch) if following < 0 else following
        files.append(_file_stat(patch, start, end))
        if following < 0:
            return DiffStat(tuple(files))
        start = following + 1


@dataclasses.dataclass
class _Header:
    """What a file section's header lines say, as raw bytes (paths still quoted)."""

    names: bytes = b""  # the rest of the "diff --git" line
    source: bytes | None = None  # "rename from" / "copy from"
    target: bytes | None = None  # "rename to" / "copy to"
    minus: bytes | None = None  # the "---" line's name
    plus: bytes | None = None  # the "+++" line's name
    binary: bool = False
    body: int = -1  # where the first hunk starts, if there is one


# Header lines that matter, by their first four bytes (a dictionary look-up per line).
_KEYS: dict[bytes, tuple[tuple[bytes, str], ...]] = {
    b"rena": ((b"rename from ", "source"), (b"rename to ", "target")),
    b"copy": ((b"copy from ", "source"), (b"copy to ", "target")),
    b"--- ": ((b"--- ", "minus"),),
    b"+++ ": ((b"+++ ", "plus"),),
}
_BINARY_DATA = b"\nGIT binary patch\n"


def _file_stat(patch: bytes, start: int, end: int) -> FileStat:
    header = _read_header(patch, start, end)
    added = removed = 0
    if header.body >= 0:
        added = patch.count(b"\n+", header.body, end)
        removed = patch.count(b"\n-", header.body, end)
    path, old_path = _paths(header)
    return FileStat(path, old_path, added, removed, header.binary)


def _read_header(patch: bytes, start: int, end: int) -> _Header:
    header = _Header()
    stop = patch.find(b"\n@@", start, end)
    if stop >= 0:
        header.body = stop + 1
    else:
        stop = patch.find(_BINARY_DATA, start, end)
        header.binary = stop >= 0
        stop = end if stop < 0 else stop
    lines = patch[start:stop].split(b"\n")
    header.names = lines[0][len(_FILE_START) :]
    for line in lines[1:]:
        if line.startswith(b"Binary files ") and line.endswith(b" differ"):
            header.binary = True  # a patch made without --binary
        for prefix, field in _KEYS.get(line[:4], ()):
            if line.startswith(prefix):
                setattr(header, field, line[len(prefix) :])
                break
    return header


def _paths(header: _Header) -> tuple[str, str | None]:
    """The file's path and, for a rename or copy, the path it came from."""
    if header.target is not None and header.source is not None:
        return _decode(_unquote(header.target)), _decode(_unquote(header.source))
    for marker in (header.plus, header.minus):  # "+++ /dev/null" for a deleted file
        name = _marker_name(marker)
        if name is not None:
            return _decode(name), None
    # No hunks and no rename: a mode change, an empty file, a binary file. Here the
    # "diff --git" line names the same path twice, which is how its halves are found.
    return _decode(_same_name_twice(header.names)), None


def _marker_name(marker: bytes | None) -> bytes | None:
    """The path on a "---" or "+++" line, without its a/ or b/ prefix; None for /dev/null."""
    if marker is None:
        return None
    # git ends the name with a tab when it holds a space, so that it can be parsed.
    name = marker[:-1] if marker.endswith(b"\t") else marker
    if name == _DEV_NULL:
        return None
    return _strip_prefix(_unquote(name))


def _same_name_twice(names: bytes) -> bytes:
    if names.startswith(b'"'):
        return _strip_prefix(_read_quoted(names, 0)[0])
    # An unquoted first name: the second may be quoted, or the line splits at the
    # space where both halves name the same path.
    quoted = names.find(b' "')
    if quoted >= 0:
        return _strip_prefix(_read_quoted(names, quoted + 1)[0])
    space = names.find(b" ")
    while space >= 0:
        left, right = _strip_prefix(names[:space]), _strip_prefix(names[space + 1 :])
        if left == right:
            return left
        space = names.find(b" ", space + 1)
    raise InvalidPatch(f"Cannot read the file names in: diff --git {_decode(names)[:200]}")


def _strip_prefix(name: bytes) -> bytes:
    """Drop the first path component (``a/``, ``b/``), as ``git apply -p1`` does."""
    slash = name.find(b"/")
    return name[slash + 1 :] if slash >= 0 else name


def _unquote(name: bytes) -> bytes:
    if not name.startswith(b'"'):
        return name
    return _read_quoted(name, 0)[0]


def _read_quoted(text: bytes, start: int) -> tuple[bytes, int]:
    """The C-style quoted string at ``text[start]``, unescaped, and the index past its end."""
    out = bytearray()
    index = start + 1
    while index < len(text):
        byte = text[index]
        if byte == ord('"'):
            return bytes(out), index + 1
        if byte != ord("\\") or index + 1 >= len(text):
            out.append(byte)
            index += 1
            continue
        escaped = text[index + 1]
        if escaped in _ESCAPES:
            out.append(_ESCAPES[escaped])
            index += 2
        else:  # three octal digits: one byte of a non-ASCII name
            octal = text[index + 1 : index + 4]
            if len(octal) != 3 or not all(ord("0") <= b <= ord("7") for b in octal):
                raise InvalidPatch(f"A quoted file name has a bad escape: {_decode(text)[:200]}")
            out.append(int(octal, 8) & 0xFF)
            index += 4
    raise InvalidPatch(f"A quoted file name has no closing quote: {_decode(text)[:200]}")


def _decode(name: bytes) -> str:
    return name.decode("utf-8", "replace")
