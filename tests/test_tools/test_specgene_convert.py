# Copyright (c) mmspecgene contributors. All rights reserved.
"""tools/model_converters/specgene_convert.py: conversions, and layout checks against the model of a config."""
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
PRETRAIN_CFG = osp.join(REPO, 'configs', 'pretrain', 'specgene', 'specgene_vit-tiny-p16_1xb16-30e_synthetic.py')
SEG_CFG = osp.join(REPO, 'configs', 'seg', 'upernet', 'upernet_rgbt-vit-tiny_1xb4-400i_synthetic.py')
DET_CFG = osp.join(REPO, 'configs', 'det', 'vitdet', 'vitdet_mask-rcnn_rgbt-vit-tiny_1xb4-400i_synthetic.py')
# the layouts of the models of the three tiny synthetic configs
TINY_PRETRAIN = dict(arch='tiny', img_size=96, decoder=dict(embed_dims=128, depth=2, mlp_ratio=4.))
TINY_SEG = dict(arch='tiny', img_size=128, channels=64, aux_channels=32)  # 4 classes
TINY_DET = dict(arch='tiny', img_size=160, pretrain_img_size=96, window_size=5, global_attn_indexes=(1, 3),
                fpn_channels=64, roi_conv_channels=64, roi_fc_channels=256)  # 2 classes


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


def test_round_trip_released_mmspecgene(tmp_path, capsys):
    released = cl.released_pretrain_checkpoint(**TINY_PRETRAIN)
    src, mid, back = tmp_path / 'released.pth', tmp_path / 'ours.pth', tmp_path / 'back.pth'
    torch.save(released, src)

    proc = run_cli(src, mid, '--dst-format', 'mmspecgene-pretrain', '--config', PRETRAIN_CFG)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert 'released-pretrain' in proc.stdout and 'auto-detected' in proc.stdout
    assert 'all keys and shapes agree' in proc.stdout
    ours = load_checkpoint_file(str(mid))
    assert detect_format(ours) == 'mmspecgene-pretrain'

    code, out = run_main(capsys, mid, back, '--dst-format', 'released-pretrain', '--config', PRETRAIN_CFG)
    assert code == 0 and out.count('all keys and shapes agree') == 2
    restored = load_checkpoint_file(str(back))['state_dict']
    assert set(restored) == set(released['state_dict'])
    assert all(torch.equal(restored[k], v) for k, v in released['state_dict'].items())


@pytest.mark.parametrize('dst_format,expected_fmt', [('det-init', 'det-init'), ('seg-init', 'seg-init')])
def test_pretrain_to_downstream_init(tmp_path, capsys, dst_format, expected_fmt):
    src = tmp_path / 'released.pth'
    torch.save(cl.released_pretrain_checkpoint(**TINY_PRETRAIN), src)
    dst = tmp_path / f'{dst_format}.pth'
    code, out = run_main(capsys, src, dst, '--dst-format', dst_format, '--config', PRETRAIN_CFG)
    assert code == 0
    assert out.count('all keys and shapes agree') == 2  # source and output
    converted = load_checkpoint_file(str(dst))
    assert detect_format(converted) == expected_fmt
    layout = (cl.det_transform_layout if dst_format == 'det-init' else cl.seg_transform_layout)('tiny', img_size=96)
    state = converted['model'] if dst_format == 'det-init' else converted
    assert {k: tuple(v.shape) for k, v in state.items()} == dict(layout)


def test_validate_only_finetuned(tmp_path, capsys):
    ckpt = cl.seg_finetuned_checkpoint(4, **TINY_SEG)
    path = tmp_path / 'seg.pth'
    torch.save(ckpt, path)
    code, out = run_main(capsys, path, '--validate-only', '--config', SEG_CFG)
    assert code == 0 and 'seg-finetuned' in out and 'all keys and shapes agree' in out

    del ckpt['state_dict']['auxiliary_head.convs.0.bn.running_mean']
    torch.save(ckpt, path)
    code, out = run_main(capsys, path, '--validate-only', '--config', SEG_CFG)
    assert code == 1 and "1 missing: ['auxiliary_head.convs.0.bn.running_mean']" in out

    det = cl.det_finetuned_checkpoint(2, **TINY_DET)
    torch.save(det, path)
    code, out = run_main(capsys, path, '--validate-only', '--config', DET_CFG)
    assert code == 0 and 'det-finetuned' in out and 'all keys and shapes agree' in out


def test_validate_names_the_wrong_class_tensor(tmp_path, capsys):
    """A reshaped decode_head.conv_seg.weight is the one finding (not the tensors a layout inferred from it)."""
    ckpt = cl.seg_finetuned_checkpoint(4, **TINY_SEG)
    ckpt['state_dict']['decode_head.conv_seg.weight'] = ckpt['state_dict']['decode_head.conv_seg.weight'].reshape(
        8, 32, 1, 1)
    path = tmp_path / 'seg.pth'
    torch.save(ckpt, path)
    code, out = run_main(capsys, path, '--validate-only', '--config', SEG_CFG)
    assert code == 1
    findings = [line for line in out.splitlines() if line.strip().startswith('reference layout')]
    assert findings == ["  reference layout (upernet_rgbt-vit-tiny_1xb4-400i_synthetic.py): 1 mismatched: "
                        "['decode_head.conv_seg.weight: file (8, 32, 1, 1) vs model (4, 64, 1, 1)']"]


def test_validate_needs_the_config_of_the_right_task(tmp_path, capsys):
    path = tmp_path / 'seg.pth'
    torch.save(cl.seg_finetuned_checkpoint(4, **TINY_SEG), path)
    code, out = run_main(capsys, path, '--validate-only')
    assert code == 1 and 'not checked; pass --config' in out
    code, out = run_main(capsys, path, '--validate-only', '--config', PRETRAIN_CFG)
    assert code == 1 and 'cannot be built' in out and 'use a seg config' in out


def test_publish_strips_training_state(tmp_path, capsys):
    ckpt = cl.det_finetuned_checkpoint(2, with_optimizer=True, **TINY_DET)
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
    released = cl.released_pretrain_checkpoint(**TINY_PRETRAIN)
    state = released_to_mmspecgene(released['state_dict'], shared_decoder_norm=False)
    state['neck.rgb.norm.weight'] = state['neck.rgb.norm.weight'] + 1
    src = tmp_path / 'separate.pth'
    torch.save(dict(meta={}, state_dict=state), src)
    with pytest.raises(Exception, match='norm_from'):
        run_main(capsys, src, tmp_path / 'out.pth', '--dst-format', 'released-pretrain', '--config', PRETRAIN_CFG)
    code, _ = run_main(capsys, src, tmp_path / 'out.pth', '--dst-format', 'released-pretrain', '--norm-from', 'rgb',
                       '--config', PRETRAIN_CFG)
    assert code == 0
    out = load_checkpoint_file(str(tmp_path / 'out.pth'))['state_dict']
    assert torch.equal(out['neck.ln1.weight'], state['neck.rgb.norm.weight'])
