"""WeChat API client over httpx: access token (cached in the state store), customer-service messages, user locale."""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Optional

import httpx

from connectors.state import StateStore
from connectors.wechat.protocol import custom_text_message
from connectors.window import ServiceWindowClosed
from talentbot.core.observability.logs import pseudonym

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"
"""Production API; ``WECHAT_API_BASE_URL`` points elsewhere (a local fake in tests, a proxy in staging)."""

TOKEN_REFRESH_MARGIN_S = 300
"""An access token lives ``expires_in`` seconds (7200); we refresh it this long before, so no call uses a token
that expires in flight. Source: 获取Access token, https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html"""

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
"""errcodes meaning the token is invalid or expired: fetch a new one and retry once."""

WINDOW_ERRORS = frozenset({45015, 45047})
"""45015: reply time limit exceeded (48 h window); 45047: too many customer-service messages for one user
message. Either way the message cannot be delivered now."""

BUSY_ERRORS = frozenset({-1})
"""-1: "system busy, try again later" (全局返回码)."""

USER_INFO_TIMEOUT_S = 1.0
"""The locale lookup on subscribe runs inside WeChat's 5 s window: give up quickly and greet bilingually."""


class WeChatAPIError(RuntimeError):
    """A non-zero errcode from the API."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def transient(error: BaseException) -> bool:
    """Whether a WeChat API error means "not now" (unreachable, timed out, a 5xx, "system busy"), so the message
    should come again; other errcodes (a closed customer-service window, a bad openid) would be refused again."""
    if isinstance(error, httpx.TransportError):
        return True
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code >= 500 or error.response.status_code == 429
    return isinstance(error, WeChatAPIError) and error.errcode in BUSY_ERRORS


class WeChatClient:
    """The few API calls the connector makes. The httpx client is passed in (tests use a fake server)."""

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        http: httpx.AsyncClient,
        state: StateStore,
        base_url: str = DEFAULT_API_BASE_URL,
    ) -> None:
        self._app_id = app_id
        self._app_secret = app_secret
        self._http = http
        self._state = state
        self._base_url = base_url.rstrip("/")
        self._token_lock = asyncio.Lock()

    @property
    def _token_key(self) -> str:
        return f"wechat:token:{self._app_id}"

    async def access_token(self, refresh: bool = False) -> str:
        """The cached token, or a new one from ``GET /cgi-bin/token`` (shared by all processes via the store)."""
        async with self._token_lock:
            if not refresh:
                cached = await self._state.get(self._token_key)
                if cached:
                    return cached
            response = await self._http.get(
                f"{self._base_url}/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self._app_id, "secret": self._app_secret},
            )
            data = self._checked(response)
            token, expires_in = str(data["access_token"]), int(data.get("expires_in", 7200))
            await self._state.put(self._token_key, token, ttl_s=max(expires_in - TOKEN_REFRESH_MARGIN_S, 1))
            return token

    @staticmethod
    def _checked(response: httpx.Response) -> dict[str, Any]:
        response.raise_for_status()
        data = response.json()
        errcode = int(data.get("errcode", 0) or 0)
        if errcode:
            if errcode in WINDOW_ERRORS:
                raise ServiceWindowClosed(f"WeChat API error {errcode}: {data.get('errmsg', '')}")
            raise WeChatAPIError(errcode, str(data.get("errmsg", "")))
        return data

    async def _call(self, method: str, path: str, body: Optional[dict] = None, params: Optional[dict] = None) -> dict:
        """One API call with the access token; a rejected token is refreshed and the call retried once."""
        for attempt in (1, 2):
            token = await self.access_token(refresh=attempt == 2)
            query = {"access_token": token, **(params or {})}
            # ensure_ascii=False: WeChat shows \\uXXXX escapes literally instead of decoding them.
            content = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
            response = await self._http.request(
                method,
                f"{self._base_url}{path}",
                params=query,
                content=content,
                headers={"Content-Type": "application/json; charset=utf-8"} if content else None,
            )
            try:
                return self._checked(response)
            except WeChatAPIError as error:
                if error.errcode in TOKEN_ERRORS and attempt == 1:
                    logger.info("WeChat rejected the access token (%s); refreshing", error.errcode)
                    continue
                raise
        raise AssertionError("unreachable")

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message (``POST /cgi-bin/message/custom/send``)."""
        await self._call("POST", "/cgi-bin/message/custom/send", body=custom_text_message(openid, text))

    async def user_locale(self, openid: str) -> Optional[str]:
        """The user's WeChat language (``zh_CN``, ``zh_TW``, ``en``) from ``GET /cgi-bin/user/info``, or None
        when WeChat does not tell or does not answer in time. Whether WeChat still fills ``language`` for every
        account is UNVERIFIED; a missing value simply means a bilingual greeting."""
        try:
            data = await asyncio.wait_for(
                self._call("GET", "/cgi-bin/user/info", params={"openid": openid, "lang": "en"}),
                timeout=USER_INFO_TIMEOUT_S,
            )
        except (asyncio.TimeoutError, httpx.HTTPError, WeChatAPIError, ServiceWindowClosed, ValueError) as error:
            logger.info("WeChat user locale unknown for %s: %s", pseudonym(openid), error)
            return None
        language = data.get("language")
        return language if isinstance(language, str) and language else None
