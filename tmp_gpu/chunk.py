# Temporary: CPU chunk-size sweep for the CMSS moments (deleted after the run).
import sys, time, torch
sys.path.insert(0, '.')
torch.set_num_threads(2)
g = torch.Generator().manual_seed(0)
B, L, D = 128, 196, 768
N = B * L
x = torch.randn(2 * B, L, D, generator=g)
joint = x.view(2, N, D).permute(1, 0, 2)
flat = x.view(2 * N, D)
def t(name, f, n=10):
    f(); f(); s = time.perf_counter()
    for _ in range(n): f()
    print(f'{name:28s} {(time.perf_counter() - s) * 1000 / n:8.3f} ms', flush=True)
def unchunked():
    s = torch.mv(flat, flat.new_ones(D)); gm = torch.bmm(joint, joint.transpose(1, 2)); return s, gm
def chunked(rows, use_sum):
    out = torch.empty(5, N)
    ones = x.new_ones(D)
    for start in range(0, N, rows):
        part = joint[start:start + rows]
        gm = torch.bmm(part, part.transpose(1, 2)).view(-1, 4)
        out[2:, start:start + rows].copy_(gm[:, (0, 3, 1)].t())
        if use_sum:
            out[:2, start:start + rows].copy_(part.sum(-1).t())
        else:
            out[:2, start:start + rows].copy_(torch.matmul(part, ones).t())
    return out
t('unchunked', unchunked)
for kb in (256, 1024, 4096, 16384):
    rows = max(1, kb * 1024 // (8 * D))
    t(f'chunk {kb}KB sum', lambda: chunked(rows, True))
    t(f'chunk {kb}KB matmul', lambda: chunked(rows, False))
ref = chunked(N, True); c = chunked(341, False)
print('max diff', float((ref - c).abs().max()))
