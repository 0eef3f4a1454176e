"""WhatsApp Cloud API: webhook signatures, typed payloads and the Graph API client."""
