"""Sliders for the chapters' knobs (training range, width, the normalising factor N).

A chapter shows each knob twice: a static figure at the default setting, which the book renders and
nbval compares, and a cell that calls :func:`knobs`, which in JupyterLab or Colab draws sliders
that redraw the same figure. That cell starts with ``# NBVAL_IGNORE_OUTPUT`` (a widget's output
holds a fresh model id on every run) and carries the tag ``remove-output`` (a static page cannot
run it).

Every slider waits for the mouse to be released (``continuous_update=False``), because a redraw
may train a model for a few seconds.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["control", "knobs"]


def control(name: str, spec: Any) -> Any:
    """The ipywidgets control for one knob.

    ``spec`` is ``(low, high, step)`` (a slider: integer when all three are ints, else float),
    a list or tuple of options of another length (a drop-down), or an ipywidgets control, returned
    as it is. A reversed range or a non-positive step raises ``ValueError`` naming the knob.
    """
    import ipywidgets as widgets

    if isinstance(spec, widgets.ValueWidget):
        return spec
    if isinstance(spec, tuple) and len(spec) == 3 and all(isinstance(v, (int, float)) for v in spec):
        low, high, step = spec
        if not low < high:
            raise ValueError(f"knob {name!r}: low must be below high, got ({low}, {high})")
        if not step > 0:
            raise ValueError(f"knob {name!r}: step must be positive, got {step}")
        kind = widgets.IntSlider if all(isinstance(v, int) for v in spec) else widgets.FloatSlider
        return kind(min=low, max=high, step=step, value=low, description=name, continuous_update=False)
    if isinstance(spec, (list, tuple)) and len(spec) > 0:
        return widgets.Dropdown(options=list(spec), description=name)
    raise ValueError(f"knob {name!r}: expected (low, high, step), a list of options or a widget, got {spec!r}")


def knobs(draw: Callable[..., Any], defaults: dict[str, Any] | None = None, **specs: Any) -> Any:
    """Show one control per keyword of ``draw`` and call ``draw(**values)`` whenever one is released.

    ``specs`` maps each keyword of ``draw`` to a :func:`control` spec; ``defaults`` sets the first
    values (the static figure's setting). Returns the ``ipywidgets.interactive`` object, already
    displayed.

    Example::

        knobs(draw_fit, defaults={"high": 1.0}, high=(0.5, 4.0, 0.5), width=[16, 64, 256])
    """
    import ipywidgets as widgets
    from IPython.display import display

    if not specs:
        raise ValueError("knobs: give at least one knob, e.g. width=(8, 256, 8)")
    controls = {name: control(name, spec) for name, spec in specs.items()}
    for name, value in (defaults or {}).items():
        if name not in controls:
            raise ValueError(f"defaults names {name!r}, which is not a knob (knobs: {sorted(controls)})")
        controls[name].value = value
    ui = widgets.interactive(draw, **controls)
    display(ui)
    return ui
