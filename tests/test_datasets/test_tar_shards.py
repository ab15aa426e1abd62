# Copyright (c) mmspecgene contributors. All rights reserved.
"""Tar shards: packing, reading back by offset, and clear errors for broken shards and indices."""
import io
import json
import os
import os.path as osp
import re
import tarfile

import cv2
import numpy as np
import pytest

from mmspecgene.datasets.tar_shards import (
    ShardReader,
    build_index,
    check_shard_sizes,
    index_shard,
    load_index,
    pack_pairs,
    pair_key,
)


@pytest.fixture(scope='module')
def small_pairs(tmp_path_factory):
    """1,000 small pairs (40×32 colour JPEG + grey PNG thermal) in folders with a pair list, nested paths."""
    root = str(tmp_path_factory.mktemp('pairs'))
    rng = np.random.default_rng(0)
    pairs = []
    for index in range(1000):
        rel = f'set{index // 250}/v{index % 3}/{index:05d}'
        rgb_rel, ir_rel = f'{rel}.jpg', f'{rel}.png'
        for sub, rel_path, img in (('visible', rgb_rel, rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)),
                                   ('infrared', ir_rel, rng.integers(0, 256, (32, 40), dtype=np.uint8))):
            path = osp.join(root, sub, rel_path)
            os.makedirs(osp.dirname(path), exist_ok=True)
            cv2.imwrite(path, img)
        pairs.append((rgb_rel, ir_rel))
    return root, pairs


@pytest.fixture(scope='module')
def packed(small_pairs, tmp_path_factory):
    root, pairs = small_pairs
    out = str(tmp_path_factory.mktemp('shards'))
    index = pack_pairs(pairs, osp.join(root, 'visible'), osp.join(root, 'infrared'), out, pairs_per_shard=300)
    return out, index


def test_pack_and_read_back_1000_pairs(small_pairs, packed):
    root, pairs = small_pairs
    out, index = packed
    assert [s['name'] for s in index['shards']] == [f'pairs-{i:05d}.tar' for i in range(4)]
    entries = [(s['name'], e) for s in index['shards'] for e in s['pairs']]
    assert len(entries) == 1000
    assert load_index(osp.join(out, 'index.json')) == json.loads(json.dumps(index))
    check_shard_sizes(index, out)
    reader = ShardReader()
    for (rgb_rel, ir_rel), (name, entry) in zip(pairs, entries):  # pair-list order is kept
        key, rgb_member, rgb_off, rgb_size, ir_member, ir_off, ir_size = entry
        assert key == pair_key(rgb_rel) == osp.splitext(rgb_rel)[0]
        assert rgb_member == f'{key}.rgb.jpg' and ir_member == f'{key}.ir.png'
        shard = osp.join(out, name)
        with open(osp.join(root, 'visible', rgb_rel), 'rb') as f:
            assert reader.read(shard, key, rgb_member, rgb_off, rgb_size) == f.read()
        with open(osp.join(root, 'infrared', ir_rel), 'rb') as f:
            assert reader.read(shard, key, ir_member, ir_off, ir_size) == f.read()
    reader.close()
    with tarfile.open(osp.join(out, 'pairs-00000.tar')) as tar:  # a standard tar
        assert tar.getnames()[:2] == ['set0/v0/00000.rgb.jpg', 'set0/v0/00000.ir.png']


def test_missing_source_file_names_shard_and_key(small_pairs, tmp_path):
    root, pairs = small_pairs
    broken = pairs[:3] + [('set0/v0/nothere.jpg', 'set0/v0/nothere.png')]
    with pytest.raises(FileNotFoundError, match=r"shard pairs-00001\.tar, key 'set0/v0/nothere': rgb file"):
        pack_pairs(broken, osp.join(root, 'visible'), osp.join(root, 'infrared'), str(tmp_path), pairs_per_shard=3)


def _write_tar(path, members):
    with tarfile.open(path, 'w') as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_unpaired_and_misnamed_members(tmp_path):
    unpaired = str(tmp_path / 'u.tar')
    _write_tar(unpaired, [('a.rgb.jpg', b'x' * 10), ('a.ir.png', b'y' * 5), ('b.rgb.jpg', b'z' * 7)])
    with pytest.raises(ValueError, match=r"shard u\.tar .*key 'b' is unpaired: it has b\.rgb\.jpg but no \.ir"):
        index_shard(unpaired)
    misnamed = str(tmp_path / 'm.tar')
    _write_tar(misnamed, [('a.rgb.jpg', b'x'), ('a.thermal.png', b'y')])
    with pytest.raises(ValueError, match=r"m\.tar: member 'a\.thermal\.png' is not <key>\.rgb"):
        index_shard(misnamed)
    good = str(tmp_path / 'g.tar')
    _write_tar(good, [('k1.rgb.jpg', b'a' * 600), ('k1.ir.jpg', b'b' * 3)])
    assert [e[0] for e in build_index([good])['shards'][0]['pairs']] == ['k1']


def test_truncated_shard(packed, tmp_path):
    out, index = packed
    shard = tmp_path / 'pairs-00001.tar'
    data = open(osp.join(out, 'pairs-00001.tar'), 'rb').read()
    shard.write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=r"truncated .*shard .*pairs-00001\.tar.*key 'set"):
        index_shard(str(shard))
    one = dict(index, shards=[index['shards'][1]])
    with pytest.raises(ValueError, match=r"truncated shard .*pairs-00001\.tar: \d+ bytes, the index expects \d+; "
                                         r"key 'set\d/v\d/\d+' and later are cut off"):
        check_shard_sizes(one, str(tmp_path))
    key, member, offset, size = [index['shards'][1]['pairs'][-1][i] for i in (0, 1, 2, 3)]
    with pytest.raises(ValueError, match=f'pairs-00001.tar.*{key}'):
        ShardReader().read(str(shard), key, member, offset, size)


def test_index_disagreeing_with_its_shard(packed):
    out, index = packed
    shard = osp.join(out, 'pairs-00002.tar')
    key, rgb_member, rgb_off, rgb_size = index['shards'][2]['pairs'][5][:4]
    other = index['shards'][2]['pairs'][6]
    reader = ShardReader()
    with pytest.raises(ValueError, match=rf"index disagrees with shard .*pairs-00002\.tar at key '{key}': expected "
                                         rf"member '{rgb_member}'.*found '{other[1]}'"):
        reader.read(shard, key, rgb_member, other[2], rgb_size)  # offset of another member
    with pytest.raises(ValueError, match=f"index disagrees with shard .*at key '{key}'"):
        reader.read(shard, key, rgb_member, rgb_off, rgb_size + 1)  # wrong size
    grown = dict(index, shards=[dict(index['shards'][2], bytes=index['shards'][2]['bytes'] - 512)])
    with pytest.raises(ValueError, match=r'index disagrees with shard .*pairs-00002\.tar.*first key'):
        check_shard_sizes(grown, out)


@pytest.mark.parametrize('stem', ['Straße/frame_é1', 'd' * 60 + '/' + 'straße_' * 10])
def test_non_ascii_and_long_member_names_read_back(tmp_path, stem):
    """PAX stores such names in an extended header; the member's own ustar header holds a '?'-replaced,
    100-byte name, which the reader accepts for the indexed member."""
    rel = f'{stem}.jpg'
    for sub in ('visible', 'infrared'):
        path = tmp_path / sub / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f'{sub} bytes'.encode())
    index = pack_pairs([(rel, rel)], str(tmp_path / 'visible'), str(tmp_path / 'infrared'), str(tmp_path / 'out'))
    key, rgb_member, rgb_off, rgb_size, ir_member, ir_off, ir_size = index['shards'][0]['pairs'][0]
    assert key == stem and rgb_member == f'{stem}.rgb.jpg'
    shard = str(tmp_path / 'out' / index['shards'][0]['name'])
    reader = ShardReader()
    assert reader.read(shard, key, rgb_member, rgb_off, rgb_size) == b'visible bytes'
    assert reader.read(shard, key, ir_member, ir_off, ir_size) == b'infrared bytes'
    if len(rgb_member) <= 100:  # longer names share their 100-byte ustar prefix: only the size tells them apart
        with pytest.raises(ValueError, match='index disagrees'):
            reader.read(shard, key, rgb_member, ir_off, ir_size)  # the thermal member is not the visible one


def test_gnu_format_shard_with_a_name_cut_inside_a_character(tmp_path):
    """GNU writers keep the first 100 UTF-8 bytes of a long name in the member header, possibly half a character."""
    key = 'é' * 40 + '/' + 'ß' * 45  # 171 UTF-8 bytes: byte 100 falls inside a 'ß'
    members = {f'{key}.rgb.jpg': b'visible bytes', f'{key}.ir.jpg': b'infrared bytes!'}
    shard = tmp_path / 'pairs-00000.tar'
    with tarfile.open(shard, 'w', format=tarfile.GNU_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    entry = build_index([str(shard)])['shards'][0]['pairs'][0]
    assert entry[0] == key
    reader = ShardReader()
    assert reader.read(str(shard), key, entry[1], entry[2], entry[3]) == b'visible bytes'
    assert reader.read(str(shard), key, entry[4], entry[5], entry[6]) == b'infrared bytes!'


def _index_file(tmp_path, index):
    path = str(tmp_path / 'index.json')
    with open(path, 'w') as f:
        json.dump(index, f)
    return path


def test_malformed_index_names_the_file_shard_and_entry(packed, tmp_path):
    _, index = packed
    shard = index['shards'][0]
    entry = shard['pairs'][3]
    cases = [
        (dict(index, shards=None), r'"shards" must be a list'),
        (dict(index, shards=[dict(name='x.tar', pairs=[])]), r'shard 0 must be \{"name": text, "bytes": count'),
        (dict(index, shards=[dict(shard, pairs=[entry[:6]])]),
         rf"shard 'pairs-00000\.tar': entry \['{entry[0]}'.* is not \[key, rgb_member"),
        (dict(index, shards=[dict(shard, pairs=[[*entry[:2], str(entry[2]), *entry[3:]]])]),
         r'whole-number offsets and sizes'),
        (dict(index, shards=[dict(shard, pairs=[[entry[0], entry[4], *entry[2:4], entry[1], *entry[5:]]])]),
         rf"shard 'pairs-00000\.tar', key '{entry[0]}': the rgb member is '{entry[4]}', expected "),
        (dict(index, shards=[dict(shard, pairs=[entry, entry])]),
         rf"key '{entry[0]}' is listed twice in shard 'pairs-00000\.tar'"),
        (dict(index, shards=[shard, dict(index['shards'][1], pairs=[entry])]),
         rf"key '{entry[0]}' is listed in shard 'pairs-00000\.tar' and in shard 'pairs-00001\.tar'"),
    ]
    for broken, message in cases:
        path = _index_file(tmp_path, broken)
        with pytest.raises(ValueError, match=re.escape(path) + '.*' + message):
            load_index(path)


def test_a_key_in_two_shards_is_an_error(tmp_path):
    first, second = str(tmp_path / 'p-00000.tar'), str(tmp_path / 'p-00001.tar')
    _write_tar(first, [('seq/k1.rgb.jpg', b'a'), ('seq/k1.ir.jpg', b'b')])
    _write_tar(second, [('seq/k1.rgb.jpg', b'c'), ('seq/k1.ir.jpg', b'd')])
    with pytest.raises(ValueError, match=r"key 'seq/k1' is listed in shard 'p-00000\.tar' and in shard 'p-00001"):
        build_index([first, second])


def test_reader_keeps_a_bounded_number_of_shards_open(packed):
    out, index = packed
    reader = ShardReader(max_open=2)
    for _ in range(2):
        for shard in index['shards']:  # 4 shards through 2 descriptors
            key, member, offset, size = shard['pairs'][0][:4]
            assert len(reader.read(osp.join(out, shard['name']), key, member, offset, size)) == size
            assert len(reader._fds) <= 2
    assert list(reader._fds) == [osp.join(out, s['name']) for s in index['shards'][-2:]]
    reader.close()
