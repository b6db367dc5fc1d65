"""A real S3-compatible server on loopback for tests: moto's server mode, in a subprocess, with credentials checked.

    with s3_server(tmp_path) as s3:
        s3.object_storage  # the destination's `object_storage` config block (endpoint, region, keys)
        s3.uri("confluence")  # "s3://<bucket>/confluence"
        s3.keys("confluence/")  # object keys under a prefix

The server starts with IAM authentication on (moto's `INITIAL_NO_AUTH_ACTION_COUNT`): the first requests create a
user, its policy and its access key without authentication; every request after that must be signed with that key,
so a wrong secret is refused (403) as a real store would, and a passing test proves the credentials reached it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REGION = "us-east-1"
_BOOTSTRAP_ACTIONS = 3  # create_user, put_user_policy, create_access_key: all later requests are authenticated
_READY = re.compile(r"Running on (http://127\.0\.0\.1:\d+)")
_ALLOW_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str
    access_key_id: str
    secret_access_key: str
    region: str = REGION

    @property
    def object_storage(self) -> dict[str, str]:
        """The destination config's `object_storage` block for this server."""
        return {
            "endpoint": self.endpoint,
            "region": self.region,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
        }

    def uri(self, prefix: str) -> str:
        return f"s3://{self.bucket}/{prefix}"

    def client(self) -> Any:
        return _client("s3", self.endpoint, self.access_key_id, self.secret_access_key)

    def keys(self, prefix: str = "") -> list[str]:
        """Every object key under `prefix`, sorted."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def copy_prefix(self, source: str, target: str) -> int:
        """Copies every object under `source/` to `target/` (a LanceDB folder is relocatable); returns the count."""
        client, keys = self.client(), self.keys(f"{source}/")
        for key in keys:
            client.copy_object(
                Bucket=self.bucket, Key=target + key[len(source) :], CopySource={"Bucket": self.bucket, "Key": key}
            )
        return len(keys)


def _client(service: str, endpoint: str, key_id: str, secret: str) -> Any:
    import boto3  # comes with moto[server]

    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key_id, aws_secret_access_key=secret
    )


@contextmanager
def s3_server(workdir: Path, bucket: str = "vectors-test", timeout: float = 60.0) -> Iterator[S3Server]:
    """Starts `python -m moto.server` on a free loopback port, creates a user with S3 rights and `bucket`, yields the
    server, and stops it (SIGTERM, then SIGKILL) however the block ends. Its log is `workdir/moto-server.log`."""
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "moto-server.log"
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(_BOOTSTRAP_ACTIONS)}
    with open(log_path, "wb") as log:
        # Port 0: the kernel picks a free port and werkzeug prints it, so there is no race for a guessed port.
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    try:
        endpoint = _wait_for_endpoint(process, log_path, timeout)
        yield _bootstrap(endpoint, bucket)
    finally:
        _stop(process)


def _wait_for_endpoint(process: subprocess.Popen, log_path: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = _READY.search(log_path.read_text("utf-8", "replace"))
        if match:
            return match.group(1)  # werkzeug prints this once the socket listens
        if process.poll() is not None:
            break
        time.sleep(0.05)
    log = log_path.read_text("utf-8", "replace")[-3000:]
    state = f"exited with {process.returncode}" if process.poll() is not None else f"not ready after {timeout:.0f} s"
    raise RuntimeError(f"the moto S3 server {state}; its log ends:\n{log}")


def _bootstrap(endpoint: str, bucket: str) -> S3Server:
    iam = _client("iam", endpoint, "bootstrap", "bootstrap")
    iam.create_user(UserName="vectors-writer")
    iam.put_user_policy(UserName="vectors-writer", PolicyName="s3-all", PolicyDocument=json.dumps(_ALLOW_S3))
    key = iam.create_access_key(UserName="vectors-writer")["AccessKey"]
    server = S3Server(endpoint, bucket, key["AccessKeyId"], key["SecretAccessKey"])
    server.client().create_bucket(Bucket=bucket)  # signed with the new key: authentication is on from here
    return server


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
