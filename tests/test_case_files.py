"""A case's files and paperwork over HTTP, against a real hub process:
evidence with its catalogue and 质证, a served document with its proof of
service, the notice's QR code, and the mediation agreement as PDF."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pypdf

from tests.case.builders import BODY
from tests.corefixtures import PNG
from tests.support import HubProcess
from tests.test_case_api import STAFF, enter, file_case, op, signed_in
from tests.paperwork.test_record import signature_png

JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 2000
PDF = b"%PDF-1.4\n" + b"1 0 obj <<>> endobj\n" * 50 + b"%%EOF\n"


def text_of(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def check(client: httpx.Client, cid: str, purpose: str, index: int) -> None:
    record = BODY["parties"][index]
    r = op(client, cid, {"kind": "identity.check", "purpose": purpose, "name": record["name"],
                         "id_number": record["id_number"]})
    assert r.status_code == 200, r.text


def assigned(hub: HubProcess, cid: str, role: str, staff_id: str, name: str) -> httpx.Client:
    client = signed_in(hub, staff_id, name, role)
    r = httpx.post(hub.url + f"/api/cases/{cid}/ops", headers=STAFF,
                   json={"op": {"kind": "staff.assign", "role": role, "staff_id": staff_id, "name": name}})
    assert r.status_code == 200, r.text
    return client


def test_evidence_and_opinions_over_http(hub: HubProcess) -> None:
    case = file_case(hub)
    cid = case["case_id"]
    judge = assigned(hub, cid, "judge", "judge1", "赵法官")
    zhang, wang = enter(hub, case, 0), enter(hub, case, 2)
    params: dict[str, Any] = {"name": "借条.jpg", "title": "借条", "source": "原告持有", "purpose": "证明借款事实",
                              "pages": 1}
    assert zhang.post(f"/api/cases/{cid}/evidence", params=params, content=JPEG).status_code == 403  # not checked
    check(zhang, cid, "exchange", 0)
    r = zhang.post(f"/api/cases/{cid}/evidence", params=params, content=JPEG)
    assert r.status_code == 201, r.text
    item = r.json()["evidence"]
    assert item["title"] == "借条" and item["file"]["media_type"] == "image/jpeg"
    # The other side downloads it, and gives its opinion once the judge opens the exchange.
    assert wang.get(f"/api/cases/{cid}/files/{item['file']['sha256']}").content == JPEG
    assert op(judge, cid, {"kind": "exchange.open"}).status_code == 200
    check(wang, cid, "exchange", 2)
    r = op(wang, cid, {"kind": "evidence.opinion", "evidence_id": "E1", "authenticity": {"agree": True},
                       "legality": {"agree": True}, "relevance": {"agree": False, "reason": "与本案无关"}})
    assert r.status_code == 200, r.text
    table = judge.get(f"/api/cases/{cid}").json()["exhibits"]
    assert table[0]["opinions"][0]["aspects"]["relevance"] == {"agree": False, "reason": "与本案无关"}
    # Not an image or a PDF: refused, and nothing stays behind.
    bad = zhang.post(f"/api/cases/{cid}/evidence", params=params, content=b"MZ\x90\x00 not a photo")
    assert bad.status_code in (400, 415)
    assert len(list((hub.data / "evidence" / cid).iterdir())) == 1


def test_service_with_its_proof(hub: HubProcess) -> None:
    case = file_case(hub)
    cid = case["case_id"]
    clerk = assigned(hub, cid, "clerk", "clerk1", "钱书记员")
    wang = enter(hub, case, 2)
    r = clerk.post(f"/api/cases/{cid}/documents", params={"party_id": "P3", "title": "开庭传票",
                                                         "doc_kind": "summons", "name": "传票.pdf"}, content=PDF)
    assert r.status_code == 201, r.text
    doc = r.json()["document"]
    assert doc["delivered_ms"] is None  # the party has not confirmed its space as its address yet
    assert op(wang, cid, {"kind": "service.consent"}).status_code == 200
    # Opening it is logged once; 已阅知 is the party's receipt.
    assert wang.get(f"/api/cases/{cid}/files/{doc['file']['sha256']}").content == PDF
    wang.get(f"/api/cases/{cid}/files/{doc['file']['sha256']}")
    assert op(wang, cid, {"kind": "document.acknowledge", "document_id": doc["id"]}).status_code == 200
    served = clerk.get(f"/api/cases/{cid}").json()["served"][0]
    assert served["opened_ms"] and served["acknowledged_ms"] and served["completed_ms"] == served["delivered_ms"]
    proof = clerk.get(f"/api/cases/{cid}/documents/{doc['id']}/proof")
    assert proof.status_code == 200 and proof.headers["content-type"] == "application/pdf"
    words = text_of(proof.content)
    assert "电子送达凭证" in words and "王五" in words and "开庭传票" in words
    # The other side sees neither the document nor its proof.
    zhang = enter(hub, case, 0)
    assert zhang.get(f"/api/cases/{cid}").json()["served"] == []
    assert zhang.get(f"/api/cases/{cid}/files/{doc['file']['sha256']}").status_code == 404
    assert zhang.get(f"/api/cases/{cid}/documents/{doc['id']}/proof").status_code == 404


def test_the_notice_carries_a_new_entry_link_as_qr(hub: HubProcess) -> None:
    case = file_case(hub)
    cid = case["case_id"]
    old = case["parties"][0]["entry_url"].split("#k=")[1]
    r = httpx.post(hub.url + f"/api/cases/{cid}/parties/P1/notice", headers=STAFF)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    words = text_of(r.content)
    assert "告知书" in words and BODY["case_number"] in words and "张三" in words
    new = words.split("#k=")[1].split()[0]
    # The printed link enters; the one it replaced no longer does.
    anon = httpx.Client(base_url=hub.url)
    assert anon.post(f"/api/cases/{cid}/enter", json={"link": old, "name": "张三",
                                                      "id_number": "320312199001011234"}).status_code == 404
    assert anon.post(f"/api/cases/{cid}/enter", json={"link": new, "name": "张三",
                                                      "id_number": "320312199001011234"}).status_code == 200
    zhang = enter(hub, case, 2)
    assert zhang.post(f"/api/cases/{cid}/parties/P1/notice").status_code == 403


def test_mediation_agreement_signed_and_printed(hub: HubProcess) -> None:
    case = file_case(hub)
    cid = case["case_id"]
    mediator = assigned(hub, cid, "mediator", "med1", "孙调解员")
    zhang, wang = enter(hub, case, 0), enter(hub, case, 2)
    assert op(mediator, cid, {"kind": "mediation.open"}).status_code == 200
    assert op(mediator, cid, {"kind": "agreement.draft", "text": "被告于2026年12月31日前归还原告借款五万元。",
                              "base_rev": 0}).status_code == 200
    assert op(mediator, cid, {"kind": "agreement.freeze", "base_rev": 1}).status_code == 200
    for phone, index in ((zhang, 0), (wang, 2)):
        check(phone, cid, "mediation", index)
        sign = {"kind": "agreement.sign", "image": signature_png() if index == 0 else PNG}
        assert op(phone, cid, sign).status_code == 200
    mediation = wang.get(f"/api/cases/{cid}").json()["mediation"]
    assert mediation["effective_ms"] and len(mediation["signatures"]) == 2
    pdf = wang.get(f"/api/cases/{cid}/agreement")
    words = text_of(pdf.content)
    assert "调解协议" in words and "归还原告借款五万元" in words and mediation["hash"] in words.replace("\n", "")
    assert "签名图像无法显示" in words  # the one whose image is only a PNG header
    assert len(pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].images) == 1


def test_case_evidence_appears_in_the_hearings_of_the_case(hub: HubProcess) -> None:
    case = file_case(hub)
    cid = case["case_id"]
    zhang = enter(hub, case, 0)
    check(zhang, cid, "exchange", 0)
    params: dict[str, Any] = {"name": "借条.jpg", "title": "借条", "source": "原告持有", "purpose": "证明借款事实"}
    assert zhang.post(f"/api/cases/{cid}/evidence", params=params, content=JPEG).status_code == 201
    hearing = httpx.post(hub.url + f"/api/cases/{cid}/hearings", headers=STAFF, json={}).json()
    hid = hearing["hearing_id"]
    judge = next(i for i in hearing["invites"] if i["role"] == "judge")
    later = zhang.post(f"/api/cases/{cid}/evidence", params={**params, "title": "转账记录", "name": "转账.pdf"},
                       content=PDF)
    assert later.status_code == 201
    shown = hub.transcript(hid, judge["token"])["evidence"]
    assert [(e["name"], e["uploader"]["name"]) for e in shown] == [("E1 借条", "张三"), ("E2 转账记录", "张三")]
    got = httpx.get(hub.url + f"/api/hearings/{hid}/evidence/{shown[1]['id']}",
                    headers={"Authorization": f"Bearer {judge['token']}"})
    assert got.status_code == 200 and got.content == PDF
    # Scheduling another hearing brings both there too, once each.
    second = httpx.post(hub.url + f"/api/cases/{cid}/hearings", headers=STAFF, json={}).json()
    judge2 = next(i for i in second["invites"] if i["role"] == "judge")
    assert len(hub.transcript(second["hearing_id"], judge2["token"])["evidence"]) == 2
    assert len(hub.transcript(hid, judge["token"])["evidence"]) == 2
    hub.stop()
    assert hub.verify(hid).returncode == 0


def test_documents_drafted_from_the_locked_record(hub: HubProcess) -> None:
    import docx

    from tests.support import Client, run
    case = file_case(hub)
    cid = case["case_id"]
    judge_console = assigned(hub, cid, "judge", "judge1", "赵法官")
    zhang, wang = enter(hub, case, 0), enter(hub, case, 2)
    check(zhang, cid, "exchange", 0)
    check(wang, cid, "exchange", 2)
    zhang.post(f"/api/cases/{cid}/evidence", content=JPEG,
               params={"name": "借条.jpg", "title": "借条", "source": "原告持有", "purpose": "证明借款事实"})
    op(judge_console, cid, {"kind": "exchange.open"})
    op(wang, cid, {"kind": "evidence.opinion", "evidence_id": "E1", "authenticity": {"agree": False, "reason": "签名非本人所写"},
                   "legality": {"agree": True}, "relevance": {"agree": True}})
    hearing = judge_console.post(f"/api/cases/{cid}/hearings", json={}).json()
    hid = hearing["hearing_id"]
    by_name = {i["name"]: i for i in hearing["invites"]}
    url = f"/api/cases/{cid}/hearings/{hid}/drafts/judgment"

    async def hold() -> None:
        judge = await Client.connect(hub.ws_url(hid, by_name["赵法官"]["token"]))
        for text, who in (("请求判令被告归还借款五万元。", "张三"), ("借款已于去年归还。", "王五")):
            answer = await judge.op({"kind": "segment.add", "text": text,
                                     "speaker": by_name[who]["participant_id"]})
            assert answer["type"] == "ack", answer
        assert judge_console.get(url).status_code == 409  # not locked yet
        assert (await judge.op({"kind": "transcript.lock"}))["type"] == "ack"
        await judge.close()
    run(hold())
    r = judge_console.get(url)
    assert r.status_code == 200, r.text
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(r.content)).paragraphs)
    assert "请求判令被告归还借款五万元。" in text and "借款已于去年归还。" in text
    assert "真实性不认可（签名非本人所写）" in text and "本院认为" in text and "张三的委托诉讼代理人：李律师" in text
    catalogue = docx.Document(io.BytesIO(judge_console.get(url.replace("judgment", "catalogue")).content))
    assert catalogue.tables[0].rows[1].cells[1].text == "借条"
    cover = docx.Document(io.BytesIO(judge_console.get(url.replace("judgment", "cover")).content))
    assert len(cover.tables[0].rows[5].cells[1].text) == 64  # the locked 笔录's hash
    assert zhang.get(url).status_code == 403
    assert judge_console.get(url.replace("judgment", "poem")).status_code == 404
