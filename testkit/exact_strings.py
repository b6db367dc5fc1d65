"""A wiki of near twins: pages that differ by one character of an identifier, or by the order of a phrase's words.

For the exact-string questions of `bench/search_quality.py` and the search tests. Each family has one page holding
the exact token (or phrase) and distractor pages written the same way around a token with one character changed or
its parts in another order, so neither the embedding nor word-by-word full text can tell them apart; only the whole
token (or the phrase) can. Records have the source's `pages` shape (testkit/records.py).
"""

from __future__ import annotations

from dataclasses import dataclass

BASE = "http://127.0.0.1:8090/wiki"
SPACE = ("EXACT", "9900", "Exact strings")
FIRST_ID = 990000


@dataclass(frozen=True)
class Family:
    kind: str  # error code, ticket key, version, host, config key, file name, camelCase, path, ...
    token: str  # the exact string the answer holds
    distractors: tuple[str, ...]  # one character changed, parts in another order
    sentence: str  # every page of the family says this, with {} the token
    questions: tuple[str, ...]  # queries ({} the token); the answer is the page holding `token`


FAMILIES: tuple[Family, ...] = (
    Family(
        "error code",
        "ERR_CONN_RESET",
        ("ERR_CONN_RESEN", "ERR_CONM_RESET", "ERR_RESET_CONN"),
        "The checkout client logs {} when the payment gateway drops the connection during the handshake; retry "
        "after the pool is drained and check the proxy idle timeout.",
        ("{}", "what does {} mean in the checkout client"),
    ),
    Family(
        "error code",
        "E-2217",
        ("E-2218", "E-2271", "E-1217"),
        "The importer stops with error {} when a row references a customer that was merged away; rerun the import "
        "after the merge job finished.",
        ("{}", "importer error {}"),
    ),
    Family(
        "error code",
        "ORA-00942",
        ("ORA-00943", "ORA-00924"),
        "Reports fail with {} after the schema migration when the reporting user lacks the grant on the new view.",
        ("{} after migration",),
    ),
    Family(
        "ticket key",
        "OPS-311",
        ("OPS-312", "OPS-811", "OSP-311"),
        "Incident follow-up {}: the disk of the build agents filled up with cached docker layers overnight.",
        ("{}", "what happened in {}"),
    ),
    Family(
        "ticket key",
        "KB-4471",
        ("KB-4417", "KB-4477"),
        "Known issue {}: the desktop client shows an empty sidebar after the upgrade until the cache is cleared.",
        ("{} empty sidebar",),
    ),
    Family(
        "version",
        "4.0.12",
        ("4.0.21", "4.0.13", "4.12.0", "4.1.12"),
        "Release {} of the agent changes the default log level and fixes the memory leak in the metrics exporter.",
        ("{}", "what changed in agent {}"),
    ),
    Family(
        "version",
        "2.3.1-rc4",
        ("2.3.1-rc5", "2.3.4-rc1"),
        "The mobile build {} is the candidate the QA team signs off before the store submission.",
        ("{}",),
    ),
    Family(
        "host name",
        "db-01.prod.example.com",
        ("db-02.prod.example.com", "db-01.stage.example.com", "prod-01.db.example.com"),
        "The primary database runs on {}; connect through the bastion and never run migrations by hand there.",
        ("{}", "who runs on {}"),
    ),
    Family(
        "config key",
        "request_timeout_seconds",
        ("request_timeout_second", "response_timeout_seconds", "timeout_request_seconds"),
        "Set {} in the service configuration to bound how long the gateway waits for an upstream answer.",
        ("{}", "how do I set {}"),
    ),
    Family(
        "config key",
        "max_pool_size",
        ("max_pool_sizes", "pool_max_size"),
        "Raise {} in the connection settings when the workers wait for database connections at peak load.",
        ("{}",),
    ),
    Family(
        "file name",
        "deploy_canary.sh",
        ("deploy_canary.py", "deploy-canary.sh", "canary_deploy.sh"),
        "The release job runs {} from the tools folder to send five percent of the traffic to the new version.",
        ("{}", "where is {}"),
    ),
    Family(
        "file name",
        "src/payments/retry_policy.yaml",
        ("src/payments/retry_policy.yml", "src/payment/retry_policy.yaml", "src/retry_policy/payments.yaml"),
        "The retry rules for card payments live in {}; change them only with a review by the payments team.",
        ("{}",),
    ),
    Family(
        "camelCase",
        "getUserById",
        ("getUsersById", "getUserByIds", "getByIdUser"),
        "The profile service exposes {} to the other services; it reads from the replica and caches for a minute.",
        ("{}", "which service exposes {}"),
    ),
    Family(
        "camelCase",
        "retryWithBackoff",
        ("retryWithBackoffs", "backoffWithRetry"),
        "Wrap outgoing calls in {} so that a flaky dependency does not turn into a storm of requests.",
        ("{}",),
    ),
    Family(
        "path",
        "billing::invoice::render",
        ("billing::invoices::render", "billing::render::invoice"),
        "The PDF of an invoice is produced by {}, which takes the customer's locale into account.",
        ("{}",),
    ),
    Family(
        "identifier",
        "CVE-2024-3094",
        ("CVE-2024-3049", "CVE-2023-3094"),
        "Security advisory for {}: the base images were rebuilt and every service was redeployed the same day.",
        ("{}",),
    ),
    Family(
        "numbered comment",
        "narwhal-comment-3",
        tuple(f"narwhal-comment-{n}" for n in (1, 2, 4, 13, 23, 27, 29, 30, 31, 33)),
        "Review note {} on the narwhal migration plan: the cut-over checklist needs an owner for each step.",
        ("{}",),
    ),
)


@dataclass(frozen=True)
class PhraseFamily:
    phrase: str  # held word for word by the answer
    reorderings: tuple[str, ...]  # the same words in another order: the distractors
    frame: str  # every page says this, with {} the phrase or a reordering


PHRASES: tuple[PhraseFamily, ...] = (
    PhraseFamily(
        "the cache is warmed before traffic shifts",
        ("traffic shifts before the cache is warmed",),
        "During a region failover {}, and the on-call engineer watches the error budget.",
    ),
    PhraseFamily(
        "rotate the keys before the audit",
        ("audit the keys before the rotate", "before the audit rotate the keys"),
        "Security reminder: {} and note every exception in the register.",
    ),
    PhraseFamily(
        "no deploys on Friday afternoon",
        ("Friday afternoon no deploys", "no Friday deploys on afternoon"),
        "Team agreement: {} unless the incident commander approves a fix.",
    ),
    PhraseFamily(
        "the backup runs after the batch jobs",
        ("the batch jobs run after the backup",),
        "Nightly schedule: {}, so a restore always contains the day's settlements.",
    ),
    PhraseFamily(
        "customers see the old price until midnight",
        ("until midnight customers see the old price", "customers see the price until old midnight"),
        "Price change rule: {} in their time zone, then the new list applies.",
    ),
    PhraseFamily(
        "escalate to the duty manager",
        ("the duty manager escalates to", "duty escalate to the manager"),
        "If the vendor does not answer within an hour, {} and open a bridge call.",
    ),
    PhraseFamily(
        "read replicas lag behind the primary",
        ("the primary lags behind read replicas",),
        "Known behaviour: {} by a few seconds during the nightly vacuum.",
    ),
    PhraseFamily(
        "merge only green builds",
        ("only merge green builds", "green builds merge only"),
        "Repository rule: {}, and squash the commits of a feature branch.",
    ),
    PhraseFamily(
        "tokens expire after fifteen minutes",
        ("fifteen minutes after tokens expire",),
        "Session policy: {} of inactivity and the client must sign in again.",
    ),
    PhraseFamily(
        "the invoice is sent before the goods ship",
        ("the goods ship before the invoice is sent",),
        "Order flow for wholesale customers: {} and payment is due in thirty days.",
    ),
)


def _page(page_id: int, title: str, body: str) -> dict:
    key, space_id, name = SPACE
    webui = f"/spaces/{key}/pages/{page_id}"
    return {
        "id": str(page_id),
        "title": title,
        "status": "current",
        "space_id": space_id,
        "space_key": key,
        "space_name": name,
        "space_type": "global",
        "visibility": "public",
        "parent_id": None,
        "ancestors": [],
        "author_id": "u-exact",
        "created_at": "2026-01-05T10:00:00Z",
        "updated_at": "2026-01-05T10:00:00Z",
        "version": 1,
        "body_storage": body,
        "webui": webui,
        "webui_url": BASE + webui,
    }


def exact_site() -> tuple[list[dict], list[dict]]:
    """(page records, labelled questions): questions of type `exact_id` (an identifier-like token, alone or in a
    sentence) and `phrase` (a quoted phrase), each naming the one page that holds the exact string."""
    records: list[dict] = []
    questions: list[dict] = []
    next_id = FIRST_ID
    for number, family in enumerate(FAMILIES, start=1):
        for position, token in enumerate((family.token, *family.distractors)):
            title = f"{family.kind.capitalize()} notes {number}.{position + 1}"
            body = f"<p>{family.sentence.format(token)}</p><p>Filed under {family.kind} references.</p>"
            records.append(_page(next_id, title, body))
            if position == 0:
                answer = str(next_id)
            next_id += 1
        for index, question in enumerate(family.questions, start=1):
            questions.append(
                {
                    "id": f"exact-{number:02d}-{index}",
                    "type": "exact_id",
                    "kind": family.kind,
                    "query": question.format(family.token),
                    "relevant": [answer],
                }
            )
    for number, family in enumerate(PHRASES, start=1):
        for position, words in enumerate((family.phrase, *family.reorderings)):
            records.append(_page(next_id, f"Team rule {number}.{position + 1}", f"<p>{family.frame.format(words)}</p>"))
            if position == 0:
                answer = str(next_id)
            next_id += 1
        questions.append(
            {
                "id": f"phrase-{number:02d}",
                "type": "phrase",
                "kind": "phrase",
                "query": f'"{family.phrase}"',
                "relevant": [answer],
            }
        )
    return records, questions
