# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBT pairs in standard tar shards plus an offset index, for clusters where a million small files hurt.

Layout: ``<out>/<prefix>-00000.tar``, ... holding ``<key>.rgb.<ext>`` and ``<key>.ir.<ext>`` members (plain POSIX
tar, readable by ``tar``, WebDataset and anything else), and ``<out>/index.json``::

    {"format": "mmspecgene-rgbt-tar-index", "version": 1,
     "shards": [{"name": "pairs-00000.tar", "bytes": 123456,
                 "pairs": [[key, rgb_member, rgb_offset, rgb_size, ir_member, ir_offset, ir_size], ...]}, ...]}

Offsets point at the member data, so a map-style dataset reads a pair with two ``os.pread`` calls on one open file
per shard and worker. Pairs keep the order of the pair list, so indices (and with them DefaultSampler's shuffles,
resumes and distributed splits) match the folder layout.
"""
import json
import os
import os.path as osp
import tarfile
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

INDEX_FORMAT = 'mmspecgene-rgbt-tar-index'
INDEX_VERSION = 1
TAGS = ('rgb', 'ir')
BLOCK = tarfile.BLOCKSIZE  # 512

Entry = List  # [key, rgb_member, rgb_offset, rgb_size, ir_member, ir_offset, ir_size]
ENTRY_FIELDS = ('key', 'rgb_member', 'rgb_offset', 'rgb_size', 'ir_member', 'ir_offset', 'ir_size')


def pair_key(rgb_rel: str) -> str:
    """Member key of a pair: the visible relative path without extension, dots in the file name replaced by '_'
    (a key ends at the first dot of the member's file name)."""
    head, tail = osp.split(osp.splitext(rgb_rel.replace(os.sep, '/'))[0])
    return f'{head}/{tail.replace(".", "_")}' if head else tail.replace('.', '_')


def _tar_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, 0
    return info


def ustar_names(member: str) -> Tuple[str, ...]:
    """The names a member's own ustar header may hold: PAX writers put the full name in an extended header and a
    100-byte ustar name, ASCII with '?' for other characters (Python's PAX writer) or the first 100 bytes of the
    UTF-8 name, possibly cut inside a character (GNU tar, Python's GNU writer; read back with surrogateescape, as
    the header is). Members whose
    names share those 100 bytes are told apart by their sizes only."""
    return (member, member.encode('ascii', 'replace')[:100].decode('ascii'),
            member.encode('utf-8')[:100].decode('utf-8', 'surrogateescape'))


def pack_pairs(pairs: Sequence[Tuple[str, str]], rgb_root: str, ir_root: str, out_dir: str,
               pairs_per_shard: int = 2000, prefix: str = 'pairs', progress=None) -> dict:
    """Pack (visible_rel, infrared_rel) pairs into tar shards under ``out_dir`` and write ``index.json``.

    Each shard is written to a temporary name, re-read to build its index entries (so the index always describes
    the bytes on disk) and renamed. Returns the index dict.
    """
    if pairs_per_shard < 1:
        raise ValueError(f'pairs_per_shard must be >= 1, got {pairs_per_shard}')
    os.makedirs(out_dir, exist_ok=True)
    keys = {}
    for rgb_rel, _ in pairs:
        key = pair_key(rgb_rel)
        if key in keys:
            raise ValueError(f'pairs {keys[key]!r} and {rgb_rel!r} map to the same tar key {key!r}')
        keys[key] = rgb_rel
    shards = []
    for start in range(0, len(pairs), pairs_per_shard):
        name = f'{prefix}-{start // pairs_per_shard:05d}.tar'
        path, tmp = osp.join(out_dir, name), osp.join(out_dir, name + '.part')
        with tarfile.open(tmp, 'w', format=tarfile.PAX_FORMAT) as tar:
            for rgb_rel, ir_rel in pairs[start:start + pairs_per_shard]:
                key = pair_key(rgb_rel)
                for tag, root, rel in (('rgb', rgb_root, rgb_rel), ('ir', ir_root, ir_rel)):
                    src = osp.join(root, rel)
                    if not osp.isfile(src):
                        raise FileNotFoundError(f'shard {name}, key {key!r}: {tag} file not found: {src}')
                    ext = osp.splitext(rel)[1].lower() or '.bin'
                    with open(src, 'rb') as f:
                        tar.addfile(_tar_info(f'{key}.{tag}{ext}', osp.getsize(src)), f)
                if progress is not None:
                    progress()
        os.replace(tmp, path)
        shards.append(dict(name=name, bytes=osp.getsize(path), pairs=index_shard(path)))
    index = dict(format=INDEX_FORMAT, version=INDEX_VERSION, shards=shards)
    write_index(index, osp.join(out_dir, 'index.json'))
    return index


def index_shard(path: str) -> List[Entry]:
    """Scan a tar shard's headers and return its pair entries in member order.

    Raises:
        ValueError: naming the shard and key, for a truncated or corrupt shard (also one cut between members:
            no end-of-archive marker), a member that is not
            ``<key>.rgb.<ext>`` / ``<key>.ir.<ext>``, a duplicate member, or a key without both members.
    """
    name = osp.basename(path)
    size = osp.getsize(path)
    members: Dict[str, Dict[str, tuple]] = {}
    order: List[str] = []
    last = None
    try:
        with tarfile.open(path, 'r:') as tar:
            for info in tar:
                if not info.isfile():
                    continue
                parts = info.name.rsplit('.', 2)
                if len(parts) != 3 or parts[1] not in TAGS:
                    raise ValueError(f'shard {path}: member {info.name!r} is not <key>.rgb.<ext> or <key>.ir.<ext>')
                key, tag = parts[0], parts[1]
                last = key
                if info.offset_data + info.size > size:
                    raise ValueError(f'truncated shard {path}: key {key!r} member {info.name!r} needs bytes up to '
                                     f'{info.offset_data + info.size}, the file has {size}')
                slot = members.setdefault(key, {})
                if not slot:
                    order.append(key)
                if tag in slot:
                    raise ValueError(f'shard {path}: key {key!r} has two .{tag} members')
                slot[tag] = (info.name, info.offset_data, info.size)
            end = tar.offset
    except tarfile.TarError as err:
        where = f'after key {last!r}' if last else 'before its first member'
        raise ValueError(f'truncated or corrupt shard {path} ({err}) {where}') from None
    with open(path, 'rb') as f:  # a complete tar ends with two zero blocks; a cut between members lacks them
        f.seek(end)
        tail = f.read(2 * BLOCK)
    if len(tail) < 2 * BLOCK or any(tail):
        raise ValueError(f'truncated shard {path}: no end-of-archive marker after key {last!r}')
    entries = []
    for key in order:
        slot = members[key]
        missing = [tag for tag in TAGS if tag not in slot]
        if missing:
            present = ', '.join(member for member, _, _ in slot.values())
            raise ValueError(f'shard {name} ({path}): key {key!r} is unpaired: it has {present} but no '
                             f'.{missing[0]} member')
        entries.append([key, *slot['rgb'], *slot['ir']])
    return entries


def build_index(shard_paths: Sequence[str]) -> dict:
    """Index of existing shards (e.g. written by other tools), names relative to the index's folder.

    Raises:
        ValueError: as :func:`index_shard`, or a key found in two shards (naming both).
    """
    index = dict(format=INDEX_FORMAT, version=INDEX_VERSION,
                 shards=[dict(name=osp.basename(p), bytes=osp.getsize(p), pairs=index_shard(p)) for p in shard_paths])
    check_index(index, 'the shards ' + ', '.join(shard_paths))
    return index


def write_index(index: dict, path: str) -> None:
    tmp = path + '.part'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(index, f, separators=(',', ':'))
    os.replace(tmp, path)


def load_index(path: str, local_path: Optional[str] = None) -> dict:
    """Read and check an index (``local_path``: a local copy of ``path``); errors name the file."""
    with open(local_path or path, encoding='utf-8') as f:
        try:
            index = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'tar shard index is not valid JSON ({err}): {path}') from None
    found = index.get('format') if isinstance(index, dict) else type(index).__name__
    if found != INDEX_FORMAT:
        raise ValueError(f'{path} is not a {INDEX_FORMAT} file (format={found!r})')
    if index.get('version') != INDEX_VERSION:
        raise ValueError(f'{path}: index version {index.get("version")!r}, this reader knows {INDEX_VERSION}')
    check_index(index, path)
    return index


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def short_repr(value, limit: int = 160) -> str:
    """``repr(value)`` cut to ``limit`` characters, for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def check_index(index: dict, source: str) -> None:
    """The structure of an index: shards ``{"name", "bytes", "pairs"}``, entries of :data:`ENTRY_FIELDS` whose
    members are ``<key>.rgb.<ext>`` / ``<key>.ir.<ext>``, and each key in one place only.

    Raises:
        ValueError: naming ``source`` (the index file), the shard and the entry or key.
    """
    shards = index.get('shards')
    if not isinstance(shards, list):
        raise ValueError(f'{source}: "shards" must be a list of shards, got {short_repr(shards)}')
    owner: Dict[str, str] = {}
    for number, shard in enumerate(shards):
        if not (isinstance(shard, dict) and isinstance(shard.get('name'), str) and _is_count(shard.get('bytes'))
                and isinstance(shard.get('pairs'), list)):
            raise ValueError(f'{source}: shard {number} must be {{"name": text, "bytes": count, "pairs": list}}, '
                             f'got {short_repr(shard)}')
        where = f'{source}: shard {shard["name"]!r}'
        for entry in shard['pairs']:
            if not (isinstance(entry, list) and len(entry) == len(ENTRY_FIELDS) and isinstance(entry[0], str)
                    and all(_is_count(entry[i]) for i in (2, 3, 5, 6))):
                raise ValueError(f'{where}: entry {short_repr(entry)} is not [{", ".join(ENTRY_FIELDS)}] with a text '
                                 'key and whole-number offsets and sizes')
            key = entry[0]
            for tag, member in zip(TAGS, (entry[1], entry[4])):
                if not isinstance(member, str) or member.rsplit('.', 2)[:2] != [key, tag]:
                    raise ValueError(f'{where}, key {key!r}: the {tag} member is {short_repr(member)}, expected '
                                     f'{key}.{tag}.<ext>')
            if key in owner:
                again = 'twice in shard' if owner[key] == shard['name'] else f'in shard {owner[key]!r} and in shard'
                raise ValueError(f'{source}: key {key!r} is listed {again} {shard["name"]!r}')
            owner[key] = shard['name']


def check_shard_sizes(index: dict, shard_dir: str) -> None:
    """Every shard exists with the byte size the index records; errors name the shard and the first affected key."""
    for shard in index['shards']:
        path = osp.join(shard_dir, shard['name'])
        if not osp.isfile(path):
            raise FileNotFoundError(f'tar shard listed in the index not found: {path}')
        size = osp.getsize(path)
        if size == shard['bytes']:
            continue
        if size < shard['bytes']:
            cut = next((e[0] for e in shard['pairs'] if max(e[2] + e[3], e[5] + e[6]) > size), None)
            raise ValueError(f'truncated shard {path}: {size} bytes, the index expects {shard["bytes"]}; key {cut!r} '
                             f'and later are cut off')
        raise ValueError(f'index disagrees with shard {path}: {size} bytes, the index expects {shard["bytes"]} '
                         f'(first key {shard["pairs"][0][0] if shard["pairs"] else None!r}); rebuild the index')


class ShardReader:
    """Reads index entries by offset with ``os.pread`` through one file descriptor per shard and process.

    Descriptors are opened lazily and reopened after a fork (each DataLoader worker has its own); the reader
    pickles without them. At most ``max_open`` stay open per process, the least recently read shard's is closed
    first, so any number of shards fits the open-file limit. Each read also checks the tar header in front of the
    data against the index.

    Args:
        max_open (int): open shard files per process. Default 64.
    """

    def __init__(self, max_open: int = 64):
        if max_open < 1:
            raise ValueError(f'ShardReader: max_open={max_open} must be >= 1')
        self.max_open = max_open
        self._fds: 'OrderedDict[str, int]' = OrderedDict()
        self._pid = os.getpid()

    def __getstate__(self):
        return {'max_open': self.max_open}

    def __setstate__(self, state):
        self.__init__(**state)

    def _fd(self, path: str) -> int:
        if self._pid != os.getpid():  # the parent's descriptors stay the parent's
            self._fds, self._pid = OrderedDict(), os.getpid()
        fd = self._fds.get(path)
        if fd is not None:
            self._fds.move_to_end(path)
            return fd
        if len(self._fds) >= self.max_open:
            os.close(self._fds.popitem(last=False)[1])
        fd = self._fds[path] = os.open(path, os.O_RDONLY)
        return fd

    def read(self, path: str, key: str, member: str, offset: int, size: int) -> bytes:
        """The data of ``member`` (index entry of ``key``) in shard ``path``; errors name the shard and key."""
        fd = self._fd(path)
        header = os.pread(fd, BLOCK, offset - BLOCK) if offset >= BLOCK else b''
        try:
            info = tarfile.TarInfo.frombuf(header, 'utf-8', 'surrogateescape')
        except tarfile.TarError:
            info = None
        if info is None or info.size != size or info.name not in ustar_names(member):
            found = 'no tar header' if info is None else f'{info.name!r} ({info.size} bytes)'
            raise ValueError(f'index disagrees with shard {path} at key {key!r}: expected member {member!r} '
                             f'({size} bytes) at offset {offset}, found {found}; rebuild the index')
        data = os.pread(fd, size, offset)
        if len(data) != size:
            raise ValueError(f'truncated shard {path}: key {key!r} member {member!r} has {len(data)} of {size} bytes')
        return data

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds = OrderedDict()

    def __del__(self):
        try:
            if self._pid == os.getpid():
                self.close()
        except Exception:  # interpreter shutdown
            pass
