"""Parameter counting (PROTOCOL.md, "Parameters")."""

from __future__ import annotations

from typing import Any


def count_parameters(model: Any, *, unique: bool = True) -> int:
    """Number of parameters of a ``torch.nn.Module`` (all of them, trainable or not).

    Parameters shared between submodules are counted once when ``unique`` (torch's
    ``parameters()`` already yields each shared tensor once). Buffers (batch-norm statistics, a
    registered fixed class head) are not parameters; register a fixed head as a parameter if it
    should count.
    """
    if not hasattr(model, "parameters"):
        raise TypeError(f"Expected a torch.nn.Module, but got {type(model).__name__}")
    params = (
        model.parameters()
        if unique
        else (p for _, p in model.named_parameters(remove_duplicate=False))
    )
    return int(sum(p.numel() for p in params))


def parameters_in_millions(model: Any) -> float:
    """The parameter count divided by 10^6 (the unit of the ``params`` dimension)."""
    return count_parameters(model) / 1e6
