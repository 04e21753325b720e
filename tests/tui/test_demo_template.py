"""The cached demo template: a restored demo shows the same queue as a freshly built one."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

from tests.fixtures.env import UqHome
from uq.config import Config
from uq.queue.clock import FixedClock
from uq.services import demo_template
from uq.services.context import Context
from uq.services.demo import demo_config, load_demo
from uq.services.queries import queue
from uq.store.fastread import quick_queue_rows


def _fresh(root: Path, clock: FixedClock) -> Context:
    root.mkdir(parents=True, exist_ok=True)
    ctx = Context.open(demo_config(Config(), root), clock=clock)
    load_demo(ctx)
    return ctx


def test_restored_template_matches_a_fresh_build_later(
    uq_home: UqHome, tmp_path: Path, fixed_clock: FixedClock
) -> None:
    assert not demo_template.restore(tmp_path / "none", fixed_clock())  # no template yet
    built = _fresh(tmp_path / "first", fixed_clock)
    demo_template.save(tmp_path / "first" / demo_template.DB_NAME, fixed_clock())
    built.close()
    assert stat.S_IMODE(demo_template.template_path().stat().st_mode) == 0o600

    later = FixedClock(fixed_clock() + timedelta(hours=5, minutes=7))
    root = tmp_path / "restored"
    assert demo_template.restore(root, later())
    assert stat.S_IMODE((root / demo_template.DB_NAME).stat().st_mode) == 0o600
    quick = quick_queue_rows(f"sqlite:///{root / demo_template.DB_NAME}")
    restored = Context.open(demo_config(Config(), root), clock=later)
    load_demo(restored)  # idempotent on a restored database: nothing ingested twice
    fresh = _fresh(tmp_path / "fresh", later)

    def view(ctx: Context) -> list[tuple[str, object, object, int]]:
        return [(c.case_id, d.due_at, d.state, d.seconds_left) for c, d in queue(ctx)]

    assert view(restored) == view(fresh)
    assert len(view(restored)) == 15
    assert quick is not None and [r.case_id for r in quick] == [c for c, *_ in view(fresh)]
    assert restored.store.counts() == fresh.store.counts()
    from uq.services import audit

    assert audit.verify(restored)[0], "a restored demo starts its own, intact audit chain"
