"""The calibration widget: click landmarks on the video, type their world positions, fit, save.

Landmarks live in a napari Points layer (``calibration landmarks``) whose features hold each
landmark's ``label`` and world position (``world_x``, ``world_y``); the table shows them with
their video pixel positions and, after a fit, their residuals. The fit is
:meth:`SessionView.fit_calibration` (``Session.fit_calibration``: auto, similarity, affine or
projective from the landmarks; ``scale`` takes the first two landmarks as a scale bar); the
residuals are drawn on the video (from each clicked point to where the fit puts its world
position). Saving writes a ``VideoCalibration`` into the file (:meth:`SessionView.save_calibration`
closes the file, writes it with :func:`nwbview.jobs.write_back` as ``nwbview calibrate`` does,
reopens it and rebuilds the layers in world coordinates).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from qtpy.QtCore import Qt
from qtpy.QtGui import QFont
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nwbview.errors import CalibrationError
from nwbview.render.napari.host import SessionHost, SessionView, register_widget
from nwbview.render.napari.notifications import notify, report_errors
from nwbview.render.napari.space import Space

__all__ = ["CalibrationWidget", "calibration_widget"]

TRANSFORMS = ("auto", "similarity", "affine", "projective", "scale")
COLUMNS = ("label", "pixel x", "pixel y", "world x", "world y", "residual")
_LANDMARK_KEY = "nwbview-landmarks"


def _action(fn: Any) -> Any:
    """A button slot: ``fn()`` (Qt's ``checked`` argument dropped) with errors as notifications."""
    wrapped = report_errors(fn)
    return lambda *_: wrapped()


class CalibrationWidget(QWidget):
    """Fit and save a pixel -> world calibration of the shown video from clicked landmarks.

    Parameters
    ----------
    view : SessionView
        The session shown in the viewer.

    Attributes
    ----------
    calibration : Calibration or None
        The last fit.
    points : napari.layers.Points
        The landmarks (made on first use).

    Examples
    --------
    >>> w = CalibrationWidget(session_view(viewer))  # doctest: +SKIP
    >>> w.set_landmarks(["SW", "SE", "NE"], [[40, 464], [600, 464], [600, 16]], [[0, 0], [100, 0], [100, 80]])  # doctest: +SKIP
    >>> cal = w.fit(); w.save()  # doctest: +SKIP
    """

    def __init__(self, view: SessionView, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = view
        self.calibration = None
        self.points = None
        self.residual_layer = None
        self._syncing = False
        view.add_listener(self._on_rebuilt)

        layout = QVBoxLayout(self)
        intro = QLabel(
            "1. Add landmarks: click points on the video (the layer 'calibration landmarks' is in add mode).\n"
            "2. Type their world coordinates in the table (or load a CSV: label, pixel_x, pixel_y, world_x, world_y).\n"
            "3. Fit, check the residuals, then save the calibration into the file."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        row = QHBoxLayout()
        self.add_button = QPushButton("Add landmarks")
        self.add_button.clicked.connect(_action(self.start_adding))
        self.load_button = QPushButton("Load CSV...")
        self.load_button.clicked.connect(_action(self._choose_csv))
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(_action(self.clear))
        for b in (self.add_button, self.load_button, self.clear_button):
            row.addWidget(b)
        layout.addLayout(row)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._on_item_changed)
        layout.addWidget(self.table, stretch=1)

        row = QHBoxLayout()
        row.addWidget(QLabel("transform"))
        self.transform = QComboBox()
        self.transform.addItems(TRANSFORMS)
        self.transform.setToolTip(
            "auto: similarity for 2 landmarks, affine for 3 or more; projective: a tilted camera (4+); "
            "scale: the first two landmarks as a scale bar"
        )
        row.addWidget(self.transform)
        row.addWidget(QLabel("unit"))
        self.unit = QLineEdit("cm")
        self.unit.setMaximumWidth(60)
        row.addWidget(self.unit)
        layout.addLayout(row)

        row = QHBoxLayout()
        self.fit_button = QPushButton("Fit")
        self.fit_button.clicked.connect(_action(self.fit))
        self.save_button = QPushButton("Save into the file")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(_action(self.save))
        row.addWidget(self.fit_button)
        row.addWidget(self.save_button)
        layout.addLayout(row)

        self.summary = QLabel(self._current_text())
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.TypeWriter)
        font.setPointSize(8)
        self.summary.setFont(font)
        layout.addWidget(self.summary)

    # -- the landmarks layer -------------------------------------------------------------------
    def _current_text(self) -> str:
        cal = self.view.space.calibration
        if cal is None:
            return "The video has no calibration yet."
        return "Current calibration:\n" + cal.summary()

    def _layer(self) -> Any:
        viewer = self.view.viewer
        if self.points is not None and self.points in viewer.layers:
            return self.points
        px = self.view.space.px_size
        self.points = viewer.add_points(
            np.empty((0, 2)),
            ndim=2,
            name="calibration landmarks",
            size=12.0 * px,
            face_color="yellow",
            border_color="black",
            border_width=0.15,
            symbol="cross",
            features=pd.DataFrame({"label": pd.Series([], dtype=object), "world_x": pd.Series([], dtype=float),
                                   "world_y": pd.Series([], dtype=float)}),  # fmt: skip
            feature_defaults={"label": "", "world_x": np.nan, "world_y": np.nan},
            text={"string": "{label}", "size": 9, "color": "yellow", "anchor": "upper_left"},
            metadata={_LANDMARK_KEY: True},
        )
        self.points.events.data.connect(self._on_points_changed)
        return self.points

    def start_adding(self) -> None:
        """Select the landmarks layer in add mode: each click on the video adds a landmark."""
        layer = self._layer()
        self.view.viewer.layers.selection.active = layer
        layer.mode = "add"

    def clear(self) -> None:
        """Remove every landmark and the residuals."""
        layer = self._layer()
        layer.data = np.empty((0, 2))
        self._set_features([], np.empty((0, 2)))
        self._clear_residuals()
        self.calibration = None
        self.save_button.setEnabled(False)
        self._refresh_table()

    def set_landmarks(self, labels: Sequence[str], pixel: Any, world: Any) -> None:
        """Put landmarks at video ``pixel`` positions (x, y) with their ``world`` positions (NaN: not typed yet)."""
        pixel = np.asarray(pixel, dtype=np.float64).reshape(-1, 2)
        world = np.full(pixel.shape, np.nan) if world is None else np.asarray(world, dtype=np.float64).reshape(-1, 2)
        labels = [str(v) for v in labels]
        if not (len(labels) == len(pixel) == len(world)):
            raise CalibrationError(
                f"{len(labels)} labels, {len(pixel)} pixel positions and {len(world)} world positions: give one of "
                "each per landmark."
            )
        layer = self._layer()
        self._syncing = True
        try:
            layer.data = self.view.space.to_display(pixel, "pixel")
            self._set_features(labels, world)
        finally:
            self._syncing = False
        self._clear_residuals()
        self._refresh_table()

    def load_csv(self, path: Any) -> None:
        """Load landmarks from a CSV (``label, pixel_x, pixel_y, world_x, world_y``)."""
        from nwbview.calibration import read_landmarks_csv

        labels, pixel, world = read_landmarks_csv(path)
        self.set_landmarks(labels, pixel, world)
        notify("info", f"Loaded {len(labels)} landmarks from {path}.")

    def _choose_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Landmarks CSV", "", "CSV files (*.csv);;All files (*)")
        if path:
            self.load_csv(path)

    def _set_features(self, labels: Sequence[str], world: np.ndarray) -> None:
        world = np.asarray(world, dtype=np.float64).reshape(-1, 2)
        self.points.features = pd.DataFrame(
            {"label": pd.Series(list(labels), dtype=object), "world_x": world[:, 0], "world_y": world[:, 1]}
        )

    def landmarks(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """``labels``, video ``pixel`` (n, 2) and ``world`` (n, 2) positions of the landmarks."""
        if self.points is None or len(self.points.data) == 0:
            return [], np.empty((0, 2)), np.empty((0, 2))
        data = np.asarray(self.points.data, dtype=np.float64)[:, -2:]
        pixel = self.view.space.from_display(data, "pixel")
        f = self.points.features
        labels = [str(v) for v in f["label"]]
        world = np.column_stack([np.asarray(f["world_x"], dtype=np.float64), np.asarray(f["world_y"], dtype=np.float64)])
        return labels, pixel, world

    def _on_points_changed(self, event: Any = None) -> None:
        if self._syncing:
            return
        f = self.points.features
        n = len(self.points.data)
        if len(f) == n:
            labels = [str(v) if isinstance(v, str) and v else "" for v in f["label"]]
            taken = set(labels)
            changed = False
            for i, lab in enumerate(labels):
                if not lab:
                    j = i + 1
                    while f"p{j}" in taken:
                        j += 1
                    labels[i] = f"p{j}"
                    taken.add(labels[i])
                    changed = True
            if changed:
                self._syncing = True
                try:
                    world = np.column_stack([np.asarray(f["world_x"], float), np.asarray(f["world_y"], float)])
                    self._set_features(labels, world)
                finally:
                    self._syncing = False
        self._refresh_table()

    # -- the table -------------------------------------------------------------------------------
    def _refresh_table(self) -> None:
        labels, pixel, world = self.landmarks()
        res = self._residuals(pixel, world)
        self._syncing = True
        try:
            self.table.setRowCount(len(labels))
            for i, lab in enumerate(labels):
                values = [lab, pixel[i, 0], pixel[i, 1], world[i, 0], world[i, 1], res[i] if res is not None else np.nan]
                for j, v in enumerate(values):
                    text = v if isinstance(v, str) else ("" if not np.isfinite(v) else f"{v:.6g}")
                    item = QTableWidgetItem(text)
                    if COLUMNS[j] not in ("label", "world x", "world y"):
                        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                    self.table.setItem(i, j, item)
        finally:
            self._syncing = False

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._syncing or self.points is None:
            return
        report_errors(self._edit)(item.row(), COLUMNS[item.column()], item.text())

    def _edit(self, row: int, column: str, text: str) -> None:
        f = self.points.features.copy()
        if row >= len(f):
            return
        if column == "label":
            f.loc[row, "label"] = text.strip()
        else:
            key = "world_x" if column == "world x" else "world_y"
            try:
                f.loc[row, key] = float(text) if text.strip() else np.nan
            except ValueError:
                self._refresh_table()
                raise CalibrationError(f"{text!r} is not a number: type the landmark's {column} in {self.unit.text() or 'cm'}.") from None
        self._syncing = True
        try:
            self.points.features = f
        finally:
            self._syncing = False
        self._refresh_table()

    def set_world(self, row: int, x: float, y: float) -> None:
        """Type the world position of landmark ``row`` (what editing the table does)."""
        self._edit(row, "world x", repr(float(x)))
        self._edit(row, "world y", repr(float(y)))

    # -- fit and save ------------------------------------------------------------------------------
    def _residuals(self, pixel: np.ndarray, world: np.ndarray) -> np.ndarray | None:
        cal = self.calibration
        if cal is None or len(pixel) == 0:
            return None
        return np.linalg.norm(cal.pixels_to_world(pixel) - world, axis=-1)

    def fit(self) -> Any:
        """Fit the chosen transform to the landmarks; draw the residuals; return the calibration."""
        labels, pixel, world = self.landmarks()
        missing = [lab for lab, w in zip(labels, world) if not np.all(np.isfinite(w))]
        if missing:
            raise CalibrationError(
                f"Landmark(s) {missing} have no world coordinates: type them in the table (world x, world y) "
                "or remove those points."
            )
        kind = self.transform.currentText()
        unit = self.unit.text().strip() or "cm"
        cal = self.view.fit_calibration(labels, pixel, world, transform_type=kind, unit=unit)
        self.calibration = cal
        self._draw_residuals(pixel, world)
        self._refresh_table()
        self.save_button.setEnabled(True)
        self.summary.setText("Fitted (not saved yet):\n" + cal.summary())
        rms = cal.residual_rms
        notify(
            "info",
            f"Fitted the {cal.transform_type} calibration to {len(labels)} landmarks"
            + (f": RMS residual {rms:.3g} {cal.unit}" if rms is not None else "")
            + ". Check the residuals, then save it into the file.",
        )
        return cal

    def _clear_residuals(self) -> None:
        layer = self.residual_layer
        if layer is not None and layer in self.view.viewer.layers:
            self.view.viewer.layers.remove(layer)
        self.residual_layer = None

    def _draw_residuals(self, pixel: np.ndarray, world: np.ndarray) -> None:
        """Vectors from each clicked landmark to where the fit puts its world position."""
        self._clear_residuals()
        cal = self.calibration
        predicted = cal.world_to_pixels(world)
        space = self.view.space
        p0 = space.to_display(pixel, "pixel")
        p1 = space.to_display(predicted, "pixel")
        vec = np.stack([p0, p1 - p0], axis=1)
        self.residual_layer = self.view.viewer.add_vectors(
            vec,
            ndim=2,
            name="calibration residuals",
            edge_color="magenta",
            edge_width=2.0 * space.px_size,
            vector_style="arrow",
            length=1.0,
            metadata={_LANDMARK_KEY: True},
        )
        self.view.viewer.layers.selection.active = self.points

    def save(self) -> Any:
        """Write the fitted calibration into the file (closing, writing and reopening it)."""
        cal = self.calibration
        if cal is None:
            raise CalibrationError("Nothing to save: fit a calibration first.")
        path = self.view.save_calibration(cal)
        self.save_button.setEnabled(False)
        self.summary.setText(self._current_text())
        notify(
            "info",
            f"Saved the {cal.transform_type} calibration into {path.name} (processing/behavior/VideoCalibration). "
            f"The file was closed for the write and reopened; {self.view.space.describe()}",
        )
        return path

    def _on_rebuilt(self, old_space: Space) -> None:
        """The view changed coordinates (a calibration was saved): move the landmarks with it."""
        if self.points is None or self.points not in self.view.viewer.layers:
            return
        data = np.asarray(self.points.data, dtype=np.float64)
        self._syncing = True
        try:
            if len(data):
                pixel = old_space.from_display(data[:, -2:], "pixel")
                features = self.points.features.copy()
                self.points.data = self.view.space.to_display(pixel, "pixel")
                self.points.features = features
            self.points.size = 12.0 * self.view.space.px_size
        finally:
            self._syncing = False
        if self.residual_layer is not None and self.calibration is not None:
            labels, pixel, world = self.landmarks()
            self._draw_residuals(pixel, world)
        self._refresh_table()


def calibration_widget(napari_viewer: Any) -> QWidget:
    """The plugin's "Video calibration" widget for the session shown in ``napari_viewer``."""
    return SessionHost(napari_viewer, "calibration")


register_widget("calibration", CalibrationWidget)
