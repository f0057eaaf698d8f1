"""The Airflow UI in a real headless Chromium (Playwright driving the Debian ``chromium``), on the ``stack`` the
scheduler test also uses: log in, every DAG listed with its tags, owner and rendered docs on each DAG page, the
Asset graph linking the stages, and the finished runs. Screenshots go to ``test-artifacts/ui/``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts" / "ui"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
# One DAG per DAG file: each file's docstring is the doc its DAGs render.
DOC_PAGES = ["crawl_demo_boutique", "embed_catalog", "rank_trends", "fti_freshness", "fti_backfill",
             "train_embedder", "reindex_catalog"]  # fmt: skip


@pytest.fixture(scope="module")
def page(stack, tmp_path_factory):
    """A logged-in page of a fresh Chromium profile."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs the Debian package chromium")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1440, "height": 1000},
        )  # fmt: skip
        context.set_default_timeout(45_000)
        pg = context.new_page()
        # The SPA sends a visitor with no session to the login page through one or two client-side redirects;
        # waiting for the form (not for one navigation, which the next redirect may abort) survives both.
        form = pg.locator("input[name=username]")
        try:
            pg.goto(stack.af.url + "/", wait_until="commit")
            form.wait_for()
        except PlaywrightError:  # a redirect aborted mid-way (seen once in CI): load the session-less SPA again
            pg.goto(stack.af.url + "/", wait_until="commit")
            form.wait_for()
        assert "/auth/login" in pg.url, pg.url
        pg.fill("input[name=username]", "admin")
        pg.fill("input[name=password]", stack.af.password)
        pg.screenshot(path=ARTIFACTS / "00_login.png")
        pg.get_by_role("button", name="Sign in").click()
        pg.wait_for_url(stack.af.url + "/")
        yield pg
        context.close()


def test_every_dag_is_listed_with_its_tags_and_last_run(stack, page):
    dags = stack.af.api.get("/dags?limit=1000")["dags"]
    page.set_viewport_size({"width": 1440, "height": 180 + 64 * len(dags)})
    page.goto(stack.af.url + "/dags")
    page.get_by_role("button", name="Show table view").click()
    page.get_by_role("link", name="rank_trends", exact=True).wait_for()
    for dag in dags:
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=dag["dag_id"], exact=True))
        assert row.count() == 1, dag["dag_id"]
        for tag in dag["tags"]:
            assert row.get_by_text(tag["name"], exact=True).count() >= 1, (dag["dag_id"], tag["name"])
    for dag_id in stack.chain:  # the pipeline's DAGs show a successful last run
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=dag_id, exact=True))
        assert re.search(r"success", row.inner_html(), re.I), dag_id
    page.screenshot(path=ARTIFACTS / "01_dag_list.png", full_page=True)
    page.set_viewport_size({"width": 1440, "height": 1000})


@pytest.mark.parametrize("dag_id", DOC_PAGES)
def test_dag_page_shows_owner_tags_and_rendered_docs(stack, page, dag_id):
    dag = stack.af.api.get(f"/dags/{dag_id}/details")
    page.goto(f"{stack.af.url}/dags/{dag_id}")
    page.get_by_role("link", name="fti-data").first.wait_for()  # Owner
    for tag in dag["tags"]:
        assert page.get_by_role("link", name=tag["name"], exact=True).count() >= 1
    page.get_by_role("button", name="Dag Docs").click()
    dialog = page.get_by_role("dialog")
    title = dag["doc_md"].strip().splitlines()[0].lstrip("#").replace("`", "").strip()
    heading = dialog.get_by_role("heading", level=3)  # "### ..." rendered as markdown, not shown raw
    heading.wait_for()
    assert heading.inner_text().strip() == title
    assert dialog.locator("code").count() >= 2 and "###" not in dialog.inner_text()
    page.screenshot(path=ARTIFACTS / f"02_docs_{dag_id}.png")
    page.keyboard.press("Escape")


def test_asset_graph_links_the_stages(stack, page):
    assets = {str(a["id"]): a["name"] for a in stack.af.api.get("/assets?limit=100")["assets"]}
    page.goto(f"{stack.af.url}/dags/embed_catalog")
    page.get_by_role("button", name=re.compile("Show Graph")).click()
    page.get_by_role("button", name="Options").click()
    page.get_by_role("combobox", name="Dependencies").click()
    page.get_by_role("option", name="All Dag Dependencies").click()
    page.keyboard.press("Escape")
    page.locator(".react-flow__node[data-id='dag:crawl_demo_boutique']").wait_for()
    page.get_by_role("button", name="Collapse Details Panel").click()  # the whole width for the graph
    page.get_by_role("button", name="Fit View").click()
    page.wait_for_timeout(1500)  # let the layout settle for the screenshot
    page.screenshot(path=ARTIFACTS / "03_asset_graph.png")

    def name(node: str) -> str:
        kind, _, ident = node.partition(":")
        return f"asset:{assets[ident]}" if kind == "asset" else node

    edges = set()
    for edge_id in page.locator(".react-flow__edge").evaluate_all("els => els.map(e => e.getAttribute('data-id'))"):
        source, target = re.fullmatch(r"((?:dag|asset):[^-]+)-((?:dag|asset):.+)", edge_id).groups()
        edges.add((name(source), name(target)))
    chain = [
        ("dag:crawl_demo_boutique", "asset:fti_catalog_batches"),
        ("dag:crawl_demo_outlet", "asset:fti_catalog_batches"),
        ("asset:fti_catalog_batches", "dag:embed_catalog"),
        ("dag:embed_catalog", "asset:fti_catalog_index"),
    ]
    missing = [e for e in chain if e not in edges]
    assert not missing, f"graph lacks {missing}; has {sorted(edges)}"


def test_a_finished_run_is_shown_successful(stack, page):
    run = next(r for r in stack.runs["rank_trends"] if r["state"] == "success")
    page.goto(f"{stack.af.url}/dags/rank_trends/runs/{run['dag_run_id']}")
    page.get_by_text(run["dag_run_id"]).first.wait_for()
    page.get_by_text(re.compile(r"^success$", re.I)).first.wait_for()
    page.get_by_text("rank_and_publish").first.wait_for()
    page.screenshot(path=ARTIFACTS / "04_rank_trends_run.png")
    page.goto(f"{stack.af.url}/dags/crawl_demo_boutique/runs/{stack.runs['crawl_demo_boutique'][0]['dag_run_id']}")
    page.get_by_text("validate").first.wait_for()
    page.get_by_text(re.compile(r"^success$", re.I)).first.wait_for()
    page.screenshot(path=ARTIFACTS / "05_crawl_run.png")
