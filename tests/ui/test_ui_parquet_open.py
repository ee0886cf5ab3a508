"""The viewer's o opens a Spark capture folder (Parquet part files) like a session file."""

from __future__ import annotations

from pathlib import Path

from fakefeed import fleet_batch
from helpers import wait_until
from test_ui_record_open import make_app

from flux_tui.ui.path_dialog import PathDialog
from tests.data.test_data_parquet import write_spark_capture


async def test_o_opens_a_capture_folder(tmp_path: Path) -> None:
    write_spark_capture(tmp_path / "capture")
    app = make_app([fleet_batch(0, 8)])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 8)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, PathDialog))
        app.screen.input.value = str(tmp_path / "capture")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.replay is not None
                         and app.replay.path.name == "capture")
        assert "capture" in app.sub_title
