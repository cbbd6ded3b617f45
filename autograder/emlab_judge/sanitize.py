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
  ``style`` elements are removed silently. Inline CSS keeps only text colour, weight,
  slant, decoration and alignment and thin table borders: nothing that sizes, positions,
  moves or hides an element (a link made to cover the page would take the grader's
  clicks). No link or image URL climbs out of its folder (``..``, plain or
  percent-encoded: the formgrader's file handler decodes ``%2F`` and would serve files
  beside the graded submission's folder);
- code outputs keep ``text/plain``, ``text/latex`` and PNG/JPEG images (valid base64,
  numeric width/height only); ``text/html`` is cleaned; ``text/markdown`` becomes cleaned
  ``text/html``; ``image/svg+xml`` becomes an ``<img>`` of the SVG (an SVG shown as an
  image runs no script and loads nothing); every other MIME type (``application/javascript``,
  widget views, mermaid, PDF, JSON, ...) is dropped;
- cost: every step is linear in the length of its input (bleach's parser is fed
  HTML nested at most MAX_DEPTH deep; its tree walker keeps its place instead of
  searching; a reference link's URL counts at every use; attachments are put in after
  cleaning). A markdown or HTML cell or output over MAX_RENDERED bytes, markdown whose
  HTML is over HTML_GROWTH times that, and everything once a notebook has rendered
  MAX_NOTEBOOK bytes, is shown as escaped plain text (its start) under a one-line note;
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
import secrets
import urllib.parse

import bleach
import tinycss2
from bleach import html5lib_shim
from bleach.css_sanitizer import CSSSanitizer
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Int, List, Set, Unicode

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
    "*": ["title", "lang", "dir", "style", "class"],
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
# ``align`` only where it aligns text (on an image or a table it floats the element)
TEXT_ALIGNED = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "tr", "thead", "tbody", "tfoot",
                "caption", "col", "colgroup"}
ALIGN = re.compile(r"left|right|center|justify", re.I)
IMAGE_SIZE = re.compile(r"\d{1,4}(?:px)?|\d{1,3}%")
# CSS a student may use: colour, weight, slant and alignment of text, thin table borders.
# Nothing that sizes, positions, moves, hides or layers an element (width, height, margin,
# padding, display, float, position, font-size, line-height, opacity, transform, ...): a
# link styled to cover the page could take the grader's clicks.
COLOUR_FUNCTIONS = {"rgb", "rgba", "hsl", "hsla"}
CSS_KEYWORDS = {
    "font-style": {"normal", "italic", "oblique"},
    "font-variant": {"normal", "small-caps"},
    "text-align": {"left", "right", "center", "justify", "start", "end"},
    "text-decoration": {"none", "underline", "overline", "line-through"},
    "text-transform": {"none", "uppercase", "lowercase", "capitalize"},
    "vertical-align": {"baseline", "sub", "super", "top", "middle", "bottom", "text-top", "text-bottom"},
    "white-space": {"normal", "nowrap", "pre", "pre-wrap", "pre-line", "break-spaces"},
    "border-collapse": {"collapse", "separate"},
    "list-style-type": {"disc", "circle", "square", "decimal", "lower-alpha", "upper-alpha", "lower-roman",
                        "upper-roman", "lower-greek", "none"},
}
BORDER_STYLES = {"none", "solid", "dashed", "dotted", "double"}
MAX_BORDER_PX = 4
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
MAX_DEPTH = 64             # elements nested deeper are shown as their text
MAX_RENDERED = 256 * 1024  # bytes of markdown or HTML rendered per cell or output
MAX_NOTEBOOK = 2 * 1024 ** 2  # bytes rendered per notebook (source or HTML, the larger); then text
SHOWN_AS_TEXT = 64 * 1024  # characters shown of what is not rendered
HTML_GROWTH = 2            # HTML rendered from markdown may be this many times MAX_RENDERED
EMBEDDED = 16 * 1024 ** 2  # bytes of attachment images repeated in one cell
PLAIN_TAG = re.compile(r"[a-z][a-z0-9-]{0,30}")
PLAIN_ATTRIBUTE = re.compile(r"[a-z_:][-a-z0-9_:.]{0,40}")
# elements whose content a browser reads as text, and how html5lib's tokenizer reads it
RAW_TEXT = {"script": "scriptDataState", "style": "rawtextState", "xmp": "rawtextState", "iframe": "rawtextState",
            "noembed": "rawtextState", "noframes": "rawtextState", "noscript": "rawtextState",
            "textarea": "rcdataState", "title": "rcdataState", "plaintext": "plaintextState"}
TOKEN = html5lib_shim.constants.tokenTypes
VOID = html5lib_shim.constants.voidElements | {"basefont", "bgsound", "frame", "keygen"}


def _normalised_url(value: str) -> str:
    """A URL as a browser reads its scheme: entities decoded, no control characters or
    whitespace, lower case."""
    value = html.unescape(value)
    return re.sub(r"[`\x00-\x20\x7f-\xa0\s]+", "", value).lower()


def _leaves_folder(value: str) -> bool:
    """Whether a URL's path climbs out of its folder: a ``..`` segment, plain or
    percent-encoded (a server that decodes ``%2F`` in a path serves files beside the
    graded submission's folder), a backslash, or a path from the root of the page's own
    server (``/formgrader/...``, ``//host/...``: the instructor's pages, opened with the
    instructor's session). Full URLs with a scheme are left to bleach's scheme check."""
    path = re.split(r"[?#]", html.unescape(value), maxsplit=1)[0]
    for _ in range(3):
        path = urllib.parse.unquote(path)
    path = "".join(c for c in path if c >= " " and not c.isspace())  # browsers drop tabs and newlines in URLs
    return "\\" in path or ".." in path.split("/") or path.startswith("/")


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """bleach's attribute filter: ATTRIBUTES, data: URLs only as image sources of IMAGE_DATA,
    no URL that climbs out of its folder, class names only from CLASS_NAME, ``align`` only
    on text, image sizes only as numbers (bleach then checks every URL's scheme)."""
    if name not in ATTRIBUTES.get(tag, ()) and name not in ATTRIBUTES["*"] \
            and not (name == "align" and tag in TEXT_ALIGNED):
        return False
    if name in ("href", "src"):
        url = _normalised_url(value)
        if url.startswith("data:"):
            return tag == "img" and name == "src" and url[5:].startswith(tuple(m + t for m in IMAGE_DATA
                                                                             for t in (";", ",")))
        return not _leaves_folder(value)
    if name == "class":
        return all(CLASS_NAME.fullmatch(c) for c in value.split())
    if name == "align":
        return bool(ALIGN.fullmatch(value.strip()))
    if tag == "img" and name in ("width", "height"):
        return bool(IMAGE_SIZE.fullmatch(value.strip()))
    return True


def _colour(token) -> bool:
    """A colour: a name, ``#rgb``, or rgb()/rgba()/hsl()/hsla() of numbers."""
    if token.type == "hash":
        return bool(re.fullmatch(r"[0-9a-fA-F]{3,8}", token.value))
    if token.type == "ident":
        return token.value.isalpha()
    if token.type == "function" and token.lower_name in COLOUR_FUNCTIONS:
        return all(a.type in ("number", "percentage", "dimension", "whitespace")
                   or (a.type == "literal" and a.value in ",/") for a in token.arguments)
    return False


def _border_width(token) -> bool:
    """A border width of at most MAX_BORDER_PX pixels."""
    if token.type == "ident":
        return token.lower_value in ("thin", "medium")
    if token.type == "number":
        return token.value == 0
    return token.type == "dimension" and token.lower_unit == "px" and 0 <= token.value <= MAX_BORDER_PX


def _border(token) -> bool:
    """A part of a border shorthand: a thin width, a line style or a colour."""
    return _border_width(token) or (token.type == "ident" and token.lower_value in BORDER_STYLES) or _colour(token)


def _font_weight(token) -> bool:
    if token.type == "ident":
        return token.lower_value in ("normal", "bold", "bolder", "lighter")
    return token.type == "number" and token.is_integer and 100 <= token.value <= 900


def _font_family(token) -> bool:
    return token.type in ("ident", "string") or (token.type == "literal" and token.value == ",")


def _keyword(prop: str):
    return lambda token: token.type == "ident" and token.lower_value in CSS_KEYWORDS[prop]


CSS_VALUES = {prop: _keyword(prop) for prop in CSS_KEYWORDS}
CSS_VALUES.update({"color": _colour, "background-color": _colour, "border-color": _colour,
                   "font-weight": _font_weight, "font-family": _font_family, "border-width": _border_width,
                   "border-style": lambda t: t.type == "ident" and t.lower_value in BORDER_STYLES})
CSS_VALUES.update({name: _border for name in ("border", "border-top", "border-right", "border-bottom",
                                              "border-left")})
CSS_PROPERTIES = sorted(CSS_VALUES)


class _SafeCSS(CSSSanitizer):
    """bleach's CSS sanitiser keeping only the declarations of CSS_VALUES whose every
    value token that property accepts (no URL, no escape, no function but colours)."""

    def __init__(self):
        super().__init__(allowed_css_properties=CSS_PROPERTIES, allowed_svg_properties=[])

    @staticmethod
    def _allowed(declaration) -> bool:
        check = CSS_VALUES.get(declaration.lower_name) if declaration.type == "declaration" else None
        tokens = [t for t in declaration.value if t.type not in ("whitespace", "comment")] if check else []
        return bool(tokens) and "\\" not in tinycss2.serialize(declaration.value) and all(map(check, tokens))

    def sanitize_css(self, style: str) -> str:
        kept = [d for d in tinycss2.parse_declaration_list(style, skip_comments=True, skip_whitespace=True)
                if self._allowed(d)]
        return "; ".join(f"{d.lower_name}: {tinycss2.serialize(d.value).strip()}"
                         + (" !important" if d.important else "") for d in kept)


class _Walker(html5lib_shim.getTreeWalker("etree")):
    """html5lib's tree walker, keeping each ancestor's position on its stack: going back
    up costs nothing, where the stock walker searches the parent's children (quadratic in
    a long list or table)."""

    def getFirstChild(self, node):
        element, key, parents, flag = node if isinstance(node, tuple) else (node, None, [], None)
        if flag in ("text", "tail"):
            return None
        if element.text:
            return element, key, parents, "text"
        if len(element):
            parents.append((element, key))
            return element[0], 0, parents, None
        return None

    def getNextSibling(self, node):
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            if len(element):
                parents.append((element, key))
                return element[0], 0, parents, None
            return None
        if element.tail and flag != "tail":
            return element, key, parents, "tail"
        siblings = parents[-1][0]
        if key < len(siblings) - 1:
            return siblings[key + 1], key + 1, parents, None
        return None

    def getParentNode(self, node):
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            return (element, key, parents, None) if parents else element
        parent, parent_key = parents.pop()
        return (parent, parent_key, parents, None) if parents else parent


_CLEANER = bleach.Cleaner(tags=TAGS, attributes=_allowed_attribute, protocols=PROTOCOLS, strip=True,
                          strip_comments=True, css_sanitizer=_SafeCSS())
_CLEANER.walker = _Walker


def _quoted(value: str) -> str:
    """An attribute value written back with the fewest entities (bleach reads the entities
    in attribute values as text): ``&`` escaped, quoted with ``'`` when it holds ``"``."""
    value = (value or "").replace("&", "&amp;")
    if '"' in value and "'" not in value:
        return f"'{value}'"
    return '"' + value.replace('"', "&quot;") + '"'


def _attributes(attributes: dict) -> str:
    """Start-tag attributes with plain names, written back."""
    return "".join(f" {name}={_quoted(value)}" for name, value in attributes.items() if PLAIN_ATTRIBUTE.fullmatch(name))


class _Prepared:
    """A fragment read by html5lib's tokenizer (as a browser reads it, in linear time) and
    written back well formed: elements that carry code removed with their content (a
    visible ``[removed: <tag>]`` in their place), quiet elements removed, comments and
    declarations dropped, tags nested deeper than MAX_DEPTH (or with odd names) left out
    and their text kept. The parser bleach runs next then costs time linear in the length
    (its cost grows with the depth of nesting)."""

    def __init__(self, fragment: str):
        self.tokenizer = html5lib_shim.HTMLTokenizer(fragment)
        self.out: list[str] = []
        self.open: list[str] = []
        self.skipping: str | None = None
        self.nested = 0

    def html(self) -> str:
        for token in self.tokenizer:
            kind = token["type"]
            if kind in (TOKEN["Characters"], TOKEN["SpaceCharacters"]) and self.skipping is None:
                self.out.append(html.escape(token["data"], quote=False))
            elif kind in (TOKEN["StartTag"], TOKEN["EmptyTag"]):
                self._start(token["name"], token["data"])
            elif kind == TOKEN["EndTag"]:
                self._end(token["name"])
        self.out.extend(f"</{name}>" for name in reversed(self.open))
        return "".join(self.out)

    def _start(self, name: str, attributes: dict) -> None:
        if name in RAW_TEXT:
            self.tokenizer.state = getattr(self.tokenizer, RAW_TEXT[name])
        if self.skipping is not None:
            self.nested += name == self.skipping
        elif name in CODE_ELEMENTS or name in QUIET_ELEMENTS:
            if name in CODE_ELEMENTS:
                self.out.append(html.escape(f"[removed: <{name}>]", quote=False))
            if name not in VOID:
                self.skipping, self.nested = name, 1
        elif len(self.open) < MAX_DEPTH and PLAIN_TAG.fullmatch(name):
            self.out.append(f"<{name}{_attributes(attributes)}>")
            if name not in VOID:
                self.open.append(name)

    def _end(self, name: str) -> None:
        if self.skipping is not None:
            self.nested -= name == self.skipping
            if not self.nested:
                self.skipping = None
        elif name in self.open:
            while self.open:
                self.out.append(f"</{self.open[-1]}>")
                if self.open.pop() == name:
                    break


def _size(text: str) -> int:
    """Bytes of ``text`` in UTF-8."""
    return len(text.encode("utf-8", "surrogatepass"))


def as_text(source: str, why: str) -> str:
    """HTML that shows ``source`` as escaped plain text (at most SHOWN_AS_TEXT characters)
    under a one-line note saying ``why`` it is not rendered."""
    shown = "" if len(source) <= SHOWN_AS_TEXT else f"; the first {SHOWN_AS_TEXT // 1024} Ki characters follow"
    note = f"[shown as plain text by the grader, not rendered: {why}{shown}]"
    return f"<p><em>{html.escape(note)}</em></p><pre>{html.escape(source[:SHOWN_AS_TEXT])}</pre>"


def clean_html(fragment: str, limit: int = MAX_RENDERED) -> str:
    """``fragment`` with nothing that can run: elements that carry code removed (a
    visible ``[removed: <tag>]`` in their place), the rest cleaned by bleach's allowlist.
    A fragment over ``limit`` bytes is shown as text (:func:`as_text`)."""
    if not isinstance(fragment, str):
        return ""
    if _size(fragment) > limit:
        return as_text(fragment, _too_big("HTML", _size(fragment), limit))
    return _CLEANER.clean(_Prepared(fragment).html())


class _Renderer(IPythonRenderer):
    """nbconvert's markdown renderer that puts a placeholder for each image attachment
    (the data is put in after cleaning: :func:`_embedded`), renders a missing one as a
    broken image instead of failing the whole page, and renders links and images as their
    text once their URLs and titles reach MAX_RENDERED bytes in all (a reference link
    repeats its URL at every use)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.urls_left = MAX_RENDERED

    def _spend(self, url, title) -> bool:
        self.urls_left -= len(url or "") + len(title or "")
        return self.urls_left >= 0

    def link(self, text, url, title=None):
        return super().link(text, url, title) if self._spend(url, title) else text

    def image(self, text, url, title=None):
        return super().image(text, url, title) if self._spend(url, title) else text

    def _embed_image_or_attachment(self, src: str) -> str:
        if src.startswith("attachment:"):
            return self.attachments.get(src[len("attachment:"):]) or "#missing-attachment"
        return src


def _data_url(bundle: dict) -> str:
    """The ``data:`` URL of an image bundle checked by :func:`_image_attachments`."""
    mime = next(m for m in IMAGE_DATA if m in bundle)
    return f"data:{mime};base64,{re.sub(r'[^A-Za-z0-9+/=]', '', bundle[mime])}"


def _embedded(fragment: str, images: dict[str, str]) -> str:
    """``fragment`` with each image source that is a placeholder of ``images`` replaced by
    the image's data URL: every image once, repeats while they add at most EMBEDDED bytes."""
    left = EMBEDDED
    for placeholder, url in images.items():
        needle = f'src="{placeholder}"'
        times = min(fragment.count(needle), max(1, left // len(url)))
        fragment = fragment.replace(needle, f'src="{url}"', times)
        left -= times * len(url)
    return fragment


def _too_big(what: str, size: int, limit: int) -> str:
    """Why ``size`` bytes of ``what`` are not rendered."""
    return f"this {what} is {size / 1024:,.0f} KiB, over the {limit / 1024:,.0f} KiB that are rendered"


def markdown_to_html(source: str, attachments: dict | None = None, limit: int = MAX_RENDERED) -> str:
    """Markdown (with maths and ``attachment:`` images) rendered as nbconvert renders it,
    then cleaned (:func:`clean_html`). A source over ``limit`` bytes, or one whose HTML
    is over HTML_GROWTH times that, is shown as text (:func:`as_text`)."""
    if not isinstance(source, str):
        return ""
    if _size(source) > limit:
        return as_text(source, _too_big("markdown", _size(source), limit))
    images = _image_attachments(attachments) if isinstance(attachments, dict) else {}
    token = secrets.token_hex(8)
    placeholders = {name: f"#emlab-attachment-{token}-{i}" for i, name in enumerate(images)}
    renderer = _Renderer(escape=False, allow_harmful_protocols=False, embed_images=False, attachments=placeholders)
    try:
        rendered = MarkdownWithMath(renderer=renderer).render(source)
    except Exception:  # a source mistune cannot render is shown as text
        rendered = f"<pre>{html.escape(source)}</pre>"
    if _size(rendered) > HTML_GROWTH * limit:
        return as_text(source, f"this markdown renders to {_size(rendered) / 1024:,.0f} KiB of HTML, over the "
                               f"{HTML_GROWTH * limit / 1024:,.0f} KiB that are shown")
    cleaned = clean_html(rendered, HTML_GROWTH * limit)
    return _embedded(cleaned, {placeholders[name]: _data_url(bundle) for name, bundle in images.items()})


def as_markdown(fragment: str) -> str:
    """Cleaned HTML as markdown that renders to exactly that HTML: one line that opens
    with ``<div>`` is a single raw HTML block (newlines become ``&#10;``, the same
    character for the browser). ``[`` becomes ``&#91;``, also the same character: the
    templates' ``strip_files_prefix`` looks for ``[...](files/...)`` with a pattern whose
    cost grows with the square of a line's length when it holds many ``[``."""
    return "<div>" + fragment.replace("\r", "&#13;").replace("\n", "&#10;").replace("[", "&#91;") + "</div>"


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
    max_cell_bytes = Int(MAX_RENDERED, help="Markdown or HTML over this many bytes in one cell or output is "
                                            "shown as plain text, not rendered").tag(config=True)
    max_notebook_bytes = Int(MAX_NOTEBOOK, help="Markdown and HTML rendered per notebook; once it is spent, "
                                                "the rest is shown as plain text").tag(config=True)

    def preprocess(self, nb, resources):
        self._left = self.max_notebook_bytes
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
            cell.source = as_markdown(self._render(cell.get("source", ""), markdown_to_html, attachments))
            if "attachments" in cell:
                cell.attachments = _image_attachments(attachments)
        else:  # raw, or a type no template knows
            cell.cell_type = "raw"
            cell.source = self._render(cell.get("source", ""), clean_html)
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict):
            gid = meta.get("grade_id")
            if gid is not None and not (isinstance(gid, str) and GRADE_ID.fullmatch(gid)):
                meta["grade_id"] = html.escape(str(gid))
            if "comment" in meta:
                meta["comment"] = as_markdown(self._render(meta["comment"], markdown_to_html)) \
                    if isinstance(meta["comment"], str) else None
        return cell, resources

    def _render(self, text, render, *args) -> str:
        """``render(text, *args, limit)``, charged to the notebook's budget (the larger of
        the text's size and its HTML's): once the budget is spent, ``text`` is shown as
        plain text."""
        if not isinstance(text, str):
            return ""
        size, left = _size(text), getattr(self, "_left", self.max_notebook_bytes)
        if size > self.max_cell_bytes:
            return render(text, *args, limit=self.max_cell_bytes)
        if left <= 0 or size > left:
            return as_text(text, f"the cells before it used up the {self.max_notebook_bytes / 1024:,.0f} KiB "
                                 "rendered per notebook")
        rendered = render(text, *args, limit=self.max_cell_bytes)
        self._left = left - max(size, _size(rendered))
        return rendered

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
            safe["text/html"] = self._render(data["text/html"], clean_html)
        elif isinstance(data.get("text/markdown"), str):
            safe["text/html"] = self._render(data["text/markdown"], markdown_to_html)
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
