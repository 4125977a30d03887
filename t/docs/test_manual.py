#!/usr/bin/python3
"""The manual and the code agree, and the manual is up to date.

    /usr/bin/python3 t/tools/tap_unittest.py t/docs/test_manual.py

The manual's one source is docs/mod_oauthclient.xml. Compared with the
code, any difference fails:

- the directives: those of the command tables (AP_INIT_* in
  mod_oauthclient.c and src/mod_oauthclient_*.c) and those documented are
  the same set; each documented context and override is what the table's
  req_override flags allow, as httpd reads them; the syntax takes as many
  arguments as the table's AP_INIT_ form accepts; another module's
  directive that the module also reads is documented as that module's;
- the Require providers registered (AUTHZ_PROVIDER_GROUP) and those
  documented are the same set;
- the keys of OAuthRemoteApp (key_specs in src/oac_app.c) and those
  documented are the same set, with the same allowed values, and each
  applies to the OAuth version(s) src/oac_app.c accepts it for.

And the generated files (docs/html/, docs/mod_oauthclient.8, the
configurations shown in docs/providers/*.md) are what
docs/tools/gen_manual.py makes of the sources today; the man page has no
groff warning; every HTML page is well-formed and its local links resolve;
each provider guide's configuration is checked by t/config/examples.t.
"""
import glob
import os
import re
import shlex
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET

TOP = os.environ.get("OAC_SRCDIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(TOP, "docs", "tools"))
import gen_manual  # noqa: E402

INF = float("inf")


def read(path):
    with open(os.path.join(TOP, path), encoding="utf-8") as f:
        return f.read()


# --------------------------------------------------------------------------
# Reading the C sources

def strip_comments(src):
    """C source without its comments (string literals kept)."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i:j + 1])
            i = j + 1
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def call_args(src, start):
    """The top-level arguments of the call whose '(' is at src[start]."""
    args, cur, depth, i = [], [], 0, start + 1
    while i < len(src):
        c = src[i]
        if c == '"':
            j = i + 1
            while src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            cur.append(src[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                args.append("".join(cur).strip())
                return args
            depth -= 1
        elif c == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    raise ValueError("unterminated call")


def c_strings(expr):
    """The concatenated string literals of a C expression."""
    return "".join(bytes(s, "utf-8").decode("unicode_escape")
                   for s in re.findall(r'"((?:[^"\\]|\\.)*)"', expr))


def glue_sources():
    return ["mod_oauthclient.c"] + sorted(
        os.path.relpath(p, TOP)
        for p in glob.glob(os.path.join(TOP, "src", "mod_oauthclient_*.c")))


def command_table():
    """{name: (AP_INIT form, set of req_override flags, file)}."""
    table = {}
    for path in glue_sources():
        src = strip_comments(read(path))
        for m in re.finditer(r"\bAP_INIT_([A-Z0-9_]+)\s*\(", src):
            args = call_args(src, m.end() - 1)
            name = c_strings(args[0])
            flags = set(re.findall(r"[A-Z_]+", args[3]))
            table[name] = (m.group(1), flags, path)
    return table


def authz_providers():
    names = set()
    for path in glue_sources():
        src = strip_comments(read(path))
        for m in re.finditer(r"\bap_register_(?:auth_)?provider\s*\(", src):
            args = call_args(src, m.end() - 1)
            if "AUTHZ_PROVIDER_GROUP" in args[1]:
                names.add(c_strings(args[2]) or args[2])
    return names


def string_arrays(path):
    """{array name: [strings]} of the string tables of a C file."""
    src = strip_comments(read(path))
    return {m.group(1): re.findall(r'"([^"]*)"', m.group(2))
            for m in re.finditer(
                r"const\s+char\s*\*\s*const\s+(\w+)\s*\[\s*\]\s*=\s*\{(.*?)\};",
                src, re.S)}


def key_table():
    """{key: [allowed values]} of key_specs in src/oac_app.c."""
    src = strip_comments(read("src/oac_app.c"))
    body = re.search(r"key_specs\s*\[\s*\]\s*=\s*\{(.*?)\n\};", src, re.S)
    arrays = string_arrays("src/oac_app.c")
    arrays.update(string_arrays("src/oac_fix.c"))
    keys = {}
    for m in re.finditer(r'\{\s*"(\w+)"\s*,\s*(\w+)\s*,\s*(\w+)\s*\}',
                         body.group(1)):
        allowed = m.group(3)
        keys[m.group(1)] = arrays[allowed] if allowed != "NULL" else None
    return keys, arrays


# --------------------------------------------------------------------------
# What httpd makes of the flags (include/http_config.h and the manual's
# directive dictionary)

OVERRIDES = {"OR_LIMIT": "Limit", "OR_OPTIONS": "Options",
             "OR_FILEINFO": "FileInfo", "OR_AUTHCFG": "AuthConfig",
             "OR_INDEXES": "Indexes"}
KNOWN_FLAGS = set(OVERRIDES) | {"RSRC_CONF", "ACCESS_CONF", "OR_NONE",
                                "OR_ALL", "OR_UNSET", "EXEC_ON_READ",
                                "NONFATAL_OVERRIDE", "NONFATAL_UNKNOWN",
                                "NONFATAL_ALL"}


def contexts_of(flags):
    ors = (flags & set(OVERRIDES)) or ({"OR_ALL"} & flags)
    out = []
    if "RSRC_CONF" in flags:
        out += ["server config", "virtual host"]
    if "ACCESS_CONF" in flags or ors:
        out.append("directory")
    if ors:
        out.append(".htaccess")
    return out


def override_of(flags):
    if "OR_ALL" in flags:
        return {"All"}
    return {OVERRIDES[f] for f in flags if f in OVERRIDES}


# How many arguments each AP_INIT_ form takes: (fewest, most).
ARITY = {"NO_ARGS": (0, 0), "TAKE1": (1, 1), "TAKE2": (2, 2),
         "TAKE3": (3, 3), "TAKE12": (1, 2), "TAKE13": (1, 3),
         "TAKE23": (2, 3), "TAKE123": (1, 3), "ITERATE": (1, INF),
         "ITERATE2": (2, INF)}


def syntax_words(d):
    """The words of a documented syntax after the directive's name."""
    text = gen_manual.squash("".join(d.syntax.itertext())).strip()
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    lead = 2 if d.kind == "require" else 1
    return words[:lead], words[lead:]


def syntax_arity(words):
    """(fewest, most) arguments of a syntax: [..] optional, ... repeats."""
    depth = required = optional = 0
    unbounded = False
    for w in words:
        if "..." in w:
            unbounded = True
        if depth == 0 and w.startswith("["):
            optional += 1
        elif depth == 0 and w != "...":
            required += 1
        depth += w.count("[") - w.count("]")
    return required, INF if unbounded else required + optional


# --------------------------------------------------------------------------

class Agreement(unittest.TestCase):
    """docs/mod_oauthclient.xml against the code."""

    @classmethod
    def setUpClass(cls):
        cls.manual = gen_manual.Manual()
        cls.table = command_table()
        cls.documented = {d.name: d for d in cls.manual.directives}

    def both(self):
        return sorted(set(self.table) & set(self.documented))

    def test_command_table_read(self):
        self.assertIn("OAuthRemoteApp", self.table)
        self.assertGreaterEqual(len(self.table), 10, sorted(self.table))

    def test_same_directives(self):
        missing = sorted(set(self.table) - set(self.documented))
        extra = sorted(set(self.documented) - set(self.table))
        problems = []
        if missing:
            problems.append("in a command table but not in "
                            "docs/mod_oauthclient.xml: " + ", ".join(
                                "%s (%s)" % (n, self.table[n][2])
                                for n in missing))
        if extra:
            problems.append("in docs/mod_oauthclient.xml but in no command "
                            "table: " + ", ".join(extra))
        self.assertFalse(problems, "\n".join(problems))

    def test_contexts(self):
        wrong = []
        for name in self.both():
            how, flags, _ = self.table[name]
            unknown = flags - KNOWN_FLAGS
            if unknown:
                wrong.append("%s: flags this test does not know: %s"
                             % (name, " ".join(sorted(unknown))))
                continue
            want = contexts_of(flags)
            if self.documented[name].contexts != want:
                wrong.append("%s: documented context %s, the flags %s say %s"
                             % (name, ", ".join(self.documented[name].contexts),
                                " | ".join(sorted(flags)), ", ".join(want)))
        self.assertFalse(wrong, "\n".join(wrong))

    def test_overrides(self):
        wrong = []
        for name in self.both():
            flags = self.table[name][1]
            doc = self.documented[name].override
            have = set(re.split(r"\s*,\s*", doc)) if doc else set()
            want = override_of(flags)
            if have != want:
                wrong.append("%s: documented override %s, the flags say %s"
                             % (name, doc or "None",
                                ", ".join(sorted(want)) or "None"))
        self.assertFalse(wrong, "\n".join(wrong))

    def test_syntax(self):
        wrong = []
        for name in self.both():
            how = self.table[name][0]
            d = self.documented[name]
            lead, words = syntax_words(d)
            if lead != [name]:
                wrong.append("%s: the syntax begins with %r" % (name, lead))
                continue
            if how == "FLAG":
                if words != ["On|Off"]:
                    wrong.append("%s: FLAG, so the syntax is '%s On|Off', not "
                                 "%r" % (name, name, " ".join(words)))
                default = gen_manual.squash("".join(d.default.itertext())) \
                    if d.default is not None else None
                if default not in ("%s On" % name, "%s Off" % name):
                    wrong.append("%s: FLAG, so the default is '%s On' or "
                                 "'%s Off', not %r" % (name, name, name, default))
                continue
            if how in ("RAW_ARGS", "TAKE_ARGV"):
                continue        # the function parses what it gets
            if how not in ARITY:
                wrong.append("%s: AP_INIT_%s is unknown to this test"
                             % (name, how))
                continue
            fewest, most = syntax_arity(words)
            if (fewest, most) != ARITY[how]:
                wrong.append("%s: AP_INIT_%s takes %s to %s arguments, the "
                             "syntax %s to %s" % ((name, how) + ARITY[how]
                                                  + (fewest, most)))
        self.assertFalse(wrong, "\n".join(wrong))

    def test_module(self):
        """The module's own directives are mod_oauthclient's; another
        module's that it reads too are documented as that module's."""
        wrong = []
        for name in self.both():
            d = self.documented[name]
            own = name.startswith("OAuth")
            if own and (d.shared or d.module != gen_manual.OWN_MODULE):
                wrong.append("%s is documented as %s's" % (name, d.module))
            if not own and not d.shared:
                wrong.append("%s is another module's directive (httpd's "
                             "manual documents it): mark it shared=\"yes\" "
                             "with that <module>" % name)
        self.assertFalse(wrong, "\n".join(wrong))

    def test_same_require_providers(self):
        registered = authz_providers()
        documented = {d.name for d in self.manual.requires}
        problems = []
        if registered - documented:
            problems.append("registered but not in docs/mod_oauthclient.xml: "
                            + ", ".join(sorted(registered - documented)))
        if documented - registered:
            problems.append("in docs/mod_oauthclient.xml but not registered "
                            "(AUTHZ_PROVIDER_GROUP): "
                            + ", ".join(sorted(documented - registered)))
        self.assertFalse(problems, "\n".join(problems))

    def test_require_syntax(self):
        for d in self.manual.requires:
            lead, words = syntax_words(d)
            self.assertEqual(lead, ["Require", d.name])
            self.assertEqual(d.contexts, ["directory", ".htaccess"])
            self.assertEqual(d.override, "AuthConfig")


class Keys(unittest.TestCase):
    """The keys of OAuthRemoteApp against src/oac_app.c."""

    @classmethod
    def setUpClass(cls):
        cls.manual = gen_manual.Manual()
        cls.keys, cls.arrays = key_table()
        cls.documented = {k.name: k for k in cls.manual.keys}

    def test_key_table_read(self):
        self.assertGreaterEqual(len(self.keys), 20, sorted(self.keys))
        self.assertIn("client_id", self.keys)

    def test_same_keys(self):
        problems = []
        missing = sorted(set(self.keys) - set(self.documented))
        extra = sorted(set(self.documented) - set(self.keys))
        if missing:
            problems.append("in key_specs of src/oac_app.c but not in "
                            "docs/mod_oauthclient.xml: " + ", ".join(missing))
        if extra:
            problems.append("in docs/mod_oauthclient.xml but not in "
                            "key_specs of src/oac_app.c: " + ", ".join(extra))
        self.assertFalse(problems, "\n".join(problems))

    def test_allowed_values(self):
        # id_token_signed_response_alg is a free list checked against a
        # table of its own (finish_oidc)
        extra_tables = {"id_token_signed_response_alg": "id_token_algs"}
        wrong = []
        for name in sorted(set(self.keys) & set(self.documented)):
            allowed = self.keys[name]
            if allowed is None and name in extra_tables:
                allowed = self.arrays[extra_tables[name]]
            doc = self.documented[name].values
            if (allowed or []) != doc:
                wrong.append("%s: the code allows %s, the manual lists %s"
                             % (name, allowed, doc))
        self.assertFalse(wrong, "\n".join(wrong))

    def test_applies_to(self):
        oauth2_only = set(self.arrays["oauth2_only"])
        oauth1_only = set(self.arrays["oauth1_only"])
        # request_token_url is what makes an app OAuth 1.0a
        oauth1_only.add("request_token_url")
        wrong = []
        for name in sorted(set(self.keys) & set(self.documented)):
            want = ("OAuth 2" if name in oauth2_only else
                    "OAuth 1.0a" if name in oauth1_only else
                    "OAuth 1.0a, OAuth 2")
            if self.documented[name].applies != want:
                wrong.append("%s: documented for %s, src/oac_app.c takes it "
                             "for %s" % (name, self.documented[name].applies,
                                         want))
        self.assertFalse(wrong, "\n".join(wrong))


class Generated(unittest.TestCase):
    """What docs/tools/gen_manual.py makes, and how it reads."""

    @classmethod
    def setUpClass(cls):
        cls.files = gen_manual.build()

    def test_up_to_date(self):
        stale = gen_manual.stale(self.files)
        self.assertFalse(stale, "\n".join(
            stale + ["run: /usr/bin/python3 docs/tools/gen_manual.py"]))

    def test_a_page_per_directive(self):
        manual = gen_manual.Manual()
        for d in manual.directives:
            page = self.files.get("docs/html/%s.html" % d.name)
            self.assertIsNotNone(page, d.name)
            for field in ("Description", "Syntax", "Default", "Context",
                          "Override", "Status", "Module", "Compatibility"):
                self.assertIn("%s:</a></th>" % field, page,
                              "%s has no %s" % (d.name, field))
            self.assertIn('<div class="example">', page, d.name)

    def test_man_page_without_warnings(self):
        man = self.files["docs/mod_oauthclient.8"]
        try:
            run = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z"],
                                 input=man, capture_output=True, text=True)
        except FileNotFoundError:
            self.fail("groff is missing (apt-get install groff-base)")
        self.assertEqual((run.returncode, run.stderr), (0, ""))
        for d in gen_manual.Manual().directives:
            self.assertIn('.SS "%s"' % d.name, man)

    def test_html_well_formed_and_links_resolve(self):
        ids = {}
        pages = {p: c for p, c in self.files.items() if p.endswith(".html")}
        for path, content in pages.items():
            try:
                root = ET.fromstring(content)
            except ET.ParseError as err:
                self.fail("%s: %s" % (path, err))
            ids[path] = ({el.get("id") for el in root.iter() if el.get("id")},
                         [el.get("href") for el in root.iter("a")])
        broken = []
        for path, (_, hrefs) in ids.items():
            for href in hrefs:
                if "://" in href:
                    continue
                target, _, frag = href.partition("#")
                target = os.path.normpath(os.path.join(
                    os.path.dirname(path), target)) if target else path
                if target in ids:
                    if frag and frag not in ids[target][0]:
                        broken.append("%s: %s (no such id)" % (path, href))
                elif not os.path.exists(os.path.join(TOP, target)):
                    broken.append("%s: %s" % (path, href))
        self.assertFalse(broken, "\n".join(broken))

    def test_guides_show_tested_configurations(self):
        examples_t = read("t/config/examples.t")
        tested = set(re.findall(r"^\s*'?([\w-]+)'?\s*=>\s*\[qw",
                                examples_t, re.M))
        self.assertEqual(set(gen_manual.GUIDES),
                         {"github", "google", "entra", "apple", "keycloak",
                          "x", "django-oauth-toolkit"})
        for name in gen_manual.GUIDES:
            guide = read("docs/providers/%s.md" % name)
            confs = re.findall(r"^<!-- config: conf/examples/([\w-]+)\.conf -->$",
                               guide, re.M)
            self.assertTrue(confs, "%s.md shows no conf/examples file" % name)
            for conf in confs:
                self.assertIn(conf, tested, "%s.md shows conf/examples/%s.conf,"
                              " which t/config/examples.t does not check"
                              % (name, conf))


if __name__ == "__main__":
    unittest.main()
