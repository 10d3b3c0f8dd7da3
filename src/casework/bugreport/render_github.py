"""The bug report as a GitHub issue body: Markdown with long evidence folded in ``<details>``.

The issue title is given separately (``gh issue create --title``); the body
carries it in an HTML comment on its first line so scripts can read it.
"""

from __future__ import annotations

import html

from casework.bugreport.document import Code, blocks
from casework.bugreport.model import BugReport
from casework.bugreport.render_md import block, fence


def render(r: BugReport) -> str:
    out = [f"<!-- title: {r.title.replace('--', '- -')} -->", ""]
    for b in blocks(r):
        if isinstance(b, Code) and b.long:
            summary = html.escape(b.caption or "details")
            out += [f"<details><summary>{summary}</summary>", "", *fence(b), "", "</details>", ""]
        else:
            out += block(b, heading="###")
    return "\n".join(out).rstrip() + "\n"
