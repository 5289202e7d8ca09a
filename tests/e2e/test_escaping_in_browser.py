"""The escaping helper against Streamlit's real frontend: every hostile string, passed through ``md`` into the
elements that render markdown (markdown, caption, error, expander label, metric, tab label), reads in the browser
exactly as typed (control characters written out), with no link, image, icon, colour, math or injected element."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.e2e.conftest import ROOT, free_port, wait_for_app
from tests.hostile import HOSTILE
from dokani.ui.text import visible

pytestmark = pytest.mark.e2e

STRINGS = [h for h in HOSTILE if h.strip() and len(h) < 200 and "\ud800" not in h and "\n" not in h] + [
    ":red[alarm]", ":blue-background[x]", ":material/home: ok", ":smile: :+1:", ":streamlit:", "$x^2$ and $$y$$",
    "[a](javascript:alert(1))", "<a href=x>a</a>", "&lt;b&gt;", "## two", "1) one", "* star", "\u202eevil\u202c",
    ":small[tiny]", ":violet-badge[badge]", "a:b:c", "**:red[both]**",
]

SCRIPT = '''
import json, streamlit as st
from dokani.ui.text import md
strings = json.loads(open({path!r}).read())
for i, s in enumerate(strings):
    with st.container(key=f"md_{{i}}"):
        st.markdown(md(s))
    with st.container(key=f"cap_{{i}}"):
        st.caption(md(s))
    with st.container(key=f"err_{{i}}"):
        st.error(md(s))
    with st.container(key=f"exp_{{i}}"):
        st.expander(md(s))
    with st.container(key=f"met_{{i}}"):
        st.metric(md(s), md(s))
    with st.container(key=f"tab_{{i}}"):
        st.tabs([md(s)])
'''


@pytest.fixture
def escaping_app(tmp_path):
    data = tmp_path / "strings.json"
    data.write_text(json.dumps(STRINGS))
    script = tmp_path / "escaping_app.py"
    script.write_text(SCRIPT.format(path=str(data)))
    port = free_port()
    log = tmp_path / "streamlit.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
                                "--server.headless", "true", "--server.fileWatcherType", "none"],
                               cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                break
        except OSError:
            time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(10)


def test_hostile_strings_read_as_typed_in_every_markdown_element(browser, escaping_app):
    page = browser.new_page()
    page.goto(escaping_app)
    wait_for_app(page)
    page.wait_for_selector(f".st-key-tab_{len(STRINGS) - 1}")
    problems = []
    for i, s in enumerate(STRINGS):
        expected = " ".join(visible(s).split())
        for kind in ("md", "cap", "err", "exp", "met", "tab"):
            box = page.locator(f".st-key-{kind}_{i}")
            rendered = box.locator("[data-testid=stMarkdownContainer], [data-testid=stMetricValue]")
            injected = rendered.locator("a, img, script, iframe, h1, h2, h3, h4, h5, h6, ul, ol, table, blockquote, code, "
                                   "b, strong, em, del, .katex, [data-testid=stIconMaterial], [class*=Colored], "
                                   "span[style*=color], [class*=Badge]")
            if injected.count():
                problems.append((kind, s, injected.first.evaluate("e => e.outerHTML")[:120]))
            texts = box.evaluate("e => e.innerText").replace("\u2060", "")
            shown = " ".join(texts.split())
            if kind == "met":
                shown = " ".join(shown.split()[: len(expected.split())])  # label, then value
            if expected not in shown:
                problems.append((kind, s, shown[:120]))
    assert not problems, "\n".join(map(repr, problems[:40]))
