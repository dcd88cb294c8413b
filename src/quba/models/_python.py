"""``python:package.module:factory``: the user's own classifier, built by their own function.

The factory is called without arguments (or with ``pretrained=...`` when it takes that
parameter) and returns either a ``torch.nn.Module`` or a pair ``(module, preprocessing)``,
where preprocessing is a :class:`Preprocessing` or a dict with the optional keys ``resize``,
``crop``, ``interpolation``, ``mean``, ``std`` (and ``resize_mode``). Without one: resize 256,
crop 224, bilinear, no normalization added. The module takes input normalized with
``mean``/``std`` when they are given (quba applies them inside), raw [0, 1] pixels otherwise.

A module attribute ``label_space`` (str) names the label space of its logits, ``num_classes``
(int) their width; without ``num_classes`` quba runs one image of the crop size through the
module to find it.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from quba.errors import ModelError
from quba.models._registry import BuildOptions, ModelSource, finish_classifier, register_source
from quba.models._spec import ModelSpec
from quba.models.preprocessing import Preprocessing

logger = logging.getLogger(__name__)

_SYNTAX = "python:package.module:factory or python:path/to/file.py:factory"


def _load_module(target: str, spec: str):
    if target.endswith(".py"):
        path = Path(target).expanduser()
        if not path.is_file():
            raise ModelError(f"Python file not found: {path} (in model spec {spec!r})")
        name = f"quba_user_model_{abs(hash(str(path.resolve())))}"
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise ModelError(f"Cannot import {path} (in model spec {spec!r})")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as error:
            del sys.modules[name]
            raise ModelError(
                f"Importing {path} for model spec {spec!r} failed: {type(error).__name__}: {error}"
            ) from error
        return module
    try:
        return _import_from_working_directory(target)
    except ImportError as error:
        raise ModelError(
            f"Cannot import module {target!r} of model spec {spec!r}: {error}",
            hint="The module must be importable from the current environment (installed, or "
            "on PYTHONPATH); or give a file: python:path/to/file.py:factory",
        ) from error
    except Exception as error:
        raise ModelError(
            f"Importing module {target!r} for model spec {spec!r} failed: "
            f"{type(error).__name__}: {error}"
        ) from error


def _import_from_working_directory(target: str):
    """Import ``target``; like ``python -m``, the working directory is searched too (the
    ``quba`` console script does not put it on ``sys.path``)."""
    cwd = os.getcwd()
    if cwd in sys.path or "" in sys.path:
        return importlib.import_module(target)
    sys.path.insert(0, cwd)
    try:
        return importlib.import_module(target)
    finally:
        sys.path.remove(cwd)


def resolve_factory(spec: ModelSpec):
    """The callable ``python:TARGET:ATTRIBUTE`` names."""
    text = str(spec)
    target, colon, attribute = spec.name.rpartition(":")
    if not colon or not target or not attribute:
        raise ModelError(f"Expected {_SYNTAX}, but got {text!r}")
    module = _load_module(target, text)
    factory = module
    for part in attribute.split("."):
        try:
            factory = getattr(factory, part)
        except AttributeError:
            public = [n for n in dir(module) if not n.startswith("_")]
            raise ModelError(
                f"{target!r} has no attribute {attribute!r} (model spec {text!r})",
                hint=f"Names it defines: {', '.join(public[:20])}",
            ) from None
    if not callable(factory):
        raise ModelError(
            f"Expected {attribute!r} in {target!r} to be a callable that returns a "
            f"torch.nn.Module, but got {type(factory).__name__} (model spec {text!r})"
        )
    return factory


def _call(factory, pretrained: bool, text: str):
    try:
        takes_pretrained = "pretrained" in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        takes_pretrained = False
    try:
        return factory(pretrained=pretrained) if takes_pretrained else factory()
    except Exception as error:
        raise ModelError(
            f"The factory of model spec {text!r} raised {type(error).__name__}: {error}"
        ) from error


def _split_result(result, text: str) -> tuple:
    from torch import nn

    module, preprocessing = result, None
    if isinstance(result, tuple):
        if len(result) != 2:
            raise ModelError(
                f"Expected the factory of {text!r} to return a module or a pair "
                f"(module, preprocessing), but got a tuple of {len(result)}"
            )
        module, preprocessing = result
    if not isinstance(module, nn.Module):
        raise ModelError(
            f"Expected the factory of {text!r} to return a torch.nn.Module (or a pair "
            f"(module, preprocessing)), but got {type(module).__name__}"
        )
    if preprocessing is None:
        preprocessing = Preprocessing()
    elif isinstance(preprocessing, Mapping):
        try:
            preprocessing = Preprocessing.from_dict(preprocessing)
        except ModelError as error:
            raise ModelError(f"Preprocessing of {text!r}: {error.message}") from None
        except (TypeError, ValueError) as error:
            raise ModelError(f"Preprocessing of {text!r}: {error}") from None
    elif not isinstance(preprocessing, Preprocessing):
        raise ModelError(
            f"Expected the preprocessing returned by the factory of {text!r} to be a "
            f"quba Preprocessing or a dict, but got {type(preprocessing).__name__}"
        )
    return module, preprocessing


def _probe_num_classes(module, preprocessing: Preprocessing, text: str) -> int:
    import torch

    parameter = next(module.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    if device.type == "meta":
        raise ModelError(f"Give the module of {text!r} an integer attribute `num_classes`")
    was_training = module.training
    module.eval()
    x = torch.full((1, 3, preprocessing.crop, preprocessing.crop), 0.5, device=device)
    if preprocessing.mean is not None:
        mean = torch.tensor(preprocessing.mean, device=device).view(1, 3, 1, 1)
        std = torch.tensor(preprocessing.std, device=device).view(1, 3, 1, 1)
        x = (x - mean) / std
    try:
        with torch.no_grad():
            out = module(x)
    except Exception as error:
        raise ModelError(
            f"The module of {text!r} failed on a (1, 3, {preprocessing.crop}, "
            f"{preprocessing.crop}) input: {type(error).__name__}: {error}"
        ) from error
    finally:
        module.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != 1:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ModelError(
            f"Expected the module of {text!r} to return logits of shape (N, classes), "
            f"but got {shape}"
        )
    return int(out.shape[1])


def _build(spec: ModelSpec, options: BuildOptions):
    import torch

    text = str(spec)
    factory = resolve_factory(spec)
    if options.on_meta:
        with torch.device("meta"):
            result = _call(factory, options.pretrained, text)
    else:
        result = _call(factory, options.pretrained, text)
    module, preprocessing = _split_result(result, text)

    label_space = getattr(module, "label_space", "imagenet-1k")
    if not isinstance(label_space, str) or not label_space:
        raise ModelError(
            f"Expected the attribute label_space of the module of {text!r} to be a non-empty "
            f"string, but got {label_space!r}"
        )
    num_classes = getattr(module, "num_classes", None)
    if not (isinstance(num_classes, int) and num_classes > 0):
        num_classes = _probe_num_classes(module, preprocessing, text)
    # A user's factory decides what "pretrained" means; the weights are identified by content.
    return finish_classifier(
        text,
        module,
        preprocessing,
        options,
        num_classes=num_classes,
        label_space=label_space,
        weights_by_content=True,
    )


register_source(
    ModelSource(
        name="python",
        build=_build,
        syntax=_SYNTAX,
        description="your own classifier: a function that returns a torch.nn.Module, or "
        "(module, preprocessing)",
    )
)
