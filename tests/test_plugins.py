"""The pluggy registry: built-ins through entry points, lookups, broken plugins, and a real wheel install."""

import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, fake_distribution, run_cli

import tabbench
from tabbench.core.components import DatasetSource, Encoder
from tabbench.core.errors import TabbenchError
from tabbench.core.registry import collect, new_plugin_manager, registry
from tabbench.results.store import Store

BUILT_INS = {
    "datasets": {"iris", "wine", "adult", "higgs", "file"},
    "encoders": {"pixel"},
    "backbones": {"resnet18"},
    "baselines": {"logreg", "xgboost", "lightgbm", "random-forest", "mlp", "tabular-nn"}
    | {"catboost", "hist-gbm", "extra-trees", "knn", "realmlp", "tabm", "tabpfn", "tabicl"},
}


def test_built_ins_are_registered_through_the_entry_point_group():
    found = registry()
    for kind, names in BUILT_INS.items():
        assert names <= set(found.names(kind))
    assert found.origin[("encoders", "pixel")] == "encoders-pixels"
    assert not found.problems


def test_unknown_name_lists_close_matches():
    with pytest.raises(TabbenchError, match=r"unknown encoder 'pixle': did you mean pixel\b"):
        registry().get("encoders", "pixle")
    with pytest.raises(TabbenchError, match="known: catboost, extra-trees, hist-gbm"):
        registry().get("baselines", "zzzzzz")


def test_a_plugin_whose_hook_raises_or_returns_junk_is_skipped_and_reported():
    class Good:
        class Enc(Encoder):
            name = "good"

        @staticmethod
        def tabbench_encoders():
            return [Good.Enc]

    class Raises:
        @staticmethod
        def tabbench_encoders():
            raise RuntimeError("boom")

    class Junk:
        @staticmethod
        def tabbench_encoders():
            return [object]

    class Clash:
        @staticmethod
        def tabbench_encoders():
            return [Good.Enc]

    pm = new_plugin_manager()
    from tabbench.core.hookspecs import hookimpl

    for name, plugin in {"good": Good, "raises": Raises, "junk": Junk, "clash": Clash}.items():
        hookimpl(plugin.tabbench_encoders)
        pm.register(plugin, name=name)
    found = collect(pm)
    assert found.names("encoders") == ["good"]
    problems = {p.plugin: p.error for p in found.problems}
    assert "RuntimeError: boom" in problems["raises"]
    assert "not a subclass of tabbench.Encoder" in problems["junk"]
    assert "already registered" in problems["clash"]


def test_a_plugin_whose_second_hook_fails_registers_nothing_from_its_first():
    class Half:
        class Data(DatasetSource):
            name = "half-data"

        @staticmethod
        def tabbench_datasets():  # asked first, answers fine
            return [Half.Data]

        @staticmethod
        def tabbench_encoders():
            raise RuntimeError("boom")

    pm = new_plugin_manager()
    from tabbench.core.hookspecs import hookimpl

    hookimpl(Half.tabbench_datasets)
    hookimpl(Half.tabbench_encoders)
    pm.register(Half, name="half")
    found = collect(pm)
    assert "half-data" not in found.names("datasets")  # no half-registered plugin
    assert [p.plugin for p in found.problems] == ["half"]


def test_a_plugin_that_fails_to_import_is_named_and_everything_else_works(tmp_path):
    site = tmp_path / "site"
    fake_distribution(
        site,
        "broken_plugin",
        "[tabbench]\nbroken = broken_module\nmissing = no_such_module_xyz\n",
        {"broken_module": "import tabbench\nraise ImportError('needs libfoo 2.0')\n"},
    )
    env = {"PYTHONPATH": str(site)}
    listed = run_cli("list", "encoders", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "pixel" in listed.stdout
    assert "plugin 'broken' was skipped: ImportError: needs libfoo 2.0" in listed.stderr
    assert "plugin 'missing' was skipped: ModuleNotFoundError" in listed.stderr
    assert "Traceback" not in listed.stderr
    ran = run_cli(
        "run", "-d", "iris", "--baselines", "logreg", "--store", "s.sqlite", cwd=tmp_path, env=env
    )
    assert ran.returncode == 0, ran.stderr
    assert "logreg" in ran.stdout


def top_level_or_anywhere(top: tuple[str, ...], anywhere: tuple[str, ...]):
    """shutil.copytree's ignore: ``/name`` only at the repository's top, the others at any depth."""
    by_pattern = shutil.ignore_patterns(*anywhere)

    def ignore(folder: str, names: list[str]) -> set[str]:
        at_top = Path(folder) == REPO
        return set(by_pattern(folder, names)) | {n for n in names if at_top and f"/{n}" in top}

    return ignore


def test_a_wheel_install_finds_the_built_ins(tmp_path):
    """Not only the editable install: the built wheel ships tabbench_plugins and its entry points."""
    source = tmp_path / "source"  # a copy, so the build leaves no egg-info in the checkout
    shutil.copytree(
        REPO,
        source,
        ignore=top_level_or_anywhere(
            ("/.venv", "/.git", "/results"), ("__pycache__", "*.egg-info")
        ),
    )
    wheel_dir = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheel_dir),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheel_dir.glob("tabbench-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.startswith("plugins/")], (
        "a top-level `plugins` package would leak"
    )
    assert "tabbench_plugins/encoders/pixels.py" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)  # what pip install puts in site-packages
    probe = textwrap.dedent(
        """
        import sys, tabbench, tabbench_plugins
        from tabbench.core.registry import registry
        found = registry()
        assert tabbench.__file__.startswith(sys.argv[1]), tabbench.__file__
        assert tabbench_plugins.__file__.startswith(sys.argv[1]), tabbench_plugins.__file__
        assert not found.problems, found.problems
        print(sorted(n for kind in found.classes for n in found.names(kind)))
        """
    )
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path[:0] = [sys.argv[1]]\n{probe}",
            str(site),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    for names_of_kind in BUILT_INS.values():
        for name in names_of_kind:
            assert repr(name) in result.stdout


IMPOSTOR = """
import tabbench
from tabbench_plugins.encoders.fields import GASF


class Impostor(GASF):
    name = "pixel"  # takes the built-in's name


@tabbench.hookimpl
def tabbench_encoders():
    return [Impostor]


@tabbench.hookimpl
def tabbench_encoder():  # misspelt: not a hook
    return []
"""


def test_a_name_two_packages_register_is_an_error_naming_both_until_one_is_disabled(tmp_path):
    site = tmp_path / "site"
    fake_distribution(site, "impostor_pkg", "[tabbench]\nimpostor = impostor_module\n",
                      {"impostor_module": IMPOSTOR})  # fmt: skip
    env = {"PYTHONPATH": str(site)}
    args = (
        "run",
        "-d",
        "iris",
        "-e",
        "pixel:img_size=8",
        "-b",
        "small-cnn:width=4",
        "--steps",
        "5",
    )
    clash = run_cli(*args, cwd=tmp_path, env=env)
    assert clash.returncode == 2 and "Traceback" not in clash.stderr
    error = clash.stderr.strip().splitlines()[-1]
    assert error == (
        "tabbench: error: encoder 'pixel' is registered by 'encoders-pixels' (tabbench "
        f"{tabbench.__version__}) and by 'impostor' (impostor_pkg 0.1); choose one by disabling "
        "the other: TABBENCH_DISABLE_PLUGINS=PLUGIN (its entry-point name)"
    )
    assert (
        "plugin 'impostor' was skipped: implements 'tabbench_encoder', which is not a tabbench hook"
        in clash.stderr
    )
    assert not (tmp_path / "results").exists()
    chosen = run_cli(*args, cwd=tmp_path, env={**env, "TABBENCH_DISABLE_PLUGINS": "impostor"})
    assert chosen.returncode == 0, chosen.stderr
    (record,) = Store(tmp_path / "results" / "tabbench.sqlite").records()
    version = f"tabbench {tabbench.__version__}"
    assert record.providers == {"dataset": version, "encoder": version, "backbone": version}
    assert record.config["encoder"]["provider"] == "tabbench"  # part of the key, without the
    # version: tabbench's own plugins are governed by their `version`, so a release re-runs nothing


def test_the_providing_package_is_part_of_the_key():
    from tabbench.core.choices import Choice

    cls = registry().get("encoders", "pixel")
    built_in = Choice(cls, cls.resolve_options({}))

    class Elsewhere(cls):
        provider = "other_pkg 2.0"

    assert built_in.config()["provider"] == "tabbench"
    elsewhere = Choice(Elsewhere, built_in.options).config()
    assert elsewhere["provider"] == "other_pkg 2.0"  # a third party's version is in the key
    assert built_in.config() != elsewhere
