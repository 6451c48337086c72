#!/usr/bin/env python3
"""The lxml test cases of the asset builder: crates/ango-core/src/asset_builder/testdata/
asset_html_lxml_cases.json, a list of `[template, data]` pairs where `data` is what the
official SDK's uploader (imerit-ango 1.4.10, `AssetBuilderUploader.prepare_assets`:
Python's `html.unescape`, lxml's HTML parser, `etree.tostring` of the body) makes of the
template for one fixed CSV row and one classification. The Rust test
`asset_builder::tests::random_templates_match_recorded_lxml_output` fills the same row
with the same data config and asserts the same bytes.

Needs lxml and the official SDK, from PyPI, in a project-local venv:

    python3 -m venv .venvs/lxml-cases
    .venvs/lxml-cases/bin/pip install imerit-ango==1.4.10 lxml==6.1.3
    .venvs/lxml-cases/bin/python scripts/gen_lxml_cases.py            # check (default)
    .venvs/lxml-cases/bin/python scripts/gen_lxml_cases.py --write    # re-record outputs
    .venvs/lxml-cases/bin/python scripts/gen_lxml_cases.py --new 300 --seed 7
                                                          # new random templates, recorded

`--check` recomputes every committed template's output and exits 1 on any difference;
`--write` rewrites the outputs of the committed templates; `--new N` replaces the file
with N fresh random templates from the generator below (well-formed markup, unclosed
and stray end tags, duplicate and bare attributes, quotes, entities, comments and
fragments cut out of other templates: the libxml2 tree-building rules the Rust port
reproduces).
"""
import argparse
import csv
import io
import json
import os
import pathlib
import random
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CASES = ROOT / "crates/ango-core/src/asset_builder/testdata/asset_html_lxml_cases.json"

# The row, data config and classification of the Rust test (keep them in step).
CSV_TEXT = (
    "text,img,url,id,html\n"
    '"Hello & <world>",http://x/a.png,http://u/?a=1&b=2,row1,<b>bold</b>\n'
)
DATA_CONFIG = {
    "text": {"type": "text"},
    "img": {"type": "image", "storage": "s1"},
    "url": {"type": "link"},
    "id": {"type": "text"},
    "html": {"type": "text"},
}
CLASSIFICATIONS = [{"title": "Q", "schemaId": "q1"}]


def render(templates):
    """The official uploader's `data` for each template."""
    from imerit_ango.modules.asset_builder_uploader import AssetBuilderUploader

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "rows.csv")
        with open(path, "w", newline="") as f:
            f.write(CSV_TEXT)
        uploader = AssetBuilderUploader()
        uploader.read_file(path)
        out = []
        for template in templates:
            try:
                assets, _ = uploader.prepare_assets(
                    {"template": template, "dataConfig": DATA_CONFIG, "selectedExternalId": "id"},
                    CLASSIFICATIONS,
                )
            except Exception:
                # The official uploader fails on a template lxml parses to nothing
                # (`None.find`); the Rust port refuses those too, so they make no case.
                out.append(None)
                continue
            out.append(assets[0]["data"])
        return out


TAGS = [
    "p", "div", "DIV", "span", "b", "B", "i", "em", "strong", "font", "center", "section",
    "a", "img", "audio", "video", "source", "iframe", "br", "hr", "input", "meta", "link",
    "ul", "li", "dl", "dt", "dd", "table", "tbody", "tr", "td", "th", "caption", "select",
    "option", "form", "textarea", "pre", "xmp", "h1", "h2", "title", "script", "style",
    "head", "body", "html", "custom-x",
]
ATTRS = ["src", "SRC", "href", "id", "class", "data-x", "disabled", "checked", "sandbox", "srcdoc"]
VALUES = [
    "{{img}}", "{{url}}", "http://h/%7B%7Bimg%7D%7D", "a&amp;b", "&quot;q&quot;",
    "http://h/{{text}}", "it's", "x", "{{nope}}", "a b", "",
]
TEXTS = [
    "{{Q}}", "hello", "1", "{{text}}", "{{nope}}", "a", "Tail", "{{img}}", "{{url}}",
    "{{html}}", "b c", " {{html}} ", " {{img}} ", "x y", "{{id}}", " {{id}} ", "&gt;", "é",
    "&#", "'", "&amp;", "\U0001f600",
]


def attribute(rng):
    name = rng.choice(ATTRS)
    if rng.random() < 0.2:
        return " " + name
    value = rng.choice(VALUES)
    quote = rng.choice(['"', "'", ""]) if " " not in value and value else '"'
    return f" {name}={quote}{value}{quote}"


def element(rng, depth):
    tag = rng.choice(TAGS)
    attrs = "".join(attribute(rng) for _ in range(rng.randrange(4)))
    if rng.random() < 0.05:
        return f"<{tag}{attrs}/>"
    inner = content(rng, depth + 1) if depth < 4 else rng.choice(TEXTS)
    close = "" if rng.random() < 0.15 else f"</{tag}>"
    return f"<{tag}{attrs}>{inner}{close}"


def content(rng, depth=0):
    parts = []
    for _ in range(rng.randrange(1, 5 if depth else 8)):
        r = rng.random()
        if r < 0.55:
            parts.append(element(rng, depth))
        elif r < 0.85:
            parts.append(rng.choice(TEXTS))
        elif r < 0.93:
            parts.append(rng.choice(["<!---->", "<!-- c -->", "<!-- {{text}} -->", "<!---x--->"]))
        else:
            parts.append(f"</{rng.choice(TAGS)}>")
    return "".join(parts)


def random_templates(count, seed):
    rng = random.Random(seed)
    templates = []
    while len(templates) < count:
        if templates and rng.random() < 0.2:
            # A fragment cut out of an earlier template (cuts through tags and quotes).
            source = rng.choice(templates)
            start = rng.randrange(len(source))
            templates.append(source[start : start + rng.randrange(1, 40)])
        else:
            templates.append(content(rng))
    return templates


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="compare with the committed outputs (default)")
    mode.add_argument("--write", action="store_true", help="re-record the committed templates' outputs")
    mode.add_argument("--new", type=int, metavar="N", help="record N new random templates")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()

    import lxml.etree

    print(f"lxml {lxml.etree.__version__}, libxml2 {'.'.join(map(str, lxml.etree.LIBXML_VERSION))}")
    if args.new:
        templates = random_templates(args.new * 2, args.seed)
    else:
        templates = [t for t, _ in json.loads(CASES.read_text())]
    outputs = render(templates)
    cases = [[t, o] for t, o in zip(templates, outputs) if o is not None or not args.new]
    if args.new:
        cases = cases[: args.new]
    if args.new or args.write:
        CASES.write_text("[\n" + ",\n".join(json.dumps(c) for c in cases) + "\n]\n")
        print(f"wrote {len(cases)} cases to {CASES.relative_to(ROOT)}")
        return 0
    committed = json.loads(CASES.read_text())
    differ = [i for i, (a, b) in enumerate(zip(committed, cases)) if a != b]
    if differ:
        for i in differ[:5]:
            print(f"case {i}: template {committed[i][0]!r}\n  committed {committed[i][1]!r}\n  lxml      {cases[i][1]!r}")
        print(f"{len(differ)} of {len(cases)} cases differ", file=sys.stderr)
        return 1
    print(f"{len(cases)} cases: identical to the official uploader's output")
    return 0


if __name__ == "__main__":
    sys.exit(main())
