"""WeChat Official Account channel (credentials.yml key ``connectors.wechat.WeChatInput``)."""
from connectors.wechat.channel import WeChatInput, WeChatOutput

__all__ = ["WeChatInput", "WeChatOutput"]
