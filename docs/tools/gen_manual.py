#!/usr/bin/python3
"""Builds mod_oauthclient's manual from its one source.

    /usr/bin/python3 docs/tools/gen_manual.py           # write the files
    /usr/bin/python3 docs/tools/gen_manual.py --check   # exit 1 if stale

Reads docs/mod_oauthclient.xml (httpd's modulesynopsis format, see the
comment at its top), docs/providers/*.md (the provider guides) and
conf/examples/*.conf, and writes:

    docs/html/index.html          the module page, as in httpd's manual
    docs/html/<Directive>.html    one page per directive
    docs/html/require-<name>.html one page per Require provider
    docs/html/keys.html           the keys of OAuthRemoteApp
    docs/html/terms.html          what the fields of a directive mean
    docs/html/providers/*.html    the provider guides
    docs/html/style.css
    docs/mod_oauthclient.8        the man page

and copies each conf/examples file that a guide names
(<!-- config: conf/examples/NAME.conf --> before a fenced block) into that
block, so that a guide shows exactly the configuration the test suite
checks with apache2 -t. Python 3 standard library only; the output
depends on nothing but the sources (no date, no path), so
t/docs/test_manual.py can regenerate it and compare.
"""
import html
import os
import re
import sys
import xml.etree.ElementTree as ET

TOP = os.environ.get("OAC_SRCDIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE = "docs/mod_oauthclient.xml"
HTTPD_DOCS = "https://httpd.apache.org/docs/2.4/mod/"
# The provider guides, in the order the manual lists them.
GUIDES = ["github", "google", "entra", "apple", "keycloak", "x",
          "django-oauth-toolkit"]
OWN_MODULE = "mod_oauthclient"


class ManualError(Exception):
    pass


def read(path):
    with open(os.path.join(TOP, path), encoding="utf-8") as f:
        return f.read()


def version():
    m = re.search(r"AC_INIT\(\[[^]]*\],\s*\[([^]]+)\]", read("configure.ac"))
    if not m:
        raise ManualError("configure.ac: no version in AC_INIT")
    return m.group(1)


def squash(text):
    return re.sub(r"\s+", " ", text or "")


# --------------------------------------------------------------------------
# The model read from the XML


class Directive:
    """A <directivesynopsis>, or an <authzprovider> (kind 'require')."""

    def __init__(self, el, kind):
        self.el = el
        self.kind = kind
        self.name = el.findtext("name").strip()
        self.description = el.find("description")
        self.syntax = el.find("syntax")
        self.default = el.find("default")
        self.contexts = [squash(c.text).strip()
                         for c in el.findall("contextlist/context")]
        ov = el.find("override")
        self.override = squash(ov.text).strip() if ov is not None else None
        self.module = (el.findtext("module") or OWN_MODULE).strip()
        self.status = (el.findtext("status") or "").strip()
        self.compatibility = el.find("compatibility")
        self.usage = el.find("usage")
        self.seealso = el.findall("seealso")
        self.shared = el.get("shared") == "yes"

    @property
    def page(self):
        if self.kind == "require":
            return "require-%s.html" % self.name
        return "%s.html" % self.name

    @property
    def title(self):
        if self.kind == "require":
            return "Require %s" % self.name
        return self.name


class Key:
    def __init__(self, el):
        self.name = el.findtext("name").strip()
        self.applies = squash(el.findtext("applies")).strip()
        self.values = squash(el.findtext("values")).split()
        self.default = el.find("default")
        self.description = el.find("description")


class Manual:
    def __init__(self, text=None):
        root = ET.fromstring(text if text is not None else read(SOURCE))
        if root.tag != "modulesynopsis":
            raise ManualError("%s: the root is not <modulesynopsis>" % SOURCE)
        self.root = root
        self.name = root.findtext("name").strip()
        self.description = root.find("description")
        self.status = root.findtext("status").strip()
        self.sourcefile = root.findtext("sourcefile").strip()
        self.identifier = root.findtext("identifier").strip()
        self.compatibility = root.find("compatibility")
        self.summary = root.find("summary")
        self.sections = root.findall("section")
        self.directives = [Directive(e, "directive")
                           for e in root.findall("directivesynopsis")]
        self.requires = [Directive(e, "require")
                         for e in root.findall("authzprovider")]
        kl = root.find("keylist")
        self.keylist = kl
        self.keys = [Key(e) for e in kl.findall("key")] if kl is not None else []
        self.by_name = {d.name: d for d in self.directives}
        self.key_names = {k.name for k in self.keys}
        self.version = version()
        self.check()

    def check(self):
        """What the generator itself needs: every field present, every
        reference resolvable, nothing twice."""
        seen = set()
        for d in self.directives + self.requires:
            where = "%s %s" % (d.kind, d.name)
            if d.title in seen:
                raise ManualError("%s is documented twice" % where)
            seen.add(d.title)
            for field in ("description", "syntax", "usage", "compatibility"):
                if getattr(d, field) is None:
                    raise ManualError("%s has no <%s>" % (where, field))
            if not d.contexts:
                raise ManualError("%s has no <contextlist>" % where)
            if d.usage.find(".//example") is None:
                raise ManualError("%s has no <example> in its usage" % where)
            if d.shared and d.module == OWN_MODULE:
                raise ManualError("%s is shared but names no other module"
                                  % where)
        seen = set()
        for k in self.keys:
            if k.name in seen:
                raise ManualError("key %s is documented twice" % k.name)
            seen.add(k.name)
            if k.description is None or not k.applies:
                raise ManualError("key %s needs <applies> and <description>"
                                  % k.name)
        for el in self.root.iter("directive"):
            if not el.get("module") and el.text.strip() not in self.by_name:
                raise ManualError("<directive>%s</directive> is not documented "
                                  "here: give module=\"...\" for another "
                                  "module's" % el.text.strip())
        for el in self.root.iter("key"):
            if el.find("name") is None and el.text.strip() not in self.key_names:
                raise ManualError("<key>%s</key> is not a documented key"
                                  % el.text.strip())


# --------------------------------------------------------------------------
# HTML


def e(text):
    return html.escape(text or "", quote=True)


def httpd_link(module, directive=None):
    url = HTTPD_DOCS + module + ".html"
    if directive:
        url += "#" + directive.lower()
    return url


class HTMLRenderer:
    """Renders the manual's elements; `up` is the path from the page being
    written to docs/html/ ("" or "../")."""

    def __init__(self, manual, up=""):
        self.m = manual
        self.up = up

    def inline(self, el, with_tail=False):
        out = [e(el.text)]
        for c in el:
            out.append(self.inline_el(c))
            out.append(e(c.tail))
        return "".join(out)

    def inline_el(self, c):
        inner = self.inline(c)
        tag = c.tag
        if tag in ("code", "var", "em", "strong"):
            return "<%s>%s</%s>" % (tag, inner, tag)
        if tag == "directive":
            name = c.text.strip()
            mod = c.get("module")
            if mod and mod != OWN_MODULE:
                return '<a href="%s"><code class="directive">%s</code></a>' % (
                    e(httpd_link(mod, name)), inner)
            return '<a href="%s%s.html"><code class="directive">%s</code></a>' % (
                self.up, e(name), inner)
        if tag == "module":
            name = c.text.strip()
            if name == OWN_MODULE:
                return '<a href="%sindex.html"><code class="module">%s</code></a>' % (
                    self.up, inner)
            return '<a href="%s"><code class="module">%s</code></a>' % (
                e(httpd_link(name)), inner)
        if tag == "key":
            name = c.text.strip()
            return '<a href="%skeys.html#%s"><code class="key">%s</code></a>' % (
                self.up, e(name), inner)
        if tag == "a":
            href = c.get("href")
            if "://" not in href:
                href = self.up + href
            return '<a href="%s">%s</a>' % (e(href), inner)
        raise ManualError("unknown inline element <%s>" % tag)

    def blocks(self, el):
        """The block content of el: paragraphs, lists, notes, examples."""
        out = []
        if el.text and el.text.strip():
            raise ManualError("text outside a block in <%s>: %r"
                              % (el.tag, el.text.strip()[:40]))
        for c in el:
            out.append(self.block(c))
        return "\n".join(out)

    def block(self, c):
        tag = c.tag
        if tag == "p":
            return "<p>%s</p>" % self.inline(c)
        if tag in ("ul", "ol"):
            return "<%s>\n%s\n</%s>" % (tag, "\n".join(
                "<li>%s</li>" % self.inline(li) for li in c.findall("li")), tag)
        if tag == "note":
            title = c.find("title")
            cls = "note warning" if c.get("type") == "warning" else "note"
            head = "<h3>%s</h3>" % self.inline(title) if title is not None else ""
            body = [self.block(x) for x in c if x.tag != "title"]
            return '<div class="%s">%s%s</div>' % (cls, head, "\n".join(body))
        if tag == "example":
            title = c.find("title")
            head = ("<h3>%s</h3>" % self.inline(title)) if title is not None else ""
            body = [self.block(x) for x in c if x.tag != "title"]
            return '<div class="example">%s%s</div>' % (head, "\n".join(body))
        if tag == "highlight":
            return '<pre class="%s">%s</pre>' % (
                e(c.get("language", "config")), e(c.text.strip("\n")))
        if tag == "table":
            rows = []
            for tr in c.findall("tr"):
                cells = "".join("<%s>%s</%s>" % (td.tag, self.inline(td), td.tag)
                                for td in tr)
                rows.append("<tr>%s</tr>" % cells)
            return '<table class="bordered">\n%s\n</table>' % "\n".join(rows)
        raise ManualError("unknown block element <%s>" % tag)


CSS = """\
/* mod_oauthclient's manual, after the layout of httpd's (manual.css) */
body { margin: 0; font-family: "DejaVu Sans", Verdana, Arial, sans-serif;
       font-size: 15px; line-height: 1.45; color: #222; background: #fff; }
#page-header { background: #405871; color: #fff; padding: 6px 16px; }
#page-header a { color: #fff; }
#page-header p { margin: 2px 0; }
#page-header .menu { float: right; }
#page-header .apache { font-size: 1.4em; font-weight: bold; }
.up { padding: 6px 16px; background: #e5ecf3; font-size: 0.9em; }
#page-content { max-width: 60em; padding: 0 16px 24px 16px; }
h1 { color: #405871; font-size: 1.8em; }
h2 { color: #405871; border-bottom: 1px solid #8fa4b8; font-size: 1.35em;
     margin-top: 1.6em; }
h3 { color: #405871; font-size: 1.05em; margin: 0 0 4px 0; }
a { color: #2a4a70; }
code, pre { font-family: "DejaVu Sans Mono", Consolas, monospace;
            font-size: 0.93em; }
pre { margin: 0; white-space: pre; overflow-x: auto; }
div.example { background: #eef; border: 1px solid #aab; padding: 8px 10px;
              margin: 10px 0; }
div.note { background: #fff3d6; border: 1px solid #d6b36a; padding: 8px 10px;
           margin: 10px 0; }
div.note.warning { background: #fde2e2; border-color: #d68080; }
table.module, table.directive { border-collapse: collapse;
    background: #f0f0f0; border: 1px solid #aaa; margin: 12px 0; }
table.module th, table.directive th { text-align: right; vertical-align: top;
    padding: 3px 10px 3px 6px; white-space: nowrap; }
table.module th a, table.directive th a { color: #222; text-decoration: none; }
table.module td, table.directive td { padding: 3px 6px; }
table.bordered { border-collapse: collapse; margin: 10px 0; }
table.bordered th, table.bordered td { border: 1px solid #aaa;
    padding: 3px 6px; vertical-align: top; text-align: left; }
table.bordered th { background: #e5ecf3; }
ul.directive-list { columns: 2; }
dl.keys dt { margin-top: 12px; }
dl.keys dd { margin-left: 2em; }
.keymeta { color: #555; font-size: 0.9em; }
#footer { border-top: 1px solid #8fa4b8; padding: 8px 16px; font-size: 0.85em;
          color: #555; }
"""

TERMS = [
    ("Description", "A short description of what the directive does."),
    ("Syntax", "How the directive is written in a configuration file. "
     "Words in italics are placeholders for values you give; [brackets] "
     "mark optional parts, and ... a part that may repeat."),
    ("Default", "The value in force when the directive is not given. "
     "\"none\" means there is no default: the feature stays off."),
    ("Context", "Where the directive may appear. server config: the "
     "server's configuration files, outside any section; virtual host: "
     "inside <VirtualHost>; directory: inside <Directory>, <Location>, "
     "<Files>, <If> and <Proxy> sections; .htaccess: in per-directory "
     ".htaccess files, as far as the Override allows. Each is read as httpd "
     "reads it for its own directives."),
    ("Override", "Which AllowOverride category must be enabled for the "
     "directive to be honoured in an .htaccess file. \"None\": it cannot "
     "be used in .htaccess files."),
    ("Status", "How tightly the directive is tied to httpd. External: a "
     "third-party module, not part of httpd's distribution (this one). "
     "Extension: a module of httpd's distribution that is not compiled "
     "in by default."),
    ("Module", "The module that implements the directive. The few "
     "directives of other modules that mod_oauthclient also reads name "
     "their own module."),
    ("Compatibility", "Since which version the directive exists, and "
     "anything that depends on the version."),
]


def page(title, body, up="", crumb=None, version="", source=SOURCE):
    crumbs = ['<a href="%sindex.html">mod_oauthclient</a>' % up]
    if crumb:
        crumbs.append(crumb)
    return """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>%(title)s - mod_oauthclient</title>
<link rel="stylesheet" href="%(up)sstyle.css" />
</head>
<body>
<div id="page-header">
<p class="menu"><a href="%(up)sindex.html">Module</a> | <a href="%(up)sindex.html#directives">Directives</a> | <a href="%(up)skeys.html">OAuthRemoteApp keys</a> | <a href="%(up)sindex.html#providers">Provider guides</a> | <a href="%(up)sterms.html">Terms</a></p>
<p class="apache">mod_oauthclient %(version)s</p>
</div>
<div class="up">%(crumbs)s</div>
<div id="page-content">
%(body)s
</div>
<div id="footer">Generated from <code>%(source)s</code> by <code>docs/tools/gen_manual.py</code>; do not edit.</div>
</body>
</html>
""" % {"title": e(title), "up": up, "version": e(version),
       "crumbs": " &gt; ".join(crumbs), "body": body.strip("\n"),
       "source": e(source)}


def term_link(term):
    if term in dict(TERMS):
        return '<a href="terms.html#%s">%s:</a>' % (term, term)
    return "%s:" % term


def default_html(d, r):
    """As httpd's manual: the directive as it is by default, in code; a
    default that is not a setting of the directive, in words."""
    if d.default is None:
        return "none"
    text = plain_text(d.default)
    if text.startswith(d.name + " "):
        return "<code>%s</code>" % r.inline(d.default)
    return r.inline(d.default)


def plain_text(el):
    return squash("".join(el.itertext())).strip()


def summary_table(manual, d, r):
    rows = [("Description", r.inline(d.description)),
            ("Syntax", "<code>%s</code>" % r.inline(d.syntax)),
            ("Default", default_html(d, r)),
            ("Context", e(", ".join(d.contexts))),
            ("Override", e(d.override) if d.override else "None"),
            ("Status", e(d.status or manual.status)),
            ("Module", (e(d.module) if d.module == OWN_MODULE else
                        '<a href="%s">%s</a>' % (e(httpd_link(d.module)),
                                                 e(d.module)))),
            ("Compatibility", r.inline(d.compatibility))]
    return '<table class="directive">\n%s\n</table>' % "\n".join(
        '<tr><th>%s</th><td>%s</td></tr>' % (term_link(k), v)
        for k, v in rows)


def directive_page(manual, d):
    r = HTMLRenderer(manual)
    what = "Require provider" if d.kind == "require" else "Directive"
    body = ['<div class="directive-section">',
            '<h1 id="%s">%s %s</h1>' % (e(d.name), e(d.title), what),
            summary_table(manual, d, r)]
    if d.shared:
        body.append('<div class="note"><p>This directive belongs to '
                    '<a href="%s"><code class="module">%s</code></a>; '
                    'mod_oauthclient also reads it, as said below.</p></div>'
                    % (e(httpd_link(d.module, d.name)), e(d.module)))
    body.append(r.blocks(d.usage))
    if d.seealso:
        body.append("<h2>See also</h2>\n<ul class=\"seealso\">\n%s\n</ul>" %
                    "\n".join("<li>%s</li>" % r.inline(s) for s in d.seealso))
    body.append("</div>")
    crumb = '<a href="index.html#directives">Directives</a>'
    return page("%s %s" % (d.title, what), "\n".join(body), crumb=crumb,
                version=manual.version)


def index_page(manual, guides):
    r = HTMLRenderer(manual)
    head = [("Description", r.inline(manual.description)),
            ("Status", e(manual.status)),
            ("Module Identifier", "<code>%s</code>" % e(manual.identifier)),
            ("Source File", "<code>%s</code>" % e(manual.sourcefile)),
            ("Compatibility", r.inline(manual.compatibility))]
    body = ["<h1>Apache Module %s</h1>" % e(manual.name),
            '<table class="module">\n%s\n</table>' % "\n".join(
                '<tr><th>%s</th><td>%s</td></tr>' % (term_link(k), v)
                for k, v in head),
            '<h2 id="summary">Summary</h2>', r.blocks(manual.summary)]
    body.append('<h2 id="directives">Directives</h2>\n'
                '<ul class="directive-list">\n%s\n</ul>' % "\n".join(
                    '<li><a href="%s">%s</a>%s</li>'
                    % (d.page, e(d.name),
                       " (%s)" % e(d.module) if d.shared else "")
                    for d in sorted(manual.directives,
                                    key=lambda d: d.name.lower())))
    if manual.requires:
        body.append('<h2 id="require">Require providers</h2>\n<ul>\n%s\n</ul>'
                    % "\n".join('<li><a href="%s">%s</a>: %s</li>'
                                % (d.page, e(d.title), r.inline(d.description))
                                for d in manual.requires))
    body.append('<h2 id="keys">The keys of OAuthRemoteApp</h2>\n<p>%s</p>'
                % " ".join('<a href="keys.html#%s"><code>%s</code></a>'
                           % (e(k.name), e(k.name)) for k in manual.keys))
    body.append('<h2 id="providers">Provider guides</h2>\n<ul>\n%s\n</ul>'
                % "\n".join('<li><a href="providers/%s.html">%s</a></li>'
                            % (name, e(title)) for name, title in guides))
    body.append('<h2 id="topics">Topics</h2>\n<ul>\n%s\n</ul>' % "\n".join(
        '<li><a href="#%s">%s</a></li>' % (e(s.get("id")), r.inline(s.find("title")))
        for s in manual.sections))
    for s in manual.sections:
        body.append('<h2 id="%s">%s</h2>' % (e(s.get("id")),
                                            r.inline(s.find("title"))))
        body.append("\n".join(r.block(c) for c in s if c.tag != "title"))
    return page("mod_oauthclient", "\n".join(body), version=manual.version)


def keys_page(manual):
    r = HTMLRenderer(manual)
    kl = manual.keylist
    body = ["<h1>%s</h1>" % r.inline(kl.find("title")),
            "\n".join(r.block(c) for c in kl if c.tag == "p")]
    body.append('<p>Syntax: <a href="%s.html"><code>%s</code></a> '
                '<code><var>name</var> <var>key</var>=<var>value</var> ...</code></p>'
                % (e(kl.get("directive")), e(kl.get("directive"))))
    body.append('<table class="bordered">\n<tr><th>key</th><th>applies to</th>'
                '<th>default</th></tr>\n%s\n</table>' % "\n".join(
                    '<tr><td><a href="#%s"><code>%s</code></a></td><td>%s</td>'
                    '<td>%s</td></tr>' % (e(k.name), e(k.name), e(k.applies),
                                          r.inline(k.default)
                                          if k.default is not None else "none")
                    for k in manual.keys))
    items = []
    for k in manual.keys:
        meta = ["applies to %s" % e(k.applies)]
        if k.values:
            meta.append("values: %s" % ", ".join("<code>%s</code>" % e(v)
                                                 for v in k.values))
        meta.append("default: %s" % (r.inline(k.default)
                                     if k.default is not None else "none"))
        items.append('<dt id="%s"><code>%s</code></dt>\n<dd><p class="keymeta">%s'
                     '</p><p>%s</p></dd>' % (e(k.name), e(k.name),
                                            "; ".join(meta),
                                            r.inline(k.description)))
    body.append('<dl class="keys">\n%s\n</dl>' % "\n".join(items))
    return page("The keys of OAuthRemoteApp", "\n".join(body),
                crumb='<a href="OAuthRemoteApp.html">OAuthRemoteApp</a>',
                version=manual.version)


def terms_page(manual):
    body = ["<h1>Terms used to describe directives</h1>",
            "<p>Each directive page begins with a table of these fields, as "
            "in httpd's own manual.</p>"]
    for k, v in TERMS:
        body.append('<h2 id="%s">%s</h2>\n<p>%s</p>' % (k, k, e(v)))
    return page("Terms used to describe directives", "\n".join(body),
                version=manual.version)


# --------------------------------------------------------------------------
# The provider guides: a small Markdown (headings, paragraphs, lists,
# fenced code, `code`, **strong**, [links](...)) is enough for them.

CONFIG_MARK = re.compile(r"^<!-- config: (\S+) -->$")


def sync_guide(text, path):
    """The guide with each marked fenced block replaced by its file."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        out.append(lines[i])
        m = CONFIG_MARK.match(lines[i])
        i += 1
        if not m:
            continue
        if i >= len(lines) or not lines[i].startswith("```"):
            raise ManualError("%s: '%s' is not followed by a fenced block"
                              % (path, lines[i - 1]))
        out.append(lines[i])
        i += 1
        while i < len(lines) and lines[i] != "```":
            i += 1
        if i >= len(lines):
            raise ManualError("%s: unterminated fenced block" % path)
        out.extend(read(m.group(1)).rstrip("\n").split("\n"))
        out.append("```")
        i += 1
    return "\n".join(out)


def md_inline(text, link):
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for p in parts:
        if p.startswith("`") and p.endswith("`") and len(p) > 1:
            out.append("<code>%s</code>" % e(p[1:-1]))
            continue
        p = e(p)
        p = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", p)
        p = re.sub(r"\[([^]]+)\]\(([^)]+)\)",
                   lambda m: '<a href="%s">%s</a>' % (link(html.unescape(
                       m.group(2))), m.group(1)), p)
        out.append(p)
    # a link around `code` was split above: join it again
    s = "".join(out)
    s = re.sub(r"\[(<code>[^<]*</code>)\]\(([^)]+)\)",
               lambda m: '<a href="%s">%s</a>' % (link(html.unescape(
                   m.group(2))), m.group(1)), s)
    return s


def md_to_html(text, link):
    """Returns (title, body html)."""
    lines = text.split("\n")
    out = []
    title = None
    para = []
    lst = None          # (tag, items)

    def flush():
        nonlocal para, lst
        if para:
            out.append("<p>%s</p>" % md_inline(" ".join(para), link))
            para = []
        if lst:
            out.append("<%s>\n%s\n</%s>" % (lst[0], "\n".join(
                "<li>%s</li>" % md_inline(" ".join(it), link)
                for it in lst[1]), lst[0]))
            lst = None

    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            lang = line[3:].strip() or "text"
            i += 1
            code = []
            while i < len(lines) and lines[i] != "```":
                code.append(lines[i])
                i += 1
            out.append('<div class="example"><pre class="%s">%s</pre></div>'
                       % (e(lang), e("\n".join(code))))
            i += 1
            continue
        if CONFIG_MARK.match(line) or line.startswith("<!--"):
            i += 1
            continue
        m = re.match(r"^(#{1,3}) (.*)$", line)
        if m:
            flush()
            level = len(m.group(1))
            if level == 1 and title is None:
                title = m.group(2)
            out.append("<h%d>%s</h%d>" % (level, md_inline(m.group(2), link),
                                          level))
            i += 1
            continue
        m = re.match(r"^(- |\d+\. )(.*)$", line)
        if m:
            tag = "ul" if m.group(1) == "- " else "ol"
            if para:
                flush()
            if lst and lst[0] != tag:
                flush()
            if not lst:
                lst = (tag, [])
            lst[1].append([m.group(2)])
            i += 1
            continue
        if not line.strip():
            flush()
            i += 1
            continue
        if lst and line.startswith("   "):
            lst[1][-1].append(line.strip())
        else:
            if lst:
                flush()
            para.append(line.strip())
        i += 1
    flush()
    if title is None:
        raise ManualError("a guide has no '# title'")
    return title, "\n".join(out)


def guide_link(href):
    """A link of docs/providers/X.md, as seen from docs/html/providers/."""
    if "://" in href or href.startswith("#"):
        return href
    path, _, frag = href.partition("#")
    target = os.path.normpath(os.path.join("docs/providers", path))
    if target.startswith("docs/providers/") and target.endswith(".md"):
        target = "docs/html/providers/" + os.path.basename(target)[:-3] + ".html"
    rel = os.path.relpath(target, "docs/html/providers")
    return rel + ("#" + frag if frag else "")


# --------------------------------------------------------------------------
# The man page


def roff_escape(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return text


class RoffRenderer:
    def __init__(self, manual):
        self.m = manual

    def inline(self, el):
        out = [roff_escape(squash(el.text))]
        for c in el:
            out.append(self.inline_el(c))
            out.append(roff_escape(squash(c.tail)))
        return "".join(out)

    def inline_el(self, c):
        inner = self.inline(c)
        if c.tag in ("code", "directive", "module", "key", "strong"):
            return "\\fB%s\\fR" % inner
        if c.tag in ("var", "em"):
            return "\\fI%s\\fR" % inner
        if c.tag == "a":
            href = c.get("href")
            if "://" in href:
                return "%s <%s>" % (inner, roff_escape(href))
            return inner
        raise ManualError("unknown inline element <%s>" % c.tag)

    def blocks(self, el):
        return [x for c in el for x in self.block(c)]

    def block(self, c):
        tag = c.tag
        if tag == "p":
            return [".PP"] + fill(self.inline(c))
        if tag in ("ul", "ol"):
            out = []
            for n, li in enumerate(c.findall("li"), 1):
                out.append(".IP %s 4" % ("\\(bu" if tag == "ul" else "%d." % n))
                out.extend(fill(self.inline(li)))
            return out
        if tag == "note":
            out = [".PP", ".RS 4"]
            title = c.find("title")
            if title is not None:
                out.append(".B %s" % self.inline(title))
            for x in c:
                if x.tag != "title":
                    out.extend(self.block(x)[1:] if x.tag == "p" else self.block(x))
            return out + [".RE"]
        if tag == "example":
            out = []
            title = c.find("title")
            if title is not None:
                out += [".PP", "\\fI%s\\fR" % self.inline(title)]
            for x in c:
                if x.tag != "title":
                    out.extend(self.block(x))
            return out
        if tag == "highlight":
            out = [".PP", ".RS 4", ".nf"]
            for line in c.text.strip("\n").split("\n"):
                line = roff_escape(line)
                if line.startswith((".", "'")):
                    line = "\\&" + line
                out.append(line)
            return out + [".fi", ".RE"]
        if tag == "table":
            out = []
            for tr in c.findall("tr"):
                cells = list(tr)
                if cells and cells[0].tag == "th":
                    continue
                out.append(".TP")
                out.append(self.inline(cells[0]))
                out.extend(fill("; ".join(self.inline(x) for x in cells[1:])))
            return out
        raise ManualError("unknown block element <%s>" % tag)


def fill(text, width=78):
    """Text broken into lines for roff; no line may begin with . or '."""
    words = text.strip().split(" ")
    lines, cur = [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = (cur + " " + w) if cur else w
    if cur:
        lines.append(cur)
    return ["\\&" + l if l.startswith((".", "'")) else l for l in lines]


def man_page(manual, guides):
    r = RoffRenderer(manual)
    out = ['.\\" Generated from %s by docs/tools/gen_manual.py; do not edit.'
           % SOURCE,
           '.TH MOD_OAUTHCLIENT 8 "" "mod_oauthclient %s" "Apache httpd modules"'
           % manual.version,
           # no hyphenation, ragged right: the text is full of names
           ".nh",
           ".ad l",
           ".SH NAME",
           "mod_oauthclient \\- %s" % r.inline(manual.description),
           ".SH SYNOPSIS",
           ".nf",
           "LoadModule oauthclient_module /usr/lib/apache2/modules/mod_oauthclient.so",
           ".fi",
           ".SH DESCRIPTION"]
    out += r.blocks(manual.summary)
    for s in manual.sections:
        out.append('.SH "%s"' % r.inline(s.find("title")).upper())
        for c in s:
            if c.tag != "title":
                out += r.block(c)
    out.append(".SH DIRECTIVES")
    out += fill("Each directive is described with the fields of httpd's "
                "manual: Syntax (\\fIitalics\\fR are placeholders, [brackets] "
                "optional parts), Default, Context (server config, virtual "
                "host, directory, .htaccess), Override (the AllowOverride "
                "category that lets .htaccess files use it), Status, Module "
                "and Compatibility.")
    for d in manual.directives + manual.requires:
        out += man_directive(manual, r, d)
    kl = manual.keylist
    out.append('.SH "%s"' % r.inline(kl.find("title")).upper())
    for c in kl:
        if c.tag == "p":
            out += r.block(c)
    for k in manual.keys:
        meta = [roff_escape(k.applies)]
        if k.values:
            meta.append("values: " + ", ".join(roff_escape(v) for v in k.values))
        meta.append("default: " + (r.inline(k.default)
                                   if k.default is not None else "none"))
        out += [".TP", "\\fB%s\\fR" % roff_escape(k.name)]
        out += fill("(%s) %s" % ("; ".join(meta), r.inline(k.description)))
    out.append('.SH "PROVIDER GUIDES"')
    out += fill("Step-by-step configurations for these providers are in the "
                "HTML manual (docs/html/providers/ in the source "
                "distribution, beside docs/html/index.html) and in "
                "docs/providers/; each configuration is a file of "
                "conf/examples/ that the test suite checks with "
                "\\fBapache2 \\-t\\fR:")
    for name, title in guides:
        out.append(".IP \\(bu 4")
        out += fill("%s (docs/providers/%s.md)" % (roff_escape(title),
                                                  roff_escape(name)))
    out += [".SH FILES",
            ".TP", "/usr/lib/apache2/modules/mod_oauthclient.so",
            "The module.",
            ".TP", "/etc/apache2/mods\\-available/oauthclient.load, oauthclient.conf",
            "What \\fBa2enmod oauthclient\\fR enables: the \\fBLoadModule\\fR "
            "line (in oauthclient.conf, read after mod_session's) and "
            "commented examples.",
            ".TP", "mod_oauthclient.h",
            "In httpd's include directory: the optional hooks for compliance "
            "fixes in other modules.",
            ".SH \"SEE ALSO\"",
            ".BR apache2 (8),",
            ".BR apachectl (8),",
            ".BR a2enmod (8)",
            ".PP"]
    out += fill("httpd's manual for mod_session, mod_session_cookie, "
                "mod_session_dbd and mod_proxy: %s" % roff_escape(HTTPD_DOCS))
    return "\n".join(out) + "\n"


def man_directive(manual, r, d):
    out = ['.SS "%s"' % roff_escape(d.title)]
    out += fill(r.inline(d.description) + ".")
    fields = [("Syntax", r.inline(d.syntax)),
              ("Default", r.inline(d.default) if d.default is not None
               else "none"),
              ("Context", roff_escape(", ".join(d.contexts))),
              ("Override", roff_escape(d.override or "None")),
              ("Status", roff_escape(d.status or manual.status)),
              ("Module", roff_escape(d.module)),
              ("Compatibility", r.inline(d.compatibility))]
    out += [".RS 4", ".PD 0"]
    for k, v in fields:
        out += [".TP 15", "%s:" % k]
        out += fill(v)
    out += [".PD", ".RE"]
    out += r.blocks(d.usage)
    if d.seealso:
        out.append(".PP")
        out += fill("See also: " + ", ".join(r.inline(s) for s in d.seealso)
                    + ".")
    return out


# --------------------------------------------------------------------------


def guide_titles():
    titles = []
    for name in GUIDES:
        title, _ = md_to_html(read("docs/providers/%s.md" % name), guide_link)
        titles.append((name, title))
    return titles


def build():
    """Every generated file: {path relative to the top: content}."""
    manual = Manual()
    files = {}
    guides = []
    for name in GUIDES:
        path = "docs/providers/%s.md" % name
        synced = sync_guide(read(path), path)
        files[path] = synced
        title, body = md_to_html(synced, guide_link)
        guides.append((name, title))
        files["docs/html/providers/%s.html" % name] = page(
            title, body, up="../",
            crumb='<a href="../index.html#providers">Provider guides</a>',
            version=manual.version, source=path)
    files["docs/html/index.html"] = index_page(manual, guides)
    for d in manual.directives + manual.requires:
        files["docs/html/" + d.page] = directive_page(manual, d)
    files["docs/html/keys.html"] = keys_page(manual)
    files["docs/html/terms.html"] = terms_page(manual)
    files["docs/html/style.css"] = CSS
    files["docs/mod_oauthclient.8"] = man_page(manual, guides)
    return files


def stale(files):
    """Generated files that differ from what build() makes, and files in
    docs/html/ that it would not make."""
    out = []
    for path, content in sorted(files.items()):
        full = os.path.join(TOP, path)
        try:
            with open(full, encoding="utf-8") as f:
                if f.read() != content:
                    out.append(path + " differs")
        except FileNotFoundError:
            out.append(path + " is missing")
    for dirpath, _, names in os.walk(os.path.join(TOP, "docs/html")):
        for n in names:
            rel = os.path.relpath(os.path.join(dirpath, n), TOP)
            if rel not in files:
                out.append(rel + " is not generated (remove it)")
    return out


def main(argv):
    try:
        files = build()
    except (ManualError, ET.ParseError) as err:
        print("gen_manual: %s" % err, file=sys.stderr)
        return 2
    if "--check" in argv:
        problems = stale(files)
        for p in problems:
            print(p)
        if problems:
            print("run /usr/bin/python3 docs/tools/gen_manual.py")
        return 1 if problems else 0
    for path, content in files.items():
        full = os.path.join(TOP, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        try:
            with open(full, encoding="utf-8") as f:
                if f.read() == content:
                    continue
        except FileNotFoundError:
            pass
        with open(full, "w", encoding="utf-8") as f:
            f.write(content)
        print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
