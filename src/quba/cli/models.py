"""``quba models``: the paper's zoo and the model sources.

Other commands that build models take the same flag: ``--no-pretrained`` (use
:func:`no_pretrained_option` as the parameter default).
"""

from __future__ import annotations

import typer

from quba.cli._console import console

NO_PRETRAINED_HELP = (
    "Build the architecture with random weights instead of downloading the published ones."
)


def no_pretrained_option():
    """The ``--no-pretrained`` flag, for every command that builds models (a bool, default
    False; pass ``pretrained=not no_pretrained`` to ``create_classifier``)."""
    return typer.Option(False, "--no-pretrained", help=NO_PRETRAINED_HELP)


def register(app: typer.Typer) -> None:
    models = typer.Typer(
        name="models",
        help="The paper's model zoo and the model specs quba accepts.",
        no_args_is_help=True,
    )
    models.command("list")(list_models)
    models.command("show")(show_model)
    models.command("sources")(list_model_sources)
    app.add_typer(models, name="models")


def list_models(
    group: list[str] = typer.Option(
        [],
        "--group",
        "-g",
        help="Only models in this group (repeat to intersect): cnn, transformer, bcos, "
        "vision-language, in1k, in21k, large-data, supervised, self-supervised, "
        "semi-supervised, adversarial, rsb, a1, a2, a3.",
    ),
    available: bool = typer.Option(
        False, "--available", help="Only models whose weights quba can load."
    ),
) -> None:
    """List the models of the paper's zoo (use a name as zoo:NAME)."""
    from quba.models.zoo import list_zoo

    entries = list_zoo(group, available=True if available else None)
    width = max([len(e.name) for e in entries], default=4)
    console.print(
        f"[bold]{'name':<{width}}  {'params':>7}  {'groups':<40}  spec[/]", highlight=False
    )
    for entry in entries:
        params = "" if entry.params_m is None else f"{entry.params_m:.1f}"
        spec = entry.spec if entry.available else "[dim]unavailable[/]"
        groups = ",".join(entry.groups)
        console.print(
            f"{entry.name:<{width}}  {params:>7}  {groups:<40}  {spec}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"{len(entries)} models (use one as zoo:NAME)", highlight=False)


def show_model(
    name: str = typer.Argument(..., help="A zoo name (ResNet50) or any model spec."),
    no_pretrained: bool = no_pretrained_option(),
) -> None:
    """Spec, preprocessing, parameters, availability and metadata of one model.

    The architecture is built on the meta device: nothing is downloaded or allocated.
    """
    from quba.models import create_classifier
    from quba.models.zoo import PARAMS_NOTES, find_zoo_entry, get_zoo_entry

    entry = find_zoo_entry(name)
    if entry is None and ":" not in name:
        entry = get_zoo_entry(name)  # raises with close matches
    if entry is not None:
        console.print(f"[bold]{entry.name}[/] ({entry.display_name})", highlight=False)
        rows = [
            ("spec", entry.spec or "-"),
            ("available", "yes" if entry.available else f"no: {entry.reason}"),
            ("family", entry.family),
            ("training data", entry.training_data),
            ("paradigm", entry.paradigm),
            ("groups", ", ".join(entry.groups)),
            ("source", entry.source),
            ("paper", entry.source_paper),
            ("parameters (paper)", "-" if entry.params_m is None else f"{entry.params_m:.1f} M"),
        ]
        _print_rows(rows)
        if not entry.available:
            return
        spec = f"zoo:{entry.name}"
    else:
        spec = name

    classifier = create_classifier(spec, pretrained=False, device="meta")
    pre = classifier.preprocessing
    normalization = (
        "none" if pre.mean is None else f"mean {_floats(pre.mean)}, std {_floats(pre.std)}"
    )
    weights = (
        "random initialisation"
        if no_pretrained
        else f"published ({classifier.source_spec}@pretrained)"
    )
    rows = [] if entry is not None else [("model spec", classifier.source_spec)]
    rows += [
        ("weights", weights),
        (
            "preprocessing",
            f"resize {pre.resize} ({pre.resize_mode}, {pre.interpolation}), crop {pre.crop}",
        ),
        ("normalization (inside)", normalization),
        ("parameters (quba)", f"{classifier.num_params / 1e6:.1f} M ({classifier.num_params:,})"),
        ("classes", f"{classifier.num_classes} ({classifier.label_space})"),
    ]
    if entry is not None and entry.params_note:
        rows.append(("parameter note", PARAMS_NOTES.get(entry.params_note, entry.params_note)))
    _print_rows(rows)


def list_model_sources() -> None:
    """The model sources and their spec syntax."""
    from rich.markup import escape
    from rich.table import Table

    from quba.models import list_sources

    table = Table()
    table.add_column("source")
    table.add_column("spec")
    table.add_column("what")
    for source in list_sources():
        table.add_row(source.name, escape(source.syntax), escape(source.description))
    console.print(table)


def _print_rows(rows: list[tuple[str, str]]) -> None:
    from rich.markup import escape

    for label, value in rows:
        console.print(f"  {label:<22}  {escape(value)}", highlight=False, soft_wrap=True)


def _floats(values) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in values) + ")"
