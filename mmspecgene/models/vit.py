# Copyright (c) mmspecgene contributors. All rights reserved.
"""The single ViT core of mmspecgene.

Pretraining (:class:`RGBTMAEViT`), detection (:class:`RGBTViTDet`) and segmentation
(:class:`RGBTViTSeg`) are thin subclasses of :class:`SpecGeneViT`; they differ only in options
(naming, windows, relative position, layer scale, cls token, final norm, output taps).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.model import BaseModule

from .checkpoint import load_checkpoint_file, load_state_dict_with_report, to_encoder_state
from .layers.pos_embed import sincos_pos_embed_2d
from .layers.transformer import TransformerBlock, check_naming

#: The one table of ViT sizes. Every size-dependent value of every task derives from it: width, depth, heads,
#: the ViTDet global-attention blocks (``global_attn_indexes``, windowed attention elsewhere) and the four blocks
#: whose outputs feed the dense-prediction necks (``out_indices``). The fused RGBT features a neck receives are
#: ``2 * embed_dims`` wide ([RGB | T] concatenated).
ARCH_SETTINGS = {
    'small': dict(embed_dims=384, num_layers=12, num_heads=6, mlp_ratio=4.,
                  global_attn_indexes=(2, 5, 8, 11), out_indices=(3, 5, 7, 11)),
    'base': dict(embed_dims=768, num_layers=12, num_heads=12, mlp_ratio=4.,
                 global_attn_indexes=(2, 5, 8, 11), out_indices=(3, 5, 7, 11)),
    'large': dict(embed_dims=1024, num_layers=24, num_heads=16, mlp_ratio=4.,
                  global_attn_indexes=(5, 11, 17, 23), out_indices=(7, 11, 15, 23)),
    # a few-layer model for CPU demos and tests; same code path as ViT-B
    'tiny': dict(embed_dims=192, num_layers=4, num_heads=3, mlp_ratio=4.,
                 global_attn_indexes=(1, 3), out_indices=(0, 1, 2, 3)),
}
#: Short names, as in the config names (``vit-s``, ``vit-b``, ``vit-l``).
ARCH_ALIASES = {'s': 'small', 'b': 'base', 'l': 'large', 't': 'tiny'}
ARCH_REQUIRED_KEYS = ('embed_dims', 'num_layers', 'num_heads', 'mlp_ratio')


def default_global_attn_indexes(num_layers: int) -> Tuple[int, ...]:
    """ViTDet's rule: global attention in the last block of each quarter ((2, 5, 8, 11) for 12 blocks,
    (5, 11, 17, 23) for 24)."""
    return tuple(sorted({(k + 1) * num_layers // 4 - 1 for k in range(4)} - {-1}))


def default_out_indices(num_layers: int) -> Tuple[int, ...]:
    """BEiT/UperNet taps scaled to depth: after blocks L/3, L/2, 2L/3 and L (1-based): (3, 5, 7, 11) for
    12 blocks, (7, 11, 15, 23) for 24; the last ``min(4, L)`` blocks when L < 6."""
    if num_layers < 6:
        return tuple(range(max(num_layers - 4, 0), num_layers))
    return (num_layers // 3 - 1, num_layers // 2 - 1, 2 * num_layers // 3 - 1, num_layers - 1)


def get_arch_settings(arch) -> dict:
    """Resolve ``arch`` (a name of :data:`ARCH_SETTINGS`, an alias of :data:`ARCH_ALIASES` or a dict) to a full
    settings dict; a dict must give ``embed_dims``, ``num_layers``, ``num_heads``, ``mlp_ratio`` and gets
    ``global_attn_indexes`` / ``out_indices`` from the depth rules when it leaves them out."""
    if isinstance(arch, str):
        name = ARCH_ALIASES.get(arch.lower(), arch.lower())
        if name not in ARCH_SETTINGS:
            raise KeyError(f'unknown arch {arch!r}, expected one of {tuple(ARCH_SETTINGS)}, an alias of '
                           f'{tuple(ARCH_ALIASES)} or a dict with {ARCH_REQUIRED_KEYS}')
        return dict(ARCH_SETTINGS[name])
    if not isinstance(arch, dict):
        raise TypeError(f'arch must be a str or a dict, got {type(arch).__name__}')
    missing = [key for key in ARCH_REQUIRED_KEYS if key not in arch]
    if missing:
        raise KeyError(f'arch dict {dict(arch)} lacks {missing}')
    settings = dict(arch)
    if settings['embed_dims'] % settings['num_heads']:
        raise ValueError(f'arch embed_dims={settings["embed_dims"]} is not divisible by '
                         f'num_heads={settings["num_heads"]}')
    settings.setdefault('global_attn_indexes', default_global_attn_indexes(settings['num_layers']))
    settings.setdefault('out_indices', default_out_indices(settings['num_layers']))
    return settings


PRETRAINED_INIT_KEYS = frozenset({'type', 'checkpoint', 'src_format'})

_TOP_NAMES = {
    'mmpretrain': dict(patch='projection', layers='layers', final_norm='ln1'),
    'timm': dict(patch='proj', layers='blocks', final_norm='norm'),
}


class PatchEmbed(nn.Module):
    """Non-overlapping conv patch embedding (no norm).

    Input (B, in_channels, H, W) -> tokens (B, H/p * W/p, C) and the grid (H/p, W/p).
    The conv is named ``projection`` (mmpretrain) or ``proj`` (timm).
    """

    def __init__(self, in_channels: int, embed_dims: int, patch_size: int, conv_name: str = 'projection'):
        super().__init__()
        self.patch_size = patch_size
        self._conv_name = conv_name
        self._modules[conv_name] = nn.Conv2d(in_channels, embed_dims, patch_size, stride=patch_size)

    @property
    def conv(self) -> nn.Conv2d:
        return self._modules[self._conv_name]

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, Tuple[int, int]]:
        H, W = x.shape[-2:]
        if H % self.patch_size or W % self.patch_size:
            raise ValueError(f'input size {H}x{W} is not divisible by patch size {self.patch_size}')
        x = self.conv(x)
        hw = (x.shape[2], x.shape[3])
        return x.flatten(2).transpose(1, 2), hw


def split_modalities(inputs: torch.Tensor) -> torch.Tensor:
    """(B, 6, H, W) [RGB | T] -> (2B, 3, H, W) = [RGB_0..RGB_{B-1}, T_0..T_{B-1}]."""
    if inputs.dim() != 4 or inputs.shape[1] != 6:
        raise ValueError(f'expected a (B, 6, H, W) [RGB | thermal] batch, got shape {tuple(inputs.shape)}')
    return torch.cat([inputs[:, :3], inputs[:, 3:]], dim=0)


def fuse_modalities(features: torch.Tensor) -> torch.Tensor:
    """(2B, C, ...) stacked [all RGB; all T] -> (B, 2C, ...) = per-sample [RGB | T] channel concat."""
    if features.shape[0] % 2:
        raise ValueError(f'expected an even stacked batch [RGB; T], got {features.shape[0]}')
    rgb, thermal = features.chunk(2, dim=0)
    return torch.cat([rgb, thermal], dim=1)


class SpecGeneViT(BaseModule):
    """Configurable ViT encoder with checkpoint-compatible names.

    Args:
        arch (str | dict): ``'small'``, ``'base'``, ``'large'``, ``'tiny'`` (or ``'s'``, ``'b'``, ``'l'``,
            ``'t'``) or a dict with ``embed_dims``, ``num_layers``, ``num_heads``, ``mlp_ratio``
            (see :func:`get_arch_settings`).
        img_size (int | tuple): Build input size (H, W); the positional table covers its grid.
        patch_size (int): Patch size p.
        in_channels (int): Channels per modality (3).
        naming (str): ``'mmpretrain'`` (``patch_embed.projection``, ``layers``, ``ln1``) or
            ``'timm'`` (``patch_embed.proj``, ``blocks``, ``norm``).
        qkv_bias (bool): Bias of the fused qkv projections.
        with_cls_token (bool): Learnable ``cls_token`` and a cls row in ``pos_embed``.
        pos_embed_type (str): ``'sincos'`` (fixed, ``requires_grad=False``) or ``'learnable'``.
        final_norm (bool): Apply the final LayerNorm.
        norm_eps (float): LayerNorm epsilon of blocks and final norm.
        drop_path_rate (float): Max stochastic depth (linear over layers).
        layer_scale_init_value (float): Layer-scale gamma init (0 = none).
        window_size (int): Window of windowed blocks (0 = all global).
        global_attn_indexes (Sequence[int]): Blocks with global attention when windows are used.
        rel_pos (str): ``'none'``, ``'decomposed'`` (ViTDet) or ``'bias'`` (BEiT).
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=PATH, src_format='auto')`` loads
            any pretraining checkpoint format (docs/en/method.md#checkpoint-layouts) after a fresh init, with a key
            report; subclasses
            set the renaming (:meth:`adapt_encoder_state`) and the allowed missing/unexpected keys.
    """
    #: regexes of keys a pretraining checkpoint may lack / may carry in addition (downstream backbones)
    pretrained_allowed_missing: Tuple[str, ...] = ()
    pretrained_allowed_unexpected: Tuple[str, ...] = ()

    def __init__(self,
                 arch='base',
                 img_size=224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 naming: str = 'mmpretrain',
                 qkv_bias: bool = True,
                 with_cls_token: bool = True,
                 pos_embed_type: str = 'sincos',
                 final_norm: bool = True,
                 norm_eps: float = 1e-6,
                 drop_path_rate: float = 0.,
                 layer_scale_init_value: float = 0.,
                 window_size: int = 0,
                 global_attn_indexes: Sequence[int] = (),
                 rel_pos: str = 'none',
                 init_cfg: Optional[dict] = None):
        if init_cfg is not None and (init_cfg.get('type') != 'Pretrained' or 'checkpoint' not in init_cfg
                                     or set(init_cfg) - PRETRAINED_INIT_KEYS):
            raise ValueError(f'{type(self).__name__} init_cfg must be dict(type="Pretrained", checkpoint=PATH, '
                             f'src_format="auto"), got {dict(init_cfg)}')
        super().__init__(init_cfg=init_cfg)
        settings = get_arch_settings(arch)
        self.arch_settings = settings
        self.embed_dims = settings['embed_dims']
        self.num_layers = settings['num_layers']
        self.num_heads = settings['num_heads']
        self.img_size = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        self.patch_size = patch_size
        self.grid_size = (self.img_size[0] // patch_size, self.img_size[1] // patch_size)
        self.naming = naming
        check_naming(naming)
        names = _TOP_NAMES[naming]
        self._layers_name, self._final_norm_name = names['layers'], names['final_norm']
        self.with_cls_token = with_cls_token
        self.num_extra_tokens = int(with_cls_token)
        if pos_embed_type not in ('sincos', 'learnable'):
            raise ValueError(f"pos_embed_type must be 'sincos' or 'learnable', got {pos_embed_type!r}")
        self.pos_embed_type = pos_embed_type

        self.patch_embed = PatchEmbed(in_channels, self.embed_dims, patch_size, names['patch'])
        if with_cls_token:
            self.cls_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))
        num_pos = self.grid_size[0] * self.grid_size[1] + self.num_extra_tokens
        self.pos_embed = nn.Parameter(
            torch.zeros(1, num_pos, self.embed_dims), requires_grad=pos_embed_type == 'learnable')

        dpr = torch.linspace(0, drop_path_rate, self.num_layers).tolist()
        global_attn_indexes = set(global_attn_indexes)
        layers = []
        for i in range(self.num_layers):
            windowed = window_size > 0 and i not in global_attn_indexes
            layers.append(
                TransformerBlock(
                    self.embed_dims,
                    self.num_heads,
                    mlp_ratio=settings['mlp_ratio'],
                    qkv_bias=qkv_bias,
                    naming=naming,
                    norm_eps=norm_eps,
                    drop_path_rate=dpr[i],
                    layer_scale_init_value=layer_scale_init_value,
                    window_size=window_size if windowed else 0,
                    rel_pos=rel_pos,
                    rel_pos_size=self._rel_pos_size(rel_pos, windowed, window_size)))
        # stored under the checkpoint name; properties below give name-independent access
        self._modules[self._layers_name] = nn.ModuleList(layers)
        self.final_norm = final_norm
        if final_norm:
            self._modules[self._final_norm_name] = nn.LayerNorm(self.embed_dims, eps=norm_eps)

    def _rel_pos_size(self, rel_pos: str, windowed: bool, window_size: int) -> Optional[Tuple[int, int]]:
        if rel_pos == 'none':
            return None
        return (window_size, window_size) if windowed else self.grid_size

    @property
    def layers(self) -> nn.ModuleList:
        return self._modules[self._layers_name]

    @property
    def norm(self) -> Optional[nn.LayerNorm]:
        return self._modules[self._final_norm_name] if self.final_norm else None

    def init_weights(self):
        """Fresh-training init (Xavier Linear, LN (1, 0), tokens N(0, 0.02), sin-cos positions), then
        with a ``Pretrained`` init_cfg the checkpoint through :meth:`load_pretrained`."""
        init_cfg = self.init_cfg
        if init_cfg is not None and not self._is_init:
            self.init_cfg = None  # fresh init of everything first; keys the checkpoint lacks keep it
            try:
                self.init_weights()
            finally:
                self.init_cfg = init_cfg
            self.load_pretrained(init_cfg['checkpoint'], init_cfg.get('src_format', 'auto'))
            return
        super().init_weights()
        if init_cfg is not None:
            return
        if self.pos_embed_type == 'sincos':
            self.pos_embed.data.copy_(
                sincos_pos_embed_2d(self.grid_size, self.embed_dims, cls_token=self.with_cls_token))
        else:
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        if self.with_cls_token:
            nn.init.normal_(self.cls_token, std=0.02)
        conv = self.patch_embed.conv
        nn.init.xavier_uniform_(conv.weight.view(conv.weight.shape[0], -1))
        for m in self.layers.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def adapt_encoder_state(self, state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Rename/resize an encoder state (mmpretrain names) for this backbone; identity here."""
        return state

    def load_pretrained(self, checkpoint, src_format: str = 'auto') -> dict:
        """Load a pretraining checkpoint (path or loaded dict, any docs/en/method.md#checkpoint-layouts format) with a
        key report.

        Keys outside :attr:`pretrained_allowed_missing` / :attr:`pretrained_allowed_unexpected` and any
        shape mismatch raise :class:`~mmspecgene.models.checkpoint.CheckpointMismatchError`.

        Returns:
            dict: The key report (``matched``, ``missing``, ``unexpected``).
        """
        logger = MMLogger.get_current_instance()
        if isinstance(checkpoint, str):
            logger.info(f'{type(self).__name__}: loading {checkpoint} (src_format={src_format!r})')
            checkpoint = load_checkpoint_file(checkpoint)
        state = self.adapt_encoder_state(to_encoder_state(checkpoint, src_format, logger))
        return load_state_dict_with_report(
            self,
            state,
            allowed_missing=self.pretrained_allowed_missing,
            allowed_unexpected=self.pretrained_allowed_unexpected,
            logger=logger)

    def prepend_cls(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, N, C) -> (B, 1+N, C) with ``cls_token + pos_embed[:, :1]``."""
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(tokens.shape[0], -1, -1)
        return torch.cat([cls, tokens], dim=1)

    def run_layers(self, x: torch.Tensor, hw_shape: Optional[Tuple[int, int]] = None,
                   out_indices: Sequence[int] = ()) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """Run all blocks; return the last output and the outputs after ``out_indices``."""
        taps = []
        for i, layer in enumerate(self.layers):
            x = layer(x, hw_shape)
            if i in out_indices:
                taps.append(x)
        return x, taps

    def get_layer_depth(self, param_name: str, prefix: str = '') -> Tuple[int, int]:
        """Layer id for layer-wise lr decay: 0 = embeddings, i+1 = block i, L+1 = everything else.

        Args:
            param_name (str): Full parameter name (e.g. ``backbone.layers.3.attn.qkv.weight``).
            prefix (str): Prefix of this module in ``param_name`` (e.g. ``'backbone.'``).

        Returns:
            tuple[int, int]: (layer id, number of layer ids = num_layers + 2).
        """
        num_ids = self.num_layers + 2
        if not param_name.startswith(prefix):
            return num_ids - 1, num_ids
        name = param_name[len(prefix):]
        if name in ('cls_token', 'pos_embed', 'mask_token') or name.startswith('patch_embed'):
            return 0, num_ids
        if name.startswith(self._layers_name + '.'):
            return int(name.split('.')[1]) + 1, num_ids
        return num_ids - 1, num_ids

    def extra_state_summary(self) -> Dict[str, int]:
        return dict(embed_dims=self.embed_dims, num_layers=self.num_layers, grid=self.grid_size)
