"""Property: over random page trees, restrictions, groups, memberships and space permissions, searching a real
LanceDB table as a person returns exactly the pages an independent oracle (written from Confluence's rule, not from
the code under test) says that person may read. At least 10,000 (user, page) pairs, zero disagreements.

Worlds hold Cloud folders (restricted and not) among their pages, with v1 `ancestors` that list them or leave them
out: the source's tree is rebuilt from v1 and v2 parents by `reconcile`, the oracle walks the true tree.

Pipeline under test: `source_confluence.components` (the source's tree reconciliation and `readers`) -> a LanceDB `readers` column ->
`destination_vectors.read.access.readable_filter` as a prefilter of a vector search asking for every row, both Lance's
query and the in-memory flat search (`destination_vectors.store.flat`, which search uses below vector_index.min_rows)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field

import lancedb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from destination_vectors.config import DestinationConfig
from destination_vectors.read.access import Principal, readable_filter
from destination_vectors.store.flat import FlatVectors
from source_confluence.components import ReadGrant, TreeContainer, readers, reconcile, restricted_levels

MIN_PAIRS = 10_000
MAX_SEARCHERS = 200  # people searched as per example of the whole-destination test (one search each)
MAX_SEARCHERS_PER_WORLD = 30  # the same for the rule test (160 worlds): the ordinary users and a spread of any crowd


@dataclass(frozen=True)
class World:
    users: list[str]
    groups: dict[str, frozenset[str]]  # group -> members
    space_of: dict[str, str]  # page -> space
    parent: dict[str, str | None]
    restriction: dict[str, tuple[frozenset[str], frozenset[str]]]  # page -> (users, groups); absent = none
    space_grant: dict[str, tuple[frozenset[str], frozenset[str], bool]]  # space -> (users, groups, anonymous)
    folders: set[str] = field(default_factory=set)  # nodes of `parent` that are Cloud folders, not pages
    v1_leaves_out: set[str] = field(default_factory=set)  # folders the v1 `ancestors` leave out (one real site's way)

    @property
    def pages(self) -> list[str]:
        return [node for node in self.parent if node not in self.folders]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    users = [f"acct-{n}" for n in range(draw(st.integers(1, 10)))]
    group_names = [f"g{n}" for n in range(draw(st.integers(0, 4)))]
    groups = {g: frozenset(draw(st.sets(st.sampled_from(users)))) for g in group_names}
    # sometimes a crowd: a group of hundreds or thousands (the company), and restrictions naming past 200 of them
    crowd = [f"crowd-{n}" for n in range(draw(st.sampled_from([0, 0, 0, 240, 1500, 3000])))]
    if crowd:
        groups["company"] = frozenset(crowd[: draw(st.integers(1, len(crowd)))]) | frozenset(
            draw(st.sets(st.sampled_from(users)))
        )
        group_names.append("company")
    principals_users = st.frozensets(st.sampled_from(users), max_size=3)
    if crowd:  # a named list past an expansion's 200: a slice of the crowd, with a few ordinary users
        long_lists = st.builds(
            lambda start, size, few: frozenset(crowd[start : start + size]) | few,
            st.integers(0, len(crowd) - 1),
            st.integers(1, 260),
            principals_users,
        )
        principals_users = st.one_of(principals_users, long_lists)
    principals_groups = st.frozensets(st.sampled_from(group_names), max_size=2) if group_names else st.just(frozenset())
    spaces = [f"S{n}" for n in range(draw(st.integers(1, 3)))]
    space_grant = {s: (draw(principals_users), draw(principals_groups), draw(st.booleans())) for s in spaces}
    n_pages = draw(st.integers(1, 40))
    parent: dict[str, str | None] = {}
    space_of: dict[str, str] = {}
    restriction: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    folders: set[str] = set()
    for n in range(n_pages):
        page = str(1000 + n)
        same_space_earlier = [p for p in parent if space_of[p] == spaces[n % len(spaces)]]
        parent[page] = draw(st.sampled_from([None, *same_space_earlier])) if same_space_earlier else None
        space_of[page] = spaces[n % len(spaces)]
        if n < n_pages - 1 and draw(st.integers(0, 4)) == 0:  # about a fifth are folders (the last node a page)
            folders.add(page)
        if draw(st.integers(0, 3)) == 0:  # about a quarter of the nodes carry a restriction (maybe naming nobody)
            restriction[page] = (draw(principals_users), draw(principals_groups))
    v1_leaves_out = set(folders) if draw(st.booleans()) else set()  # v1 ancestors list folders, or leave them out
    return World(users + crowd, groups, space_of, parent, restriction, space_grant, folders, v1_leaves_out)


def oracle_groups(world: World, user: str) -> frozenset[str]:
    """The groups a person belongs to, as the site's directory says (what a destination resolves at search time)."""
    return frozenset(g for g, members in world.groups.items() if user in members)


def oracle_may_read(world: World, user: str, page: str, extra_groups: frozenset[str] = frozenset()) -> bool:
    """Confluence's rule, read literally: view the space, and be named at every restricted level up to the root."""
    mine = oracle_groups(world, user) | extra_groups
    users, groups, anonymous = world.space_grant[world.space_of[page]]
    if not (anonymous or user in users or mine & groups):
        return False
    node: str | None = page
    while node is not None:
        if node in world.restriction:
            named_users, named_groups = world.restriction[node]
            if (named_users or named_groups) and not (user in named_users or mine & named_groups):
                return False
        node = world.parent[node]
    return True


def source_tree(world: World) -> tuple[dict[str, str | None], dict[str, ReadGrant]]:
    """The tree and restrictions as the source builds them on Cloud: pages' v1 parents (folders left out where the
    world's v1 leaves them out), their v2 parents and parent types, reconciled with each folder read on demand."""
    grants = {
        n: ReadGrant(frozenset(u), frozenset(g)) for n, (u, g) in world.restriction.items() if n not in world.folders
    }

    def kind(node: str | None) -> str:
        return "folder" if node in world.folders else "page"

    def v1_parent(node: str) -> str | None:
        above = world.parent[node]
        while above in world.v1_leaves_out:
            above = world.parent[above]
        return above

    def read(_: str, folder: str) -> TreeContainer:
        return TreeContainer(folder, "folder", f"Folder {folder}", world.parent[folder], kind(world.parent[folder]))

    def restriction(folder: str) -> None:
        users, groups = world.restriction.get(folder, (frozenset(), frozenset()))
        grants[folder] = ReadGrant(frozenset(users), frozenset(groups))

    parent_of = {page: v1_parent(page) for page in world.pages}
    v2 = {page: (world.parent[page], kind(world.parent[page])) for page in world.pages}
    warnings = reconcile(parent_of, v2, "S", read, restriction)
    assert not warnings, f"every folder could be read, v1 and v2 agree: {warnings}"
    return parent_of, grants


def index_rows(world: World) -> pa.Table:
    """What the source computes per page (its `readers`), as rows of a vector table."""
    parent_of, grants = source_tree(world)
    rows = []
    for page in world.pages:
        users, groups, anonymous = world.space_grant[world.space_of[page]]
        levels = restricted_levels(page, parent_of, grants)
        tokens = readers(ReadGrant(users, groups, anonymous), levels, world.groups)
        rows.append({"page_id": page, "vector": [1.0, 0.0], "readers": tokens})
    schema = pa.schema(
        [("page_id", pa.string()), ("vector", pa.list_(pa.float32(), 2)), ("readers", pa.list_(pa.string()))]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def search_as(table: lancedb.table.Table, principal: Principal, k: int) -> set[str]:
    hits = (
        table.search([1.0, 0.0])
        .where(readable_filter(principal), prefilter=True)
        .select(["page_id", "_distance"])
        .limit(k)
        .to_list()
    )
    return {hit["page_id"] for hit in hits}


def flat_search_as(flat: FlatVectors, principal: Principal, k: int) -> set[str]:
    return {row["page_id"] for row in flat.rows(["page_id"], [1.0, 0.0], k, readable_filter(principal))}


def test_search_as_a_person_agrees_with_the_oracle_on_every_pair() -> None:
    pairs: list[int] = []
    with tempfile.TemporaryDirectory() as folder:
        db = lancedb.connect(folder)

        @settings(max_examples=160, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        @given(worlds(), st.data())
        def check(world: World, data: st.DataObject) -> None:
            table = db.create_table("pages", index_rows(world), mode="overwrite")
            flat = FlatVectors(table.to_lance())
            k = max(1, len(world.pages))
            disagreements = []
            ordinary = [u for u in world.users if not u.startswith("crowd-")]
            crowd = [u for u in world.users if u.startswith("crowd-")]
            spread = crowd[:: max(1, len(crowd) // MAX_SEARCHERS_PER_WORLD)]  # a crowd of thousands: some of them
            for user in [*ordinary, *spread, "acct-never-seen"]:
                principal = Principal(account_id=user, groups=tuple(sorted(oracle_groups(world, user))))
                got = search_as(table, principal, k)
                in_memory = flat_search_as(flat, principal, k)
                assert in_memory == got, f"in-memory flat search and Lance disagree for {user}: {in_memory ^ got}"
                want = {page for page in world.pages if oracle_may_read(world, user, page)}
                disagreements += [(user, page, page in got) for page in got ^ want]
                pairs.append(len(world.pages))
            assert not disagreements, (
                f"search and oracle disagree on (user, page, search says readable): {disagreements}"
            )
            if world.groups:  # a group named at search time only ever narrows: never more than the oracle allows
                user = data.draw(st.sampled_from(world.users[:MAX_SEARCHERS]))
                extra = data.draw(st.sampled_from(sorted(world.groups)))
                widened = Principal(account_id=user, groups=tuple(sorted(oracle_groups(world, user) | {extra})))
                got = search_as(table, widened, k)
                assert flat_search_as(flat, widened, k) == got, "in-memory differs"
                allowed = {p for p in world.pages if oracle_may_read(world, user, p, frozenset({extra}))}
                assert got <= allowed, f"--group {extra} let {user} read {sorted(got - allowed)} beyond the rule"

        check()
    assert sum(pairs) >= MIN_PAIRS, f"only {sum(pairs)} (user, page) pairs were checked, fewer than {MIN_PAIRS}"


def merged(worlds_: list[World]) -> World:
    """Several worlds as one site (names prefixed per world): everyone of one world is a stranger to the others, so
    one sync and one search per person check every person against every page of every world. A field added to World
    (folders, ...) is renamed here like the others."""

    def name(i: int, value: str) -> str:
        return f"w{i}-{value}"

    def names(i: int, values: frozenset[str]) -> frozenset[str]:
        return frozenset(name(i, v) for v in values)

    site = World([], {}, {}, {}, {}, {})
    for i, world in enumerate(worlds_):
        site.users.extend(name(i, user) for user in world.users)
        site.groups.update({name(i, g): names(i, members) for g, members in world.groups.items()})
        site.space_of.update({name(i, p): name(i, s) for p, s in world.space_of.items()})
        site.parent.update({name(i, p): name(i, q) if q is not None else None for p, q in world.parent.items()})
        site.restriction.update({name(i, p): (names(i, u), names(i, g)) for p, (u, g) in world.restriction.items()})
        site.space_grant.update(
            {name(i, s): (names(i, u), names(i, g), a) for s, (u, g, a) in world.space_grant.items()}
        )
        site.folders.update(names(i, frozenset(world.folders)))
        site.v1_leaves_out.update(names(i, frozenset(world.v1_leaves_out)))
    return site


def page_records(world: World, prefix: str) -> list[dict]:
    """The source's `pages` records for the world (its `readers`, ids as the deployment spells them)."""
    from testkit.messages import page

    return [
        page(
            row["page_id"],
            f"Page {row['page_id']}",
            "<p>shared words</p>",
            space=world.space_of[row["page_id"]],
            readers=[_spelt(token, prefix) for token in row["readers"]],
        )
        for row in index_rows(world).to_pylist()
    ]


def membership_records(world: World, prefix: str) -> list[dict]:
    """The source's `memberships` records: every user with the groups the world puts them in."""
    return [
        {"user_id": prefix + user, "groups": sorted(g for g, members in world.groups.items() if user in members)}
        for user in world.users
    ]


def _spelt(token: str, prefix: str) -> str:
    return f"user:{prefix}{token.removeprefix('user:')}" if token.startswith("user:") else token


@pytest.mark.parametrize("deployment, prefix", [("cloud", "5b10ac8d82e05b22cc7d4ef5:"), ("data_center", "ff80818")])
def test_search_as_user_alone_through_the_destination_agrees_with_the_oracle(deployment: str, prefix: str) -> None:
    """The whole destination: pages and memberships written by a real sync (DestinationVectors.write, LanceDB), then
    `Searcher.search(principal=Principal(account_id=...))` with no groups given: the destination resolves them."""
    from destination_vectors.destination import DestinationVectors
    from destination_vectors.read.search import Searcher
    from testkit.indexes import HASH_MODEL
    from testkit.messages import catalog, record, state

    pairs: list[int] = []
    with tempfile.TemporaryDirectory() as folder:
        # every example replaces the whole site: the mass-deletion guard is for real syncs, not for this
        config = {
            "lancedb_uri": f"{folder}/lancedb",
            "embedding": {"model": HASH_MODEL},
            "mass_deletion": {"allow_always": True},
        }

        @settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        @given(st.lists(worlds(), min_size=4, max_size=4))
        def check(worlds_: list[World]) -> None:
            world = merged(worlds_)
            messages = [record(p) for p in page_records(world, prefix)]
            messages += [record(m, "memberships") for m in membership_records(world, prefix)]
            messages += [state("pages"), state("memberships")]
            list(DestinationVectors().write(config, catalog(["pages", "memberships"]), iter(messages)))
            searcher = Searcher.from_config(DestinationConfig.model_validate(config))
            k = max(1, len(world.pages))
            disagreements = []
            step = max(1, len(world.users) // MAX_SEARCHERS)  # groups in the thousands: a spread of their members
            for user in [*world.users[::step], "acct-never-seen"]:
                principal = Principal(account_id=prefix + user)  # no groups: the destination resolves them
                got = {hit.page_id for hit in searcher.search("shared words", k=k, mode="vector", principal=principal)}
                want = {page for page in world.pages if oracle_may_read(world, user, page)}
                disagreements += [(user, page, page in got) for page in got ^ want]
                pairs.append(k)
            assert not disagreements, f"{deployment}: search --as-user and the oracle disagree: {disagreements}"

        check()
    assert sum(pairs) >= MIN_PAIRS, f"only {sum(pairs)} (user, page) pairs were checked, fewer than {MIN_PAIRS}"
