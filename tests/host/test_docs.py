# The documents point only at documents that exist: every relative Markdown link, and every file
# name ending in .md that a document mentions (docs/CARDS.md once cited a DOMAIN.md it does not have).
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LINK = re.compile(r"\]\(([^)\s]+)\)")
MD_NAME = re.compile(r"[\w./-]*\w\.md\b")


def documents():
    found = []
    for top, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("node_modules", "build")]
        found.extend(os.path.join(top, f) for f in files if f.endswith(".md"))
    return sorted(found)


def dangling(path):
    """What the document at path names that does not exist, as "doc: target"."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    here = os.path.dirname(path)
    rel = os.path.relpath(path, REPO)
    missing = []
    for target in LINK.findall(text):
        if "://" in target or target.startswith(("#", "mailto:")):
            continue
        if not os.path.exists(os.path.join(here, target.split("#")[0])):
            missing.append("{}: link {}".format(rel, target))
    for name in MD_NAME.findall(re.sub(r"\w+://\S+", "", text)):
        places = (os.path.join(here, name), os.path.join(REPO, name), os.path.join(REPO, "docs", name))
        if not any(os.path.isfile(p) for p in places):
            missing.append("{}: mentions {}".format(rel, name))
    return missing


def test_documents_name_only_documents_that_exist():
    docs = documents()
    assert os.path.join(REPO, "docs", "CARDS.md") in docs and len(docs) >= 6
    missing = []
    for path in docs:
        missing.extend(dangling(path))
    assert missing == []


def test_the_check_sees_a_dangling_name(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text("See DOMAIN.md and [the deck](CARDS.md) and [HAL](https://example.com/HAL.md).\n")
    assert dangling(str(doc)) == [
        "{}: link CARDS.md".format(os.path.relpath(str(doc), REPO)),
        "{}: mentions DOMAIN.md".format(os.path.relpath(str(doc), REPO)),
    ]
