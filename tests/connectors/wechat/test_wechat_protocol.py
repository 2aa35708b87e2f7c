"""WeChat protocol, pure: signatures, inbound XML, passive replies, limits."""
from __future__ import annotations

import hashlib
from typing import Optional

import pytest
import xmltodict
from wechatpy.utils import check_signature

from connectors.wechat.protocol import (
    TEXT_LIMIT_BYTES,
    InboundError,
    SignatureCheck,
    custom_text_message,
    nonce_keys,
    nonce_ttl_s,
    parse_inbound,
    render_reply,
    split_for_limits,
    verify_signature,
)

TOKEN = "talentbot"
NOW = 1_764_064_800


def sign(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def test_signature_agrees_with_wechatpy() -> None:
    signature = sign(TOKEN, str(NOW), "n0nce")
    check_signature(TOKEN, signature, str(NOW), "n0nce")  # raises if wechatpy disagrees
    assert verify_signature(TOKEN, signature, str(NOW), "n0nce", now=NOW) is SignatureCheck.VALID


@pytest.mark.parametrize(
    "signature, timestamp, nonce, now, expected",
    [
        (sign(TOKEN, str(NOW), "n"), str(NOW), "n", NOW + 299, SignatureCheck.VALID),
        (sign(TOKEN, str(NOW), "n").upper(), str(NOW), "n", NOW, SignatureCheck.VALID),
        (sign(TOKEN, str(NOW), "n"), str(NOW), "n", NOW + 301, SignatureCheck.STALE),
        (sign(TOKEN, str(NOW), "n"), str(NOW), "n", NOW - 301, SignatureCheck.STALE),
        (sign("other-token", str(NOW), "n"), str(NOW), "n", NOW, SignatureCheck.FORGED),
        (sign(TOKEN, str(NOW), "n"), str(NOW + 1), "n", NOW, SignatureCheck.FORGED),  # timestamp changed
        (sign(TOKEN, "abc", "n"), "abc", "n", NOW, SignatureCheck.FORGED),
        (None, str(NOW), "n", NOW, SignatureCheck.FORGED),
        (sign(TOKEN, str(NOW), ""), str(NOW), "", NOW, SignatureCheck.FORGED),
        ("", None, None, NOW, SignatureCheck.FORGED),
        ("签名", str(NOW), "n", NOW, SignatureCheck.FORGED),  # hmac.compare_digest raised TypeError on non-ASCII
        ("0" * 40, str(NOW), "n\ud800", NOW, SignatureCheck.FORGED),  # a lone surrogate cannot be signed
    ],
)
def test_verify_signature(
    signature: Optional[str], timestamp: Optional[str], nonce: Optional[str], now: int, expected: SignatureCheck
) -> None:
    assert verify_signature(TOKEN, signature, timestamp, nonce, now=now) is expected


@pytest.mark.parametrize(
    "timestamp, now, at_least, at_most",
    [
        (NOW, NOW, 300, 302),  # fresh: remembered for the whole window
        (NOW, NOW + 200, 100, 102),  # arrived late: only the rest of the window
        (NOW + 250, NOW, 550, 552),  # sender's clock ahead: accepted until NOW + 550
        (NOW, NOW + 300, 1, 1),  # the last accepted second: still at least a second
    ],
)
def test_a_nonce_is_remembered_until_its_timestamp_goes_stale(
    timestamp: int, now: int, at_least: float, at_most: float
) -> None:
    ttl = nonce_ttl_s(timestamp, now)
    assert at_least <= ttl <= at_most
    # every moment the signature still verifies falls within the memory
    signature = sign(TOKEN, str(timestamp), "n")
    assert verify_signature(TOKEN, signature, str(timestamp), "n", now=now + ttl - 1) is SignatureCheck.VALID


def test_nonce_keys_tell_the_same_query_string_with_another_body_apart() -> None:
    used, with_body = nonce_keys(str(NOW), "n0nce", b"<xml>1</xml>")
    again_used, again_with_body = nonce_keys(str(NOW), "n0nce", b"<xml>1</xml>")
    other_used, other_with_body = nonce_keys(str(NOW), "n0nce", b"<xml>2</xml>")
    assert used == again_used == other_used
    assert with_body == again_with_body != other_with_body
    assert nonce_keys(str(NOW), "other", b"<xml>1</xml>")[0] != used


def xml(msg_type: str, extra: str = "", msg_id: Optional[str] = "6054768590064713728") -> str:
    msg_id_xml = f"<MsgId>{msg_id}</MsgId>" if msg_id else ""
    return (
        "<xml><ToUserName><![CDATA[gh_talentwindow]]></ToUserName>"
        "<FromUserName><![CDATA[oUser123]]></FromUserName>"
        f"<CreateTime>{NOW}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{extra}{msg_id_xml}</xml>"
    )


@pytest.mark.parametrize(
    "body, kind, text, event, dedup_key",
    [
        (xml("text", "<Content><![CDATA[高才通要咩條件？]]></Content>"),
         "text", "高才通要咩條件？", None, "msg:6054768590064713728"),
        (xml("voice", "<MediaId>m</MediaId><Format>amr</Format><Recognition><![CDATA[优才怎么申请]]></Recognition>"),
         "text", "优才怎么申请", None, "msg:6054768590064713728"),
        (xml("voice", "<MediaId>m</MediaId><Format>amr</Format><Recognition></Recognition>"),
         "unsupported", None, None, "msg:6054768590064713728"),
        (xml("image", "<PicUrl>http://x/y.jpg</PicUrl><MediaId>m</MediaId>"),
         "unsupported", None, None, "msg:6054768590064713728"),
        (xml("location", "<Location_X>22.3</Location_X><Location_Y>114.1</Location_Y>"),
         "unsupported", None, None, "msg:6054768590064713728"),
        (xml("shortvideo", ""), "unsupported", None, None, "msg:6054768590064713728"),
        (xml("event", "<Event><![CDATA[subscribe]]></Event>", msg_id=None),
         "event", None, "subscribe", f"event:oUser123:{NOW}"),
        (xml("event", "<Event><![CDATA[unsubscribe]]></Event>", msg_id=None),
         "event", None, "unsubscribe", f"event:oUser123:{NOW}"),
        (xml("event", "<Event><![CDATA[CLICK]]></Event>"
                      "<EventKey><![CDATA[/ask_scheme_info{\"scheme\":\"TTPS\"}]]></EventKey>", msg_id=None),
         "text", '/ask_scheme_info{"scheme":"TTPS"}', "click", f"event:oUser123:{NOW}"),
        (xml("event", "<Event><![CDATA[VIEW]]></Event><EventKey><![CDATA[https://www.hkengage.gov.hk]]></EventKey>",
             msg_id=None),
         "event", None, "view", f"event:oUser123:{NOW}"),
    ],
)
def test_parse_inbound(body: str, kind: str, text: Optional[str], event: Optional[str], dedup_key: str) -> None:
    inbound = parse_inbound(body)
    assert (inbound.kind, inbound.text, inbound.event, inbound.dedup_key) == (kind, text, event, dedup_key)
    assert (inbound.openid, inbound.account, inbound.created_at) == ("oUser123", "gh_talentwindow", NOW)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not xml",
        "<xml><ToUserName>a</ToUserName>",  # truncated
        "<root><a>1</a></root>",  # not <xml>
        "<xml>text</xml>",
        xml("text", "").replace("<FromUserName><![CDATA[oUser123]]></FromUserName>", ""),
        xml("text", ""),  # text without Content
        xml("text", "<Content>hi</Content>").replace(str(NOW), "yesterday"),
        xml("event", "", msg_id=None),  # event without Event
        '<!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><ToUserName>&a;</ToUserName></xml>',
        b"\xff\xfe not utf-8",
        xml("text", "<Content>hi</Content>").replace("<Content>hi", "<Content>hi&#0;"),  # not XML 1.0
        xml("text", "<Content>hi</Content>").replace(str(NOW), str(2**64)),
        xml("text", "<Content>hi</Content>").replace("oUser123", "o" * 129),
        xml("text", "<Content>hi</Content>").replace("oUser123", "oUser\x85123"),  # C1 control: XML allows it
        xml("text", "<Content>hi</Content>", msg_id="60547\x8568"),
        xml("event", "<Event><a>subscribe</a></Event>", msg_id=None),
        "<a>" * 20_000 + "</a>" * 20_000,
    ],
)
def test_malformed_bodies_raise_inbound_error(body: str | bytes) -> None:
    with pytest.raises(InboundError):
        parse_inbound(body)


@pytest.mark.parametrize(
    "body, kind, text",
    [
        (xml("text", "<Content><![CDATA[高才通\x85要咩\x9f條件？]]></Content>"), "text", "高才通要咩條件？"),
        (xml("text", "<Content>&#x85;&#x9f;</Content>"), "unsupported", None),  # nothing readable once cleaned
        (xml("voice", "<Recognition><![CDATA[优才\x85怎么申请]]></Recognition>"), "text", "优才怎么申请"),
        (xml("voice", "<Recognition>&#x85;</Recognition>"), "unsupported", None),
        (xml("event", "<Event>CLICK</Event><EventKey><![CDATA[/ask\x9f_scheme_info]]></EventKey>", msg_id=None),
         "text", "/ask_scheme_info"),
    ],
)
def test_every_text_that_reaches_rasa_is_cleaned(body: str, kind: str, text: Optional[str]) -> None:
    inbound = parse_inbound(body)
    assert (inbound.kind, inbound.text) == (kind, text)


def test_render_reply_swaps_sender_and_receiver() -> None:
    inbound = parse_inbound(xml("text", "<Content>hi</Content>"))
    reply = xmltodict.parse(render_reply(inbound, "你好 <b>&", now=NOW + 1))["xml"]
    assert reply == {
        "ToUserName": "oUser123",
        "FromUserName": "gh_talentwindow",
        "CreateTime": str(NOW + 1),
        "MsgType": "text",
        "Content": "你好 <b>&",
    }


@pytest.mark.parametrize(
    "text",
    ["a]]>b", "]]>]]>", "x]]><MsgType>image</MsgType><![CDATA[", "no\x00nul\ufffe", "]]", "]>"],
)
def test_a_reply_holding_the_end_of_a_cdata_section_stays_one_reply(text: str) -> None:
    """wechatpy inserts the text into <![CDATA[...]]> as is: "]]>" in an answer ended the section early."""
    inbound = parse_inbound(xml("text", "<Content>hi</Content>"))
    reply = xmltodict.parse(render_reply(inbound, text, now=NOW))["xml"]
    assert reply["MsgType"] == "text"
    assert reply["Content"] == text.replace("\x00", "").replace("\ufffe", "")


def test_long_answers_are_split_within_the_byte_limit() -> None:
    sentence = "申請人須在申請前一年內全年收入達港幣二百五十萬元或以上。"
    parts = split_for_limits(sentence * 60)
    assert len(parts) > 1
    assert all(len(p.encode("utf-8")) <= TEXT_LIMIT_BYTES for p in parts)
    assert all(p.endswith("。") for p in parts)  # cut between sentences


def test_custom_text_message_body() -> None:
    assert custom_text_message("oUser123", "hi") == {"touser": "oUser123", "msgtype": "text", "text": {"content": "hi"}}
