"""How to reach an s3:// index: the config block (part of the spec) and its LanceDB storage options."""

from __future__ import annotations

from pydantic import ConfigDict, Field, SecretStr, model_validator

from destination_vectors.spec_order import SpecModel


class ObjectStorageConfig(SpecModel):
    """Where and how to reach an S3 or S3-compatible store (MinIO, Ceph, R2, moto...) for an s3:// lancedb_uri.

    Every field is optional: unset, LanceDB falls back to the usual AWS environment variables and instance roles.
    The secrets are SecretStr (masked in repr and errors) and airbyte_secret (masked by Airbyte and the CDK's log
    filter); they leave this object only as the storage options handed to LanceDB.
    """

    model_config = ConfigDict(extra="forbid", title="Object storage (S3 and S3-compatible)")

    endpoint: str | None = Field(
        None,
        title="Endpoint",
        description="The store's URL for S3-compatible stores (MinIO, R2, Ceph...); unset for AWS S3. An http:// "
        "endpoint allows plain HTTP; use https:// anywhere but a trusted local network.",
        examples=["https://minio.example.internal:9000", "https://<account>.r2.cloudflarestorage.com"],
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
    )
    region: str | None = Field(
        None,
        title="Region",
        description="The bucket's region (most S3-compatible stores want one: us-east-1 for MinIO, auto for R2).",
        examples=["us-east-1", "auto"],
    )
    access_key_id: str | None = Field(None, title="Access key ID")
    secret_access_key: SecretStr | None = Field(
        None, title="Secret access key", json_schema_extra={"airbyte_secret": True}
    )
    session_token: SecretStr | None = Field(
        None,
        title="Session token",
        description="Only for temporary credentials.",
        json_schema_extra={"airbyte_secret": True},
    )

    @model_validator(mode="after")
    def _keys_in_pairs(self) -> ObjectStorageConfig:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("object_storage needs both access_key_id and secret_access_key, or neither")
        return self

    @property
    def is_set(self) -> bool:
        return any(value is not None for value in self.__dict__.values())

    def storage_options(self) -> dict[str, str]:
        """The options in LanceDB's own spelling (`storage_options` of `lancedb.connect`); secrets in clear."""
        options: dict[str, str] = {}
        if self.endpoint:
            options["aws_endpoint"] = self.endpoint.rstrip("/")
            if self.endpoint.startswith("http://"):
                options["allow_http"] = "true"
        if self.region:
            options["aws_region"] = self.region
        if self.access_key_id and self.secret_access_key:
            options["aws_access_key_id"] = self.access_key_id
            options["aws_secret_access_key"] = self.secret_access_key.get_secret_value()
        if self.session_token:
            options["aws_session_token"] = self.session_token.get_secret_value()
        return options
