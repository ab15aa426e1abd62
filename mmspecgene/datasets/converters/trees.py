# Copyright (c) mmspecgene contributors. All rights reserved.
"""Finding the raw files: split lists, and scans of raw folders that follow symbolic links.

Users often build the raw tree from symbolic links (subset folders linked in from other disks) to avoid copying
hundreds of GB. :func:`scan_tree` therefore follows linked folders, visits each real folder once (so a link loop, or
two links to one folder, cannot repeat or never end), scans a folder under its own path rather than under a link
that also reaches it, reports what it skipped, and treats a scan that finds nothing as an error naming the folder
and what was looked for.
"""
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .files import IMG_EXTENSIONS
from .report import BROKEN_LINK, ConversionError, ConversionReport


@dataclass
class TreeScan:
    """The files with one of ``exts`` found under ``root``.

    Attributes:
        root (str): the scanned folder.
        what (str): what was looked for, for messages (e.g. 'thermal images').
        files (list[str]): '/'-separated paths relative to ``root``, sorted; symbolic links are followed.
        revisited (list[tuple[str, str]]): folders not entered because their real folder was already scanned under
            another relative path (a link loop or a second link to one folder): (skipped, already scanned).
        broken (list[str]): relative paths of symbolic links whose target does not exist.
    """
    root: str
    what: str
    files: List[str] = field(default_factory=list)
    revisited: List[Tuple[str, str]] = field(default_factory=list)
    broken: List[str] = field(default_factory=list)

    def path(self, rel: str) -> str:
        return osp.join(self.root, *rel.split('/'))

    def by_stem(self) -> Dict[str, str]:
        """Map 'relative path without suffix' -> path.

        Raises:
            ValueError: two files differ only by suffix (ambiguous).
        """
        index = {}
        for rel in self.files:
            stem = osp.splitext(rel)[0]
            if stem in index:
                raise ValueError(f'ambiguous files under {self.root}: {index[stem]} and {self.path(rel)}')
            index[stem] = self.path(rel)
        return index


def _raise(err: OSError) -> None:
    raise ConversionError(f'cannot list folder {err.filename}: {err}') from err


def scan_tree(root: str,
              what: str,
              exts: Sequence[str] = IMG_EXTENSIONS,
              recursive: bool = True,
              allow_empty: bool = False) -> TreeScan:
    """Find the files with one of ``exts`` (case-insensitive) under ``root``, following symbolic links.

    Args:
        root: folder to scan (may itself be a link).
        what: what is looked for, named by the errors (e.g. 'thermal images').
        exts: lower-case suffixes to keep.
        recursive: scan sub-folders too (else only the files directly in ``root``).
        allow_empty: return an empty scan instead of raising.

    Raises:
        FileNotFoundError: ``root`` is not a folder (or a link to one).
        ConversionError: no file was found (unless ``allow_empty``), or a folder cannot be listed.
    """
    if not osp.isdir(root):
        kind = 'a broken link' if osp.islink(root) else 'not found'
        raise FileNotFoundError(f'{what} folder {root} is {kind}')
    scan = TreeScan(root, what)
    seen = {osp.realpath(root): '.'}  # real folder -> relative path it was scanned under
    links: List[Tuple[str, str]] = []  # linked folders, entered after every real folder reachable without links

    def walk(prefix: str, top: str) -> None:
        for dirpath, dirnames, filenames in os.walk(top, onerror=_raise, followlinks=False):
            rel_dir = osp.relpath(dirpath, top)
            here = prefix + ('' if rel_dir == '.' else rel_dir.replace(os.sep, '/') + '/')
            entered = []
            for name in sorted(dirnames) if recursive else []:
                path = osp.join(dirpath, name)
                if osp.islink(path):
                    links.append((here + name, path))
                    continue
                real = osp.realpath(path)
                if real in seen:
                    scan.revisited.append((here + name, seen[real]))
                else:
                    seen[real] = here + name
                    entered.append(name)
            dirnames[:] = entered
            for name in sorted(filenames):
                if osp.splitext(name)[1].lower() not in exts:
                    continue
                if not osp.exists(osp.join(dirpath, name)):
                    scan.broken.append(here + name)
                else:
                    scan.files.append(here + name)

    # A folder reached both directly and through a link is scanned under its own path, the link is the repeat.
    walk('', root)
    while links:
        links.sort(reverse=True)
        rel, path = links.pop()
        real = osp.realpath(path)
        if real in seen:
            scan.revisited.append((rel, seen[real]))
        else:
            seen[real] = rel
            walk(rel + '/', path)
    scan.files.sort()
    if not scan.files and not allow_empty:
        found = f'; {len(scan.broken)} broken links' if scan.broken else ''
        raise ConversionError(f'no {what} ({", ".join(exts)}) found in {root}'
                              f'{" or its sub-folders (symbolic links followed)" if recursive else ""}{found}')
    return scan


def report_scan(report: ConversionReport, scan: TreeScan, key_prefix: str = '') -> None:
    """Record a scan's broken links as skips and its revisited folders as notes."""
    for rel in scan.broken:
        path = scan.path(rel)
        report.skip(key_prefix + rel, BROKEN_LINK, f'{path} -> {os.readlink(path)} (target not found)')
    for skipped, first in scan.revisited:
        report.note(f'{scan.what}: {osp.join(scan.root, skipped)} not scanned: its real folder was already scanned '
                    f'as {osp.join(scan.root, first)} (link loop or second link to one folder)')


def read_list(path: str) -> List[str]:
    """Read a split list: one entry per line (first whitespace-separated token), blank and ``#`` lines skipped."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'split list not found: {path}')
    entries = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#'):
                entries.append(line.split()[0])
    return entries


def find_existing(candidates: Iterable[str]) -> Optional[str]:
    """First candidate path that is a file, or None."""
    for path in candidates:
        if path and osp.isfile(path):
            return path
    return None


def resolve_list(raw_root: str, name: str, subdirs: Sequence[str] = ('', )) -> str:
    """Find a split list given as a name under ``raw_root`` (or one of ``subdirs``) or as a path."""
    candidates = [osp.join(raw_root, sub, name) for sub in subdirs] + [name]
    found = find_existing(candidates)
    if found is None:
        raise FileNotFoundError(f'split list {name!r} not found; looked at: {", ".join(candidates)}')
    return found
