"""The Spanish catalog covers every string of the patient pages, and the committed .mo matches the .po."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest

LC_MESSAGES = Path(__file__).resolve().parent.parent / "locale" / "es" / "LC_MESSAGES"
PO, MO = LC_MESSAGES / "django.po", LC_MESSAGES / "django.mo"
PATIENT_SOURCES = ("templates/pages/", "scheduling/pages/")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def entries() -> list[dict]:
    """The .po file's entries, each with its references, flags and fields (msgid, msgstr[0], ...)."""
    found, current, field = [], None, None
    for line in PO.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip() or line.startswith("#~"):
            if current and "msgid" in current["fields"]:
                found.append(current)
            current, field = None, None
            continue
        current = current or {"references": [], "flags": set(), "fields": {}}
        if line.startswith("#:"):
            current["references"] += line[2:].split()
        elif line.startswith("#,"):
            current["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            current["fields"][field] += ast.literal_eval(line)
        else:
            field, _, text = line.partition(" ")
            current["fields"][field] = ast.literal_eval(text)
    return found


def translations(entry: dict) -> list[str]:
    fields = entry["fields"]
    if "msgstr" in fields:
        return [fields["msgstr"]]
    plural = {int(name[7:-1]): text for name, text in fields.items() if name.startswith("msgstr[")}
    return [plural[n] for n in sorted(plural)]


def test_every_string_of_the_patient_pages_has_a_spanish_translation():
    patient = [entry for entry in entries() if entry["fields"]["msgid"]
               and any(ref.startswith(PATIENT_SOURCES) for ref in entry["references"])]
    assert patient, "no patient-page strings found in the catalog"
    problems = []
    for entry in patient:
        msgid = entry["fields"]["msgid"]
        if "fuzzy" in entry["flags"]:
            problems.append(f"fuzzy: {msgid!r}")
        if not translations(entry) or not all(text.strip() for text in translations(entry)):
            problems.append(f"untranslated: {msgid!r}")
        wanted = set(PLACEHOLDER.findall(msgid + entry["fields"].get("msgid_plural", "")))
        for text in translations(entry):
            if text and set(PLACEHOLDER.findall(text)) != wanted:
                problems.append(f"placeholders differ: {msgid!r} -> {text!r}")
    assert not problems, "\n".join(problems)


def test_the_compiled_catalog_matches_the_po_file():
    """The committed .mo holds exactly the .po's finished translations: it was compiled after the
    last change to the .po."""
    expected = {}
    for entry in entries():
        fields = entry["fields"]
        if not fields["msgid"] or "fuzzy" in entry["flags"] or not all(translations(entry)):
            continue
        key = fields["msgctxt"] + "\x04" + fields["msgid"] if "msgctxt" in fields else fields["msgid"]
        if "msgid_plural" in fields:
            expected.update({(key, n): text for n, text in enumerate(translations(entry))})
        else:
            expected[key] = fields["msgstr"]
    with MO.open("rb") as compiled:
        catalog = {key: text for key, text in gettext.GNUTranslations(compiled)._catalog.items() if key != ""}
    assert catalog == expected, (
        "locale/es/LC_MESSAGES/django.mo is out of date: run `manage.py compilemessages` and commit it")


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext is not installed")
def test_the_po_file_is_valid_for_msgfmt(tmp_path):
    result = subprocess.run(["msgfmt", "--check", "-o", str(tmp_path / "django.mo"), str(PO)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
