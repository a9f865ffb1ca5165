"""Run an ISO Schematron file (queryBinding xslt2, as the CEN and Peppol rules are written) with Saxon HE.

The official rule files are not on PyPI, so the tests read them from the folder named by
COUNTERFOIL_SCHEMATRON_DIR (see tests/unit/test_ubl.py). A schema is turned into one XSLT 3.0
stylesheet: each pattern is a mode in which every node is visited once and fired by the first rule
whose context matches it (the rules' order is their priority), `let`s become variables, the
schema's own functions and variables are copied as they are, and each assert that does not hold
becomes an SVRL failed-assert with its id, flag and message.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

SCH = "http://purl.oclc.org/dsdl/schematron"
XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"


def _x(tag: str) -> str:
    return f"{{{XSL}}}{tag}"


def _s(tag: str) -> str:
    return f"{{{SCH}}}{tag}"


def _message(target: ET.Element, source: ET.Element) -> None:
    """An assert's text, with its value-of and name elements evaluated."""
    target.text = source.text
    for child in source:
        if child.tag == _s("value-of"):
            made = ET.SubElement(target, _x("value-of"), select=child.get("select", "."))
        elif child.tag == _s("name"):
            made = ET.SubElement(target, _x("value-of"), select=f"name({child.get('path', '.')})")
        else:
            made = ET.SubElement(target, _x("value-of"), select="''")
        made.tail = child.tail


def _let(parent: ET.Element, let: ET.Element) -> None:
    ET.SubElement(parent, _x("variable"), name=let.get("name", ""), select=let.get("value", ""))


def compile_schematron(sch: bytes) -> bytes:
    """The XSLT 3.0 stylesheet that reports a document's failed asserts as SVRL."""
    schema = ET.fromstring(sch)
    namespaces = {ns.get("prefix", ""): ns.get("uri", "") for ns in schema.iter(_s("ns"))}
    for prefix, uri in namespaces.items():
        ET.register_namespace(prefix, uri)
    ET.register_namespace("xsl", XSL)
    ET.register_namespace("svrl", SVRL)
    sheet = ET.Element(_x("stylesheet"), {"version": "3.0"})
    # Prefixes used inside XPath strings must be declared on the stylesheet: a dummy attribute per namespace
    # makes ElementTree write each declaration.
    for index, uri in enumerate(namespaces.values()):
        sheet.set(f"{{{uri}}}ns{index}", "")
    for child in schema:
        if child.tag == _s("let"):
            _let(sheet, child)
        elif child.tag.startswith(f"{{{XSL}}}"):
            sheet.append(copy.deepcopy(child))
    root = ET.SubElement(sheet, _x("template"), match="/")
    report = ET.SubElement(root, f"{{{SVRL}}}schematron-output")
    patterns = [p for p in schema.iter(_s("pattern")) if not p.get("abstract")]
    for pattern in patterns:  # a pattern's lets may be used in its rules' contexts: they are global
        for let in pattern.findall(_s("let")):
            _let(sheet, let)
    for index, pattern in enumerate(patterns):
        mode = f"pattern{index}"
        ET.SubElement(report, _x("apply-templates"), select="/", mode=mode)
        rules = [r for r in pattern if r.tag == _s("rule") and r.get("context")]
        for order, rule in enumerate(rules):
            template = ET.SubElement(sheet, _x("template"), match=rule.get("context", ""), mode=mode,
                                     priority=str(len(rules) - order + 1))
            for part in rule:
                if part.tag == _s("let"):
                    _let(template, part)
                elif part.tag in (_s("assert"), _s("report")):
                    test = part.get("test", "true()")
                    condition = f"not({test})" if part.tag == _s("assert") else test
                    check = ET.SubElement(template, _x("if"), test=condition)
                    failed = ET.SubElement(check, f"{{{SVRL}}}failed-assert",
                                           {"id": part.get("id", ""), "flag": part.get("flag", "fatal")})
                    text = ET.SubElement(failed, f"{{{SVRL}}}text")
                    _message(text, part)
            ET.SubElement(template, _x("apply-templates"), select="@*|node()", mode=mode)
        fallback = ET.SubElement(sheet, _x("template"), match="@*|node()", mode=mode, priority="-10")
        ET.SubElement(fallback, _x("apply-templates"), select="@*|node()", mode=mode)
    return ET.tostring(sheet, encoding="utf-8", xml_declaration=True)


def schematron_runner(path: Path) -> Callable[[bytes], list[str]]:
    """A function from a document to its fatal failures (`ID: message`) under the schematron at `path`;
    a stylesheet (.xsl/.xslt, a schematron compiled elsewhere) is run as it is."""
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    compiler = processor.new_xslt30_processor()
    if path.suffix in (".xsl", ".xslt"):
        executable = compiler.compile_stylesheet(stylesheet_file=str(path))
    else:
        executable = compiler.compile_stylesheet(stylesheet_text=compile_schematron(path.read_bytes()).decode("utf-8"))

    def failures(xml: bytes) -> list[str]:
        node = processor.parse_xml(xml_text=xml.decode("utf-8"))
        report = executable.transform_to_string(xdm_node=node)
        found = ET.fromstring(report.encode("utf-8"))
        return [f"{a.get('id')}: {''.join(a.itertext()).strip()[:300]}" for a in found.iter(f"{{{SVRL}}}failed-assert")
                if a.get("flag") != "warning"]
    return failures
