"""Uploaded XML: hostile documents are refused fast, real BPMN still parses."""
from __future__ import annotations

import http.server
import re
import sys
import threading
import time
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.camunda.parser import CamundaParser

# The project is not installed into the venv and setup.cfg sets no pytest pythonpath.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from workflows import xml_safety  # noqa: E402
from workflows.xml_safety import UnsafeXMLError, parse_xml  # noqa: E402

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NORMAL_BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- exported by a modeler; comments are fine -->
<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="defs" targetNamespace="http://example.com/rectiflow">
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:documentation>整改 &amp; 复查</bpmn:documentation>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
"""

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><documentation>&xxe;</documentation></definitions>
"""


def rejected(data, **kwargs) -> UnsafeXMLError:
    started = time.perf_counter()
    with pytest.raises(UnsafeXMLError) as raised:
        parse_xml(data, **kwargs)
    assert time.perf_counter() - started < 2  # an expanding parser would take far longer
    assert isinstance(raised.value, ValueError)
    assert raised.value.message == str(raised.value)
    return raised.value


@pytest.fixture
def http_listener():
    """A local HTTP server that records every request, to prove nothing is fetched."""
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            body = b'<!ENTITY stolen "fetched">'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() waits for the serving loop to look again: every 50 ms, not the default 0.5 s
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", requests
    server.shutdown()
    server.server_close()


def test_billion_laughs_is_rejected_without_expansion():
    error = rejected(BILLION_LAUGHS)
    assert "DOCTYPE" in error.message


def test_xxe_file_entity_is_rejected():
    error = rejected(XXE_FILE)
    assert "DOCTYPE" in error.message
    assert "root:" not in error.message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_declaration_hidden_in_another_encoding_is_rejected(encoding):
    document = XXE_FILE.decode().replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>')
    assert "DOCTYPE" in rejected(document.encode(encoding)).message


def test_ebcdic_encoded_declaration_is_rejected():
    document = '<?xml version="1.0" encoding="cp037"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'
    rejected(document.encode("cp037"))


@pytest.mark.parametrize("document, fragment", [
    (BILLION_LAUGHS, ""),  # libxml2 refuses it even unexpanded; wording varies by version
    (XXE_FILE, "DOCTYPE"),
    (XXE_FILE.decode().encode("utf-16"), "DOCTYPE"),
])
def test_parsed_tree_check_alone_still_rejects(monkeypatch, document, fragment):
    """Second line of defence: if the byte pre-scan missed a declaration, the parse catches it."""
    monkeypatch.setattr(xml_safety, "_DECLARATION", re.compile(rb"(?!)"))  # never matches
    assert fragment in rejected(document).message


def test_xxe_over_http_is_rejected_and_nothing_is_fetched(http_listener):
    base, requests = http_listener
    documents = [
        f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "{base}/entity">]><d>&xxe;</d>',
        f'<!DOCTYPE d SYSTEM "{base}/external.dtd"><d>&stolen;</d>',
        f'<!DOCTYPE d [<!ENTITY % remote SYSTEM "{base}/param.dtd"> %remote;]><d/>',
    ]
    for document in documents:
        assert "DOCTYPE" in rejected(document.encode()).message
    time.sleep(0.05)  # give a (wrongly) started fetch time to arrive
    assert requests == []


def test_oversize_input_is_rejected_before_parsing():
    error = rejected(b"<a>" + b"x" * 2_000 + b"</a>", max_bytes=1_000)
    assert "limit is 1000" in error.message
    big = b"<a>" + b"x" * 5_000_000 + b"</a>"
    assert "limit is 5000000" in rejected(big).message


@pytest.mark.parametrize("data, fragment", [
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"<a>\n<b></a>", "line 2"),
    (b"<definitions>\n\n<unclosed>", "line 3"),
    (b"<bpmn:definitions/>", "line 1"),  # unbound namespace prefix
    (b"not xml at all", "line 1"),
])
def test_malformed_xml_gets_a_clear_message(data, fragment):
    error = rejected(data)
    assert fragment in error.message
    if fragment.startswith("line"):
        assert error.message.startswith("malformed XML at line")


def test_wrong_input_type_is_rejected():
    assert "bytes or str" in rejected(12345).message


@pytest.mark.parametrize("data", [NORMAL_BPMN, NORMAL_BPMN.encode("utf-8")])
def test_normal_bpmn_parses_and_runs(data):
    root = parse_xml(data)
    assert root.tag == f"{{{BPMN_NS}}}definitions"
    assert root.find(f".//{{{BPMN_NS}}}documentation").text == "整改 & 复查"
    parser = CamundaParser()
    parser.add_bpmn_xml(root)
    workflow = BpmnWorkflow(parser.get_spec("proc"))
    workflow.do_engine_steps()
    assert workflow.is_completed()


def test_str_with_a_different_declared_encoding_is_parsed_as_the_text_it_is():
    root = parse_xml('<?xml version="1.0" encoding="ISO-8859-1"?><note>é 整改</note>')
    assert root.text == "é 整改"
