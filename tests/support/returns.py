"""A unit's case driven through the API up to a return: self-checked, rectified, filed, and sent
back by the office with an opinion, so the liaison has a returned rectification task."""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from .api import publish_round

OPINION = "佐证材料不全，请补充整改台账"
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 200]/Contents 4 0 R"
       b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n4 0 obj<</Length 44>>stream\n"
       b"BT /F1 24 Tf 40 100 Td (Rectification) Tj ET\nendstream endobj\n"
       b"5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")


def png(width: int = 240, height: int = 160, rgb: tuple[int, int, int] = (31, 95, 168)) -> bytes:
    """A plain picture of one colour, to see an image preview at a size a person notices."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@dataclass
class UnitCase:
    round_id: int
    case_id: int
    unit_id: int
    commons: list[int]
    liaison: str
    head: str


def unit_case(api, d, index: int = 2) -> UnitCase:
    """A published round's case of one unit (not a department), its self-check open."""
    return case_of(api, d, publish_round(api, d), index)


def case_of(api, d, round_id: int, index: int) -> UnitCase:
    """The case of the district's unit `index` in a published round."""
    unit_id = d.units[index]
    code = d.codes[unit_id].lower()
    office = api.as_("office1")
    case = office.get("/cases", query_string={"round_id": round_id, "unit_id": unit_id}).get_json()["items"][0]
    commons = [c["id"] for c in office.get(f"/rounds/{round_id}").get_json()["common_problems"]]
    return UnitCase(round_id, case["id"], unit_id, commons, f"{code}_liaison", f"{code}_head")


def self_check(api, uc: UnitCase) -> None:
    liaison = api.as_(uc.liaison)
    liaison.complete(liaison.tasks(bpmn_id="self_check")[0]["id"], {"items": [
        {"common_problem_id": c, "applicable": True, "problems_found": 1, "findings": "合同未审核"} for c in uc.commons]})


def rectify(api, uc: UnitCase) -> None:
    liaison = api.as_(uc.liaison)
    liaison.complete(liaison.tasks(bpmn_id="rectify")[0]["id"], {"items": [
        {"common_problem_id": c, "status": "done", "institutions": [],
         "measures": [{"description": "建立合同审核台账", "deadline": "2027-01-31"}]} for c in uc.commons]})


def file_case(api, uc: UnitCase) -> None:
    head = api.as_(uc.head)
    head.attach_evidence(uc.case_id)
    head.complete(head.tasks(bpmn_id="attest_and_file")[0]["id"], {"attest": True})


def returned_case(api, d, index: int = 2) -> UnitCase:
    """A case filed once and returned by the office with OPINION: the liaison's rectify task is open."""
    uc = unit_case(api, d, index)
    self_check(api, uc)
    rectify(api, uc)
    file_case(api, uc)
    office = api.as_("office1")
    review = [t for t in office.tasks(bpmn_id="review_filing") if t["unit_id"] == uc.unit_id][0]
    office.complete(review["id"], {"accepted": False, "comment": OPINION})
    return uc
