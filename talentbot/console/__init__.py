"""The staff console: its web app and JSON API (aiohttp), and its client of the Rasa HTTP API."""
