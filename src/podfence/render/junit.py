"""JUnit XML for ``podfence test --junit``: one testcase per expectation.

The shape is the one GitLab (``artifacts:reports:junit``), Jenkins (``junit``
step) and GitHub test reporters read: ``<testsuites>`` holding one
``<testsuite>`` per assertion file; a failed expectation carries a ``<failure>``
whose message is one line and whose text lists the broken pairs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from podfence.assertions import Result
from podfence.render.assertions import result_lines
from podfence.render.escape import xml_text


def junit_xml(suites: list[tuple[str, list[Result]]], seconds: float = 0.0) -> str:
    """``suites`` is (assertion file, results) pairs; ``seconds`` the time the whole run took."""
    total = sum(len(rs) for _, rs in suites)
    failed = sum(1 for _, rs in suites for r in rs if not r.passed)
    root = ET.Element("testsuites", name="podfence test", tests=str(total), failures=str(failed), errors="0",
                      time=f"{seconds:.3f}")
    for raw_file, results in suites:
        file = xml_text(raw_file)
        suite = ET.SubElement(root, "testsuite", name=file, tests=str(len(results)),
                              failures=str(sum(1 for r in results if not r.passed)), errors="0", skipped="0",
                              time=f"{seconds:.3f}")
        for r in results:
            case = ET.SubElement(suite, "testcase", name=xml_text(r.expectation.name), classname=f"podfence.{file}",
                                 file=file, time="0")
            if not r.passed:
                lines = result_lines(r)
                message = lines[1].strip() if len(lines) > 1 else "failed"
                failure = ET.SubElement(case, "failure", message=message, type="ConnectivityExpectation")
                failure.text = "\n".join(line.strip() for line in lines) + "\n"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
