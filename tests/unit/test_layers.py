"""The layer rules hold: import-linter's contracts pass, and the core never loads textual."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contracts_pass() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    proc = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "broken" in proc.stdout and " 0 broken" in proc.stdout


def test_core_modules_do_not_load_textual() -> None:
    code = (
        "import sys\n"
        "import uq.cli, uq.services.sync, uq.services.review, uq.store.repo, uq.mail.parse\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"textual loaded by the core: {proc.stdout.strip()}"


def test_tui_first_paint_imports_do_not_load_sqlalchemy() -> None:
    """The App module and the queue screen import without SQLAlchemy: the store opens in a
    worker after the first paint (PERF_NOTES: sqlmodel costs ~850 ms)."""
    code = (
        "import sys\n"
        "import uq.tui.app, uq.tui.launch, uq.tui.screens.queue, uq.tui.screens.help, uq.tui.screens.lock\n"
        "print(','.join(sorted(m for m in ('sqlalchemy', 'sqlmodel') if m in sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
