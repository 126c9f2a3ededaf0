# The documents and the code's comments point only at documents that exist: every relative Markdown
# link, and every file name ending in .md that a document, a comment or a docstring mentions
# (docs/CARDS.md once cited a glossary file the project never had). No file names the team's private
# notes, and no comment or doc speaks of tracker issues: they say what the code does now, and future
# work is a `TODO(name):` line.
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LINK = re.compile(r"\]\(([^)\s]+)\)")
MD_NAME = re.compile(r"[\w./-]*\w\.md\b")
# Spelled in pieces so that this file does not name them: the team's private notes, outside the project.
PRIVATE = ("DOMAIN" + ".md", "CONVENTIONS" + ".md", "../" + "shared")
# "the online issue", "later issues", "issue 12": whole words only ("issuer", "issued" are fine).
ISSUE = re.compile(r"\biss" + r"ues?\b", re.IGNORECASE)
SKIPPED = ("node_modules", "build", "__pycache__")
TEXT_SUFFIXES = (".py", ".md", ".mjs", ".toml", ".json", ".txt", ".csv", ".sh", ".cfg")


def project_files(suffixes):
    """Every file of the project whose name ends in one of suffixes (or is the Makefile), sorted."""
    found = []
    for top, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIPPED]
        found.extend(os.path.join(top, f) for f in files if f.endswith(suffixes) or f == "Makefile")
    return sorted(found)


def documents():
    return [path for path in project_files((".md",)) if path.endswith(".md")]


def sources():
    """The code whose comments and docstrings are checked like the documents (not this file, whose
    tests must spell what they look for)."""
    here = os.path.abspath(__file__)
    code = project_files((".py", ".mjs", ".sh"))
    return [path for path in code if not path.endswith(".md") and path != here]


def dangling(path):
    """What the document (or source) at path names that does not exist, as "doc: target". Markdown
    links are looked for in documents only (code has `f(x)[i](y)`)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    here = os.path.dirname(path)
    rel = os.path.relpath(path, REPO)
    missing = []
    for target in LINK.findall(text) if path.endswith(".md") else ():
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
    doc.write_text("See GLOSSARY.md and [the deck](CARDS.md) and [HAL](https://example.com/HAL.md).\n")
    assert dangling(str(doc)) == [
        "{}: link CARDS.md".format(os.path.relpath(str(doc), REPO)),
        "{}: mentions GLOSSARY.md".format(os.path.relpath(str(doc), REPO)),
    ]


def test_comments_name_only_documents_that_exist():
    code = sources()
    assert os.path.join(REPO, "firmware", "online.py") in code and os.path.join(REPO, "Makefile") in code
    missing = []
    for path in code:
        missing.extend(dangling(path))
    assert missing == []


def test_a_comment_naming_a_missing_document_is_seen(tmp_path):
    source = tmp_path / "x.py"
    source.write_text("# The reversal rules (GLOSSARY.md); the frames (docs/PROTOCOL.md).\nX = 1\n")
    assert dangling(str(source)) == ["{}: mentions GLOSSARY.md".format(os.path.relpath(str(source), REPO))]


def private_names(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    return [name for name in PRIVATE if name in text]


def test_no_file_names_the_teams_private_notes():
    found = []
    for path in project_files(TEXT_SUFFIXES):
        found.extend("{}: {}".format(os.path.relpath(path, REPO), name) for name in private_names(path))
    assert found == []


def test_the_private_names_check_sees_one(tmp_path):
    source = tmp_path / "x.py"
    source.write_text("# See " + "DOMAIN" + ".md, Framing.\n")
    assert private_names(str(source)) == ["DOMAIN" + ".md"]


def issue_lines(path):
    """The lines of path that speak of tracker issues, as "file:line: text"."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    rel = os.path.relpath(path, REPO)
    return ["{}:{}: {}".format(rel, n, line.strip()) for n, line in enumerate(lines, 1) if ISSUE.search(line)]


def test_no_comment_or_doc_announces_an_issue():
    found = []
    for path in documents() + sources() + project_files((".toml",)):
        found.extend(issue_lines(path))
    assert found == []


def test_the_issue_check_sees_one_and_not_an_issuer(tmp_path):
    source = tmp_path / "x.py"
    word = "iss" + "ue"
    source.write_text(
        "# The Issuer's answer; cards issued abroad.\n# Settlement joins with the settlement {}.\n"
        "# Later {}s add it.\n".format(word, word.upper())
    )
    rel = os.path.relpath(str(source), REPO)
    assert issue_lines(str(source)) == [
        "{}:2: # Settlement joins with the settlement {}.".format(rel, word),
        "{}:3: # Later {}s add it.".format(rel, word.upper()),
    ]


def test_the_licences_are_in_the_tree():
    with open(os.path.join(REPO, "LICENSE"), encoding="utf-8") as f:
        text = f.read()
    assert "Copyright 2026 the QianPOS authors" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    with open(os.path.join(REPO, "fonts", "OFL.txt"), encoding="utf-8") as f:
        ofl = f.read()
    assert "SIL OPEN FONT LICENSE Version 1.1 - 26 February 2007" in ofl and "Roman Czyborra" in ofl
    assert "OTHER DEALINGS IN THE FONT SOFTWARE." in ofl
    with open(os.path.join(REPO, "hal", "drivers", "font8x16.py"), encoding="utf-8") as f:
        header = f.read().split("# BEGIN GENERATED")[0]
    assert "Roman Czyborra" in header and "fonts/OFL.txt" in header
