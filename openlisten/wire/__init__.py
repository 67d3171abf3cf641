"""Deepgram's wire shapes: the pydantic bodies of ``/v1`` and the rendering of transcripts into them.

`listen` holds the prerecorded response and request bodies, `live` the WebSocket messages, `keys` the
management bodies; `render` and `render_live` turn transcript records and live events into them. The
embedded API and the CLI use these without the HTTP layer.
"""
