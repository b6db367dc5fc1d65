"""Answering a question: filters and access -> vector and full-text candidates -> fusion -> grouping -> answers."""
