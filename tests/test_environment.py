"""requirements.txt (pip, CI) and environment.yml (conda, Binder) must list the same packages."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _requirements() -> set[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return {line.split("#")[0].replace(" ", "") for line in lines if line.split("#")[0].strip()}


def _environment_pip() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return {p.replace(" ", "") for p in pip if p != "-e ."}


def test_environment_matches_requirements():
    assert _environment_pip() == _requirements()


def test_pins_that_matter():
    reqs = _requirements()
    assert "jupyter-book>=1.0.4.post1,<2" in reqs  # version 2 ignores _config.yml
    assert "tensorflow-cpu==2.21.*" in reqs
    assert any(r.startswith("keras>=3") for r in reqs)
    assert "nbval>=0.11" in reqs


def test_library_does_not_force_a_tensorflow_wheel():
    # Colab preinstalls its own TensorFlow; installing multlib there must not replace it.
    text = (ROOT / "pyproject.toml").read_text()
    deps = text.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert "tensorflow" not in deps


def _pins(path: str) -> dict[str, str]:
    lines = (ROOT / path).read_text().splitlines()
    return dict(line.split("#")[0].strip().split("==") for line in lines if "==" in line.split("#")[0])


def test_lowest_supported_versions_are_declared_once_and_tested():
    # requirements-min.txt (what `make test-min` installs), pyproject.toml's floors and multlib's
    # import-time check must name the same lowest versions.
    from multlib import MIN_VERSIONS

    pins = _pins("requirements-min.txt")
    lowest = {"tensorflow": pins["tensorflow-cpu"], "keras": pins["keras"], "numpy": pins["numpy"]}
    for package, version in lowest.items():
        assert tuple(int(p) for p in version.split(".")[:2]) == MIN_VERSIONS[package], package
    deps = (ROOT / "pyproject.toml").read_text().split("dependencies = [", 1)[1].split("]", 1)[0]
    assert f'"keras>={pins["keras"].rsplit(".", 1)[0]}' in deps and f'"numpy>={pins["numpy"].rsplit(".", 1)[0]}' in deps
    # Colab's runtime (googlecolab/backend-info, August 2026) must lie inside the supported range.
    colab = {"tensorflow": (2, 20), "keras": (3, 13), "numpy": (2, 1)}
    assert all(colab[p] >= MIN_VERSIONS[p] for p in colab)


def test_results_ship_inside_the_package():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'multlib = ["results/*.csv", "results/*.npz"]' in text
    assert not (ROOT / "results").exists(), "committed results live in multlib/results/, where the package reads them"
