import torch.distributed as td
def get_rank(group=None):
    return td.get_rank() if td.is_available() and td.is_initialized() else 0
def get_world_size(group=None):
    return td.get_world_size() if td.is_available() and td.is_initialized() else 1
def all_reduce(data, op='sum', group=None):
    if get_world_size() > 1:
        if op == 'mean':
            td.all_reduce(data, td.ReduceOp.SUM); data.div_(get_world_size())
        else:
            td.all_reduce(data, getattr(td.ReduceOp, op.upper()))
