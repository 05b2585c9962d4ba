"""Accessibility and layout checks for browser tests (a pytest plugin, see tests/conftest.py).

- `assert_no_axe_violations(page)`: axe-core's WCAG 2.0/2.1 A and AA rules plus its best
  practices. axe is a test tool from npm (package-lock.json pins it, `make test` installs
  it into node_modules/); it is evaluated into the page through the DevTools protocol,
  which the pages' CSP (`script-src 'self'`) does not govern, so the CSP under test stays on.
  Tests that use it are marked `a11y`: without axe they are skipped and the summary says
  why in one line; with CI=true they fail.
- `cumulative_layout_shift(page)`: CLS measured in Chromium with a PerformanceObserver.
- `tab_to`, `tab_order`: drive a page with the keyboard alone.
- `layouts`, `assert_fits`: horizontal overflow and element boxes at several widths.
"""
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AXE_PACKAGE = ROOT / "node_modules" / "axe-core"
AXE_SCRIPT = AXE_PACKAGE / "axe.min.js"
LOCK_FILE = ROOT / "package-lock.json"
INSTALL = "npm ci --no-audit --no-fund"
# WCAG 2.0 and 2.1, levels A and AA, and axe's best practices (landmarks, one h1, heading
# order...): on this project's pages the best practices found real problems (content
# outside any landmark, no h1) and no noise, so they are on.
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")
# A phone (320 and 390 CSS px), a tablet and a laptop.
WIDTHS = (320, 390, 768, 1280)
VIEWPORT_HEIGHT = 800

_axe = pytest.StashKey[str | None]()


def axe_problem():
    """None when node_modules holds the axe-core that package-lock.json pins, else why not."""
    pinned = json.loads(LOCK_FILE.read_text())["packages"]["node_modules/axe-core"]["version"]
    if not AXE_SCRIPT.is_file():
        if shutil.which("npm") is None:
            return "no npm found to install axe-core (install Node.js, then `make test`)"
        return f"axe-core is not installed (run `{INSTALL}`, as `make test` does)"
    installed = json.loads((AXE_PACKAGE / "package.json").read_text())["version"]
    if installed != pinned:
        return (f"node_modules has axe-core {installed}, package-lock.json pins {pinned} "
                f"(run `{INSTALL}`)")
    return None


def _axe_missing(config):
    if _axe not in config.stash:
        config.stash[_axe] = axe_problem()
    return config.stash[_axe]


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item):
    """Skip an `a11y` test without axe-core, or fail it with CI=true."""
    if item.get_closest_marker("a11y") is None or (why := _axe_missing(item.config)) is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"accessibility test cannot run: {why}; CI=true needs it", pytrace=False)
    pytest.skip(why)


def pytest_terminal_summary(terminalreporter, config):
    """One line saying why the accessibility tests did not run, when they were skipped."""
    why = config.stash.get(_axe, None)
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "a11y" in r.keywords]
    if why and skipped:
        terminalreporter.write_line(f"accessibility tests skipped ({len(skipped)}): {why}",
                                    yellow=True, bold=True)


# --- axe ---------------------------------------------------------------------------------

_RUN_AXE = """([context, tags]) => axe.run(context || document, {
    runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
  .then(result => result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary}))})))"""


def axe_violations(page, context=None):
    """axe's violations on the page as it is now (or within `context`, a selector or an
    axe context object): a list of {id, impact, help, url, nodes: [{target, summary}]}."""
    why = axe_problem()
    assert why is None, f"mark the test `a11y` so that it is skipped without axe ({why})"
    if page.evaluate("typeof window.axe") == "undefined":
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    return page.evaluate(_RUN_AXE, [context, list(AXE_TAGS)])


def describe_violations(violations):
    """Violations as lines a person can act on: rule, impact, help, and each element."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} <{v['url']}>")
        for node in v["nodes"][:8]:
            why = " / ".join(line.strip() for line in (node["summary"] or "").splitlines()[1:3])
            lines.append(f"    {node['target']}: {why}")
        if len(v["nodes"]) > 8:
            lines.append(f"    ...and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def assert_no_axe_violations(page, context=None):
    """Fail with a readable list when axe finds a WCAG 2.0/2.1 A/AA or best-practice
    violation on the page (or within `context`)."""
    violations = axe_violations(page, context)
    if violations:
        raise AssertionError(f"axe found on {page.url}:\n{describe_violations(violations)}")


# --- layout shift ------------------------------------------------------------------------

# CLS as Chrome reports it: shifts without recent input, grouped into session windows
# (gaps under 1 s, at most 5 s long); the largest window's sum.
_CLS = """settleMs => new Promise(resolve => setTimeout(() => {
  const observer = new PerformanceObserver(() => {});
  observer.observe({type: "layout-shift", buffered: true});
  const shifts = observer.takeRecords().filter(e => !e.hadRecentInput);
  observer.disconnect();
  let largest = 0, current = 0, first = 0, last = 0;
  for (const e of shifts) {
    if (current && e.startTime - last < 1000 && e.startTime - first < 5000) {
      current += e.value;
    } else {
      current = e.value; first = e.startTime;
    }
    last = e.startTime;
    largest = Math.max(largest, current);
  }
  resolve({cls: largest, sources: shifts.flatMap(e => e.sources.map(s => s.node
    ? (s.node.id ? "#" + s.node.id : s.node.nodeName.toLowerCase()
       + (s.node.className && typeof s.node.className === "string"
          ? "." + s.node.className.trim().split(/\\s+/).join(".") : ""))
    : "(removed node)"))});
}, settleMs))"""


@dataclass(frozen=True)
class LayoutShift:
    cls: float
    sources: list  # what moved, as selectors, for the failure message


def cumulative_layout_shift(page, settle_ms=250):
    """The page's cumulative layout shift once it has loaded, the network is idle and its
    scripts had `settle_ms` to run, with the elements that moved."""
    page.wait_for_load_state("load")
    page.wait_for_load_state("networkidle")
    return LayoutShift(**page.evaluate(_CLS, settle_ms))


# --- keyboard ----------------------------------------------------------------------------

_FOCUSED = r"""() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const shows = node => {
    if (!node || node.nodeType !== 1) return false;
    const s = getComputedStyle(node);
    return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0
            && s.outlineColor !== "rgba(0, 0, 0, 0)") || s.boxShadow !== "none";
  };
  // The focus may show on the element, on its label, or, for an input hidden under a drawn
  // control (a radio button styled as a chip), on the element drawn next to it.
  const box = el.getBoundingClientRect();
  const hidden = getComputedStyle(el).opacity === "0" || box.width <= 1 || box.height <= 1;
  const visible = [el, el.closest("label"), hidden && el.nextElementSibling].some(shows);
  const text = (el.getAttribute("aria-label")
    || (el.tagName === "SELECT" ? el.selectedOptions[0]?.text : el.innerText || el.value)
    || "").replace(/\s+/g, " ").trim();
  return {
    describe: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + (el.name ? `[name=${el.name}]` : "") + (text ? ` "${text.slice(0, 40)}"` : ""),
    visible,
  };
}"""
# After a key press: the focus, whether it matches a selector, whether it came back to the
# first stop of a round (one round trip per key press keeps long pages quick).
_STEP = f"""([selector, start]) => {{
  const el = document.activeElement;
  if (start) window.__firstTabStop = el;
  return {{focus: ({_FOCUSED})(), matches: !!selector && !!el?.matches(selector),
           again: !start && el === window.__firstTabStop}};
}}"""


@dataclass(frozen=True)
class Focus:
    describe: str  # e.g. 'a "Stories"' or 'input#email[name=email]'
    visible: bool  # an outline (not transparent) or a box shadow shows where the focus is


def focused(page):
    """The element that has the keyboard focus (None for the page itself)."""
    found = page.evaluate(_FOCUSED)
    return Focus(found["describe"], found["visible"]) if found else None


def tab_to(page, selector, max_tabs=60, backwards=False):
    """Press Tab (Shift+Tab with `backwards`) until the focused element matches `selector`
    (CSS); returns the Focus reached. Fails listing where the focus went otherwise."""
    key = "Shift+Tab" if backwards else "Tab"
    path = []
    for _ in range(max_tabs):
        page.keyboard.press(key)
        step = page.evaluate(_STEP, [selector, False])
        now = Focus(**step["focus"]) if step["focus"] else None
        if step["matches"]:
            return now
        path.append(now.describe if now else "(page)")
    raise AssertionError(f"{key} x{max_tabs} never reached {selector!r} on {page.url}; "
                         f"the focus went: {' -> '.join(path)}")


def tab_order(page, max_tabs=80):
    """Every stop of the Tab key from the top of the page until it comes round again."""
    # Focus the body for a moment: the next Tab then starts from the top, wherever the
    # focus was (a blur alone leaves Chromium's starting point where it was).
    page.evaluate("""() => { const body = document.body; body.tabIndex = -1; body.focus();
                             body.removeAttribute("tabindex"); }""")
    stops = []
    for n in range(max_tabs):
        page.keyboard.press("Tab")
        step = page.evaluate(_STEP, [None, n == 0])
        if step["again"] or step["focus"] is None:
            break
        stops.append(Focus(**step["focus"]))
    return stops


# --- layout at several widths ------------------------------------------------------------

_LAYOUT = """selectors => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))
.then(() => {
  const boxes = {};
  for (const s of selectors) {
    boxes[s] = [...document.querySelectorAll(s)].map(el => {
      const r = el.getBoundingClientRect();
      return {x: r.x, y: r.y, width: r.width, height: r.height};
    });
  }
  const right = innerWidth + 0.5;
  // Whether a box that scrolls (or hides its overflow) holds the element in: one of the
  // ancestors its position is relative to. An absolutely positioned element escapes the
  // scrolling boxes between it and its positioned ancestor; a fixed one never widens the page.
  const clipped = el => {
    for (let node = el; node && node !== document.body;) {
      const position = getComputedStyle(node).position;
      if (position === "fixed") return true;
      let holder = node.parentElement;
      while (position === "absolute" && holder && holder !== document.body
             && getComputedStyle(holder).position === "static") holder = holder.parentElement;
      if (!holder || holder === document.body) return false;
      if (getComputedStyle(holder).overflowX !== "visible") return true;
      node = holder;
    }
    return false;
  };
  const scrollWidth = document.documentElement.scrollWidth;
  const sticksOut = el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.right > right && !clipped(el);
  };
  const wide = scrollWidth <= innerWidth ? []
    : [...document.body.querySelectorAll("*")].filter(sticksOut);
  // The innermost ones: they are what sticks out, their ancestors only contain them.
  const offenders = wide.filter(el => !wide.some(o => o !== el && el.contains(o)))
    .slice(0, 10).map(el => el.tagName.toLowerCase()
      + (el.id ? "#" + el.id : "") + (el.classList.length ? "." + [...el.classList].join(".") : "")
      + ` (right edge ${Math.round(el.getBoundingClientRect().right)})`);
  return {scroll_width: scrollWidth, inner_width: innerWidth, offenders, boxes};
})"""


@dataclass(frozen=True)
class Layout:
    width: int
    scroll_width: int
    offenders: list  # elements whose right edge is past the viewport's, innermost first
    boxes: dict = field(default_factory=dict)  # selector -> [{x, y, width, height}]

    @property
    def overflows(self):
        return self.scroll_width > self.width


def layouts(page, widths=WIDTHS, boxes=()):
    """The page laid out at each width (the viewport resized, not reloaded): whether it
    scrolls sideways, what sticks out, and the boxes of the elements `boxes` selects."""
    found = []
    for width in widths:
        page.set_viewport_size({"width": width, "height": VIEWPORT_HEIGHT})
        measured = page.evaluate(_LAYOUT, list(boxes))
        found.append(Layout(measured["inner_width"], measured["scroll_width"],
                            measured["offenders"], measured["boxes"]))
    return found


def assert_fits(page, widths=WIDTHS, boxes=()):
    """Fail when the page scrolls sideways at any of the widths, naming what sticks out;
    returns the layouts (with boxes for wrap checks)."""
    found = layouts(page, widths, boxes)
    wide = [f"at {lay.width} px the page is {lay.scroll_width} px wide: "
            f"{', '.join(lay.offenders) or '(no single element)'}"
            for lay in found if lay.overflows]
    if wide:
        raise AssertionError(f"{page.url} scrolls sideways:\n" + "\n".join(wide))
    return found


def rows(boxes, tolerance=2):
    """How many lines the boxes sit on (tops within `tolerance` px are one line)."""
    tops = sorted(box["y"] for box in boxes)
    return sum(1 for i, top in enumerate(tops) if i == 0 or top - tops[i - 1] > tolerance)
