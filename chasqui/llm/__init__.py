"""The LLM teacher: an OpenAI-compatible model that decides (and labels) when the intent model is unsure."""
