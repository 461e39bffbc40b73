"""pluggy hook specifications: every plugin, built-in or third-party, answers these hooks.

A plugin is a module (or object) registered through the ``tabbench`` entry-point group that
implements any of the hooks below with ``@tabbench.hookimpl``. Each hook returns the plugin classes
it contributes; their ``name`` class attribute is the name users type on the command line.
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "tabbench"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def tabbench_datasets() -> list[type]:
    """Return the ``tabbench.DatasetSource`` subclasses this plugin provides (a dataset: ``load(files)`` returns a ``tabbench.Table``).

    :return: a list of classes (not instances), each with a non-empty ``name`` class attribute;
        an empty list (or ``None``) contributes nothing.

    Called once per process, when a command first needs the plugins (``tabbench list``, ``run``,
    ``preview``, ...; ``--help`` and ``leaderboard`` never load them), in entry-point order; the
    classes are instantiated later, per run, with the user's options.

    On failure: if the hook raises, or returns something that is not a subclass of
    ``tabbench.DatasetSource`` with a ``name``, this plugin's contributions of every kind are skipped
    and the problem is printed once (``plugin 'x' was skipped: ...``); other plugins keep working.
    A ``name`` another plugin registered already is a clash: neither is replaced, and using the
    name is an error naming both packages (docs/writing-plugins.md, "Names").
    """


@hookspec
def tabbench_encoders() -> list[type]:
    """Return the ``tabbench.Encoder`` subclasses this plugin provides (an encoder: rows in, uint8 images out).

    :return: a list of classes (not instances), each with a non-empty ``name`` class attribute;
        an empty list (or ``None``) contributes nothing.

    Called once per process, when a command first needs the plugins (``tabbench list``, ``run``,
    ``preview``, ...; ``--help`` and ``leaderboard`` never load them), in entry-point order; the
    classes are instantiated later, per run, with the user's options.

    On failure: if the hook raises, or returns something that is not a subclass of
    ``tabbench.Encoder`` with a ``name``, this plugin's contributions of every kind are skipped
    and the problem is printed once (``plugin 'x' was skipped: ...``); other plugins keep working.
    A ``name`` another plugin registered already is a clash: neither is replaced, and using the
    name is an error naming both packages (docs/writing-plugins.md, "Names").
    """


@hookspec
def tabbench_backbones() -> list[type]:
    """Return the ``tabbench.Backbone`` subclasses this plugin provides (a vision network fine-tuned on the images).

    :return: a list of classes (not instances), each with a non-empty ``name`` class attribute;
        an empty list (or ``None``) contributes nothing.

    Called once per process, when a command first needs the plugins (``tabbench list``, ``run``,
    ``preview``, ...; ``--help`` and ``leaderboard`` never load them), in entry-point order; the
    classes are instantiated later, per run, with the user's options.

    On failure: if the hook raises, or returns something that is not a subclass of
    ``tabbench.Backbone`` with a ``name``, this plugin's contributions of every kind are skipped
    and the problem is printed once (``plugin 'x' was skipped: ...``); other plugins keep working.
    A ``name`` another plugin registered already is a clash: neither is replaced, and using the
    name is an error naming both packages (docs/writing-plugins.md, "Names").
    """


@hookspec
def tabbench_baselines() -> list[type]:
    """Return the ``tabbench.Baseline`` subclasses this plugin provides (a tabular model scored beside the image models).

    :return: a list of classes (not instances), each with a non-empty ``name`` class attribute;
        an empty list (or ``None``) contributes nothing.

    Called once per process, when a command first needs the plugins (``tabbench list``, ``run``,
    ``preview``, ...; ``--help`` and ``leaderboard`` never load them), in entry-point order; the
    classes are instantiated later, per run, with the user's options.

    On failure: if the hook raises, or returns something that is not a subclass of
    ``tabbench.Baseline`` with a ``name``, this plugin's contributions of every kind are skipped
    and the problem is printed once (``plugin 'x' was skipped: ...``); other plugins keep working.
    A ``name`` another plugin registered already is a clash: neither is replaced, and using the
    name is an error naming both packages (docs/writing-plugins.md, "Names").
    """
