"""Rich output as a frontend receives it through jupyter_client: the
`%draw` picture, the live table of `watch_prefix` and progress bars, all
checked on the real messages (display ids, update_display_data)."""

from __future__ import annotations

from pathlib import Path
import xml.etree.ElementTree as ET

from test_protocol import iopub_until_idle, kernel, shell_reply  # noqa: F401 (a fixture)

SVG = "{http://www.w3.org/2000/svg}"


def run(kernel, code: str) -> list[dict]:
    """Runs a cell; returns its IOPub messages up to idle (the reply must be ok)."""
    _, kc = kernel
    msg_id = kc.execute(code)
    got = iopub_until_idle(kc, msg_id, timeout=30)
    reply = shell_reply(kc, msg_id)
    assert reply["content"]["status"] == "ok", reply["content"]
    return got


def of_type(msgs: list[dict], *types: str) -> list[dict]:
    return [m for m in msgs if m["msg_type"] in types]


def display_id(msg: dict) -> str | None:
    return msg["content"].get("transient", {}).get("display_id")


SEED = """insert todo:001 "buy boots"
insert todo:002 "lift legs"
insert todo:003 "call mom"
insert note:042 "GTA loads slow"
"""


def test_draw_sends_a_well_formed_svg_that_highlights_the_selected_keys(kernel) -> None:
    run(kernel, SEED)
    msgs = run(kernel, "remove todo:003\n%draw todo:")
    (shown,) = of_type(msgs, "display_data")
    data = shown["content"]["data"]
    assert set(data) >= {"image/svg+xml", "text/plain"}
    root = ET.fromstring(data["image/svg+xml"])  # raises if it is not well formed
    assert root.tag == f"{SVG}svg"
    folders = {
        g.get("data-key"): g.get("class")
        for g in root.iter(f"{SVG}g")
        if (g.get("class") or "").startswith("folder")
    }
    assert folders == {
        "note:042": "folder",
        "todo:001": "folder selected",
        "todo:002": "folder selected",
        "todo:003": "folder tombstone",
    }
    # The seek points at the first selected folder's row; the walk runs on.
    assert root.find(f".//{SVG}g[@class='seek']") is not None
    assert root.find(f".//{SVG}g[@class='walk']") is not None
    bands = {g.get("data-prefix") for g in root.iter(f"{SVG}g") if g.get("class") == "band"}
    assert bands == {"note:", "todo:"}

    msgs = run(kernel, "%draw todo:002..todo:003")
    root = ET.fromstring(of_type(msgs, "display_data")[0]["content"]["data"]["image/svg+xml"])
    selected = [g.get("data-key") for g in root.iter(f"{SVG}g") if g.get("class") == "folder selected"]
    assert selected == ["todo:002"], "a range, and the tombstone is gone in a new cell"


def test_a_watch_updates_its_display_in_place_from_later_cells(kernel) -> None:
    run(kernel, SEED)
    msgs = run(kernel, "watch_prefix todo:")
    (first,) = of_type(msgs, "display_data")
    watch_id = display_id(first)
    assert watch_id, first["content"]
    assert "todo:003" in first["content"]["data"]["text/plain"]
    assert "<table" in first["content"]["data"]["text/html"]

    msgs = run(kernel, 'insert todo:004 "read a book"')
    (update,) = of_type(msgs, "update_display_data")
    assert display_id(update) == watch_id
    text = update["content"]["data"]["text/plain"]
    assert 'todo:004 = "read a book"' in text and "1 change seen" in text, text
    assert not of_type(msgs, "display_data"), "an update, not a new display"

    msgs = run(kernel, "insert note:043 x")
    assert not of_type(msgs, "update_display_data"), "nothing under todo: changed"

    msgs = run(kernel, "unwatch todo:")
    (last,) = of_type(msgs, "update_display_data")
    assert display_id(last) == watch_id
    assert "(stopped)" in last["content"]["data"]["text/plain"]
    msgs = run(kernel, "insert todo:005 y")
    assert not of_type(msgs, "update_display_data")


def test_a_long_load_shows_a_progress_bar_that_updates_in_place(kernel, tmp_path: Path) -> None:
    data = tmp_path / "many.jsonl"
    data.write_text("".join(f'{{"key":"k{i:06}","value":"v{i}"}}\n' for i in range(50_000)))
    msgs = run(kernel, f"%load {data}")
    shown = of_type(msgs, "display_data", "update_display_data")
    assert shown, "a progress bar"
    assert shown[0]["msg_type"] == "display_data"
    bar_id = display_id(shown[0])
    assert bar_id
    assert all(m["msg_type"] == "update_display_data" for m in shown[1:])
    assert {display_id(m) for m in shown} == {bar_id}
    assert "<progress" in shown[0]["content"]["data"]["text/html"]
    last = shown[-1]["content"]["data"]["text/plain"]
    assert "done, 50,000 rows in " in last and last.endswith(" rows/s)"), last
    streams = "".join(m["content"]["text"] for m in of_type(msgs, "stream"))
    assert "loaded 50000 rows from " in streams
