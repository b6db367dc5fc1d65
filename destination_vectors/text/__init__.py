"""Text: Confluence storage XHTML and attachment bytes -> structured text -> chunks that fit the model."""
