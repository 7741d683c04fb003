"""Messages between hub nodes, over Redis pub/sub.

Two kinds of channel: one per stream (``courtroom:s:<id>``), on which its
authority publishes every committed entry and the stream's passing
messages (interim speech), and one inbox per node (``courtroom:n:<node>``)
for ops forwarded to the authority and their answers. Pub/sub delivers at
most once; a mirror notices a missed entry by its seq and reads it from
the database, so nothing depends on Redis keeping anything.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Callable

import redis.asyncio as aredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]

#: Seconds between attempts to reach Redis again after losing it.
RECONNECT_AFTER = 0.5


def stream_channel(stream_id: str) -> str:
    return f"courtroom:s:{stream_id}"


def node_channel(node: str) -> str:
    return f"courtroom:n:{node}"


class Bus:
    def __init__(self, url: str, node: str) -> None:
        self.url = url
        self.node = node
        self._pub = aredis.Redis.from_url(url)
        self._sub = aredis.Redis.from_url(url)
        self._pubsub = self._sub.pubsub()
        self._handlers: dict[str, Handler] = {}
        self._reader: asyncio.Task[None] | None = None
        #: Called after the subscription was lost and made again: whatever
        #: was published meanwhile is missing (mirrors read it back).
        self.on_reconnect: Callable[[], None] = lambda: None

    async def start(self, inbox: Handler) -> None:
        try:
            await self._pub.ping()
        except RedisError as err:
            raise ConnectionError(f"cannot reach Redis at {self.url}: {err}") from None
        self._handlers[node_channel(self.node)] = inbox
        await self._pubsub.subscribe(node_channel(self.node))
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self._pubsub.aclose()
        await self._sub.aclose()
        await self._pub.aclose()

    async def _read(self) -> None:
        while True:
            try:
                async for message in self._pubsub.listen():
                    if message["type"] != "message":
                        continue
                    handler = self._handlers.get(message["channel"].decode())
                    if handler is not None:
                        try:
                            handler(json.loads(message["data"]))
                        except Exception:
                            log.exception("cluster message on %s not handled", message["channel"])
            except RedisError as err:
                log.warning("lost Redis (%s); subscribing again", err)
                await asyncio.sleep(RECONNECT_AFTER)
                try:
                    await self._pubsub.reset()
                    self._pubsub = self._sub.pubsub()
                    if self._handlers:
                        await self._pubsub.subscribe(*self._handlers)
                    self.on_reconnect()
                except RedisError:
                    continue

    async def follow(self, stream_id: str, handler: Handler) -> None:
        """Receive a stream's messages (once subscribed, nothing published
        after this returns is missed while the connection lasts)."""
        channel = stream_channel(stream_id)
        self._handlers[channel] = handler
        await self._pubsub.subscribe(channel)

    async def unfollow(self, stream_id: str) -> None:
        channel = stream_channel(stream_id)
        if self._handlers.pop(channel, None) is not None:
            try:
                await self._pubsub.unsubscribe(channel)
            except RedisError:
                pass

    async def publish(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        """Publish (channel, message) pairs in one round trip."""
        if len(messages) == 1:
            channel, message = messages[0]
            await self._pub.publish(channel, json.dumps(message, ensure_ascii=False))
            return
        async with self._pub.pipeline(transaction=False) as pipe:
            for channel, message in messages:
                pipe.publish(channel, json.dumps(message, ensure_ascii=False))
            await pipe.execute()
