# Copyright (c) mmspecgene contributors. All rights reserved.
"""End to end through the CLIs: tools/train.py, tools/test.py, tools/analysis_tools/match_eval.py and the demo on
the synthetic matching config (a short smoke run by default; the learning test is slow, ``--runslow``)."""
import json
import os.path as osp

import pytest
import torch

from mmspecgene.testing.scripts import load_script, run_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = 'configs/match/loftr/loftr_rgbt-vit-tiny_1xb4-3000i_synthetic.py'
# one thread per process: on a loaded 2-core machine torch's default two threads spin-wait on each other
ENV = dict(OMP_NUM_THREADS='1')
# Measured on 2 CPU cores (3000 iterations from a random init, OMP_NUM_THREADS=1; 21 minutes with the other core
# busy), on the 16 fixed test pairs of the synthetic matching set (MAGSAC threshold 3 px):
#                 AUC@5px  AUC@10px  precision@3px  precision@5px  matches/pair
#   trained         4.27     19.70          19.40          42.12          60.8
#   random head     0.00      0.00           0.00           0.00           0.0
#   SIFT + MAGSAC   0.00      0.00           7.99           9.03           5.1
MARGIN_AUC5 = 2.0
MARGIN_AUC10 = 5.0
MARGIN_PRECISION5 = 10.0


def _data_opts(synthetic_root, homography_file):
    data = osp.join(synthetic_root, 'match') + '/'
    return ['--cfg-options', f'train_dataloader.dataset.data_root={data}', f'val_dataloader.dataset.data_root={data}',
            f'test_dataloader.dataset.data_root={data}',
            f'val_dataloader.dataset.homography_file={homography_file}',
            f'test_dataloader.dataset.homography_file={homography_file}']


def test_train_test_eval_demo_smoke(tmp_path, synthetic_root):
    """A few iterations through tools/train.py, then tools/test.py, the SIFT baseline CLI and the demo."""
    opts = _data_opts(synthetic_root, str(tmp_path / 'homographies.json'))
    work = str(tmp_path / 'work')
    run_script(['tools/train.py', CFG, '--work-dir', work] + opts +
               ['train_cfg.max_iters=4', 'train_cfg.val_interval=4', 'default_hooks.checkpoint.interval=4'],
               REPO, ENV)
    ckpt = osp.join(work, 'iter_4.pth')
    metrics_file, preds = str(tmp_path / 'metrics.json'), str(tmp_path / 'preds.pkl')
    run_script(['tools/test.py', CFG, ckpt, '--work-dir', work, '--out', preds, '--metrics-json', metrics_file]
               + opts, REPO, ENV)
    metrics = json.load(open(metrics_file))
    for key in ('AUC@3px', 'AUC@5px', 'AUC@10px', 'precision@3px', 'precision@5px', 'num_matches'):
        assert 0 <= metrics[f'match/{key}'] <= (100 if 'num' not in key else 1e4), (key, metrics)
    match_eval = load_script(osp.join(REPO, 'tools/analysis_tools/match_eval.py'))
    rows = match_eval.main([CFG, '--predictions', preds, '--out-json', str(tmp_path / 'eval.json')] + opts)
    assert set(rows) == {'sift+magsac', 'predictions'}
    assert rows['predictions']['AUC@5px'] == pytest.approx(metrics['match/AUC@5px'])  # same metric, same pairs
    assert rows['sift+magsac']['num_matches'] > 0
    demo = load_script(osp.join(REPO, 'demo/rgbt_match_demo.py'))
    rgb = osp.join(synthetic_root, 'match', 'visible', 'test', '000001.jpg')
    out = str(tmp_path / 'demo.png')
    stats = demo.main([rgb, rgb.replace('visible', 'infrared'), CFG, ckpt, '--out-file', out, '--seed', '3'])
    assert osp.getsize(out) > 10000 and 'corner_error' in stats


def test_test_py_and_demo_on_camera_frames_with_a_state_dict_only_checkpoint(tmp_path, camera_root):
    """1280x1024 and 640x512 pairs with 3-channel grey thermal, resized by the pipeline, and weights without meta."""
    import cv2

    from mmspecgene.testing.state_dict_checkpoints import save_state_dict_only
    ckpt = save_state_dict_only(osp.join(REPO, CFG), str(tmp_path / 'match.pth'))
    rgb = osp.join(camera_root, 'match', 'visible', 'test', '000001.jpg')
    thermal = rgb.replace('visible', 'infrared')
    assert cv2.imread(rgb).shape == (1024, 1280, 3) and cv2.imread(thermal, cv2.IMREAD_UNCHANGED).shape[2] == 3
    opts = _data_opts(camera_root, str(tmp_path / 'homographies.json'))
    metrics_file = str(tmp_path / 'metrics.json')
    run_script(['tools/test.py', CFG, ckpt, '--work-dir', str(tmp_path / 'work'), '--metrics-json', metrics_file]
               + opts, REPO, ENV)
    assert 'match/AUC@5px' in json.load(open(metrics_file))
    homographies = json.load(open(tmp_path / 'homographies.json'))
    assert homographies['img_size'] == [160, 128] and len(homographies['pairs']) == 2
    demo = load_script(osp.join(REPO, 'demo/rgbt_match_demo.py'))
    out = str(tmp_path / 'demo.png')
    stats = demo.main([rgb, thermal, CFG, ckpt, '--out-file', out, '--seed', '1'])
    assert osp.getsize(out) > 10000 and 'corner_error' in stats


def _random_head_checkpoint(trained: str, out: str) -> None:
    """The trained checkpoint with every non-backbone weight re-drawn from the config's init."""
    from mmengine.config import Config
    from mmengine.registry import MODELS

    from mmspecgene.utils import register_all_modules
    register_all_modules('match')
    cfg = Config.fromfile(osp.join(REPO, CFG))
    torch.manual_seed(1)
    fresh = MODELS.build(cfg.model)
    fresh.init_weights()
    state = torch.load(trained, map_location='cpu', weights_only=False)['state_dict']
    for key, value in fresh.state_dict().items():
        if not key.startswith('backbone.'):
            state[key] = value
    torch.save(dict(state_dict=state), out)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_synthetic_matching_config_learns(tmp_path, synthetic_root):
    """The shipped synthetic config, trained through tools/train.py, beats the same model with a random head and
    SIFT + MAGSAC on the fixed test homographies at AUC@5px, AUC@10px and matching precision."""
    opts = _data_opts(synthetic_root, str(tmp_path / 'homographies.json'))
    work = str(tmp_path / 'work')
    run_script(['tools/train.py', CFG, '--work-dir', work] + opts, REPO, ENV)
    results = {}
    random_head = str(tmp_path / 'random_head.pth')
    _random_head_checkpoint(osp.join(work, 'iter_3000.pth'), random_head)
    for name, ckpt in (('trained', osp.join(work, 'iter_3000.pth')), ('random_head', random_head)):
        metrics_file = str(tmp_path / f'{name}.json')
        run_script(['tools/test.py', CFG, ckpt, '--work-dir', work, '--metrics-json', metrics_file] + opts, REPO, ENV)
        results[name] = {k.split('/')[-1]: v for k, v in json.load(open(metrics_file)).items()}
    match_eval = load_script(osp.join(REPO, 'tools/analysis_tools/match_eval.py'))
    results['sift+magsac'] = match_eval.main([CFG] + opts)['sift+magsac']
    print(json.dumps(results, indent=1))
    trained = results['trained']
    for baseline in ('random_head', 'sift+magsac'):
        assert trained['AUC@5px'] > results[baseline]['AUC@5px'] + MARGIN_AUC5, results
        assert trained['AUC@10px'] > results[baseline]['AUC@10px'] + MARGIN_AUC10, results
        assert trained['precision@5px'] > results[baseline]['precision@5px'] + MARGIN_PRECISION5, results
        assert trained['precision@3px'] > results[baseline]['precision@3px'], results
