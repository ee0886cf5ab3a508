"""Typed envelopes of the three Realtime API answers (Kinesis field names as aliases).

Only envelopes get a model: ``GetRecordsResponse.records`` stays a list of raw dicts because
a page holds up to 10,000 records and the decoder reads them directly. Unknown fields are
kept (``extra="allow"``) so a newer gateway does not break us.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from flux_tui.api.errors import UnexpectedResponseError


class KinesisModel(BaseModel):
    """Base: PascalCase aliases, snake_case names usable too, unknown fields kept."""

    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=False)


class HashKeyRange(KinesisModel):
    starting_hash_key: str = Field(
        validation_alias="StartingHashKey", serialization_alias="StartingHashKey"
    )
    ending_hash_key: str = Field(
        validation_alias="EndingHashKey", serialization_alias="EndingHashKey"
    )


class SequenceNumberRange(KinesisModel):
    """Sequence numbers are decimal strings of up to 129 digits: compare them as ints."""

    starting_sequence_number: str = Field(
        validation_alias="StartingSequenceNumber", serialization_alias="StartingSequenceNumber"
    )
    ending_sequence_number: str | None = Field(
        default=None,
        validation_alias="EndingSequenceNumber",
        serialization_alias="EndingSequenceNumber",
    )

    @property
    def starting(self) -> str:
        return self.starting_sequence_number

    @property
    def ending(self) -> str | None:
        return self.ending_sequence_number


class Shard(KinesisModel):
    shard_id: str = Field(validation_alias="ShardId", serialization_alias="ShardId")
    parent_shard_id: str | None = Field(
        default=None, validation_alias="ParentShardId", serialization_alias="ParentShardId"
    )
    adjacent_parent_shard_id: str | None = Field(
        default=None,
        validation_alias="AdjacentParentShardId",
        serialization_alias="AdjacentParentShardId",
    )
    hash_key_range: HashKeyRange | None = Field(
        default=None, validation_alias="HashKeyRange", serialization_alias="HashKeyRange"
    )
    sequence_number_range: SequenceNumberRange | None = Field(
        default=None,
        validation_alias="SequenceNumberRange",
        serialization_alias="SequenceNumberRange",
    )

    @property
    def is_closed(self) -> bool:
        """A shard closed by resharding has an ending sequence number."""
        rng = self.sequence_number_range
        return rng is not None and rng.ending_sequence_number is not None

    @property
    def parents(self) -> tuple[str, ...]:
        """The parent ids (one after a split, two after a merge)."""
        return tuple(p for p in (self.parent_shard_id, self.adjacent_parent_shard_id) if p)


class ChildShard(KinesisModel):
    shard_id: str = Field(validation_alias="ShardId", serialization_alias="ShardId")
    parent_shards: list[str] = Field(
        default_factory=list, validation_alias="ParentShards", serialization_alias="ParentShards"
    )
    hash_key_range: HashKeyRange | None = Field(
        default=None, validation_alias="HashKeyRange", serialization_alias="HashKeyRange"
    )


class StreamDescription(KinesisModel):
    shards: list[Shard] = Field(
        default_factory=list, validation_alias="Shards", serialization_alias="Shards"
    )
    has_more_shards: bool = Field(
        default=False, validation_alias="HasMoreShards", serialization_alias="HasMoreShards"
    )
    stream_name: str = Field(
        default="", validation_alias="StreamName", serialization_alias="StreamName"
    )
    stream_status: str = Field(
        default="", validation_alias="StreamStatus", serialization_alias="StreamStatus"
    )
    stream_arn: str | None = Field(
        default=None, validation_alias="StreamARN", serialization_alias="StreamARN"
    )
    retention_period_hours: int | None = Field(
        default=None,
        validation_alias="RetentionPeriodHours",
        serialization_alias="RetentionPeriodHours",
    )
    # Kinesis writes epoch seconds as a JSON number; some proxies turn it into a string.
    stream_creation_timestamp: float | str | None = Field(
        default=None,
        validation_alias="StreamCreationTimestamp",
        serialization_alias="StreamCreationTimestamp",
    )
    encryption_type: str | None = Field(
        default=None, validation_alias="EncryptionType", serialization_alias="EncryptionType"
    )
    key_id: str | None = Field(default=None, validation_alias="KeyId", serialization_alias="KeyId")

    @property
    def open_shards(self) -> list[Shard]:
        return [s for s in self.shards if not s.is_closed]


class DescribeStreamResponse(KinesisModel):
    stream_description: StreamDescription = Field(
        validation_alias="StreamDescription", serialization_alias="StreamDescription"
    )


class ShardIteratorResponse(KinesisModel):
    shard_iterator: str = Field(
        validation_alias="ShardIterator", serialization_alias="ShardIterator"
    )


class GetRecordsResponse(KinesisModel):
    # Raw dicts on purpose: a model per record would cost more than decoding the payload.
    # Required: an answer without "Records" and without "NextShardIterator" would otherwise
    # look exactly like the end of a closed shard.
    records: list[dict[str, Any]] = Field(validation_alias="Records", serialization_alias="Records")
    next_shard_iterator: str | None = Field(
        default=None, validation_alias="NextShardIterator", serialization_alias="NextShardIterator"
    )
    millis_behind_latest: int = Field(
        default=0, validation_alias="MillisBehindLatest", serialization_alias="MillisBehindLatest"
    )
    child_shards: list[ChildShard] | None = Field(
        default=None, validation_alias="ChildShards", serialization_alias="ChildShards"
    )

    @field_validator("millis_behind_latest", mode="before")
    @classmethod
    def _null_is_zero(cls, value: Any) -> Any:
        # Some proxies write null for "not behind"; the reader only needs a number.
        return 0 if value is None else value

    @property
    def shard_closed(self) -> bool:
        """True at the end of a closed shard (no next iterator)."""
        return not self.next_shard_iterator


M = TypeVar("M", bound=BaseModel)


def parse_answer(model: type[M], data: Any, *, what: str, status: int = 200) -> M:
    """Validate ``data`` as ``model``; a wrong shape becomes :class:`UnexpectedResponseError`.

    The message lists where the shape is wrong but not the values (they may be long
    iterators or record data).
    """
    if data is None:
        data = {}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()[:3]
        )
        more = f" (+{exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
        raise UnexpectedResponseError(
            f"{what}: the answer does not have the expected shape: {problems}{more}", status
        ) from None
