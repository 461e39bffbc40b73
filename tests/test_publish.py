"""`tabbench publish`: the four files, escaping of every name, the JSON schema, empty stores."""

import csv
import json
import re

import pytest
from conftest import REPO, assert_one_line_error, run_cli
from test_leaderboard import image_run, run

from tabbench.results.leaderboard import rank
from tabbench.results.publish import JSON_SCHEMA_VERSION, json_document, publish_site
from tabbench.results.report import build_report
from tabbench.results.store import Store

EVIL = "<script>window.pwned=1</script>"


def hostile_records():
    records = [run(EVIL, s, 0.9 + s / 100) for s in range(3)]
    records += [run("a|b*c_[x](y)", s, 0.5) for s in range(3)]
    records += [run("=HYPERLINK(1)", 0, 0.4)]
    records += [image_run("pixel", "resnet18", p, s, 0.6 + p / 10) for p in (0, 1) for s in (0, 1)]
    return records


def test_every_name_is_escaped_in_markdown_and_html(tmp_path):
    paths = publish_site(hostile_records(), tmp_path / "site", store=tmp_path / "s.sqlite")
    assert [p.name for p in paths] == [
        "leaderboard.md", "leaderboard.csv", "leaderboard.json", "index.html",
    ]  # fmt: skip
    page = (tmp_path / "site" / "index.html").read_text()
    assert page.count("<script") == 1, "only the page's own sorting script"
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page
    assert "default-src 'none'" in page  # and nothing may be loaded from anywhere
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "no network references"
    markdown = (tmp_path / "site" / "leaderboard.md").read_text()
    assert "<script" not in markdown and "&lt;script&gt;" in markdown
    assert r"a\|b\*c\_\[x\](y)" in markdown  # a pipe would otherwise split the table row
    # Rendered as GitHub would (markdown-it, tables on): names are literal text in their own cell.
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark").enable("table").render(markdown)
    assert "<script" not in rendered
    assert ">&lt;script&gt;window.pwned=1&lt;/script&gt;</td>" in rendered
    assert ">a|b*c_[x](y)</td>" in rendered
    for table in rendered.split("<table>")[1:]:
        table = table.split("</table>")[0]
        assert "<a href" not in table and "<em>" not in table and "<code>" not in table
        header = table.split("</tr>")[0].count("</th>")
        rows = table.split("<tbody>")[1].split("</tbody>")[0].split("</tr>")[:-1]
        assert rows and all(row.count("</td>") == header for row in rows)


def test_csv_rows_and_spreadsheet_formulas(tmp_path):
    publish_site(hostile_records(), tmp_path, store=tmp_path / "s.sqlite")
    with (tmp_path / "leaderboard.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    models = [r["model"] for r in rows]
    assert EVIL in models and "'=HYPERLINK(1)" in models  # quoted, never run as a formula
    evil = next(r for r in rows if r["model"] == EVIL)
    assert evil["rank"] == "1" and evil["standing"] == "leader" and evil["runs"] == "3"
    assert float(evil["mean"]) == 0.91 and float(evil["ci_low"]) < 0.91 < float(evil["ci_high"])


def test_json_follows_its_documented_schema(tmp_path):
    records = hostile_records()
    document = json_document(build_report(rank(records)), {"generated_at": "now", "tabbench_version": "x", "store": "s", "runs": 11})  # fmt: skip
    assert document["schema"] == "tabbench-leaderboard"
    assert document["schema_version"] == JSON_SCHEMA_VERSION
    (dataset,) = document["datasets"]
    assert dataset["name"] == "iris" and dataset["metric"] == "accuracy"
    leader = dataset["entries"][0]
    assert leader["model"] == EVIL and leader["values"] == [0.9, 0.91, 0.92]
    assert leader["seeds"] == [0, 1, 2] and leader["ci_low"] < leader["mean"] < leader["ci_high"]
    (delta,) = document["pretrained_vs_scratch"]
    assert delta["delta"] == pytest.approx(0.1) and delta["paired_runs"] == 2
    json.dumps(document, allow_nan=False)  # strict JSON: no NaN anywhere
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### leaderboard.json") :]
    keys = [*document, *dataset, *leader, *document["across_datasets"][0], *delta]
    for key in keys:
        assert f"`{key}`" in section, f"README's leaderboard.json section does not document {key!r}"


def test_publish_on_an_empty_store_says_so(tmp_path):
    Store(tmp_path / "empty.sqlite").close()
    result = run_cli("publish", "--store", "empty.sqlite", cwd=tmp_path)
    assert_one_line_error(result, "nothing to publish")
    assert not (tmp_path / "site").exists()
    other = run_cli("publish", "--store", "empty.sqlite", "--dataset", "iris", cwd=tmp_path)
    assert_one_line_error(other, "nothing to publish: no finished runs for dataset 'iris'")
    missing = run_cli("publish", "--store", "nope.sqlite", cwd=tmp_path)
    assert_one_line_error(missing, "no results store at nope.sqlite")


def test_publish_after_a_real_run_embeds_plots_and_previews(tmp_path):
    ran = run_cli(
        "run", "-d", "iris,wine", "-e", "pixel:img_size=16", "-b", "small-cnn", "--epochs", "1",
        "--baselines", "logreg", "--seeds", "2", "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    result = run_cli("publish", "--out", "site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site" / "index.html").read_text()
    assert page.count("<figure><img") == 2  # one preview per dataset and encoder
    assert page.count("<svg") == 4  # per dataset: ranking bars and the encoder x backbone map
    assert "Across datasets" in page and "rank: wine" in page
    data = json.loads((tmp_path / "site" / "leaderboard.json").read_text())
    logreg = next(e for e in data["datasets"][0]["entries"] if e["model"] == "logreg")
    assert logreg["parameters"] == 15  # iris: 3 classes x (4 features + intercept)
    plain = run_cli("publish", "--out", "plain", "--no-previews", cwd=tmp_path)
    assert (
        plain.returncode == 0 and "<figure>" not in (tmp_path / "plain" / "index.html").read_text()
    )


def test_optimistic_ams_is_published_only_labelled_as_such(tmp_path):
    records = [
        run(m, s, honest, dataset="higgs", metric="ams", ams_tuned_on_subset=lucky, ams_raw_weights=raw)
        for m, honest, lucky, raw in (("honest", 3.0, 3.1, 1.0), ("lucky", 2.0, 9.0, 5.0))
        for s in (0, 1)
    ]  # fmt: skip
    publish_site(records, tmp_path, store=tmp_path / "s.sqlite")
    document = json.loads((tmp_path / "leaderboard.json").read_text())
    first, second = document["datasets"][0]["entries"]
    assert (first["model"], first["mean"]) == ("honest", 3.0)  # ranked on the honest AMS only
    assert second["optimistic"]["ams_tuned_on_subset"] == {
        "label": "AMS* cut on test", "mean": 9.0, "values": [9.0, 9.0],
    }  # fmt: skip
    for name in ("leaderboard.md", "index.html"):
        text = (tmp_path / name).read_text()
        assert "AMS\\* cut on test" in text or "AMS* cut on test" in text
        assert "optimistic, never used for ranking" in text
