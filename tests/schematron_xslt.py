"""Run an ISO Schematron (XPath 2/3 query binding, as KoSIT writes its XRechnung rules) offline with Saxon HE.

No Schematron skeleton ships on PyPI, so this turns the schema into an XSLT 3.0 stylesheet itself, with
the standard's semantics as far as those rules use them:
- `include` is replaced by the included file's root element;
- every `let` of the schema and of a pattern is a global variable (a pattern's lets may be used in its
  rule contexts), a rule's lets are local to it;
- each pattern is one mode: a node is tested by the first rule of the pattern whose context matches it
  (priorities falling in document order), and every node of the document is visited;
- an `assert` whose test is false, or a `report` whose test is true, gives an svrl failed-assert or
  successful-report with its id, flag and text; `xsl:function`s of the schema are copied as they are.
Phases, abstract rules and diagnostics are not used by those rules and not supported (the compiler
refuses a schema that has them rather than checking less than it says).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

SCH = "http://purl.oclc.org/dsdl/schematron"
XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"


def _q(name: str) -> str:
    return f"{{{SCH}}}{name}"


def _resolved(path: Path) -> etree._Element:
    """The schema with its includes replaced by what they include (recursively, relative to each file)."""
    root = etree.parse(str(path)).getroot()
    for include in list(root.iter(_q("include"))):
        included = _resolved((path.parent / include.get("href")).resolve())
        parent = include.getparent()
        parent.replace(include, included)
    return root


def _unsupported(root: etree._Element) -> list[str]:
    found = [f"an abstract rule ({r.get('id')})" for r in root.iter(_q("rule")) if r.get("abstract") == "true"]
    found += ["extends" for _ in root.iter(_q("extends"))]
    found += ["diagnostics" for _ in root.iter(_q("diagnostics"))]
    return found


def _text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def compile_schematron(path: Path) -> str:
    """The XSLT 3.0 text that checks a document against the schema at `path`."""
    root = _resolved(path)
    unsupported = _unsupported(root)
    if unsupported:
        raise ValueError(f"{path.name} uses what this compiler does not: {', '.join(unsupported)}")
    namespaces = {"xsl": XSL, "xs": "http://www.w3.org/2001/XMLSchema", "svrl": SVRL}
    for element in root.iter():
        namespaces.update({k: v for k, v in element.nsmap.items() if k and k not in namespaces})
    for ns in root.iter(_q("ns")):
        namespaces[ns.get("prefix")] = ns.get("uri")
    declarations = " ".join(f"xmlns:{prefix}={quoteattr(uri)}" for prefix, uri in namespaces.items())
    out = [f'<xsl:stylesheet version="3.0" {declarations}>']
    for function in root.iter(f"{{{XSL}}}function"):
        out.append(etree.tostring(function, encoding="unicode", with_tail=False))
    patterns = list(root.iter(_q("pattern")))
    global_lets = [let for let in root if let.tag == _q("let")]
    global_lets += [let for pattern in patterns for let in pattern if let.tag == _q("let")]
    for let in global_lets:
        out.append(f'<xsl:variable name={quoteattr(let.get("name"))} select={quoteattr(let.get("value"))}/>')
    out.append('<xsl:template match="/"><svrl:schematron-output>')
    out += [f'<xsl:apply-templates select="/" mode="p{i}"/>' for i in range(len(patterns))]
    out.append("</svrl:schematron-output></xsl:template>")
    for i, pattern in enumerate(patterns):
        mode = f"p{i}"
        out.append(f'<xsl:template match="text()|comment()|processing-instruction()" mode="{mode}" priority="-1"/>')
        out.append(f'<xsl:template match="/|@*|*" mode="{mode}" priority="-2">'
                   f'<xsl:apply-templates select="@*|node()" mode="{mode}"/></xsl:template>')
        rules = [rule for rule in pattern if rule.tag == _q("rule")]
        for j, rule in enumerate(rules):
            out.append(f'<xsl:template match={quoteattr(rule.get("context"))} mode="{mode}" '
                       f'priority="{len(rules) - j + 1}">')
            for let in rule:
                if let.tag == _q("let"):
                    out.append(f'<xsl:variable name={quoteattr(let.get("name"))} '
                               f'select={quoteattr(let.get("value"))}/>')
            for check in rule:
                if check.tag not in (_q("assert"), _q("report")):
                    continue
                failed = check.tag == _q("assert")
                test = f"not({check.get('test')})" if failed else check.get("test")
                kind = "failed-assert" if failed else "successful-report"
                out.append(f'<xsl:if test={quoteattr(test)}><svrl:{kind} id={quoteattr(check.get("id") or "")} '
                           f'flag={quoteattr(check.get("flag") or "error")} location="{{path()}}">'
                           f'<svrl:text>{escape(_text(check))}</svrl:text></svrl:{kind}></xsl:if>')
            out.append(f'<xsl:apply-templates select="@*|node()" mode="{mode}"/></xsl:template>')
    out.append("</xsl:stylesheet>")
    return "\n".join(out)


@dataclass(frozen=True)
class Finding:
    id: str
    flag: str
    location: str
    text: str
    failed: bool   # a failed assert (else a successful report)

    def __str__(self) -> str:
        return f"{self.id} ({self.flag}) at {self.location}: {self.text[:200]}"


class Schematron:
    """A compiled schema, run by Saxon HE on XML bytes."""

    def __init__(self, path: Path):
        from saxonche import PySaxonProcessor

        self.path = path
        self.processor = PySaxonProcessor(license=False)
        compiler = self.processor.new_xslt30_processor()
        self.executable = compiler.compile_stylesheet(stylesheet_text=compile_schematron(path))
        self.rule_ids = sorted({c.get("id") for c in _resolved(path).iter(_q("assert"), _q("report")) if c.get("id")})

    def findings(self, xml: bytes) -> list[Finding]:
        node = self.processor.parse_xml(xml_text=xml.decode("utf-8"))
        self.executable.set_global_context_item(xdm_item=node)
        report = self.executable.transform_to_string(xdm_node=node)
        out = []
        for element in ET.fromstring(report.encode("utf-8")):
            kind = element.tag.removeprefix(f"{{{SVRL}}}")
            text = element.find(f"{{{SVRL}}}text")
            out.append(Finding(id=element.get("id") or "", flag=element.get("flag") or "", failed=kind == "failed-assert",
                               location=element.get("location") or "", text="" if text is None else (text.text or "")))
        return out

    def errors(self, xml: bytes) -> list[str]:
        """The fatal findings (flag fatal or error): what makes a receiver reject the document."""
        return [str(f) for f in self.findings(xml) if f.flag in ("fatal", "error")]
