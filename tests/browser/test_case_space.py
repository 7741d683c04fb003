"""The case space end to end in real Chromium: the judge files a case in
the staff console (1920×1080) and prints the notice; each party enters on
a phone (390×844) by the notice's link and an identity check; a message
and its reply with read status and a rating; evidence and 质证; a document
served and acknowledged; a mediation agreement signed by both; and a
hearing scheduled from the same case."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any, Iterator

import httpx
import pypdf
import pytest

from tests.browser.pages import english, readable
from tests.support import ADMIN, HubProcess, run
from tests.test_evidence_upload import png_bytes

STAFF = {"Authorization": f"Bearer {ADMIN}"}
PARTIES = [("plaintiff", "张三", "320312199001011234"), ("defendant", "王五", "32031219850202222X")]


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubProcess]:
    proc = HubProcess(tmp_path / "data").start()
    yield proc
    proc.stop()


async def notice_link(judge: Any, party_id: str) -> str:
    async with judge.expect_download() as info:
        await judge.locator(f"[data-notice={party_id}]").click()
    download = await info.value
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(Path(await download.path()).read_bytes())).pages)
    reader = pypdf.PdfReader(io.BytesIO(Path(await download.path()).read_bytes()))
    assert len(reader.pages[0].images) == 1  # the QR code
    return text.split("链接：", 1)[1].split()[0]


async def console(b: Any, hub: HubProcess, staff_id: str, password: str = "correct horse 1") -> Any:
    """The staff console at 1920×1080, signed in."""
    page = await b.page(hub.url + "/console", name=staff_id, size=(1920, 1080))
    await page.fill("#login-id", staff_id)
    await page.fill("#login-password", password)
    await page.locator("#login button").click()
    await page.locator("#desk").wait_for()
    return page


async def identify(phone: Any, name: str, id_number: str) -> None:
    await phone.locator("#identity").wait_for()
    await phone.fill("#id-name", name)
    await phone.fill("#id-number", id_number)
    await phone.locator("#identity button[type=submit]").click()
    await phone.locator("#identity").wait_for(state="hidden")


async def sign(phone: Any) -> None:
    pad = phone.locator("#pad")
    box = None
    for _ in range(20):  # an event from the hub can redraw the page between the two calls
        await pad.wait_for()
        box = await pad.bounding_box()
        if box is not None:
            break
        await phone.wait_for_timeout(100)
    assert box is not None, "the signing pad never showed"
    await phone.mouse.move(box["x"] + 20, box["y"] + 100)
    await phone.mouse.down()
    for x, y in ((80, 40), (140, 120), (220, 50), (300, 110)):
        await phone.mouse.move(box["x"] + x, box["y"] + y, steps=4)
    await phone.mouse.up()
    await phone.locator("#sign").click()


def test_a_case_from_filing_to_its_hearing(hub: HubProcess, tmp_path: Path, browsers: Any) -> None:
    r = httpx.post(hub.url + "/api/staff", headers=STAFF,
                   json={"staff_id": "judge1", "name": "赵法官", "role": "judge", "password": "correct horse 1"})
    assert r.status_code == 201
    photo = tmp_path / "借条.png"
    photo.write_bytes(png_bytes())
    summons = tmp_path / "传票.pdf"
    summons.write_bytes(b"%PDF-1.4\n" + b"1 0 obj <<>> endobj\n" * 20 + b"%%EOF\n")

    async def main() -> None:
        async with contextlib.asynccontextmanager(browsers)() as b:
            judge = await console(b, hub, "judge1")
            await judge.locator("#new-case-open").click()
            await judge.fill("#nc-number", "(2026)苏0312民初1234号")
            await judge.fill("#nc-cause", "民间借贷纠纷")
            await judge.fill("#nc-court", "徐州市铜山区人民法院")
            rows = judge.locator("#nc-parties tbody tr")
            for i, (role, name, id_number) in enumerate(PARTIES):
                await rows.nth(i).locator("[data-f=role]").select_option(role)
                await rows.nth(i).locator("[data-f=name]").fill(name)
                await rows.nth(i).locator("[data-f=id_number]").fill(id_number)
            await judge.locator("#new-case button[type=submit]").click()
            await judge.locator("#case-head", has_text="民间借贷纠纷").wait_for()
            # The judge who filed it is its judge.
            await judge.locator("#case-head", has_text="承办法官：赵法官").wait_for()
            # A third party joins the case later; its notice works like the others'.
            await judge.locator("#ap-role").select_option("agent")
            await judge.fill("#ap-name", "李律师")
            await judge.fill("#ap-id", "320312198001011111")
            await judge.locator("#ap-represents").select_option("P1")
            await judge.locator("#add-party button[type=submit]").click()
            await judge.locator("[data-party=P3]", has_text="代理 张三").wait_for()
            links = [await notice_link(judge, "P1"), await notice_link(judge, "P2")]

            phones = []
            for link, (_, name, id_number) in zip(links, PARTIES):
                phone = await b.page(link, name=name, size=(390, 844), touch=True)
                # A wrong ID number is refused, then the right one enters.
                await phone.locator("#identity").wait_for()
                await phone.fill("#id-name", name)
                await phone.fill("#id-number", "110101199901010000")
                await phone.locator("#identity button[type=submit]").click()
                await phone.locator("#toast", has_text="姓名或身份证号码与案件记录不符").wait_for()
                await identify(phone, name, id_number)
                await phone.locator("#who", has_text=name).wait_for()
                assert "#k=" not in phone.url
                phones.append(phone)
            zhang, wang = phones

            # 联系法官: a message, read by the judge, answered, rated.
            await zhang.fill("#compose-text", "请问何时开庭？")
            await zhang.locator("#compose button[type=submit]").click()
            await judge.locator("[data-tab=messages]").click()
            await judge.locator("[data-thread=P1] .msg", has_text="请问何时开庭？").wait_for()
            await zhang.locator("[data-message=M1]", has_text="法院已读").wait_for()
            await judge.locator("[data-thread=P1] textarea").fill("拟于下月开庭，请按时提交证据。")
            await judge.locator("[data-thread=P1] button[type=submit]").click()
            await zhang.locator("[data-message=M2]", has_text="拟于下月开庭").wait_for()
            await zhang.locator("[data-message=M2] .rate button", has_text="满意").first.click()
            await judge.locator("[data-message=M2]", has_text="当事人评价：满意").wait_for()
            await judge.locator("[data-message=M2]", has_text="当事人已读").wait_for()
            # The other side sees none of it.
            assert await wang.locator("[data-message]").count() == 0

            # Evidence and 质证: the plaintiff files, the judge opens the exchange, the defendant answers.
            await zhang.locator("[data-tab=evidence]").click()
            await zhang.fill("#ev-title", "借条")
            await zhang.fill("#ev-source", "原告持有")
            await zhang.fill("#ev-purpose", "证明借款事实")
            await zhang.locator("#ev-file").set_input_files(str(photo))
            await zhang.locator("#file-evidence button[type=submit]").click()
            await identify(zhang, "张三", "320312199001011234")  # asked again before evidence exchange
            await zhang.locator("[data-evidence=E1]").wait_for()
            await judge.locator("[data-tab=evidence]").click()
            await judge.locator("#exchange button[type=submit]").click()
            await judge.locator("[data-evidence=E1]").wait_for()
            await wang.locator("[data-tab=evidence]").click()
            form = wang.locator("[data-evidence=E1] form")
            await form.locator("input[name=relevance][value='0']").check()
            await form.locator("input[name=relevance-reason]").fill("借条与本案无关")
            await form.locator("button[type=submit]").click()
            await identify(wang, "王五", "32031219850202222X")
            await judge.locator("[data-evidence=E1]", has_text="关联性：不认可，借条与本案无关").wait_for()

            # Service: served on the defendant, who confirms the address, opens it and acknowledges it.
            await judge.locator("[data-tab=service]").click()
            await judge.locator("#sv-party").select_option("P2")
            await judge.fill("#sv-title", "开庭传票")
            await judge.locator("#sv-file").set_input_files(str(summons))
            await judge.locator("#serve button[type=submit]").click()
            await judge.locator("[data-document=D1]", has_text="未打开").wait_for()
            await wang.locator("[data-tab=documents]").click()
            await wang.locator("#consent").click()
            await wang.locator("[data-document=D1] button", has_text="确认已阅知").click()
            await wang.locator("[data-document=D1]", has_text="已阅知").wait_for()
            row = judge.locator("[data-document=D1]")
            for pending in ("未完成", "未打开"):
                await row.locator("td", has_text=pending).wait_for(state="detached")

            # Mediation: drafted and sent for signing by the judge, signed by both parties.
            await judge.locator("[data-tab=mediation]").click()
            await judge.locator("#mediation button", has_text="开始调解").click()
            await judge.locator("#agreement-draft").fill("被告于2026年12月31日前归还原告借款五万元。")
            await judge.locator("#mediation button", has_text="保存草稿").click()
            await judge.locator("#mediation button", has_text="发起签署").click()
            await judge.locator("#mediation", has_text="张三未签").wait_for()
            for phone, (_, name, id_number) in zip(phones, PARTIES):
                await phone.locator("[data-tab=mediation]").click()
                await phone.locator("#agreement-text", has_text="归还原告借款五万元").wait_for()
                await sign(phone)
                await identify(phone, name, id_number)  # asked again before mediation
            await judge.locator("#mediation", has_text="协议已于").wait_for()
            await zhang.locator("#mediation", has_text="全体当事人已签名").wait_for()

            # A hearing of the same case: its people seated, the judge's join link opens the hearing.
            await judge.locator("[data-tab=hearings]").click()
            await judge.locator("#schedule button[type=submit]").click()
            join = await judge.locator("[data-join=judge]").get_attribute("href")
            hearing = await b.page(join, name="hearing", size=(1920, 1080))
            await hearing.locator("header", has_text="(2026)苏0312民初1234号").wait_for()
            await hearing.locator("body", has_text="审判员 赵法官").wait_for()
            await zhang.locator("[data-tab=hearings]").click()
            await zhang.locator("#hearings li", has_text="庭审").wait_for()
            await judge.screenshot(path=str(b.artifacts / "case-console.png"))
            await zhang.screenshot(path=str(b.artifacts / "case-phone.png"))
            # Nothing a court user reads is English, on any tab of either page.
            for page, tabs in ((judge, ("parties", "messages", "evidence", "service", "mediation", "hearings")),
                               (zhang, ("messages", "evidence", "documents", "mediation", "hearings"))):
                for tab in tabs:
                    await page.locator(f"[data-tab={tab}]").click()
                    words = english(await readable(page), "借条.png", "传票.pdf")
                    assert not words, (tab, words)
            # The agent's phone, signed out by the court, is back at the start.
            await judge.locator("[data-tab=parties]").click()
            agent = await b.page(await notice_link(judge, "P3"), name="李律师", size=(390, 844), touch=True)
            await identify(agent, "李律师", "320312198001011111")
            await agent.locator("#who", has_text="李律师").wait_for()
            await judge.locator("[data-signout=P3]").click()
            await agent.locator("#need-link").wait_for()
            # The plaintiff goes into the hearing from the phone, after one more check.
            await zhang.locator("#hearings button", has_text="进入庭审").click()
            await identify(zhang, "张三", "320312199001011234")
            await zhang.wait_for_url("**/hearings/**")
            await zhang.locator("body", has_text="原告 张三").wait_for()
            unexpected = [e for e in b.errors if " 403 " not in e and " 401 " not in e]
            assert not unexpected, unexpected
    run(main())


def test_an_administrator_manages_staff_accounts_in_the_console(hub: HubProcess, browsers: Any) -> None:
    r = httpx.post(hub.url + "/api/staff", headers=STAFF,
                   json={"staff_id": "admin1", "name": "管理员甲", "role": "admin", "password": "correct horse 1"})
    assert r.status_code == 201

    async def main() -> None:
        async with contextlib.asynccontextmanager(browsers)() as b:
            wrong = await b.page(hub.url + "/console", name="wrong", size=(1920, 1080))
            await wrong.fill("#login-id", "admin1")
            await wrong.fill("#login-password", "wrong password!")
            await wrong.locator("#login button").click()
            await wrong.locator("#toast", has_text="账号或密码错误").wait_for()
            page = await console(b, hub, "admin1")
            await page.locator("#accounts-open").click()
            await page.fill("#ac-id", "judge1")
            await page.fill("#ac-name", "赵法官")
            await page.fill("#ac-password", "judge horse 22")
            await page.locator("#account-new button[type=submit]").click()
            await page.locator("[data-account=judge1]", has_text="在用").wait_for()
            assert httpx.post(hub.url + "/api/login", json={"staff_id": "judge1",
                                                            "password": "judge horse 22"}).status_code == 200
            await page.locator("[data-account=judge1] button", has_text="停用").click()
            await page.locator("[data-account=judge1]", has_text="已停用").wait_for()
            assert httpx.post(hub.url + "/api/login", json={"staff_id": "judge1",
                                                            "password": "judge horse 22"}).status_code == 401
            await page.locator("#logout").click()
            await page.locator("#login").wait_for()
            unexpected = [e for e in b.errors if " 401 " not in e and "401 (Unauthorized)" not in e]
            assert not unexpected, unexpected
    run(main())
