"""An in-memory Kinesis stream: shards with hash ranges, records, iterators, resharding.

Records live in per-shard parallel lists ordered by sequence number, with the wire dict
(``Data`` already base64) built once at put time, so a 10,000-record GetRecords is a bisect
and a slice. Errors are raised as :class:`KinesisFault` and turned into HTTP by realtime.py.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson

MAX_HASH = 2**128 - 1
SEQ_PREFIX = 49 * 10**54  # makes 56-digit numbers like real Kinesis sequence numbers
SEQ_MS = 10**16  # the arrival millisecond sits above a stream-wide counter
MAX_LIMIT = 10_000
MAX_PAGE_BYTES = 10 * 1024 * 1024


def checked_timestamp(value: Any, now_ms: int) -> int:
    """AT_TIMESTAMP's ``Timestamp`` (epoch seconds, a JSON number) in ms, as Kinesis checks it."""
    if value is None:
        raise KinesisFault(
            "InvalidArgumentException",
            "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
            "Current request has no timestamp parameter.",
        )
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise KinesisFault(
            "SerializationException",
            f"class java.lang.String can not be converted to Timestamp: {value!r}",
        )
    at_ms = round(value * 1000)
    if at_ms > now_ms:
        raise KinesisFault(
            "InvalidArgumentException",
            f"The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "
            f"timestampInMillis: {at_ms}, currentTimestampInMillis: {now_ms}",
        )
    return at_ms


class KinesisFault(Exception):
    """A Kinesis error answer: ``{"__type": type, "message": message}``."""

    def __init__(self, type_: str, message: str, status: int = 400) -> None:
        super().__init__(f"{type_}: {message}")
        self.type = type_
        self.message = message
        self.status = status

    def body(self) -> dict[str, str]:
        return {"__type": self.type, "message": self.message}


def hash_key(partition_key: str) -> int:
    """Kinesis maps a partition key to a 128-bit integer with MD5."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


@dataclass(eq=False)
class Shard:
    """One shard: its hash range, lineage, and records (parallel lists sorted by sequence)."""

    shard_id: str
    start_hash: int
    end_hash: int
    starting_seq: int
    created_ms: int
    parent: str | None = None
    adjacent_parent: str | None = None
    ending_seq: int | None = None
    closed_ms: int | None = None
    children: list[str] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    arrivals: list[int] = field(default_factory=list)  # ms
    wire: list[dict[str, Any]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)  # data bytes, for the 10 MiB and 2 MiB/s caps
    reads: deque[float] = field(default_factory=deque)  # GetRecords times, last second
    read_blocked_until: float = 0.0

    @property
    def is_open(self) -> bool:
        return self.ending_seq is None

    def describe(self) -> dict[str, Any]:
        """The shard as DescribeStream lists it."""
        out: dict[str, Any] = {"ShardId": self.shard_id}
        if self.parent:
            out["ParentShardId"] = self.parent
        if self.adjacent_parent:
            out["AdjacentParentShardId"] = self.adjacent_parent
        out["HashKeyRange"] = {
            "StartingHashKey": str(self.start_hash),
            "EndingHashKey": str(self.end_hash),
        }
        seq_range = {"StartingSequenceNumber": str(self.starting_seq)}
        if self.ending_seq is not None:
            seq_range["EndingSequenceNumber"] = str(self.ending_seq)
        out["SequenceNumberRange"] = seq_range
        return out


@dataclass(frozen=True, slots=True)
class Produced:
    """One record put into the stream, for exactly-once checks."""

    shard_id: str
    seq: str
    partition_key: str
    data: bytes


class Stream:
    """The company's stream. Not thread-safe; the simulator serves one event loop."""

    def __init__(
        self,
        name: str,
        *,
        shards: int,
        now_ms: int,
        seed: int,
        iterator_ttl_ms: int,
        retention_ms: int,
        reads_per_second: int = 5,
        read_bytes_per_second: int | None = 2 * 1024 * 1024,
        max_records_per_shard: int = 2_000_000,
        arn: str = "",
    ) -> None:
        self.name = name
        self.arn = arn
        self.created_ms = now_ms
        self.iterator_ttl_ms = iterator_ttl_ms
        self.retention_ms = retention_ms
        self.reads_per_second = reads_per_second
        self.read_bytes_per_second = read_bytes_per_second
        self.max_records_per_shard = max_records_per_shard
        self.exists = True
        self._secret = hashlib.sha256(f"flux-sim-iterators/{seed}".encode()).digest()
        # Seeded high digits so numbers look like real ones (49 then 54 busy digits).
        self._seq_base = SEQ_PREFIX + int.from_bytes(self._secret[:12], "big") % 10**24 * 10**30
        self._counter = 0
        self._last_ms = now_ms
        self.shards: dict[str, Shard] = {}
        self._shards_made = 0  # shard ids never repeat, even after retention drops old ones
        self._open: list[Shard] = []  # sorted by start_hash
        self._open_starts: list[int] = []
        self._key_cache: dict[str, Shard] = {}
        self.records_put = 0
        self.records_trimmed = 0
        width = (MAX_HASH + 1) // shards
        for i in range(shards):
            end = MAX_HASH if i == shards - 1 else (i + 1) * width - 1
            self._new_shard(i * width, end, now_ms)

    # --- sequence numbers and shards ------------------------------------------------------

    def _next_seq(self, arrival_ms: int) -> int:
        # Stream-wide: the arrival ms dominates, the counter breaks ties, so numbers grow
        # across shards over time and never repeat.
        self._counter += 1
        self._last_ms = max(self._last_ms, arrival_ms)
        return self._seq_base + self._last_ms * SEQ_MS + self._counter

    @property
    def last_seq(self) -> int:
        """The highest sequence number handed out so far."""
        return self._seq_base + self._last_ms * SEQ_MS + self._counter

    def _new_shard(self, start: int, end: int, now_ms: int, **lineage: str | None) -> Shard:
        shard = Shard(
            shard_id=f"shardId-{self._shards_made:012d}",
            start_hash=start,
            end_hash=end,
            starting_seq=self._next_seq(now_ms),
            created_ms=now_ms,
            parent=lineage.get("parent"),
            adjacent_parent=lineage.get("adjacent_parent"),
        )
        self._shards_made += 1
        self.shards[shard.shard_id] = shard
        self._reindex_open()
        return shard

    def _reindex_open(self) -> None:
        self._open = sorted(
            (s for s in self.shards.values() if s.is_open), key=lambda s: s.start_hash
        )
        self._open_starts = [s.start_hash for s in self._open]
        self._key_cache.clear()

    def open_shards(self) -> list[Shard]:
        return list(self._open)

    def shard(self, shard_id: str) -> Shard:
        """The shard, or ResourceNotFoundException like Kinesis."""
        found = self.shards.get(shard_id) if self.exists else None
        if found is None:
            raise KinesisFault(
                "ResourceNotFoundException",
                f"Shard {shard_id} in stream {self.name} under account does not exist",
            )
        return found

    def shard_for_key(self, partition_key: str) -> Shard:
        """The open shard whose hash range holds the key's MD5."""
        cached = self._key_cache.get(partition_key)
        if cached is None:
            h = hash_key(partition_key)
            cached = self._open[bisect.bisect_right(self._open_starts, h) - 1]
            self._key_cache[partition_key] = cached
        return cached

    def _close(self, shard: Shard, now_ms: int) -> None:
        # Every record of the parent is below its ending number, every later one above.
        shard.ending_seq = self._next_seq(now_ms)
        shard.closed_ms = now_ms

    def split(
        self, shard_id: str, now_ms: int, new_starting_hash: int | None = None
    ) -> tuple[str, str]:
        """SplitShard: close ``shard_id``; two children take the halves of its range."""
        parent = self.shard(shard_id)
        if not parent.is_open:
            raise KinesisFault("ResourceInUseException", f"Shard {shard_id} is closed")
        mid = (
            new_starting_hash
            if new_starting_hash is not None
            else ((parent.start_hash + parent.end_hash + 1) // 2)
        )
        if not parent.start_hash < mid <= parent.end_hash:
            raise KinesisFault(
                "InvalidArgumentException", f"NewStartingHashKey {mid} is outside the shard"
            )
        self._close(parent, now_ms)
        low = self._new_shard(parent.start_hash, mid - 1, now_ms, parent=shard_id)
        high = self._new_shard(mid, parent.end_hash, now_ms, parent=shard_id)
        parent.children = [low.shard_id, high.shard_id]
        return low.shard_id, high.shard_id

    def merge(self, shard_id: str, adjacent_id: str, now_ms: int) -> str:
        """MergeShards: close two adjacent open shards; one child covers both ranges."""
        a, b = self.shard(shard_id), self.shard(adjacent_id)
        if not (a.is_open and b.is_open):
            raise KinesisFault("ResourceInUseException", "both shards must be open")
        lo, hi = sorted((a, b), key=lambda s: s.start_hash)
        if lo.end_hash + 1 != hi.start_hash:
            raise KinesisFault(
                "InvalidArgumentException", f"{shard_id} and {adjacent_id} are not adjacent"
            )
        self._close(a, now_ms)
        self._close(b, now_ms)
        child = self._new_shard(
            lo.start_hash, hi.end_hash, now_ms, parent=shard_id, adjacent_parent=adjacent_id
        )
        a.children = b.children = [child.shard_id]
        return child.shard_id

    def child_shards(self, shard: Shard) -> list[dict[str, Any]]:
        """GetRecords' ``ChildShards`` for a closed shard read to its end."""
        out = []
        for cid in shard.children:
            child = self.shards[cid]
            parents = [p for p in (child.parent, child.adjacent_parent) if p]
            out.append(
                {
                    "ShardId": cid,
                    "ParentShards": parents,
                    "HashKeyRange": child.describe()["HashKeyRange"],
                }
            )
        return out

    # --- records ---------------------------------------------------------------------------

    def put(
        self, partition_key: str, data: bytes, arrival_ms: int, *, data_b64: str | None = None
    ) -> tuple[str, int]:
        """Append one record to the open shard owning its key; returns (shard id, seq).

        ``data_b64`` overrides the wire ``Data`` text (used to serve invalid base64).
        """
        shard = self.shard_for_key(partition_key)
        seq = self._next_seq(arrival_ms)
        arrival = max(arrival_ms, self._last_ms)
        text = data_b64 if data_b64 is not None else base64.b64encode(data).decode("ascii")
        shard.seqs.append(seq)
        shard.arrivals.append(arrival)
        shard.sizes.append(len(data) if data_b64 is None else len(text))
        shard.wire.append(
            {
                "ApproximateArrivalTimestamp": arrival / 1000,
                "Data": text,
                "EncryptionType": "KMS",
                "PartitionKey": partition_key,
                "SequenceNumber": str(seq),
            }
        )
        self.records_put += 1
        if len(shard.seqs) > self.max_records_per_shard:
            self._drop_oldest(shard, len(shard.seqs) - self.max_records_per_shard * 9 // 10)
        return shard.shard_id, seq

    def prepend(self, records: list[tuple[int, str, bytes]]) -> int:
        """Put older history before everything held: ``(arrival_ms, partition_key, data)``
        sorted by arrival, all older than any record held. The shards that were open then
        (the first ones, by hash range) take them. Returns how many were put."""
        firsts = sorted(
            (s for s in self.shards.values() if s.parent is None and s.adjacent_parent is None),
            key=lambda s: s.start_hash,
        )
        starts = [s.start_hash for s in firsts]
        per_shard: dict[str, list[tuple[int, int, dict[str, Any], int]]] = {}
        for arrival, key, data in records:
            shard = firsts[bisect.bisect_right(starts, hash_key(key)) - 1]
            self._counter += 1
            seq = self._seq_base + arrival * SEQ_MS + self._counter
            wire = {
                "ApproximateArrivalTimestamp": arrival / 1000,
                "Data": base64.b64encode(data).decode("ascii"),
                "EncryptionType": "KMS",
                "PartitionKey": key,
                "SequenceNumber": str(seq),
            }
            per_shard.setdefault(shard.shard_id, []).append((seq, arrival, wire, len(data)))
        for shard_id, rows in per_shard.items():
            shard = self.shards[shard_id]
            shard.seqs[:0] = [r[0] for r in rows]
            shard.arrivals[:0] = [r[1] for r in rows]
            shard.wire[:0] = [r[2] for r in rows]
            shard.sizes[:0] = [r[3] for r in rows]
        self.records_put += len(records)
        return len(records)

    def _drop_oldest(self, shard: Shard, n: int) -> None:
        if n <= 0:
            return
        del shard.seqs[:n], shard.arrivals[:n], shard.wire[:n], shard.sizes[:n]
        self.records_trimmed += n

    def trim(self, now_ms: int) -> None:
        """Retention: drop records older than the period, and closed shards past it."""
        horizon = now_ms - self.retention_ms
        for shard in list(self.shards.values()):
            self._drop_oldest(shard, bisect.bisect_left(shard.arrivals, horizon))
            if shard.closed_ms is not None and shard.closed_ms < horizon and not shard.seqs:
                del self.shards[shard.shard_id]

    def produced(self) -> list[Produced]:
        """Every record still held, per shard in sequence order."""
        out = []
        for shard in self.shards.values():
            for rec in shard.wire:
                try:
                    data = base64.b64decode(rec["Data"], validate=True)
                except ValueError:
                    data = rec["Data"].encode("ascii", "replace")
                out.append(
                    Produced(shard.shard_id, rec["SequenceNumber"], rec["PartitionKey"], data)
                )
        return out

    # --- iterators -------------------------------------------------------------------------

    def make_iterator(self, shard_id: str, after: int, now_ms: int) -> str:
        """An opaque, signed iterator: records with sequence > ``after``, issued ``now_ms``."""
        body = orjson.dumps({"s": shard_id, "a": str(after), "t": now_ms, "n": self.name})
        sig = hmac.new(self._secret, body, hashlib.sha256).digest()[:16]
        return base64.b64encode(sig + body).decode("ascii")

    def seq_ms(self, seq: int) -> int:
        """The arrival millisecond a sequence number of this stream was made at."""
        return (seq - self._seq_base) // SEQ_MS

    def iterator_for(
        self,
        shard_id: str,
        kind: str,
        now_ms: int,
        sequence: str | None = None,
        timestamp: Any = None,
    ) -> str:
        """GetShardIterator, with Kinesis' iterator types and its errors."""
        shard = self.shard(shard_id)
        if kind == "TRIM_HORIZON":
            after = shard.starting_seq - 1
        elif kind == "LATEST":
            after = shard.ending_seq if shard.ending_seq is not None else self.last_seq
        elif kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            n = self._checked_sequence(shard, sequence)
            after = n - 1 if kind == "AT_SEQUENCE_NUMBER" else n
        elif kind == "AT_TIMESTAMP":
            at_ms = checked_timestamp(timestamp, now_ms)
            # The first record that arrived at or after the time; a closed shard whose
            # records are all older ends at once (no next iterator, its children listed).
            index = bisect.bisect_left(shard.arrivals, at_ms)
            after = shard.seqs[index - 1] if index > 0 else shard.starting_seq - 1
            if index >= len(shard.seqs) and shard.ending_seq is not None:
                after = shard.ending_seq
        else:
            raise KinesisFault(
                "InvalidArgumentException",
                f"1 validation error detected: Value '{kind}' at 'shardIteratorType' failed to satisfy "
                "constraint: Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, "
                "AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AT_TIMESTAMP]",
            )
        return self.make_iterator(shard_id, after, now_ms)

    def _checked_sequence(self, shard: Shard, sequence: Any) -> int:
        # int() would also take ' 12', '1_2' and other scripts' digits; Kinesis does not
        if not (isinstance(sequence, str) and sequence.isascii() and sequence.isdigit()):
            raise KinesisFault(
                "InvalidArgumentException",
                f"StartingSequenceNumber {sequence!r} is not a sequence number",
            )
        n = int(sequence)
        top = shard.ending_seq if shard.ending_seq is not None else self.last_seq
        if not shard.starting_seq <= n <= top:
            raise KinesisFault(
                "InvalidArgumentException",
                f"StartingSequenceNumber {sequence} used in GetShardIterator on shard "
                f"{shard.shard_id} in stream {self.name} under account is invalid because it "
                "did not come from this stream.",
            )
        return n

    def _open_iterator(self, iterator: Any, now_ms: int) -> tuple[Shard, int]:
        invalid = KinesisFault("InvalidArgumentException", "Invalid ShardIterator.")
        if not isinstance(iterator, str):
            raise invalid
        try:
            raw = base64.b64decode(iterator, validate=True)
            sig, body = raw[:16], raw[16:]
            fields = orjson.loads(body)
            after = int(fields["a"])
            issued = int(fields["t"])
            shard_id = str(fields["s"])
        except (ValueError, KeyError, TypeError):
            raise invalid from None
        if not hmac.compare_digest(sig, hmac.new(self._secret, body, hashlib.sha256).digest()[:16]):
            raise invalid
        if now_ms - issued > self.iterator_ttl_ms:
            raise KinesisFault(
                "ExpiredIteratorException",
                f"Iterator expired. The iterator was created at time {issued} while right now it is "
                f"{now_ms} which is further in the future than the tolerated delay of "
                f"{self.iterator_ttl_ms} milliseconds.",
            )
        return self.shard(shard_id), after

    def _check_read_rate(self, shard: Shard, now: float) -> None:
        reads = shard.reads
        while reads and reads[0] <= now - 1.0:
            reads.popleft()
        if len(reads) >= self.reads_per_second or now < shard.read_blocked_until:
            raise KinesisFault(
                "ProvisionedThroughputExceededException",
                f"Rate exceeded for shard {shard.shard_id} in stream {self.name} under account.",
            )
        reads.append(now)

    def get_records(self, iterator: Any, limit: Any, now_ms: int) -> dict[str, Any]:
        """GetRecords: the page after the iterator's position and the next iterator."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise KinesisFault(
                "InvalidArgumentException",
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                f"Member must have value between 1 and {MAX_LIMIT}",
            )
        shard, after = self._open_iterator(iterator, now_ms)
        self._check_read_rate(shard, now_ms / 1000)
        start = bisect.bisect_right(shard.seqs, after)
        stop = min(start + limit, len(shard.seqs))
        sizes = shard.sizes
        total = sum(sizes[start:stop])
        while total > MAX_PAGE_BYTES and stop > start + 1:  # Kinesis caps a call at 10 MiB
            stop -= 1
            total -= sizes[stop]
        if self.read_bytes_per_second:
            # A read bigger than a second's worth blocks the shard for the excess time.
            shard.read_blocked_until = now_ms / 1000 + total / self.read_bytes_per_second - 1.0
        records = shard.wire[start:stop]
        position = shard.seqs[stop - 1] if stop > start else after
        behind = 0 if stop >= len(shard.seqs) else max(0, now_ms - shard.arrivals[stop])
        out: dict[str, Any] = {"MillisBehindLatest": behind, "Records": records}
        if shard.ending_seq is not None and stop >= len(shard.seqs):
            out["ChildShards"] = self.child_shards(shard)  # read to its end: no next iterator
        else:
            out["NextShardIterator"] = self.make_iterator(shard.shard_id, position, now_ms)
        return out

    # --- DescribeStream ---------------------------------------------------------------------

    def describe(
        self, page_size: int, exclusive_start: str | None, retention_hours: float
    ) -> dict[str, Any]:
        """DescribeStream output, one page of shards."""
        if not self.exists:
            raise KinesisFault(
                "ResourceNotFoundException", f"Stream {self.name} under account not found."
            )
        ids = sorted(self.shards)
        if exclusive_start:
            ids = [i for i in ids if i > exclusive_start]
        page = ids[:page_size]
        return {
            "StreamDescription": {
                "EncryptionType": "KMS",
                "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
                "HasMoreShards": len(ids) > len(page),
                "KeyId": "alias/aws/kinesis",
                "RetentionPeriodHours": int(retention_hours),
                "Shards": [self.shards[i].describe() for i in page],
                "StreamARN": self.arn,
                "StreamCreationTimestamp": self.created_ms / 1000,
                "StreamModeDetails": {"StreamMode": "PROVISIONED"},
                "StreamName": self.name,
                "StreamStatus": "ACTIVE",
            }
        }
