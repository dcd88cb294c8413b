"""quba: how well-behaved is an image classifier?

quba measures the nine quality dimensions of the QUBA benchmark (Hesse et al., "Beyond Accuracy:
What Matters in Designing Well-Behaved Models?", TMLR 2026) and combines them into the QUBA score.
"""

from quba.errors import QubaError

__version__ = "0.1.0"

__all__ = ["QubaError", "__version__"]


def __getattr__(name: str):
    # ``quba.evaluate(...)`` without importing torch at ``import quba``
    if name == "evaluate":
        from quba.evaluation import evaluate

        return evaluate
    raise AttributeError(f"module 'quba' has no attribute {name!r}")
