"""Peer benchmark: this project's source beside Airbyte's published source-confluence and LangChain's ConfluenceLoader.

Run `python -m bench.peers [--pages 2000]`; see `__main__.py` for what is measured and why it is fair.
"""
