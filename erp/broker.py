"""The embedded default's Celery broker: kombu's filesystem transport, with messages that appear whole.

kombu's filesystem transport creates a message file under its final name and only then writes it. A worker listing
the folder in between takes the empty file, fails to decode it and stops ("Unrecoverable error: JSONDecodeError"):
`bench/label_batch.py --embedded` lost its worker that way half-way through a 100-label batch once the worker polled
often enough to meet a batch being queued. Here a message is written under a name no consumer takes (`….part`) and
renamed into place, which is atomic on one filesystem: a consumer sees no file or the whole message.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

PARTIAL_SUFFIX = ".part"  # consumers take only names ending in `.<queue>.msg`


class FilesystemChannel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        """Put `payload` onto `queue`: written aside, then renamed to the name consumers look for."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"  # kombu's own naming: oldest first
        final = os.path.join(self.data_folder_out, name)
        partial = final + PARTIAL_SUFFIX
        try:
            with open(partial, "wb", buffering=0) as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class FilesystemTransport(filesystem.Transport):
    Channel = FilesystemChannel
