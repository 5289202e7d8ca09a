"""Every page rendered through the whole app, as the owner of the busiest business (``python -m bench`` runs this
in a process of its own, so the resident memory it reports is the app's)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_pages(url: str, repeat: int, returns: int):
    """Render each page through the whole app, as the owner of the busiest business."""
    from bench import pages as page_bench
    from bench.page_scenarios import page_scenarios
    from bench.plans import PlanRecorder, write_plans
    from bench.scenarios import _first_pending_public_id
    from db.demo import DEMO_PASSWORD, business, user
    from db.engine import app_engine
    from dokani.accounts.sign_in import sign_in

    page_bench._shell_pages_manager()
    clock = page_bench.SqlClock()
    clock.install(app_engine())
    token = sign_in(user("atlas", "owner").email, DEMO_PASSWORD).token
    atlas = str(business("atlas").business_id)
    bare = page_bench._bare_page_ms(repeat)
    print(f"page {'bare page, 50-row table':<38} median {bare:>8.1f} ms")
    shell = page_bench.shell_page(token, atlas, repeat, clock, bare)
    recorder = PlanRecorder()
    recorder.install(app_engine())
    timings, plans = [], {}
    for name, page, query, act in page_scenarios(_first_pending_public_id()):
        at = page_bench.open_app(page, token, atlas, query)
        timings.append(page_bench.time_reruns(name, at, act, repeat, clock, bare, shell))
        # then once more with every read explained (after the timings: explaining doubles each statement)
        recorder.plans, recorder.on = [], True
        (act(at, repeat + 1) if act else at).run()
        recorder.on = False
        plans[name] = recorder.plans
    write_plans(ROOT / "benchmarks" / "PLANS.md", returns, plans)
    print(f"wrote {ROOT / 'benchmarks' / 'PLANS.md'}")
    timings_rss = page_bench.resident_mib()  # before the naive peer, which holds the whole table in pandas
    peer = page_bench.naive_peer_ms(url, atlas)
    print(f"naive peer (pd.read_sql of the business's returns, filter in pandas): {peer:,.0f} ms")
    return timings, peer, timings_rss, shell


