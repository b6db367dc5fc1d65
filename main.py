"""Run the Confluence source like any Airbyte source: `python main.py spec|check|discover|read ...`."""

from source_confluence.run import run

if __name__ == "__main__":
    run()
