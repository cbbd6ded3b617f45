"""Student notebooks made safe to show as HTML in the instructor's browser.

:class:`SanitizeNotebook` is an nbconvert preprocessor: after it, an HTML export of the
notebook (nbconvert's ``lab`` or ``classic`` template, nbgrader's ``formgrade`` and
``feedback`` templates) holds no script, event handler, ``javascript:``/``data:text/html``
URL, frame, object, embed, form or style sheet from the student, and still shows what an
honest student wrote:

- markdown cells (and nbgrader comments) are rendered with nbconvert's own renderer
  (maths, tables, attachments embedded as ``data:`` images), the HTML is cleaned with
  bleach (an allowlist of tags, attributes, URL schemes and CSS properties), and the
  cleaned HTML becomes the cell's source in a form markdown passes through unchanged
  (one HTML block: a ``<div>`` with no blank line). Elements that only carry code
  (``script``, ``iframe``, ``object``, ``embed``, ...) are removed with their content and
  leave a visible ``[removed: <tag>]`` so the grader sees that something was there;
  ``style`` elements are removed silently;
- code outputs keep ``text/plain``, ``text/latex`` and PNG/JPEG images (valid base64,
  numeric width/height only); ``text/html`` is cleaned; ``text/markdown`` becomes cleaned
  ``text/html``; ``image/svg+xml`` becomes an ``<img>`` of the SVG (an SVG shown as an
  image runs no script and loads nothing); every other MIME type (``application/javascript``,
  widget views, mermaid, PDF, JSON, ...) is dropped;
- raw cells are cleaned; the notebook's widget state is dropped; execution counts that
  are not integers are cleared; nbgrader ``grade_id`` values (printed unescaped by
  nbgrader's templates) are escaped unless they are plain identifiers; the formgrader's
  page resources that name the student (``student``, ``first_name``, ``last_name``,
  ``notebook_path``, printed unescaped by its template) are escaped.

Where it runs (``autograder/nbgrader_config.py``):

- feedback: ``c.GenerateFeedback.preprocessors``, after ``ClearHiddenTests``;
- the formgrader: nbgrader 0.9.6 renders a submission for manual grading in
  ``server_extensions/formgrader/handlers.py`` (``SubmissionHandler.get``) with
  ``self.exporter.from_filename(...)``; that exporter is one ``HTMLExporter(config=...)``
  built from the course configuration when the server starts
  (``formgrader.py``, ``init_tornado_settings``; template ``formgrade``). nbgrader gives it
  no preprocessor list of its own, but every nbconvert exporter runs its configurable
  ``preprocessors`` trait, so ``c.HTMLExporter.preprocessors`` names this class.
  ``c.GenerateFeedback.HTMLExporter.preprocessors = []`` (configuration scoped to the
  exporter whose parent is GenerateFeedback) keeps feedback's exporter from running it a
  second time before ``ClearHiddenTests``.

Not covered here: a notebook opened live in JupyterLab (JupyterLab's own sanitiser and
notebook trust apply); maths is typeset in the browser by MathJax, which nbconvert loads
with its ``Safe`` extension.
"""

from __future__ import annotations

import base64
import binascii
import html
import re

import bleach
import tinycss2
from bleach.css_sanitizer import CSSSanitizer
from bs4 import BeautifulSoup
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, List, Set, Unicode

__all__ = ["SanitizeNotebook", "clean_html", "markdown_to_html", "as_markdown"]

TAGS = [
    "a", "abbr", "acronym", "b", "bdi", "bdo", "blockquote", "br", "caption", "center", "cite", "code", "col",
    "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small",
    "span", "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "tt", "u", "ul", "var", "wbr",
]
# per tag; "*" for every allowed tag. No id or name (they could shadow the page's own
# elements and globals), no data-* (jQuery/Bootstrap act on them), no event handlers.
ATTRIBUTES = {
    "*": ["title", "lang", "dir", "align", "style", "class"],
    "a": ["href"],
    "img": ["src", "alt", "width", "height"],
    "td": ["colspan", "rowspan", "valign"],
    "th": ["colspan", "rowspan", "valign", "scope"],
    "col": ["span"],
    "colgroup": ["span"],
    "table": ["border"],
    "ol": ["start", "type", "reversed"],
    "li": ["value"],
    "details": ["open"],
}
CSS_PROPERTIES = [
    "color", "background-color", "font-weight", "font-style", "font-size", "font-family", "font-variant",
    "text-align", "text-decoration", "text-indent", "text-transform", "vertical-align", "white-space",
    "line-height", "letter-spacing", "word-spacing", "width", "height", "max-width", "min-width", "max-height",
    "min-height", "border", "border-top", "border-right", "border-bottom", "border-left", "border-color",
    "border-style", "border-width", "border-collapse", "border-spacing", "border-radius", "margin", "margin-top",
    "margin-right", "margin-bottom", "margin-left", "padding", "padding-top", "padding-right",
    "padding-bottom", "padding-left", "display", "float", "clear", "list-style-type", "opacity",
]
CSS_FUNCTIONS = {"rgb", "rgba", "hsl", "hsla"}
# schemes a link or an image may use; data: only for the images in IMAGE_DATA
PROTOCOLS = ["http", "https", "mailto", "data"]
IMAGE_DATA = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")
# elements that carry code, not text: removed with what is inside them
CODE_ELEMENTS = ["script", "iframe", "frame", "frameset", "object", "embed", "applet", "noembed", "noframes",
                 "template", "noscript", "xmp", "plaintext", "base", "meta", "link", "form", "portal"]
QUIET_ELEMENTS = ["style", "title", "head"]
# class names the page's own scripts give no meaning to: pygments' short token names,
# nbconvert's and pandas' classes (mermaid's "mermaid" is not one: the lab template runs it)
CLASS_NAME = re.compile(r"[a-z]{1,3}\d?|highlight|hll|anchor-link|dataframe|language-[A-Za-z0-9_+-]{1,30}"
                        r"|math|text-(?:left|right|center)")
GRADE_ID = re.compile(r"[A-Za-z0-9_\-]+")
KEEP_OUTPUTS = {"text/plain", "text/latex", "image/png", "image/jpeg"}
RASTER = ("image/png", "image/jpeg")
PAGE_RESOURCES = ("student", "first_name", "last_name", "notebook_path")


def _normalised_url(value: str) -> str:
    """A URL as a browser reads its scheme: entities decoded, no control characters or
    whitespace, lower case."""
    value = html.unescape(value)
    return re.sub(r"[`\x00-\x20\x7f-\xa0\s]+", "", value).lower()


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """bleach's attribute filter: ATTRIBUTES, data: URLs only as image sources of IMAGE_DATA,
    class names only from CLASS_NAME (bleach then checks every URL's scheme)."""
    if name not in ATTRIBUTES.get(tag, ()) and name not in ATTRIBUTES["*"]:
        return False
    if name in ("href", "src"):
        url = _normalised_url(value)
        if url.startswith("data:"):
            return tag == "img" and name == "src" and url[5:].startswith(tuple(m + t for m in IMAGE_DATA
                                                                             for t in (";", ",")))
    if name == "class":
        return all(CLASS_NAME.fullmatch(c) for c in value.split())
    return True


class _SafeCSS(CSSSanitizer):
    """bleach's CSS sanitiser, keeping only declarations whose value has no URL, no
    escape and no function but colours."""

    def __init__(self):
        super().__init__(allowed_css_properties=CSS_PROPERTIES, allowed_svg_properties=[])

    @staticmethod
    def _inert(tokens) -> bool:
        for token in tokens:
            if token.type == "url" or (token.type == "function" and token.lower_name not in CSS_FUNCTIONS):
                return False
            if token.type in ("ident", "string") and re.search(r"expression|javascript|behavior|\\",
                                                             token.value, re.I):
                return False
            if getattr(token, "arguments", None) is not None and not _SafeCSS._inert(token.arguments):
                return False
            if getattr(token, "content", None) is not None and not _SafeCSS._inert(token.content):
                return False
        return True

    def sanitize_css(self, style: str) -> str:
        kept = [d for d in tinycss2.parse_declaration_list(style, skip_comments=True, skip_whitespace=True)
                if d.type == "declaration" and d.lower_name in self.allowed_css_properties
                and "\\" not in tinycss2.serialize(d.value) and self._inert(d.value)]
        return "; ".join(f"{d.lower_name}: {tinycss2.serialize(d.value).strip()}"
                         + (" !important" if d.important else "") for d in kept)


_CLEANER = bleach.Cleaner(tags=TAGS, attributes=_allowed_attribute, protocols=PROTOCOLS, strip=True,
                          strip_comments=True, css_sanitizer=_SafeCSS())


def clean_html(fragment: str) -> str:
    """``fragment`` with nothing that can run: elements that carry code removed (a
    visible ``[removed: <tag>]`` in their place), the rest cleaned by bleach's allowlist."""
    if not isinstance(fragment, str):
        return ""
    soup = BeautifulSoup(fragment, "html.parser")
    for element in soup.find_all(CODE_ELEMENTS + QUIET_ELEMENTS):
        if element.name in QUIET_ELEMENTS:
            element.decompose()
        else:
            element.replace_with(soup.new_string(f"[removed: <{element.name}>]"))
    return _CLEANER.clean(str(soup))


class _Renderer(IPythonRenderer):
    """nbconvert's markdown renderer that embeds only image attachments and renders a
    missing one as a broken image instead of failing the whole page."""

    def _embed_image_or_attachment(self, src: str) -> str:
        if src.startswith("attachment:"):
            bundle = self.attachments.get(src[len("attachment:"):]) or {}
            for mime in IMAGE_DATA:
                if isinstance(bundle.get(mime), str):
                    return f"data:{mime};base64,{bundle[mime]}"
            return "#missing-attachment"
        return src


def markdown_to_html(source: str, attachments: dict | None = None) -> str:
    """Markdown (with maths and ``attachment:`` images) rendered as nbconvert renders it,
    then cleaned (:func:`clean_html`)."""
    if not isinstance(source, str):
        return ""
    renderer = _Renderer(escape=False, allow_harmful_protocols=False, embed_images=False,
                         attachments=attachments if isinstance(attachments, dict) else {})
    try:
        rendered = MarkdownWithMath(renderer=renderer).render(source)
    except Exception:  # a source mistune cannot render is shown as text
        rendered = f"<pre>{html.escape(source)}</pre>"
    return clean_html(rendered)


def as_markdown(fragment: str) -> str:
    """Cleaned HTML as markdown that renders to exactly that HTML: one line that opens
    with ``<div>`` is a single raw HTML block (newlines become ``&#10;``, the same
    character for the browser)."""
    return "<div>" + fragment.replace("\r", "&#13;").replace("\n", "&#10;") + "</div>"


def _base64(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        base64.b64decode(re.sub(r"\s+", "", value), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _image_attachments(attachments: dict) -> dict:
    """The image bundles (valid base64) of a cell's attachments."""
    kept = {name: {m: v for m, v in bundle.items() if m in IMAGE_DATA and _base64(v)}
            for name, bundle in attachments.items() if isinstance(bundle, dict)}
    return {name: bundle for name, bundle in kept.items() if bundle}


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class SanitizeNotebook(Preprocessor):
    """Makes a notebook safe to render as HTML (see the module's docstring)."""

    enabled = Bool(True, help="Whether the notebook is sanitised").tag(config=True)
    kept_output_types = Set(Unicode(), default_value=KEEP_OUTPUTS,
                            help="Output MIME types kept as they are").tag(config=True)
    removed_note = Unicode("[removed by the grader: {mime} output]",
                           help="Text left in place of an output of which nothing could be kept").tag(config=True)
    escaped_resources = List(Unicode(), default_value=list(PAGE_RESOURCES),
                             help="Page resources printed unescaped by the formgrader's template").tag(config=True)

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)
        for key in self.escaped_resources:
            if isinstance(resources.get(key), str):
                resources[key] = html.escape(resources[key])
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        kind = cell.get("cell_type")
        if kind == "code":
            count = cell.get("execution_count")
            cell.execution_count = count if isinstance(count, int) and not isinstance(count, bool) else None
            cell.outputs = [self._output(o) for o in cell.get("outputs") or []]
        elif kind == "markdown":
            attachments = cell.get("attachments") if isinstance(cell.get("attachments"), dict) else {}
            cell.source = as_markdown(markdown_to_html(cell.get("source", ""), attachments))
            if "attachments" in cell:
                cell.attachments = _image_attachments(attachments)
        else:  # raw, or a type no template knows
            cell.cell_type = "raw"
            cell.source = clean_html(cell.get("source", ""))
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict):
            gid = meta.get("grade_id")
            if gid is not None and not (isinstance(gid, str) and GRADE_ID.fullmatch(gid)):
                meta["grade_id"] = html.escape(str(gid))
            if "comment" in meta:
                meta["comment"] = as_markdown(markdown_to_html(meta["comment"])) if isinstance(meta["comment"], str) \
                    else None
        return cell, resources

    def _output(self, output):
        """The output with only what renders inertly (a note in place of an output of which
        nothing could be kept)."""
        if output.get("output_type") not in ("display_data", "execute_result"):
            return output  # stream and error: text, escaped by every template
        count = output.get("execution_count")
        if "execution_count" in output and not (isinstance(count, int) and not isinstance(count, bool)):
            output["execution_count"] = None
        data = output.get("data") or {}
        if not isinstance(data, dict):
            data = {}
        safe = {}
        for mime, value in data.items():
            if mime in self.kept_output_types and isinstance(value, str):
                if mime in RASTER and not _base64(value):
                    continue
                safe[mime] = value
        if isinstance(data.get("text/html"), str):
            safe["text/html"] = clean_html(data["text/html"])
        elif isinstance(data.get("text/markdown"), str):
            safe["text/html"] = markdown_to_html(data["text/markdown"])
        elif isinstance(data.get("image/svg+xml"), str) and not any(m in safe for m in RASTER):
            svg = base64.b64encode(data["image/svg+xml"].encode()).decode()
            safe["text/html"] = f'<img alt="SVG figure" src="data:image/svg+xml;base64,{svg}">'
        dropped = sorted(set(data) - set(safe))
        if dropped:
            self.log.info("SanitizeNotebook: %s output(s) dropped or rewritten", ", ".join(dropped))
        if not safe:
            if not data:
                return output
            safe["text/plain"] = self.removed_note.format(mime=", ".join(sorted(data)))
        metadata = output.get("metadata") if isinstance(output.get("metadata"), dict) else {}
        output["metadata"] = {mime: {k: v for k, v in metadata[mime].items() if k in ("width", "height")
                                     and _number(v)}
                              for mime in RASTER if mime in safe and isinstance(metadata.get(mime), dict)}
        output["data"] = safe
        return output
