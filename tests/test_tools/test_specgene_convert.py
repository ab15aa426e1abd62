# Copyright (c) mmspecgene contributors. All rights reserved.
"""tools/model_converters/specgene_convert.py (SPEC §6.5)."""
import hashlib
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmspecgene.models.checkpoint import detect_format, load_checkpoint_file, released_to_mmspecgene
from mmspecgene.testing import checkpoint_layouts as cl
from mmspecgene.testing.scripts import load_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLI = osp.join(REPO, 'tools', 'model_converters', 'specgene_convert.py')
TINY = dict(embed_dims=32, num_layers=2, num_heads=2, mlp_ratio=4.)
TINY_DEC = dict(embed_dims=16, depth=1, mlp_ratio=4.)


def run_cli(*args):
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    return subprocess.run([sys.executable, CLI, *map(str, args)], capture_output=True, text=True, env=env, cwd=REPO)


def load_cli_module():
    return load_script(CLI)


def run_main(capsys, *args):
    """In-process run; returns (exit code, stdout)."""
    code = 0
    try:
        load_cli_module().main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().out


def test_round_trip_released_mmspecgene_via_subprocess(tmp_path):
    released = cl.released_pretrain_checkpoint(arch=TINY, decoder=TINY_DEC)
    src, mid, back = tmp_path / 'released.pth', tmp_path / 'ours.pth', tmp_path / 'back.pth'
    torch.save(released, src)

    proc = run_cli(src, mid, '--dst-format', 'mmspecgene-pretrain')
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert 'released-pretrain' in proc.stdout and 'auto-detected' in proc.stdout
    assert 'all keys and shapes agree' in proc.stdout
    ours = load_checkpoint_file(str(mid))
    assert detect_format(ours) == 'mmspecgene-pretrain'

    proc = run_cli(mid, back, '--dst-format', 'released-pretrain')
    assert proc.returncode == 0, proc.stderr + proc.stdout
    restored = load_checkpoint_file(str(back))['state_dict']
    assert set(restored) == set(released['state_dict'])
    assert all(torch.equal(restored[k], v) for k, v in released['state_dict'].items())


@pytest.mark.parametrize('dst_format,expected_fmt', [('det-init', 'det-init'), ('seg-init', 'seg-init')])
def test_pretrain_to_downstream_init(tmp_path, capsys, dst_format, expected_fmt):
    src = tmp_path / 'released.pth'
    torch.save(cl.released_pretrain_checkpoint(arch=TINY, decoder=TINY_DEC), src)
    dst = tmp_path / f'{dst_format}.pth'
    code, out = run_main(capsys, src, dst, '--dst-format', dst_format)
    assert code == 0
    assert out.count('all keys and shapes agree') == 2  # source and output
    converted = load_checkpoint_file(str(dst))
    assert detect_format(converted) == expected_fmt
    layout = cl.det_transform_layout(TINY) if dst_format == 'det-init' else cl.seg_transform_layout(TINY)
    state = converted['model'] if dst_format == 'det-init' else converted
    assert {k: tuple(v.shape) for k, v in state.items()} == dict(layout)


def test_validate_only_finetuned(tmp_path, capsys):
    ckpt = cl.seg_finetuned_checkpoint(3, arch=TINY, img_size=64, channels=8, aux_channels=8)
    path = tmp_path / 'seg.pth'
    torch.save(ckpt, path)
    code, out = run_main(capsys, path, '--validate-only')
    assert code == 0 and 'seg-finetuned' in out and 'all keys and shapes agree' in out

    del ckpt['state_dict']['auxiliary_head.convs.0.bn.running_mean']
    torch.save(ckpt, path)
    code, out = run_main(capsys, path, '--validate-only')
    assert code == 1 and 'auxiliary_head.convs.0.bn.running_mean' in out

    det = cl.det_finetuned_checkpoint(2, arch=TINY, img_size=64, window_size=2, global_attn_indexes=(1, ),
                                      fpn_channels=16, roi_conv_channels=16, roi_fc_channels=32)
    torch.save(det, path)
    code, out = run_main(capsys, path, '--validate-only')
    assert code == 0 and 'det-finetuned' in out


def test_publish_strips_training_state(tmp_path, capsys):
    ckpt = cl.det_finetuned_checkpoint(1, arch=TINY, img_size=64, window_size=2, global_attn_indexes=(1, ),
                                       fpn_channels=16, roi_conv_channels=16, roi_fc_channels=32,
                                       with_optimizer=True)
    src = tmp_path / 'iter_25000.pth'
    torch.save(ckpt, src)
    code, out = run_main(capsys, src, tmp_path / 'kaist.pth', '--publish')
    assert code == 0
    published = [f for f in os.listdir(tmp_path) if f.startswith('kaist-')]
    assert len(published) == 1
    final = tmp_path / published[0]
    assert published[0] == f"kaist-{hashlib.sha256(final.read_bytes()).hexdigest()[:8]}.pth"
    result = load_checkpoint_file(str(final))
    assert set(result) == {'meta', 'state_dict'}
    assert all(torch.equal(result['state_dict'][k], v) for k, v in ckpt['state_dict'].items())


def test_norm_from_for_differing_separate_norms(tmp_path, capsys):
    released = cl.released_pretrain_checkpoint(arch=TINY, decoder=TINY_DEC)
    state = released_to_mmspecgene(released['state_dict'], shared_decoder_norm=False)
    state['neck.rgb.norm.weight'] = state['neck.rgb.norm.weight'] + 1
    src = tmp_path / 'separate.pth'
    torch.save(dict(meta={}, state_dict=state), src)
    with pytest.raises(Exception, match='norm_from'):
        run_main(capsys, src, tmp_path / 'out.pth', '--dst-format', 'released-pretrain')
    code, _ = run_main(capsys, src, tmp_path / 'out.pth', '--dst-format', 'released-pretrain', '--norm-from', 'rgb')
    assert code == 0
    out = load_checkpoint_file(str(tmp_path / 'out.pth'))['state_dict']
    assert torch.equal(out['neck.ln1.weight'], state['neck.rgb.norm.weight'])
