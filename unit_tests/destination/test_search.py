from destination_vectors.search import visibility_filter


def test_public_filter_is_exact_and_spaces_are_quoted():
    assert visibility_filter("public") == "visibility = 'public'"
    assert visibility_filter("all") is None
    assert visibility_filter("internal", ["ENG", "x'y"]) == "visibility = 'internal' AND space_key IN ('ENG', 'x''y')"
