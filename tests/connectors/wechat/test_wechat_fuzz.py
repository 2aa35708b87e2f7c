"""The WeChat webhook driven with random XML, bytes and query strings (hypothesis), in plain and in safe (AES) mode,
mounted in a real Sanic server with the real handoff gate, answering through a fake WeChat API: never a 5xx, never a
crash, nothing unstorable reaches Rasa, a message over the cap gets the note as passive reply, the passive reply is
always well-formed XML, and a message is answered once however often WeChat retries it."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import httpx
import pytest
import xmltodict
from hypothesis import assume, event, given
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto

from connectors.wechat import WeChatInput
from tests.connectors.conftest import (
    CAP,
    FRESH,
    FUZZ,
    cleaned,
    is_note,
    json_values,
    long_texts,
    received_storable,
    storable,
    texts,
)

pytestmark = pytest.mark.server

TOKEN, APP_ID, AES_KEY = "talentbot", "wx_app", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CRYPTO = WeChatCrypto(TOKEN, AES_KEY, APP_ID)


def sign(*parts: str) -> str:
    import hashlib

    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signed_query() -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(8)  # WeChat never reuses a nonce
    return {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


@dataclass
class Case:
    kind: str  # "message" (fields as XML), "raw" (any body), "query" (any query string)
    safe: bool = False  # safe (AES) mode
    fields: dict[str, Any] = field(default_factory=dict)  # "MsgId": None is a fresh id
    raw: bytes = b""
    query: dict[str, str] = field(default_factory=dict)
    again: bool = False

    def plaintext(self) -> bytes:
        if self.kind == "raw":
            return self.raw
        return xmltodict.unparse({"xml": self.fields}, full_document=False).encode("utf-8", "surrogatepass")


openids = st.sampled_from(["oUser123", "oUser456"])
query_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=50)
XML_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters=[
    chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + ["\ufffe", "\uffff"])
xml_texts = st.one_of(  # what WeChat can send: XML 1.0 characters (C1 controls included: XML allows them)
    st.text(XML_CHARS, min_size=1, max_size=60),
    st.sampled_from(["高才通要咩條件？", "优才怎么申请", "What is TTPS?", "\x85\x9f", "a\x85b", " \r\n\t ", "]]>",
                     "x]]><MsgType>image</MsgType>", "&amp;<b>", "😀🇭🇰", "/ask_scheme_info{\"scheme\":\"TTPS\"}"]),
    st.sampled_from(["問" * 10_000, "y" * 2001, "y" * 2000 + "\x85" * 9, "高才通" * 700, "😀" * 2001, "ab " * 3000]),
)


def mostly(draw: Any, usual: st.SearchStrategy, odd: st.SearchStrategy) -> Any:
    """`usual` seven times in eight, else `odd`: most messages must get through for the rules to be checked."""
    return draw(usual if draw(st.integers(0, 7)) else odd)


@st.composite
def cases(draw: Any) -> Case:
    kind = draw(st.sampled_from(["message", "message", "message", "message", "raw", "query"]))
    safe, again = draw(st.booleans()), draw(st.booleans())
    if kind == "query":
        names = st.sampled_from(["signature", "timestamp", "nonce", "echostr", "encrypt_type", "msg_signature"])
        return Case(kind, safe, query=draw(st.dictionaries(names, query_text, max_size=6)))
    if kind == "raw":
        raw = draw(st.binary(max_size=300) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))
                   | st.sampled_from([b"<a>" * 15_000 + b"</a>" * 15_000, b'<!DOCTYPE xml [<!ENTITY a "a">]><xml/>',
                                      b"<xml>" + b"<x>" * 5000 + b"</x>" * 5000 + b"</xml>", b"<xml></xml>", b"",
                                      b'{"not": "xml"}', b"<xml><Encrypt>bm90IGFlcw==</Encrypt></xml>"]))
        return Case(kind, safe, raw=raw)
    msg_type = mostly(draw, st.sampled_from(["text", "text", "text", "voice", "event", "image"]), texts)
    fields: dict[str, Any] = {
        "ToUserName": mostly(draw, st.just("gh_talent"), texts | json_values),
        "FromUserName": mostly(draw, openids, texts | json_values),
        "CreateTime": mostly(draw, st.just(str(int(time.time()))), texts | json_values),
        "MsgType": msg_type,
    }
    if msg_type == "event":
        fields["Event"] = mostly(draw, st.sampled_from(["subscribe", "unsubscribe", "CLICK", "VIEW", "SCAN"]), texts)
        fields["EventKey"] = mostly(draw, xml_texts, texts | long_texts)
    else:
        fields["MsgId"] = mostly(draw, st.none(), texts | json_values)
        fields["Content" if msg_type != "voice" else "Recognition"] = mostly(
            draw, xml_texts, st.one_of(texts, long_texts, json_values))
    return Case(kind, safe, fields=fields, again=again)


@dataclass
class Webhooks:
    plain: str
    safe: str
    channels: list[WeChatInput]
    handled: set[str] = field(default_factory=set)  # dedup keys answered so far, in any example


@pytest.fixture
async def webhooks(wechat_api, http, sqlite_store, serve, assistant) -> Any:
    channels = [WeChatInput(TOKEN, APP_ID, "app_secret", aes_key=key, api_base_url=wechat_api.url, state=sqlite_store,
                            http=http, reply_budget_s=2.0) for key in (None, AES_KEY)]
    urls = [f"{await serve(channel, assistant)}/webhooks/wechat/webhook" for channel in channels]
    yield Webhooks(urls[0], urls[1], channels)
    for channel in channels:
        await channel.drain()


# --- the rules, restated ---------------------------------------------------------------------------------------------


def xml_char(char: str) -> bool:
    """Whether XML 1.0 can carry the character (else the body is not XML: 400)."""
    code = ord(char)
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000


def as_read(value: str) -> str:
    """A field as the parser hands it over: line ends normalised (XML), surrounding whitespace removed."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def possible_keys(case: Case) -> set[str]:
    """The dedup keys a message the rules cannot predict (a field not a plain string) may have claimed: its MsgId's,
    or, when it has none the channel can read, its sender's and CreateTime's, as xmltodict writes them."""
    def written(value: Any) -> Optional[str]:
        return as_read(str(value)) if isinstance(value, (str, int)) and not isinstance(value, bool) else None

    msg_id, sender, created = (written(case.fields.get(n)) for n in ("MsgId", "FromUserName", "CreateTime"))
    if msg_id:
        return {f"msg:{msg_id}"}
    return {f"event:{sender}:{created}"} if sender and created else set()


@dataclass
class Expected:
    status: int = 200
    dedup: Optional[str] = None  # the message's dedup key when it is taken
    rasa: Optional[str] = None  # the text Rasa must get
    note: bool = False  # the note on a message over the cap


def expected(case: Case) -> Optional[Expected]:
    """What must happen to a message of plain string fields; None when a field is not a plain string (the rules
    then only say: no 5xx, nothing unstorable to Rasa, at most one message)."""
    if not all(isinstance(v, str) for v in case.fields.values() if v is not None):
        return None
    if not all(xml_char(c) for v in case.fields.values() if v for c in v):
        return Expected(400)
    got = {name: as_read(value) for name, value in case.fields.items() if value and as_read(value)}
    if any(name not in got for name in ("ToUserName", "FromUserName", "CreateTime", "MsgType")):
        return Expected(400)
    try:
        created = int(got["CreateTime"])
    except ValueError:
        return Expected(400)
    ids_ok = all(len(got[n]) <= 128 and storable(got[n]) for n in ("ToUserName", "FromUserName", "MsgId") if n in got)
    if not 0 <= created < 2**63 or not ids_ok:
        return Expected(400)
    dedup = f"msg:{got['MsgId']}" if "MsgId" in got else f"event:{got['FromUserName']}:{created}"
    msg_type = cleaned(got["MsgType"]).lower()
    text: Optional[str] = None
    if msg_type == "text":
        if "Content" not in got:
            return Expected(400)
        text = cleaned(got["Content"])
    elif msg_type == "voice":
        text = cleaned(got.get("Recognition", ""))
    elif msg_type == "event":
        if "Event" not in got:
            return Expected(400)
        if cleaned(got["Event"]).strip().lower() == "click":
            text = cleaned(got.get("EventKey", "")).strip()
    if not text or not text.strip():
        return Expected(200, dedup)
    if len(text) > CAP:
        return Expected(200, dedup, note=True)
    return Expected(200, dedup, rasa=text.strip())


# --- the test --------------------------------------------------------------------------------------------------------


async def post(http: httpx.AsyncClient, url: str, case: Case, plaintext: bytes) -> tuple[httpx.Response, Optional[str]]:
    """Sends a message as WeChat would (encrypted in safe mode); the answer and its reply text, if any."""
    query = signed_query()
    body = plaintext
    if case.safe:
        envelope = xmltodict.parse(CRYPTO.encrypt_message(plaintext, query["nonce"], query["timestamp"]))["xml"]
        body = f"<xml><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>".encode()
        query = {**query, "encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]}
    answer = await http.post(url, params=query, content=body)
    if answer.status_code != 200 or not answer.headers["content-type"].startswith("application/xml"):
        return answer, None
    xml = answer.text
    if case.safe:
        reply = xmltodict.parse(xml)["xml"]
        xml = CRYPTO.decrypt_message(xml, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"])
    reply = xmltodict.parse(xml)["xml"]  # the passive reply is well-formed XML, whatever the answer holds
    assert reply["MsgType"] == "text"
    if isinstance(case.fields.get("FromUserName"), str):
        assert reply["ToUserName"] == as_read(case.fields["FromUserName"])
    return answer, reply["Content"]


@FUZZ
@given(case=cases())
async def test_the_wechat_webhook_under_random_messages(
    webhooks: Webhooks, http, assistant, wechat_api, case: Case
) -> None:
    if case.fields.get("MsgId", "") is None:
        case.fields["MsgId"] = str(10**15 + next(FRESH))
    url = webhooks.safe if case.safe else webhooks.plain
    before_rasa = len(assistant.received)
    if case.kind == "query":
        answer = await http.post(url, params=case.query, content=b"<xml/>")
        verify = await http.get(url, params=case.query)
        event(f"query: {answer.status_code}")
        assert answer.status_code == 403 and verify.status_code == 403
        assert len(assistant.received) == before_rasa
        return
    try:
        plaintext = case.plaintext()
    except (ValueError, TypeError, AttributeError):  # not something xmltodict can write: no request
        assume(False)
        return
    answer, reply = await post(http, url, case, plaintext)
    new = assistant.received[before_rasa:]
    event(f"{case.kind} ({'safe' if case.safe else 'plain'}): {answer.status_code}{', to Rasa' if new else ''}")
    assert answer.status_code in (200, 400, 403, 413), (answer.status_code, answer.text[:300])
    assert "Traceback" not in answer.text
    assert received_storable(new) and len(new) <= 1
    want = expected(case) if case.kind == "message" else None
    if case.kind == "raw":
        assert not new
    if want is None and case.kind == "message" and answer.status_code == 200:
        webhooks.handled.update(possible_keys(case))  # taken, with a key only the channel knows: may be claimed
    if want is not None:
        if want.dedup in webhooks.handled:  # delivered before, in an earlier example
            want = Expected(200)
        assert answer.status_code == want.status, (want, answer.text[:300])
        if want.dedup is not None:
            webhooks.handled.add(want.dedup)
        if want.rasa is not None:
            [message] = new  # exactly once: nothing lost, nothing doubled
            assert (message.text, message.input_channel) == (want.rasa, "wechat")
            assert message.sender_id == f"wechat:{as_read(case.fields['FromUserName'])}"
            if reply is None:  # several messages or slow: "success" now, the customer-service API then
                assert answer.text == "success"
                await webhooks.channels[case.safe].drain()
            else:
                assert reply == f"echo: {want.rasa}"
        else:
            assert not new
        if want.note:
            assert reply is not None and is_note(reply)
    if case.again and answer.status_code == 200:  # WeChat retries it (a new nonce): answered once
        before_rasa, before_api = len(assistant.received), len(wechat_api.requests)
        again, again_reply = await post(http, url, case, plaintext)
        assert (again.status_code, again.text, again_reply) == (200, "success", None)
        assert len(assistant.received) == before_rasa and len(wechat_api.requests) == before_api
