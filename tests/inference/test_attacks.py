"""PGD and FGSM: both geometries against hand-written attacks, evaluation mode, seeding."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from quba.inference.attacks import AttackSpec, attack_batch, attack_target

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


class Wrapped(nn.Module):
    """The classifier contract: pixels in, normalization inside, ``model``/``mean``/``std``."""

    def __init__(self, model: nn.Module, mean=MEAN, std=STD) -> None:
        super().__init__()
        self.model = model
        self.mean = mean
        self.std = std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mean is None:
            return self.model(x)
        mean = torch.tensor(self.mean).reshape(1, 3, 1, 1)
        std = torch.tensor(self.std).reshape(1, 3, 1, 1)
        return self.model((x - mean) / std)


def small_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(24, 5),
    )
    # non-trivial running statistics, so a train-mode forward would change them
    net[1].running_mean.uniform_(-0.5, 0.5)
    net[1].running_var.uniform_(0.5, 2.0)
    return net.eval()


def batch(n: int = 6, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 8, 8, generator=generator), torch.randint(
        0, 5, (n,), generator=generator
    )


def reference_pgd(net, u, y, eps, alpha, steps, seed):
    """PGD written from the definition: start uniform in the ε-ball, clip to [0, 1], signed steps,
    project to the ball, clip; cross-entropy of the true label (mean over the batch)."""
    torch.manual_seed(seed)
    noise = torch.empty_like(u).uniform_(-eps, eps)
    adv = (u + noise).clamp(0, 1)
    for _ in range(steps):
        adv = adv.detach().requires_grad_(True)
        loss = nn.functional.cross_entropy(net(adv), y)
        (grad,) = torch.autograd.grad(loss, adv)
        adv = adv.detach() + alpha * grad.sign()
        adv = (u + (adv - u).clamp(-eps, eps)).clamp(0, 1)
    return adv.detach()


def reference_fgsm(net, u, y, eps):
    u = u.clone().requires_grad_(True)
    loss = nn.functional.cross_entropy(net(u), y)
    (grad,) = torch.autograd.grad(loss, u)
    return (u + eps * grad.sign()).clamp(0, 1).detach()


def normalize(x):
    return (x - torch.tensor(MEAN).reshape(1, 3, 1, 1)) / torch.tensor(STD).reshape(1, 3, 1, 1)


@pytest.mark.parametrize("geometry", ["paper", "pixel"])
def test_pgd_matches_a_hand_written_pgd(geometry):
    net = small_net()
    module = Wrapped(net).eval()
    x, y = batch()
    spec = AttackSpec("pgd", geometry=geometry, eps=8 / 255, step=2 / 255, steps=10)
    adversarial, logits = attack_batch(module, x, y, spec, seed=123)

    if geometry == "paper":
        expected = reference_pgd(net, normalize(x), y, 8 / 255, 2 / 255, 10, seed=123)
        expected_logits = net(expected)
    else:
        expected = reference_pgd(module, x, y, 8 / 255, 2 / 255, 10, seed=123)
        expected_logits = module(expected)
    torch.testing.assert_close(adversarial, expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(logits, expected_logits.detach(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("geometry", ["paper", "pixel"])
def test_fgsm_matches_a_hand_written_fgsm(geometry):
    net = small_net()
    module = Wrapped(net).eval()
    x, y = batch()
    adversarial, logits = attack_batch(module, x, y, AttackSpec("fgsm", geometry=geometry), seed=0)
    if geometry == "paper":
        expected = reference_fgsm(net, normalize(x), y, 8 / 255)
        torch.testing.assert_close(logits, net(expected).detach(), atol=1e-5, rtol=1e-5)
    else:
        expected = reference_fgsm(module, x, y, 8 / 255)
        torch.testing.assert_close(logits, module(expected).detach(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(adversarial, expected, atol=1e-6, rtol=0)


def test_paper_geometry_bounds_apply_to_the_normalized_tensor_pixel_to_pixels():
    module = Wrapped(small_net()).eval()
    x, y = batch(8)
    eps = 8 / 255
    paper, _ = attack_batch(module, x, y, AttackSpec("pgd", geometry="paper"), seed=5)
    u = normalize(x)
    # within ε of the normalized tensor, then clipped to [0, 1] there
    assert torch.all(paper >= (u - eps).clamp(0, 1) - 1e-6)
    assert torch.all(paper <= (u + eps).clamp(0, 1) + 1e-6)
    # in pixel units: every pixel ends in [mean, mean + std] (the hard clip of PROTOCOL.md)
    mean, std = torch.tensor(MEAN).reshape(1, 3, 1, 1), torch.tensor(STD).reshape(1, 3, 1, 1)
    pixels = paper * std + mean
    assert torch.all(pixels >= mean - 1e-6) and torch.all(pixels <= mean + std + 1e-6)
    pixel, _ = attack_batch(module, x, y, AttackSpec("pgd", geometry="pixel"), seed=5)
    assert float((pixel - x).abs().max()) <= eps + 1e-6
    assert float(pixel.min()) >= 0.0 and float(pixel.max()) <= 1.0


def test_without_normalization_both_geometries_coincide():
    module = Wrapped(small_net(), mean=None, std=None).eval()
    x, y = batch()
    for name in ("pgd", "fgsm"):
        paper = attack_batch(module, x, y, AttackSpec(name, geometry="paper"), seed=9)
        pixel = attack_batch(module, x, y, AttackSpec(name, geometry="pixel"), seed=9)
        assert torch.equal(paper[0], pixel[0]) and torch.equal(paper[1], pixel[1])
    target, inputs = attack_target(module, x, "paper")
    assert target is module and inputs is x


def test_attack_target_paper_uses_the_inner_model_on_normalized_input():
    module = Wrapped(small_net())
    x, _ = batch()
    target, inputs = attack_target(module, x, "paper")
    assert target is module.model
    torch.testing.assert_close(inputs, normalize(x))


def test_model_stays_in_eval_mode_and_batchnorm_statistics_do_not_change():
    net = small_net()
    module = Wrapped(net)
    module.train()  # even a module handed over in training mode is attacked in eval mode
    before = {k: v.clone() for k, v in net.state_dict().items()}
    seen: list[bool] = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append(m.training)) for m in net]
    x, y = batch()
    for geometry in ("paper", "pixel"):
        for name in ("pgd", "fgsm"):
            attack_batch(module, x, y, AttackSpec(name, geometry=geometry), seed=0)
    for hook in hooks:
        hook.remove()
    assert seen and not any(seen)  # every layer ran in eval mode during every attack step
    assert module.training is False and not any(m.training for m in module.modules())
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(p.requires_grad for p in net.parameters())  # restored after the attack
    assert all(p.grad is None for p in net.parameters())


def test_random_start_is_seeded():
    module = Wrapped(small_net()).eval()
    x, y = batch()
    spec = AttackSpec("pgd", geometry="pixel", steps=1)
    first = attack_batch(module, x, y, spec, seed=42)[0]
    again = attack_batch(module, x, y, spec, seed=42)[0]
    other = attack_batch(module, x, y, spec, seed=43)[0]
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    # the global RNG is left as it was
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    attack_batch(module, x, y, spec, seed=1)
    assert torch.equal(torch.rand(3), expected)


def test_attack_lowers_accuracy_of_a_confident_model():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 5)).eval()
    x, _ = batch(32)
    y = net(x).argmax(1).detach()  # the model is right on every image
    _, logits = attack_batch(Wrapped(net, None, None), x, y, AttackSpec("pgd", eps=0.2), seed=0)
    assert float((logits.argmax(1) == y).float().mean()) < 1.0


def test_bad_attack_settings_raise():
    with pytest.raises(ValueError, match="Expected attack"):
        AttackSpec("cw")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="geometry"):
        AttackSpec("pgd", geometry="normalized")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Impossible"):
        AttackSpec("pgd", steps=0)


def test_a_network_without_parameters_is_attacked_silently(capsys):
    net = nn.Sequential(nn.Flatten(), nn.Linear(3, 3))
    net[1].weight.requires_grad_(False)
    module = Wrapped(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()), None, None)
    x, y = torch.rand(4, 3, 8, 8), torch.tensor([0, 1, 2, 0])
    adversarial, logits = attack_batch(module, x, y, AttackSpec("fgsm", geometry="pixel"), seed=0)
    assert logits.shape == (4, 3) and float((adversarial - x).abs().max()) <= 8 / 255 + 1e-6
    assert capsys.readouterr().out == ""  # the library never prints


def test_the_models_normalized_wrapper_is_attacked_in_both_geometries():
    from quba.models import Normalized

    net = small_net()
    x, y = batch()
    module = Normalized(net, MEAN, STD).eval()
    target, inputs = attack_target(module, x, "paper")
    assert target is net
    torch.testing.assert_close(inputs, normalize(x))
    paper = attack_batch(module, x, y, AttackSpec("fgsm", geometry="paper"), seed=0)[0]
    torch.testing.assert_close(
        paper, reference_fgsm(net, normalize(x), y, 8 / 255), atol=1e-6, rtol=0
    )
    plain = Normalized(net).eval()  # no normalization: the geometries coincide
    first = attack_batch(plain, x, y, AttackSpec("pgd", geometry="paper"), seed=1)
    second = attack_batch(plain, x, y, AttackSpec("pgd", geometry="pixel"), seed=1)
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
