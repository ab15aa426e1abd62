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
# timing ours vs port on GPU
import importlib.util
spec = importlib.util.spec_from_file_location('bm', 'tools/analysis_tools/benchmark_masking.py'); bm = importlib.util.module_from_spec(spec); spec.loader.exec_module(bm)
port = bm.ReleasedMaskingPort(); m = GMMCMSSMasking(total_ticks=100).to(dev); z = torch.zeros((), device=dev)
def run_clean(i):
    m.set_progress(i, 10**6); m(rgb, thermal); m.update_losses(z, z)
for B2 in (128, 1024):
    r2 = rgb[:1].expand(B2, L, D).contiguous() if B2 > B else rgb; t2 = thermal[:1].expand(B2, L, D).contiguous() if B2 > B else thermal
    r2 = r2 + 0.01 * torch.randn_like(r2) if B2 > B else r2
    ours = bm.time_call(lambda i: (m.set_progress(i, 10**6), m(r2, t2), m.update_losses(z, z)), 20, 3, dev)
    theirs = bm.time_call(lambda i: port(r2, t2), 2 if B2 > B else 5, 1, dev)
    print(f'GPU B={B2}: port {theirs:.2f} ms, clean {ours:.2f} ms, ratio {theirs/ours:.1f}x')
