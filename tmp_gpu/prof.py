# Temporary CPU profile on 2 pinned cores (deleted after the run).
import sys, time, torch
sys.path.insert(0, '.')
torch.set_num_threads(2)
from mmspecgene.models import GMMCMSSMasking
from mmspecgene.models.cmss import _row_moments
g = torch.Generator().manual_seed(0)
B, L, D = 128, 196, 768
x = torch.randn(2 * B, L, D, generator=g) * (torch.rand(2 * B, L, 1, generator=g) + .2)
rgb, th = x[:B], x[B:]
m = GMMCMSSMasking(total_ticks=100)
def t(name, f, n=10):
    f(); f(); s = time.perf_counter()
    for _ in range(n): f()
    print(f'{name:24s} {(time.perf_counter() - s) * 1000 / n:8.3f} ms', flush=True)
t('sums', lambda: (rgb.sum(-1), th.sum(-1)))
j = x.view(2, B * L, D).permute(1, 0, 2)
t('gram', lambda: torch.bmm(j, j.transpose(1, 2)))
t('gemv 2N', lambda: x.view(-1, D) @ torch.ones(D, 1))
t('row_moments', lambda: _row_moments(rgb, th))
c, raw = m.compute_cmss(rgb, th)
t('compute_cmss', lambda: m.compute_cmss(rgb, th))
t('mask_from_cmss', lambda: m.mask_from_cmss(c, raw))
t('em', lambda: m._em_step_clean(c))
gen = torch.Generator()
t('draw x2', lambda: (m._draw_noise(B, 19, 1., gen), m._draw_noise(B, 19, -1., gen)))
from mmspecgene.models.gmm_cmss_masking import greedy_select, build_mask_outputs
n1 = m._draw_noise(B, 19, 1., gen); n2 = m._draw_noise(B, 19, -1., gen)
t('greedy', lambda: greedy_select(c, n1, n2))
ids = greedy_select(c, n1, n2)
t('build x2', lambda: (build_mask_outputs(ids[0], L), build_mask_outputs(ids[1], L)))
from mmspecgene.models.cmss import cmss_stats
t("stats", lambda: cmss_stats(c, **raw))
t("log_vars", lambda: m.log_vars())
from torch.profiler import profile
with profile() as p:
    for _ in range(5): m.mask_from_cmss(c, raw)
print(p.key_averages().table(sort_by='self_cpu_time_total', row_limit=15))
