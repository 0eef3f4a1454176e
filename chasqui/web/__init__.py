"""The web application: panel, REST API and WhatsApp webhook."""
