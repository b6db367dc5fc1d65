"""Custom components of manifest.yaml: only what the declarative YAML cannot say.

Airbyte runs a manifest-only connector (its registry image, the Connector Builder) with `manifest.yaml` plus ONE
self-contained `components.py`, registered as `source_declarative_manifest.components`; so that file imports only the
CDK, the standard library and what the `source-declarative-manifest` image ships (requests). No
`from __future__ import annotations`: the CDK exec()s injected code before registering its module, and dataclasses
then cannot resolve string `InitVar`s.

The code lives in the modules of `source_confluence/component_parts/`, one job each, and `python -m
scripts.bundle_components` (`make components`) writes `source_confluence/components.py` from them; nothing imports
these modules at run time. In dependency order:

- common: the logger, deployment kinds, `config_error`, and `ConfluenceTransformation` (the record transformations'
  one signature).
- config: `NormaliseConfluenceConfig` turns `base_url` into the API roots once, maps the legacy config, registers
  derived secrets, and records (not raises) a config problem, which check reports and a read raises.
- stats: `SyncStats` and `SummaryOnSyncEnd` (progress lines, the end-of-sync summary).
- http: `ConfluenceRequester` (timeouts from `request_timeout_seconds`: the schema takes literal numbers only),
  `ConfluenceErrorHandler` (also retries a 2xx whose body is not a JSON object), `RetryAfterCappedBackoff`, and
  `Probe` (GETs outside the CDK's streams, with the same credentials, timeout and retries).
- people: `PeopleDirectory` (display names, looked up in bulk) and `PageTree` (ancestors on Cloud).
- access_rule: Confluence's read-access rule as pure functions (`ReadGrant`, `readers` (the fewest tokens: whole groups
  stay one `group:` token), `restricted_levels`).
- access_fetch: `AccessFetcher`, the HTTP side of access reading (JSON or a recorded problem, v1 lists to their end,
  the people met on the way).
- restriction_lists: restriction answers read to their end (past 200 names; a CQL batch refused for a trashed
  ancestor read page by page).
- containers: Cloud's folders, whiteboards, databases and embeds, each read once per sync (title, parent), shared by
  the access path and the breadcrumbs.
- tree_reconcile: Cloud's v1 ancestors reconciled with REST v2 parents; containers become levels of the access path.
- dc_permissions: Data Center space permissions by the first route that answers (at most 3 requests a space).
- access_reader: `AccessReader` reads restrictions, space permissions and group members (and Cloud labels) in bulk.
- access_fields: `SHARED_ACCESS` (the read's one reader) and `PageAccessFields`, which adds a page's `restricted` and
  `readers` (Confluence's rule, fail closed).
- memberships: the `memberships` stream (`MembershipsRetriever`, `SpacesInOneSlice`): each person the tokens concern
  with their groups.
- records: `ConfluenceResultsExtractor`, `MaxPagesFilter` (also `restricted_pages: exclude`), `PageRecordShaper` (REST
  v2 or v1, named by the manifest).
- content: comments, attachments and labels (`CommentRecordShaper`, `AttachmentRecordShaper`, `LabelsFromApi`,
  `LabelScopeFilter`).
- check: `DiagnoseConnection`, the partition router of the check-only stream: one sentence naming the cause, and
  `access_check_warning`.
"""
