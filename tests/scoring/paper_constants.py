"""PROTOCOL.md's score table, typed in independently of quba.scoring."""

KEYS = [
    "accuracy",
    "adv_robustness",
    "c_robustness",
    "ood_robustness",
    "calibration_error",
    "class_balance",
    "object_focus",
    "shape_bias",
    "params",
]
MU = [
    0.7990557251908397,
    0.18583778826016084,
    0.5298791080592711,
    0.5664841617855405,
    0.004479927389289115,
    0.783356376851669,
    0.9286352601551336,
    0.30548520497464765,
    55.28778625954198,
]
SIGMA = [
    0.034685710545946026,
    0.11083062192390095,
    0.23383978329969085,
    0.14548627504237352,
    0.0026752085291489288,
    0.024047971612660052,
    0.017724144886557092,
    0.08354531823072534,
    42.8890536095964,
]
WEIGHT = [1, 1 / 3, 1 / 3, 1 / 3, 1, 1, 1 / 2, 1 / 2, 1]
LOWER_IS_BETTER = {"calibration_error", "params"}


def by_hand(values: dict, weights: list | None = None, mu=MU, sigma=SIGMA) -> float:
    """QUBA = sum w s z / sum w over the keys present in ``values``."""
    weights = WEIGHT if weights is None else weights
    num = den = 0.0
    for key, m, s, w in zip(KEYS, mu, sigma, weights, strict=True):
        if key not in values or w == 0:
            continue
        z = (values[key] - m) / s
        if key in LOWER_IS_BETTER:
            z = -z
        num += w * z
        den += w
    return num / den
