"""The summary of a user's file printed before training and stored with every run's notes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tabbench_plugins.datasets.column_roles import DROP_REASONS, Roles
from tabbench_plugins.datasets.file_reading import SEP_NAMES, ReadResult

SHOWN_NAMES = 12  # feature names listed per kind; dropped columns are always all listed
SHOWN_CLASSES = 10


@dataclass
class Summary:
    """What the file plugin decided, in the order it is printed."""

    reading: ReadResult
    target: str
    classes: list[str]
    codes: np.ndarray
    roles: Roles
    rows_dropped: list[str] = field(default_factory=list)
    leaks: list[tuple[str, float]] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [self._read_line(), self._target_line(), self._features_line()]
        if self.roles.dropped:
            lines.append("dropped columns: " + dropped_columns(self.roles.dropped))
        if self.rows_dropped:
            lines.append("dropped rows: " + "; ".join(self.rows_dropped))
        majority = np.bincount(self.codes).max() / len(self.codes)
        lines += [
            f"warning: column {name!r} alone predicts {self.target!r} for {accuracy:.0%} of the"
            f" rows (the majority class alone: {majority:.0%}); if it is derived from the label,"
            f" drop it with drop={name}"
            for name, accuracy in self.leaks
        ]
        return lines

    def _read_line(self) -> str:
        reading = self.reading
        rows, columns = reading.shape
        if reading.sep is None:
            how = "Parquet"
        else:
            how = f"separator {SEP_NAMES.get(reading.sep, repr(reading.sep))}"
            if reading.decimal == ",":
                how += ", decimal comma" + (" (detected)" if reading.decimal_detected else "")
        line = f"read {rows} rows x {columns} columns ({how})"
        if reading.markers_found:
            found = "; ".join(
                f"{name}: " + ", ".join(f"{count} {marker!r}" for marker, count in markers.items())
                for name, markers in reading.markers_found.items()
            )
            line += f"; missing-value markers in numeric columns: {found}"
        return line

    def _target_line(self) -> str:
        counts = np.bincount(self.codes, minlength=len(self.classes))
        shown = [f"{self.classes[c]}: {counts[c]}" for c in range(len(self.classes))]
        if len(shown) > SHOWN_CLASSES:
            shown = [*shown[:SHOWN_CLASSES], "..."]
        return f"target {self.target!r}: {len(self.classes)} classes ({', '.join(shown)})"

    def _features_line(self) -> str:
        roles = self.roles
        parts = [
            f"{len(names)} {kind} ({_names(names)})"
            for kind, names in (("numeric", roles.numeric), ("categorical", roles.categorical))
            if names
        ]
        line = "features: " + ", ".join(parts)
        for column, expanded in roles.expanded.items():
            line += f"; date {column!r} as {', '.join(expanded) or 'nothing (no part varies)'}"
        return line


def dropped_columns(dropped: dict[str, str]) -> str:
    """``id, key (identifier: ...); c (constant)``: every dropped column, grouped by reason."""
    by_reason: dict[str, list[str]] = {}
    for name, reason in dropped.items():
        by_reason.setdefault(reason, []).append(name)
    return "; ".join(
        f"{', '.join(names)} ({DROP_REASONS[reason]})" for reason, names in by_reason.items()
    )


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN_NAMES])
    return shown + (f", ... ({len(names)} in all)" if len(names) > SHOWN_NAMES else "")
