# Temporary GPU check (deleted after the run).
import sys, time, torch
try:
    import mmengine.dist  # noqa
    print('real mmengine')
except ImportError:
    sys.path.insert(0, 'tmp_gpu/stub'); print('stub mmengine (no-op dist)')
sys.path.insert(0, '.')
from mmspecgene.models import GMMCMSSMasking
print(torch.__version__, torch.cuda.get_device_name())
dev = torch.device('cuda')
g = torch.Generator().manual_seed(0)
B, L, D = 128, 196, 768
rgb = (torch.randn(B, L, D, generator=g) * (torch.rand(B, L, 1, generator=g) + .2)).to(dev)
thermal = (torch.randn(B, L, D, generator=g) * (torch.rand(B, L, 1, generator=g) + .2)).to(dev) + .5 * rgb
for mode in ('clean', 'faithful', 'random'):
    m = GMMCMSSMasking(mode=mode, total_ticks=100).to(dev)
    la, lb = torch.full((), .5, device=dev), torch.full((), .4, device=dev)
    T = 1000
    for it in range(3):  # warm-up (first call may allocate / compile kernels)
        m.set_progress(it, T); out = m(rgb.half(), thermal.half()); m.update_losses(la, lb); m.log_vars()
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        t0 = time.perf_counter()
        for it in range(3, 8):  # no tick is due in these iterations
            m.set_progress(it, T)
            with torch.autocast('cuda', dtype=torch.float16):
                out = m(rgb, thermal)
            m.update_losses(la, lb)
            lv = m.log_vars()
        ok = 'no sync'
    except RuntimeError as e:
        import traceback; traceback.print_exc(limit=-4); ok = f'SYNC: {e}'; torch.cuda.set_sync_debug_mode('default'); lv = m.log_vars()
    finally:
        torch.cuda.set_sync_debug_mode('default')
    torch.cuda.synchronize()
    print(mode, ok, 'overlap', float(lv['mask/overlap']), 'keep', m.keep_counts, 'cmss/p50', float(lv['cmss/p50']))
