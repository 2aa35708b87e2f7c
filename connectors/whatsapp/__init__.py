"""WhatsApp Cloud API channel (credentials.yml key ``connectors.whatsapp.WhatsAppInput``)."""
from connectors.whatsapp.channel import WhatsAppInput, WhatsAppOutput

__all__ = ["WhatsAppInput", "WhatsAppOutput"]
