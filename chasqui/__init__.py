"""Chasqui: WhatsApp sales assistant."""
